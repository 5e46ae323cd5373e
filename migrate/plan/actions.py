"""Host actions: the closed set of things a run does besides docker commands, each with typed parameters.

The planner fills every parameter; the runbook (one PowerShell function per action, migrate/emit/runbook_lib.ps1)
and the rehearsal (one Python twin per action, migrate/rehearse/host.py) only carry them out and check the result.
docs/runbook.md has the table of actions, functions and twins; tests/test_program_contract.py checks it.
Parameters are validated here, when the step is built, so a plan that reaches an interpreter is one it can run.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import PureWindowsPath
from typing import ClassVar

from migrate.errors import PlanError
from migrate.plan.checks import Check

_REL = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")
_WINDOWS_VAR = ("%USERPROFILE%", "%APPDATA%", "%LOCALAPPDATA%", "%ProgramData%", "%ProgramFiles%", "%SystemRoot%")
_INI_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_.]*$")
_FEATURE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_VERSION = re.compile(r"^\d+(\.\d+){1,3}$")
WSL_ARGUMENTS = (("--install", "--no-distribution"), ("--install", "--no-distribution", "--web-download"),
                 ("--update",), ("--update", "--web-download"))
"""What install-wsl may pass to wsl.exe: install the WSL package without a distribution, or update it; with
--web-download from GitHub instead of the Microsoft Store (learn.microsoft.com/windows/wsl/basic-commands)."""
DESKTOP_INSTALL_ARGUMENTS = ("install", "--quiet", "--accept-license", "--backend=wsl-2")
"""`"Docker Desktop Installer.exe" install ...` (docs.docker.com/desktop/setup/install/windows-install/)."""


def check_rel(where: str, rel: str) -> str:
    """A relative backup-folder path: '/'-separated plain names, no '.', '..', or characters Windows refuses."""
    if not _REL.match(rel) or any(p in (".", "..") for p in rel.split("/")):
        raise PlanError(f"{where}: bad backup-folder path {rel!r} (plain names separated by '/')")
    return rel


def _check_windows_path(where: str, path: str) -> None:
    """A Windows path template: starts with one of the known %VARIABLE%s or a drive, no quotes or controls."""
    if not (path.startswith(_WINDOWS_VAR) or re.match(r"^[A-Za-z]:\\", path)) or \
            any(c in path for c in '"*?<>|') or any(ord(c) < 32 for c in path) or "\\..\\" in path + "\\":
        raise PlanError(f"{where}: {path!r} is not a usable Windows path (a %VARIABLE% or drive, no quotes)")


def check_installer(where: str, path: str, suffix: str) -> str:
    """An installer the plan names: a full local (C:\\...) or UNC (\\\\server\\share\\...) path ending in suffix, no
    quotes, wildcards or control characters ('' = none given)."""
    if not path:
        return path
    local = re.match(r"^[A-Za-z]:\\[^:]+$", path)
    unc = re.match(r"^\\\\[^\\:]+\\[^\\:]+\\[^:]+$", path)
    if not (local or unc) or any(c in path for c in '"*?<>|') or any(ord(c) < 32 for c in path) or \
            "\\..\\" in path + "\\" or not path.lower().endswith(suffix):
        raise PlanError(f"{where}: {path!r} is not the full path of a {suffix} file "
                        "(C:\\... or \\\\server\\share\\..., no quotes)")
    return path


def check_version(where: str, version: str) -> str:
    """A dotted version (2.1.5, 2.3.0.2) or ''."""
    if version and (not _VERSION.match(version) or any(int(p) >= 2 ** 31 for p in version.split("."))):
        # The runbook compares it as a System.Version (32-bit parts).
        raise PlanError(f"{where}: {version!r} is not a version such as 2.1.5")
    return version


def _exit_codes(where: str, ok: tuple[int, ...], restart: tuple[int, ...] = ()) -> None:
    if not ok or not all(isinstance(c, int) and -2 ** 31 <= c < 2 ** 31 for c in (*ok, *restart)):
        raise PlanError(f"{where}: exit codes must be 32-bit integers, at least one of them accepted")
    if not set(restart) <= set(ok):
        raise PlanError(f"{where}: an exit code that asks for a restart must also be an accepted one")


def _strings(where: str, items: tuple[str, ...]) -> None:
    if not all(isinstance(i, str) and i and "\x00" not in i for i in items):
        raise PlanError(f"{where}: expected non-empty strings")


@dataclass(frozen=True, slots=True)
class HostFile:
    """A file on the Windows host: the first of its candidate paths that exists is the live one."""

    key: str
    """desktop-settings, daemon-linux, daemon-windows, wslconfig, admin-settings."""
    candidates: tuple[str, ...]
    """Windows paths with %USERPROFILE%, %APPDATA%, %ProgramData%...; when none exists the first is created."""
    backup: str = ""
    """Where backup-files keeps the live file's copy in the backup folder ('' = settings/KEY with the first path's
    extension), so neither interpreter names it; the manifest records which path it was."""

    def __post_init__(self) -> None:
        if self.key not in HOST_FILE_KEYS:
            raise PlanError(f"host file {self.key!r}: not one of {', '.join(HOST_FILE_KEYS)}")
        if not self.candidates:
            raise PlanError(f"host file {self.key}: needs at least one path")
        for path in self.candidates:
            _check_windows_path(f"host file {self.key}", path)
        if not self.backup:
            suffix = PureWindowsPath(self.candidates[0]).suffix
            suffix = suffix if re.fullmatch(r"[.][a-z]+", suffix) else ""
            object.__setattr__(self, "backup", f"settings/{self.key}{suffix}")
        check_rel(f"host file {self.key}", self.backup)


HOST_FILE_KEYS = ("desktop-settings", "daemon-linux", "daemon-windows", "wslconfig", "admin-settings")


def _check_engine(action: str, engine: str, allowed: tuple[str, ...]) -> None:
    """PlanError unless an action's `engine` field names one of allowed."""
    if engine not in allowed:
        raise PlanError(f"{action}: engine {engine!r} is not one of {', '.join(allowed)}")


