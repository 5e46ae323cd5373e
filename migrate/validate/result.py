"""What validate finds: one Problem per failure or warning, a status per check, and the resource estimate."""
from __future__ import annotations

from dataclasses import dataclass, field

CHECKS = ("drift", "coverage", "consistency", "order", "resources", "blockers")
"""The checks, in the order they run and are reported."""

SCHEMA = "wsl2-migrate/validate/1"


@dataclass(frozen=True, slots=True)
class Problem:
    """One failure or warning of one check, in one line."""

    check: str
    """One of CHECKS."""
    severity: str
    """fail (the plan does not validate) or warn (worth reading; does not fail)."""
    subject: str
    """What it is about: 'container db', 'volume data', a step id, 'backup drive C:'."""
    message: str
    step: str = ""
    """The step concerned (order check), '' otherwise."""


@dataclass(frozen=True, slots=True)
class Check:
    """The outcome of one check."""

    name: str
    status: str
    """pass, warn or fail."""
    summary: str


@dataclass(frozen=True, slots=True)
class Resources:
    """The plan's estimate (migrate/plan/estimate.py) against the space the drives have."""

    backup_bytes: int
    """Everything the backup phase writes (the sum of parts)."""
    parts: dict[str, int] = field(default_factory=dict)
    """image_archives, volume_archives, committed_layers, commit_base_layers."""
    unknown_volumes: tuple[str, ...] = ()
    """Volumes copied whose size the inventory does not know (not counted)."""
    drive: str = ""
    """The backup folder's drive letter ('' when the path has none)."""
    free_bytes: int | None = None
    free_from: str = ""
    """--backup-free-bytes, host facts, or '' when unknown."""
    pull_bytes: int = 0
    estimated_seconds: int = 0
    restarts: str = ""
    """The estimate's restarts, as every report states them (Estimate.restarts_text)."""
    wsl_disk_bytes: int = 0
    """Bytes the new WSL disk grows by (known sizes)."""
    wsl_disk_folder: str = ""
    unknown: tuple[str, ...] = ()
    """Everything whose size is unknown (volumes, writable layers): the free-space check cannot pass with any."""
    drives: tuple[tuple[str, int, int | None], ...] = ()
    """(drive letter, bytes it must hold: the backups and the new WSL disk summed, free bytes or None)."""


@dataclass(frozen=True, slots=True)
class Validation:
    """The whole result."""

    plan_file: str
    plan_fingerprint: str
    """The inventory fingerprint the plan was made from."""
    inventory_fingerprint: str
    """The fresh inventory's fingerprint."""
    checks: tuple[Check, ...]
    problems: tuple[Problem, ...]
    resources: Resources
    steps: int
    """How many steps were simulated."""

    @property
    def passed(self) -> bool:
        """No check failed (warnings do not fail)."""
        return all(c.status != "fail" for c in self.checks)


def status_of(problems: list[Problem]) -> str:
    """fail when any problem fails, warn when any warns, else pass."""
    sev = {p.severity for p in problems}
    return "fail" if "fail" in sev else "warn" if "warn" in sev else "pass"
