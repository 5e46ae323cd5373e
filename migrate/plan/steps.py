"""The step model: what the runbook emitter and the rehearsal executor both run, one step at a time."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from migrate.model import JSON

PHASES = ("preflight", "freeze", "backup", "switch", "restore", "verify", "cleanup")
"""Phases in the order they run; a runbook may be run one phase at a time."""

ENGINES = ("source", "target")
"""Which engine a docker step talks to: the old backend's engine, or the WSL2 engine after the switch."""


@dataclass(frozen=True, slots=True)
class BackupPath:
    """A path inside the backup folder, resolved when the step runs (rel '' is the folder itself).

    `rel` uses forward slashes and never starts or ends with one; the runbook joins it to -BackupPath with
    backslashes, the rehearsal executor to its --workdir.
    """

    rel: str = ""


@dataclass(frozen=True, slots=True)
class Word:
    """One argument made of literal text and backup-folder paths, e.g. `<backup>:/backup` for `-v`."""

    parts: tuple[str | BackupPath, ...]


Arg = Union[str, BackupPath, Word]
"""One argument of a docker command: literal text, a backup-folder path, or a mix of both."""


@dataclass(frozen=True, slots=True)
class Artifact:
    """A file a step writes into the backup folder; verified (size, sha256, tar entries) and put in the manifest."""

    path: str
    """Relative to the backup folder, forward slashes."""
    kind: str
    """image-archive, volume-archive, env-file, settings-backup, file-backup."""
    subject: str
    """What it holds, for people: an image list, a volume name, a file path."""
    tar: bool = False
    """A tar archive: its entries are counted and recorded too."""
    secret: bool = False
    """Holds secrets: lives in the access-restricted secrets folder, its content is never logged."""


HOST_ACTIONS: dict[str, str] = {
    "check-host": "Check elevation, Windows build, WSL state, free space on the backup drive; read-only.",
    "prepare-backup-folder": "Create the backup folder and its secrets sub-folder limited to the current user.",
    "write-env-file": "Read a container's environment from the engine and write it as a docker env file.",
    "verify-backups": "Re-hash every artifact against the manifest; the switch may not start otherwise.",
    "stop-desktop": "Stop Docker Desktop (processes and services) and wait until it is gone.",
    "backup-file": "Copy a settings file into the backup folder (bytes kept, hashed).",
    "enable-feature": "Enable an optional Windows feature (VirtualMachinePlatform, Microsoft-Windows-Subsystem-Linux).",
    "reboot": "Register the resume task and restart Windows, when an earlier step asked for it.",
    "set-desktop-setting": "Set keys of Docker Desktop's settings file, keeping every other key.",
    "edit-daemon-config": "Remove or set top-level keys of a daemon.json, keeping every other key.",
    "write-wslconfig": "Merge keys into %UserProfile%\\.wslconfig under [wsl2], keeping every other key.",
    "start-desktop": "Start Docker Desktop.",
    "wait-engine": "Wait until the engine answers and runs Linux containers, with a timeout.",
    "verify-target": "Compare the engine with the manifest of what the plan migrates.",
    "finish": "Remove the resume task and write the summary.",
}
"""Named host actions: the runbook implements each as a PowerShell function; rehearsal skips them (or mirrors the
engine-side ones: write-env-file, verify-backups, verify-target, wait-engine)."""


@dataclass(frozen=True, slots=True)
class Step:
    """One unit of work: a docker command against one engine, or a named host action."""

    id: str
    """Stable, unique, `phase/kind/name-ish`, safe as a file name part: [a-z0-9._/-]."""
    phase: str
    title: str
    engine: str = ""
    """'source' or 'target' for docker steps and engine-side actions, '' otherwise."""
    argv: tuple[Arg, ...] = ()
    """Docker arguments after `docker` (no global flags: the runner adds --host)."""
    action: str = ""
    """A key of HOST_ACTIONS when argv is empty."""
    params: dict[str, JSON] = field(default_factory=dict)
    """Parameters of the action."""
    workdir: str = ""
    """Run in this directory (docker compose in a project's folder)."""
    produces: tuple[Artifact, ...] = ()
    consumes: tuple[str, ...] = ()
    """Artifact paths this step reads."""
    depends_on: tuple[str, ...] = ()
    """Step ids that must be done first (all earlier in the list)."""
    findings: tuple[str, ...] = ()
    """Rule ids that caused or shaped this step."""
    mutating: bool = True
    """Changes state (goes through ShouldProcess); read-only probes run even under -WhatIf."""
    target: str = ""
    """What the step acts on, for ShouldProcess and the log: an image, a volume, a container, a file."""
    ok_exit_codes: tuple[int, ...] = (0,)

    def __post_init__(self) -> None:
        if self.phase not in PHASES:
            raise ValueError(f"step {self.id}: unknown phase {self.phase!r}")
        if bool(self.argv) == bool(self.action):
            raise ValueError(f"step {self.id}: needs exactly one of argv or action")
        if self.action and self.action not in HOST_ACTIONS:
            raise ValueError(f"step {self.id}: unknown host action {self.action!r}")
        if self.argv and self.engine not in ENGINES:
            raise ValueError(f"step {self.id}: a docker step needs engine source or target")


def resolve_arg(arg: Arg, root: str, sep: str = "/") -> str:
    """The literal argument once backup paths are joined to root with sep (the rehearsal executor uses this)."""
    if isinstance(arg, str):
        return arg
    if isinstance(arg, BackupPath):
        return join_backup(root, arg.rel, sep)
    return "".join(p if isinstance(p, str) else join_backup(root, p.rel, sep) for p in arg.parts)


def join_backup(root: str, rel: str, sep: str = "/") -> str:
    """root joined with a forward-slash relative path, using sep."""
    if not rel:
        return root
    return root.rstrip("/\\") + sep + rel.replace("/", sep)
