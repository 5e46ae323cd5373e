"""The PowerShell migration runbook: the step list rendered as one reviewable, resumable .ps1 (runbook-style §9).

The text is the generated header (help, parameters, plan constants), the static library runbook_lib.ps1 (what a
Windows admin reviews), one hashtable per step, and a call of Invoke-Runbook. Every value that comes from the plan
is written through powershell_string_expr, and every docker command line is pre-encoded here by
encode_command_line, so the runbook itself never builds code or quoting from data.

Line endings are CRLF. The runbook is read, signed (Set-AuthenticodeSignature) and edited on Windows, and CRLF is
what Notepad, the ISE and signing tools expect; the hash of the file is then the same whatever git's autocrlf
does on the admin's machine. Text values never contain a raw line break (powershell_string_expr writes control
characters as [char] casts), so the line ending is not part of any value. Callers must write the text unchanged:
`path.write_bytes(text.encode("ascii"))` (a text-mode write on Windows would turn CRLF into CR CR LF).

Host action parameters (Step.params), as the runbook reads them; keys not listed here are refused:

| action | key | type | meaning |
| --- | --- | --- | --- |
| check-host | backup_bytes | int | bytes the backups need on the backup drive (0: no check) |
|  | manual | list[str] | things to do by hand; each is shown as a warning |
|  | min_windows_build | int | oldest Windows build accepted (default 18362) |
| prepare-backup-folder | folders | list[str] | sub-folders to create ('/'-separated), after secrets/ is locked |
|  | secret | str | the secrets folder: must be 'secrets' (created fresh, user + SYSTEM only) |
| write-env-file | container | str (required) | id or name on the source engine |
|  | path | str (required) | env file, relative, under secrets/ (also in Step.produces) |
|  | names | list[str] | only these entries are written (omit: all of Config.Env) |
|  | skip | list[str] | entries never written (what the planner cannot carry) |
| verify-backups | - |  | re-hashes the artifacts of every earlier step |
| stop-desktop | timeout_seconds | int | wait for the processes to end (default 120) |
|  | shutdown_wsl | bool | also run `wsl --shutdown` (default false) |
| backup-file | files | list (required) | of desktop-settings, daemon-linux, daemon-windows, |
|  |  |  | wslconfig, admin-settings; copies go to settings/, listed |
|  |  |  | in the first produced artifact (settings/manifest.json) |
| enable-feature | name | str (required) | Windows optional feature name |
| reboot | - |  | only acts when an enable-feature step needs a restart |
| set-desktop-setting | values | dict (required) | key -> JSON value in the live settings file |
|  | linux_containers | bool | also set useWindowsContainers to false |
|  | file | str | settings-store.json or settings.json (default: the live one) |
| edit-daemon-config | remove | list[str] | top-level keys removed (matched case-sensitively, as dockerd does) |
|  | set | dict | key -> str, number, bool or list[str]: each top-level key set to exactly |
|  |  |  | that value (a key differing only in case is replaced); engine linux only; |
|  |  |  | the file is created as {} first when it does not exist |
|  | engine | str | windows (default: ProgramData and windows-daemon.json) or |
|  |  |  | linux (%UserProfile%\\.docker\\daemon.json) |
|  |  |  | remove and set: at least one, naming at least one key between them, |
|  |  |  | no key in both; every other key is kept (runbook-style 7 procedure) |
| write-wslconfig | values | dict (required) | key -> str/int/bool merged into [wsl2] |
| start-desktop | linux_containers | bool | accepted; the switch itself is set-desktop-setting's |
|  | path | str | Docker Desktop.exe (default: under %ProgramFiles%) |
| wait-engine | os_type | str | expected Server.Os (default linux) |
|  | kernel_contains | str | expected in the kernel version (default microsoft-standard, |
|  |  |  | the WSL 2 kernel; '' accepts any) |
|  | timeout_seconds | int | default: the runbook's -EngineTimeoutSeconds |
|  | registry_mirrors | list[str] | once the engine answers: each must be in docker info |
|  |  |  | RegistryConfig.Mirrors (one trailing '/' ignored on both sides) |
|  | insecure_registries | list[str] | each must be in RegistryConfig.InsecureRegistryCIDRs (a CIDR, |
|  |  |  | compared as a network) or a key of IndexConfigs with Secure false |
|  |  |  | (host[:port]; a leading http:// or https:// is dropped, as dockerd |
|  |  |  | does); the step fails naming each missing entry |
| verify-target | helper | str | accepted and unused (plans before volume digests named the re-tar image) |
| finish | - |  | removes the resume task, writes summary.json |

Engines: check-host probes the source engine; write-env-file defaults to source, wait-engine and verify-target to
target (Step.engine wins when set).

Manifest equality (verify-target; `wsl2-migrate verify` must agree):
- images: every manifest id exists on the target (`docker image ls --all --no-trunc`), and each of its tags
  resolves to exactly that id; other images and tags on the target are allowed.
- networks: a network of that name exists with the same driver (case-sensitive); when the manifest lists subnets,
  the target's IPAM subnets are the same set; an empty list is not checked (addresses assigned by the engine).
- volumes: the plan's docker steps write the volume digest (the definition `wsl2-migrate verify` uses, run in a
  helper container) into backup_digest on the source before the switch and into target_digest on the target after
  the restore (relative backup-folder paths, such as volumes/<name>.digest and verify/<name>.digest). Each file
  holds `sha256:<64 hex> <entries>`; line endings and trailing whitespace do not matter. Equal iff both files
  exist and their first whitespace-separated tokens are identical and well-formed (`sha256:` and 64 lower-case
  hex digits); a missing file fails naming the volume and the file (under -WhatIf it is reported as would-run).
- containers: a container of that name exists, its image id equals image_id, and it is running iff running.
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from migrate.emit.cmdline import encode_command_line, powershell_string_expr
from migrate.plan.steps import PHASES, Arg, BackupPath, Step

DEFAULT_ENGINE = "npipe:////./pipe/docker_engine"
GATED_PHASES = ("switch", "restore")
"""Phases that refuse to run until verify-backups has passed (checked from the journal)."""

SETTINGS_SETS = ("desktop-settings", "daemon-linux", "daemon-windows", "wslconfig", "admin-settings")

_ID = re.compile(r"^[a-z0-9][a-z0-9._/-]*$")
_HASH = re.compile(r"^[0-9a-f]{64}$")
_HELP_SAFE = re.compile(r"^[0-9A-Za-z._+-]{1,64}$")

_PARAMS: dict[str, dict[str, tuple[type, bool]]] = {
    "check-host": {"backup_bytes": (int, False), "manual": (list, False), "min_windows_build": (int, False)},
    "prepare-backup-folder": {"folders": (list, False), "secret": (str, False)},
    "write-env-file": {"container": (str, True), "path": (str, True), "names": (list, False), "skip": (list, False)},
    "verify-backups": {},
    "stop-desktop": {"timeout_seconds": (int, False), "shutdown_wsl": (bool, False)},
    "backup-file": {"files": (list, True)},
    "enable-feature": {"name": (str, True)},
    "reboot": {},
    "set-desktop-setting": {"values": (dict, True), "linux_containers": (bool, False), "file": (str, False)},
    "edit-daemon-config": {"remove": (list, False), "set": (dict, False), "engine": (str, False)},
    "write-wslconfig": {"values": (dict, True)},
    "start-desktop": {"linux_containers": (bool, False), "path": (str, False)},
    "wait-engine": {"os_type": (str, False), "kernel_contains": (str, False), "timeout_seconds": (int, False),
                    "registry_mirrors": (list, False), "insecure_registries": (list, False)},
    "verify-target": {"helper": (str, False)},
    "finish": {},
}
"""action -> key -> (type, required): the table above, enforced."""

_RULE = "# " + "-" * 111
"""The section divider of the library, repeated in the generated part."""

_DEFAULT_ENGINE_OF = {"check-host": "source", "write-env-file": "source", "wait-engine": "target",
                      "verify-target": "target"}

_PROBE_OS = ("version", "--format", "{{.Server.Os}}")
_PROBE_OS_KERNEL = ("version", "--format", "{{.Server.Os}}/{{.Server.KernelVersion}}")
_PROBE_REGISTRY = ("info", "--format", "{{json .RegistryConfig}}")
_IMAGE_LIST = ("image", "ls", "--all", "--no-trunc", "--format", "{{.ID}}|{{.Repository}}:{{.Tag}}")
_NETWORK_FORMAT = "{{.Driver}}|{{range .IPAM.Config}}{{.Subnet}},{{end}}"
_CONTAINER_FORMAT = "{{.Image}}|{{.State.Running}}"


@dataclass(frozen=True)
class RunbookMeta:
    """What the runbook needs besides the steps."""

    plan_hash: str
    """sha256 of plan.toml bytes (64 lower-case hex digits)."""
    tool_version: str
    backup_path: str
    """Default for -BackupPath (a Windows path from the plan: data, validated by the runbook at run time)."""
    source_backend: str
    """'hyperv' | 'lcow' | ..."""
    manifest: dict
    """Expected final state: images, networks, volumes, containers (see the module docstring)."""


def render_runbook(steps: Sequence[Step], meta: RunbookMeta) -> str:
    """The runbook for steps: ASCII-only, CRLF line endings; the same steps and meta give the same text."""
    _check(steps, meta)
    lines = _header(steps, meta) + _preamble(steps, meta) + _library() + _step_table(steps, meta) + _main()
    text = "\r\n".join(lines) + "\r\n"
    text.encode("ascii")  # every value went through powershell_string_expr; a slip fails here, not on Windows
    return text


# ---------------------------------------------------------------------------------------------------------------
# checks


def _check(steps: Sequence[Step], meta: RunbookMeta) -> None:
    """Refuse input the runbook could not run safely (ValueError naming the step)."""
    if not steps:
        raise ValueError("a runbook needs at least one step")
    if not _HASH.match(meta.plan_hash):
        raise ValueError(f"plan hash {meta.plan_hash!r}: expected 64 lower-case hex digits")
    seen: set[str] = set()
    artifacts: set[str] = set()
    verify_seen = False
    for step in steps:
        if not _ID.match(step.id) or "//" in step.id:
            raise ValueError(f"step id {step.id!r}: expected [a-z0-9._/-]")
        if step.id in seen:
            raise ValueError(f"duplicate step id {step.id}")
        for dep in step.depends_on:
            if dep not in seen:
                raise ValueError(f"step {step.id} depends on {dep}, which is not before it")
        seen.add(step.id)
        if step.phase in GATED_PHASES and not verify_seen:
            raise ValueError(f"step {step.id}: {step.phase} steps need a verify-backups step before them")
        verify_seen = verify_seen or step.action == "verify-backups"
        for art in step.produces:
            _check_rel(step.id, art.path)
            if art.secret and not art.path.startswith("secrets/"):
                raise ValueError(f"step {step.id}: secret artifact {art.path} must live under secrets/")
            if art.path in artifacts:
                raise ValueError(f"step {step.id}: artifact {art.path} is produced twice")
            artifacts.add(art.path)
        for rel in step.consumes:
            _check_rel(step.id, rel)
        if not all(isinstance(c, int) and 0 <= c < 256 for c in step.ok_exit_codes) or not step.ok_exit_codes:
            raise ValueError(f"step {step.id}: ok_exit_codes must be integers 0-255")
        if step.action:
            _check_params(step)
        elif step.params:
            raise ValueError(f"step {step.id}: a docker step takes no params")
    _manifest_entries(meta.manifest)


def _check_rel(step_id: str, rel: str) -> None:
    """A relative backup-folder path: '/'-separated, no '.', '..', '\\', ':' or control characters."""
    parts = rel.split("/")
    if not rel or any(p in ("", ".", "..") for p in parts) or any(c in rel for c in '\\:"*?<>|') or \
            any(ord(c) < 32 or ord(c) == 127 for c in rel):
        raise ValueError(f"step {step_id}: bad backup-folder path {rel!r}")


def _check_params(step: Step) -> None:
    """Params of a host action against the documented table."""
    spec = _PARAMS[step.action]
    for key, value in step.params.items():
        if key not in spec:
            raise ValueError(f"step {step.id}: {step.action} has no parameter {key!r}")
        kind = spec[key][0]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ValueError(f"step {step.id}: parameter {key} must be {kind.__name__}")
    for key, (_, required) in spec.items():
        if required and key not in step.params:
            raise ValueError(f"step {step.id}: {step.action} needs parameter {key}")
    _check_json(step.id, step.params)
    if step.action == "write-env-file":
        _check_rel(step.id, step.params["path"])
        if not step.params["path"].startswith("secrets/"):
            raise ValueError(f"step {step.id}: the env file must live under secrets/")
    if step.action == "prepare-backup-folder":
        for rel in step.params.get("folders", []):
            _check_rel(step.id, str(rel))
        if step.params.get("secret", "secrets") != "secrets":
            raise ValueError(f"step {step.id}: the secrets folder must be 'secrets'")
    if step.action == "backup-file":
        bad = [f for f in step.params["files"] if f not in SETTINGS_SETS]
        if bad:
            raise ValueError(f"step {step.id}: unknown settings file set {bad[0]!r}")
    if step.action == "write-wslconfig":
        for key, value in step.params["values"].items():
            text = str(value)
            if not re.match(r"^[A-Za-z][A-Za-z0-9_.]*$", key) or "\n" in text or "\r" in text:
                raise ValueError(f"step {step.id}: .wslconfig key {key!r} or its value cannot be written")
    if step.action == "edit-daemon-config":
        _check_daemon_edit(step)
    if step.action == "wait-engine":
        for key in ("registry_mirrors", "insecure_registries"):
            _check_strings(step.id, key, step.params.get(key, []))


def _check_strings(step_id: str, key: str, items: list) -> None:
    """A list param of non-empty strings."""
    if not all(isinstance(i, str) and i for i in items):
        raise ValueError(f"step {step_id}: {key} must be a list of non-empty strings")


def _check_daemon_edit(step: Step) -> None:
    """edit-daemon-config: something to change, keys named once, values dockerd settings can hold."""
    engine = step.params.get("engine", "windows")
    if engine not in ("windows", "linux"):
        raise ValueError(f"step {step.id}: engine must be windows or linux")
    remove = step.params.get("remove", [])
    wanted = step.params.get("set", {})
    _check_strings(step.id, "remove", remove)
    if not remove and not wanted:
        raise ValueError(f"step {step.id}: edit-daemon-config needs keys to remove or to set")
    if wanted and engine != "linux":
        # The Windows engine's settings live in two files Docker Desktop copies between; which one to create is
        # not ours to guess.
        raise ValueError(f"step {step.id}: set is only for engine linux")
    both = {k.lower() for k in remove} & {k.lower() for k in wanted}
    if both:
        raise ValueError(f"step {step.id}: key {sorted(both)[0]!r} is both removed and set")
    for key, value in wanted.items():
        if not _daemon_value(value):
            raise ValueError(f"step {step.id}: set {key!r} must be a string, number, boolean or list of strings")


def _daemon_value(value: Any) -> bool:
    """A value set accepts: PowerShell reads it back unchanged (no null, NaN or integer beyond 2**53)."""
    if isinstance(value, list):
        return all(isinstance(i, str) for i in value)
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return abs(value) <= 2 ** 53
    return isinstance(value, (str, bool))


def _check_json(step_id: str, value: Any) -> None:
    """JSON that Windows PowerShell 5.1's ConvertFrom-Json reads: no empty keys, no keys equal but for case."""
    if isinstance(value, dict):
        lowered = [str(k).lower() for k in value]
        if any(not isinstance(k, str) or not k for k in value) or len(set(lowered)) != len(lowered):
            raise ValueError(f"step {step_id}: params hold an empty key or keys differing only in case")
        for item in value.values():
            _check_json(step_id, item)
    elif isinstance(value, list):
        for item in value:
            _check_json(step_id, item)
    elif not (value is None or isinstance(value, (str, int, float, bool))):
        raise ValueError(f"step {step_id}: params must be JSON values, not {type(value).__name__}")


