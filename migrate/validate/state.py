"""A model of the two engines and the backup folder, as the simulated steps change them."""
from __future__ import annotations

from dataclasses import dataclass, field

from migrate.model import Inventory
from migrate.validate.dockerargs import is_id_ref, normalize_ref

BUILTIN_NETWORKS = ("bridge", "host", "none")


@dataclass(slots=True)
class Img:
    """An image in an engine's store: its identity, the tags and digests that reach it, and where it came from."""

    id: str
    tags: set[str] = field(default_factory=set)
    digests: set[str] = field(default_factory=set)
    committed_from: str = ""
    """For a commit: the source container's id."""


@dataclass(slots=True)
class Ctr:
    """A container: what it was made from and what it needs running to start."""

    name: str
    id: str
    image_id: str
    running: bool = False
    volumes: set[str] = field(default_factory=set)
    """Named volumes it mounts."""
    needs_running: tuple[tuple[str, str], ...] = ()
    """(what, container) pairs that must be running when it starts: network/pid/ipc container:X, links."""


@dataclass(slots=True)
class Vol:
    """A volume: how it was made and what content it holds."""

    name: str
    driver: str = "local"
    options: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    content: str = ""
    """'' empty, else a description of the data ('volume X on the source')."""
    created_by: str = ""
    """The step that created it ('' for a volume of the inventory)."""


@dataclass(slots=True)
class Net:
    """A network."""

    name: str
    driver: str = "bridge"
    subnets: tuple[str, ...] = ()


@dataclass(slots=True)
class Engine:
    """One engine's objects and whether it answers. Images go in through add_image, which keeps the indexes by
    tag and by digest that make every lookup constant-time (validate stays linear in the size of the plan)."""

    label: str
    up: bool
    images: dict[str, Img] = field(default_factory=dict)
    containers: dict[str, Ctr] = field(default_factory=dict)
    volumes: dict[str, Vol] = field(default_factory=dict)
    networks: dict[str, Net] = field(default_factory=dict)
    by_tag: dict[str, str] = field(default_factory=dict)
    """normalized tag -> the id of the image it names."""
    by_digest: dict[str, str] = field(default_factory=dict)
    """normalized repo@sha256 reference -> image id."""
    by_id: dict[str, str] = field(default_factory=dict)
    """container id -> name."""
    users: dict[str, set[str]] = field(default_factory=dict)
    """volume name -> the names of the containers that mount it."""

    def add_container(self, ctr: Ctr) -> None:
        """Store a container and index it by id and by the volumes it mounts."""
        self.containers[ctr.name] = ctr
        self.by_id[ctr.id] = ctr.name
        for v in ctr.volumes:
            self.users.setdefault(v, set()).add(ctr.name)

    def resolve(self, ref: str) -> Img | None:
        """The image a reference names: a tag, an id (or 12+ hex prefix), or repo@sha256 when pulled that way."""
        if is_id_ref(ref):
            full = ref if ref.startswith("sha256:") else "sha256:" + ref
            if full in self.images:
                return self.images[full]
            hexpart = ref.removeprefix("sha256:")
            hits = [im for im in self.images.values() if im.id.removeprefix("sha256:").startswith(hexpart)]
            if len(hits) == 1:
                return hits[0]
        want = normalize_ref(ref)
        iid = (self.by_digest if "@" in want else self.by_tag).get(want)
        return self.images.get(iid) if iid is not None else None

    def add_image(self, img: Img) -> Img:
        """Store img (merging with an image of the same id); its tags move away from any other image."""
        have = self.images.get(img.id)
        if have is None:
            have = self.images[img.id] = Img(img.id, set(), set(), img.committed_from)
        for t in sorted(img.tags):
            self.tag(have, t)
        for d in img.digests:
            have.digests.add(d)
            self.by_digest[normalize_ref(d)] = have.id
        return have

    def tag(self, img: Img, tag: str) -> None:
        """Point tag at img (docker tag moves a tag that pointed elsewhere)."""
        norm = normalize_ref(tag)
        owner = self.by_tag.get(norm)
        if owner is not None and owner != img.id and owner in self.images:
            other = self.images[owner]
            other.tags = {t for t in other.tags if normalize_ref(t) != norm}
        self.by_tag[norm] = img.id
        img.tags.add(tag)

    def container(self, ref: str) -> Ctr | None:
        """A container by name (with or without '/') or by id / id prefix."""
        name = ref.lstrip("/")
        if name in self.containers:
            return self.containers[name]
        if ref in self.by_id:
            return self.containers.get(self.by_id[ref])
        if not is_id_ref(ref):  # a name not there (yet): no id prefix to look for
            return None
        hits = [c for c in self.containers.values() if c.id.startswith(ref)]
        return hits[0] if len(hits) == 1 else None


