"""The expected final state a plan promises: embedded in the runbook for its last verification step."""
from __future__ import annotations

from migrate.model import JSON, Inventory
from migrate.plan.build import target_digest, volume_digest
from migrate.plan.model import Plan


def expected_manifest(plan: Plan) -> dict[str, JSON]:
    """What the new engine must hold after the run; ids are empty where only the run knows them (commits)."""
    images: list[JSON] = []
    for im in plan.images:
        if im.strategy != "skip":
            images.append({"id": im.id, "tags": sorted(im.tags)})
    for c in plan.containers:
        if c.strategy != "skip" and c.commit:
            images.append({"id": "", "tags": [c.commit_ref]})
    networks: list[JSON] = []
    for n in plan.networks:
        if n.strategy == "recreate":
            args = list(n.args)
            driver = args[args.index("--driver") + 1] if "--driver" in args else "bridge"
            subnets = sorted(args[i + 1] for i, a in enumerate(args[:-1]) if a == "--subnet")
            networks.append({"name": n.name, "driver": driver, "subnets": subnets})
    # Volumes are equal when their content digests (docs/verify.md) before the switch and after the restore are.
    volumes: list[JSON] = [{"name": v.name, "backup_digest": volume_digest(v.name),
                            "target_digest": target_digest(v.name)} for v in plan.volumes if v.strategy == "copy"]
    containers: list[JSON] = []
    for c in plan.containers:
        if c.strategy == "skip":
            continue
        image_id = "" if c.commit else c.image_id
        containers.append({"name": c.name, "image_id": image_id, "running": c.start})
    return {"images": images, "networks": networks, "volumes": volumes, "containers": containers}


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
