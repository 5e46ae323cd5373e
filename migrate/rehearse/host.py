"""A simulated Windows host for the rehearsal, and the Python twin of every host action (docs/runbook.md).

The host is a folder standing for %USERPROFILE% (DIR/.wslconfig, DIR/AppData/Roaming/Docker/settings.json...)
and %ProgramData% (DIR/ProgramData/...). What has no file of its own on Windows (optional features, the resume
task, whether Docker Desktop and its VM run, restarts, the users) is kept in DIR/wsl2-migrate-host.json. Each twin
does to those files and that state what the runbook's PowerShell function does on Windows, with the same checks.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from migrate.assess.predicates import version_key
from migrate.errors import InputError
from migrate.plan.actions import (
    SETTINGS_BACKUP_FORMAT,
    Action,
    BackupFiles,
    CheckHost,
    CheckVmOff,
    CheckWsl,
    EditIni,
    EditJson,
    EnableFeature,
    Finish,
    HostFile,
    InstallWsl,
    MarkRolledBack,
    PrepareBackupFolder,
    Reboot,
    RemoveResumeTask,
    RestoreFiles,
    RestoreJsonKeys,
    RunsProgram,
    SetWslVersion,
    StartDesktop,
    StopDesktop,
    SwitchContainers,
    UpgradeDesktop,
    VerifyBackups,
    VerifyTarget,
    WaitEngine,
    WriteEnvFile,
    WriteSecretValues,
)
from migrate.plan.layout import BACKUP_LAYOUT
from migrate.plan.steps import TIMEOUTS
from migrate.rehearse.interpreter import Context, Host, RunRefused, StepFailed
from migrate.rehearse.journal import measure, write_json_atomic
from migrate.verify.restored import digest_token
from migrate.rehearse.settingsfile import (
    edit_ini_text,
    edit_json_document,
    json_equal,
    restore_json_document,
)

STATE_FILE = "wsl2-migrate-host.json"
STATE_FORMAT = "wsl2-migrate-simulated-host/1"
_FOLDERS = {"%USERPROFILE%": (), "%APPDATA%": ("AppData", "Roaming"), "%LOCALAPPDATA%": ("AppData", "Local"),
            "%ProgramData%": ("ProgramData",), "%ProgramFiles%": ("Program Files",), "%SystemRoot%": ("Windows",)}
RESUME_TASK = "wsl2-migrate-resume"
INSTALLERS = {"wsl": "2.3.26.0", "desktop": "4.36.0"}
"""What installing or updating WSL and Docker Desktop brings on the simulated host, unless its state says otherwise
(state["installers"])."""
WSL_FEATURES = ("Microsoft-Windows-Subsystem-Linux", "VirtualMachinePlatform")



class SimulatedHost(Host):
    """The Windows host as a folder and a state file."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.state_path = root / STATE_FILE
        if not self.state_path.is_file():
            raise InputError(f"{root}: not a simulated host (no {STATE_FILE}): seed it first")
        data = json.loads(self.state_path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
            raise InputError(f"{self.state_path}: not a {STATE_FORMAT} file")
        self.state: dict[str, Any] = data

    # --------------------------------------------------------------------------------------- state and files

    def save(self) -> None:
        write_json_atomic(self.state_path, self.state, keep_backup=False)

    def path(self, template: str) -> Path:
        """A Windows path template mapped into the host folder (\\\\server\\share\\... under DIR/UNC)."""
        for var, parts in _FOLDERS.items():
            if template.startswith(var):
                rest = [p for p in template[len(var):].split("\\") if p]
                return self.root.joinpath(*parts, *rest)
        if template.startswith("\\\\"):
            return self.root.joinpath("UNC", *[p for p in template.split("\\") if p])
        drive, _, rest = template.partition(":")
        return self.root.joinpath(drive.upper(), *[p for p in rest.split("\\") if p])

    def live(self, f: HostFile) -> Path | None:
        """The first candidate that exists (what the runbook's Resolve-HostFile returns)."""
        for c in f.candidates:
            p = self.path(c)
            if p.is_file():
                return p
        return None

    def settings(self) -> dict[str, Any]:
        """Docker Desktop's live settings, keys lower-cased ({} when there is no file)."""
        from migrate.plan.build import DESKTOP_SETTINGS

        p = self.live(DESKTOP_SETTINGS)
        if p is None:
            return {}
        data = json.loads(p.read_text(encoding="utf-8-sig"))
        return {str(k).lower(): v for k, v in data.items()} if isinstance(data, dict) else {}

    def backend(self) -> str:
        """What Docker Desktop runs when started: wsl2, hyperv or windows (Windows containers)."""
        s = self.settings()
        if s.get("usewindowscontainers") is True:
            return "windows"
        return "wsl2" if s.get("wslengineenabled") is True else "hyperv"

    # --------------------------------------------------------------------------------------- the Host protocol

    def twin(self, action: Action) -> Callable[[Action, Context], None]:
        fn = TWINS.get(type(action))
        if fn is None:
            raise StepFailed(f"no twin for host action {action.NAME}")

        def run(a: Action, ctx: Context) -> None:
            # A stop looks first (it waits for Desktop itself only as the first one after a restart); anything else
            # finds a Desktop that was starting at logon there by now.
            if not isinstance(a, StopDesktop):
                self.appear()
            fn(self, a, ctx)
        return run

    def autostart(self) -> bool:
        """Desktop's auto-start setting as its file says now (absent: on, Desktop's default)."""
        return self.settings().get("autostart", True) is not False

    def appear(self) -> None:
        """Docker Desktop, started at logon from its Run entry, is there now."""
        desktop = self.state["desktop"]
        if desktop.get("starting"):
            desktop.update(running=True, starting=False)
            self.state["vms_running"] = self.backend() == "hyperv"
            self.save()

    def engine_up(self, engine: str) -> str:
        self.appear()
        desktop = self.state["desktop"]
        if not desktop["running"]:
            return "Docker Desktop is not running"
        backend = self.backend()
        if engine == "source" and backend != self.state["source_backend"]:
            return f"Docker Desktop now runs the {backend} backend, not the old one"
        if engine == "target" and backend != "wsl2":
            return f"Docker Desktop runs the {backend} backend, not WSL 2"
        if engine == "hyperv" and (backend == "wsl2" or not self.state["vms_running"]):
            # Desktop keeps its Linux engine at its own pipe in Windows mode only while the VM runs.
            return "Docker Desktop's Hyper-V VM is not running" if backend != "wsl2" else \
                "Docker Desktop runs the WSL 2 backend, not the Hyper-V VM"
        return ""

    def boot_id(self) -> str:
        return str(self.state["boot"])

    def lock(self, root: Path) -> Callable[[], None]:
        root.mkdir(parents=True, exist_ok=True)
        fh = open(root / ".wsl2-migrate.lock", "a")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            raise RunRefused(f"{root}: another run of this plan is in progress") from None

        def release() -> None:
            fcntl.flock(fh, fcntl.LOCK_UN)
            fh.close()
        return release

    # --------------------------------------------------------------------------------------- what a user does

    def restart(self) -> None:
        """Windows restarts: a new boot; Desktop starts at logon when its Run entry is there; the task fires.

        The Run entry is what Desktop wrote the last time it ran, from its autoStart setting then: a setting edited
        while Desktop is stopped does not remove it (docker/for-win#13396), so Desktop may start after the restart
        whatever the file says now."""
        self.state["boot"] += 1
        # A feature dism turned on (exit 3010) is on once Windows has restarted.
        self.state["features"] = {k: "Enabled" if v == "EnablePending" else v
                                  for k, v in self.state["features"].items()}
        wsl = self.state.get("wsl")
        if wsl is not None and not wsl["installed"] and \
                self.state["features"].get("Microsoft-Windows-Subsystem-Linux") == "Enabled":
            wsl.update(installed=True, version="")  # the feature brings the inbox wsl.exe, without --version
        at_logon = self.state["desktop"].get("at_logon")
        if at_logon is None:  # a host folder seeded before the Run entry was modelled
            at_logon = self.autostart()
        # Explorer starts it some time after logon: it appears at the first thing the resumed run does, except a
        # stop that looks once without waiting for it (it finds nothing yet; Desktop appears right after).
        self.state["desktop"].update(running=False, starting=bool(at_logon))
        self.state["vms_running"] = False
        self.state["pending_restart"] = False
        self.save()

    def task_registered(self) -> bool:
        return RESUME_TASK in self.state["tasks"]


# ------------------------------------------------------------------------------------------------- twins


def _desktop_stopped(host: SimulatedHost, what: str) -> None:
    if host.state["desktop"]["running"]:
        raise StepFailed(f"Docker Desktop is running: {what} only while it is stopped")


def check_host(host: SimulatedHost, a: CheckHost, ctx: Context) -> None:
    s = host.state
    if not s["is64bit"]:
        raise StepFailed("a 32-bit PowerShell: run the runbook from the 64-bit one")
    if s["user"] != s["interactive_user"]:
        raise StepFailed(f"elevated as {s['user']}, but the desktop user is {s['interactive_user']}")
    if a.expected_user and a.expected_user.lower() != s["user"].lower():
        raise StepFailed(f"the plan was made for {a.expected_user}, this is {s['user']}")
    build, ubr = s["windows"]["build"], s["windows"]["ubr"]
    # The last floor at or below this build applies (the first when none is), as in the runbook.
    floor = [f for f in a.floors if f.build <= build][-1:] or [a.floors[0]]
    if build < floor[0].build or (build == floor[0].build and ubr < floor[0].ubr):
        raise StepFailed(f"Windows build {build}.{ubr} is older than {floor[0].build}.{floor[0].ubr}"
                         + (f" (the {a.edition} edition's minimum)" if a.edition else ""))
    # What shares a drive (the backups and the new WSL disk, both on C: by default) is summed before comparing.
    drives: dict[int, tuple[Path, int, bool, list[str]]] = {}
    for need in a.free_space:
        folder = ctx.root if need.folder == "backup" else host.path(need.folder)
        while not folder.exists():
            folder = folder.parent
        device = folder.stat().st_dev
        _, total, unknown, whats = drives.get(device, (folder, 0, False, []))
        drives[device] = (folder, total + (need.bytes or 0), unknown or need.unknown or need.bytes is None,
                          [*whats, need.what])
    for folder, total, unknown, whats in drives.values():
        what = " and ".join(whats)
        # The simulated host may say what its drives have free (state free_bytes); else the real drive's.
        free = s["free_bytes"] if s.get("free_bytes") is not None else shutil.disk_usage(folder).free
        if free < total:
            raise StepFailed(f"not enough free space for {what}: {free} bytes free, {total} needed")
        if unknown:
            ctx.note(f"{what}: a size is unknown, {total} bytes known, {free} bytes free (the runbook asks before "
                     "it goes on)")
    if a.file_sharing is not None and a.settings is not None:
        _check_file_sharing(host, a, ctx)
    for item in a.manual:
        ctx.note(f"to do by hand: {item}")


def _check_file_sharing(host: SimulatedHost, a: CheckHost, ctx: Context) -> None:
    assert a.file_sharing is not None
    values = host.settings()
    shared = values.get(a.file_sharing.setting.lower())
    backup = str(ctx.root)
    if shared is None:
        ctx.note(f"{a.file_sharing.setting} is not set: Docker Desktop's default sharing applies")
        return
    if a.file_sharing.setting == "sharedDrives":  # the plan's setting says the shape: drive letter -> true
        ok = isinstance(shared, dict) and shared.get(backup[:1].upper()) is True
    else:
        # Windows paths: compared without case, as the runbook does.
        low = backup.lower()
        ok = any(low == str(x).rstrip("/\\").lower() or low.startswith(str(x).rstrip("/\\").lower() + os.sep)
                 for x in (shared if isinstance(shared, list) else [shared]))
    if not ok:
        raise StepFailed(f"the backup folder {backup} is not shared with Docker Desktop's VM "
                         f"({a.file_sharing.setting}): share it in Settings > Resources > File sharing")


def prepare_backup_folder(host: SimulatedHost, a: PrepareBackupFolder, ctx: Context) -> None:
    ctx.root.mkdir(parents=True, exist_ok=True)
    os.chmod(ctx.root, 0o700)  # the runbook: icacls /inheritance:r, the user and SYSTEM only
    for rel in a.folders:
        ctx.root.joinpath(*rel.split("/")).mkdir(parents=True, exist_ok=True)
    ctx.note("backup folder limited to its owner")


def write_env_file(host: SimulatedHost, a: WriteEnvFile, ctx: Context) -> None:
    _export_inspected(a, ctx)


def write_secret_values(host: SimulatedHost, a: WriteSecretValues, ctx: Context) -> None:
    _export_inspected(a, ctx)


def _export_inspected(a: WriteEnvFile | WriteSecretValues, ctx: Context) -> None:
    """Both actions, as Export-InspectedValue: the planned entries read from the engine (an environment variable's
    value is its whole NAME=value entry), refused when gone or holding what the file cannot carry, written as a
    docker env file (no FILE_FORMAT) or a secret-values file."""
    subject = a.subject
    found = _secret_pairs(ctx.docker(a.engine, list(a.inspect_argv()), TIMEOUTS["Probe"]).stdout, subject)
    values = []
    for ref in a.entries:
        if (ref.field, ref.key) not in found:
            raise StepFailed(f"{subject} no longer has the {ref.what}")
        value = found[(ref.field, ref.key)]
        if re.search(a.UNSAFE[0], value):
            raise StepFailed(f"{subject}: the {ref.what} {a.UNSAFE[1]}")
        values.append(value)
    text = "".join(v + "\n" for v in values)
    if a.FILE_FORMAT:
        text = json.dumps({"format": a.FILE_FORMAT, "names": [r.what for r in a.entries],
                           "values": ["=" + v for v in values]})
    path = ctx.root.joinpath(*a.path.split("/"))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    ctx.note(f"{len(values)} value(s) written")


def _secret_pairs(out: str, subject: str) -> dict[tuple[str, str], str]:
    """(field, key) -> value from the inspect output (each field a list of ["=key", "=value"] pairs, then null)."""
    try:
        data = json.loads(out)
    except ValueError:
        raise StepFailed(f"{subject}: docker inspect did not print JSON") from None
    found: dict[tuple[str, str], str] = {}
    for field in (data if isinstance(data, dict) else {}):
        for pair in data[field] or []:
            if pair is None:
                continue
            if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) and x.startswith("=")
                                                                      for x in pair)):
                raise StepFailed(f"{subject}: docker inspect printed an unexpected {field} entry")
            found[(field, pair[0][1:])] = pair[1][1:]
    return found


