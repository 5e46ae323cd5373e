"""The checks of a plan that need no engine: its consistency, whether its program can be built, and the order
simulation with the final state. `validate` runs them over a fresh inventory; `runbook` runs the same code over
the world the plan itself describes, and refuses what they reject (docs/validate.md)."""
from __future__ import annotations

import re

from migrate.plan.gcpause import gc_paused
from migrate.errors import PlanError
from migrate.plan.build import build_program
from migrate.plan.model import ContainerPlan, ImagePlan, NetworkPlan, Plan, VolumePlan
from migrate.plan.steps import Program
from migrate.validate.final import final_state
from migrate.validate.result import Problem
from migrate.validate.simulate import simulate
from migrate.validate.state import BUILTIN_NETWORKS, Ctr, Engine, Img, Net, Vol, World, source_content

_ARCHIVE = re.compile(r"^images/[A-Za-z0-9][A-Za-z0-9._-]*\.tar$")
_DRIVE_PATH = re.compile(r"^[A-Za-z]:\\[^\\/:*?\"<>|\x00-\x1f][^:*?\"<>|\x00-\x1f]*$")
_MAX_STOP = 3600


def _fail(subject: str, message: str, check: str = "consistency") -> Problem:
    return Problem(check, "fail", subject, message)


def consistency(plan: Plan) -> list[Problem]:
    """What the plan contradicts in itself, each with how to fix it."""
    out: list[Problem] = []
    bp = plan.backup_path.rstrip("\\")
    if not _DRIVE_PATH.match(bp) or "\\..\\" in bp + "\\" or "\\.\\" in bp + "\\":
        out.append(_fail("plan.backup_path", f"{plan.backup_path!r} is not a full folder path on a drive (such as "
                         "D:\\wsl2-migrate-backup): not relative, not a drive root, not a network share (Docker "
                         "Desktop cannot mount one into the helper containers), no quotes"))
    if not plan.helper_image or plan.helper_image.startswith("-") or any(c.isspace() for c in plan.helper_image):
        out.append(_fail("plan.helper_image", f"{plan.helper_image!r} is not an image reference"))
    for im in plan.images:
        if im.strategy == "save" and im.archive and not _ARCHIVE.match(im.archive):
            out.append(_fail(f"images.{im.id[:19]}.archive", f"{im.archive!r} must be images/NAME.tar (a plain "
                             "file name in the backup folder's images/)"))
    wsl_dir = plan.switch.wsl_data_dir
    if wsl_dir and (not _DRIVE_PATH.match(wsl_dir.rstrip("\\")) or "\\..\\" in wsl_dir + "\\"):
        out.append(_fail("switch.wsl_data_dir", f"{wsl_dir!r} is not a full folder path on a drive (such as "
                         "D:\\Docker\\wsl), or \"\" to leave Docker Desktop's own choice"))
    names = {c.name for c in plan.containers}
    for c in plan.containers:
        where = f"containers.{c.name}"
        if c.strategy == "compose" and c.commit:
            out.append(_fail(f"{where}.commit", "docker compose re-creates the service from its compose file's "
                             "image, so the commit would not be used: set strategy = \"recreate\" to re-create it "
                             "from the commit, or commit = false"))
        if not 0 <= c.stop_timeout <= _MAX_STOP:
            out.append(_fail(f"{where}.stop_timeout", f"{c.stop_timeout} s is out of range (0 to {_MAX_STOP})"))
        if c.strategy == "recreate" and c.commit and c.commit_ref not in c.create:
            out.append(_fail(f"{where}.create", f"commit = true, but the create arguments do not use the commit "
                             f"{c.commit_ref!r}: the container would lose its changed files. Put the commit's tag "
                             "after '--', or set commit = false"))
        for d in c.depends_on:
            if d == c.name:
                out.append(_fail(f"{where}.depends_on", "the container depends on itself: remove it from the list"))
            elif d not in names:
                out.append(_fail(f"{where}.depends_on", f"names {d!r}, which has no table in the plan"))
    for v in plan.volumes:
        if v.strategy != "copy":
            continue
        for user in v.users:
            if user.lstrip("/") not in names:
                out.append(_fail(f"volumes.{v.name}", f"is copied while container {user}, which uses it, has no "
                                 "table in the plan: nothing stops it first, so the copy may be inconsistent. Put "
                                 "its table back (strategy = \"skip\" still leaves it behind) or skip the volume"))
    return out


@gc_paused
def plan_world(plan: Plan) -> World:
    """The source engine as the plan itself describes it: its images (by id, tags and digest references), its
    containers (running when the plan starts them again), volumes and networks; an empty target; the LCOW host's
    second engine as the plan's [hyperv] tables describe it."""
    src = _plan_engine(Engine("source", up=True), plan.images, plan.containers, plan.volumes, plan.networks, "source")
    tgt = Engine("target", up=False)
    for name in BUILTIN_NETWORKS:
        tgt.networks[name] = Net(name, name if name != "none" else "null")
    world = World(src, tgt)
    h = plan.hyperv
    if h is not None:
        world.hyperv = _plan_engine(Engine("hyperv", up=False), h.images, h.containers, h.volumes, h.networks,
                                    "hyperv")
    return world


def _plan_engine(src: Engine, images: tuple[ImagePlan, ...], containers: tuple[ContainerPlan, ...],
                 volumes: tuple[VolumePlan, ...], networks: tuple[NetworkPlan, ...], label: str) -> Engine:
    """One source engine as the plan describes it (a volume the new engine renames is here by its own name)."""
    for name in BUILTIN_NETWORKS:
        src.networks[name] = Net(name, name if name != "none" else "null")
    for im in images:
        src.add_image(Img(im.id, set(im.source_tags or im.tags), {im.reference} if "@" in im.reference else set()))
    by_volume = {v.name: v.source_name or v.name for v in volumes}
    for c in containers:
        src.add_container(Ctr(c.name, c.id, c.image_id, c.start, {by_volume.get(v, v) for v in c.volumes}))
    for v in volumes:
        name = v.source_name or v.name
        src.volumes[name] = Vol(name, v.driver, dict(v.options), dict(v.labels), source_content(name, label))
    for n in networks:
        args = list(n.args)
        driver = args[args.index("--driver") + 1] if "--driver" in args else "bridge"
        subnets = tuple(sorted(args[i + 1] for i, a in enumerate(args[:-1]) if a == "--subnet"))
        src.networks[n.name] = Net(n.name, driver, subnets)
    return src


@gc_paused
def offline_problems(plan: Plan, world: World) -> tuple[list[Problem], list[Problem], Program | None]:
    """(consistency problems, order problems, the program when it could be built) over the given world."""
    cons = consistency(plan)
    try:
        program = build_program(plan)
    except PlanError as e:
        cons.append(_fail("plan", f"its steps cannot be built: {e.message}"))
        return cons, [], None
    found: list[Problem] = []
    end, sim = simulate(plan, world, list(program.steps))
    found += sim
    found += final_state(end, plan)
    return cons, found, program