@dataclass(frozen=True, slots=True)
class Action:
    """Base of the host actions; NAME is the action's name in plans, runbooks and journals."""

    NAME: ClassVar[str] = ""
    ENGINE: ClassVar[str] = ""
    """The engine the action talks to ('' = none)."""

    def engine_of(self) -> str:
        """The engine this action talks to ('' = only the host): its `engine` field when it has one, else ENGINE."""
        return getattr(self, "engine", self.ENGINE)


@dataclass(frozen=True, slots=True)
class FreeSpace:
    """Room a run needs on the drive holding a folder."""

    folder: str
    """'backup' (the backup folder) or a Windows path template (the drive of the new WSL disk)."""
    bytes: int | None
    """The known bytes (None: nothing of it is known); a drive with less free space than these fails."""
    what: str
    unknown: bool = False
    """Some of it has no known size: the check cannot pass on its own (it asks, or -Force goes on), but the known
    bytes must still fit."""

    def __post_init__(self) -> None:
        if self.folder != "backup":
            _check_windows_path("free space", self.folder)
        if self.bytes is not None and not 0 <= self.bytes <= 2 ** 60:
            raise PlanError(f"free space for {self.what}: {self.bytes} bytes is out of range")


FILE_SHARING_SETTINGS = ("filesharingDirectories", "sharedDrives")


@dataclass(frozen=True, slots=True)
class FileSharing:
    """Hyper-V era Docker Desktop shares only the folders (or drives) its settings list with the VM."""

    setting: str
    """filesharingDirectories (a list of folders) or sharedDrives (drive letter -> bool): the key the scanned
    settings have, which also says the value's shape (the interpreters read it as this setting's shape)."""

    def __post_init__(self) -> None:
        if self.setting not in FILE_SHARING_SETTINGS:
            raise PlanError(f"file sharing setting {self.setting!r} is not known")


@dataclass(frozen=True, slots=True)
class BuildFloor:
    """On this Windows build, the update revision (UBR) must be at least ubr."""

    build: int
    ubr: int

    def __post_init__(self) -> None:
        if not 10240 <= self.build <= 99999 or not 0 <= self.ubr <= 99999:
            raise PlanError(f"check-host: Windows build {self.build}.{self.ubr} is out of range")


@dataclass(frozen=True, slots=True)
class CheckHost(Action):
    """Read-only checks before anything changes: the user, Windows, free space, file sharing, manual items."""

    NAME: ClassVar[str] = "check-host"
    floors: tuple[BuildFloor, ...] = (BuildFloor(18362, 0),)
    """The Windows builds the move runs on, oldest first: the minimum build with the update revision it needs, then
    later builds that also need one (1909, 18363, needs 1049 as 1903 does). The last floor at or below the machine's
    build applies (the first when none is): an older build, or that build with an older revision, fails."""
    edition: str = ""
    """The edition family the minimum build was chosen for (home, pro, enterprise, education; '' = not known),
    named in the refusal so a reader sees why 2004 is asked of a Pro machine and 1909 of an Enterprise one."""
    free_space: tuple[FreeSpace, ...] = ()
    expected_user: str = ""
    """DOMAIN\\user the plan was made for ('' = not known): the interactive user must be this one."""
    settings: HostFile | None = None
    """Docker Desktop's settings file (for the file sharing check)."""
    file_sharing: FileSharing | None = None
    manual: tuple[str, ...] = ()
    """Things the runbook cannot do, each 'RULE: what to do'; listed, and the run asks before it goes on."""

    def __post_init__(self) -> None:
        builds = [f.build for f in self.floors]
        if not builds or builds != sorted(set(builds)):
            raise PlanError("check-host: the Windows build floors must be listed once each, oldest first")
        if self.file_sharing is not None and self.settings is None:
            raise PlanError("check-host: the file sharing check needs the settings file")
        _strings("check-host manual", self.manual)