def _manifest_entries(manifest: dict) -> dict[str, list[dict]]:
    """The manifest's four lists, checked and sorted by their keys."""
    if not isinstance(manifest, dict):
        raise ValueError("manifest must be a dict")
    shapes: dict[str, dict[str, type]] = {
        "images": {"id": str, "tags": list}, "networks": {"name": str, "driver": str, "subnets": list},
        "volumes": {"name": str, "backup_digest": str, "target_digest": str},
        "containers": {"name": str, "image_id": str, "running": bool}}
    out: dict[str, list[dict]] = {}
    for kind, fields in shapes.items():
        items = manifest.get(kind, [])
        if not isinstance(items, list):
            raise ValueError(f"manifest {kind} must be a list")
        for item in items:
            if not isinstance(item, dict) or any(not isinstance(item.get(k), t) for k, t in fields.items()):
                raise ValueError(f"manifest {kind}: {item!r} needs {', '.join(fields)}")
            for k, t in fields.items():
                if t is list and not all(isinstance(x, str) for x in item[k]):
                    raise ValueError(f"manifest {kind}: {k} must be a list of strings")
        out[kind] = sorted(items, key=lambda i: i["id"] if kind == "images" else i["name"])
    digests: set[str] = set()
    for vol in out["volumes"]:
        for key in ("backup_digest", "target_digest"):
            _check_rel("verify-target", vol[key])
            # One file read for two volumes (or both sides of one) would compare a digest with itself; Windows
            # file names ignore case.
            if vol[key].lower() in digests:
                raise ValueError(f"manifest volumes: digest file {vol[key]} is named twice")
            digests.add(vol[key].lower())
    return out


