"""The runbook emitter: a program rendered as PowerShell data decodes back to exactly that program.

Programs come two ways: the samples' real plans (scan -> assess -> decide -> plan.toml -> parse -> build_program), and
a hand-made program with one step of every host action and docker steps using backup-folder paths, with hostile
values in every string field the step model lets carry one. tests/psdata.py decodes the generated literals; every
pre-encoded command line is split back by tests/winsplit.py. The library's own properties are in test_runbook_lib.py.
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tree_sitter import Node

from migrate.emit.runbook import RunbookMeta, render_runbook
from migrate.errors import PlanError
from migrate.plan.actions import (
    ACTION_NAMES,
    Action,
    BackupFiles,
    BuildFloor,
    CheckHost,
    CheckVmOff,
    CheckWsl,
    EditIni,
    EditJson,
    EnableFeature,
    FileSharing,
    Finish,
    FreeSpace,
    HostFile,
    IniEntry,
    InstallWsl,
    MarkRolledBack,
    PrepareBackupFolder,
    Reboot,
    RemoveResumeTask,
    RestoreFiles,
    RestoreJsonKeys,
    SetWslVersion,
    StartDesktop,
    StopDesktop,
    SwitchContainers,
    TargetVolume,
    UpgradeDesktop,
    VerifyBackups,
    VerifyTarget,
    WaitEngine,
    SecretRef,
    WriteEnvFile,
    WriteSecretValues,
)
from migrate.plan.checks import Check
from migrate.plan.redact import display
from migrate.plan.steps import (
    PHASES,
    TIMEOUTS,
    Artifact,
    BackupPath,
    Docker,
    EngineExpect,
    Program,
    SecretValue,
    Step,
    Word,
)
from tests.psdata import assignments, program_data, segments_text
from tests.pslint import lint, text, walk
from tests.pslit import parse_powershell, syntax_problems
from tests.winsplit import SPLITTERS
from tests.runbook_check import (
    ENV_PAIRS,
    ROOTS,
    fake_secret,
    run_time_secret,
    expected_value,
    mismatches,
    pascal,
    planned,
    split_problems,
    step_mismatches,
)

HOSTILE = [
    "it's",
    "\u2018single\u2019 \u201alow\u201b",
    '"; Remove-Item -Recurse -Force C:\\ ; "',
    "$(Remove-Item C:\\Windows)",
    "`$x `n back`ticks`",
    "line1\nline2\r\nend\t",
    "caf\u00e9 \u65e5\u672c \U0001f600",
    "",
    "  spaced  ",
    "trailing\\",
    'a"b\\"c\\\\',
    "#> <# not a comment",
    "@{x=1}; $true | Out-Null",
    "\u00a0nbsp\u2028ls\x85nel \udc80",
    "--%",
    "%PATH% ^&|<> @'\n'@",
]
"""Every PowerShell quote kind, subexpressions, backticks, line breaks, '"', trailing backslashes, the empty string,
non-ASCII (astral, a lone surrogate, Unicode line breaks), the stop-parsing token, a here-string, a comment end."""
NONEMPTY = [v for v in HOSTILE if v]
ENV_NAMES = [v for v in NONEMPTY if "=" not in v and "\n" not in v]
"""What write-env-file accepts as variable names."""
WINPATHS = ["%APPDATA%\\it's $(x) `y` caf\u00e9 \u2018q\u2019 # @{z} ;\\settings-store.json",
            "%USERPROFILE%\\\u65e5\u672c\\trailing\\",
            "C:\\Program Files\\Docker\u2019s $env:x\\Docker Desktop.exe"]
"""Windows path templates the step model accepts (a known %VARIABLE% or a drive; no '"' or control characters)."""
INI_VALUE = "it's \"q\" $(x) `y` caf\u00e9 \u2019 @{z} C:\\dir\\"
INSTALLERS = ["C:\\it's $(x) `y` caf\u00e9 \u2018q\u2019 # @{z}\\Docker Desktop Installer.exe",
              "\\\\srv\\it's $(x)\\`y` caf\u00e9 #\\wsl.2.3.26.0.x64.msi"]
"""Installer paths the step model accepts (full local or UNC paths, no '"', wildcards or control characters)."""
"""An ini value edit-ini accepts (one line, no comment characters, no surrounding blanks)."""
HASH = "0123456789abcdef" * 4
SECRET = "S3CRET-0PT-value"
"""A secret that a recover command carries in a driver option: the display must hide it."""


def _hostile(value: str) -> bool:
    """A string PowerShell or a Windows command line would treat specially somewhere."""
    specials = "'\"`$#\n\r\\\u2018\u2019\u201a\u201b"
    return value == "" or not value.isascii() or any(c in value for c in specials)


def _program(h: bool) -> Program:
    """One step of every host action and docker steps with backup-folder paths; h: hostile values everywhere."""
    def t(i: int) -> str:
        return HOSTILE[i % len(HOSTILE)] if h else f"text {i}"

    def n(i: int) -> str:
        return NONEMPTY[i % len(NONEMPTY)] if h else f"name{i}"

    texts = tuple(HOSTILE) if h else ("a", "b c")
    paths = WINPATHS if h else ["%APPDATA%\\Docker\\settings-store.json", "%USERPROFILE%\\.wslconfig",
                                "%ProgramFiles%\\Docker\\Docker\\Docker Desktop.exe"]
    settings_file = HostFile("desktop-settings", (paths[0], "%APPDATA%\\Docker\\settings.json"))
    daemon = HostFile("daemon-linux", (paths[1] + "daemon.json",))
    wslconfig = HostFile("wslconfig", (paths[1] + ".wslconfig",))
    odd = "volumes/it's $(x) `y` caf\u00e9 #> \u2018q\u2019 @{z}" if h else "volumes/v"
    checks = (
        Check(t(1), ("info", "--format", *texts, "--", t(2)), t(3) or "x", "has-word"),
        Check(n(4), ("image", "inspect", "--format", "{{.Id}}", "--", t(5)), t(6) + "{recorded}",
              recorded_from=t(7) if h else "backup/commit/c"),
    )
    set_values = {"wslEngineEnabled": True, n(8): t(9), n(10): [True, None, 1.5, t(11)]} if h else \
        {"wslEngineEnabled": True, "autoStart": False}
    vol = n(12)
    run_backup = ("run", "--rm", "--network", "none", "-v", f"{vol}:/data:ro",
                  "-v", Word((BackupPath(odd.split("/")[0]), ":/backup")), "--", "busybox:1.36",
                  "tar", "-c", "-f", "/backup/v.tar", "-C", "/data", ".")
    wild: tuple[Any, ...] = ("run", *texts, "-v", Word((t(13), BackupPath(odd), ':/b"q\\')), BackupPath(""),
                             Word((BackupPath("verify"), "\\")), Word(("a\\\\", BackupPath("images/x.tar"))),
                             Word((BackupPath("settings"), BackupPath("verify"))), Word((t(14), "plain")), "--")
    steps = [
        Step("preflight/check-host", "preflight", t(0),
             CheckHost(floors=(BuildFloor(18362, 1049), BuildFloor(18363, 1049)),
                       edition=t(1) if h else "enterprise",
                       free_space=(FreeSpace("backup", 10 ** 12, t(1)), FreeSpace(paths[1], None, t(2))),
                       expected_user=t(3), settings=settings_file, file_sharing=FileSharing("filesharingDirectories"),
                       manual=tuple(NONEMPTY) if h else ("RULE1: do it",)),
             target=t(4), mutating=False, findings=texts),
        Step("preflight/backup-folder", "preflight", t(5),
             PrepareBackupFolder(folders=("images", "volumes", "secrets/env", "settings", "verify")),
             target="", depends_on=("preflight/check-host",)),
        Step("freeze/stop/c", "freeze", t(6), Docker("source", ("stop", "-t", "10", "--", n(7)), 130,
                                                     display=t(8) if h else "stop c"),
             target=t(9), depends_on=(t(10),), findings=(t(11),)),
        Step("backup/commit/c", "backup", t(12), Docker("source", ("commit", "--", n(13), "wsl2-migrate/c:1"),
                                                        21600, record_output=True, display="commit c"),
             target=t(14)),
        Step("backup/env/c", "backup", t(15),
             WriteEnvFile(container=n(0), path="secrets/env/c.env", names=tuple(ENV_NAMES) if h else ("TOKEN",)),
             target=t(1), produces=(Artifact("secrets/env/c.env", t(2) if h else "env-file", t(3), secret=True),)),
        Step("backup/secrets/c", "backup", t(3),
             WriteSecretValues(kind="container", object=n(0), path="secrets/values/c.json",
                               entries=(SecretRef("labels", t(1) or "k"), SecretRef("log_opts", n(2)))),
             target=t(4), produces=(Artifact("secrets/values/c.json", "secret-values", t(5), secret=True),)),
        Step("backup/save/images", "backup", t(4),
             Docker("source", ("save", "-o", BackupPath("images/images.tar"), "--", *texts), 3600,
                    display="save", progress="images/images.tar"),
             produces=(Artifact("images/images.tar", "image-archive", t(5)),)),
        Step("backup/volume/v", "backup", t(6), Docker("source", run_backup, 900, display=display(run_backup)),
             produces=(Artifact(odd + ".tar" if h else "volumes/v.tar", "volume-archive", vol),)),
        Step("backup/hyperv/engine", "backup", t(3), SwitchContainers(to="linux", engine="hyperv", exe=paths[2],
                                                                      timeout=900)),
        Step("backup/hyperv/env/c", "backup", t(15),
             WriteEnvFile(engine="hyperv", container=n(2), path="secrets/env/h.env", names=("TOKEN",)),
             target=t(1), produces=(Artifact("secrets/env/h.env", "env-file", t(3), secret=True),)),
        Step("backup/verify", "backup", t(7), VerifyBackups(), mutating=False),
        Step("switch/stop-desktop", "switch", t(8), StopDesktop(timeout=90, shutdown_wsl=True)),
        Step("switch/vm-off", "switch", t(9), CheckVmOff(names=(n(1), n(2)), timeout=60), mutating=False),
        Step("switch/backup-settings", "switch", t(10), BackupFiles(files=(settings_file, daemon, wslconfig)),
             produces=(Artifact("settings/manifest.json", "settings-backup", t(11)),)),
        Step("switch/upgrade-desktop", "switch", t(11),
             UpgradeDesktop(installer=INSTALLERS[0] if h else "D:\\pkgs\\Docker Desktop Installer.exe")),
        Step("switch/settings", "switch", t(12),
             EditJson(file=settings_file, set_json=json.dumps(set_values, ensure_ascii=False),
                      remove=(n(3), n(5)) if h else ("useWindowsContainers",), ignore_case=True)),
        Step("switch/daemon-config-linux", "switch", t(13),
             EditJson(file=daemon, set_json=json.dumps({"registry-mirrors": [t(1), t(2)]}),
                      remove=("data-root", n(6)), create=True)),
        Step("switch/wslconfig", "switch", t(14),
             EditIni(file=wslconfig, add=(IniEntry("memory", INI_VALUE if h else "4GB"),
                                          IniEntry("processors", "2")))),
        Step("switch/feature/vmp", "switch", t(15), EnableFeature(name="VirtualMachinePlatform")),
        Step("switch/reboot", "switch", t(0), Reboot()),
        Step("switch/install-wsl", "switch", t(1),
             InstallWsl(program="msiexec.exe", wsl_arguments=(), msi=INSTALLERS[1], skip_from="2.1.5",
                        ok_exit_codes=(0, 3010), restart_exit_codes=(3010,)) if h else
             InstallWsl(wsl_arguments=("--update", "--web-download"), skip_from="2.1.5")),
        Step("switch/wsl-default-version", "switch", t(2), SetWslVersion(version=2)),
        Step("switch/check-wsl", "switch", t(3), CheckWsl(min_version="2.1.5"), mutating=False),
        Step("switch/autostart", "switch", t(1),
             RestoreJsonKeys(file=settings_file, keys=(n(8), n(9)), from_step=n(10), ignore_case=True)),
        Step("switch/start-desktop", "switch", t(2), StartDesktop(exe=paths[2])),
        Step("switch/wait-engine", "switch", t(3), WaitEngine(engine="target", timeout=600, checks=checks),
             mutating=False),
        Step("restore/load/images", "restore", t(4),
             Docker("target", ("load", "-i", BackupPath("images/images.tar")), 3600, checks=checks, display="load"),
             consumes=("images/images.tar",)),
        Step("restore/volume-data/v", "restore", t(5),
             Docker("target", ("run", "--rm", "-v", f"{vol}:/data", "-v", Word((BackupPath("volumes"), ":/b:ro")),
                               "--", "busybox:1.36", "sh", "-c", t(6) or "x", "sh", "/b/v.tar"), 900,
                    recover=(("volume", "rm", "--", vol),
                             ("volume", "create", "--opt", f"password={SECRET}", "--label", f"k={t(7)}",
                              "--opt", SecretValue("secrets/values/c.json", 1, f"{t(8)}="), "--", vol)),
                    display="restore"),
             consumes=(odd + ".tar" if h else "volumes/v.tar",), only_if_started=t(8)),
        Step("restore/create/c", "restore", t(9),
             Docker("target", ("create", "--env-file", BackupPath("secrets/env/c.env"), "--name", n(10),
                               "--label", *(f"k={v}" for v in texts),
                               "--label", SecretValue("secrets/values/c.json", 0, f"{t(1) or 'k'}="),
                               "--log-opt", SecretValue("secrets/values/c.json", 1, "splunk-token="),
                               "--", "img:1", *texts), 300,
                    workdir=paths[1] if h else "", ok_exit_codes=(0, 1, 3010), display=t(11))),
        Step("restore/odd", "restore", t(12), Docker("target", wild, 7 * 86400, display=t(13) if h else "odd",
                                                     workdir="C:\\p q\\" if h else "C:\\p")),
        Step("verify/target", "verify", t(14),
             VerifyTarget(checks=checks, volumes=(TargetVolume(n(11), "volumes/a.digest", "verify/a.digest"),
                                                  TargetVolume(n(12), "volumes/b.digest", "verify/b.digest"))),
             mutating=False),
        Step("cleanup/finish", "cleanup", t(15), Finish()),
    ]
    if h:
        steps += [Step(f"verify/title/{i}", "verify", v, Docker("target", ("version",), 60, display=v),
                       target=v, mutating=False) for i, v in enumerate(HOSTILE)]
    rollback = (
        Step("rollback/remove-task", "rollback", t(0), RemoveResumeTask()),
        Step("rollback/restore-settings", "rollback", t(1), RestoreFiles(), only_if_started="switch/backup-settings"),
        Step("rollback/start/c", "rollback", t(2), Docker("source", ("start", "--", n(3)), 120, display="start"),
             only_if_started=t(4) if h else "freeze/stop/c"),
        Step("rollback/windows-containers", "rollback", t(4), SwitchContainers(to="windows", engine="source"),
             only_if_started="backup/hyperv/engine"),
        Step("rollback/mark", "rollback", t(5), MarkRolledBack()),
    )
    engines = {"source": EngineExpect(os=t(6) if h else "linux"),
               "target": EngineExpect(os="linux", kernel_contains=t(7) if h else "microsoft-standard",
                                      not_source=True),
               "hyperv": EngineExpect(os="linux", kernel_contains=t(8) if h else "linuxkit")}
    # The gate lists what the steps before it write, as the planner computes it (Program refuses anything else).
    gate = next(i for i, s in enumerate(steps) if s.id == "backup/verify")
    written = tuple(sorted({a.path for s in steps[:gate] for a in s.produces}))
    steps[gate] = dataclasses.replace(steps[gate], op=VerifyBackups(written))
    return Program(steps=tuple(steps), rollback=rollback, engines=engines)


def _meta(h: bool, plan_hash: str = HASH) -> RunbookMeta:
    if h:
        return RunbookMeta(plan_hash, HOSTILE[2], "D:\\it\u2019s \"x\" $(y) `z", HOSTILE[3], tuple(HOSTILE),
                           hyperv_engine=HOSTILE[4])
    return RunbookMeta(plan_hash, "0.1.0", "D:\\wsl2-migrate", "hyperv")


PLAIN = _program(False)
HOSTILE_PROGRAM = _program(True)


@pytest.fixture(scope="module")
def plain() -> str:
    return render_runbook(PLAIN, _meta(False))


@pytest.fixture(scope="module")
def hostile() -> str:
    return render_runbook(HOSTILE_PROGRAM, _meta(True))


def _script(which: str, plain: str, hostile: str) -> str:
    return plain if which == "plain" else hostile


# ---------------------------------------------------------------------------------------------------------------
# the hand-made programs are what they claim


def test_the_hand_made_program_has_a_step_of_every_host_action() -> None:
    for program in (PLAIN, HOSTILE_PROGRAM):
        used = {s.action for s in (*program.steps, *program.rollback) if s.action}
        assert used == set(ACTION_NAMES)
        words = [a for s in program.steps for a in s.argv if isinstance(a, Word)]
        assert any(isinstance(a, BackupPath) for s in program.steps for a in s.argv) and words


RESTRICTED = {
    "Step.id", "Step.phase", "Docker.engine", "WaitEngine.engine", "HostFile.key", "HostFile.backup",
    "FileSharing.setting",
    "Check.mode", "PrepareBackupFolder.folders", "WriteEnvFile.path", "BackupFiles.manifest", "RestoreFiles.manifest",
    "EditIni.section", "IniEntry.key", "EnableFeature.name", "TargetVolume.backup_digest",
    "TargetVolume.target_digest", "UpgradeDesktop.installer_arguments", "UpgradeDesktop.min_version",
    "InstallWsl.program", "InstallWsl.wsl_arguments", "InstallWsl.skip_from", "CheckWsl.min_version",
    "WriteSecretValues.kind", "WriteSecretValues.path", "SecretRef.field", "SecretValue.file",
    "SwitchContainers.engine", "SwitchContainers.to", "WriteEnvFile.engine", "WriteSecretValues.engine",
}
"""String fields the step model refuses hostile text in (ids, names from closed sets, backup-folder paths of
plain names, ini keys, feature names): the runbook never sees one there."""


def _string_fields(obj: Any, owner: str = "") -> Iterator[tuple[str, str]]:
    """(Class.field, value) of every string held anywhere in obj."""
    if isinstance(obj, str):
        yield owner, obj
    elif isinstance(obj, (tuple, list)):
        for item in obj:
            yield from _string_fields(item, owner)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from _string_fields(item, owner)
    elif dataclasses.is_dataclass(obj):
        for f in dataclasses.fields(obj):
            yield from _string_fields(getattr(obj, f.name), f"{type(obj).__name__}.{f.name}")


def test_the_hostile_program_is_hostile_in_every_field_that_can_be() -> None:
    seen: dict[str, list[str]] = {}
    for field_name, value in _string_fields(HOSTILE_PROGRAM):
        seen.setdefault(field_name, []).append(value)
    tame = sorted(f for f, values in seen.items() if f not in RESTRICTED and not any(map(_hostile, values)))
    assert tame == []
    # Fields with room for it carry every hostile string.
    for field_name in ("Step.title", "Step.findings", "Docker.argv", "CheckHost.manual", "Check.argv"):
        assert set(NONEMPTY) <= set(seen[field_name]), field_name
    meta = _meta(True)
    assert all(_hostile(v) for v in (meta.backup_path, meta.tool_version, meta.source_backend))
    assert meta.problems == tuple(HOSTILE)


# ---------------------------------------------------------------------------------------------------------------
# decoding: every step is the program's step, field by field


@pytest.mark.parametrize("which", ["plain", "hostile"])
def test_every_step_decodes_to_the_program_step(which: str, plain: str, hostile: str) -> None:
    program = PLAIN if which == "plain" else HOSTILE_PROGRAM
    data = program_data(_script(which, plain, hostile))
    assert step_mismatches(data["$script:Steps"], program.steps) == []
    assert step_mismatches(data["$script:RollbackSteps"], program.rollback) == []
    assert data["$script:EngineExpect"] == {name: {pascal(k): v for k, v in dataclasses.asdict(e).items()}
                                            for name, e in program.engines.items()}
    (probe,) = data["$script:Probes"]["Info"]
    assert split_problems(probe, ["info", "--format", "{{json .}}"], ("go", "msvcrt"), "probe") == []
    assert data["$script:Timeouts"] == TIMEOUTS  # the limits the rehearsal's interpreter gives the same commands


def _without_added_command_lines(value: Any, top: bool = True) -> Any:
    """A decoded Params value without what the emitter adds (Check CommandLine; the reads of write-env-file and
    write-secret-values: Inspect, Display, Subject, Entries, a value's What; the program run: Run)."""
    if isinstance(value, dict):
        drop = {"CommandLine"} if "Argv" in value else set()
        if "Field" in value:
            drop |= {"What"}
        if top:
            drop |= {"Inspect", "Run", "Display", "Subject", "Unsafe", "UnsafeWhy", "FileFormat"}
            if "Names" in value:
                drop |= {"Entries"}
        return {k: _without_added_command_lines(v, False) for k, v in value.items() if k not in drop}
    if isinstance(value, list):
        return [_without_added_command_lines(v, False) for v in value]
    return value


def _pascal_tree(value: Any) -> Any:
    if isinstance(value, dict):
        return {pascal(k): _pascal_tree(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [_pascal_tree(v) for v in value]
    return value


def test_params_are_the_action_fields_with_pascal_case_keys(hostile: str) -> None:
    decoded = program_data(hostile)["$script:Steps"]
    for step, table in zip(HOSTILE_PROGRAM.steps, decoded, strict=True):
        if isinstance(step.op, Docker):
            continue
        assert _without_added_command_lines(table["Params"]) == _pascal_tree(dataclasses.asdict(step.op)), step.id
        added = set(table["Params"]) - {pascal(f.name) for f in dataclasses.fields(step.op)}
        reads = {"Inspect", "Display", "Subject", "Unsafe", "UnsafeWhy", "FileFormat"}
        assert added == {"write-env-file": reads | {"Entries"}, "write-secret-values": reads,
                         "enable-feature": {"Run"}, "install-wsl": {"Run"},
                         "set-wsl-default-version": {"Run"}, "upgrade-desktop": {"Run"},
                         "switch-containers": {"Run"}}.get(step.action, set())
        if "Run" in added:
            # The program run is the action's, field by field, with its command line pre-encoded.
            run = dict(table["Params"]["Run"])
            assert set(run.pop("Arguments").split()) >= set(a for a in step.op.run.argv if " " not in a)
            assert run == _pascal_tree(dataclasses.asdict(step.op.run)), step.id


def test_a_mismatch_is_reported() -> None:
    """The comparison itself can fail: a changed field, a bool for an int, a wrong command line."""
    step = PLAIN.step("restore/load/images")
    script = render_runbook(PLAIN, _meta(False))
    decoded = [t for t in program_data(script)["$script:Steps"] if t["Id"] == step.id]
    index = decoded[0]["Index"]
    assert step_mismatches(decoded, [dataclasses.replace(step, title="other")])
    bent = json.loads(json.dumps(decoded))
    bent[0]["Index"] = index
    bent[0]["Mutating"] = 1
    assert step_mismatches(bent, [step])
    bent = json.loads(json.dumps(decoded))
    bent[0]["Docker"]["CommandLine"] = ["load -i ", {"Backup": "images/images.tar"}]  # unquoted: splits at spaces
    assert any("splits" in m for m in step_mismatches(bent, [step]))


def test_hostile_titles_survive_exactly(hostile: str) -> None:
    titles = [t["Title"] for t in program_data(hostile)["$script:Steps"]]
    for value in HOSTILE:
        assert value in titles


def test_recover_commands_show_the_redacted_display(hostile: str) -> None:
    table = next(t for t in program_data(hostile)["$script:Steps"] if t["Id"] == "restore/volume-data/v")
    recover = table["Docker"]["Recover"]
    assert len(recover) == 2 and all(SECRET not in r["Display"] for r in recover)
    # The secret is still in the command itself: docker needs it, only the log text hides it.
    line = segments_text(recover[1]["CommandLine"], ROOTS[0], run_time_secret)
    assert SECRET in line
    # A value read from secrets/values at run time is in the command line docker gets, never in the display.
    value = fake_secret("secrets/values/c.json", 1)
    assert recover[1]["Display"].endswith("=<redacted> -- " + HOSTILE_PROGRAM.step("restore/volume-data/v")
                                          .op.recover[1][-1])  # type: ignore[union-attr]
    planned_arg = HOSTILE_PROGRAM.step("restore/volume-data/v").op.recover[1][-3]  # type: ignore[union-attr]
    assert value not in recover[1]["Display"] and planned_arg.prefix + value in SPLITTERS["go"](line)


# ---------------------------------------------------------------------------------------------------------------
# real programs: the samples' plans

ROOT_DIR = Path(__file__).resolve().parent.parent
SAMPLES = sorted(p.name for p in (ROOT_DIR / "samples").iterdir() if (p / "manifest.json").is_file())


def _sample_program(sample: str) -> tuple[Program, str]:
    """A sample's program and runbook the way a user gets them (scan, assess, plan.toml, parse, build)."""
    import datetime

    from migrate.assess import assess, load_catalog, load_config
    from migrate.cli_plan import make_runbook
    from migrate.inventory.scan import ScanOptions, scan
    from migrate.plan.build import build_program
    from migrate.plan.decide import decide
    from migrate.plan.planfile import parse_plan, render_plan

    cwd = os.getcwd()
    os.chdir(ROOT_DIR)
    try:
        inv = scan(ScanOptions(bundle=Path("samples") / sample, use_engine=False), "test")
    finally:
        os.chdir(cwd)
    catalog = load_catalog()
    report = assess(inv, catalog, load_config(None, catalog), datetime.date(2026, 11, 28), "test")
    plan_text, _ = render_plan(decide(inv, report, "test"))
    return build_program(parse_plan(plan_text)), make_runbook(plan_text, "plan.toml")


@pytest.fixture(scope="module", params=SAMPLES)
def sample(request: pytest.FixtureRequest) -> tuple[Program, str]:
    return _sample_program(request.param)


def test_the_resume_task_passes_the_runs_values_to_the_runbooks_own_parameters(sample: tuple[Program, str]) -> None:
    """$script:ResumeArguments (the plan's part of the resume task's command line), filled in as Request-Restart does
    (-f; paths quoted by ConvertTo-QuotedArgument), splits back into the runbook's own parameters with the run's
    values; -HyperVEngine only when the plan has that engine."""
    from tests.psdata import assignments
    from tests.winsplit import SPLITTERS

    program, script = sample
    template = assignments(script, ("$script:ResumeArguments",))["$script:ResumeArguments"]
    values = ['"C:\\ProgramData\\wsl2-migrate\\r 1.ps1"', '"D:\\my backups"', '"C:\\Program Files\\Docker\\docker.exe"',
              "300", "npipe:////./pipe/a", "npipe:////./pipe/b", "npipe:////./pipe/c"]
    line = re.sub(r"\{(\d)\}", lambda m: values[int(m.group(1))], template)
    hyperv = ["-HyperVEngine", "npipe:////./pipe/c"] if "hyperv" in program.engines else []
    assert SPLITTERS["msvcrt"](line) == [
        "-NoProfile", "-ExecutionPolicy", "Bypass", "-File", "C:\\ProgramData\\wsl2-migrate\\r 1.ps1", "-Resume",
        "-FromTask", "-BackupPath", "D:\\my backups", "-DockerPath", "C:\\Program Files\\Docker\\docker.exe",
        "-EngineTimeoutSeconds", "300", "-SourceEngine", "npipe:////./pipe/a", "-TargetEngine", "npipe:////./pipe/b",
        *hyperv]
    # Past powershell.exe's own -File, each option is a parameter of the runbook.
    params = re.findall(r"\]\$(\w+)", script[:script.index("\r\n)\r\n")])
    options = re.findall(r" -(\w+)", template.split("{0}", 1)[1])
    assert options and set(options) <= set(params), sorted(set(options) - set(params))


def test_sample_runbooks_decode_to_their_programs(sample: tuple[Program, str]) -> None:
    program, script = sample
    data = program_data(script)
    assert step_mismatches(data["$script:Steps"], program.steps) == []
    assert step_mismatches(data["$script:RollbackSteps"], program.rollback) == []
    # The LCOW sample's host has a second source engine: Docker Desktop's Linux engine in the Hyper-V VM.
    assert set(data["$script:EngineExpect"]) == set(program.engines) == (
        {"source", "target", "hyperv"} if any(s.engine == "hyperv" for s in program.steps) else {"source", "target"})
    assert {s.engine for s in program.steps if s.engine} <= set(program.engines)
    # The samples exercise what the hand-made program might miss: many docker commands with real arguments.
    assert sum(1 for s in program.steps if s.docker) >= 10


def test_sample_runbooks_are_clean_text(sample: tuple[Program, str]) -> None:
    _, script = sample
    assert script.isascii() and "\n" not in script.replace("\r\n", "") and "\r" not in script.replace("\r\n", "")
    assert syntax_problems(parse_powershell(script)) == []
    assert lint(script) == []


# ---------------------------------------------------------------------------------------------------------------
# command lines: the backup folder is only known at run time


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters='"'), min_size=1,
               max_size=12).map(lambda s: "D:\\" + s.strip() + " x"))
