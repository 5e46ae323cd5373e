"""Objects that share a name: shown apart by id, and given names of their own where the new engine needs them.

Engines before Docker 25.0 allowed two networks with one name, and a bundle assembled by hand may hold two
containers named alike. The WSL 2 engine refuses both, and plan.toml keys objects by name. The inventory keeps
the names as the source engine reports them; `unique_names` is the one view that the plan and verify share:
the object with the lowest id keeps its name, each other one becomes `NAME-<first 12 characters of its id>`.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Protocol

from migrate.model import Inventory, Network


class _Named(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def id(self) -> str: ...


def duplicated(items: Iterable[_Named]) -> frozenset[str]:
    """The names that more than one of items carry."""
    seen: set[str] = set()
    dups: set[str] = set()
    for item in items:
        name = item.name.lstrip("/")
        (dups if name in seen else seen).add(name)
    return frozenset(dups)


def short_id(object_id: str) -> str:
    """The 12 characters docker shows of an id (without a sha256: prefix)."""
    return object_id.removeprefix("sha256:")[:12]


def display_name(name: str, object_id: str) -> str:
    """How reports name an object whose name another object shares: `app (3f2a1b9c4d5e)`."""
    return f"{name} ({short_id(object_id)})"


def target_names(items: Iterable[_Named]) -> dict[str, str]:
    """Id -> the name the object gets on the new engine, for every object whose name is taken by another."""
    groups: dict[str, list[str]] = {}
    for item in items:
        groups.setdefault(item.name.lstrip("/"), []).append(item.id)
    out: dict[str, str] = {}
    for name, ids in groups.items():
        for object_id in sorted(ids)[1:]:
            out[object_id] = f"{name}-{short_id(object_id)}"
    return out


def unique_names(inv: Inventory) -> Inventory:
    """The inventory with every network and container name unique (see the module docstring); same object when
    nothing is shared, so the common case costs two passes over the names."""
    networks = target_names(n for n in inv.networks if not n.builtin)
    containers = target_names(inv.containers)
    if not networks and not containers:
        return inv
    new_nets = tuple(dataclasses.replace(n, name=networks[n.id]) if n.id in networks else n for n in inv.networks)
    new_containers = []
    for c in inv.containers:
        changed: dict[str, object] = {}
        if c.id in containers:
            changed["name"] = containers[c.id]
        moved = {a.network: networks[a.network_id] for a in c.networks if a.network_id in networks}
        if moved:
            changed["networks"] = tuple(dataclasses.replace(a, network=networks[a.network_id])
                                        if a.network_id in networks else a for a in c.networks)
            if c.network_mode in moved:  # --network NAME names the network the endpoint is on
                changed["network_mode"] = moved[c.network_mode]
        new_containers.append(dataclasses.replace(c, **changed) if changed else c)  # type: ignore[arg-type]
    return dataclasses.replace(inv, networks=_sorted(new_nets), containers=tuple(
        sorted(new_containers, key=lambda c: (c.name, c.id))))


def _sorted(networks: tuple[Network, ...]) -> tuple[Network, ...]:
    return tuple(sorted(networks, key=lambda n: (n.name, n.id)))


def duplicate_names(inv: Inventory) -> dict[str, frozenset[str]]:
    """Subject kind -> names shared by more than one object of that kind (container, network)."""
    return {"network": duplicated(n for n in inv.networks if not n.builtin),
            "container": duplicated(inv.containers)}