@dataclass(frozen=True, slots=True)
class PrepareBackupFolder(Action):
    """Create the backup folder limited to the user and SYSTEM (icacls), then its sub-folders."""

    NAME: ClassVar[str] = "prepare-backup-folder"
    folders: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for rel in self.folders:
            check_rel("prepare-backup-folder", rel)


SOURCE_ENGINES = ("source", "hyperv")
"""Engines a run backs up: the old backend's, and the LCOW host's second one (the Hyper-V VM's Linux engine)."""
ENGINE_NAMES = ("source", "target", "hyperv")


@dataclass(frozen=True, slots=True)
class WriteEnvFile(Action):
    """Read a container's environment from the engine and write the named entries as a docker env file."""

    NAME: ClassVar[str] = "write-env-file"
    UNSAFE: ClassVar[tuple[str, str]] = ("[\r\n]", "holds a line break: an env file cannot carry it")
    """A regular expression (the same in .NET and Python) of what no value may hold, and the refusal's end."""
    FILE_FORMAT: ClassVar[str] = ""
    """The file's format: '' is a docker env file (a NAME=value line each), else a secret-values file's."""
    engine: str = "source"
    container: str = ""
    path: str = ""
    """Relative, under secrets/."""
    names: tuple[str, ...] = ()
    """Only these entries are written (values come from the engine at run time, never from the plan)."""

    def __post_init__(self) -> None:
        _check_engine(self.NAME, self.engine, SOURCE_ENGINES)
        if not self.container or self.container.startswith("-"):
            raise PlanError(f"write-env-file: bad container reference {self.container!r}")
        if not check_rel("write-env-file", self.path).startswith("secrets/"):
            raise PlanError("write-env-file: the env file must live under secrets/")
        if any(not n or "=" in n or "\n" in n or "\x00" in n for n in self.names):
            raise PlanError("write-env-file: env names must be non-empty, without '=' or line breaks")

    @property
    def entries(self) -> tuple[SecretRef, ...]:
        """The variables to write, read as write-secret-values reads its values (each value is the whole NAME=value
        entry, the env file's line)."""
        return tuple(SecretRef("env", n) for n in self.names)

    def inspect_argv(self) -> tuple[str, ...]:
        """The read-only docker command both interpreters run: the environment as [name, entry] pairs, in the
        format of secret_inspect_format (docker's template `split` cuts the name off its entry)."""
        pairs = ('[{{range .Config.Env}}[{{json (printf "=%s" (index (split . "=") 0))}},'
                 '{{json (printf "=%s" .)}}],{{end}}null]')
        return ("container", "inspect", "--format", '{"env":' + pairs + "}", "--", self.container)

    @property
    def subject(self) -> str:
        """The object its messages name (both interpreters), and how logs show its inspect command."""
        return f"container {self.container}"

    @property
    def inspect_display(self) -> str:
        return f"container inspect {self.container}"


SECRET_FIELDS: dict[str, dict[str, str]] = {
    "container": {"labels": ".Config.Labels", "log_opts": ".HostConfig.LogConfig.Config"},
    "volume": {"labels": ".Labels", "options": ".Options"},
    "network": {"labels": ".Labels", "options": ".Options"},
}
"""Per kind of object, the fields a secret value can live in, and where `docker inspect` has each."""
SECRET_FIELD_WORDS = {"labels": "label", "log_opts": "log option", "options": "option", "env": "variable"}
"""How a message names a value of each field (write-env-file's are the environment's: env)."""
SECRET_VALUES_FORMAT = "wsl2-migrate-secret-values/1"
SETTINGS_BACKUP_FORMAT = "wsl2-migrate-settings-backup/2"
"""The manifest a backup-files step writes (both interpreters; the runbook carries it as $script:Formats)."""


@dataclass(frozen=True, slots=True)
class SecretRef:
    """One value to read: a key of one of the object's fields (labels, log_opts, options)."""

    field: str
    key: str

    @property
    def what(self) -> str:
        """The value as messages and the secret-values file name it: 'label KEY', 'variable NAME'."""
        return f"{SECRET_FIELD_WORDS[self.field]} {self.key}"


def secret_inspect_format(kind: str) -> str:
    """The `docker inspect --format` template that prints each field as a JSON list of [key, value] pairs, every
    key and value written with a leading '=': PowerShell 7's ConvertFrom-Json turns a string that looks like a
    date into a DateTime (which would change the value), and a JSON object would not do (Windows PowerShell 5.1
    refuses two keys that differ only in case)."""
    pairs = ('[{{range $k, $v := %s}}[{{json (printf "=%%s" $k)}},{{json (printf "=%%s" $v)}}],{{end}}null]')
    return "{" + ",".join(f'"{name}":' + pairs % path for name, path in SECRET_FIELDS[kind].items()) + "}"