def test_backup_paths_stay_one_argument_under_any_backup_folder(root: str) -> None:
    """Any folder the runbook's Assert-BackupFolderPath accepts (no '"', no control characters, no trailing '\\')
    keeps every word with a backup path one argument."""
    for step, table in zip(HOSTILE_PROGRAM.steps, _HOSTILE_DECODED, strict=True):
        if not isinstance(step.op, Docker):
            continue
        line = segments_text(table["Docker"]["CommandLine"], root, run_time_secret)
        assert split_problems(line, [planned(a, root) for a in step.op.argv], ("go", "msvcrt"), step.id) == []


_HOSTILE_DECODED = program_data(render_runbook(HOSTILE_PROGRAM, _meta(True)))["$script:Steps"]


def test_dism_arguments_split_to_the_planned_call(plain: str) -> None:
    table = next(t for t in program_data(plain)["$script:Steps"] if t["Kind"] == "enable-feature")
    want = ["/online", "/enable-feature", "/featurename:VirtualMachinePlatform", "/all", "/norestart"]
    assert split_problems(table["Params"]["Run"]["Arguments"], want, ("msvcrt", "argvw", "go"), "dism") == []


def test_write_env_file_reads_the_environment_as_the_twin_does(hostile: str) -> None:
    step = HOSTILE_PROGRAM.step("backup/env/c")
    table = next(t for t in program_data(hostile)["$script:Steps"] if t["Id"] == step.id)
    assert mismatches(table["Params"], expected_value(step.op)) == []
    assert isinstance(step.op, WriteEnvFile)
    line = segments_text(table["Params"]["Inspect"], ROOTS[0])
    assert split_problems(line, ["container", "inspect", "--format", ENV_PAIRS, "--", step.op.container],
                          ("go", "msvcrt"), "inspect") == []
    assert list(step.op.inspect_argv()) == ["container", "inspect", "--format", ENV_PAIRS, "--", step.op.container]