# ---------------------------------------------------------------------------------------------------------------
# text pieces


def _ps(text: str) -> str:
    """A plan value as PowerShell expression text."""
    return powershell_string_expr(text)


def _list(items: Sequence[str]) -> str:
    """@('a', 'b') of plan strings."""
    return "@(" + ", ".join(_ps(i) for i in items) + ")"


def _hash(entries: dict[str, str]) -> str:
    """@{ Key = value; ... } of rendered values (keys are ours, never plan values)."""
    if not entries:
        return "@{}"
    return "@{ " + "; ".join(f"{k} = {v}" for k, v in entries.items()) + " }"


def _bool(value: bool) -> str:
    return "$true" if value else "$false"


def _segments(args: Sequence[Arg]) -> str:
    """A docker command line as @(literal, @{ Backup = 'rel' }, ...) segments."""
    parts = []
    for seg in encode_command_line(args):
        parts.append("@{ Backup = " + _ps(seg.rel) + " }" if isinstance(seg, BackupPath) else _ps(seg))
    return "@(" + ", ".join(parts) + ")"


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
        "    Each step is one entry of $script:Steps below; a step that changes anything asks ShouldProcess",
        "    first, so -WhatIf shows every change without making it, while",
        "    read-only probes still run. Progress is kept in journal.json in the backup folder: a second run",
        "    skips what is done. The switch and restore phases refuse to start until the backups have been",
        "    verified. Nothing here deletes the old backend's disk or the backups (-Rollback goes back).",
        "",
        "    Steps:",
    ]
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
        "    Put the backed-up Docker Desktop settings back (wslEngineEnabled as before) and restart Docker Desktop.",
        ".PARAMETER SourceEngine",
        "    Engine URL of the old backend (default: the pipe that follows Docker Desktop's active engine).",
        ".PARAMETER TargetEngine",
        "    Engine URL of the WSL 2 engine after the switch.",
        ".PARAMETER DockerPath",
        "    The docker CLI (name on PATH or full path).",
        ".PARAMETER EngineTimeoutSeconds",
        "    How long to wait for an engine after starting Docker Desktop.",
        ".EXAMPLE",
        "    .\\migrate.ps1 -WhatIf",
        "    Dry run: read-only probes run, every change is listed as What if.",
        ".EXAMPLE",
        "    .\\migrate.ps1 -Verbose",
        "    Real run, elevated; each docker command line is logged.",
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
        "    Go back to the old backend's settings.",
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
        "    [string]$DockerPath = 'docker',",
        "    [ValidateRange(10, 86400)] [int]$EngineTimeoutSeconds = 300",
        ")",
        "",
    ]
    return lines