def verify_backups(host: SimulatedHost, a: VerifyBackups, ctx: Context) -> None:
    verified = {}
    for rel in a.artifacts:
        rec = ctx.artifacts.get(rel)
        if rec is None:
            raise StepFailed(f"{rel} was never recorded")
        if measure(ctx.root, rel) != (rec.size, rec.sha256):
            raise StepFailed(f"backup {rel} changed since it was written (size or sha256 differs)")
        verified[rel] = rec.sha256
    ctx.journal.verified = verified
    ctx.note(f"{len(verified)} artifact(s) verified")


def stop_desktop(host: SimulatedHost, a: StopDesktop, ctx: Context) -> None:
    if ctx.after_restart:
        # The first stop after a restart waits for Desktop's Run entry to start it (Stop-DockerDesktop).
        host.appear()
        ctx.after_restart = False
    if host.state["desktop"]["running"]:
        host.state["desktop"]["running"] = False
        ctx.note("Docker Desktop stopped")
    else:
        ctx.note("Docker Desktop is not running")
    host.state["vms_running"] = False
    if a.shutdown_wsl:
        host.state["wsl_running"] = False
        ctx.note("WSL shut down")
    host.save()


def check_vm_off(host: SimulatedHost, a: CheckVmOff, ctx: Context) -> None:
    if host.state["vms_running"]:
        raise StepFailed(f"the VM ({', '.join(a.names)}) is still running after {a.timeout} s")
    ctx.note("the old VM is off")