# ---------------------------------------------------------------------------------------------------------------
# the text: grammar, encoding, lint, determinism


@pytest.mark.parametrize("which", ["plain", "hostile"])
def test_ascii_with_crlf_line_endings(which: str, plain: str, hostile: str) -> None:
    script = _script(which, plain, hostile)
    assert script.isascii()
    assert "\n" not in script.replace("\r\n", "") and "\r" not in script.replace("\r\n", "")
    assert script.endswith("\r\n")


@pytest.mark.parametrize("which", ["plain", "hostile"])
def test_parses_without_error_nodes_and_lints_clean(which: str, plain: str, hostile: str) -> None:
    script = _script(which, plain, hostile)
    assert syntax_problems(parse_powershell(script)) == []
    assert lint(script) == []


def test_library_alone_parses_and_lints() -> None:
    from importlib import resources

    lib = resources.files("migrate.emit").joinpath("runbook_lib.ps1").read_text(encoding="ascii")
    assert lint(lib) == []


@pytest.mark.parametrize("snippet, rule", [
    ("function Get-X {\n    [CmdletBinding()]\n    param()\n    % { 1 }\n}\n", "alias"),
    ("Get-ChildItem | where { $_ }\n", "alias"),
    ("Write-Host 'x'\n", "forbidden command"),
    ("Invoke-Expression 'x'\n", "forbidden command"),
    ("cmd /c dir\n", "forbidden command"),
    ("& $docker 'ps'\n", "call operator"),
    ("docker save img > x.tar\n", "redirection"),
    ("if ($a -eq $null) { 1 }\n", "null on the right"),
    ("Get-Date -Format `\n    o\n", "backtick"),
    ("function Do-Thing {\n    [CmdletBinding()]\n    param()\n}\n", "verb"),
    ("function Set-Thing {\n    [CmdletBinding()]\n    param()\n}\n", "shouldprocess"),
    ("function Get-Thing {\n    param()\n}\n", "cmdletbinding"),
])
def test_lint_catches_each_rule(snippet: str, rule: str) -> None:
    assert any(f.startswith(rule) for f in lint(snippet)), lint(snippet)


