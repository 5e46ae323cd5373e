"""JUnit XML for CI dashboards: one test suite, one test case per finding.

Mapping (the Report carries rules_checked only as a number, so rules that matched nothing have no test case):
- blocker and error findings are failures (<failure type="blocker|error">);
- warning and info findings pass, with their text in <system-out>, so they are visible without failing the
  build (gate on them with `assess --fail-on warning` instead);
- waived findings are skipped (<skipped>) with the waiver's reason and expiry;
- the class name is "wsl2-migrate.<AREA>" (HOST, DESK, LCOW, CTR, ...), so dashboards group findings by area.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

from migrate.model import Finding, Inventory, Report
from migrate.render._common import TOOL_NAME, clean, rule_area, summary_line
from migrate.secrets import redact_text

FAILING = ("blocker", "error")


def _details(f: Finding) -> str:
    """The finding's full text for the failure body or system-out."""
    parts = [f"{f.rule}: {f.title}", f"Severity: {f.severity}", f"Subject: {f.subject_kind} {f.subject}"]
    if f.file:
        parts.append(f"File: {f.file}" + (f", line {f.line}" if f.line > 0 else ""))
    parts.append(f"Message: {f.message}")
    if f.why:
        parts.append(f"Why: {f.why}")
    if f.fix:
        parts.append(f"Fix:\n{f.fix}")
    if f.references:
        parts.append("References: " + " ".join(f.references))
    return clean("\n".join(parts))


def _testcase(suite: ET.Element, f: Finding) -> str:
    """Add the test case of one finding; returns its outcome: failure, skipped or passed."""
    case = ET.SubElement(suite, "testcase", {
        "classname": clean(f"{TOOL_NAME}.{rule_area(f.rule)}"),
        "name": clean(f"{f.rule} {f.subject_kind}/{f.subject}"),
    })
    if f.waived:
        reason = f"waived: {f.waiver_reason}" + (f" (until {f.waiver_expires})" if f.waiver_expires else "")
        ET.SubElement(case, "skipped", {"message": clean(reason)})
        return "skipped"
    if f.severity in FAILING:
        failure = ET.SubElement(case, "failure", {"message": clean(f.message), "type": f.severity})
        failure.text = _details(f)
        return "failure"
    ET.SubElement(case, "system-out").text = _details(f)
    return "passed"


def render(report: Report, inv: Inventory, show_secrets: bool = False) -> str:
    """The report as a JUnit XML document with exact tests/failures/skipped counts."""
    del inv  # test cases carry finding text, which arrives already filtered
    root = ET.Element("testsuites", {"name": f"{TOOL_NAME} assess"})
    suite = ET.SubElement(root, "testsuite", {"name": f"{TOOL_NAME} assessment"})
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("tool_version", report.tool_version),
        ("inventory_fingerprint", report.inventory_fingerprint),
        ("backend", report.backend.kind),
        ("verdict", report.verdict),
        ("rules_checked", str(report.rules_checked)),
        ("bytes_to_move", str(report.bytes_to_move)),
        ("estimated_seconds", str(report.estimated_seconds)),
    ):
        ET.SubElement(props, "property", {"name": name, "value": clean(value)})
    outcomes = [_testcase(suite, f) for f in report.findings]
    lines = [summary_line(report), *report.notices]
    lines += [redact_text(f"blind spot: {n.area}: {n.subject}: {n.message}", show_secrets)
              for n in report.blind_spots]
    ET.SubElement(suite, "system-out").text = clean("\n".join(lines))
    counts = {
        "tests": str(len(outcomes)),
        "failures": str(outcomes.count("failure")),
        "errors": "0",
        "skipped": str(outcomes.count("skipped")),
    }
    suite.attrib.update(counts)
    root.attrib.update(counts)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
