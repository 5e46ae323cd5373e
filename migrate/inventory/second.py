"""The LCOW host's second engine: Docker Desktop's Linux engine in the Hyper-V VM, beside the Windows engine.

A machine that once ran Docker Desktop in Linux-containers mode keeps its Hyper-V VM (DockerDesktopVM) and the
disk with that engine's images, containers, volumes and Kubernetes cluster when it is switched to Windows
containers (docker/for-win#3533, #11631). Desktop keeps that engine at its own pipe while it runs Windows
containers, as long as the VM runs (docker/for-win#14675; after a restart of Desktop in Windows mode the VM is
not started again: docker/for-win#4357). It is read live (`scan --host WINDOWS --host LINUX`), from a bundle's
engine-hyperv/ folder, or, when neither answered, known only from the VM the host facts list: a blind spot.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from migrate.errors import InputError
from migrate.inventory import normalize, protect
from migrate.inventory.engine import Progress, RawEngine
from migrate.model import Container, Engine, HostFacts, Image, Network, Note, SecondEngine, Volume

VM_NAMES = ("DockerDesktopVM", "MobyLinuxVM")
"""Docker Desktop's Hyper-V VMs (MobyLinuxVM before Desktop 2.2)."""
PIPES = ("npipe:////./pipe/dockerDesktopLinuxEngine", "npipe:////./pipe/docker_engine_linux")
"""The Linux engine's pipe: dockerDesktopLinuxEngine (Desktop 4.x, the desktop-linux context: docker/for-win#12397),
docker_engine_linux before (Desktop 2.2 to 3.5: docker/for-win#5542, #7545, #11734). The collector tries both."""


@dataclass
class EngineObjects:
    """One engine's normalized objects and what could not be read of them."""

    engine: Engine
    images: list[Image] = field(default_factory=list)
    containers: list[Container] = field(default_factory=list)
    volumes: list[Volume] = field(default_factory=list)
    networks: list[Network] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)


def engine_objects(raw: RawEngine, volume_digests: bool, live: tuple[str, Any] | None,
                   progress: Progress | None = None, key: bytes | None = None) -> EngineObjects:
    """The raw payloads of one engine as model values (a live scan and a bundle go through here alike); with a key,
    secret values are digested as each object is made (migrate/inventory/protect.py). The engine's own values are
    the caller's to protect."""
    reachable = raw.url.startswith(("unix:", "tcp:", "npipe:", "http:", "https:", "ssh:"))
    out = EngineObjects(normalize.engine_from_info(raw.info, raw.version, reachable, raw.client))
    sizes = normalize.container_sizes(raw.df)
    # Each object is made and protected as its payload is read (from a live engine: while later inspects are still
    # on the wire), so neither the payloads of a large bundle nor a second copy of the inventory is ever held whole.
    # The same id twice: the last payload wins.
    by_id: dict[str, Container] = {}
    try:
        for c in raw.containers:
            if isinstance(c, dict) and c.get("Id"):
                by_id[str(c["Id"])] = normalize.container_from_inspect(c, sizes.get(str(c["Id"])), key)
        image_list = normalize.images_from_inspect(raw.images)
    finally:
        raw.close()
    out.notes.extend(raw.notes)  # after the inspects: a container removed meanwhile is noted by then
    out.containers = normalize.link_containers(list(by_id.values()))
    del by_id
    out.images = normalize.link_images([_protect(protect.image, im, key) for im in image_list], out.containers)
    out.volumes = [_protect(protect.volume, v, key)
                   for v in normalize.volumes_from_inspect(raw.volumes, raw.df or None, out.containers)]
    out.networks = [_protect(protect.network, n, key)
                    for n in normalize.networks_from_inspect(raw.networks, out.containers)]
    if volume_digests and live is not None:
        from migrate.inventory.engine import apply_digests

        out.volumes, digest_notes = apply_digests(live[0], live[1], out.volumes, out.engine.os_type, progress)
        out.notes.extend(digest_notes)
    elif volume_digests:
        out.notes.append(Note(area="volumes", subject="-", message="no volume digests: they need a live engine"))
    return out


def _protect(fn: Any, value: Any, key: bytes | None) -> Any:
    return value if key is None else fn(value, key)


def _vm(host: HostFacts | None) -> dict[str, Any]:
    """The Docker Hyper-V VM the host facts list (DockerDesktopVM before MobyLinuxVM), or {}."""
    vms = {str(v.get("name")): v for v in (host.hyperv_vms if host is not None else ()) if isinstance(v, dict)}
    return next((dict(vms[n]) for n in VM_NAMES if n in vms), {})


def second_engine(opts: Any, bundled: tuple[RawEngine, str] | None, host: HostFacts | None, backend: str,
                  progress: Progress | None = None, key: bytes | None = None
                  ) -> tuple[SecondEngine | None, list[Note]]:
    """The second engine from `--host` given twice or the bundle's engine-hyperv/, or the VM alone on an LCOW host
    (a blind spot note says what it may hold); None when there is none."""
    vm = _vm(host)
    vm_name, vm_state = str(vm.get("name") or ""), str(vm.get("state") or "")
    vm_disks = tuple(str(d) for d in (vm.get("disks") or ()) if isinstance(d, str))
    raw: RawEngine | None = None
    live: tuple[str, Any] | None = None
    url = ""
    if opts.hyperv_host:
        from migrate.inventory.engine import read_engine

        raw = read_engine(opts.hyperv_host, None, progress)
        live, url = (opts.hyperv_host, None), opts.hyperv_host
    elif bundled is not None:
        raw, url = bundled
    if raw is not None:
        objs = engine_objects(raw, opts.volume_digests, live, progress, key)
        where = opts.hyperv_host or "engine-hyperv/"
        if objs.engine.os_type and objs.engine.os_type.lower() != "linux":
            raise InputError(f"{where}: the second engine runs {objs.engine.os_type} containers; it must be Docker "
                             "Desktop's Linux engine (npipe:////./pipe/dockerDesktopLinuxEngine)")
        notes = [Note(n.area, f"{n.subject} (Hyper-V engine)" if n.subject else "Hyper-V engine", n.message)
                 for n in objs.notes]
        engine = objs.engine if key is None else protect.engine(objs.engine, key)
        return SecondEngine(read=True, url=url, engine=engine, images=tuple(objs.images),
                            containers=tuple(objs.containers), volumes=tuple(objs.volumes),
                            networks=tuple(objs.networks), vm=vm_name, vm_state=vm_state, vm_disks=vm_disks), notes
    if backend == "lcow" and vm:
        return SecondEngine(read=False, vm=vm_name, vm_state=vm_state, vm_disks=vm_disks), [Note(
            "engine", vm_name, "the Linux engine in this Hyper-V VM was not read: it may hold images, containers, "
            "volumes and a Kubernetes cluster from when Docker Desktop ran Linux containers (switch Docker Desktop to "
            "Linux containers and back, then collect again, or scan with --host given twice)")]
    return None, []