def _preamble(steps: Sequence[Step], meta: RunbookMeta) -> list[str]:
    """Strictness, -Force, and the plan constants the library reads."""
    verify = next((s.id for s in steps if s.action == "verify-backups"), "")
    return [
        "Set-StrictMode -Version 3.0",
        "$ErrorActionPreference = 'Stop'",
        "# 7.4+ would throw on a non-zero exit code; Invoke-NativeProcess checks exit codes itself.",
        "$PSNativeCommandUseErrorActionPreference = $false",
        "if ($Force -and -not $PSBoundParameters.ContainsKey('Confirm')) {",
        "    $ConfirmPreference = 'None'",
        "}",
        "",
        f"$script:PlanHash = {_ps(meta.plan_hash)}",
        f"$script:ToolVersion = {_ps(meta.tool_version)}",
        f"$script:SourceBackend = {_ps(meta.source_backend)}",
        f"$script:StepTotal = {len(steps)}",
        f"$script:ResumeTaskName = {_ps('wsl2-migrate-resume-' + meta.plan_hash[:12])}",
        f"$script:VerifyBackupsStepId = {_ps(verify)}",
        "$script:GatedPhases = " + _list(GATED_PHASES),
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
        "    DockerPath           = $DockerPath",
        "    EngineTimeoutSeconds = $EngineTimeoutSeconds",
        "    ScriptPath           = $PSCommandPath",
        "}",
        "Invoke-Runbook -Options $runbookOptions",
    ]


