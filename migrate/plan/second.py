"""The plan for the LCOW host's second source engine (Docker Desktop's Linux engine in the Hyper-V VM).

Its objects get the same decisions as the first engine's (migrate/plan/decide.py runs on them as on an inventory of
their own, backend hyperv: its bind paths are the Hyper-V VM's). Both engines' objects end on one WSL 2 engine, so
a name the first engine's objects keep there cannot be taken twice: the second engine's volume, network or
container of that name is renamed `NAME-hyperv` (`-hyperv-2`... when that is taken too), and an image tag the first
engine's image holds becomes `REPO:TAG-hyperv` on the second engine's image, each with the reason in its why.
Renaming, not skipping: skipping would leave data behind, and the first engine's objects (the ones in use while
Desktop ran Windows containers) keep their names, so nothing that uses them changes.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

from migrate.model import Backend, Container, Inventory, Mount
from migrate.plan.model import DEFAULT_HYPERV_URL, HypervPlan, ImagePlan, Plan

SUFFIX = "-hyperv"
OLD_PIPE = "npipe:////./pipe/docker_engine_linux"
"""The Linux engine's pipe before Docker Desktop 4 (docker/for-win#5542, #11734 on 3.5.2)."""
_PIPE = re.compile(r"^npipe:////\./pipe/[A-Za-z0-9_.-]{1,80}$")
_WHY = "the first engine's {kind} {name!r} keeps that name on the new engine: this one, from the Hyper-V engine, " \
       "becomes {new!r}"


def _fresh(name: str, taken: set[str], suffix: str = SUFFIX) -> str:
    """name + suffix, or + suffix-2, -3... until it is free; the result is taken from then on."""
    n, out = 1, name + suffix
    while out in taken:
        n += 1
        out = f"{name}{suffix}-{n}"
    taken.add(out)
    return out


def _retag(tag: str, taken: set[str]) -> str:
    """REPO:TAG -> REPO:TAG-hyperv (a tag is at most 128 characters)."""
    repo, sep, name = tag.rpartition(":")
    if not sep or "/" in name:
        repo, name = tag, "latest"
    n, out = 1, f"{repo}:{name[:120]}{SUFFIX}"
    while out in taken:
        n += 1
        out = f"{repo}:{name[:116]}{SUFFIX}-{n}"
    taken.add(out)
    return out


def _spec(spec: str, old: str, new: str) -> str:
    """A `-v` spec naming volume old, naming new instead."""
    return new + spec[len(old):] if spec.startswith(old + ":") else spec


@dataclasses.dataclass
class Renames:
    """What the second engine's objects are called on the new engine, where that differs: old -> new."""

    volumes: dict[str, str] = dataclasses.field(default_factory=dict)
    networks: dict[str, str] = dataclasses.field(default_factory=dict)
    containers: dict[str, str] = dataclasses.field(default_factory=dict)
    tags: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    """image id -> {old tag: new tag}."""


def _taken(plan: Plan) -> tuple[set[str], set[str], set[str], dict[str, str]]:
    """The names the first engine's objects have on the new engine: volumes, networks, containers, tag -> id."""
    vols = {v.name for v in plan.volumes if v.strategy != "skip"}
    nets = {n.name for n in plan.networks if n.strategy != "skip"} | {"bridge", "host", "none", "nat"}
    ctrs = {c.name for c in plan.containers if c.strategy != "skip"}
    tags = {t: im.id for im in plan.images if im.strategy != "skip" for t in im.tags}
    return vols, nets, ctrs, tags


def _taken_by(inv: Inventory) -> tuple[set[str], set[str], set[str], dict[str, str]]:
    """Without a plan: every Linux object of the first engine keeps its name."""
    windows = {im.id for im in inv.images if im.os == "windows"}
    vols = {v.name for v in inv.volumes}
    nets = {n.name for n in inv.networks if not n.builtin} | {"bridge", "host", "none", "nat"}
    ctrs = {c.name.lstrip("/") for c in inv.containers if c.platform != "windows" and c.image_id not in windows}
    tags = {t: im.id for im in inv.images if im.id not in windows for t in im.tags}
    return vols, nets, ctrs, tags


