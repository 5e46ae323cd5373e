"""Render a Validation as a table for people or as JSON for scripts (fields documented in docs/validate.md)."""
from __future__ import annotations

import json

from tabulate import tabulate

from migrate.model import JSON
from migrate.validate.result import SCHEMA, Validation

FORMATS = ("table", "json")


def to_json(v: Validation) -> dict[str, JSON]:
    """The JSON document validate --format json writes."""
    r = v.resources
    return {
        "schema": SCHEMA,
        "plan": v.plan_file,
        "passed": v.passed,
        "plan_inventory_fingerprint": v.plan_fingerprint,
        "inventory_fingerprint": v.inventory_fingerprint,
        "steps": v.steps,
        "checks": [{"name": c.name, "status": c.status, "summary": c.summary} for c in v.checks],
        "problems": [{"check": p.check, "severity": p.severity, "subject": p.subject, "message": p.message,
                      "step": p.step} for p in v.problems],
        "resources": {"backup_bytes": r.backup_bytes, "parts": dict(sorted(r.parts.items())),
                      "unknown_volumes": list(r.unknown_volumes), "drive": r.drive, "free_bytes": r.free_bytes,
                      "free_from": r.free_from, "pull_bytes": r.pull_bytes,
                      "estimated_seconds": r.estimated_seconds, "wsl_disk_bytes": r.wsl_disk_bytes,
                      "wsl_disk_folder": r.wsl_disk_folder, "unknown": list(r.unknown),
                      "drives": [{"drive": d, "need_bytes": n, "free_bytes": f} for d, n, f in r.drives]},
    }


def render_json(v: Validation) -> str:
    """Indented JSON ending in a newline."""
    return json.dumps(to_json(v), indent=2, ensure_ascii=False) + "\n"


def render_table(v: Validation) -> str:
    """The checks, then one line per problem, then the verdict."""
    out = [tabulate([[c.name, c.status.upper(), c.summary] for c in v.checks],
                    headers=["check", "status", "summary"], tablefmt="simple")]
    if v.problems:
        rows = [[p.check, p.severity, p.subject, p.message] for p in v.problems]
        # No wrapping: each problem stays on one line, for grep and for people.
        out.append(tabulate(rows, headers=["check", "severity", "subject", "problem"], tablefmt="simple"))
    fails = sum(p.severity == "fail" for p in v.problems)
    warns = sum(p.severity == "warn" for p in v.problems)
    verdict = "PASS" if v.passed else "FAIL"
    out.append(f"{verdict}: {fails} failure(s), {warns} warning(s); {v.steps} steps simulated")
    return "\n\n".join(out) + "\n"


def render(v: Validation, fmt: str) -> str:
    """table or json."""
    return render_json(v) if fmt == "json" else render_table(v)
