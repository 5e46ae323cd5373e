"""Static checks of the runbook library's Windows-readiness functions on its syntax tree (issue 10): the WSL and
Docker Desktop steps follow runbook-style section 9 (one native-call helper, a time limit, ShouldProcess around every
change, exit codes and versions from the plan, not guessed), wsl.exe's UTF-16 output is read as such, and the
command lines the generator pre-encodes split back to the planned arguments."""
from __future__ import annotations

import dataclasses
import re
from importlib import resources

import pytest
from tree_sitter import Node

from migrate.emit.runbook import RunbookMeta, render_runbook
from migrate.errors import PlanError
from migrate.plan.actions import (EnableFeature, InstallWsl, SetWslVersion, SwitchContainers, UpgradeDesktop,
                                  check_version)
from migrate.plan.build import build_program
from migrate.plan.decide import decide
from tests.psref import check, load_reference
from tests.pslint import enclosing_function, functions, lint, text, walk
from tests.pslit import evaluate_node, parse_powershell, syntax_problems
from tests.psdata import program_data
from tests.pstree import unwrap
from tests.simworld import inventory, report
from tests.winsplit import split_command_line_argvw, split_command_line_msvcrt

LIBRARY = resources.files("migrate.emit").joinpath("runbook_lib.ps1").read_text(encoding="ascii")
ROOT = parse_powershell(LIBRARY).root_node
FUNCTIONS = functions(ROOT)
MUTATING = ("Invoke-HostProgram",)
"""The function that runs every host action's program (upgrade-desktop, install-wsl, set-wsl-default-version,
enable-feature, switch-containers)."""
READ_ONLY = ("Test-WslReady", "Get-InstalledVersion")
HELPERS = ("Invoke-NativeProcess",)
MSI = "\\\\fileserver\\pkgs\\WSL 2.3.26\\wsl.2.3.26.0.x64.msi"
INSTALLER = "D:\\Install Media\\Docker Desktop Installer.exe"


def _body(name: str) -> Node:
    return FUNCTIONS[name.lower()]


def _commands(node: Node, name: str) -> list[Node]:
    """Every call of command name inside node."""
    return [n.parent for n in walk(node) if n.type == "command_name" and text(n).lower() == name.lower()]


def _runbook(**switch) -> str:
    plan = decide(inventory("hyperv-2x"), report("hyperv-2x"), "test")
    plan = dataclasses.replace(plan, switch=dataclasses.replace(plan.switch, **switch))
    return render_runbook(build_program(plan), RunbookMeta("ab" * 32, "test", "C:\\wsl2-migrate-backup", "hyperv"))


def _params(runbook: str, kind: str) -> dict[str, str]:
    """Params of the first step of that kind, as {key: evaluated string} of its literal string entries."""
    root = parse_powershell(runbook).root_node
    for node in walk(root):
        if node.type == "hash_literal_expression" and f"Kind          = '{kind}'" in text(node):
            params = next(v for k, v in _entries(node) if k == "Params")
            out = {k: evaluate_node(v) for k, v in _entries(params) if v.type == "string_literal"}
            run = next((v for k, v in _entries(params) if k == "Run"), None)
            if run is not None:  # the program run: its Arguments, Program...
                out.update({f"Run.{k}": evaluate_node(v) for k, v in _entries(run) if v.type == "string_literal"})
            return out
    raise AssertionError(f"no {kind} step")


def _entries(hash_node: Node) -> list[tuple[str, Node]]:
    """(key, value) of each `key = value` entry of a hashtable literal, the value unwrapped to its expression."""
    body = next(c for c in hash_node.children if c.type == "hash_literal_body")
    return [(text(e.children[0]).strip(), unwrap(e.children[2])) for e in body.children if e.type == "hash_entry"]


# ------------------------------------------------------------------------------------------ the library


