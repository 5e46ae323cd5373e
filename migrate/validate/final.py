"""After the simulated run: the target must hold everything the plan migrates (the runbook's expected manifest)."""
from __future__ import annotations

from migrate.plan.model import ContainerPlan, ImagePlan, NetworkPlan, Plan, VolumePlan
from migrate.validate.result import Problem
from migrate.validate.state import World, source_content


def _problem(subject: str, message: str) -> Problem:
    return Problem("order", "fail", subject, message, step="")


def _network(args: tuple[str, ...]) -> tuple[str, list[str]]:
    driver = args[args.index("--driver") + 1] if "--driver" in args else "bridge"
    return driver, [args[i + 1] for i, a in enumerate(args[:-1]) if a == "--subnet"]


def final_state(world: World, plan: Plan) -> list[Problem]:
    """What the simulated target lacks or holds differently from what the plan migrates (what the runbook's
    verify-target step checks on the real engine): every source engine's objects."""
    out = _engine_final(world, "source", plan.images, plan.volumes, plan.networks, plan.containers)
    if plan.hyperv is not None:
        h = plan.hyperv
        out += _engine_final(world, "hyperv", h.images, h.volumes, h.networks, h.containers)
    return out


def _engine_final(world: World, engine: str, plan_images: tuple[ImagePlan, ...], plan_volumes: tuple[VolumePlan, ...],
                  plan_networks: tuple[NetworkPlan, ...], plan_containers: tuple[ContainerPlan, ...]) -> list[Problem]:
    tgt = world.target
    out: list[Problem] = []
    kept = [c for c in plan_containers if c.strategy != "skip"]
    images = [(tuple(im.tags), im.id) for im in plan_images if im.strategy != "skip"]
    images += [((c.commit_ref,), "") for c in kept if c.commit]
    for tags, iid in images:
        label = ", ".join(tags) or iid[:19]
        if iid and iid not in tgt.images:
            out.append(_problem(f"image {label}", f"image {iid[:19]} is not on the target after the run"))
            continue
        for tag in tags:
            got = tgt.resolve(tag)
            if got is None:
                out.append(_problem(f"image {label}", f"tag {tag} is not on the target after the run"))
            elif iid and got.id != iid:
                out.append(_problem(f"image {label}", f"tag {tag} points at {got.id[:19]} after the run, "
                                                      f"not at {iid[:19]}"))
    for n in plan_networks:
        if n.strategy != "recreate":
            continue
        driver, subnets = _network(n.args)
        net = tgt.networks.get(n.name)
        if net is None:
            out.append(_problem(f"network {n.name}", "is not on the target after the run"))
        elif net.driver != driver or list(net.subnets) != subnets:
            out.append(_problem(f"network {n.name}", f"is created with driver {net.driver} and subnets "
                                f"{list(net.subnets)}, the plan expects {driver} and {subnets}"))
    copied = {v.name for v in plan_volumes if v.strategy == "copy"}
    for pv in plan_volumes:
        if pv.strategy == "skip":
            continue
        vol = tgt.volumes.get(pv.name)
        if vol is None:
            out.append(_problem(f"volume {pv.name}", "is not on the target after the run"))
        elif vol.created_by.startswith("auto:"):
            continue  # reported at the step where docker would have created it empty
        elif pv.name in copied and vol.content != source_content(pv.source_name or pv.name, engine):
            holds = vol.content or "nothing"
            out.append(_problem(f"volume {pv.name}", f"holds {holds} after the run, not its own data"))
    for cp in kept:
        have = tgt.containers.get(cp.name)
        if have is None:
            out.append(_problem(f"container {cp.name}", "is not on the target after the run"))
            continue
        if have.image_id.startswith("missing:"):
            continue  # reported at the create step
        if not cp.commit and cp.image_id and have.image_id != cp.image_id:
            out.append(_problem(f"container {cp.name}", f"runs image {have.image_id[:19]} after the run, not "
                                f"{cp.image_id[:19]}"))
        if cp.commit:
            img = tgt.images.get(have.image_id)
            if img is None or img.committed_from != cp.id:
                out.append(_problem(f"container {cp.name}", "is not created from the commit of its changed "
                                    "filesystem"))
        if have.running != cp.start:
            state = "running" if have.running else "stopped"
            out.append(_problem(f"container {cp.name}", f"is {state} after the run; the plan says "
                                f"{'running' if cp.start else 'stopped'}"))
    return out
