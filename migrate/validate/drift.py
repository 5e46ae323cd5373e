"""Drift: what changed on the machine since the plan was made, per image, container, volume and network.

The plan keeps facts (ids, tags, image ids, the env names, mounts) and decisions the user may edit (strategies,
create arguments, options). Facts that differ from the fresh inventory fail: the plan is stale. Editable values
that differ from a fresh plan only warn: the machine changed, or the user edited them, and the plan cannot tell.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from migrate.model import Inventory, fingerprint
from migrate.plan.model import Plan
from migrate.validate.result import Problem

_CHANGED = "changed since the plan was made"
_EDITED = "(changed on the machine, or edited in the plan)"


def _p(subject: str, message: str, severity: str = "fail") -> Problem:
    return Problem("drift", severity, subject, message)


def _names(values: Iterable[str]) -> str:
    items = sorted(values)
    return "[" + ", ".join(items) + "]" if items else "[]"


def _delta(old: Iterable[str], new: Iterable[str]) -> str:
    """'+a -b' between two argument lists, as multisets (order-only changes give '')."""
    a, b = Counter(old), Counter(new)
    plus = sorted((b - a).elements())
    minus = sorted((a - b).elements())
    parts = [f"+{x}" for x in plus[:6]] + [f"-{x}" for x in minus[:6]]
    more = len(plus) + len(minus) - len(parts)
    return " ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def drift(plan: Plan, inv: Inventory, fresh: Plan) -> list[Problem]:
    """Objects added, removed or changed since the plan was made; [] when the fingerprint is unchanged."""
    now = fingerprint(inv)
    if now == plan.inventory_fingerprint:
        return []
    out: list[Problem] = []
    _images(plan, inv, out)
    _containers(plan, inv, fresh, out)
    _volumes(plan, fresh, out)
    _networks(plan, fresh, out)
    if not any(p.severity == "fail" for p in out):
        out.append(_p("inventory", f"fingerprint {now[:19]} differs from the plan's {plan.inventory_fingerprint[:19]}, "
                      "but no image, container, volume or network changed in a way the plan records (sizes, states "
                      "of skipped objects, settings or host facts did)", "warn"))
    return out


def _images(plan: Plan, inv: Inventory, out: list[Problem]) -> None:
    planned = {i.id: i for i in plan.images}
    fresh = {i.id: i for i in inv.images}
    for iid in sorted(set(planned) - set(fresh)):
        tags = _names(planned[iid].tags)
        out.append(_p(f"image {iid[:19]}", f"removed since the plan was made (tags {tags})"))
    for iid in sorted(set(fresh) - set(planned)):
        out.append(_p(f"image {iid[:19]}", f"added since the plan was made (tags {_names(fresh[iid].tags)})"))
    for iid in sorted(set(planned) & set(fresh)):
        p, im = planned[iid], fresh[iid]
        had = tuple(t for t in p.source_tags or p.tags if t != p.plan_tag)  # as the engine had them
        if set(had) != set(im.tags):
            out.append(_p(f"image {iid[:19]}", f"tags {_CHANGED}: were {_names(had)}, now {_names(im.tags)}"))
        if p.strategy == "repull" and p.reference and p.reference not in im.repo_digests:
            out.append(_p(f"image {iid[:19]}", f"the digest {p.reference} it is pulled by is no longer one of its "
                       f"repo digests {_names(im.repo_digests)}"))


def _containers(plan: Plan, inv: Inventory, fresh: Plan, out: list[Problem]) -> None:
    planned = {c.name: c for c in plan.containers}
    new = {c.name: c for c in fresh.containers}
    running = {c.name.lstrip("/"): c.running for c in inv.containers}
    for name in sorted(set(planned) - set(new)):
        out.append(_p(f"container {name}", f"removed since the plan was made (id {planned[name].id[:12]})"))
    for name in sorted(set(new) - set(planned)):
        out.append(_p(f"container {name}", f"added since the plan was made (id {new[name].id[:12]}, image "
                   f"{new[name].image_id[:19]})"))
    for name in sorted(set(planned) & set(new)):
        p, f = planned[name], new[name]
        subject = f"container {name}"
        if p.id != f.id:
            out.append(_p(subject, f"re-created since the plan was made: id was {p.id[:12]}, now {f.id[:12]}"))
        if p.image_id != f.image_id:
            out.append(_p(subject, f"image {_CHANGED}: was {p.image_id[:19]}, now {f.image_id[:19]}"))
        for field in ("volumes", "networks", "depends_on", "env"):
            old, cur = getattr(p, field), getattr(f, field)
            if set(old) != set(cur):
                what = "environment variable names" if field == "env" else field.replace("_", " ")
                out.append(_p(subject, f"{what} {_CHANGED}: were {_names(old)}, now {_names(cur)}"))
        if p.env_digest and f.env_digest and p.env_digest != f.env_digest and set(p.env) == set(f.env):
            # Keyed digests of the values (docs/secrets.md): which value changed stays unknown, and so do values.
            out.append(_p(subject, f"environment values {_CHANGED} (the runbook carries the values the "
                          "container has when it runs)", "warn"))
        if p.strategy != "skip" and p.start != running.get(name, p.start):
            state = "running" if running[name] else "stopped"
            out.append(_p(subject, f"is {state} now; the plan has start = {str(p.start).lower()} {_EDITED}",
                          "warn"))
        if p.strategy == "recreate" and f.strategy != "skip" and p.id == f.id:
            delta = _delta(p.create, f.create)
            if delta:
                out.append(_p(subject, f"create arguments differ from a fresh plan {_EDITED}: {delta}", "warn"))
        elif p.strategy == "recreate" and f.strategy != "skip" and tuple(p.create) != tuple(f.create):
            out.append(_p(subject, f"settings {_CHANGED} (re-created): create arguments "
                       f"{_delta(p.create, f.create)}"))


def _volumes(plan: Plan, fresh: Plan, out: list[Problem]) -> None:
    planned = {v.name: v for v in plan.volumes}
    new = {v.name: v for v in fresh.volumes}
    for name in sorted(set(planned) - set(new)):
        out.append(_p(f"volume {name}", "removed since the plan was made"))
    for name in sorted(set(new) - set(planned)):
        size = new[name].size
        out.append(_p(f"volume {name}", "added since the plan was made" + (f" ({size} bytes)" if size else "")))
    for name in sorted(set(planned) & set(new)):
        p, f = planned[name], new[name]
        if p.driver != f.driver:
            out.append(_p(f"volume {name}", f"driver {_CHANGED}: was {p.driver}, now {f.driver}"))
        for field in ("options", "labels"):
            if p.strategy != "skip" and getattr(p, field) != getattr(f, field):
                out.append(_p(f"volume {name}", f"{field} differ from a fresh plan {_EDITED}: "
                           f"{_delta(_kv(getattr(p, field)), _kv(getattr(f, field)))}", "warn"))


def _kv(d: dict[str, str]) -> list[str]:
    return [f"{k}={v}" for k, v in sorted(d.items())]


def _networks(plan: Plan, fresh: Plan, out: list[Problem]) -> None:
    planned = {n.name: n for n in plan.networks}
    new = {n.name: n for n in fresh.networks}
    for name in sorted(set(planned) - set(new)):
        out.append(_p(f"network {name}", "removed since the plan was made"))
    for name in sorted(set(new) - set(planned)):
        out.append(_p(f"network {name}", "added since the plan was made"))
    for name in sorted(set(planned) & set(new)):
        p, f = planned[name], new[name]
        if p.strategy == "recreate" and f.strategy == "recreate" and tuple(p.args) != tuple(f.args):
            out.append(_p(f"network {name}", f"create arguments differ from a fresh plan {_EDITED}: "
                       f"{_delta(p.args, f.args)}", "warn"))
