"""Coverage: every object has a decision, and nothing a kept container needs is skipped."""
from __future__ import annotations

from migrate.model import Inventory
from migrate.plan.model import Plan
from migrate.validate.result import Problem
from migrate.validate.state import BUILTIN_NETWORKS

_BUILTIN = (*BUILTIN_NETWORKS, "nat", "default")


def _p(subject: str, message: str) -> Problem:
    return Problem("coverage", "fail", subject, message)


def coverage(plan: Plan, inv: Inventory, fresh: Plan) -> list[Problem]:
    """Objects of the fresh inventory without a decision, and kept containers whose needs the plan skips."""
    out: list[Problem] = []
    for section, key, kind in (("images", "id", "image"), ("volumes", "name", "volume"),
                               ("networks", "name", "network"), ("containers", "name", "container")):
        have = {getattr(x, key) for x in getattr(plan, section)}
        for obj in getattr(fresh, section):
            name = getattr(obj, key)
            if name not in have:
                label = name[:19] if kind == "image" else name
                out.append(_p(f"{kind} {label}", "has no decision in the plan: it would be left behind"))
    images = {i.id: i for i in plan.images}
    volumes = {v.name: v for v in plan.volumes}
    networks = {n.name: n for n in plan.networks}
    containers = {c.name: c for c in plan.containers}
    live = {c.name.lstrip("/"): c for c in inv.containers}
    for c in sorted(plan.containers, key=lambda c: c.name):
        if c.strategy == "skip":
            continue
        subject = f"container {c.name}"
        now = live.get(c.name)
        if not c.commit:
            ip = images.get(c.image_id)
            if ip is None:
                out.append(_p(subject, f"is kept, but its image {c.image_id[:19]} has no decision in the plan "
                              "(and it is not committed)"))
            elif ip.strategy == "skip":
                label = ip.tags[0] if ip.tags else ip.id[:19]
                out.append(_p(subject, f"is kept, but its image {label} is skipped (and it is not committed)"))
        mounted = set(c.volumes) | ({m.name for m in now.mounts if m.type == "volume" and m.name} if now else set())
        for v in sorted(mounted):
            vp = volumes.get(v)
            if vp is None or vp.strategy == "skip":
                state = "has no decision" if vp is None else "is skipped"
                out.append(_p(subject, f"is kept and mounts volume {v}, which {state}: docker would create it "
                              "EMPTY on the new engine (data loss)"))
        joined = set(c.networks) | ({a.network for a in now.networks} if now else set())
        for n in sorted(joined - set(_BUILTIN)):
            np_ = networks.get(n)
            if np_ is None or np_.strategy == "skip":
                state = "has no decision" if np_ is None else "is skipped"
                out.append(_p(subject, f"is kept and joins network {n}, which {state}: its create would fail"))
        deps = set(c.depends_on) | (set(now.depends_on) if now else set())
        for d in sorted(deps):
            dp = containers.get(d.lstrip("/"))
            if dp is None or dp.strategy == "skip":
                state = "has no decision" if dp is None else "is skipped"
                out.append(_p(subject, f"is kept and depends on container {d}, which {state}"))
    return out