def test_every_new_function_exists_with_cmdletbinding_and_a_param_block() -> None:
    for name in (*MUTATING, *READ_ONLY, *HELPERS):
        body = text(_body(name))
        assert "[CmdletBinding(" in body and "param(" in body, name


def test_changes_are_asked_of_should_process_before_the_program_runs() -> None:
    for name in MUTATING:
        body = _body(name)
        assert "[CmdletBinding(SupportsShouldProcess)]" in text(body), name
        asks = [n for n in walk(body) if n.type == "invokation_expression"
                and text(n).startswith("$PSCmdlet.ShouldProcess(")]
        runs = _commands(body, "Invoke-NativeProcess")
        assert asks and runs and min(a.start_byte for a in asks) < min(r.start_byte for r in runs), name
        # A declined change leaves the step WouldRun (not done) in the journal.
        assert "$script:StepDeclined = $true" in text(body), name
    # The actions that change the machine reach their program only through it.
    switch = text(_body("Switch-DockerEngine"))
    assert "Invoke-HostProgram -Step $Step" in switch and "Invoke-NativeProcess" not in switch


def test_the_read_only_check_changes_nothing() -> None:
    body = _body("Test-WslReady")
    assert "SupportsShouldProcess" not in text(body)
    wsl_args = [text(c) for c in _commands(body, "Invoke-NativeProcess")]
    assert wsl_args and all("-Arguments '--status'" in a for a in wsl_args)
    version = _commands(_body("Get-InstalledVersion"), "Invoke-NativeProcess")
    assert [("-Arguments '--version'" in text(c)) for c in version] == [True]
    # Under -WhatIf the install steps did not run: the check reports instead of failing the dry run.
    assert re.search(r"elseif \(\$script:DryRun\) \{\s*Write-Warning", text(body))


def test_exit_codes_come_from_the_plan_and_restarts_are_recorded_from_its_list() -> None:
    body = text(_body("Invoke-HostProgram"))
    assert "-OkExitCodes $run.OkExitCodes" in body and "-TimeoutSeconds $run.Timeout" in body
    # No exit code is decided here: the only integer literals are comparisons with 0 (Length, Count).
    assert not re.search(r"\b(3010|1641|1603)\b", body)
    assert body.index("$script:Journal.RebootNeeded = $true") > body.index("@($run.RestartExitCodes) -contains")


def test_versions_come_from_the_plan() -> None:
    assert "[System.Version]$run.MinVersion" in text(_body("Invoke-HostProgram"))
    assert "[System.Version]$p.MinVersion" in text(_body("Test-WslReady"))
    for name in (*MUTATING, "Test-WslReady"):
        assert not re.search(r"'\d+\.\d+(\.\d+)+'", text(_body(name))), name


def test_wsl_exe_output_is_read_as_utf16() -> None:
    runs = [n for n in walk(ROOT) if n.type == "string_literal" and text(n) == "'wsl.exe'"]
    assert runs
    for node in runs:
        owner = enclosing_function(node)
        line = LIBRARY.splitlines()[node.start_point[0]]
        # wsl.exe's path is only looked up with Get-SystemProgram, never called by name.
        assert "Get-SystemProgram -Name 'wsl.exe'" in line, owner
    native = text(_body("Invoke-NativeProcess"))
    assert "if ($UnicodeOutput) { $encoding = [System.Text.Encoding]::Unicode }" in native
    assert "if ($UnicodeOutput) { $startInfo.EnvironmentVariables.Remove('WSL_UTF8') }" in native
    assert "StandardOutputEncoding = $encoding; StandardErrorEncoding = $encoding" in native
    assert "if ($UnicodeOutput) { $stdout, $stderr = $stdout.Replace([string][char]0, '')" in native
    # Every call that reads wsl.exe's output reads it as UTF-16 (only `wsl --shutdown`, whose output nothing
    # reads, does not); a planned wsl.exe run says so.
    for call in _commands(ROOT, "Invoke-NativeProcess"):
        if "$wsl" in text(call):
            assert "-UnicodeOutput" in text(call) or "-Arguments '--shutdown'" in text(call), text(call)
    assert "-UnicodeOutput:$run.Utf16" in text(_body("Invoke-HostProgram"))
    for action in (InstallWsl(), InstallWsl(wsl_arguments=("--install", "--no-distribution")), SetWslVersion()):
        assert action.run.program == "wsl.exe" and action.run.system32 and action.run.utf16
    assert not InstallWsl(program="msiexec.exe", wsl_arguments=(), msi=MSI).run.utf16