@dataclass(slots=True)
class File:
    """A file the steps wrote into the backup folder."""

    kind: str
    """image-archive, volume-archive, env-file, settings-backup."""
    step: str
    images: tuple[Img, ...] = ()
    """For an image archive: the images with the tags the save named (digests are not kept)."""
    content: str = ""
    """For a volume archive: the content it holds; for an env file: the container."""


@dataclass(slots=True)
class World:
    """Both engines and the backup folder."""

    source: Engine
    target: Engine
    folder: bool = False
    hyperv: Engine | None = None
    """The LCOW host's second source engine (the Hyper-V VM's Linux engine): answers once a switch-containers
    step reached it."""
    files: dict[str, File] = field(default_factory=dict)
    backups_verified: str = ""
    """The verify-backups step id once it ran."""
    desktop_stopped: str = ""
    """The stop-desktop step id once it ran: the source engine is gone from then on."""
    switched: str = ""
    """The switch-containers step that reached the second engine: the source's pipe may lead elsewhere since."""


def source_content(volume: str, engine: str = "source") -> str:
    """How the data of a source volume is named in the model (engine: source, or hyperv for the second one)."""
    return f"the data of volume {volume} on the source" if engine == "source" else \
        f"the data of volume {volume} on the {engine} engine"


def initial_world(inv: Inventory) -> World:
    """The source engine as the inventory describes it, an empty target (built-in networks only), no backup folder;
    the LCOW host's second engine as the inventory read it (not answering until a step reaches it)."""
    src = _engine_from(Engine("source", up=True), inv)
    tgt = Engine("target", up=False)
    for name in BUILTIN_NETWORKS:
        tgt.networks[name] = Net(name, name if name != "none" else "null")
    world = World(src, tgt)
    he = inv.hyperv_engine
    if he is not None and he.read:
        world.hyperv = _engine_from(Engine("hyperv", up=False), Inventory(
            images=he.images, containers=he.containers, volumes=he.volumes, networks=he.networks), "hyperv")
    return world


def _engine_from(src: Engine, inv: Inventory, label: str = "source") -> Engine:
    """An engine holding the inventory's objects (volume data named after the engine)."""
    for im in inv.images:
        src.add_image(Img(im.id, set(im.tags), set(im.repo_digests)))
    names = {c.id: c.name.lstrip("/") for c in inv.containers}
    for c in inv.containers:
        needs: list[tuple[str, str]] = []
        for what, mode in (("network", c.network_mode), ("pid", c.pid_mode), ("ipc", c.ipc_mode)):
            if mode.startswith("container:"):
                ref = mode.split(":", 1)[1]
                needs.append((what, names.get(ref, ref)))
        name = c.name.lstrip("/")
        vols = {m.name for m in c.mounts if m.type == "volume" and m.name}
        src.add_container(Ctr(name, c.id, c.image_id, c.running, vols, tuple(needs)))
    for v in inv.volumes:
        src.volumes[v.name] = Vol(v.name, v.driver, dict(v.options), dict(v.labels), source_content(v.name, label))
    for n in inv.networks:
        src.networks[n.name] = Net(n.name, n.driver, tuple(sorted(c.subnet for c in n.ipam if c.subnet)))
    return src