def test_lint_accepts_backticks_inside_strings_and_comments() -> None:
    assert lint("$a = 'x`y'\nif ($null -eq $a) { $a = \"z\" }\n") == []
    assert lint("# a `b\n<# c `d #>\n$a = 1\n") == []


def test_same_input_same_bytes() -> None:
    first = render_runbook(_program(True), _meta(True))
    assert first == render_runbook(_program(True), _meta(True))
    assert render_runbook(PLAIN, _meta(False, "f" * 64)) != render_runbook(PLAIN, _meta(False))


def test_hostile_problems_stay_inside_the_help_comment(hostile: str) -> None:
    root = parse_powershell(hostile).root_node
    block = [n for n in walk(root) if n.type == "comment" and text(n).startswith("<#")]
    assert len(block) == 1, [text(b)[:40] for b in block]
    help_text = text(block[0])
    assert help_text.endswith("#>") and help_text.count("#>") == 1
    assert "WRITTEN WITH --force" in help_text
    for problem in NONEMPTY:
        shown = "".join(c if " " <= c <= "~" else "?" for c in problem).replace("#>", "# >")
        assert shown in help_text, problem


@pytest.mark.parametrize("which", ["plain", "hostile"])
def test_plan_constants(which: str, plain: str, hostile: str) -> None:
    meta, program = (_meta(False), PLAIN) if which == "plain" else (_meta(True), HOSTILE_PROGRAM)
    values = assignments(_script(which, plain, hostile), (
        "$script:PlanHash", "$script:ToolVersion", "$script:SourceBackend",
        "$script:ResumeTaskName", "$script:MutexName"))
    assert values["$script:PlanHash"] == meta.plan_hash
    assert values["$script:ToolVersion"] == meta.tool_version
    assert values["$script:SourceBackend"] == meta.source_backend
    # One lock for the machine (every plan, every backup folder: one Desktop and one WSL), and a resume task per plan.
    assert values["$script:MutexName"] == "Global\\wsl2-migrate-runbook"
    assert meta.plan_hash[:12] in values["$script:ResumeTaskName"]