@dataclass(frozen=True, slots=True)
class WriteSecretValues(Action):
    """Read the values of an object's labels and options that the plan holds only as digests from the old engine,
    and write them into a file under secrets/ that the restore's docker commands read (docs/secrets.md)."""

    NAME: ClassVar[str] = "write-secret-values"
    UNSAFE: ClassVar[tuple[str, str]] = ("\x00", "holds a NUL character, which no command line can carry: set it by "
                                               "hand after the move")
    FILE_FORMAT: ClassVar[str] = SECRET_VALUES_FORMAT
    engine: str = "source"
    kind: str = ""
    """container, volume or network."""
    object: str = ""
    """Its id (a container, a network) or name (a volume) on the old engine."""
    path: str = ""
    """Relative, under secrets/."""
    entries: tuple[SecretRef, ...] = ()
    """The values to write, in this order (a docker argument names its value by the position)."""

    def __post_init__(self) -> None:
        _check_engine(self.NAME, self.engine, SOURCE_ENGINES)
        if self.kind not in SECRET_FIELDS:
            raise PlanError(f"write-secret-values: kind {self.kind!r} is not one of {', '.join(SECRET_FIELDS)}")
        if not self.object or self.object.startswith("-") or "\x00" in self.object:
            raise PlanError(f"write-secret-values: bad {self.kind} reference {self.object!r}")
        if not check_rel("write-secret-values", self.path).startswith("secrets/"):
            raise PlanError("write-secret-values: the file must live under secrets/")
        if not self.entries or any(v.field not in SECRET_FIELDS[self.kind] or "\x00" in v.key for v in self.entries):
            raise PlanError(f"write-secret-values: needs values, each a key of {', '.join(SECRET_FIELDS[self.kind])}")
        if len(set(self.entries)) != len(self.entries):
            raise PlanError("write-secret-values: a value is named twice")

    def inspect_argv(self) -> tuple[str, ...]:
        """The read-only docker command both interpreters run to read the values."""
        return (self.kind, "inspect", "--format", secret_inspect_format(self.kind), "--", self.object)

    @property
    def subject(self) -> str:
        """The object its messages name (both interpreters), and how logs show its inspect command."""
        return f"{self.kind} {self.object}"

    @property
    def inspect_display(self) -> str:
        return f"{self.kind} inspect {self.object}"


@dataclass(frozen=True, slots=True)
class VerifyBackups(Action):
    """Re-hash every artifact written so far against the artifact record; the switch may not start otherwise."""

    NAME: ClassVar[str] = "verify-backups"
    artifacts: tuple[str, ...] = ()
    """Every artifact the steps before this one write, in path order: the planner lists them (Program checks the
    list), both interpreters re-hash exactly these, and the gated phases wait until all still hash as verified."""

    def __post_init__(self) -> None:
        if list(self.artifacts) != sorted(set(self.artifacts)):
            raise PlanError("verify-backups: the artifacts must be listed once each, in path order")


@dataclass(frozen=True, slots=True)
class StopDesktop(Action):
    """Stop Docker Desktop (processes and service) and wait until it is gone; optionally `wsl --shutdown`."""

    NAME: ClassVar[str] = "stop-desktop"
    timeout: int = 180
    shutdown_wsl: bool = False

    def __post_init__(self) -> None:
        if not 10 <= self.timeout <= 3600:
            raise PlanError(f"stop-desktop: timeout {self.timeout} s is out of range (10 to 3600)")


@dataclass(frozen=True, slots=True)
class CheckVmOff(Action):
    """Wait until the old backend's Hyper-V VMs are off (settings must not change under a running VM)."""

    NAME: ClassVar[str] = "check-vm-off"
    names: tuple[str, ...] = ("DockerDesktopVM", "MobyLinuxVM")
    timeout: int = 120
    required: bool = False
    """Hyper-V must be there (the old backend is its VM): a missing Hyper-V fails instead of passing."""
    off_states: tuple[int, ...] = (3, 6)
    """Msvm_ComputerSystem EnabledState values that hold no VM disk: 3 off, 6 saved (offline)."""

    def __post_init__(self) -> None:
        _strings("check-vm-off", self.names)
        if not self.off_states or not all(isinstance(s, int) and 0 <= s < 65536 for s in self.off_states):
            raise PlanError("check-vm-off: off_states must be EnabledState numbers")
        if not 10 <= self.timeout <= 3600:
            raise PlanError(f"check-vm-off: timeout {self.timeout} s is out of range (10 to 3600)")


@dataclass(frozen=True, slots=True)
class BackupFiles(Action):
    """Copy host files (bytes kept, hashed) into settings/ and list them in settings/manifest.json."""

    NAME: ClassVar[str] = "backup-files"
    files: tuple[HostFile, ...] = ()
    manifest: str = "settings/manifest.json"

    def __post_init__(self) -> None:
        check_rel("backup-files", self.manifest)
        keys = [f.key for f in self.files]
        if not keys or len(set(keys)) != len(keys):
            raise PlanError("backup-files: needs files, each key once")


def _json_object(where: str, text: str) -> dict:
    try:
        value = json.loads(text)
    except ValueError:
        raise PlanError(f"{where}: not JSON") from None
    if not isinstance(value, dict):
        raise PlanError(f"{where}: must be a JSON object")
    return value


