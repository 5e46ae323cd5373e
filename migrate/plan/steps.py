"""The program model: the ordered steps the planner computes and both interpreters (runbook, rehearsal) run.

A step is a docker command against one engine or one typed host action (migrate/plan/actions.py); everything
that can be known before the run is in the step, so the interpreters only carry it out and check what it says.
docs/runbook.md describes the program, the journal both interpreters keep, and every action.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Union

from migrate.errors import PlanError
from migrate.plan.actions import Action, check_rel
from migrate.plan.checks import Check
from migrate.secrets import REDACTED

PHASES = ("preflight", "freeze", "backup", "switch", "restore", "verify", "cleanup")
"""Phases in the order they run; a runbook may be run one phase at a time."""
ROLLBACK_PHASE = "rollback"
"""The phase of the rollback program's steps (run by -Rollback / rehearse --rollback)."""
ENGINES = ("source", "target", "hyperv")
"""Which engine a docker step talks to: the old backend's engine, the WSL2 engine after the switch, or the LCOW host's
second source engine (Docker Desktop's Linux engine in the Hyper-V VM)."""
SELF_PROVING = ("wait-engine", "switch-containers")
"""Host actions that wait for their engine to answer as expected themselves: the interpreters do not prove it first."""
JOURNAL_FORMAT = "wsl2-migrate-journal/2"
ARTIFACT_FORMAT = "wsl2-migrate-artifacts/2"
"""The journal and the artifact record both interpreters write into the backup folder (docs/runbook.md)."""
ENTRY_KEYS: dict[str, tuple[str, ...]] = {
    "steps": ("id", "status", "startedAt", "endedAt", "attempt", "notes", "record"),
    "engines": ("id", "os", "kernel", "store"),
    "verified": ("path", "sha256"),
    "artifacts": ("path", "kind", "subject", "step", "size", "sha256", "secret"),
}
"""The keys of each entry of the journal's steps, engines and verified and of the artifact record's artifacts (the
first one a list's key): both interpreters write them all and refuse an entry without one, naming the damaged file.
The runbook carries them ($script:EntryKeys)."""
DESKTOP: dict[str, tuple[str, ...] | str] = {
    "Processes": ("Docker Desktop", "Docker for Windows", "com.docker.backend", "com.docker.build",
                  "com.docker.proxy", "com.docker.dev-envs", "com.docker.wsl-distro-proxy", "vpnkit"),
    "Windows": ("Docker Desktop", "Docker for Windows"),
    "Service": "com.docker.service",
    "UninstallName": "^Docker (Desktop|for Windows)",
    "RunEntry": r"\\(Docker Desktop|Docker for Windows)\.exe",
}
"""What Docker Desktop is on Windows, across its versions (../shared/docs/domain.md): its processes (Processes; the
main window's, Windows: "Docker for Windows" before 2.2), the elevated service of the Hyper-V era, the pattern its
uninstall entry's DisplayName matches, and the pattern of its logon Run entry (the main window's program). The runbook
carries them ($script:Desktop): the library names none itself."""
ENGINE_CHANGING = ("stop-desktop", "start-desktop", "switch-containers")
"""Host actions after which a pipe may reach another engine (or none): the interpreters forget which engines proved
what they are before running one, so the next step that talks to an engine proves it again."""
GATED_PHASES = ("switch", "restore")
"""Phases that refuse to run until the verify-backups step has passed."""
TIMEOUTS: dict[str, int] = {
    "Probe": 120,
    "Cleanup": 300,
    "Acl": 300,
    "WslShutdown": 300,
    "DesktopStart": 60,
    "KillWait": 30,
    "PipeDrain": 60,
    "Poll": 2,
    "EnginePoll": 5,
}
"""Seconds the interpreters give the commands a step runs besides its own docker command (both read these; the
runbook carries them as $script:Timeouts): Probe, a read-only docker or wsl command (info, inspect, a check, an
absence probe, `wsl --version`); Cleanup, removing a step's helper container or a recover command; Acl, icacls on
the backup folder; WslShutdown, `wsl --shutdown` after Docker Desktop stops; DesktopStart, Docker Desktop's
process appearing after the start task ran; KillWait, a process tree ending after a time limit or Ctrl+C;
PipeDrain, a program's output pipes closing after it ended (a child the kill missed may hold them); Poll and
EnginePoll, the pause between two looks at something waited for (a process, a VM, an engine). A host action's own
program (dism.exe, wsl.exe, an installer, DockerCli.exe) has the action's planned time limit."""


@dataclass(frozen=True, slots=True)
class BackupPath:
    """A path inside the backup folder, resolved when the step runs (rel '' is the folder itself).

    `rel` uses forward slashes and never starts or ends with one; the runbook joins it to -BackupPath with
    backslashes, the rehearsal to its --workdir.
    """

    rel: str = ""


