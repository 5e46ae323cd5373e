"""The journal and the artifact record: the run state both interpreters keep in the backup folder (docs/runbook.md).

The runbook writes the same two files with the same keys (runbook_lib.ps1: Import-Journal, Save-Journal,
Import-ArtifactRecord, Add-ArtifactRecord; the entries' keys are ENTRY_KEYS); a rehearsal's backup folder can be read
like a real one.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrate.errors import InputError
from migrate.plan.layout import BACKUP_LAYOUT

from migrate.plan.steps import ARTIFACT_FORMAT, ENTRY_KEYS, JOURNAL_FORMAT

STATUSES = ("pending", "running", "done", "failed")


@dataclass(slots=True)
class StepState:
    """One step's entry in the journal."""

    status: str = "pending"
    started_at: str = ""
    ended_at: str = ""
    attempt: int = 0
    notes: str = ""
    record: dict[str, Any] = field(default_factory=dict)
    """What the step must remember for later steps (edit-json: the previous values); written once."""


@dataclass(slots=True)
class Journal:
    """journal.json: each step's state, the engines seen, a pending restart, the verified backups, the end."""

    plan_hash: str
    tool_version: str = ""
    steps: dict[str, StepState] = field(default_factory=dict)
    engines: dict[str, dict[str, str]] = field(default_factory=dict)
    reboot_needed: bool = False
    reboot_requested_by: str = ""
    boot_time: str = ""
    """The boot time when the restart was asked for: a resume before Windows restarted refuses."""
    verified: dict[str, str] = field(default_factory=dict)
    """artifact path -> sha256 as verify-backups found it."""
    rolled_back: str = ""
    finished: str = ""
    exists: bool = False

    def status(self, step_id: str) -> str:
        return self.steps[step_id].status if step_id in self.steps else "pending"

    def state(self, step_id: str) -> StepState:
        return self.steps.setdefault(step_id, StepState())

    def to_json(self) -> dict[str, Any]:
        return {
            "format": JOURNAL_FORMAT, "planHash": self.plan_hash, "toolVersion": self.tool_version,
            "steps": [{"id": k, "status": s.status, "startedAt": s.started_at, "endedAt": s.ended_at,
                       "attempt": s.attempt, "notes": s.notes, "record": s.record}
                      for k, s in sorted(self.steps.items())],
            "engines": {k: dict(sorted(v.items())) for k, v in sorted(self.engines.items())},
            "reboot": {"needed": self.reboot_needed, "requestedBy": self.reboot_requested_by,
                       "bootTime": self.boot_time},
            "verified": [{"path": p, "sha256": h} for p, h in sorted(self.verified.items())],
            "rolledBack": self.rolled_back, "finished": self.finished,
        }


def _read_json(path: Path) -> Any:
    """A JSON file, or its .bak when the file is unreadable (a power cut during a write); None when neither is."""
    for candidate in (path, path.with_name(path.name + ".bak")):
        try:
            return json.loads(candidate.read_text(encoding="utf-8-sig"))
        except (OSError, ValueError):
            continue
    return None


def write_json_atomic(path: Path, data: Any, keep_backup: bool = True) -> None:
    """Temp file in the same folder, flushed, then swapped in (the previous file kept as .bak)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    if keep_backup and path.exists():
        os.replace(path, path.with_name(path.name + ".bak"))
    os.replace(tmp, path)


def _entries(data: dict[str, Any], name: str, path: Path) -> list[dict[str, Any]]:
    """The entries of one list (or, for engines, object) of a run's file, each with every key ENTRY_KEYS names; an
    entry without one is a damaged file (InputError), as the runbook's Get-RequiredProperty says."""
    items = data.get(name) or []
    entries = list(items.values()) if isinstance(items, dict) else list(items)
    for entry in entries:
        missing = [k for k in ENTRY_KEYS[name] if not isinstance(entry, dict) or entry.get(k) is None]
        if missing:
            raise InputError(f"{path} is damaged: an entry of {name} has no {missing[0]} (its .bak copy may be whole)")
    return entries


def load_journal(root: Path, plan_hash: str) -> Journal:
    """The journal in root (a new one when there is none); InputError when it belongs to another plan."""
    data = _read_json(root / BACKUP_LAYOUT["Journal"])
    journal = Journal(plan_hash=plan_hash)
    if data is None:
        return journal
    if not isinstance(data, dict) or data.get("format") != JOURNAL_FORMAT:
        raise InputError(f"{root / BACKUP_LAYOUT['Journal']}: not a {JOURNAL_FORMAT} journal")
    if data.get("planHash") != plan_hash:
        raise InputError(f"{root / BACKUP_LAYOUT['Journal']} belongs to plan {data.get('planHash')}, this is plan "
                         f"{plan_hash}: use another backup folder")
    journal.exists = True
    journal.tool_version = str(data.get("toolVersion", ""))
    path = root / BACKUP_LAYOUT["Journal"]
    for item in _entries(data, "steps", path):
        journal.steps[str(item["id"])] = StepState(str(item["status"]), str(item["startedAt"]), str(item["endedAt"]),
                                                   int(item["attempt"]), str(item["notes"]), dict(item["record"]))
    _entries(data, "engines", path)
    journal.engines = {str(k): {str(a): str(b) for a, b in v.items()} for k, v in (data.get("engines") or {}).items()}
    reboot = data.get("reboot") or {}
    journal.reboot_needed = bool(reboot.get("needed", False))
    journal.reboot_requested_by = str(reboot.get("requestedBy", ""))
    journal.boot_time = str(reboot.get("bootTime", ""))
    journal.verified = {str(i["path"]): str(i["sha256"]) for i in _entries(data, "verified", path)}
    journal.rolled_back = str(data.get("rolledBack", ""))
    journal.finished = str(data.get("finished", ""))
    return journal


def save_journal(root: Path, journal: Journal) -> None:
    write_json_atomic(root / BACKUP_LAYOUT["Journal"], journal.to_json())
    journal.exists = True


@dataclass(frozen=True, slots=True)
class ArtifactRecord:
    """What artifacts.json says of one artifact: the step that wrote it, its size and sha256."""

    path: str
    kind: str
    subject: str
    step: str
    size: int
    sha256: str
    secret: bool = False


def measure(root: Path, rel: str) -> tuple[int, str]:
    """Size and sha256 of a file in the backup folder."""
    path = root.joinpath(*rel.split("/"))
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return path.stat().st_size, h.hexdigest()


def load_artifacts(root: Path) -> dict[str, ArtifactRecord]:
    data = _read_json(root / BACKUP_LAYOUT["Artifacts"])
    if not isinstance(data, dict):
        return {}
    return {str(a["path"]): ArtifactRecord(str(a["path"]), str(a["kind"]), str(a["subject"]), str(a["step"]),
                                           int(a["size"]), str(a["sha256"]), bool(a["secret"]))
            for a in _entries(data, "artifacts", root / BACKUP_LAYOUT["Artifacts"])}


def save_artifacts(root: Path, plan_hash: str, artifacts: dict[str, ArtifactRecord]) -> None:
    items = [{"path": a.path, "kind": a.kind, "subject": a.subject, "step": a.step, "size": a.size,
              "sha256": a.sha256, "secret": a.secret} for _, a in sorted(artifacts.items())]
    write_json_atomic(root / BACKUP_LAYOUT["Artifacts"], {"format": ARTIFACT_FORMAT, "planHash": plan_hash,
                                                "artifacts": items})