def _once_without_case(where: str, keys: tuple[str, ...]) -> None:
    """Each key named once, also without case: the runbook's ConvertFrom-Json and its key lists hold no two names
    differing only in case, so neither may a step (in a case-sensitive daemon.json, setting a key already replaces
    one spelled otherwise)."""
    folded = [k.lower() for k in keys]
    if len(set(folded)) != len(folded):
        raise PlanError(f"{where}: each key must be named once (also without case)")


@dataclass(frozen=True, slots=True)
class EditJson(Action):
    """Set and remove top-level keys of a JSON file, keeping every other key (runbook-style section 7).

    The previous value of every key it sets or removes is recorded in the journal (restore-json-keys reads it).
    """

    NAME: ClassVar[str] = "edit-json"
    file: HostFile | None = None
    set_json: str = "{}"
    """A JSON object: key -> the value it must have afterwards."""
    remove: tuple[str, ...] = ()
    ignore_case: bool = False
    """Desktop settings: a key differing only in case is the same key (replaced, keeping its spelling)."""
    create: bool = False
    """Create the file as {} when none of the candidates exists (else the step fails)."""

    def __post_init__(self) -> None:
        if self.file is None:
            raise PlanError("edit-json: needs a file")
        values = _json_object("edit-json set_json", self.set_json)
        _strings("edit-json remove", self.remove)
        if not [*values, *self.remove] or any(not k for k in values):
            raise PlanError(f"edit-json {self.file.key}: needs keys to set or remove")
        _once_without_case(f"edit-json {self.file.key}", (*values, *self.remove))


@dataclass(frozen=True, slots=True)
class RestoreJsonKeys(Action):
    """Put back the values an earlier edit-json step recorded for these keys (absent keys are removed again)."""

    NAME: ClassVar[str] = "restore-json-keys"
    file: HostFile | None = None
    keys: tuple[str, ...] = ()
    from_step: str = ""
    ignore_case: bool = False

    def __post_init__(self) -> None:
        if self.file is None or not self.keys or not self.from_step:
            raise PlanError("restore-json-keys: needs a file, keys and the step that recorded them")
        _strings("restore-json-keys keys", self.keys)
        _once_without_case("restore-json-keys", self.keys)


@dataclass(frozen=True, slots=True)
class IniEntry:
    """One key = value line of an ini file."""

    key: str
    value: str


@dataclass(frozen=True, slots=True)
class EditIni(Action):
    """Add keys missing from one section of an ini file (.wslconfig); a key already there keeps its value."""

    NAME: ClassVar[str] = "edit-ini"
    file: HostFile | None = None
    section: str = "wsl2"
    add: tuple[IniEntry, ...] = ()
    """Written only when the section lacks the key (compared without case), in this order."""

    def __post_init__(self) -> None:
        if self.file is None or not self.add:
            raise PlanError("edit-ini: needs a file and keys to add")
        if not _INI_KEY.match(self.section):
            raise PlanError(f"edit-ini: bad section {self.section!r}")
        seen: set[str] = set()
        for entry in self.add:
            key, value = entry.key, entry.value
            if not _INI_KEY.match(key) or key.lower() in seen:
                raise PlanError(f"edit-ini: bad or repeated key {key!r}")
            if not value or any(c in value for c in "\r\n\x00#;") or value != value.strip():
                raise PlanError(f"edit-ini: the value of {key} cannot be written on one line")
            seen.add(key.lower())


@dataclass(frozen=True, slots=True)
class ProgramRun:
    """How a host action runs its program, planned whole: the runbook's Invoke-HostProgram and the rehearsal's
    run_program carry it out for enable-feature, install-wsl, set-wsl-default-version and upgrade-desktop alike
    (docs/runbook.md, "Programs"). Built by the actions below from their validated fields."""

    program: str
    """A program of System32 (system32) or an installer's full path; '' = the user installs it when asked."""
    system32: bool
    argv: tuple[str, ...]
    """Its arguments (the runbook carries them pre-encoded as Arguments)."""
    ok_exit_codes: tuple[int, ...]
    restart_exit_codes: tuple[int, ...]
    """Accepted exit codes that mean "done once Windows has restarted": recorded for the next reboot step."""
    timeout: int
    target: str
    """What ShouldProcess names, and the change it asks about (action)."""
    action: str
    done: str
    """The step's note when the program ran."""
    utf16: bool = False
    """The program writes UTF-16 into a pipe (wsl.exe)."""
    requires: str = ""
    """A file that must exist before the run (the installer, the msi)."""
    stopped: str = ""
    """'' or what must happen only while Docker Desktop is stopped (it starts at logon whatever its settings say)."""
    probe: str = ""
    """'', 'wsl' (`wsl --version`) or 'desktop' (Desktop's uninstall entry): the version installed."""
    what: str = ""
    """What the probe reads the version of (WSL, Docker Desktop)."""
    min_version: str = ""
    """The probe reporting this version or later means nothing to do."""
    recheck: bool = False
    """After the run the probe must report min_version or later."""
    manual: str = ""
    """Without a program: what the user must do (the run asks, or with -Force fails with it)."""
    missing: str = "no such installer"
    """What is wrong when `requires` is not there, and what to do."""