def rename(inv: Inventory, plan: Plan | Inventory) -> tuple[Inventory, Renames]:
    """The second engine's inventory with every name the first engine's objects keep given another one (the first
    engine as the plan decided it, or, without a plan, as its inventory holds it)."""
    vols, nets, ctrs, tags = _taken(plan) if isinstance(plan, Plan) else _taken_by(plan)
    r = Renames()
    r.volumes = {v.name: _fresh(v.name, vols) for v in inv.volumes if v.name in vols}
    r.networks = {n.name: _fresh(n.name, nets) for n in inv.networks if not n.builtin and n.name in nets}
    r.containers = {c.name.lstrip("/"): _fresh(c.name.lstrip("/"), ctrs) for c in inv.containers
                    if c.name.lstrip("/") in ctrs}
    taken_tags = set(tags)
    for im in inv.images:
        moved = {t: _retag(t, taken_tags) for t in im.tags if t in tags and tags[t] != im.id}
        if moved:
            r.tags[im.id] = moved
    new_tag = {old: new for moved in r.tags.values() for old, new in moved.items()}
    images = tuple(dataclasses.replace(im, tags=tuple(r.tags[im.id].get(t, t) for t in im.tags))
                   if im.id in r.tags else im for im in inv.images)
    volumes = tuple(dataclasses.replace(v, name=r.volumes.get(v.name, v.name)) for v in inv.volumes)
    networks = tuple(dataclasses.replace(n, name=r.networks.get(n.name, n.name)) if not n.builtin else n
                     for n in inv.networks)
    containers = tuple(_container(c, r, new_tag) for c in inv.containers)
    return dataclasses.replace(inv, images=images, volumes=volumes, networks=networks, containers=containers), r


def _container(c: Container, r: Renames, new_tag: dict[str, str]) -> Container:
    """A container with the new names of its own name, its volumes, networks, peers and image tag."""
    ctr = r.containers

    def peer(ref: str) -> str:
        return ctr.get(ref.lstrip("/"), ref)

    def mount(m: Mount) -> Mount:
        if m.type != "volume" or m.name not in r.volumes:
            return m
        new = r.volumes[m.name]
        return dataclasses.replace(m, name=new, spec=_spec(m.spec, m.name, new))

    def mode(value: str) -> str:
        if value.startswith("container:"):
            return "container:" + peer(value.split(":", 1)[1])
        return r.networks.get(value, value)

    binds = tuple(next((_spec(b, old, new) for old, new in r.volumes.items() if b.startswith(old + ":")), b)
                  for b in c.binds)
    links = tuple(_link(link, peer) for link in c.links)
    image = new_tag.get(c.image) or new_tag.get(c.image + ":latest") or c.image
    return dataclasses.replace(
        c, name=peer(c.name), image=image, mounts=tuple(mount(m) for m in c.mounts), binds=binds,
        networks=tuple(dataclasses.replace(a, network=r.networks.get(a.network, a.network)) for a in c.networks),
        network_mode=mode(c.network_mode), pid_mode=mode(c.pid_mode) if c.pid_mode.startswith("container:")
        else c.pid_mode, ipc_mode=mode(c.ipc_mode) if c.ipc_mode.startswith("container:") else c.ipc_mode,
        volumes_from=tuple(":".join([peer(v.split(":", 1)[0]), *v.split(":", 1)[1:]]) for v in c.volumes_from),
        links=links, depends_on=tuple(peer(d) for d in c.depends_on))


def _link(link: str, peer: Callable[[str], str]) -> str:
    """/target:/container/alias with the target's new name."""
    target, sep, rest = link.partition(":")
    return "/" + peer(target) + sep + rest if sep else link


