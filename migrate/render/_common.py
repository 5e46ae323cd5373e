"""Helpers every renderer shares: control-character cleaning, human units, counting (secrets: migrate.secrets)."""
from __future__ import annotations

import re
from collections.abc import Iterable

from migrate.model import SEVERITIES, Finding, Inventory, Report
from migrate.units import human_bytes, human_duration

TOOL_NAME = "wsl2-migrate"

# C0 and C1 control characters except tab and newline, lone surrogates and the two non-characters XML 1.0
# forbids: they would drive a terminal, break XML or fail to encode.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")

SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}

VERDICT_WORDS = {
    "ready": "Ready",
    "ready-after-actions": "Ready after the listed actions",
    "blocked": "Blocked",
}


def _visible(m: re.Match[str]) -> str:
    """A control character as its escape, as in \\x1b or \\ud800."""
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(text: str) -> str:
    """Text with control characters as escapes, so a hostile value cannot drive a terminal or break XML."""
    return _CONTROL.sub(_visible, text)


def one_line(text: str) -> str:
    """Text on one line: line breaks become spaces, control characters are made visible."""
    return clean(" ".join(text.split("\n")).replace("\r", " ").replace("\t", " "))


def active(findings: Iterable[Finding]) -> list[Finding]:
    """The findings that are not waived."""
    return [f for f in findings if not f.waived]


def severity_counts(report: Report) -> dict[str, int]:
    """Active (not waived) findings per severity, every severity present, highest first."""
    counts = {name: 0 for name in reversed(SEVERITIES)}
    for f in active(report.findings):
        counts[f.severity] = counts.get(f.severity, 0) + 1
    return counts


def machine_name(inv: Inventory) -> str:
    """The machine a report is about: the host's computer name, else the engine's name."""
    if inv.host is not None and inv.host.computer_name:
        return inv.host.computer_name
    if inv.engine is not None and inv.engine.name:
        return inv.engine.name
    return "unknown machine"


def verdict_words(verdict: str) -> str:
    """The verdict as people say it."""
    return VERDICT_WORDS.get(verdict, verdict)


def rule_area(rule_id: str) -> str:
    """The area prefix of a rule id (HOST, DESK, LCOW, ...), or "OTHER" when the id has none."""
    m = re.match(r"[A-Za-z]+", rule_id)
    return m.group().upper() if m else "OTHER"


def summary_line(report: Report) -> str:
    """The one-line verdict summary the table format ends with, short enough for a 110-column terminal."""
    counts = [f"{n} {name}" for name, n in severity_counts(report).items() if n]
    waived = sum(1 for f in report.findings if f.waived)
    if waived:
        counts.append(f"{waived} waived")
    acting = len({f.rule for f in active(report.findings) if f.needs_action})
    if acting:
        counts.append(f"{acting} need{'s' if acting == 1 else ''} a person")
    verdict = {"ready-after-actions": "ready after actions"}.get(report.verdict, report.verdict)
    parts = [
        f"{verdict.upper()}: " + (", ".join(counts) or "no findings"),
        f"{human_bytes(report.bytes_to_move)} to move, {human_duration(report.estimated_seconds)}",
    ]
    if report.blind_spots:
        parts.append(f"{len(report.blind_spots)} blind spot{'s' if len(report.blind_spots) != 1 else ''}")
    return "; ".join(parts)
