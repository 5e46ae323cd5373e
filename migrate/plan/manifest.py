"""The expected final state a plan promises: the verify-target step's parameters, and verify's expected changes."""
from __future__ import annotations

from migrate.model import JSON, Inventory
from migrate.plan.actions import TargetVolume, VerifyTarget
from migrate.plan.checks import container_check, image_check, network_check
from migrate.plan.layout import target_digest, volume_digest
from migrate.plan.model import Plan


def verify_target(plan: Plan, commits: dict[str, str]) -> VerifyTarget:
    """What the new engine must hold after the run, as checks. commits: container name -> the commit step, whose
    recorded output is the committed image's id (known only once the run made it)."""
    checks = []
    for im in plan.images:
        if im.strategy != "skip":
            checks += [image_check(t, im.id) for t in sorted(im.tags)] or [image_check(im.id, im.id)]
    kept = [c for c in sorted(plan.containers, key=lambda c: c.name) if c.strategy != "skip"]
    checks += [image_check(c.commit_ref, recorded_from=commits[c.name]) for c in kept if c.commit]
    for n in sorted(plan.networks, key=lambda n: n.name):
        if n.strategy == "recreate":
            args = list(n.args)
            driver = args[args.index("--driver") + 1] if "--driver" in args else "bridge"
            subnets = tuple(args[i + 1] for i, a in enumerate(args[:-1]) if a == "--subnet")
            checks.append(network_check(n.name, driver, subnets))
    for c in kept:
        if c.commit:
            checks.append(container_check(c.name, c.start, recorded_from=commits[c.name]))
        else:
            checks.append(container_check(c.name, c.start, image_id=c.image_id))
    # Volumes are equal when their content digests (docs/verify.md) before the switch and after the restore are.
    volumes = tuple(TargetVolume(v.name, volume_digest(v.name), target_digest(v.name))
                    for v in sorted(plan.volumes, key=lambda v: v.name) if v.strategy == "copy")
    return VerifyTarget(checks=tuple(checks), volumes=volumes)


def expected_changes(plan: Plan, after: Inventory | None = None) -> dict[tuple[str, str, str], JSON]:
    """Fields the plan changes on purpose, as (kind, name, field) -> value, for `verify` against the source.

    A container committed first runs from the committed image: its image id is the one the commit tag has on the
    new engine (known only after the run, from `after`).
    """
    out: dict[tuple[str, str, str], JSON] = {}
    tagged = {t: im.id for im in (after.images if after is not None else ()) for t in im.tags}
    for c in plan.containers:
        if c.strategy == "skip":
            continue
        if c.commit and c.commit_ref in tagged:
            out[("container", c.name, "image_id")] = tagged[c.commit_ref]
    return out
