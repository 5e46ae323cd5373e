"""Run the catalog over an inventory and build the Report: findings, waivers, verdict, estimates, blind spots."""
from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping
from typing import Any

from migrate.assess.catalog import Catalog, Rule
from migrate.assess.config import Config
from migrate.assess.facts import Facts
from migrate.assess.kinds import needs_action
from migrate.assess.messages import fill
from migrate.assess.paths import MISSING, parse_path, resolve
from migrate.assess.predicates import evaluate
from migrate.inventory.names import display_name
from migrate.model import SEVERITIES, Estimate, Finding, Inventory, Note, Report, fingerprint

_RANK = {s: i for i, s in enumerate(SEVERITIES)}

_LIMITS = {
    "engine": "engine findings (CTR, IMG, VOL, NET, ENG) may be missing, and bytes to move are underestimated",
    "images": "image findings may be missing, and bytes to move are underestimated",
    "containers": "container findings may be missing; a container's data could be lost unnoticed",
    "volumes": "volume findings may be missing, and bytes to move are underestimated",
    "networks": "network findings may be missing",
    "settings": "Docker Desktop settings findings (DESK) may be incomplete",
    "host": "host findings (HOST) may be incomplete: a 'ready' verdict does not rule out host blockers",
    "files": "project-file findings (FILE) may be missing",
    "bundle": "whatever the unreadable part held was not assessed",
    "identity": "per-user findings (DESK settings, .wslconfig, WSL distributions) may be missing or be about another "
                "user",
}


def subjects(rule: Rule, inv: Inventory) -> list[Any]:
    """The objects a rule looks at in this inventory."""
    if rule.subject in ("images", "containers", "volumes", "networks", "files"):
        return list(getattr(inv, rule.subject))
    if rule.subject == "settings":
        return [inv.settings]
    if rule.subject == "inventory":
        return [inv]
    obj = getattr(inv, rule.subject)
    return [] if obj is None else [obj]


def subject_name(kind: str, obj: Any, duplicates: Mapping[str, frozenset[str]] | None = None) -> str:
    """The display name of a subject (what waivers match); a name two objects share gets the id beside it."""
    if kind == "image":
        return obj.tags[0] if obj.tags else obj.id.removeprefix("sha256:")[:12]
    if kind in ("container", "volume", "network"):
        name = obj.name.lstrip("/")
        if duplicates and name in duplicates.get(kind, ()):
            return display_name(name, obj.id)
        return name
    if kind == "file":
        return f"{obj.file}:{obj.line}"
    if kind == "settings":
        return obj.desktop.file if obj.desktop is not None and obj.desktop.file else "settings"
    if kind == "host":
        return obj.computer_name or "host"
    if kind == "engine":
        return obj.name or "engine"
    return "inventory"


def run_rule(rule: Rule, inv: Inventory, facts: Facts, show_secrets: bool = False) -> list[Finding]:
    """The findings of one rule (without configuration applied), in subject order."""
    if inv.backend.kind not in rule.backends:
        return []
    out = []
    for obj in subjects(rule, inv):
        if not evaluate(rule.when, obj, facts):
            continue
        file, line = "", 0
        if rule.subject == "files":
            file, line = obj.file, obj.line
        elif rule.file:
            value = resolve(parse_path(rule.file), obj, facts)
            file = value if isinstance(value, str) and value is not MISSING else ""
        out.append(Finding(
            rule=rule.id, title=rule.title, severity=rule.severity,
            message=fill(rule.message, obj, facts, show_secrets), subject_kind=rule.subject_kind,
            subject=subject_name(rule.subject_kind, obj, facts.duplicates), why=rule.why, fix=rule.fix,
            references=rule.references,
            plan=rule.plan, file=file, line=line,
        ))
    return out