def test_the_library_never_assigns_the_program() -> None:
    """The program's data is written once, by the generated part: assignments() refuses a second assignment."""
    script = render_runbook(PLAIN, _meta(False))
    assert program_data(script)
    twice = script.replace("$script:Probes = @{", "$script:Steps = @()\r\n$script:Probes = @{", 1)
    with pytest.raises(ValueError, match="assigned 2 times"):
        program_data(twice)


# ---------------------------------------------------------------------------------------------------------------
# header and parameters


def _help_and_params(script: str) -> tuple[list[str], str]:
    lines = script.split("\r\n")
    help_end = lines.index("#>")
    return lines, "\n".join(lines[:help_end])


def test_header_help_and_strictness(plain: str) -> None:
    lines, help_text = _help_and_params(plain)
    help_end = lines.index("#>")
    assert lines[0] == "#Requires -Version 5.1"
    for section in (".SYNOPSIS", ".DESCRIPTION", ".EXAMPLE"):
        assert f"\n{section}\n" in help_text
    assert f"Plan sha256: {HASH}" in help_text
    examples = re.findall(r"\.EXAMPLE\n    (.*)", help_text)
    assert any(e.endswith("-WhatIf") for e in examples)
    assert any(e.endswith("-Resume") for e in examples)
    assert any("-Phase " in e for e in examples)
    assert any(e.endswith("-Rollback") for e in examples)
    assert any("-ResumeFrom restore/" in e for e in examples)
    listed = re.findall(r"^ +(\d+) (\S+)$", help_text.split("    Steps:")[1], re.M)
    assert [(int(i), s) for i, s in listed] == [(i, s.id) for i, s in enumerate(PLAIN.steps, 1)]
    assert f"{len(PLAIN.steps)} steps" in help_text
    assert lines[help_end + 1] == "[CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'Medium')]"
    params = re.findall(r"\[(?:string|switch|int)\]\$(\w+)", "\n".join(lines[help_end:lines.index(")", help_end)]))
    assert params == ["BackupPath", "ResumeFrom", "Phase", "Resume", "Force", "Rollback", "SourceEngine",
                      "TargetEngine", "HyperVEngine", "DockerPath", "EngineTimeoutSeconds", "FromTask"]
    assert re.findall(r"^\.PARAMETER (\w+)$", help_text, re.M) == params
    for line in ("Set-StrictMode -Version 3.0", "$ErrorActionPreference = 'Stop'",
                 "$PSNativeCommandUseErrorActionPreference = $false"):
        assert line in lines
    assert "#Requires -RunAsAdministrator" not in plain  # it would block even -WhatIf (runbook-style 9.1)
    # -Force never overrides an explicit -Confirm (runbook-style 9.6).
    assert "if ($Force -and -not $PSBoundParameters.ContainsKey('Confirm')) {" in lines


