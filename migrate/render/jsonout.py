"""Machine-readable report: the stable JSON document described in docs/report-json.md."""
from __future__ import annotations

import json
from typing import Any

from migrate.model import Finding, Inventory, Note, Report, to_data
from migrate.secrets import redact, redact_text

SCHEMA = "wsl2-migrate/report/1"
"""Bumped only for incompatible changes; adding a key is compatible."""


def _finding(f: Finding) -> dict[str, Any]:
    """Every Finding field under its dataclass name (tuples become lists)."""
    data: dict[str, Any] = to_data(f)
    return data


def _note(n: Note, show_secrets: bool) -> dict[str, Any]:
    """A blind spot as {area, subject, message}; a URL in it may carry credentials."""
    return {"area": n.area, "subject": redact_text(n.subject, show_secrets),
            "message": redact_text(n.message, show_secrets)}


def document(report: Report, show_secrets: bool = False) -> dict[str, Any]:
    """The report as the JSON value docs/report-json.md documents."""
    return {
        "schema": SCHEMA,
        "tool_version": report.tool_version,
        "inventory_fingerprint": report.inventory_fingerprint,
        "backend": {
            "kind": report.backend.kind,
            "evidence": redact(to_data(report.backend.evidence), show_secrets),
            "reasons": [redact(r, show_secrets) for r in report.backend.reasons],
        },
        "verdict": report.verdict,
        "counts": dict(report.counts),
        "bytes_to_move": report.bytes_to_move,
        "estimated_seconds": report.estimated_seconds,
        "rules_checked": report.rules_checked,
        "findings": [_finding(f) for f in report.findings],
        "blind_spots": [_note(n, show_secrets) for n in report.blind_spots],
        "notices": list(report.notices),
        "actions": list(report.actions),
        "estimate": _estimate(report),
    }


def _estimate(report: Report) -> dict[str, Any] | None:
    """The plan's estimate (docs/report-json.md, `estimate`), or None when the report was made without a plan."""
    est = report.estimate
    if est is None:
        return None
    return {"backup_bytes": est.backup_bytes, "backup_parts": dict(est.backup_parts), "wsl_disk_bytes":
            est.wsl_disk_bytes, "pull_bytes": est.pull_bytes, "seconds": est.seconds, "reboots": est.reboots,
            "reboots_possible": est.reboots_possible,
            "unknown": list(est.unknown), "backup_folder": est.backup_folder,
            "wsl_disk_folder": est.wsl_disk_folder}


def render(report: Report, inv: Inventory, show_secrets: bool = False) -> str:
    """The report as indented JSON with sorted keys, ending in a newline."""
    del inv  # everything the document holds is in the report
    # sort_keys: no object in the document has a meaningful key order; arrays keep the report's order.
    return json.dumps(document(report, show_secrets), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