@dataclass(frozen=True, slots=True)
class RunsProgram(Action):
    """A host action that runs one program as its `run` says."""

    @property
    def run(self) -> ProgramRun:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class EnableFeature(RunsProgram):
    """Enable an optional Windows feature with dism.exe (not the DISM module: it fails in Store-installed
    PowerShell 7, PowerShell/PowerShell#13866); exit codes mean what the plan says (dism's 3010: the feature is on
    after a restart, which the next reboot step asks for)."""

    NAME: ClassVar[str] = "enable-feature"
    name: str = ""
    ok_exit_codes: tuple[int, ...] = (0, 3010)
    restart_exit_codes: tuple[int, ...] = (3010,)
    timeout: int = 3600

    def __post_init__(self) -> None:
        if not _FEATURE.match(self.name):
            raise PlanError(f"enable-feature: bad feature name {self.name!r}")
        _exit_codes("enable-feature", self.ok_exit_codes, self.restart_exit_codes)
        if not 60 <= self.timeout <= 86400:
            raise PlanError(f"enable-feature: timeout {self.timeout} s is out of range (60 to 86400)")

    @property
    def run(self) -> ProgramRun:
        return ProgramRun("dism.exe", True, ("/online", "/enable-feature", f"/featurename:{self.name}", "/all",
                                             "/norestart"), self.ok_exit_codes, self.restart_exit_codes,
                          self.timeout, self.name, "Enable Windows feature", f"{self.name} enabled")


@dataclass(frozen=True, slots=True)
class UpgradeDesktop(RunsProgram):
    """Upgrade Docker Desktop when it is older than min_version (too old for the WSL 2 backend): run the installer
    the plan names, or, without one, stop and ask the user to upgrade (with -Force: fail with the instructions)."""

    NAME: ClassVar[str] = "upgrade-desktop"
    installer: str = ""
    """Full path of "Docker Desktop Installer.exe" ('' = the user upgrades by hand when the run asks)."""
    installer_arguments: tuple[str, ...] = DESKTOP_INSTALL_ARGUMENTS
    min_version: str = "2.3.0.2"
    timeout: int = 3600
    ok_exit_codes: tuple[int, ...] = (0,)

    def __post_init__(self) -> None:
        check_installer("upgrade-desktop", self.installer, ".exe")
        if self.installer_arguments != DESKTOP_INSTALL_ARGUMENTS:
            raise PlanError(f"upgrade-desktop: the installer runs with {' '.join(DESKTOP_INSTALL_ARGUMENTS)}")
        if not check_version("upgrade-desktop min_version", self.min_version):
            raise PlanError("upgrade-desktop: needs the version the upgrade must reach")
        if not 60 <= self.timeout <= 86400:
            raise PlanError(f"upgrade-desktop: timeout {self.timeout} s is out of range (60 to 86400)")
        _exit_codes("upgrade-desktop", self.ok_exit_codes)

    @property
    def run(self) -> ProgramRun:
        manual = ("the first with the WSL 2 backend: install a current Docker Desktop "
                  f"(\"Docker Desktop Installer.exe\" {' '.join(self.installer_arguments)}) and leave it stopped")
        action = f"Upgrade with {self.installer}" if self.installer else "Upgrade Docker Desktop"
        return ProgramRun(self.installer, False, self.installer_arguments, self.ok_exit_codes, (), self.timeout,
                          "Docker Desktop", action, "Docker Desktop upgraded",
                          requires=self.installer, stopped="Docker Desktop is upgraded", probe="desktop",
                          what="Docker Desktop", min_version=self.min_version, recheck=True, manual=manual)