def test_hostile_meta_stays_out_of_the_help_text(hostile: str) -> None:
    _, help_text = _help_and_params(hostile)
    assert "from its legacy backend" in help_text and "wsl2-migrate (see $script:ToolVersion)" in help_text


def _params(script: str) -> dict[str, Node]:
    root = parse_powershell(script).root_node
    block = next(n for n in walk(root) if n.type == "param_block")
    out = {}
    for param in (n for n in walk(block) if n.type == "script_parameter"):
        out[text(next(n for n in walk(param) if n.type == "variable"))] = param
    return out


def _default(param: Node) -> Any:
    from tests.psdata import decode

    default = next(c for c in param.children if c.type == "script_parameter_default")
    return decode(default.children[-1])


def _validate_set(param: Node) -> list[Any]:
    from tests.psdata import decode

    attr = next(n for n in walk(param) if n.type == "attribute" and text(n).startswith("[ValidateSet("))
    args = next(n for n in walk(attr) if n.type == "attribute_arguments")
    return [decode(a.children[0]) for a in args.children if a.type == "attribute_argument"]


@pytest.mark.parametrize("which", ["plain", "hostile"])
def test_param_defaults_and_validate_sets(which: str, plain: str, hostile: str) -> None:
    meta, program = (_meta(False), PLAIN) if which == "plain" else (_meta(True), HOSTILE_PROGRAM)
    params = _params(_script(which, plain, hostile))
    assert _default(params["$BackupPath"]) == meta.backup_path
    assert _default(params["$SourceEngine"]) == _default(params["$TargetEngine"]) == "npipe:////./pipe/docker_engine"
    # The second source engine's URL is the plan's (a hostile one stays a literal); else Desktop 4's Linux pipe.
    assert _default(params["$HyperVEngine"]) == (meta.hyperv_engine or "npipe:////./pipe/dockerDesktopLinuxEngine")
    assert _default(params["$DockerPath"]) == "docker"
    assert _default(params["$EngineTimeoutSeconds"]) == 300
    assert _default(params["$ResumeFrom"]) == _default(params["$Phase"]) == ""
    # -ResumeFrom names forward steps only; rollback steps run through -Rollback.
    assert _validate_set(params["$ResumeFrom"]) == [s.id for s in program.steps]
    assert _validate_set(params["$Phase"]) == list(PHASES)
    assert "ValidateRange(10, 86400)" in text(params["$EngineTimeoutSeconds"])
    # The library validates each expected engine's URL from the parameter $script:EngineParameters names for it,
    # which the main call passes on under that name.
    script = _script(which, plain, hostile)
    names = assignments(script, ("$script:EngineParameters",))["$script:EngineParameters"]
    assert set(program.engines) <= set(names) and {f"${n}" for n in names.values()} <= set(params)
    assert all(re.search(rf"^ +{n} += \${n}\r?$", script, re.M) for n in names.values())