# ---------------------------------------------------------------------------------------------------------------
# the step table


def _step_table(steps: Sequence[Step], meta: RunbookMeta) -> list[str]:
    """$script:Steps: one hashtable per step, in run order."""
    lines = [
        _RULE,
        "# The steps of this plan (data only: the functions above run them)",
        "",
        "$script:Steps = @(",
    ]
    for index, step in enumerate(steps, 1):
        lines += _step_lines(index, len(steps), step, meta)
    lines += [")", ""]
    return lines


def _step_lines(index: int, total: int, step: Step, meta: RunbookMeta) -> list[str]:
    """The hashtable of one step."""
    engine = step.engine or _DEFAULT_ENGINE_OF.get(step.action, "")
    params = json.dumps(step.params, sort_keys=True, ensure_ascii=True)
    lines = [
        f"    # {index}/{total} {step.id}",
        "    @{",
        f"        Index       = {index}",
        f"        Id          = {_ps(step.id)}",
        f"        Phase       = {_ps(step.phase)}",
        f"        Title       = {_ps(step.title)}",
        f"        Engine      = {_ps(engine)}",
        f"        Action      = {_ps(step.action)}",
        f"        Mutating    = {_bool(step.mutating)}",
        f"        Target      = {_ps(step.target or step.id)}",
        f"        WorkDir     = {_ps(step.workdir)}",
        "        OkExitCodes = @(" + ", ".join(str(c) for c in step.ok_exit_codes) + ")",
        f"        CommandLine = {_segments(step.argv) if step.argv else '@()'}",
        f"        Params      = {_ps(params)}",
        "        Commands    = " + _hash(_commands(step)),
        "        Produces    = @(",
    ]
    for art in step.produces:
        lines.append(f"            @{{ Path = {_ps(art.path)}; Kind = {_ps(art.kind)}; Subject = {_ps(art.subject)};"
                     f" Tar = {_bool(art.tar)}; Secret = {_bool(art.secret)} }}")
    lines += [
        "        )",
        f"        Consumes    = {_list(step.consumes)}",
        f"        DependsOn   = {_list(step.depends_on)}",
        f"        Findings    = {_list(step.findings)}",
    ]
    if step.action == "verify-target":
        lines += _manifest_lines(meta)
    lines.append("    }")
    return lines