@dataclass(frozen=True, slots=True)
class InstallWsl(RunsProgram):
    """Install or update WSL: `wsl.exe --install --no-distribution` or `wsl.exe --update`, or, where the Microsoft
    Store is blocked, `msiexec.exe /i <msi> /quiet /norestart`. Skipped when `wsl --version` already reports
    skip_from or later. Exit codes mean what the plan says (restart_exit_codes: on after a restart)."""

    NAME: ClassVar[str] = "install-wsl"
    program: str = "wsl.exe"
    """What runs, from System32: wsl.exe, or msiexec.exe for an msi."""
    wsl_arguments: tuple[str, ...] = ("--update",)
    """wsl.exe's arguments (one of WSL_ARGUMENTS); () with an msi."""
    msi: str = ""
    """Full path of the WSL .msi (github.com/microsoft/WSL/releases) to install instead of asking wsl.exe."""
    skip_from: str = ""
    timeout: int = 1800
    ok_exit_codes: tuple[int, ...] = (0,)
    restart_exit_codes: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        check_installer("install-wsl", self.msi, ".msi")
        if self.program != ("msiexec.exe" if self.msi else "wsl.exe"):
            raise PlanError("install-wsl: an msi is installed by msiexec.exe, anything else by wsl.exe")
        if self.msi and self.wsl_arguments:
            raise PlanError("install-wsl: an msi is installed by msiexec; wsl.exe arguments go with no msi only")
        if not self.msi and self.wsl_arguments not in WSL_ARGUMENTS:
            raise PlanError(f"install-wsl: wsl.exe {' '.join(self.wsl_arguments)} is not one of "
                            + "; ".join(" ".join(a) for a in WSL_ARGUMENTS))
        check_version("install-wsl skip_from", self.skip_from)
        if not 60 <= self.timeout <= 86400:
            raise PlanError(f"install-wsl: timeout {self.timeout} s is out of range (60 to 86400)")
        _exit_codes("install-wsl", self.ok_exit_codes, self.restart_exit_codes)

    @property
    def run(self) -> ProgramRun:
        # msiexec's standard options (learn.microsoft.com msiexec); wsl.exe writes UTF-16 into a pipe.
        argv = ("/i", self.msi, "/quiet", "/norestart") if self.msi else self.wsl_arguments
        return ProgramRun(self.program, True, argv, self.ok_exit_codes, self.restart_exit_codes, self.timeout, "WSL",
                          f"Install or update WSL with {self.program}", f"WSL installed or updated ({self.program})",
                          utf16=not self.msi, requires=self.msi, stopped="WSL is installed or updated",
                          probe="wsl" if self.skip_from else "", what="WSL", min_version=self.skip_from)


@dataclass(frozen=True, slots=True)
class SetWslVersion(RunsProgram):
    """`wsl.exe --set-default-version N`: new distributions are created as WSL N (the integration needs WSL 2)."""

    NAME: ClassVar[str] = "set-wsl-default-version"
    version: int = 2
    timeout: int = 300
    ok_exit_codes: tuple[int, ...] = (0,)

    def __post_init__(self) -> None:
        if self.version not in (1, 2):
            raise PlanError(f"set-wsl-default-version: WSL {self.version} does not exist")
        if not 10 <= self.timeout <= 3600:
            raise PlanError(f"set-wsl-default-version: timeout {self.timeout} s is out of range (10 to 3600)")
        _exit_codes("set-wsl-default-version", self.ok_exit_codes)

    @property
    def run(self) -> ProgramRun:
        return ProgramRun("wsl.exe", True, ("--set-default-version", str(self.version)), self.ok_exit_codes, (),
                          self.timeout, "WSL", f"Make WSL {self.version} the default version",
                          f"WSL {self.version} is the default version", utf16=True)


@dataclass(frozen=True, slots=True)
class CheckWsl(Action):
    """Read-only: WSL answers `wsl.exe --status`, `wsl.exe --version` reports at least min_version (the inbox WSL
    reports none), and the default version the registry records for the user, when it records one, is
    default_version."""

    NAME: ClassVar[str] = "check-wsl"
    min_version: str = ""
    default_version: int = 2
    """0 = not checked."""
    timeout: int = 300

    def __post_init__(self) -> None:
        check_version("check-wsl min_version", self.min_version)
        if self.default_version not in (0, 1, 2):
            raise PlanError(f"check-wsl: WSL {self.default_version} does not exist")
        if not 10 <= self.timeout <= 3600:
            raise PlanError(f"check-wsl: timeout {self.timeout} s is out of range (10 to 3600)")


@dataclass(frozen=True, slots=True)
class Reboot(Action):
    """When an earlier step needs a restart: register the logon task that resumes the run, and stop for it."""

    NAME: ClassVar[str] = "reboot"


@dataclass(frozen=True, slots=True)
class StartDesktop(Action):
    """Start Docker Desktop as the interactive user, not elevated (through a one-time task)."""

    NAME: ClassVar[str] = "start-desktop"
    exe: str = "%ProgramFiles%\\Docker\\Docker\\Docker Desktop.exe"

    def __post_init__(self) -> None:
        _check_windows_path("start-desktop", self.exe)


@dataclass(frozen=True, slots=True)
class WaitEngine(Action):
    """Wait until an engine answers as the program expects (OS, kernel, not the source), then check registries."""

    NAME: ClassVar[str] = "wait-engine"
    engine: str = "target"
    timeout: int = 300
    checks: tuple[Check, ...] = ()
    """Once the engine answers as expected: the settings it must have (registry mirrors, insecure registries)."""

    def __post_init__(self) -> None:
        _check_engine(self.NAME, self.engine, ENGINE_NAMES)
        if not 10 <= self.timeout <= 86400:
            raise PlanError(f"wait-engine: timeout {self.timeout} s is out of range (10 to 86400)")