# ---------------------------------------------------------------------------------------------------------------
# refusals


@dataclasses.dataclass(frozen=True, slots=True)
class _Odd(Action):
    """An action with a value the runbook has no literal for."""

    NAME: ClassVar[str] = "odd"
    ratio: Any = 0.5


def _with_step(program: Program, op: Any) -> Program:
    return dataclasses.replace(program, steps=(*program.steps, Step("cleanup/x", "cleanup", "t", op)))


@pytest.mark.parametrize("change, message", [
    (lambda p: dataclasses.replace(p, steps=()), "at least one step"),
    (lambda p: dataclasses.replace(p, steps=(dataclasses.replace(p.steps[0], id="Bad Id"), *p.steps[1:])), "step id"),
    (lambda p: dataclasses.replace(p, steps=(dataclasses.replace(p.steps[0], id="a//b"), *p.steps[1:])), "step id"),
    (lambda p: dataclasses.replace(p, steps=(*p.steps, p.steps[0])), "step id"),
    (lambda p: dataclasses.replace(p, rollback=(*p.rollback, dataclasses.replace(p.rollback[0], id=p.steps[0].id))),
     "step id"),
    (lambda p: _with_step(p, _Odd()), "cannot write a float"),
    (lambda p: _with_step(p, _Odd(ratio={1, 2})), "cannot write a set"),
    (lambda p: dataclasses.replace(p, engines={**p.engines, "target; Remove-Item C:\\ ;": EngineExpect("linux")}),
     "engine"),
    (lambda p: _with_step(p, Docker("target", ("version",), 60, ok_exit_codes=("0); Remove-Item C:\\ ;(1",))),
     "exit code"),
    (lambda p: _with_step(p, Docker("target", ("version",), 60, ok_exit_codes=(True,))), "exit code"),
    # The runbook reaches an engine only by the URL it checked for an engine the program expects.
    (lambda p: dataclasses.replace(p, engines={k: v for k, v in p.engines.items() if k != "hyperv"}), "engines"),
    (lambda p: dataclasses.replace(p, engines={k: v for k, v in p.engines.items() if k != "target"}), "engines"),
])
def test_refuses_what_it_cannot_write(change, message: str) -> None:
    with pytest.raises(PlanError, match=message):
        render_runbook(change(PLAIN), _meta(False))


