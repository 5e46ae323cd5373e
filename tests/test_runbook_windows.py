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
from migrate.plan.build import build_program
from migrate.plan.decide import decide
from tests.psref import check, load_reference
from tests.pslint import enclosing_function, functions, lint, text, walk
from tests.pslit import evaluate_node, parse_powershell, syntax_problems
from tests.pstree import unwrap
from tests.simworld import inventory, report
from tests.winsplit import split_command_line_argvw, split_command_line_msvcrt

LIBRARY = resources.files("migrate.emit").joinpath("runbook_lib.ps1").read_text(encoding="ascii")
ROOT = parse_powershell(LIBRARY).root_node
FUNCTIONS = functions(ROOT)
MUTATING = ("Update-DockerDesktop", "Install-Wsl", "Set-WslDefaultVersion", "Enable-HostFeature")
"""The new host actions that change the machine."""
READ_ONLY = ("Test-WslReady", "Get-WslVersion", "Get-DesktopVersion", "Test-VersionAtLeast")
HELPERS = ("Invoke-WslCommand",)
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
            return {k: evaluate_node(v) for k, v in _entries(params) if v.type == "string_literal"}
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
        calls = [*_commands(body, "Invoke-NativeProcess"), *_commands(body, "Invoke-WslCommand")]
        calls += [n for n in walk(body) if n.type == "command_name" and text(n) == "Invoke-NativeProcess"]
        assert asks, name
        splat_runs = [n for n in walk(body) if n.type == "command_name" and text(n) == "Invoke-NativeProcess"]
        first_run = min(n.start_byte for n in [*calls, *splat_runs] if n is not None)
        assert min(a.start_byte for a in asks) < first_run, name
        # A declined change leaves the step WouldRun (not done) in the journal.
        assert "$script:StepDeclined = $true" in text(body), name


def test_the_read_only_check_changes_nothing() -> None:
    body = _body("Test-WslReady")
    assert "SupportsShouldProcess" not in text(body)
    wsl_args = [text(c) for c in _commands(body, "Invoke-WslCommand")]
    assert wsl_args and all("-Arguments '--status'" in a for a in wsl_args)
    version = _commands(_body("Get-WslVersion"), "Invoke-WslCommand")
    assert [("-Arguments '--version'" in text(c)) for c in version] == [True]
    # Under -WhatIf the install steps did not run: the check reports instead of failing the dry run.
    assert "if ($problems.Count -gt 0 -and $script:DryRun)" in text(body)


def test_exit_codes_come_from_the_plan_and_restarts_are_recorded_from_its_list() -> None:
    for name in MUTATING:
        body = text(_body(name))
        assert "$p.OkExitCodes" in body, name
        # No exit code is decided here: the only integer literals are comparisons with 0 (Length, Count).
        assert not re.search(r"\b(3010|1641|1603)\b", body), name
    for name in ("Install-Wsl", "Enable-HostFeature"):
        assert "Add-PendingRestart -Step $Step -ExitCode $result.ExitCode" in text(_body(name)), name
    pending = text(_body("Add-PendingRestart"))
    assert "@($Step.Params.RestartExitCodes) -notcontains $ExitCode" in pending
    assert pending.index("$script:Journal.RebootNeeded = $true") > pending.index("$Step.Params.RestartExitCodes")


def test_versions_come_from_the_plan() -> None:
    assert "$p.SkipFrom" in text(_body("Install-Wsl"))
    assert "$p.MinVersion" in text(_body("Test-WslReady"))
    assert "$p.MinVersion" in text(_body("Update-DockerDesktop"))
    for name in (*MUTATING, "Test-WslReady"):
        assert not re.search(r"'\d+\.\d+(\.\d+)+'", text(_body(name))), name


def test_wsl_exe_runs_only_through_one_helper_that_reads_utf16() -> None:
    runs = [n for n in walk(ROOT) if n.type == "string_literal" and text(n) == "'wsl.exe'"]
    assert runs
    for node in runs:
        owner = enclosing_function(node)
        line = LIBRARY.splitlines()[node.start_point[0]]
        # Elsewhere wsl.exe's path is only tested for existence, or (Stop-DockerDesktop) it runs --shutdown, whose
        # output nothing reads.
        assert owner in ("Invoke-WslCommand", "Stop-DockerDesktop") or "[System.IO.File]::Exists(" in line, owner
    helper = text(_body("Invoke-WslCommand"))
    assert "Utf16Output    = $true" in helper and "Replace([string][char]0, '')" in helper
    native = text(_body("Invoke-NativeProcess"))
    branch = native[native.index("if ($Utf16Output)"):]
    assert "[System.Text.Encoding]::Unicode" in branch and "EnvironmentVariables.Remove('WSL_UTF8')" in branch
    assert "$startInfo.StandardOutputEncoding = $encoding" in native
    # No other function starts wsl.exe with Invoke-NativeProcess, but for `wsl --shutdown` (nothing reads it).
    for call in _commands(ROOT, "Invoke-NativeProcess"):
        assert enclosing_function(call) == "Invoke-WslCommand" or "wsl" not in text(call).lower() or \
            "-Arguments '--shutdown'" in text(call), text(call)


def test_only_the_first_number_of_wsl_version_is_read() -> None:
    body = text(_body("Get-WslVersion"))
    assert body.count("[regex]::Match(") == 1 and "-match" not in body
    assert "Test-VersionAtLeast" in text(_body("Install-Wsl"))
    assert "[System.Version]::TryParse" in text(_body("Test-VersionAtLeast"))


def test_without_an_installer_the_upgrade_asks_or_fails_with_force_and_never_runs_anything() -> None:
    body = _body("Update-DockerDesktop")
    branch = next(n for n in walk(body) if n.type == "if_statement"
                  and text(n).startswith("if ($p.Installer.Length -eq 0)"))
    then_block = next(c for c in branch.children if c.type == "statement_block")
    inside = text(then_block)
    assert "$script:Options.Force" in inside and "Confirm-GoOn " in inside and "throw" in inside
    assert "$script:DryRun" in inside and "Invoke-NativeProcess" not in inside
    assert inside.index("$script:DryRun") < inside.index("$script:Options.Force") < inside.index("Confirm-GoOn ")
    # After either path the installed version is read again and must reach the plan's minimum.
    whole = text(body)
    assert whole.rindex("Get-DesktopVersion") > whole.index("if ($p.Installer.Length -eq 0)")
    assert "Assert-DesktopStopped" in whole


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
    assert params["Program"] == program
    assert split_command_line_msvcrt(params["Arguments"]) == argv
    assert split_command_line_argvw(params["Arguments"]) == argv


def test_upgrade_and_default_version_command_lines() -> None:
    runbook = _runbook(desktop_upgrade=True, desktop_installer=INSTALLER)
    upgrade = _params(runbook, "upgrade-desktop")
    assert upgrade["Installer"] == INSTALLER  # a FilePath, never part of a command line
    assert split_command_line_msvcrt(upgrade["Arguments"]) == ["install", "--quiet", "--accept-license",
                                                                "--backend=wsl-2"]
    assert split_command_line_msvcrt(_params(runbook, "set-wsl-default-version")["Arguments"]) == \
        ["--set-default-version", "2"]