def test_only_the_first_number_of_wsl_version_is_read() -> None:
    body = text(_body("Get-InstalledVersion"))
    assert body.count("[regex]::Match(") == 1 and "-match $script:Desktop.UninstallName" in body
    assert "[System.Version]::TryParse($text, [ref]$version)" in body


def test_without_an_installer_the_upgrade_asks_or_fails_with_force_and_never_runs_anything() -> None:
    body = _body("Invoke-HostProgram")
    branch = next(n for n in walk(body) if n.type == "if_statement"
                  and text(n).startswith("if ($run.Program.Length -eq 0)"))
    then_block = next(c for c in branch.children if c.type == "statement_block")
    inside = text(then_block)
    assert "$script:Options.Force" in inside and "Confirm-GoOn " in inside and "throw" in inside
    assert "$script:DryRun" in inside and "Invoke-NativeProcess" not in inside
    assert inside.index("$script:DryRun") < inside.index("$script:Options.Force") < inside.index("Confirm-GoOn ")
    # After either path the installed version is read again and must reach the plan's minimum.
    whole = text(body)
    assert whole.rindex("Get-InstalledVersion") > whole.index("if ($run.Program.Length -eq 0)")
    assert "Assert-DesktopStopped" in whole
    for installer in ("", INSTALLER):
        run = UpgradeDesktop(installer=installer).run
        assert run.recheck and run.probe == "desktop" and run.min_version == "2.3.0.2" and run.stopped
        assert (run.program, run.requires) == (installer, installer)


def test_the_planned_program_runs_are_what_each_action_needs() -> None:
    """Each action's program run, from the action's own fields: the probe that skips it, the file it needs, whether
    Docker Desktop must be stopped, the exit codes that ask for a restart."""
    wsl = InstallWsl(skip_from="2.1.5", ok_exit_codes=(0, 3010), restart_exit_codes=(3010,)).run
    assert (wsl.probe, wsl.min_version, wsl.restart_exit_codes, wsl.requires) == ("wsl", "2.1.5", (3010,), "")
    assert InstallWsl().run.probe == ""  # nothing to compare with: it always runs
    msi = InstallWsl(program="msiexec.exe", wsl_arguments=(), msi=MSI).run
    assert (msi.program, msi.system32, msi.requires, msi.argv) == ("msiexec.exe", True, MSI,
                                                                   ("/i", MSI, "/quiet", "/norestart"))
    feature = EnableFeature(name="VirtualMachinePlatform", timeout=1200).run
    assert (feature.target, feature.timeout, feature.stopped, feature.probe) == ("VirtualMachinePlatform", 1200, "", "")
    switch = SwitchContainers(to="windows", exe="C:\\D\\DockerCli.exe", cli_timeout=77).run
    assert (switch.program, switch.system32, switch.requires, switch.timeout, switch.argv) == \
        ("C:\\D\\DockerCli.exe", False, "C:\\D\\DockerCli.exe", 77, ("-SwitchWindowsEngine",))
    assert "menu" in switch.missing
    with pytest.raises(PlanError):
        check_version("x", "2.99999999999")  # the runbook compares versions as System.Version (32-bit parts)


@pytest.mark.parametrize("field, value", [("timeout", 1234), ("ok_exit_codes", (0, 5, 3010)),
                                          ("restart_exit_codes", (5,))])
