"""The PowerShell migration runbook: the plan's program rendered as data for the interpreter in runbook_lib.ps1.

The text is the generated header (help, parameters, plan constants), the static library runbook_lib.ps1 (what a
Windows admin reviews: one function per host action and the step runner), the program (one hashtable per step,
the rollback steps, what each engine must be), and a call of Invoke-Runbook. The planner computed everything; the
library only carries it out and checks it (docs/runbook.md). Every value is written through powershell_string_expr
and every docker command line is pre-encoded here by encode_command_line, so the runbook never builds code or
quoting from data.

Line endings are CRLF. The runbook is read, signed (Set-AuthenticodeSignature) and edited on Windows, and CRLF is
what Notepad, the ISE and signing tools expect. Text values never contain a raw line break (powershell_string_expr
writes control characters as [char] casts). Callers must write the text unchanged (`.encode("ascii")`).
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from migrate.plan.gcpause import gc_paused
from migrate.plan.layout import BACKUP_LAYOUT
from migrate.emit.cmdline import encode_arg, encode_command_line, powershell_string_expr
from migrate.errors import PlanError
from migrate.plan.actions import (
    SECRET_VALUES_FORMAT,
    SETTINGS_BACKUP_FORMAT,
    SOURCE_ENGINES,
    ProgramRun,
    RunsProgram,
    SecretRef,
    WriteEnvFile,
    WriteSecretValues,
)
from migrate.plan.checks import CONTAINERD_SNAPSHOTTER, Check
from migrate.plan.redact import LONG, display
from migrate.plan.steps import (
    ARTIFACT_FORMAT,
    DESKTOP,
    JOURNAL_FORMAT,
    ENGINE_CHANGING,
    ENGINES,
    ENTRY_KEYS,
    PHASES,
    SELF_PROVING,
    GATED_PHASES,
    TIMEOUTS,
    Arg,
    BackupPath,
    Docker,
    Program,
    SecretValue,
    Step,
)

DEFAULT_ENGINE = "npipe:////./pipe/docker_engine"
DEFAULT_HYPERV_ENGINE = "npipe:////./pipe/dockerDesktopLinuxEngine"
"""Docker Desktop's Linux engine (the desktop-linux context): the -HyperVEngine default when the plan names none."""
ENGINE_PARAMETERS = {"source": "SourceEngine", "target": "TargetEngine", "hyperv": "HyperVEngine"}
"""The runbook parameter that gives each engine's URL (the library validates the URL of each engine the program
expects: $script:EngineParameters)."""
RESUME_ARGUMENTS = ("-NoProfile -ExecutionPolicy Bypass -File {0} -Resume -FromTask -BackupPath {1} -DockerPath {2} "
                    "-EngineTimeoutSeconds {3} -SourceEngine {4} -TargetEngine {5}")
"""The resume task's command line, which the runbook fills in (-f) with the run's values: {0} its copy of the runbook,
{1} the backup folder, {2} docker (each quoted by ConvertTo-QuotedArgument), {3} the engine wait, {4} {5} and, when
the plan has that engine, -HyperVEngine {6} the engine URLs (checked by Invoke-Runbook)."""
TASK_FOLDER = "%ProgramData%\\wsl2-migrate"
"""Where the resume task's copy of the runbook lives (Resolve-HostPath expands it)."""
MUTEX_NAME = "Global\\wsl2-migrate-runbook"
"""A named mutex for the whole machine: two runs of one plan never write one journal at once."""
_ID = re.compile(r"^[a-z0-9][a-z0-9._/-]*$")
_HASH = re.compile(r"^[0-9a-f]{64}$")
_HELP_SAFE = re.compile(r"^[0-9A-Za-z._+-]{1,64}$")
_RULE = "# " + "-" * 111
"""The section divider of the library, repeated in the generated part."""

PROBES: dict[str, tuple[str, ...]] = {
    "Info": ("info", "--format", "{{json .}}"),
    "DesktopStop": ("desktop", "stop"),
}
"""Fixed docker commands the library runs: an engine's identity, and Docker Desktop's own stop (4.37 and later)."""


