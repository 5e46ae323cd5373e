"""Sizes and counts are non-negative integers of a sane range, whatever source an inventory came from.

A hand-edited inventory.json or bundle could say an image is -813953096 bytes or a drive has 1e30 bytes free;
every later stage would print or add that. Such a value is refused with the file and the object named.
"""
from __future__ import annotations

from collections.abc import Iterator

from migrate.errors import InputError
from migrate.inventory.normalize import IMAGE_LIST_KEYS
from migrate.model import Inventory

SIZE_MAX = 2**63 - 1
"""Go's int64, what the Engine API and Windows report sizes in."""


def _numbers(inv: Inventory) -> Iterator[tuple[str, str, int | None]]:
    """(object, field, value) of every size or count in the inventory."""
    for i in inv.images:
        yield f"image {i.id[:19]}", "size", i.size
    for c in inv.containers:
        for name in ("size_rw", "size_root_fs", "memory", "memory_reservation", "shm_size", "nano_cpus",
                     "cpu_shares", "blkio_weight", "kernel_memory", "kernel_memory_tcp"):
            yield f"container {c.name}", name, getattr(c, name)
    for v in inv.volumes:
        yield f"volume {v.name}", "size", v.size
        yield f"volume {v.name}", "ref_count", v.ref_count
    if inv.engine is not None:
        e = inv.engine
        for name in ("ncpu", "mem_total"):
            yield "engine", name, getattr(e, name)
        for name in ("images", "containers", "containers_running", "containers_paused", "containers_stopped"):
            yield "engine", f"reported.{name}", getattr(e.reported, name)
    if inv.host is not None:
        h = inv.host
        for name in ("memory_bytes", "cpus", "build", "revision", "windows_users"):
            yield "host", name, getattr(h, name)
        for d in h.drives:
            yield f"drive {d.name}", "free_bytes", d.free_bytes
            yield f"drive {d.name}", "size_bytes", d.size_bytes
    for name in ("memory_mib", "cpus", "swap_mib", "disk_size_mib"):
        if inv.settings.desktop is not None:
            yield "Docker Desktop settings", name, getattr(inv.settings.desktop, name)


_CONFIG_SHAPES: dict[str, tuple[str, str]] = {
    **{k: ("list", "a list of strings") for k in sorted(IMAGE_LIST_KEYS)},
    **{k: ("dict", "an object") for k in ("Labels", "ExposedPorts", "Volumes", "Healthcheck")},
    **{k: ("str", "a string") for k in ("User", "WorkingDir", "StopSignal")},
}
"""The image config keys the planner reads (a container's defaults), and what each must be when present."""


def _config_problem(cfg: object) -> str:
    """What is wrong with an image's config, or ''."""
    if not isinstance(cfg, dict):
        return "config is not an object"
    for key, (kind, words) in _CONFIG_SHAPES.items():
        value = cfg.get(key)
        if value is None:
            continue
        ok = (isinstance(value, list) and all(isinstance(x, str) for x in value)) if kind == "list" else \
            isinstance(value, dict) if kind == "dict" else isinstance(value, str)
        if not ok:
            return f"config.{key} is {type(value).__name__}; it must be {words}"
    return ""


def check_numbers(inv: Inventory, name: str) -> None:
    """InputError naming the source, the object and the field of the first impossible size or count, or of an
    image config value of the wrong kind (the planner reads a container's defaults from it)."""
    for image in inv.images:
        problem = _config_problem(image.config)
        if problem:
            raise InputError(f"{name}: image {image.id[:19]}: {problem}")
    for obj, field, value in _numbers(inv):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= SIZE_MAX:
            raise InputError(f"{name}: {obj}: {field} is {value!r}; a size or count is a whole number from 0 "
                             f"to {SIZE_MAX}")
