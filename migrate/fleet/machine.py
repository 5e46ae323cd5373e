"""One machine of the fleet as a row: read from its assessment JSON report (one adapter) and its host facts."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from migrate.model import SEVERITIES, Inventory

READY = "ready"
AFTER_ACTIONS = "ready-after-actions"
BLOCKED = "blocked"
UNREADABLE = "could-not-read"
VERDICTS = (READY, AFTER_ACTIONS, BLOCKED, UNREADABLE)
"""The fleet's verdict classes, in the order of the move: the report's three verdicts and a bundle not read."""

VERDICT_LABELS = {READY: "ready", AFTER_ACTIONS: "ready after actions", BLOCKED: "blocked",
                  UNREADABLE: "could not read"}

LEVELS = tuple(reversed(SEVERITIES))
"""Severities, highest first."""


@dataclass(frozen=True, slots=True)
class ReportSummary:
    """What the fleet takes from one assessment report; everything else about the machine comes from its facts."""

    verdict: str
    findings: dict[str, int]
    """Active (not waived) findings per severity, every severity present."""
    waived: int
    rules: dict[str, tuple[str, ...]]
    """Severity -> the rule ids of its active findings, sorted, each once."""
    titles: dict[str, str]
    """Rule id -> title, for the blocker and error rules of active findings (the ones the fleet page lists)."""
    bytes_to_move: int
    estimated_seconds: int
    counts: dict[str, int]
    backend: str
    blind_spots: int
    fingerprint: str


def summarize_report(doc: Mapping[str, Any]) -> ReportSummary:
    """The one adapter over `assess --format json` (docs/report-json.md): verdict, counts, bytes and duration.

    Every number the fleet shows about a machine's assessment comes through here, so the roll-up always equals
    the sum of the per-machine reports, and a change to the report (its estimator, its verdict) is followed by
    changing this function alone.
    """
    findings = {level: 0 for level in LEVELS}
    rules: dict[str, set[str]] = {level: set() for level in LEVELS}
    titles: dict[str, str] = {}
    waived = 0
    for f in doc.get("findings", []):
        if f.get("waived"):
            waived += 1
            continue
        level = str(f.get("severity", "info"))
        rule = str(f.get("rule", ""))
        findings[level] = findings.get(level, 0) + 1
        rules.setdefault(level, set()).add(rule)
        if level in ("blocker", "error"):
            titles.setdefault(rule, str(f.get("title", "")))
    return ReportSummary(
        verdict=str(doc["verdict"]),
        findings=findings,
        waived=waived,
        rules={level: tuple(sorted(ids)) for level, ids in rules.items()},
        titles=titles,
        bytes_to_move=int(doc["bytes_to_move"]),
        estimated_seconds=int(doc["estimated_seconds"]),
        counts={str(k): int(v) for k, v in doc.get("counts", {}).items()},
        backend=str(doc.get("backend", {}).get("kind", "unknown")),
        blind_spots=len(doc.get("blind_spots", [])),
        fingerprint=str(doc.get("inventory_fingerprint", "")),
    )


@dataclass(frozen=True, slots=True)
class HostSummary:
    """The machine's identity and platform, from its inventory (the report does not carry them)."""

    name: str = ""
    desktop_version: str = ""
    windows_build: str = ""
    """Build and revision, as in 19045.3803; empty when unknown."""
    windows_version: str = ""
    """The display version, as in 22H2."""
    edition: str = ""
    wsl: str = ""
    """WSL's state in a word or two: not installed, inbox, WSL 2.3, unknown."""


def _wsl_state(inv: Inventory) -> str:
    host = inv.host
    if host is None or host.wsl_installed is None:
        return "unknown"
    if not host.wsl_installed:
        return "not installed"
    if not host.wsl_version:
        return "inbox (no version)"
    major_minor = ".".join(host.wsl_version.split(".")[:2])
    return f"WSL {major_minor}"


def summarize_host(inv: Inventory, fallback_name: str) -> HostSummary:
    """Name, Docker Desktop version, Windows build and WSL state of a scanned machine."""
    from migrate.render._common import machine_name

    name = machine_name(inv)
    if name == "unknown machine":
        name = fallback_name
    host = inv.host
    desktop = ""
    if inv.settings.desktop is not None and inv.settings.desktop.desktop_version:
        desktop = inv.settings.desktop.desktop_version
    if host is not None and host.desktop_version:
        desktop = host.desktop_version
    build = ""
    if host is not None and host.build is not None:
        build = str(host.build) + (f".{host.revision}" if host.revision is not None else "")
    return HostSummary(
        name=name,
        desktop_version=desktop,
        windows_build=build,
        windows_version=host.display_version if host is not None else "",
        edition=host.edition if host is not None else "",
        wsl=_wsl_state(inv),
    )


@dataclass(frozen=True, slots=True)
class Machine:
    """One row of the fleet: a bundle, what it is and how its assessment went (or why it could not be read)."""

    index: int
    """The bundle's position in the run's list: keeps every output in a stable order."""
    bundle: str
    """The bundle path as found under the paths given."""
    host: HostSummary
    report: ReportSummary | None = None
    error: str = ""
    """Why the bundle could not be read; empty when it was assessed."""
    ident: str = ""
    """The unique file-safe name (machines/IDENT.html); set once every row is known."""
    wave: int = 0
    pages: bool = False
    """Whether machines/IDENT.html and .json were written."""

    @property
    def verdict(self) -> str:
        """The fleet verdict class."""
        return self.report.verdict if self.report is not None else UNREADABLE

    @property
    def name(self) -> str:
        """The machine's display name."""
        return self.host.name

    @property
    def bytes_to_move(self) -> int:
        """Estimated bytes to move (0 when unread)."""
        return self.report.bytes_to_move if self.report is not None else 0

    @property
    def estimated_seconds(self) -> int:
        """Estimated duration in seconds (0 when unread)."""
        return self.report.estimated_seconds if self.report is not None else 0

    def rules(self, level: str) -> tuple[str, ...]:
        """The rule ids of the active findings of one severity."""
        return self.report.rules.get(level, ()) if self.report is not None else ()


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def file_name(name: str) -> str:
    """A machine name as a file name safe on Windows and Linux shares (hostile names included)."""
    slug = _UNSAFE.sub("_", name).strip("._-")[:64].rstrip("._-")
    if not slug:
        slug = "machine"
    if not slug[0].isalnum():
        slug = "m" + slug
    if slug.split(".")[0].upper() in _RESERVED:
        slug += "_"
    return slug


def assign_idents(names: list[str]) -> list[str]:
    """Unique file names for machine names in order; a repeated name (ignoring case) gets -2, -3, ..."""
    used: set[str] = set()
    out = []
    for name in names:
        base = file_name(name)
        ident, k = base, 1
        while ident.lower() in used:
            k += 1
            ident = f"{base}-{k}"
        used.add(ident.lower())
        out.append(ident)
    return out


def csv_cell(text: str) -> str:
    """A CSV cell Excel will not run as a formula (a hostile name such as =HYPERLINK(...))."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
