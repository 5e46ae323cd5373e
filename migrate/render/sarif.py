"""SARIF 2.1.0 log: findings in project files at file and line, the rest at a logical location."""
from __future__ import annotations

import hashlib
import json
import re
from typing import Any
from urllib.parse import quote

from migrate.errors import InternalError
from migrate.model import SEVERITIES, Finding, Inventory, Report
from migrate.render._common import SEVERITY_RANK, TOOL_NAME
from migrate.secrets import redact_text

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SARIF_VERSION = "2.1.0"
INFORMATION_URI = "https://pypi.org/project/wsl2-migrate/"
FINGERPRINT_KEY = "wsl2MigrateSubject/v1"

_LEVELS = {"blocker": "error", "error": "error", "warning": "warning", "info": "note"}


def sarif_level(severity: str) -> str:
    """The one mapping from our severity to a SARIF level: blocker and error are errors, info is a note."""
    try:
        return _LEVELS[severity]
    except KeyError:
        raise InternalError(f"unknown severity {severity!r}; expected one of {', '.join(SEVERITIES)}") from None


def artifact_uri(path: str) -> str:
    """A file path as a URI reference: forward slashes, percent-encoded; absolute paths become file: URIs."""
    p = path.replace("\\", "/")
    if p.startswith("//"):  # UNC \\server\share\dir\file
        host, _, rest = p[2:].partition("/")
        return f"file://{quote(host, safe='')}/{quote(rest, safe='/')}"
    if re.match(r"^[A-Za-z]:/", p):  # C:\Users\me\file
        return f"file:///{p[0]}:/{quote(p[3:], safe='/')}"
    if p.startswith("/"):
        return f"file://{quote(p, safe='/')}"
    # A relative reference: ':' is encoded so a first segment like 'c:x' cannot read as a scheme.
    return quote(p.removeprefix("./"), safe="/")


def _pascal_name(title: str, rule_id: str) -> str:
    """A rule name in the identifier style SARIF viewers show beside the id."""
    words = re.findall(r"[A-Za-z0-9]+", title)
    return "".join(w[:1].upper() + w[1:] for w in words) or rule_id


def partial_fingerprint(f: Finding) -> str:
    """A stable hash of the rule and its subject, so code-scanning tools track a finding across runs."""
    text = f"{f.rule}\x00{f.subject_kind}/{f.subject}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _rule(rule_id: str, findings: list[Finding]) -> dict[str, Any]:
    """The reportingDescriptor of a rule, from its first finding; the level from its highest severity."""
    first = findings[0]
    top = max((f.severity for f in findings), key=lambda s: SEVERITY_RANK.get(s, -1))
    rule: dict[str, Any] = {
        "id": rule_id,
        "name": _pascal_name(first.title, rule_id),
        "shortDescription": {"text": first.title or rule_id},
        "fullDescription": {"text": first.why or first.title or rule_id},
        "defaultConfiguration": {"level": sarif_level(top)},
        "properties": {"severity": top},
    }
    if first.fix:
        rule["help"] = {"text": first.fix}
    if first.references:
        rule["helpUri"] = first.references[0]
    return rule


def _location(f: Finding) -> dict[str, Any]:
    """A physical location for findings in files, a logical one for everything else."""
    if f.file:
        physical: dict[str, Any] = {"artifactLocation": {"uri": artifact_uri(f.file)}}
        if f.line > 0:
            physical["region"] = {"startLine": f.line}
        return {"physicalLocation": physical}
    kind = f.subject_kind or "inventory"
    return {
        "logicalLocations": [
            {"name": f.subject or kind, "kind": kind, "fullyQualifiedName": f"{kind}/{f.subject}"}
        ]
    }


def _result(f: Finding, rule_index: int) -> dict[str, Any]:
    """One result."""
    properties: dict[str, Any] = {"severity": f.severity, "subjectKind": f.subject_kind, "subject": f.subject}
    if f.plan:
        properties["plan"] = f.plan
    result: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": rule_index,
        "level": sarif_level(f.severity),
        "message": {"text": f.message or f.title},
        "locations": [_location(f)],
        "partialFingerprints": {FINGERPRINT_KEY: partial_fingerprint(f)},
        "properties": properties,
    }
    if f.waived:
        suppression: dict[str, Any] = {"kind": "external", "status": "accepted",
                                       "justification": f.waiver_reason}
        if f.waiver_expires:
            suppression["properties"] = {"expires": f.waiver_expires}
        result["suppressions"] = [suppression]
    return result


def log(report: Report, show_secrets: bool = False) -> dict[str, Any]:
    """The SARIF log as a JSON value."""
    by_rule: dict[str, list[Finding]] = {}
    for f in report.findings:
        by_rule.setdefault(f.rule, []).append(f)
    rule_ids = sorted(by_rule)
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    # Blind spots and configuration notices are facts about the run, not results: SARIF calls them
    # notifications.
    notifications = [
        {"level": "warning", "descriptor": {"id": f"blind-spot/{n.area}"},
         "message": {"text": redact_text(f"{n.area}: {n.subject}: {n.message}", show_secrets)}}
        for n in report.blind_spots
    ] + [{"level": "note", "message": {"text": text}, "descriptor": {"id": "config-notice"}}
         for text in report.notices]
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": TOOL_NAME,
                "version": report.tool_version,
                "informationUri": INFORMATION_URI,
                "rules": [_rule(rule_id, by_rule[rule_id]) for rule_id in rule_ids],
            }
        },
        "invocations": [invocation],
        "results": [_result(f, index[f.rule]) for f in report.findings],
        "properties": {
            "verdict": report.verdict,
            "backend": report.backend.kind,
            "inventoryFingerprint": report.inventory_fingerprint,
            "rulesChecked": report.rules_checked,
            "bytesToMove": report.bytes_to_move,
            "estimatedSeconds": report.estimated_seconds,
        },
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def render(report: Report, inv: Inventory, show_secrets: bool = False) -> str:
    """The report as a SARIF 2.1.0 log, indented JSON ending in a newline."""
    del inv  # results carry finding text, which arrives already filtered
    return json.dumps(log(report, show_secrets), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