@dataclass(frozen=True, slots=True)
class Word:
    """One argument made of literal text and backup-folder paths, e.g. `<backup>:/backup` for `-v`."""

    parts: tuple[str | BackupPath, ...]


@dataclass(frozen=True, slots=True)
class SecretValue:
    """One argument whose value is read when the step runs from a secret-values file in the backup folder (a
    write-secret-values step wrote it from the old engine): `prefix` + the file's value number `index`.

    The plan holds only a digest of the value (docs/secrets.md); logs show `prefix<redacted>`. The runbook quotes
    the whole argument at run time (ConvertTo-EncodedArgument), the rehearsal passes it as one argv element.
    """

    file: str
    """Relative to the backup folder, under secrets/ (forward slashes)."""
    index: int
    """Which value of the file's list."""
    prefix: str = ""
    """Literal text before the value: `KEY=` of a --label, --log-opt or --opt."""

    def __post_init__(self) -> None:
        if not check_rel("secret value", self.file).startswith("secrets/"):
            raise PlanError(f"secret value: {self.file} is not under secrets/")
        if not 0 <= self.index < 2 ** 31 or "\x00" in self.prefix:
            raise PlanError(f"secret value {self.index} of {self.file}: bad index or prefix")


Arg = Union[str, BackupPath, Word, SecretValue]
"""One argument of a docker command: literal text, a backup-folder path, a mix of both, or a secret value read at
run time."""


@dataclass(frozen=True, slots=True)
class Artifact:
    """A file a step writes into the backup folder; its size and sha256 are recorded, re-checked before use."""

    path: str
    """Relative to the backup folder, forward slashes."""
    kind: str
    """image-archive, volume-archive, volume-digest, env-file, settings-backup."""
    subject: str
    """What it holds, for people: an image list, a volume name, a file path."""
    secret: bool = False
    """Holds secrets: lives in the access-restricted secrets folder, its content is never logged."""


@dataclass(frozen=True, slots=True)
class Docker:
    """A docker command: `docker --host <engine> <argv>`, with a time limit that ends the whole process tree."""

    engine: str
    """'source' or 'target'."""
    argv: tuple[Arg, ...]
    """Arguments after `docker` (no global flags: the interpreter adds --host)."""
    timeout: int
    """Seconds before the command and every process it started are ended and the step fails."""
    workdir: str = ""
    """Run in this directory (docker compose in a project's folder)."""
    ok_exit_codes: tuple[int, ...] = (0,)
    recover: tuple[tuple[Arg, ...], ...] = ()
    """docker commands run first when an earlier attempt of this step started its command and did not finish (it
    was interrupted or failed), putting its target back where the step can start again: a half-restored volume
    removed and created empty, a half-created container removed. Only objects this run made are touched:
    require_absent proved they did not exist before the first attempt."""
    cleanup: tuple[tuple[Arg, ...], ...] = ()
    """docker commands run after the command timed out or was aborted, and before a retry: a helper container goes
    on inside the engine when its `docker run` client is ended, so it is removed by its name."""
    require_absent: tuple[tuple[Arg, ...], ...] = ()
    """Read-only docker commands that must fail (the object does not exist yet) before the command first runs: the
    run never adopts, and never removes, an object it did not make."""
    checks: tuple[Check, ...] = ()
    """Run on the same engine after the command (what `docker load` must have brought, for instance)."""
    expect_output: str = ""
    """When set: the command's output, trimmed, must be exactly this (the helper probe ends with its marker and
    names nothing missing); otherwise the step fails showing the output."""
    record_output: bool = False
    """Keep the command's output (trimmed) in the journal, for checks of later steps (`docker commit` prints the
    new image's id)."""
    display: str = ""
    """The command as logs show it: credentials and secret values replaced by <redacted>."""
    progress: str = ""
    """The artifact the command writes (one its step produces), whose size the runbook shows while it runs ('' =
    none)."""