def _commands(step: Step) -> dict[str, str]:
    """Pre-encoded command lines a host action runs (names as the library reads them)."""
    if step.action == "check-host":
        return {"Probe": _segments(_PROBE_OS)}
    if step.action == "wait-engine":
        if step.params.get("registry_mirrors") or step.params.get("insecure_registries"):
            return {"Probe": _segments(_PROBE_OS_KERNEL), "Registry": _segments(_PROBE_REGISTRY)}
        return {"Probe": _segments(_PROBE_OS_KERNEL)}
    if step.action == "write-env-file":
        return {"Inspect": _segments(("container", "inspect", "--format", "{{json .Config.Env}}",
                                      step.params["container"]))}
    if step.action == "verify-target":
        return {"ImageList": _segments(_IMAGE_LIST)}
    return {}


def _manifest_lines(meta: RunbookMeta) -> list[str]:
    """Manifest = @{ ... }: the expected state with the per-object command lines that check it."""
    entries = _manifest_entries(meta.manifest)
    out = ["        Manifest    = @{", "            Images     = @("]
    for im in entries["images"]:
        out.append(f"                @{{ Id = {_ps(im['id'])}; Tags = {_list(sorted(im['tags']))} }}")
    out += ["            )", "            Networks   = @("]
    for net in entries["networks"]:
        inspect = _segments(("network", "inspect", "--format", _NETWORK_FORMAT, net["name"]))
        out.append(f"                @{{ Name = {_ps(net['name'])}; Driver = {_ps(net['driver'])};"
                   f" Subnets = {_list(sorted(net['subnets']))}; Inspect = {inspect} }}")
    out += ["            )", "            Volumes    = @("]
    for vol in entries["volumes"]:
        out.append(f"                @{{ Name = {_ps(vol['name'])}; BackupDigest = {_ps(vol['backup_digest'])};"
                   f" TargetDigest = {_ps(vol['target_digest'])} }}")
    out += ["            )", "            Containers = @("]
    for ctr in entries["containers"]:
        inspect = _segments(("container", "inspect", "--format", _CONTAINER_FORMAT, ctr["name"]))
        out.append(f"                @{{ Name = {_ps(ctr['name'])}; ImageId = {_ps(ctr['image_id'])};"
                   f" Running = {_bool(ctr['running'])}; Inspect = {inspect} }}")
    out += ["            )", "        }"]
    return out
