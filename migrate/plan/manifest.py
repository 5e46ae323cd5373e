"""The expected final state a plan promises: the verify-target step's parameters, and verify's expected changes."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from migrate.model import JSON, Inventory
from migrate.plan.actions import TargetVolume, VerifyTarget
from migrate.plan.checks import Check, container_check, image_check, network_check
from migrate.plan.layout import target_digest, volume_digest
from migrate.plan.model import ContainerPlan, ImagePlan, NetworkPlan, Plan, VolumePlan


@dataclass(frozen=True)
class EngineSteps:
    """One source engine's decisions and the steps whose recorded output the final checks read."""

    images: tuple[ImagePlan, ...]
    volumes: tuple[VolumePlan, ...]
    networks: tuple[NetworkPlan, ...]
    containers: tuple[ContainerPlan, ...]
    commits: Mapping[str, str]
    """Container name -> its commit step (which records the committed image's id)."""
    contents: Mapping[str, str]
    """Container name -> the step that recorded the committed image's id and content."""


def verify_target(plan: Plan, commits: Mapping[str, str], contents: Mapping[str, str] | None = None,
                  more: tuple[EngineSteps, ...] = ()) -> VerifyTarget:
    """What the new engine must hold after the run, as checks: every source engine's objects (the plan's own, and
    the LCOW host's second engine's in `more`). A committed image is known only once the run made it: its check
    reads what its steps recorded."""
    engines = (EngineSteps(plan.images, plan.volumes, plan.networks, plan.containers, commits,
                           contents if contents is not None else commits), *more)
    checks: list[Check] = []
    volumes: list[TargetVolume] = []
    for e in engines:
        for im in e.images:
            if im.strategy != "skip":
                checks += [image_check(t, im.id, im.diff_ids) for t in sorted(im.tags)] or [
                    image_check(im.id, im.id, im.diff_ids)]
        kept = [c for c in sorted(e.containers, key=lambda c: c.name) if c.strategy != "skip"]
        checks += [image_check(c.commit_ref, recorded_from=e.contents[c.name]) for c in kept if c.commit]
        for n in sorted(e.networks, key=lambda n: n.name):
            if n.strategy == "recreate":
                args = list(n.args)
                driver = args[args.index("--driver") + 1] if "--driver" in args else "bridge"
                subnets = tuple(args[i + 1] for i, a in enumerate(args[:-1]) if a == "--subnet")
                checks.append(network_check(n.name, driver, subnets))
        for c in kept:
            if c.commit:
                checks.append(container_check(c.name, c.start, recorded_from=e.commits[c.name]))
            else:
                checks.append(container_check(c.name, c.start, image_id=c.image_id))
        # Volumes are equal when their content digests (docs/verify.md) before the switch and after the restore are.
        volumes += [TargetVolume(v.name, volume_digest(v.name), target_digest(v.name))
                    for v in sorted(e.volumes, key=lambda v: v.name) if v.strategy == "copy"]
    return VerifyTarget(checks=tuple(checks), volumes=tuple(volumes))


def expected_changes(plan: Plan, after: Inventory | None = None) -> dict[tuple[str, str, str], JSON]:
    """Fields the plan changes on purpose, as (kind, name, field) -> value, for `verify` against the source.

    A container committed first runs from the committed image: its image id is the one the commit tag has on the
    new engine (known only after the run, from `after`).
    """
    out: dict[tuple[str, str, str], JSON] = {}
    tagged = {t: im.id for im in (after.images if after is not None else ()) for t in im.tags}
    for im in (*plan.images, *(plan.hyperv.images if plan.hyperv is not None else ())):
        if im.plan_tag and im.strategy == "save":
            out[("image", im.id, "tags")] = list(im.tags)  # the tag the run gave an untagged image
    for c in (*plan.containers, *(plan.hyperv.containers if plan.hyperv is not None else ())):
        if c.strategy == "skip":
            continue
        if c.commit and c.commit_ref in tagged:
            out[("container", c.name, "image_id")] = tagged[c.commit_ref]
    return out