@dataclass(frozen=True)
class RunbookMeta:
    """What the runbook needs besides the program."""

    plan_hash: str
    """sha256 of plan.toml bytes (64 lower-case hex digits)."""
    tool_version: str
    backup_path: str
    """Default for -BackupPath (a Windows path from the plan: data, validated by the runbook at run time)."""
    source_backend: str
    """'hyperv' | 'lcow' | ..."""
    problems: tuple[str, ...] = ()
    """What validate's offline checks found, when the runbook was written anyway (--force): shown in the header."""
    estimate: str = ""
    """The plan's estimate in one line (sizes and time), shown in the header as the assessment states it."""
    hyperv_engine: str = ""
    """The LCOW host's second source engine's URL (the plan's [hyperv] url): the -HyperVEngine default."""


@gc_paused
def render_runbook(program: Program, meta: RunbookMeta) -> str:
    """The runbook for a program: ASCII-only, CRLF line endings; the same program and meta give the same text."""
    _check(program, meta)
    _TEXTS.clear()
    _TEXTS.update(_shared_texts(program))
    try:
        lines = (_header(program.steps, meta) + _preamble(program, meta) + _library() + _program(program) + _main())
    finally:
        _TEXTS.clear()
    lines.append("")  # the text ends with a line break
    text = "\r\n".join(lines)
    if not text.isascii():  # every value went through powershell_string_expr; a slip fails here, not on Windows
        text.encode("ascii")
    return text


def _check(program: Program, meta: RunbookMeta) -> None:
    """What only the runbook needs of a program (the step model checked the rest when it was built)."""
    if not program.steps:
        raise PlanError("a runbook needs at least one step")
    if not _HASH.match(meta.plan_hash):
        raise PlanError(f"plan hash {meta.plan_hash!r}: expected 64 lower-case hex digits")
    if not set(program.engines) <= set(ENGINES):
        # The names are written as bare hashtable keys: anything else could be code.
        raise PlanError(f"engine names {sorted(program.engines)!r}: expected {' and '.join(ENGINES)}")
    # The runbook reaches only the engines the program says what they must be (their URLs are the ones it checks).
    unknown = sorted({s.engine for s in (*program.steps, *program.rollback)} - set(program.engines) - {""})
    if unknown or not {"source", "target"} <= set(program.engines):
        raise PlanError(f"the program expects nothing of the engines {unknown or ['source', 'target']!r}")
    seen: set[str] = set()
    for step in (*program.steps, *program.rollback):
        if not _ID.match(step.id) or "//" in step.id or step.id in seen:
            raise PlanError(f"step id {step.id!r}: expected unique [a-z0-9._/-]")
        seen.add(step.id)
        codes = step.docker.ok_exit_codes if step.docker else ()
        if not all(type(c) is int and -2 ** 31 <= c < 2 ** 31 for c in codes):
            # Written as bare numbers, compared with .NET's Int32 Process.ExitCode.
            raise PlanError(f"step {step.id}: exit codes {codes!r} must be whole numbers (Int32)")


# ---------------------------------------------------------------------------------------------------------------
# values


def _ps(text: str) -> str:
    """A plan value as PowerShell expression text."""
    if text.isascii() and text.isprintable():
        # Printable ASCII (most values) is one literal, and of the five single quotes only ' is ASCII: the same
        # text powershell_string_expr writes, without its character-by-character scan. (Most values are unique,
        # ids and command lines: a cache would only cost.)
        return "'" + text.replace("'", "''") + "'"
    return powershell_string_expr(text)


def _list(items: Sequence[str]) -> str:
    """@('a', 'b') of plan strings."""
    return "@(" + ", ".join([_ps(i) for i in items]) + ")" if items else "@()"


def _bool(value: bool) -> str:
    return "$true" if value else "$false"


_TEXTS: dict[str, str] = {}
"""While a runbook is rendered: long arguments several steps share (the digest script) -> the name of the one copy
in $script:Texts (render_runbook fills it; a step's command line refers to it as @{ Text = 'T1' })."""


def _segment(seg: str | BackupPath | SecretValue) -> str:
    """One segment: a literal, @{ Backup = 'rel' }, or @{ Secret = 'rel'; Index = n; Prefix = 'KEY=' } (a whole
    argument the library reads from a secret-values file and quotes when the step runs)."""
    if isinstance(seg, BackupPath):
        return "@{ Backup = " + _ps(seg.rel) + " }"
    if isinstance(seg, SecretValue):
        return f"@{{ Secret = {_ps(seg.file)}; Index = {seg.index}; Prefix = {_ps(seg.prefix)} }}"
    return _ps(seg)