@dataclass(frozen=True, slots=True)
class SwitchContainers(RunsProgram):
    """Make an engine answer as the program expects; when it does not, switch Docker Desktop between Linux and
    Windows containers (DockerCli.exe -SwitchLinuxEngine / -SwitchWindowsEngine) and wait until it does.

    Docker Desktop keeps its Linux engine (the Hyper-V VM's) at its own pipe while it runs Windows containers, but
    only while the VM runs: started in Windows mode, Desktop does not start the VM (docker/for-win#4357), and a
    switch to Linux containers does. The default pipe then follows the active engine, so the first engine's steps
    all come before the switch, and the rollback switches back before it talks to that engine again.
    """

    NAME: ClassVar[str] = "switch-containers"
    to: str = "linux"
    """linux or windows: the containers Docker Desktop runs afterwards when it has to switch."""
    engine: str = "hyperv"
    """The engine that must answer as the program expects (source, target or hyperv)."""
    exe: str = "%ProgramFiles%\\Docker\\Docker\\DockerCli.exe"
    timeout: int = 300
    """How long the engine may take to answer after the switch."""
    cli_timeout: int = 300
    """DockerCli.exe's own time limit."""

    def __post_init__(self) -> None:
        if self.to not in ("linux", "windows"):
            raise PlanError(f"switch-containers: {self.to!r} is not linux or windows")
        _check_engine(self.NAME, self.engine, ENGINE_NAMES)
        _check_windows_path("switch-containers", self.exe)
        for name, seconds in (("timeout", self.timeout), ("cli_timeout", self.cli_timeout)):
            if not 10 <= seconds <= 86400:
                raise PlanError(f"switch-containers: {name} {seconds} s is out of range (10 to 86400)")

    @property
    def argument(self) -> str:
        """DockerCli.exe's switch for `to` (docker/roadmap#79)."""
        return "-SwitchLinuxEngine" if self.to == "linux" else "-SwitchWindowsEngine"

    @property
    def run(self) -> ProgramRun:
        return ProgramRun(self.exe, False, (self.argument,), (0,), (), self.cli_timeout, "Docker Desktop",
                          f"Switch to {self.to} containers", f"Docker Desktop switched to {self.to} containers",
                          requires=self.exe, missing=f"not there: switch Docker Desktop to {self.to} containers "
                          "from its menu, then resume")


@dataclass(frozen=True, slots=True)
class TargetVolume:
    """A volume whose content digest before the switch equals the one after the restore."""

    name: str
    backup_digest: str
    target_digest: str


@dataclass(frozen=True, slots=True)
class VerifyTarget(Action):
    """The final check: every check of what the plan migrated passes on the new engine, and every copied volume's
    digest after the restore equals its digest before the switch (docs/runbook.md, "Final check")."""

    NAME: ClassVar[str] = "verify-target"
    ENGINE: ClassVar[str] = "target"
    checks: tuple[Check, ...] = ()
    volumes: tuple[TargetVolume, ...] = ()

    def __post_init__(self) -> None:
        digests: set[str] = set()
        for vol in self.volumes:
            for rel in (vol.backup_digest, vol.target_digest):
                # One file read for two volumes would compare a digest with itself; Windows names ignore case.
                if check_rel("verify-target", rel).lower() in digests:
                    raise PlanError(f"verify-target: digest file {rel} is named twice")
                digests.add(rel.lower())


@dataclass(frozen=True, slots=True)
class Finish(Action):
    """Remove the resume task, mark the journal finished and write the summary."""

    NAME: ClassVar[str] = "finish"


@dataclass(frozen=True, slots=True)
class RemoveResumeTask(Action):
    """Rollback: remove the logon task so nothing resumes the migration later."""

    NAME: ClassVar[str] = "remove-resume-task"


@dataclass(frozen=True, slots=True)
class RestoreFiles(Action):
    """Rollback: put back the host files a backup-files step copied (a file it found absent is moved aside)."""

    NAME: ClassVar[str] = "restore-files"
    manifest: str = "settings/manifest.json"

    def __post_init__(self) -> None:
        check_rel("restore-files", self.manifest)


@dataclass(frozen=True, slots=True)
class MarkRolledBack(Action):
    """Rollback: tombstone the journal; every later forward run or resume of this plan refuses."""

    NAME: ClassVar[str] = "mark-rolled-back"


ACTIONS: tuple[type[Action], ...] = (
    CheckHost, PrepareBackupFolder, WriteEnvFile, WriteSecretValues, VerifyBackups, StopDesktop, CheckVmOff,
    BackupFiles, UpgradeDesktop, EditJson, RestoreJsonKeys, EditIni, EnableFeature, Reboot, InstallWsl, SetWslVersion,
    CheckWsl, StartDesktop, WaitEngine, SwitchContainers, VerifyTarget, Finish, RemoveResumeTask, RestoreFiles,
    MarkRolledBack,
)
"""Every host action, in the order docs/runbook.md lists them."""
ACTION_NAMES = {a.NAME: a for a in ACTIONS}


def json_text(values: dict) -> str:
    """The canonical JSON text of set_json (sorted keys, ASCII): plans and runbooks stay byte-identical."""
    return json.dumps(values, sort_keys=True, ensure_ascii=True, separators=(",", ":"))