@dataclass(frozen=True, slots=True)
class Step:
    """One unit of work: a docker command or a typed host action."""

    id: str
    """Stable, unique, `phase/kind/name-ish`, safe as a file name part: [a-z0-9._/-]."""
    phase: str
    title: str
    op: Docker | Action
    target: str = ""
    """What the step acts on, for ShouldProcess and the log: an image, a volume, a container, a file."""
    produces: tuple[Artifact, ...] = ()
    consumes: tuple[str, ...] = ()
    """Artifact paths this step reads; their size and sha256 are re-checked before it runs."""
    depends_on: tuple[str, ...] = ()
    """Step ids that must be done first (all earlier in the list)."""
    findings: tuple[str, ...] = ()
    """Rule ids that caused or shaped this step."""
    mutating: bool = True
    """Changes state (goes through ShouldProcess); read-only probes run even under -WhatIf."""
    only_if_started: str = ""
    """Rollback steps: run only when this forward step has started (its journal status is not pending)."""

    def __post_init__(self) -> None:
        if self.phase not in (*PHASES, ROLLBACK_PHASE):
            raise PlanError(f"step {self.id}: unknown phase {self.phase!r}")
        if isinstance(self.op, Docker):
            if self.op.engine not in ENGINES:
                raise PlanError(f"step {self.id}: a docker step needs engine {', '.join(ENGINES)}")
            if not self.op.argv:
                raise PlanError(f"step {self.id}: a docker step needs arguments")
            if not 1 <= self.op.timeout <= 7 * 86400:
                raise PlanError(f"step {self.id}: timeout {self.op.timeout} s is out of range (1 s to 7 days)")
            if self.op.progress and self.op.progress not in {a.path for a in self.produces}:
                raise PlanError(f"step {self.id}: it shows progress for {self.op.progress}, which it does not write")

    @property
    def docker(self) -> Docker | None:
        """The docker command, or None for a host action."""
        return self.op if isinstance(self.op, Docker) else None

    @property
    def action(self) -> str:
        """The host action's name ('' for a docker step)."""
        return "" if isinstance(self.op, Docker) else self.op.NAME

    @property
    def argv(self) -> tuple[Arg, ...]:
        """The docker arguments (() for a host action)."""
        return self.op.argv if isinstance(self.op, Docker) else ()

    @property
    def engine(self) -> str:
        """The engine a docker step or an engine-side action talks to ('' for a host-only action)."""
        return self.op.engine if isinstance(self.op, Docker) else self.op.engine_of()


@dataclass(frozen=True, slots=True)
class EngineExpect:
    """What an engine must report before a step talks to it (checked once per run and engine)."""

    os: str
    """Server OS: linux or windows."""
    kernel_contains: str = ""
    """Must appear in the kernel version ('' = any): linuxkit for the Hyper-V VM's engine, microsoft-standard for
    the WSL 2 engine."""
    operating_system: str = ""
    """docker info's OperatingSystem ('' = any): Docker Desktop for both of its Linux engines."""
    not_source: bool = False
    """Must not be an engine the run found as a source (its engine id differs from theirs)."""


@dataclass(frozen=True, slots=True)
class Program:
    """Everything a run does: the forward steps, the rollback steps, and what each engine must be."""

    steps: tuple[Step, ...]
    rollback: tuple[Step, ...] = ()
    engines: dict[str, EngineExpect] = field(default_factory=dict)
    """source, target (and hyperv, the LCOW host's second source engine) expectations."""

    def __post_init__(self) -> None:
        # The planner computes what each verify-backups step covers; a program where it is not every artifact
        # written before that step would let a backup pass unverified.
        written: set[str] = set()
        for s in self.steps:
            covers = getattr(s.op, "artifacts", None) if s.action == "verify-backups" else None
            if covers is not None and set(covers) != written:
                raise PlanError(f"step {s.id}: verify-backups must list every artifact written before it "
                                f"({len(written)}), it lists {len(covers)}")
            written.update(a.path for a in s.produces)

    @property
    def backup_gate(self) -> int | None:
        """The index of the verify-backups step the gated phases wait for (the first), or None."""
        return next((i for i, s in enumerate(self.steps) if s.action == "verify-backups"), None)

    def step(self, step_id: str) -> Step:
        """The forward or rollback step of that id."""
        for s in (*self.steps, *self.rollback):
            if s.id == step_id:
                return s
        raise PlanError(f"no step {step_id!r} in the program")


def resolve_arg(arg: Arg, root: str, sep: str = "/", secret: Callable[[SecretValue], str] | None = None) -> str:
    """The literal argument once backup paths are joined to root with sep and secret values read by secret (the
    rehearsal uses this)."""
    if isinstance(arg, str):
        return arg
    if isinstance(arg, BackupPath):
        return join_backup(root, arg.rel, sep)
    if isinstance(arg, SecretValue):
        if secret is None:
            raise PlanError(f"a secret value of {arg.file} is needed here, and nothing reads it")
        return arg.prefix + secret(arg)
    return "".join(p if isinstance(p, str) else join_backup(root, p.rel, sep) for p in arg.parts)


def join_backup(root: str, rel: str, sep: str = "/") -> str:
    """root joined with a forward-slash relative path, using sep."""
    if not rel:
        return root
    return root.rstrip("/\\") + sep + rel.replace("/", sep)


def arg_text(arg: Arg) -> str:
    """An argument for people: backup paths shown as <backup>/rel, a secret value as <redacted>."""
    return resolve_arg(arg, "<backup>", secret=lambda _: REDACTED)


def secret_files(args: Iterable[Arg]) -> tuple[str, ...]:
    """The secret-values files these arguments read, once each, in order."""
    return tuple(dict.fromkeys(a.file for a in args if isinstance(a, SecretValue)))