def backup_files(host: SimulatedHost, a: BackupFiles, ctx: Context) -> None:
    _desktop_stopped(host, "the settings are backed up")
    manifest = ctx.root.joinpath(*a.manifest.split("/"))
    if manifest.is_file():
        ctx.note(f"kept the backup made earlier ({a.manifest})")
        return
    step = ctx.step
    assert step is not None
    entries = []
    for f in a.files:
        live = host.live(f)
        entry: dict[str, Any] = {"key": f.key, "path": str(live or host.path(f.candidates[0])), "present": False,
                                 "backup": "", "sha256": ""}
        if live is not None:
            rel = f.backup
            target = ctx.root.joinpath(*rel.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(live, target)
            ctx.record_artifact(step, rel, "settings-backup", str(live))
            entry.update(present=True, backup=rel, sha256=ctx.artifacts[rel].sha256)
        entries.append(entry)
    manifest.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(manifest, {"format": SETTINGS_BACKUP_FORMAT, "files": entries}, keep_backup=False)
    ctx.note(f"{sum(e['present'] for e in entries)} file(s) copied")


def _live_or_new(host: SimulatedHost, f: HostFile, create: bool) -> Path:
    live = host.live(f)
    if live is None:
        if not create:
            raise StepFailed(f"{f.key}: none of {', '.join(f.candidates)} exists")
        live = host.path(f.candidates[0])
    return live


def edit_json(host: SimulatedHost, a: EditJson, ctx: Context) -> None:
    assert a.file is not None
    _desktop_stopped(host, f"{a.file.key} is edited")
    path = _live_or_new(host, a.file, a.create)
    before = json.loads(path.read_text(encoding="utf-8-sig")) if path.is_file() else {}
    if not isinstance(before, dict):
        raise StepFailed(f"{path}: not a JSON object")
    after, previous = edit_json_document(before, json.loads(a.set_json), a.remove, a.ignore_case)
    state = ctx.journal.state(ctx.step.id if ctx.step else "")
    if "previous" not in state.record:  # written once: a re-run must not record its own earlier edit
        state.record["previous"] = previous
        ctx.save()
    _write_json_file(path, after)
    if not json_equal(json.loads(path.read_text(encoding="utf-8")), after):
        raise StepFailed(f"{path}: the file does not read back as written")
    ctx.note(f"{path.name}: {len(previous)} key(s) set or removed")


def restore_json_keys(host: SimulatedHost, a: RestoreJsonKeys, ctx: Context) -> None:
    assert a.file is not None
    _desktop_stopped(host, f"{a.file.key} is edited")
    previous = ctx.journal.state(a.from_step).record.get("previous")
    if previous is None:
        raise StepFailed(f"{a.from_step} recorded no previous values")
    path = _live_or_new(host, a.file, False)
    before = json.loads(path.read_text(encoding="utf-8-sig"))
    after = restore_json_document(before, previous, a.keys, a.ignore_case)
    _write_json_file(path, after)
    ctx.note(f"{', '.join(a.keys)} put back")


def _write_json_file(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def edit_ini(host: SimulatedHost, a: EditIni, ctx: Context) -> None:
    assert a.file is not None
    path = _live_or_new(host, a.file, True)
    raw = path.read_bytes() if path.is_file() else b""
    text, added = edit_ini_text(raw, a.section, [(e.key, e.value) for e in a.add])
    if added:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text)
    ctx.note(f"{path.name}: added {', '.join(added) or 'nothing (every key was set)'}")


def reboot(host: SimulatedHost, a: Reboot, ctx: Context) -> None:
    if not ctx.journal.reboot_needed:
        ctx.note("no restart needed")
        return
    # The runbook's task runs a copy of the runbook only Administrators can change, at normal priority.
    host.state["tasks"][RESUME_TASK] = {"trigger": "logon", "battery": True, "time_limit": 0, "priority": 4,
                                        "script": "ProgramData/wsl2-migrate/" + RESUME_TASK + ".ps1"}
    host.state["pending_restart"] = True
    host.save()
    ctx.journal.boot_time = host.boot_id()
    ctx.stop_requested = True
    ctx.note("restart Windows now; the run resumes after you log on")


def _version_at_least(have: str, need: str) -> bool:
    a, b = version_key(have), version_key(need)
    return a is not None and b is not None and a >= b


def _wsl(host: SimulatedHost) -> dict[str, Any]:
    return host.state.setdefault("wsl", {"installed": True, "version": INSTALLERS["wsl"], "default_version": 2})


def run_program(host: SimulatedHost, a: RunsProgram, ctx: Context) -> None:
    """enable-feature, install-wsl, set-wsl-default-version, upgrade-desktop: the program run the action plans
    (a.run), as the runbook's Invoke-HostProgram carries it out; what the program does to the host is _EFFECTS'."""
    r = a.run
    version = _probe(host, r.probe)
    if r.probe and _version_at_least(version, r.min_version):
        ctx.note(f"{r.what} {version} is already installed")
        return
    if not r.program:
        raise StepFailed(f"{r.what} {version or '(version unknown)'} is older than {r.min_version}, {r.manual}, then "
                         "resume")
    if r.requires and not host.path(r.requires).is_file():
        raise StepFailed(f"{r.requires}: {r.missing}")
    if r.stopped:
        _desktop_stopped(host, r.stopped)
    code = _EFFECTS[type(a)](host, a)
    host.save()
    if code not in r.ok_exit_codes:
        raise StepFailed(f"{r.program} exited with code {code}")
    done = r.done
    if code in r.restart_exit_codes:
        ctx.journal.reboot_needed = True
        ctx.journal.reboot_requested_by = ctx.step.id if ctx.step else ""
        done += f"; Windows must restart (exit code {code})"
    if r.recheck:
        version = _probe(host, r.probe)
        if not _version_at_least(version, r.min_version):
            raise StepFailed(f"{r.what} is {version} afterwards, still older than {r.min_version}")
        done += f" ({version})"
    ctx.note(done)


def _probe(host: SimulatedHost, probe: str) -> str:
    """The version a planned probe reads ('' none): `wsl --version` (the inbox WSL has none), Desktop's entry."""
    if probe == "wsl":
        wsl = _wsl(host)
        return str(wsl.get("version", "")) if wsl["installed"] else ""
    return str(host.state["desktop"].get("version", "")) if probe == "desktop" else ""


def _enable_feature(host: SimulatedHost, a: EnableFeature) -> int:
    features = host.state["features"]
    if features.get(a.name) == "Enabled":
        return 0
    features[a.name] = "EnablePending"
    return 3010  # what dism.exe exits with for a feature that is on once Windows has restarted


def _upgrade_desktop(host: SimulatedHost, a: UpgradeDesktop) -> int:
    host.state["desktop"]["version"] = host.state.get("installers", INSTALLERS)["desktop"]
    return 0


def _install_wsl(host: SimulatedHost, a: InstallWsl) -> int:
    wsl = _wsl(host)
    if not a.msi and not wsl["installed"] and not a.wsl_arguments[0] == "--install":
        raise StepFailed("wsl.exe --update: WSL is not installed (the plan asks for --install)")
    wsl.update(installed=True, version=host.state.get("installers", INSTALLERS)["wsl"])
    if a.wsl_arguments[:1] == ("--install",) and wsl.get("default_version") is None:
        wsl["default_version"] = 2  # `wsl --install` makes WSL 2 the default
    return 0


def _set_wsl_default_version(host: SimulatedHost, a: SetWslVersion) -> int:
    wsl = _wsl(host)
    if not wsl["installed"]:
        raise StepFailed("wsl.exe: WSL is not installed")
    # A feature the host facts did not list is taken as on, as in check-wsl.
    if a.version == 2 and host.state["features"].get("VirtualMachinePlatform", "Enabled") != "Enabled":
        raise StepFailed("WSL 2 needs the Virtual Machine Platform feature (on, and Windows restarted since)")
    wsl["default_version"] = a.version
    return 0


_EFFECTS: dict[type[Action], Callable[..., int]] = {
    EnableFeature: _enable_feature, UpgradeDesktop: _upgrade_desktop, InstallWsl: _install_wsl,
    SetWslVersion: _set_wsl_default_version,
}
"""What each program does to the simulated host, and the exit code it ends with (a failure raises StepFailed with
what the program would write)."""


def check_wsl(host: SimulatedHost, a: CheckWsl, ctx: Context) -> None:
    wsl = _wsl(host)
    off = [f for f in WSL_FEATURES if host.state["features"].get(f, "Enabled") != "Enabled"]
    if not wsl["installed"] or off:
        raise StepFailed("wsl --status fails: " + ("WSL is not installed" if not wsl["installed"] else
                         f"{', '.join(off)} is not on (or Windows has not restarted since it was turned on)"))
    version = str(wsl.get("version", ""))
    if a.min_version and not version:
        raise StepFailed("wsl --version fails: this is the inbox WSL; install the WSL package (wsl --update)")
    if a.min_version and not _version_at_least(version, a.min_version):
        raise StepFailed(f"WSL {version} is older than {a.min_version}")
    default = wsl.get("default_version")
    if a.default_version and default is not None and default != a.default_version:
        raise StepFailed(f"WSL's default version is {default}, not {a.default_version}")
    ctx.note(f"WSL {version or '(inbox)'} answers")


def start_desktop(host: SimulatedHost, a: StartDesktop, ctx: Context) -> None:
    if not host.path(a.exe).is_file():
        raise StepFailed(f"{a.exe}: Docker Desktop is not installed there")
    # Desktop applies its auto-start setting when it runs: its Run entry follows the file from now on.
    host.state["desktop"].update(running=True, elevated=False,
                                 at_logon=host.autostart())
    host.state["vms_running"] = host.backend() == "hyperv"
    host.save()
    ctx.note(f"Docker Desktop started ({host.backend()})")


def wait_engine(host: SimulatedHost, a: WaitEngine, ctx: Context) -> None:
    why = host.engine_up(a.engine)
    if why:
        raise StepFailed(f"no {a.engine} engine within {a.timeout} s: {why}")
    problem = ctx.prove_engine(a.engine)
    if problem:
        raise StepFailed(f"the engine that answers is not the expected one: {problem}")
    problems = [p for p in (ctx.check(a.engine, c) for c in a.checks) if p]
    if problems:
        raise StepFailed("the new engine lacks settings: " + "; ".join(problems))
    proved = ctx.journal.engines[a.engine]
    ctx.note(f"{a.engine} engine: {proved['os']} {proved['kernel']}")


def _answers(host: SimulatedHost, engine: str, ctx: Context) -> str:
    """'' when the engine answers as the program expects (and it is recorded), else why not."""
    return host.engine_up(engine) or ctx.prove_engine(engine)


def switch_containers(host: SimulatedHost, a: SwitchContainers, ctx: Context) -> None:
    if not _answers(host, a.engine, ctx):
        ctx.note(f"the {a.engine} engine answers as expected: no switch")
        return
    if not host.state["desktop"]["running"]:
        raise StepFailed(f"Docker Desktop is not running: it switches to {a.to} containers only while it runs")
    if not host.path(a.run.requires).is_file():
        raise StepFailed(f"{a.run.requires}: {a.run.missing}")
    # DockerCli.exe keeps the mode in Desktop's settings; switching to Linux containers starts the VM, which keeps
    # running after a switch back to Windows containers (docker/for-win#14675).
    from migrate.plan.build import DESKTOP_SETTINGS

    path = host.live(DESKTOP_SETTINGS)
    if path is None:
        raise StepFailed("Docker Desktop has no settings file to switch in")
    before = json.loads(path.read_text(encoding="utf-8-sig"))
    after, _ = edit_json_document(before, {"useWindowsContainers": a.to == "windows"}, (), True)
    _write_json_file(path, after)
    if a.to == "linux":
        host.state["vms_running"] = True
    host.save()
    ctx.note(f"Docker Desktop switched to {a.to} containers")
    why = _answers(host, a.engine, ctx)
    if why:
        raise StepFailed(f"no {a.engine} engine as expected within {a.timeout} s of the switch: {why}")


def verify_target(host: SimulatedHost, a: VerifyTarget, ctx: Context) -> None:
    problems = [p for p in (ctx.check("target", c) for c in a.checks) if p]
    for v in a.volumes:
        b, t = _digest_token(ctx, v.backup_digest), _digest_token(ctx, v.target_digest)
        if not b or not t:
            problems.append(f"volume {v.name}: a digest file is missing or malformed")
        elif b != t:
            problems.append(f"volume {v.name}: content differs (before {b}, after {t})")
    if problems:
        raise StepFailed("; ".join(problems[:10]) + (f" (+{len(problems) - 10} more)" if len(problems) > 10 else ""))
    ctx.note(f"{len(a.checks)} check(s) and {len(a.volumes)} volume digest(s) as planned")


def _digest_token(ctx: Context, rel: str) -> str:
    return digest_token(ctx.root.joinpath(*rel.split("/")))


def finish(host: SimulatedHost, a: Finish, ctx: Context) -> None:
    host.state["tasks"].pop(RESUME_TASK, None)
    host.save()
    ctx.journal.finished = ctx.clock()
    ctx.note("finished; the old backend's disk and the backups are untouched")


def remove_resume_task(host: SimulatedHost, a: RemoveResumeTask, ctx: Context) -> None:
    removed = host.state["tasks"].pop(RESUME_TASK, None) is not None
    host.save()
    ctx.note("resume task removed" if removed else "no resume task")


def restore_files(host: SimulatedHost, a: RestoreFiles, ctx: Context) -> None:
    _desktop_stopped(host, "the settings are put back")
    manifest = ctx.root.joinpath(*a.manifest.split("/"))
    data = json.loads(manifest.read_text(encoding="utf-8")) if manifest.is_file() else None
    if data is None:
        ctx.note("no settings backup: nothing to put back")
        return
    for entry in data.get("files", []):
        path = Path(entry["path"])
        if entry["present"]:
            copy = ctx.root.joinpath(*str(entry["backup"]).split("/"))
            if measure(ctx.root, entry["backup"])[1] != entry["sha256"]:
                raise StepFailed(f"{copy} does not match its recorded hash: not restoring it")
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(copy, path)
        elif path.is_file():
            aside = ctx.root / BACKUP_LAYOUT["Rollback"]
            aside.mkdir(exist_ok=True)
            os.replace(path, aside / path.name)
    ctx.note("settings files put back")


def mark_rolled_back(host: SimulatedHost, a: MarkRolledBack, ctx: Context) -> None:
    ctx.journal.rolled_back = ctx.clock()
    ctx.note("journal marked rolled back")


TWINS: dict[type[Action], Callable[..., None]] = {
    CheckHost: check_host, PrepareBackupFolder: prepare_backup_folder, WriteEnvFile: write_env_file,
    WriteSecretValues: write_secret_values,
    VerifyBackups: verify_backups, StopDesktop: stop_desktop, CheckVmOff: check_vm_off, BackupFiles: backup_files,
    UpgradeDesktop: run_program, EditJson: edit_json, RestoreJsonKeys: restore_json_keys, EditIni: edit_ini,
    EnableFeature: run_program, Reboot: reboot, InstallWsl: run_program, SetWslVersion: run_program,
    CheckWsl: check_wsl, StartDesktop: start_desktop, WaitEngine: wait_engine, SwitchContainers: switch_containers,
    VerifyTarget: verify_target,
    Finish: finish, RemoveResumeTask: remove_resume_task, RestoreFiles: restore_files, MarkRolledBack: mark_rolled_back,
}
"""Each host action's Python twin (docs/runbook.md lists them beside the PowerShell functions)."""


# ------------------------------------------------------------------------------------------------- seeding


def _seed_wsl(host: Any | None) -> dict[str, Any]:
    """WSL as the host facts saw it (as a current one when there are none)."""
    if host is None or host.wsl_installed is None:
        return {"installed": True, "version": INSTALLERS["wsl"], "default_version": 2}
    return {"installed": bool(host.wsl_installed), "version": host.wsl_version,
            "default_version": host.wsl_default_version}


def _seed_desktop_version(inv: Any | None) -> str:
    """Docker Desktop's version as the inventory knows it ('' when it does not)."""
    if inv is None:
        return ""
    from migrate.assess.facts import Facts

    return str(Facts(inv).get(inv, "desktop_version"))


def seed_host(root: Path, plan: Any, inv: Any | None, backup_root: Path) -> list[str]:
    """Make root a simulated host for the plan: the state file, and each host file the plan reads that root lacks,
    from the inventory's copy (or as a Docker Desktop of the plan's backend has it). Returns what it seeded."""
    from migrate.plan.build import DAEMON_LINUX, DAEMON_WINDOWS, WSLCONFIG

    seeded: list[str] = []
    root.mkdir(parents=True, exist_ok=True)
    host = inv.host if inv is not None else None
    lcow = plan.source_backend == "lcow"
    if not (root / STATE_FILE).is_file():
        user = plan.switch.desktop_user or "WORKSTATION\\user"
        features = {str(k): str(v) for k, v in (host.features if host is not None else {}).items()}
        for name in plan.switch.enable_features:
            features.setdefault(name, "Disabled")
        state = {"format": STATE_FORMAT, "user": user, "interactive_user": user, "is64bit": True,
                 "windows": {"build": (host.build if host and host.build else 19045),
                             "ubr": (host.revision if host and host.revision is not None else 3803)},
                 "desktop": {"running": True, "elevated": False}, "vms_running": not lcow or _vm_runs(inv),
                 "features": features, "boot": 1, "tasks": {}, "pending_restart": False, "wsl_running": False,
                 "source_backend": "windows" if lcow else "hyperv", "wsl": _seed_wsl(host),
                 "installers": dict(INSTALLERS)}
        state["desktop"]["version"] = _seed_desktop_version(inv)
        write_json_atomic(root / STATE_FILE, state, keep_backup=False)
        seeded.append(STATE_FILE)
    sim = SimulatedHost(root)
    desktop = inv.settings.desktop if inv is not None else None
    from migrate.plan.build import DESKTOP_SETTINGS

    if sim.live(DESKTOP_SETTINGS) is None:
        values: dict[str, Any] = dict(desktop.values) if desktop is not None else {}

        def put(key: str, value: Any, keep: bool = False) -> None:
            have = next((k for k in values if k.lower() == key.lower()), None)
            if have is None or not keep:
                values[have or key] = value

        put("autoStart", True, keep=True)
        put("wslEngineEnabled", False)
        if lcow:
            put("useWindowsContainers", True)
        if plan.switch.file_sharing == "filesharingDirectories":
            shared = [str(x) for x in values.get("filesharingdirectories", [])]
            values["filesharingdirectories"] = [*shared, str(backup_root)]
        elif plan.switch.file_sharing == "sharedDrives":
            values["shareddrives"] = {**dict(values.get("shareddrives") or {}), str(backup_root)[:1].upper(): True}
        name = DESKTOP_SETTINGS.candidates[0 if desktop is not None and desktop.format == "settings-store.json"
                                           else 1]
        _write_json_file(sim.path(name), values)
        seeded.append(name)
    if "at_logon" not in sim.state["desktop"]:
        sim.state["desktop"]["at_logon"] = sim.autostart()
        sim.save()
    for f, cfg in ((DAEMON_LINUX, inv.settings.daemon_linux if inv else None),
                   (DAEMON_WINDOWS, inv.settings.daemon_windows if inv else None)):
        if cfg is not None and sim.live(f) is None:
            _write_json_file(sim.path(f.candidates[0]), cfg.values)
            seeded.append(f.candidates[0])
    wsl = inv.settings.wslconfig if inv is not None else None
    if wsl is not None and sim.live(WSLCONFIG) is None:
        text = "".join(f"[{sec}]\r\n" + "".join(f"{k}={v}\r\n" for k, v in keys.items())
                       for sec, keys in wsl.values.items() if isinstance(keys, dict))
        sim.path(WSLCONFIG.candidates[0]).write_bytes(text.encode("utf-8"))
        seeded.append(WSLCONFIG.candidates[0])
    # Programs the plan starts: Docker Desktop, the installers it names (their content is never read), and
    # DockerCli.exe for an LCOW host's second engine.
    for program in (plan.switch.desktop_exe, plan.switch.desktop_installer, plan.switch.wsl_msi,
                    plan.hyperv.desktop_cli if plan.hyperv is not None else ""):
        exe = sim.path(program) if program else None
        if exe is not None and not exe.exists():
            exe.parent.mkdir(parents=True, exist_ok=True)
            exe.write_bytes(b"")
            seeded.append(program)
    return seeded


def _vm_runs(inv: Any | None) -> bool:
    """An LCOW host's Hyper-V VM runs (its Linux engine answers while Desktop runs Windows containers) when the
    scan read that engine or the host facts say so."""
    he = inv.hyperv_engine if inv is not None else None
    return he is not None and (he.read or he.vm_state.lower() == "running")
