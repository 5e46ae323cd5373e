"""After the simulated run: the target must hold everything the plan migrates (the runbook's expected manifest)."""
from __future__ import annotations

from typing import Any

from migrate.plan.manifest import expected_manifest
from migrate.plan.model import Plan
from migrate.validate.result import Problem
from migrate.validate.state import World, source_content


def _problem(subject: str, message: str) -> Problem:
    return Problem("order", "fail", subject, message, step="")


def final_state(world: World, plan: Plan) -> list[Problem]:
    """Each entry of expected_manifest(plan) the simulated target lacks or holds differently."""
    m: dict[str, Any] = expected_manifest(plan)
    tgt = world.target
    out: list[Problem] = []
    for im in m["images"]:
        label = ", ".join(im["tags"]) or im["id"][:19]
        if im["id"] and im["id"] not in tgt.images:
            out.append(_problem(f"image {label}", f"image {im['id'][:19]} is not on the target after the run"))
            continue
        for tag in im["tags"]:
            got = tgt.resolve(tag)
            if got is None:
                out.append(_problem(f"image {label}", f"tag {tag} is not on the target after the run"))
            elif im["id"] and got.id != im["id"]:
                out.append(_problem(f"image {label}", f"tag {tag} points at {got.id[:19]} after the run, "
                                                      f"not at {im['id'][:19]}"))
    for n in m["networks"]:
        net = tgt.networks.get(n["name"])
        if net is None:
            out.append(_problem(f"network {n['name']}", "is not on the target after the run"))
        elif net.driver != n["driver"] or list(net.subnets) != n["subnets"]:
            out.append(_problem(f"network {n['name']}", f"is created with driver {net.driver} and subnets "
                                f"{list(net.subnets)}, the plan expects {n['driver']} and {n['subnets']}"))
    # The manifest lists the copied volumes (their content is compared by digest); re-created ones must exist too.
    copied = {v["name"] for v in m["volumes"]}
    for pv in plan.volumes:
        if pv.strategy == "skip":
            continue
        vol = tgt.volumes.get(pv.name)
        if vol is None:
            out.append(_problem(f"volume {pv.name}", "is not on the target after the run"))
        elif vol.created_by.startswith("auto:"):
            continue  # reported at the step where docker would have created it empty
        elif pv.name in copied and vol.content != source_content(pv.name):
            holds = vol.content or "nothing"
            out.append(_problem(f"volume {pv.name}", f"holds {holds} after the run, not its own data"))
    by_plan = {c.name: c for c in plan.containers}
    for c in m["containers"]:
        have = tgt.containers.get(c["name"])
        if have is None:
            out.append(_problem(f"container {c['name']}", "is not on the target after the run"))
            continue
        if have.image_id.startswith("missing:"):
            continue  # reported at the create step
        if c["image_id"] and have.image_id != c["image_id"]:
            out.append(_problem(f"container {c['name']}", f"runs image {have.image_id[:19]} after the run, not "
                                f"{c['image_id'][:19]}"))
        cp = by_plan[c["name"]]
        if cp.commit:
            img = tgt.images.get(have.image_id)
            if img is None or img.committed_from != cp.id:
                out.append(_problem(f"container {c['name']}", "is not created from the commit of its changed "
                                    "filesystem"))
        if have.running != c["running"]:
            state = "running" if have.running else "stopped"
            out.append(_problem(f"container {c['name']}", f"is {state} after the run; the plan says "
                                f"{'running' if c['running'] else 'stopped'}"))
    return out