def _segments(args: Sequence[Arg]) -> str:
    """A docker command line as @(literal, @{ Backup = 'rel' }, @{ Secret = ... }, @{ Text = 'T1' }, ...)
    segments: adjacent literal text joined into one, empty literals left out."""
    for a in args:
        if type(a) is not str or a in _TEXTS:
            break
    else:
        # Literal arguments only (most commands): one segment, the arguments encoded and joined by spaces.
        return "@(" + _ps(" ".join([encode_arg(a) for a in args])) + ")" if args else "@()"
    out: list[str] = []
    literal: list[str] = []

    def flush() -> None:
        text = "".join(literal)
        if text:
            out.append(_ps(text))
        literal.clear()

    for i, arg in enumerate(args):
        if i:
            literal.append(" ")
        if type(arg) is str:
            name = _TEXTS.get(arg)
            if name is None:
                literal.append(encode_arg(arg))
            else:
                flush()
                out.append("@{ Text = " + _ps(name) + " }")
            continue
        for seg in encode_command_line((arg,)):
            if isinstance(seg, str):
                literal.append(seg)
            else:
                flush()
                out.append(_segment(seg))
    flush()
    return "@(" + ", ".join(out) + ")"


def _shared_texts(program: Program) -> dict[str, str]:
    """Long literal arguments used by two or more commands, named T1, T2... in order of first use."""
    seen: dict[str, int] = {}
    for step in (*program.steps, *program.rollback):
        if step.docker is not None:
            for cmd in (step.docker.argv, *step.docker.recover, *step.docker.cleanup, *step.docker.require_absent):
                for a in cmd:
                    if isinstance(a, str) and len(a) > LONG:
                        seen[a] = seen.get(a, 0) + 1
    names: dict[str, str] = {}
    for text, count in seen.items():
        if count > 1:
            names[text] = f"T{len(names) + 1}"
    return names


_KEYS: dict[type, tuple[tuple[str, str], ...]] = {}


def _keys(cls: type) -> tuple[tuple[str, str], ...]:
    """(field name, hashtable key) of a dataclass: snake_case fields as PascalCase keys (worked out once a class)."""
    keys = _KEYS.get(cls)
    if keys is None:
        keys = _KEYS[cls] = tuple((f.name, "".join(p[:1].upper() + p[1:] for p in f.name.split("_")))
                                  for f in dataclasses.fields(cls))
    return keys


def _extra(value: Any) -> dict[str, str]:
    """Pre-encoded command lines added to the parameters of some values (the library never builds one)."""
    if isinstance(value, Check):
        return {"CommandLine": _segments(value.argv)}
    if isinstance(value, (WriteEnvFile, WriteSecretValues)):
        # One PowerShell function serves both: the object, what its values may not hold, the file's format.
        added = {"Inspect": _segments(value.inspect_argv()), "Display": _ps(value.inspect_display),
                 "Subject": _ps(value.subject),
                 "Unsafe": _ps(value.UNSAFE[0]), "UnsafeWhy": _ps(value.UNSAFE[1]),
                 "FileFormat": _ps(value.FILE_FORMAT)}
        if isinstance(value, WriteEnvFile):
            added["Entries"] = _value(value.entries)
        return added
    if isinstance(value, SecretRef):
        return {"What": _ps(value.what)}
    if isinstance(value, RunsProgram):
        return {"Run": _value(value.run)}
    if isinstance(value, ProgramRun):
        return {"Arguments": _encoded(value.argv)}
    return {}


_CHECK_KEYS = (("what", "What"), ("argv", "Argv"), ("expect", "Expect"), ("mode", "Mode"),
               ("recorded_from", "RecordedFrom"), ("c8d_fields", "C8dFields"))
if _keys(Check) != _CHECK_KEYS:  # _value writes a Check field by field: a new field must be added there too
    raise ImportError(f"migrate.emit.runbook writes a Check as {_CHECK_KEYS}, the class has {_keys(Check)}")


def _encoded(args: Sequence[str]) -> str:
    """A program's whole command line (no backup paths), encoded now, as a PowerShell string."""
    return _ps("".join(str(s) for s in encode_command_line(args)))