def test_the_runbook_carries_the_planned_program_run(field: str, value) -> None:
    """A planned value changed in the plan changes the runbook's Run of that step, and nothing else decides it."""
    plan = decide(inventory("hyperv-2x"), report("hyperv-2x"), "test")
    program = build_program(plan)
    steps = list(program.steps)
    index = next(i for i, s in enumerate(steps) if isinstance(s.op, EnableFeature))
    extra = {"ok_exit_codes": (0, 5)} if field == "restart_exit_codes" else {}
    op = dataclasses.replace(steps[index].op, **{field: value, **extra})
    steps[index] = dataclasses.replace(steps[index], op=op)
    runbook = render_runbook(dataclasses.replace(program, steps=tuple(steps)),
                             RunbookMeta("ab" * 32, "test", "C:\\wsl2-migrate-backup", "hyperv"))
    run = next(t for t in program_data(runbook)["$script:Steps"] if t["Id"] == steps[index].id)["Params"]["Run"]
    key = {"timeout": "Timeout", "ok_exit_codes": "OkExitCodes", "restart_exit_codes": "RestartExitCodes"}[field]
    assert run[key] == (list(value) if isinstance(value, tuple) else value)


def test_check_host_reads_the_planned_floors_and_edition() -> None:
    body = text(_body("Test-MigrationHost"))
    assert "$floor = (@($p.Floors[0]) + @($p.Floors | Where-Object -FilterScript { $_.Build -le $build }))[-1]" in body
    assert "$p.Edition" in body


def test_the_library_still_lints_and_parses() -> None:
    assert syntax_problems(parse_powershell(LIBRARY)) == []
    assert lint(LIBRARY) == []


# ------------------------------------------------------------------------------------------ generated runbooks


@pytest.mark.parametrize("switch", [{}, {"wsl_msi": MSI, "desktop_upgrade": True, "desktop_installer": INSTALLER},
                                    {"wsl_web_download": True, "desktop_upgrade": True}])
def test_generated_runbooks_with_the_new_steps_parse_lint_and_match_the_reference(switch) -> None:
    runbook = _runbook(**switch)
    assert syntax_problems(parse_powershell(runbook)) == []
    assert lint(runbook) == []
    errors = [str(f) for f in check(runbook, load_reference()) if f.severity == "error"]
    assert errors == []


@pytest.mark.parametrize("switch, program, argv", [
    ({}, "wsl.exe", ["--install", "--no-distribution"]),
    ({"wsl_web_download": True}, "wsl.exe", ["--install", "--no-distribution", "--web-download"]),
    ({"wsl_install": "update"}, "wsl.exe", ["--update"]),
    ({"wsl_msi": MSI}, "msiexec.exe", ["/i", MSI, "/quiet", "/norestart"]),
])
def test_install_command_lines_split_back_to_the_planned_arguments(switch, program: str, argv: list[str]) -> None:
    params = _params(_runbook(**switch), "install-wsl")
    assert params["Program"] == params["Run.Program"] == program
    assert split_command_line_msvcrt(params["Run.Arguments"]) == argv
    assert split_command_line_argvw(params["Run.Arguments"]) == argv


def test_upgrade_and_default_version_command_lines() -> None:
    runbook = _runbook(desktop_upgrade=True, desktop_installer=INSTALLER)
    upgrade = _params(runbook, "upgrade-desktop")
    assert upgrade["Installer"] == upgrade["Run.Program"] == INSTALLER  # a FilePath, never part of a command line
    assert split_command_line_msvcrt(upgrade["Run.Arguments"]) == ["install", "--quiet", "--accept-license",
                                                                    "--backend=wsl-2"]
    assert split_command_line_msvcrt(_params(runbook, "set-wsl-default-version")["Run.Arguments"]) == \
        ["--set-default-version", "2"]