def test_refuses_a_bad_plan_hash() -> None:
    for bad in ("x", HASH.upper(), HASH + "0", ""):
        with pytest.raises(PlanError, match="plan hash"):
            render_runbook(PLAIN, _meta(False, bad))


def test_the_runbook_refuses_constrained_language_first_and_ends_a_restart_with_3010(plain: str) -> None:
    """Under an AppLocker/WDAC policy the first .NET call of an unsigned script fails with a message about types:
    the language mode is checked before any. A run that stops for a restart exits 3010 (what deployment tools read
    as "restart the machine"), and only that run."""
    lines = plain.split("\r\n")
    mode = next(i for i, line in enumerate(lines) if "$ExecutionContext.SessionState.LanguageMode -ne 'FullLanguage'"
                in line)
    first_net = next(i for i, line in enumerate(lines) if not line.lstrip().startswith("#")
                     and ("New-Object" in line or "[System." in line))
    assert mode < first_net
    refusal = [line.strip() for line in lines[mode + 1:] if line.strip() and not line.lstrip().startswith("#")][:3]
    # Run by the logon task, the window waits for Enter first (it would close unread); then the refusal.
    assert refusal[0].startswith("if ($FromTask) { [void](Read-Host") and refusal[1].startswith("throw ("), refusal
    run = next(i for i, line in enumerate(lines) if line == "Invoke-Runbook -Options $runbookOptions")
    assert [line for line in lines[run + 1:] if line.strip() and not line.lstrip().startswith("#")] == [
        "if ($script:StopRequested) {", "    exit 3010", "}"]
    assert sum(1 for line in lines if line.strip() == "exit 3010") == 1


def test_the_backup_layout_is_the_programs(plain: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The names the runbook keeps in the backup folder are the program's $script:Layout (BACKUP_LAYOUT), which the
    rehearsal's journal uses too: a changed name shows in the runbook and moves the rehearsal's journal."""
    from migrate.plan.layout import BACKUP_LAYOUT
    from migrate.rehearse.journal import Journal, load_journal, save_journal

    assert assignments(plain, ("$script:Layout",))["$script:Layout"] == BACKUP_LAYOUT
    monkeypatch.setitem(BACKUP_LAYOUT, "Journal", "progress.json")
    monkeypatch.setitem(BACKUP_LAYOUT, "Logs", "runlogs")
    changed = assignments(render_runbook(PLAIN, _meta(False)), ("$script:Layout",))["$script:Layout"]
    assert changed["Journal"] == "progress.json" and changed["Logs"] == "runlogs"
    save_journal(tmp_path, Journal(plan_hash=HASH))
    assert (tmp_path / "progress.json").is_file() and not (tmp_path / "journal.json").exists()
    assert load_journal(tmp_path, HASH).exists


def test_a_docker_steps_progress_is_the_programs() -> None:
    """Which file a docker step shows the size of while it runs is the program's (Docker.progress, an artifact the
    step writes: the planner names its first), not the library's: the runbook carries it and follows a change."""
    step = next(s for s in PLAIN.steps if s.id == "backup/save/images")
    assert step.docker is not None and step.docker.progress == step.produces[0].path

    def carried(progress: str) -> str:
        changed = dataclasses.replace(step, op=dataclasses.replace(step.docker, progress=progress))
        program = dataclasses.replace(PLAIN, steps=tuple(changed if s is step else s for s in PLAIN.steps))
        table = next(t for t in program_data(render_runbook(program, _meta(False)))["$script:Steps"]
                     if t["Id"] == step.id)
        return table["Docker"]["Progress"]

    assert carried("images/images.tar") == "images/images.tar" and carried("") == ""
    with pytest.raises(PlanError, match="does not write"):
        dataclasses.replace(step, op=dataclasses.replace(step.docker, progress="images/other.tar"))
    built, _ = _sample_program("hyperv-2x")
    saves = [s for s in built.steps if s.docker is not None and s.produces]
    assert saves and all(s.docker.progress == s.produces[0].path for s in saves)


def test_the_backup_gate_is_the_programs_verify_backups_step(plain: str) -> None:
    """$script:BackupGate is the program's verify-backups step (by its place in $script:Steps), so the library never
    searches the steps for it; it follows the step when the program moves it, and a program without one has none."""
    gate = PLAIN.backup_gate
    assert gate is not None and PLAIN.steps[gate].action == "verify-backups"
    assert re.findall(r"^\$script:BackupGate = (.*)\r$", plain, re.M) == [f"$script:Steps[{gate}]"]
    steps = [s for s in PLAIN.steps if s.action != "verify-backups"]
    early = dataclasses.replace(PLAIN.steps[gate], op=VerifyBackups(tuple(sorted(
        {a.path for s in steps[:2] for a in s.produces}))))
    moved = Program(steps=(*steps[:2], early, *steps[2:]), engines=PLAIN.engines)
    moved_text = render_runbook(moved, _meta(False))
    assert re.findall(r"^\$script:BackupGate = (.*)\r$", moved_text, re.M) == ["$script:Steps[2]"]
    assert program_data(moved_text)["$script:Steps"][2]["Kind"] == "verify-backups"
    none = render_runbook(Program(steps=tuple(steps), engines=PLAIN.engines), _meta(False))
    assert re.findall(r"^\$script:BackupGate = (.*)\r$", none, re.M) == ["$null"]


def test_the_entry_keys_are_the_programs(plain: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """$script:EntryKeys, which the library checks every journal and artifact entry against, is ENTRY_KEYS: a change
    of the table shows in the runbook."""
    from migrate.emit import runbook
    from migrate.plan.steps import ENTRY_KEYS

    carried = assignments(plain, ("$script:EntryKeys",))["$script:EntryKeys"]
    assert {k: tuple(v) for k, v in carried.items()} == ENTRY_KEYS
    monkeypatch.setattr(runbook, "ENTRY_KEYS", {**ENTRY_KEYS, "verified": ("path", "sha256", "at")})
    changed = assignments(render_runbook(PLAIN, _meta(False)), ("$script:EntryKeys",))["$script:EntryKeys"]
    assert tuple(changed["verified"]) == ("path", "sha256", "at")