def _value(value: Any) -> str:
    """Any parameter value as PowerShell: dataclasses as hashtables (PascalCase keys), tuples as arrays."""
    if value is None:
        return "$null"
    if isinstance(value, bool):
        return _bool(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _ps(value)
    if type(value) is Check:
        # Every docker step has checks: written directly, as the general case below writes a dataclass (the
        # fields in order, then the command line _extra adds).
        return (f"@{{ What = {_ps(value.what)}; Argv = {_list(value.argv)}; Expect = {_ps(value.expect)}; "
                f"Mode = {_ps(value.mode)}; RecordedFrom = {_ps(value.recorded_from)}; "
                f"C8dFields = @({', '.join([str(i) for i in value.c8d_fields])}); "
                f"CommandLine = {_segments(value.argv)} }}")
    if isinstance(value, (tuple, list)):
        return "@(" + ", ".join(_value(v) for v in value) + ")"
    if dataclasses.is_dataclass(value):
        entries = {key: _value(getattr(value, name)) for name, key in _keys(type(value))}
        entries.update(_extra(value))
        return "@{ " + "; ".join(f"{k} = {v}" for k, v in entries.items()) + " }" if entries else "@{}"
    raise PlanError(f"cannot write a {type(value).__name__} into the runbook")


# ---------------------------------------------------------------------------------------------------------------
# text pieces


def _header(steps: Sequence[Step], meta: RunbookMeta) -> list[str]:
    """#Requires, comment-based help and the param block."""
    backend = meta.source_backend if _HELP_SAFE.match(meta.source_backend) else "legacy"
    version = meta.tool_version if _HELP_SAFE.match(meta.tool_version) else "(see $script:ToolVersion)"
    phases = [p for p in PHASES if any(s.phase == p for s in steps)]
    first_restore = next((s.id for s in steps if s.phase == "restore"), steps[-1].id)
    lines = [
        "#Requires -Version 5.1",
        "<#",
        ".SYNOPSIS",
        f"    Moves Docker Desktop from its {backend} backend to WSL 2: {len(steps)} steps, generated by wsl2-migrate.",
        "",
        ".DESCRIPTION",
        f"    Plan sha256: {meta.plan_hash}",
        f"    Generated by wsl2-migrate {version}. Review it, run it with -WhatIf, then run it elevated.",
        "",
        "    Phases: " + ", ".join(phases) + ".",
        "    Each step is one entry of $script:Steps below: a docker command or a host action with its",
        "    parameters, all computed by the planner. A step that changes anything asks ShouldProcess first, so",
        "    -WhatIf shows every change without making it, while read-only probes still run. Progress is kept in",
        "    journal.json in the backup folder: a second run skips what is done. The switch and restore phases",
        "    refuse to start until the backups have been verified. Nothing here deletes the old backend's disk or",
        "    the backups. -Rollback goes back to the old backend, and then no resume is possible.",
    ]
    if meta.estimate:
        lines += ["", f"    Estimate: {_comment_safe(meta.estimate)}"]
    if meta.problems:
        lines += ["", "    WRITTEN WITH --force: wsl2-migrate validate found these problems in the plan:"]
        lines += [f"      - {_comment_safe(p)}" for p in meta.problems]
    lines += ["", "    Steps:"]
    lines += [f"        {i:>3} {s.id}" for i, s in enumerate(steps, 1)]
    lines += [
        "",
        ".PARAMETER BackupPath",
        "    Folder for backups, journal, logs and transcripts (default: the one in the plan). Full path.",
        ".PARAMETER ResumeFrom",
        "    Start at this step; earlier steps are not run (their results stay as in the journal).",
        ".PARAMETER Phase",
        "    Run only the steps of this phase.",
        ".PARAMETER Resume",
        "    Continue from the journal (what the logon task passes after a restart); done steps are skipped.",
        ".PARAMETER Force",
        "    Do not ask for confirmation (-WhatIf still wins).",
        ".PARAMETER Rollback",
        "    Go back to the old backend: settings restored, Docker Desktop restarted on it, the stopped containers",
        "    started again, the resume task removed. A rolled-back run never resumes.",
        ".PARAMETER SourceEngine",
        "    Engine URL of the old backend (default: the pipe that follows Docker Desktop's active engine).",
        ".PARAMETER TargetEngine",
        "    Engine URL of the WSL 2 engine after the switch.",
        ".PARAMETER HyperVEngine",
        "    Engine URL of Docker Desktop's Linux engine in the Hyper-V VM (an LCOW host's second source engine;",
        "    unused when the plan has none).",
        ".PARAMETER DockerPath",
        "    The docker CLI (name on PATH or full path).",
        ".PARAMETER EngineTimeoutSeconds",
        "    How long to wait for an engine after starting Docker Desktop.",
        ".PARAMETER FromTask",
        "    Set by the logon task that resumes the run after a restart: the window waits for Enter before closing.",
        ".EXAMPLE",
        "    .\\migrate.ps1 -WhatIf",
        "    Dry run: read-only probes run, every change is listed as What if.",
        ".EXAMPLE",
        "    .\\migrate.ps1 -Verbose",
        "    Real run, elevated; each docker command line is logged (secrets redacted).",
        ".EXAMPLE",
        "    .\\migrate.ps1 -Resume",
        "    Continue after a failure or a restart.",
        ".EXAMPLE",
        "    .\\migrate.ps1 -Phase backup",
        "    Run one phase only.",
        ".EXAMPLE",
        f"    .\\migrate.ps1 -ResumeFrom {first_restore}",
        "    Start again at one step.",
        ".EXAMPLE",
        "    .\\migrate.ps1 -Rollback",
        "    Go back to the old backend.",
        "#>",
        "[CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'Medium')]",
        "param(",
        f"    [ValidateNotNullOrEmpty()] [string]$BackupPath = {_ps(meta.backup_path)},",
        "    [ValidateSet(",
    ]
    lines += [f"        {_ps(s.id)}," for s in steps[:-1]] + [f"        {_ps(steps[-1].id)}", "    )]"]
    lines += [
        "    [string]$ResumeFrom = '',",
        "    [ValidateSet(" + ", ".join(_ps(p) for p in PHASES) + ")]",
        "    [string]$Phase = '',",
        "    [switch]$Resume,",
        "    [switch]$Force,",
        "    [switch]$Rollback,",
        f"    [string]$SourceEngine = {_ps(DEFAULT_ENGINE)},",
        f"    [string]$TargetEngine = {_ps(DEFAULT_ENGINE)},",
        f"    [string]$HyperVEngine = {_ps(meta.hyperv_engine or DEFAULT_HYPERV_ENGINE)},",
        "    [string]$DockerPath = 'docker',",
        "    [ValidateRange(10, 86400)] [int]$EngineTimeoutSeconds = 300,",
        "    [switch]$FromTask",
        ")",
        "",
    ]
    return lines


def _comment_safe(text: str) -> str:
    """Text for a comment line: printable ASCII only, no block-comment terminator."""
    clean = "".join(ch if " " <= ch <= "~" else "?" for ch in text)
    return clean.replace("#>", "# >")


def _preamble(program: Program, meta: RunbookMeta) -> list[str]:
    """Strictness, -Force, and the plan constants the library reads."""
    engines = "; ".join(f"{name} = {_value(program.engines[name])}" for name in sorted(program.engines))
    task = "wsl2-migrate-resume-" + meta.plan_hash[:12]
    copy = TASK_FOLDER + "\\" + task + ".ps1"
    probes = "; ".join(f"{k} = {_segments(v)}" for k, v in PROBES.items())
    return [
        "Set-StrictMode -Version 3.0",
        "$ErrorActionPreference = 'Stop'",
        "# 7.4+ would throw on a non-zero exit code; Invoke-NativeProcess checks exit codes itself.",
        "$PSNativeCommandUseErrorActionPreference = $false",
        "# Under an AppLocker or WDAC policy an unsigned script runs in ConstrainedLanguage, where its first .NET call",
        "# would fail with a message about types: say what is wrong instead.",
        "if ($ExecutionContext.SessionState.LanguageMode -ne 'FullLanguage') {",
        "    # Started by the logon task (after a restart), its window would close before anyone read why.",
        "    if ($FromTask) { [void](Read-Host -Prompt ('wsl2-migrate: this PowerShell runs in ' + "
        "$ExecutionContext.SessionState.LanguageMode + ' mode; press Enter to close')) }",
        "    throw ('PowerShell runs in ' + $ExecutionContext.SessionState.LanguageMode + ' mode here (an AppLocker or "
        "WDAC policy): the runbook needs FullLanguage. Sign it with a certificate the policy trusts, or run it where "
        "the policy allows scripts')",
        "}",
        "if ($Force -and -not $PSBoundParameters.ContainsKey('Confirm')) {",
        "    $ConfirmPreference = 'None'",
        "}",
        "",
        f"$script:PlanHash = {_ps(meta.plan_hash)}",
        f"$script:ToolVersion = {_ps(meta.tool_version)}",
        f"$script:SourceBackend = {_ps(meta.source_backend)}",
        f"$script:ResumeTaskName = {_ps(task)}",
        f"$script:DesktopTaskName = {_ps(task + '-start-desktop')}",
        "# The copy of this runbook the resume task runs (where only Administrators and SYSTEM may change it).",
        f"$script:ResumeTaskCopy = {_ps(copy)}",
        "$script:ResumeArguments = " + _ps(RESUME_ARGUMENTS + (" -HyperVEngine {6}" if "hyperv" in program.engines
                                                               else "")),
        "$script:MutexName = " + _ps(MUTEX_NAME),
        "$script:EngineExpect = @{ " + engines + " }",
        "$script:SourceEngines = " + _list(SOURCE_ENGINES),
        "$script:EngineParameters = @{ " + "; ".join(f"{k} = {_ps(v)}" for k, v in ENGINE_PARAMETERS.items()) + " }",
        "$script:SelfProving = " + _list(SELF_PROVING),
        "$script:GatedPhases = " + _list(GATED_PHASES),
        "$script:EngineChanging = " + _list(ENGINE_CHANGING),
        f"$script:ContainerdDriverType = {_ps(CONTAINERD_SNAPSHOTTER)}",
        "$script:Probes = @{ " + probes + " }",
        "$script:Desktop = @{ " + "; ".join(f"{k} = {_ps(v) if isinstance(v, str) else _list(v)}"
                                            for k, v in DESKTOP.items()) + " }",
        f"$script:Formats = @{{ Journal = {_ps(JOURNAL_FORMAT)}; Artifacts = {_ps(ARTIFACT_FORMAT)}; "
        f"SecretValues = {_ps(SECRET_VALUES_FORMAT)}; SettingsBackup = {_ps(SETTINGS_BACKUP_FORMAT)} }}",
        "$script:Timeouts = @{ " + "; ".join(f"{k} = {v}" for k, v in sorted(TIMEOUTS.items())) + " }",
        "$script:EntryKeys = @{ " + "; ".join(f"{k} = {_list(v)}" for k, v in ENTRY_KEYS.items()) + " }",
        "$script:Layout = @{ " + "; ".join(f"{k} = {_ps(v)}" for k, v in BACKUP_LAYOUT.items()) + " }",
        "# Long arguments several steps share, each written once (a step's command line names it: @{ Text = 'T1' }).",
        "$script:Texts = @{",
        *(f"    {name} = {_ps(encode_arg(text))}" for text, name in _TEXTS.items()),
        "}",
        "",
    ]


def _library() -> list[str]:
    """runbook_lib.ps1 as shipped in the package."""
    text = resources.files("migrate.emit").joinpath("runbook_lib.ps1").read_text(encoding="ascii")
    return text.replace("\r\n", "\n").rstrip("\n").split("\n") + [""]


def _main() -> list[str]:
    """The call that runs everything."""
    return [
        _RULE,
        "# Run",
        "",
        "$runbookOptions = @{",
        "    BackupPath           = $BackupPath",
        "    ResumeFrom           = $ResumeFrom",
        "    Phase                = $Phase",
        "    Resume               = [bool]$Resume",
        "    Force                = [bool]$Force",
        "    Rollback             = [bool]$Rollback",
        "    SourceEngine         = $SourceEngine",
        "    TargetEngine         = $TargetEngine",
        "    HyperVEngine         = $HyperVEngine",
        "    DockerPath           = $DockerPath",
        "    EngineTimeoutSeconds = $EngineTimeoutSeconds",
        "    FromTask             = [bool]$FromTask",
        "    ScriptPath           = $PSCommandPath",
        "}",
        "Invoke-Runbook -Options $runbookOptions",
        "if ($script:StopRequested) {",
        "    # Deployment tools (Intune, Configuration Manager) read 3010 as: so far so good, restart the machine.",
        "    exit 3010",
        "}",
    ]


# ---------------------------------------------------------------------------------------------------------------
# the program


def _program(program: Program) -> list[str]:
    """$script:Steps and $script:RollbackSteps: one hashtable per step, in run order (each several lines joined by
    CRLF already: one string per step is cheaper for 100,000 steps than one per line)."""
    total = len(program.steps)
    lines = [_RULE, "# The program of this plan (data only: the functions above run it)", "", "$script:Steps = @("]
    lines += [_step_text(index, total, step) for index, step in enumerate(program.steps, 1)]
    gate = program.backup_gate
    lines += [")", "# The verify-backups step the switch and restore phases wait for.",
              f"$script:BackupGate = {'$null' if gate is None else f'$script:Steps[{gate}]'}",
              "", "$script:RollbackSteps = @("]
    total = len(program.rollback)
    lines += [_step_text(index, total, step) for index, step in enumerate(program.rollback, 1)]
    lines += [")", ""]
    return lines


def _step_text(index: int, total: int, step: Step) -> str:
    """The hashtable of one step, its lines joined by CRLF."""
    produces = "".join(f"\r\n            @{{ Path = {_ps(art.path)}; Kind = {_ps(art.kind)}; Subject = "
                       f"{_ps(art.subject)}; Secret = {_bool(art.secret)} }}" for art in step.produces)
    op = step.op
    if isinstance(op, Docker):
        body = _docker_text(op) + "\r\n        Params        = $null"
    else:
        body = f"        Docker        = $null\r\n        Params        = {_value(op)}"
    return (
        f"    # {index}/{total} {step.id}\r\n"
        "    @{\r\n"
        f"        Index         = {index}\r\n"
        f"        Id            = {_ps(step.id)}\r\n"
        f"        Phase         = {_ps(step.phase)}\r\n"
        f"        Title         = {_ps(step.title)}\r\n"
        f"        Target        = {_ps(step.target or step.id)}\r\n"
        f"        Kind          = {_ps(step.action or 'docker')}\r\n"
        f"        Engine        = {_ps(step.engine)}\r\n"
        f"        Mutating      = {_bool(step.mutating)}\r\n"
        f"        OnlyIfStarted = {_ps(step.only_if_started)}\r\n"
        f"        DependsOn     = {_list(step.depends_on)}\r\n"
        f"        Findings      = {_list(step.findings)}\r\n"
        f"        Consumes      = {_list(step.consumes)}\r\n"
        f"        Produces      = @({produces}\r\n"
        "        )\r\n"
        f"{body}\r\n"
        "    }"
    )


def _commands(cmds: tuple[tuple[Any, ...], ...]) -> str:
    """Recover, clean-up or absent commands: each pre-encoded, with its redacted display."""
    if not cmds:
        return "@()"
    return "@(" + ", ".join("@{ CommandLine = " + _segments(cmd) + "; Display = " + _ps(display(cmd)) + " }"
                            for cmd in cmds) + ")"


def _docker_text(op: Docker) -> str:
    """The Docker hashtable of a docker step, its lines joined by CRLF."""
    return (
        "        Docker        = @{\r\n"
        f"            CommandLine  = {_segments(op.argv)}\r\n"
        f"            Display      = {_ps(op.display)}\r\n"
        f"            Timeout      = {op.timeout}\r\n"
        "            OkExitCodes  = @(" + ", ".join(str(c) for c in op.ok_exit_codes) + ")\r\n"
        f"            WorkDir      = {_ps(op.workdir)}\r\n"
        f"            Recover      = {_commands(op.recover)}\r\n"
        f"            Cleanup      = {_commands(op.cleanup)}\r\n"
        f"            Absent       = {_commands(op.require_absent)}\r\n"
        f"            ExpectOutput = {_ps(op.expect_output)}\r\n"
        f"            RecordOutput = {_bool(op.record_output)}\r\n"
        f"            Progress     = {_ps(op.progress)}\r\n"
        f"            Checks       = {_value(op.checks)}\r\n"
        "        }"
    )