def hyperv_url(inv: Inventory) -> str:
    """Where the runbook reaches the second engine: where the scan found it, else Desktop's pipe of its version."""
    he = inv.hyperv_engine
    if he is not None and _PIPE.match(he.url):
        return he.url
    version = (inv.host.desktop_version if inv.host else "") or (
        inv.settings.desktop.desktop_version if inv.settings.desktop else "")
    major = version.split(".", 1)[0]
    return OLD_PIPE if major.isdigit() and int(major) < 4 else DEFAULT_HYPERV_URL


def second_plan(inv: Inventory, plan: Plan, tool_version: str,
                decide: Callable[..., Plan]) -> HypervPlan | None:
    """The plan of the second engine's Linux objects, named apart from the first engine's (None: no engine read)."""
    he = inv.hyperv_engine
    if he is None or not he.read:
        return None
    own = Inventory(backend=Backend(kind="hyperv", reasons=("Docker Desktop's Linux engine in the Hyper-V VM",)),
                    engine=he.engine, images=he.images, containers=he.containers, volumes=he.volumes,
                    networks=he.networks, settings=inv.settings, host=inv.host)
    renamed, r = rename(own, plan)
    sub = decide(renamed, None, tool_version)
    source_tags = {im.id: im.tags for im in he.images}
    images = tuple(_image(im, r, source_tags) for im in sub.images)
    back = {new: old for old, new in r.volumes.items()}
    volumes = tuple(dataclasses.replace(v, source_name=back[v.name],
                                        why=(_WHY.format(kind="volume", name=back[v.name], new=v.name), *v.why))
                    if v.name in back else v for v in sub.volumes)
    nets_back = {new: old for old, new in r.networks.items()}
    networks = tuple(dataclasses.replace(n, why=(_WHY.format(kind="network", name=nets_back[n.name], new=n.name),
                                                 *n.why)) if n.name in nets_back else n for n in sub.networks)
    ctr_back = {new: old for old, new in r.containers.items()}
    containers = tuple(dataclasses.replace(c, why=(_WHY.format(kind="container", name=ctr_back[c.name], new=c.name),
                                                   *c.why)) if c.name in ctr_back else c for c in sub.containers)
    # The helper runs on that engine first: by the tag it has there.
    tag_back = {new: old for moved in r.tags.values() for old, new in moved.items()}
    return HypervPlan(url=hyperv_url(inv), helper_image=tag_back.get(sub.helper_image, sub.helper_image),
                      helper_pull=sub.helper_pull,
                      images=images, volumes=volumes, networks=networks, containers=containers,
                      problems=sub.problems)


def _image(im: ImagePlan, r: Renames, source_tags: dict[str, tuple[str, ...]]) -> ImagePlan:
    """An image plan of the second engine: its archive apart from the first engine's, renamed tags explained."""
    if im.archive:
        im = dataclasses.replace(im, archive=im.archive.replace("images/images-", "images/hyperv-", 1))
    if im.id in r.tags:
        why = tuple(f"the first engine's image holds the tag {old!r} on the new engine: this image, from the Hyper-V "
                    f"engine, is tagged {new!r} there" for old, new in sorted(r.tags[im.id].items()))
        im = dataclasses.replace(im, source_tags=source_tags.get(im.id, ()), why=why + im.why)
    return im


def merged_sources(inv: Inventory, plan: Plan | None = None) -> Inventory:
    """The inventory with the second engine's objects beside the first's, named as the new engine has them: what
    `verify` and the rehearsal compare the new engine with (the inventory itself when it has no second engine)."""
    he = inv.hyperv_engine
    if he is None or not he.read:
        return inv
    own = Inventory(images=he.images, containers=he.containers, volumes=he.volumes, networks=he.networks)
    renamed, _ = rename(own, plan if plan is not None else inv)
    builtin = {n.name for n in inv.networks if n.builtin}
    ids = {im.id for im in inv.images}
    return dataclasses.replace(
        inv, images=(*inv.images, *(im for im in renamed.images if im.id not in ids)),
        containers=(*inv.containers, *renamed.containers), volumes=(*inv.volumes, *renamed.volumes),
        networks=(*inv.networks, *(n for n in renamed.networks if not (n.builtin and n.name in builtin))),
        hyperv_engine=None)