def blind_spots(inv: Inventory) -> tuple[Note, ...]:
    """What the assessment could not see (inventory notes and missing sources), each with how it limits the verdict."""
    spots = [Note(n.area, n.subject, f"{n.message}; {_LIMITS.get(n.area, 'findings about it may be missing')}")
             for n in inv.notes]
    if inv.host is None:
        spots.append(Note("host", "host facts", "no host facts (Windows build, WSL features, virtualization, free "
                          "disk were not read): HOST rules were not checked, so a 'ready' verdict does not rule out "
                          "host blockers; give --host-facts or a bundle with host/facts.json"))
    if inv.engine is not None:
        rep = inv.engine.reported
        images = max(0, rep.images - len(inv.images)) if rep.images is not None else 0
        containers = max(0, rep.containers - len(inv.containers)) if rep.containers is not None else 0
        if images or containers:
            spots.append(Note("engine", "objects not read", f"{images} images and {containers} containers exist but "
                              "were not read: the plan cannot move them, and the data to move leaves them out"))
    if inv.engine is None:
        spots.append(Note("engine", "engine", "no engine (no docker info, images, containers, volumes or networks): "
                          "nothing the engine holds was assessed and bytes to move are unknown"))
    if inv.settings.desktop is None:
        spots.append(Note("settings", "Docker Desktop settings", "no Docker Desktop settings file: DESK rules about "
                          "resources, disk location, file sharing, proxies and Kubernetes were not checked"))
    return tuple(sorted(set(spots), key=lambda n: (n.area, n.subject, n.message)))


def verdict(findings: tuple[Finding, ...]) -> str:
    """blocked: an unwaived blocker; ready-after-actions: an unwaived finding a person must act on (a thing to do by
    hand, or an error nothing is planned for); ready otherwise: the plan does the rest."""
    live = [f for f in findings if not f.waived]
    if any(f.severity == "blocker" for f in live):
        return "blocked"
    if any(f.needs_action for f in live):
        return "ready-after-actions"
    return "ready"


def assess(inv: Inventory, catalog: Catalog, config: Config, today: datetime.date, tool_version: str,
           show_secrets: bool = False, estimate: Estimate | None = None) -> Report:
    """Assess an inventory with the catalog and configuration; pure (the date comes in). The plan's estimate gives
    the sizes and the time (migrate/plan/assessment.py passes it); without it they are unknown and size rules
    stay silent."""
    facts = Facts(inv, config.backup_dir, estimate)
    findings: list[Finding] = []
    notices: list[str] = []
    checked = 0
    for rule in catalog.rules:
        if rule.id in config.disabled:
            notices.append(f"{rule.id} is disabled by {config.file or 'the configuration'}")
            continue
        if inv.backend.kind not in rule.backends:
            continue
        checked += 1
        findings.extend(run_rule(rule, inv, facts, show_secrets))
    used: set[int] = set()
    findings = [_configure(f, config, today, notices, used) for f in findings]
    for w in config.waivers:
        if not w.expired(today) and w.entry not in used and w.rule not in config.disabled:
            notices.append(f"waiver #{w.entry} for {w.rule} on {w.subject!r} in {config.file} matched no finding")
    # file and line before subject: a file finding's subject is "file:line", which sorts :10 before :5.
    ordered = tuple(sorted(findings, key=lambda f: (-_RANK[f.severity], f.rule, f.file, f.line, f.subject)))
    return Report(
        tool_version=tool_version,
        inventory_fingerprint=fingerprint(inv),
        backend=inv.backend,
        findings=ordered,
        verdict=verdict(ordered),
        counts={"images": len(inv.images), "containers": len(inv.containers), "volumes": len(inv.volumes),
                "networks": len(inv.networks), "project_files": len(inv.project_files)},
        bytes_to_move=estimate.backup_bytes if estimate is not None else 0,
        estimated_seconds=estimate.seconds if estimate is not None else 0,
        blind_spots=blind_spots(inv),
        rules_checked=checked,
        notices=tuple(dict.fromkeys(notices)),
        estimate=estimate,
    )


def _configure(f: Finding, config: Config, today: datetime.date, notices: list[str], used: set[int]) -> Finding:
    severity = config.severities.get(f.rule, f.severity)
    f = dataclasses.replace(f, needs_action=needs_action(f.plan, severity))
    for w in config.waivers:
        if not w.matches(f.rule, f.subject):
            continue
        expires = w.expires.isoformat() if w.expires else ""
        if w.expired(today):
            notices.append(f"waiver #{w.entry} for {f.rule} on {f.subject!r} in {config.file} expired on {expires}; "
                           f"the finding is reported again")
            continue
        used.add(w.entry)
        return dataclasses.replace(f, severity=severity, waived=True, waiver_reason=w.reason, waiver_expires=expires)
    return dataclasses.replace(f, severity=severity)
