"""The runbook library (runbook_lib.ps1) read mechanically: issue 9's properties and runbook-style section 11.

Nothing here runs PowerShell. Each check reads the library's tree-sitter tree and returns what it finds wrong; the
library must give none, and a small edit of the library text that breaks the property must give one (so no check
passes by looking at nothing). The data the library reads is the program model's (migrate/plan), so the checks
derive field names from the dataclasses, not from the emitter.
"""
from __future__ import annotations

import dataclasses
import re
import subprocess
from collections.abc import Callable, Iterator
from functools import cache
from importlib import resources
from pathlib import Path

import pytest
from tree_sitter import Node

from migrate.plan.actions import (
    ACTION_NAMES,
    FILE_SHARING_SETTINGS,
    EnableFeature,
    FileSharing,
    FreeSpace,
    HostFile,
    IniEntry,
    InstallWsl,
    ProgramRun,
    SetWslVersion,
    SwitchContainers,
    TargetVolume,
    SecretRef,
    UpgradeDesktop,
    WriteEnvFile,
    WriteSecretValues,
)
from migrate.plan.checks import CHECK_MODES, Check
from migrate.plan.layout import BACKUP_LAYOUT
from migrate.plan.steps import ENTRY_KEYS, TIMEOUTS, Docker, EngineExpect, Step
from migrate.rehearse.journal import ArtifactRecord, Journal, StepState
from migrate.volumedigest import digest_script
from tests.pslint import enclosing_function, walk
from tests.psquote import encoded_argument_rule
from tests.pslit import parse_powershell, syntax_problems
from tests.runbook_check import expected_step, pascal

LIB = resources.files("migrate.emit").joinpath("runbook_lib.ps1").read_text(encoding="ascii")


class Lib:
    """The parsed library: its tree, its functions and the calls between them."""

    def __init__(self, source: str) -> None:
        tree = parse_powershell(source)
        problems = syntax_problems(tree)
        if problems:
            raise AssertionError(f"the library does not parse: {problems[:3]}")
        self.source = source
        self.root = tree.root_node
        self.functions: dict[str, Node] = {}
        self._calls: dict[str, list[Node]] = {}
        for node in walk(self.root):
            if node.type == "function_statement":
                name = next(c for c in node.children if c.type == "function_name")
                self.functions[_text(name).lower()] = node
            elif node.type == "command_name":
                self._calls.setdefault(_text(node).lower(), []).append(node.parent)

    def function(self, name: str) -> Node:
        found = self.functions.get(name.lower())
        if found is None:
            raise AssertionError(f"no function {name} in the library")
        return found

    def body(self, name: str) -> str:
        return _text(self.function(name))

    def calls(self, name: str, within: Node | None = None) -> list[Node]:
        """Every command node calling name (cmdlet or function), in source order."""
        found = self._calls.get(name.lower(), [])
        return [c for c in found if within is None or _inside(c, within)]


def _text(node: Node) -> str:
    return (node.text or b"").decode("utf-8")


@cache
def _lib(source: str) -> Lib:
    return Lib(source)


def _condition(node: Node) -> str:
    """The condition text of an if_statement, elseif_clause or while_statement."""
    return _text(next(c for c in node.children if c.type in ("pipeline", "while_condition")))


def _ifs(within: Node) -> Iterator[Node]:
    return (n for n in walk(within) if n.type == "if_statement")


def _then_block(node: Node) -> Node:
    return next(c for c in node.children if c.type == "statement_block")


def _exits(block: Node) -> bool:
    """The block ends the function or the loop pass: a return, continue or throw in it."""
    return any(n.type in ("return", "continue", "throw") for n in walk(block))


def _inside(node: Node, outer: Node) -> bool:
    return outer.start_byte <= node.start_byte and node.end_byte <= outer.end_byte


def _before(first: Node, second: Node) -> bool:
    return first.end_byte <= second.start_byte


def _code_matches(lib: Lib, pattern: str | re.Pattern[str]) -> Iterator[tuple[re.Match[str], Node]]:
    """Matches of pattern in the library's code (not in comments), with the node each starts in."""
    for match in re.finditer(pattern, lib.source):
        node = lib.root.descendant_for_byte_range(match.start(), match.start() + 1)
        if node is not None and node.type != "comment":
            yield match, node


# ---------------------------------------------------------------------------------------------------------------
# Where a change may happen: under ShouldProcess, or only in a real run

_SP = "$PSCmdlet.ShouldProcess("


def _closes_at_end(text: str, open_at: int) -> bool:
    """The parenthesis at open_at closes exactly at the end of text (one call, nothing after it)."""
    depth = 0
    for i in range(open_at, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return i == len(text) - 1
    return False


def _asks(condition: str) -> bool:
    """The condition is exactly `$PSCmdlet.ShouldProcess(...)`: true only when the change is approved."""
    return condition.startswith(_SP) and _closes_at_end(condition, len(_SP) - 1)


def _declines(condition: str) -> bool:
    """The condition is `[X -or ]-not $PSCmdlet.ShouldProcess(...)`: true whenever the change is not approved."""
    at = condition.rfind("-not " + _SP)
    return at >= 0 and (at == 0 or condition[:at].endswith(" -or ")) \
        and _closes_at_end(condition, at + len("-not " + _SP) - 1)


def _safe_block(condition: str) -> bool:
    """The then-block of this condition runs only when the change is approved or in a real run."""
    return _asks(condition) or condition == "-not $script:DryRun"


def _safe_exit(condition: str) -> bool:
    """An early exit on this condition is taken under -WhatIf or when the change is declined. The log path is set
    only in real runs (check_the_log_is_written_only_in_a_real_run)."""
    return _declines(condition) or condition == "$script:DryRun" or condition.startswith("$script:DryRun -or ") \
        or condition == "$script:LogPath.Length -eq 0"


def locally_safe(node: Node) -> bool:
    """node runs only after ShouldProcess agreed or in a real run, by the structure of its own function."""
    cur = node
    while cur.parent is not None and cur.type != "function_statement":
        parent = cur.parent
        if cur.type == "statement_block" and parent.type in ("if_statement", "elseif_clause") \
                and _safe_block(_condition(parent)):
            return True
        if parent.type == "statement_list":
            for sibling in parent.children:
                if sibling.start_byte >= cur.start_byte:
                    break
                if sibling.type == "if_statement" and _safe_exit(_condition(sibling)) \
                        and _exits(_then_block(sibling)) \
                        and not any(c.type in ("else_clause", "elseif_clauses") for c in sibling.children):
                    return True
        cur = parent
    return False


def safe(lib: Lib, node: Node, seen: frozenset[str] = frozenset()) -> bool:
    """node is locally safe, or every call of its function is (a function nobody calls is not)."""
    if locally_safe(node):
        return True
    function = enclosing_function(node).lower()
    if not function or function in seen:
        return False
    callers = lib.calls(function)
    return bool(callers) and all(safe(lib, c, seen | {function}) for c in callers)


CHANGING_COMMANDS = ("Register-ScheduledTask", "Unregister-ScheduledTask", "Start-ScheduledTask", "Stop-Process",
                     "Stop-Service", "Set-Acl", "Remove-Item", "New-Item", "Move-Item", "Copy-Item",
                     "Set-ItemProperty", "Restart-Computer", "Disable-ScheduledTask", "Set-Content", "Out-File")
_CHANGING_DOTNET = re.compile(r"\[System\.IO\.(?:File|Directory)\]::(?:WriteAll\w+|Append\w+|Move|Replace|Delete|Copy"
                              r"|CreateDirectory)\(|System\.IO\.FileStream\b")
_SYSTEM_PROGRAM = re.compile(r"Get-SystemProgram -Name '(\w+\.exe)'")


def changes(lib: Lib) -> list[tuple[str, Node]]:
    """Everything in the library that changes the machine: cmdlets, .NET file calls, system programs."""
    out = [(_text(c.children[0]), c) for name in CHANGING_COMMANDS for c in lib.calls(name)]
    for match, node in _code_matches(lib, _CHANGING_DOTNET):
        out.append((match.group(0), node))
    for call in lib.calls("Invoke-NativeProcess"):
        program = _SYSTEM_PROGRAM.search(_text(call))
        if program:
            out.append((program.group(1), call))
    return out


# ---------------------------------------------------------------------------------------------------------------
# The checks: each returns what is wrong (empty: the property holds)


def check_only_native_process_starts_programs(lib: Lib) -> list[str]:
    """Programs start only in Invoke-NativeProcess (System.Diagnostics.Process; taskkill too, in its finally
    block): no Start-Process, no call operator, no program called by name; a process-starting .NET call or WMI
    method appears nowhere else."""
    out = [f"Start-Process in {enclosing_function(c)}" for c in lib.calls("Start-Process")]
    out += [f"call operator in {enclosing_function(n)}: {_text(n.parent)[:60]}" for n in walk(lib.root)
            if n.type == "command_invokation_operator"]
    for node in walk(lib.root):
        if node.type == "command_name":
            name = _text(node)
            verb, dash, noun = name.partition("-")
            if name.lower() not in lib.functions and not (dash and noun.isalpha() and verb.isalpha()):
                out.append(f"{name} is neither a library function nor a cmdlet (a program?) in "
                           f"{enclosing_function(node)}")
    for match, node in _code_matches(lib, r"ProcessStartInfo|Diagnostics\.Process\]::Start\b|\.Start\(\)|"
                                          r"System\.Diagnostics\.Process\b(?!\]::GetCurrentProcess)"):
        if enclosing_function(node) != "Invoke-NativeProcess":
            out.append(f"{match.group(0)} in {enclosing_function(node) or 'the script body'}")
    for call in lib.calls("Invoke-CimMethod"):
        if "-MethodName GetOwner" not in _text(call):
            out.append(f"Invoke-CimMethod other than GetOwner: {_text(call)[:80]}")
    return out


_MANDATORY = re.compile(r"\[Parameter\(Mandatory(\s*=\s*\$true)?[,)]")
"""A mandatory parameter, in either spelling PowerShell 3+ accepts."""


def check_native_calls_have_timeouts(lib: Lib) -> list[str]:
    """Every program runs with a time limit, and the limit (or Ctrl+C, in the finally block) ends the whole process
    tree (taskkill /T /F)."""
    out = []
    native = lib.function("Invoke-NativeProcess")
    declaration = next((n for n in walk(native) if n.type == "script_parameter"
                        and "$TimeoutSeconds" in _text(n)), None)
    if declaration is None or not _MANDATORY.search(_text(declaration)) or "=" in _text(declaration).split(
            "$TimeoutSeconds", 1)[1]:
        out.append("Invoke-NativeProcess: -TimeoutSeconds must be mandatory, without a default")
    for call in lib.calls("Invoke-NativeProcess"):
        args = _text(call)
        if "-TimeoutSeconds" not in args:
            splat = re.search(r"@(\w+)", args)
            name = splat.group(1) if splat else ""
            # @PSBoundParameters passes on the caller's own -TimeoutSeconds (checked below for Invoke-DockerCommand).
            entries = {"TimeoutSeconds": ""} if name == "PSBoundParameters" else _splat(lib, call, name) if name else {}
            if "TimeoutSeconds" not in entries:
                out.append(f"{enclosing_function(call)}: Invoke-NativeProcess without -TimeoutSeconds")
    docker = lib.function("Invoke-DockerCommand")
    limit = next((n for n in walk(docker) if n.type == "script_parameter" and "$TimeoutSeconds" in _text(n)), None)
    passed = [c for c in lib.calls("Invoke-NativeProcess", docker) if "@PSBoundParameters" in _text(c)]
    if limit is None or not _MANDATORY.search(_text(limit)) or "=" in _text(limit).split("$TimeoutSeconds", 1)[1] \
            or len(passed) != 1 or re.search(r"\.Remove\('TimeoutSeconds'\)", _text(docker)):
        out.append("Invoke-DockerCommand does not pass its (mandatory) time limit on")
    step = lib.calls("Invoke-DockerCommand", lib.function("Invoke-DockerStep"))
    main = [c for c in step if "@splatDocker" in _text(c)]
    if len(main) != 1 or _splat(lib, main[0], "splatDocker").get("TimeoutSeconds") != "$docker.Timeout":
        out.append("Invoke-DockerStep does not run the command with the step's Timeout")
    loop = next((n for n in walk(native) if n.type == "while_statement"
                 and re.fullmatch(r"-not \$process\.WaitForExit\(1000 \* \$script:Timeouts\.Poll\)",
                                  _condition(n))), None)
    if loop is None:
        return [*out, "Invoke-NativeProcess: no wait loop on the process"]
    expiry = [n for n in _ifs(loop) if "$TimeoutSeconds" in _condition(n)]
    body = _text(_then_block(expiry[0])) if expiry else ""
    if not ("$timedOut = $true" in body and "break" in body):
        out.append("Invoke-NativeProcess: past the time limit the wait does not end")
    # The kill sits in the finally block of the try that holds the wait loop (a time limit, Ctrl+C or an error), in
    # .NET calls only: PowerShell 7.4.2+ may skip commands there after Ctrl+C (PowerShell/PowerShell#21552).
    owner = loop.parent
    while owner is not None and owner.type != "try_statement":
        owner = owner.parent
    final = next((n for n in (owner.children if owner is not None else []) if n.type == "finally_clause"), None)
    kill = next((n for n in _ifs(final) if _condition(n) == "$running -and -not $process.HasExited"), None) \
        if final else None
    text = _text(_then_block(kill)) if kill is not None else ""
    argv = re.search(r"ProcessStartInfo\]::new\(\$taskkill, '/PID ' \+ \$process\.Id \+ '([^']*)'\)", text)
    if not (argv and {"/T", "/F"} <= set(argv.group(1).split()) and "[System.Diagnostics.Process]::Start(" in text
            and "$taskkill = Get-SystemProgram -Name 'taskkill.exe'" in lib.body("Invoke-NativeProcess")):
        out.append("Invoke-NativeProcess: a program still running past its limit or at Ctrl+C is not ended with "
                   "taskkill /T /F")
    if kill is not None and any(n.type == "command" for n in walk(_then_block(kill))):
        out.append("Invoke-NativeProcess: the kill after Ctrl+C runs PowerShell commands, which 7.4.2+ may skip")
    return out


def _splat(lib: Lib, call: Node, name: str) -> dict[str, str]:
    """key -> value text of the hashtable assigned to $name in the function of call (the last assignment before)."""
    function = lib.function(enclosing_function(call))
    found: dict[str, str] = {}
    for node in walk(function):
        if node.type == "assignment_expression" and _text(node.children[0]).strip().lower() == f"${name}".lower() \
                and node.start_byte < call.start_byte:
            found = {}
            body = next((n for n in walk(node) if n.type == "hash_literal_body"), None)
            for entry in (body.children if body is not None else []):
                if entry.type == "hash_entry":
                    parts = [c for c in entry.children if c.type not in ("=", ";")]
                    found[_text(parts[0])] = _text(parts[1]).strip()
    return found


_SHARED_CASE = re.compile(r"\{ \$_ -in ('[a-z-]+'(?:, '[a-z-]+')+) \}")
"""A case for several actions that share one function: { $_ -in 'a', 'b' }."""


def case_names(condition: str) -> list[str] | None:
    """The action names of a switch case's condition ('name', or several in a shared case), None for anything else."""
    if re.fullmatch(r"'[a-z-]+'", condition):
        return [condition[1:-1]]
    shared = _SHARED_CASE.fullmatch(condition)
    return [n.strip("' ") for n in shared.group(1).split(",")] if shared else None


def check_every_action_has_one_case(lib: Lib) -> list[str]:
    """Invoke-HostAction has exactly one case per host action of the step model, each calling a library function
    that takes the step; nothing else is dispatched, and an unknown kind throws."""
    out = []
    switch = next((n for n in walk(lib.function("Invoke-HostAction")) if n.type == "switch_statement"), None)
    if switch is None:
        return ["Invoke-HostAction has no switch"]
    if _text(next(c for c in switch.children if c.type == "switch_condition")) != "($Step.Kind)":
        out.append("Invoke-HostAction does not switch on $Step.Kind")
    cases: list[str] = []
    for clause in (n for n in walk(switch) if n.type == "switch_clause"):
        condition = next(c for c in clause.children if c.type == "switch_clause_condition")
        block = _then_block(clause)
        if _text(condition) == "default":
            if not any(n.type == "throw" for n in walk(block)):
                out.append("the default case does not throw")
            continue
        names = case_names(_text(condition))
        if names is None:
            out.append(f"case {_text(condition)} is not a plain action name or a list of them")
            continue
        name = ", ".join(names)
        cases += names
        called = [_text(n) for n in walk(block) if n.type == "command_name"]
        if len(called) != 1 or called[0].lower() not in lib.functions:
            out.append(f"case {name} does not call one library function: {called}")
            continue
        if f"{called[0]} -Step $Step" not in _text(block):
            out.append(f"case {name} does not pass the step")
        params = _text(lib.function(called[0]))
        if not re.search(r"\[Parameter\(Mandatory(\s*=\s*\$true)?\)\] \[hashtable\]\$Step", params):
            out.append(f"{called[0]} does not take -Step as a mandatory hashtable")
    duplicates = sorted({c for c in cases if cases.count(c) > 1})
    if duplicates:
        out.append(f"cases named twice: {duplicates}")
    if set(cases) != set(ACTION_NAMES):
        out.append(f"missing cases {sorted(set(ACTION_NAMES) - set(cases))}, extra cases "
                   f"{sorted(set(cases) - set(ACTION_NAMES))}")
    return out


def check_mutating_docker_steps_ask_first(lib: Lib) -> list[str]:
    """A docker step that changes something runs only when ShouldProcess agrees (so -WhatIf runs only the
    read-only ones); docker steps reach docker only through Invoke-DockerStep."""
    out = []
    function = lib.function("Invoke-DockerStep")
    if "SupportsShouldProcess" not in _text(function):
        out.append("Invoke-DockerStep does not declare SupportsShouldProcess")
    guard = next((n for n in _ifs(function) if _condition(n) ==
                  "$Step.Mutating -and -not $PSCmdlet.ShouldProcess($Step.Target, $Step.Title)"), None)
    calls = lib.calls("Invoke-DockerCommand", function)
    if guard is None or not _exits(_then_block(guard)) or "$script:StepDeclined = $true" not in _text(guard):
        out.append("Invoke-DockerStep: no `if ($Step.Mutating -and -not ShouldProcess) { declined; return }`")
    elif not calls or not all(_before(guard, c) for c in calls):
        out.append("Invoke-DockerStep runs docker before asking ShouldProcess")
    run = lib.function("Invoke-RunbookStep")
    dispatch = next((n for n in _ifs(run) if _condition(n) == "$Step.Kind -eq 'docker'"), None)
    if dispatch is None or "Invoke-DockerStep -Step $Step" not in _text(_then_block(dispatch)):
        out.append("Invoke-RunbookStep does not send docker steps to Invoke-DockerStep")
    for call in lib.calls("Invoke-DockerStep"):
        if dispatch is None or not _inside(call, dispatch):
            out.append(f"Invoke-DockerStep called elsewhere: {enclosing_function(call)}")
    return out


READ_ONLY_DOCKER = {
    ("Export-InspectedValue", "-Segments $p.Inspect"),
    ("Assert-Check", "-Segments $check.CommandLine"),
    ("Confirm-Engine", "-Segments $script:Probes.Info"),
    ("Invoke-DockerCommand", "@PSBoundParameters"),
    ("Get-InstalledVersion", "-Arguments '--version'"),
    ("Test-WslReady", "-Arguments '--status'"),
}
"""Native calls that run under -WhatIf because they change nothing: the planned checks and probes, and the helper
that runs every docker command. Invoke-DockerStep is check_mutating_docker_steps_ask_first's."""


def check_native_calls_are_guarded_or_read_only(lib: Lib) -> list[str]:
    out = []
    for name in ("Invoke-NativeProcess", "Invoke-DockerCommand"):
        for call in lib.calls(name):
            function = enclosing_function(call)
            # Invoke-DockerStep's commands (and the clean-up and recovery it hands Invoke-QuietDocker) are the
            # step's own, run after ShouldProcess agreed to a mutating step.
            if function in ("Invoke-DockerStep", "Invoke-QuietDocker") or safe(lib, call):
                continue
            if not any(f == function and key in _text(call) for f, key in READ_ONLY_DOCKER):
                out.append(f"{function}: {_text(call)[:90]} runs under -WhatIf")
    out += [f"Invoke-QuietDocker called from {enclosing_function(c)}" for c in lib.calls("Invoke-QuietDocker")
            if enclosing_function(c) != "Invoke-DockerStep"]
    return out


def check_dry_run_changes_nothing(lib: Lib) -> list[str]:
    """Under -WhatIf nothing changes: every change (files, tasks, processes, icacls, dism, wsl) is reached only
    through ShouldProcess or a real run; journal writes return on $script:DryRun first."""
    out = [f"{enclosing_function(node) or 'script body'}: {what} can run under -WhatIf" for what, node in changes(lib)
           if not safe(lib, node)]
    for name in ("Save-Journal", "Write-StepStatus"):
        statements = _statements(lib.function(name))
        if not statements or not re.fullmatch(r"if \(\$script:DryRun\) \{\s*return\s*\}", _text(statements[0])):
            out.append(f"{name} does not return on $script:DryRun first")
    first = _statements(lib.function("Invoke-Runbook"))
    if not first or _text(first[0]) != "$script:DryRun = [bool]$WhatIfPreference":
        out.append("Invoke-Runbook does not set $script:DryRun before anything else")
    return out


def _statements(function: Node) -> list[Node]:
    """The top-level statements of a function body (after param())."""
    body = next(n for n in walk(function) if n.type == "script_block_body")
    statements = next(c for c in body.children if c.type == "statement_list")
    return [c for c in statements.children if c.type != "comment"]


def check_the_log_is_written_only_in_a_real_run(lib: Lib) -> list[str]:
    """$script:LogPath (Write-RunbookLog's switch) gets a value only under `if (-not $script:DryRun)`."""
    out = []
    for node in walk(lib.root):
        if node.type == "assignment_expression" and _text(node.children[0]).strip() == "$script:LogPath":
            value = _text(node).split("=", 1)[1].strip()
            if value != "''" and not locally_safe(node):
                out.append(f"{enclosing_function(node)} sets the log path in a dry run")
    return out


def check_features_go_through_dism(lib: Lib) -> list[str]:
    """Optional features through dism.exe with the plan's exit codes (its restart codes recorded for the reboot
    step), never the DISM module."""
    out = [f"DISM module: {m.group(0)}" for m, _ in _code_matches(
        lib, r"\b\w+-Windows(?:Optional)?Feature\b|\b\w+-WindowsCapability\b|Import-Module\s+-?\w*\s*Dism")]
    function = lib.function("Invoke-HostProgram")
    calls = lib.calls("Invoke-NativeProcess", function)
    text = _text(calls[0]) if len(calls) == 1 else ""
    for part in ("-FilePath $file", "-Arguments $run.Arguments", "-OkExitCodes $run.OkExitCodes",
                 "-TimeoutSeconds $run.Timeout"):
        if part not in text:
            out.append(f"Invoke-HostProgram: the program call lacks {part}")
    system = next((n for n in _ifs(function) if _condition(n) == "$run.System32"), None)
    if system is None or "$file = Get-SystemProgram -Name $run.Program" not in _text(_then_block(system)):
        out.append("Invoke-HostProgram does not run a System32 program from the System folder")
    feature = EnableFeature(name="VirtualMachinePlatform").run
    if (feature.program, feature.system32) != ("dism.exe", True) or 3010 not in feature.restart_exit_codes:
        out.append(f"enable-feature plans {feature.program} (System32: {feature.system32}), not System32's dism.exe")
    restart = next((n for n in _ifs(function)
                    if _condition(n) == "@($run.RestartExitCodes) -contains $result.ExitCode"), None)
    if restart is None or "$script:Journal.RebootNeeded = $true" not in _text(_then_block(restart)):
        out.append("Invoke-HostProgram: the plan's restart exit codes do not record that Windows must restart")
    if "GetFolderPath('System')" not in lib.body("Get-SystemProgram"):
        out.append("Get-SystemProgram does not use the System folder")
    return out


def check_refuses_a_32_bit_powershell(lib: Lib) -> list[str]:
    """A 32-bit PowerShell would see SysWOW64 as System32 (wsl.exe, dism.exe): the run refuses before anything."""
    statements = _statements(lib.function("Invoke-Runbook"))
    refusal = next((s for s in statements if s.type == "if_statement"
                    and _condition(s) == "-not [System.Environment]::Is64BitProcess"), None)
    if refusal is None or not any(n.type == "throw" for n in walk(_then_block(refusal))):
        return ["Invoke-Runbook does not refuse a 32-bit process"]
    index = statements.index(refusal)
    later = [_text(s) for s in statements[:index] if not _text(s).startswith("$script:")]
    return [f"Invoke-Runbook does something before the 32-bit check: {t[:60]}" for t in later]


def check_the_lock_comes_before_the_journal(lib: Lib) -> list[str]:
    """A named mutex, taken (without waiting) before the journal is read; not owned: the run refuses; released in
    the finally of the run; an abandoned mutex (a run that died) counts as taken."""
    out = []
    function = lib.function("Invoke-Runbook")
    body = _text(function)
    if "New-Object -TypeName System.Threading.Mutex -ArgumentList $false, $script:MutexName" not in body:
        out.append("no named mutex of $script:MutexName")
    take = body.find("$mutex.WaitOne(0)")
    read = [c.start_byte - function.start_byte for c in lib.calls("Import-Journal", function)]
    if take < 0 or not read or not all(take < r for r in read):
        out.append("the journal is read before the mutex is taken")
    refuse = next((n for n in _ifs(function) if _condition(n) == "-not $owned"), None)
    if refuse is None or not any(n.type == "throw" for n in walk(refuse)):
        out.append("a mutex held by another run does not stop this one")
    if "catch [System.Threading.AbandonedMutexException]" not in body:
        out.append("an abandoned mutex is not taken over")
    finals = [n for n in walk(function) if n.type == "finally_clause"]
    if not any("$mutex.ReleaseMutex()" in _text(f) for f in finals):
        out.append("the mutex is not released in a finally block")
    return out


def check_resume_checks_the_boot_time(lib: Lib) -> list[str]:
    """A run after a restart was asked for refuses while the boot time is still the one recorded; the reboot step
    records it (and saves the journal) before it stops."""
    out = []
    function = lib.function("Invoke-Runbook")
    gate = next((n for n in _ifs(function) if "$script:Journal.RebootNeeded" in _condition(n)
                 and "$script:Journal.BootTime" in _condition(n)), None)
    body = _text(gate) if gate is not None else ""
    same = next((n for n in _ifs(gate) if _condition(n) == "-not $restarted -and -not $Options.Rollback"), None) \
        if gate is not None else None
    loop = _forward_loop(lib)
    if "$restarted = (Get-BootTime) -ne $script:Journal.BootTime" not in body or same is None or \
            not any(n.type == "throw" for n in walk(_then_block(same))):
        out.append("Invoke-Runbook does not refuse to resume before Windows restarted")
    elif loop is None or not _before(gate, loop):
        out.append("the boot time is checked after steps run")
    restart = lib.body("Request-Restart")
    record, save, stop = (restart.find(s) for s in ("$script:Journal.BootTime = Get-BootTime", "Save-Journal",
                                                    "$script:StopRequested = $true"))
    if not 0 <= record < save < stop:
        out.append("Request-Restart does not record the boot time and save the journal before it stops")
    return out


def _forward_loop(lib: Lib) -> Node | None:
    """The loop over the program's steps (forward, or the rollback steps under -Rollback)."""
    function = lib.function("Invoke-Runbook")
    forward = any(_text(n) == "$program = $script:Steps" for n in walk(function) if n.type == "assignment_expression")
    return next((n for n in walk(function) if n.type == "foreach_statement"
                 and "in $program)" in _text(n).split("\n")[0]), None) if forward else None


def check_resume_task_settings(lib: Lib) -> list[str]:
    """The resume task: at logon of this user, interactive, highest run level, allowed on battery and not stopped
    on it, no time limit, normal priority (both tasks); it runs the console PowerShell of this edition ($PSHOME)
    on the protected copy of this runbook with -Resume -FromTask and the run's options."""
    out = []
    function = lib.function("Request-Restart")
    (register,) = lib.calls("Register-RunbookTask", function) or (None,)
    if register is None or "@splatTask" in _text(register) or "-Task $splatTask" not in _text(register):
        return ["Request-Restart does not register the resume task"]
    task = _splat(lib, register, "splatTask")
    helper = lib.function("Register-RunbookTask")
    (new_settings,) = lib.calls("New-ScheduledTaskSettingsSet", helper) or (None,)
    settings = _text(new_settings).split() if new_settings is not None else []
    for part in ("-AllowStartIfOnBatteries", "-DontStopIfGoingOnBatteries", "-ExecutionTimeLimit (New-TimeSpan "
                 "-Seconds 0)", "-Priority 4"):
        flag, _, value = part.partition(" ")
        if flag not in settings or (value and " ".join(settings[settings.index(flag) + 1:]).find(value) != 0):
            out.append(f"the tasks' settings lack {part}")
    (registered,) = lib.calls("Register-ScheduledTask", helper) or (None,)
    if registered is None or "@Task " not in _text(registered) or "-Settings $settings" not in _text(registered) \
            or "$settings = New-ScheduledTaskSettingsSet" not in _text(helper) or \
            "-Principal $principal" not in _text(registered):
        out.append("Register-RunbookTask does not register the task with those settings")
    principal = next((_text(n) for n in walk(helper) if n.type == "assignment_expression"
                      and _text(n).startswith("$principal = ")), "")
    for part in ("-LogonType Interactive", "-RunLevel $RunLevel"):
        if part not in principal:
            out.append(f"the tasks' principal lacks {part}")
    if not re.search(r"Register-RunbookTask -Task @\{ TaskName = \$script:DesktopTaskName;[^\n]*\}",
                     lib.body("Start-DockerDesktop")):
        out.append("the start-desktop task is not registered by Register-RunbookTask")
    if task.get("Action") != "New-ScheduledTaskAction -Execute $shell -Argument $arguments" or \
            ("$shell = [System.IO.Path]::Combine($PSHOME, $(if ($PSVersionTable.PSEdition -eq 'Core') { 'pwsh.exe' } "
             "else { 'powershell.exe' }))") not in lib.body("Request-Restart"):
        out.append("the resume task does not run the console PowerShell of $PSHOME")
    restart = lib.body("Request-Restart")
    copy = ("$copy = Resolve-HostPath -Template $script:ResumeTaskCopy", "-Sids @('S-1-5-32-544', 'S-1-5-18') "
            "-StepId $Step.Id -AdminOwned", "Write-BytesFileAtomic -Path $copy", "(Get-FileSha256 -Path $copy) -ne",
            "$arguments = $script:ResumeArguments -f (ConvertTo-QuotedArgument -Value $copy), "
            "(ConvertTo-QuotedArgument -Value $script:BackupRoot), "
            "(ConvertTo-QuotedArgument -Value $script:DockerExe), "
            "$script:Options.EngineTimeoutSeconds, $script:Engines['source'], $script:Engines['target'], "
            "$script:Engines['hyperv']")
    positions = [restart.find(part) for part in copy]
    if min(positions) < 0 or positions != sorted(positions):
        out.append("the resume task does not run the protected (Administrators-owned, re-hashed) copy of the runbook")
    if "Register-RunbookTask -Task $splatTask -RunLevel Highest" not in restart:
        out.append("the resume task does not run at the highest run level")
    if "-AtLogOn" not in task.get("Trigger", ""):
        out.append("the resume task does not start at logon")
    # The planned command line ($script:ResumeArguments, tests/test_runbook.py) gets the run's values in its order;
    # the run's phase and -Force follow.
    for part in ("$arguments += ' -Phase ' + $script:Options.Phase", "$arguments += ' -Force'"):
        if part not in lib.body("Request-Restart"):
            out.append(f"the resume task's command lacks {part}")
    return out


def check_desktop_starts_unelevated(lib: Lib) -> list[str]:
    """Docker Desktop starts through a one-time task of the interactive user at RunLevel Limited (a process started
    from the elevated runbook would be elevated), removed again in a finally block."""
    out = []
    function = lib.function("Start-DockerDesktop")
    registers = lib.calls("Register-RunbookTask", function)
    if len(registers) != 1 or not _text(registers[0]).endswith(" -RunLevel Limited"):
        out.append("Docker Desktop's task is not registered at RunLevel Limited")
    principal = next((_text(n) for n in walk(lib.function("Register-RunbookTask")) if n.type == "assignment_expression"
                      and _text(n).startswith("$principal = ")), "")
    if "-RunLevel $RunLevel" not in principal or "-LogonType Interactive" not in principal:
        out.append(f"the tasks' principal is {principal!r}: not the run level asked for, interactive")
    if not lib.calls("Start-ScheduledTask", function):
        out.append("Start-DockerDesktop does not start the task")
    if not any("Unregister-ScheduledTask" in _text(f) for f in walk(function) if f.type == "finally_clause"):
        out.append("the one-time task is not removed in a finally block")
    if any(lib.calls(n, function) for n in ("Invoke-NativeProcess", "Start-Process", "Invoke-DockerCommand")):
        out.append("Start-DockerDesktop starts a process itself")
    return out


def check_rollback_tombstone_stops_forward_runs(lib: Lib) -> list[str]:
    """A rolled-back journal refuses every forward run and resume, before any step runs or the journal is saved."""
    function = lib.function("Invoke-Runbook")
    gate = next((n for n in _ifs(function) if _condition(n) ==
                 "$script:Journal.RolledBack.Length -gt 0 -and -not $Options.Rollback"), None)
    if gate is None or not any(n.type == "throw" for n in walk(_then_block(gate))):
        return ["Invoke-Runbook does not refuse a rolled-back journal"]
    out = []
    reads = lib.calls("Import-Journal", function)
    later = [*lib.calls("Save-Journal", function), *lib.calls("Invoke-RunbookStep", function)]
    loop = _forward_loop(lib)
    if not reads or not _before(reads[0], gate):
        out.append("the tombstone is checked before the journal is read")
    if loop is None or any(not _before(gate, n) for n in [*later, loop]):
        out.append("a step runs or the journal is saved before the tombstone is checked")
    if "$script:Journal.RolledBack = Get-TimeStamp" not in lib.body("Complete-Rollback"):
        out.append("mark-rolled-back does not tombstone the journal")
    return out


_MESSAGES = ("Write-RunbookLog", "Write-Verbose", "Write-Warning", "Write-Information", "Write-Progress",
             "Write-Error", "Add-StepNote")


def _message_nodes(lib: Lib, within: Node | None = None) -> list[Node]:
    """Every message command and throw statement (what reaches a log, the console or the transcript)."""
    out = [c for name in _MESSAGES for c in lib.calls(name, within)]
    out += [n.parent for n in walk(within or lib.root) if n.type == "throw"]
    return out


def check_logs_show_the_display_text(lib: Lib) -> list[str]:
    """Logs and messages show a command by its planned Display text (secrets redacted), never the command line."""
    out = []
    for node in _message_nodes(lib):
        found = re.search(r"(?i)\$arguments\b|\$startInfo\b|Resolve-CommandLine|\.CommandLine\b|\$Segments\b|"
                          r"\.Arguments\b", _text(node))
        if found:
            out.append(f"{enclosing_function(node)}: a message shows {found.group(0)}")
    logs = lib.calls("Write-RunbookLog", lib.function("Invoke-NativeProcess"))
    if not any("$Display" in _text(c) for c in logs):
        out.append("Invoke-NativeProcess does not log the command's Display text")
    splat = _splat(lib, lib.calls("Invoke-DockerCommand", lib.function("Invoke-DockerStep"))[-1], "splatDocker")
    if splat.get("Display") != "$docker.Display":
        out.append("Invoke-DockerStep does not pass the step's Display")
    return out


def check_env_values_never_reach_a_message(lib: Lib) -> list[str]:
    """write-env-file: what a variable holds never reaches a log line, a note or an error (only names and counts)."""
    function = lib.function("Export-InspectedValue")
    out = []
    for node in _message_nodes(lib, function):
        found = re.search(r"(?i)\$(text|key|found|document|inspect|pair|field|body)\b|\$values\b(?!\.Count)",
                          _text(node))
        if found:
            out.append(f"Export-InspectedValue: a message shows {found.group(0)}")
    return out


_SECRET_FUNCTIONS = {
    "Export-InspectedValue": r"\$(text|values(?!\.Count)|found|document|inspect|pair|field|body)\b",
    "Get-SecretValue": r"\$(value|values|document)\b",
    "ConvertTo-EncodedArgument": r"\$(value|escaped)\b",
    "Invoke-DockerCommand": r"\$(segment|arguments)\b",
}
"""Each function that holds a secret value, and the variables that hold it (or the text around it)."""


def check_secret_values_never_reach_a_message(lib: Lib) -> list[str]:
    """write-secret-values and the run-time arguments: a value read from the old engine or from secrets/values never
    reaches a log line, a note, a warning or an error (only names, positions and counts); Invoke-NativeProcess
    logs the planned Display text only (check_logs_show_the_display_text)."""
    out = []
    for name, pattern in _SECRET_FUNCTIONS.items():
        for node in _message_nodes(lib, lib.function(name)):
            found = re.search(rf"(?i){pattern}", _text(node))
            if found:
                out.append(f"{name}: a message shows {found.group(0)}")
    return out


def check_secret_values_live_in_the_backup_folder(lib: Lib) -> list[str]:
    """The values are written to, and read from, the planned file in the backup folder (locked to the user and
    SYSTEM), never another path; a Secret segment of a command line becomes exactly one argument, quoted by
    ConvertTo-EncodedArgument from the value Get-SecretValue read."""
    out = []
    export = lib.body("Export-InspectedValue")
    if "Write-Utf8FileAtomic -Path (Get-BackupItemPath -Relative $p.Path) -Text" not in export:
        out.append("Export-InspectedValue does not write the planned file of the backup folder")
    if "$PSCmdlet.ShouldProcess($p.Path" not in export:
        out.append("Export-InspectedValue writes without asking ShouldProcess")
    read = lib.body("Get-SecretValue")
    if "$path = Get-BackupItemPath -Relative $Relative" not in read or \
            "ConvertFrom-Json -InputObject (Read-TextFile -Path $path)" not in read:
        out.append("Get-SecretValue does not read the file from the backup folder")
    if len(re.findall(r"Read-TextFile|ReadAll\w+|Get-Content", read)) != 1:
        out.append("Get-SecretValue reads something else too")
    branch = next((n for n in walk(lib.function("Invoke-DockerCommand")) if n.type == "elseif_clause"
                   and "$segment.Contains('Secret')" in _condition(n)), None)
    body = _text(_then_block(branch)) if branch is not None else ""
    if "ConvertTo-EncodedArgument -Value ($segment['Prefix'] + (Get-SecretValue -Relative $segment['Secret'] " \
            "-Index $segment['Index']))" not in body:
        out.append("Invoke-DockerCommand does not quote a Secret segment's value read from its file")
    return out


def check_the_backup_folder_is_locked(lib: Lib) -> list[str]:
    """The whole backup folder is limited to the user and SYSTEM (icacls /inheritance:r /grant:r), read back,
    before anything is written into it."""
    out = []
    protect = lib.body("Protect-Folder")
    steps = ("CreateDirectory($Path)", "-Name 'icacls.exe'", "' /inheritance:r /grant:r ' + $grants",
             "AreAccessRulesProtected", "$Sids -notcontains $_", "unexpected access rule")
    positions = [protect.find(s) for s in steps]
    if min(positions) < 0 or positions != sorted(positions):
        out.append(f"Protect-Folder: expected, in order: {steps}")
    if "'*' + $_ + ':(OI)(CI)F'" not in protect:
        out.append("Protect-Folder does not grant full control to each SID on the folder and all below it")
    backup = lib.body("Initialize-BackupFolder")
    if "Protect-Folder -Path $root -Sids @($userSid, 'S-1-5-18')" not in backup:
        out.append("Initialize-BackupFolder does not limit the folder to the user and SYSTEM")
    if not 0 <= backup.find("Protect-Folder -Path $root") < backup.find("CreateDirectory"):
        out.append("prepare-backup-folder creates sub-folders before locking the folder")
    if "foreach ($folder in $Step.Params.Folders) { [void][System.IO.Directory]::CreateDirectory(" not in backup:
        out.append("prepare-backup-folder does not make the planned sub-folders")
    run = lib.body("Invoke-Runbook")
    if not 0 <= run.find("Initialize-BackupFolder") < run.find("[System.IO.Directory]::CreateDirectory($logFolder)"):
        out.append("the log folder is made before the backup folder is locked")
    return out


def check_artifacts_are_rehashed_before_use(lib: Lib) -> list[str]:
    """Every artifact a step reads is re-hashed (size and sha256) right before it runs, and the backups again by
    verify-backups; the switch and restore phases wait for that step."""
    out = []
    unchanged = lib.body("Test-ArtifactUnchanged")
    if "(Get-FileSha256 -Path $path) -ne $record.Sha256" not in unchanged or "-ne $record.Size" not in unchanged:
        out.append("Test-ArtifactUnchanged does not compare both size and sha256")
    blocker = lib.function("Get-StepBlocker")
    loop = next((n for n in walk(blocker) if n.type == "foreach_statement" and "in $Step.Consumes)" in _text(n)), None)
    if loop is None or not lib.calls("Test-ArtifactUnchanged", loop):
        out.append("Get-StepBlocker does not re-hash what the step consumes")
    gated = next((n for n in _ifs(blocker) if "$script:GatedPhases -contains $Step.Phase" in _condition(n)), None)
    if gated is None or "Test-BackupsVerified" not in _condition(gated):
        out.append("the switch and restore phases do not wait for verify-backups")
    if not lib.calls("Test-ArtifactUnchanged", lib.function("Test-BackupArtifact")):
        out.append("verify-backups does not re-hash the backups")
    verified = lib.body("Test-BackupsVerified")
    if "$gate = $script:BackupGate" not in verified or "$script:Steps" in verified:
        out.append("the gate is not the program's $script:BackupGate")
    return out


def check_engines_prove_what_they_are(lib: Lib) -> list[str]:
    """Before a step talks to an engine, the engine proves it is the one the plan expects: OS, kernel (the WSL 2
    engine's microsoft-standard), not the source's engine id."""
    out = []
    problem = lib.body("Confirm-Engine")
    for part in ("$found.OSType -ne $expect.Os", "$found.KernelVersion.Contains($expect.KernelContains)",
                 "$expect.NotSource", "$script:EngineExpect[$Engine]"):
        if part not in problem:
            out.append(f"Confirm-Engine does not check {part}")
    run = lib.function("Invoke-RunbookStep")
    proof = lib.calls("Confirm-Engine", run)
    work = [*lib.calls("Invoke-DockerStep", run), *lib.calls("Invoke-HostAction", run)]
    if not proof or not work or not all(_before(proof[0], w) for w in work):
        out.append("Invoke-RunbookStep does not prove the engine before the step's work")
    forget = next((n for n in _ifs(lib.function("Invoke-RunbookStep"))
                   if "$script:EngineChanging -contains $Step.Kind" in _condition(n)), None)
    if forget is None or "$script:CheckedEngines = @{}" not in _text(forget) or \
            not all(_before(forget, w) for w in lib.calls("Invoke-HostAction", run)):
        out.append("an action that can change which engine answers does not make the engines prove themselves again")
    return out


def check_wsl_changes_only_while_desktop_is_stopped(lib: Lib) -> list[str]:
    """Desktop starts at logon from its Run entry whatever its settings say: install-wsl proves it stopped before it
    runs an installer (the program stops it first after each restart)."""
    body = lib.body("Invoke-HostProgram")
    guard, work = body.find("{ Assert-DesktopStopped -What $run.Stopped }"), body.find("ShouldProcess(")
    out = [] if 0 <= guard < work else ["a program run does not check Docker Desktop is stopped before it runs"]
    for action in (InstallWsl(), InstallWsl(program="msiexec.exe", wsl_arguments=(), msi="C:\\w.msi")):
        if not action.run.stopped:
            out.append(f"install-wsl ({action.program}) runs while Docker Desktop may run")
    return out


def check_the_first_stop_after_a_restart_waits_for_desktop(lib: Lib) -> list[str]:
    """After the restart the program asked for, Explorer starts Docker Desktop's Run entry some time after logon:
    the run's first stop-desktop waits for it (when it has one) before it looks, once."""
    out = []
    stop = lib.body("Stop-DockerDesktop")
    entry = stop.find("CurrentVersion\\Run")
    wait = stop.find("[void](Wait-DesktopProcess -Seconds $script:Timeouts.DesktopStart)")
    look = stop.find("if (@(Get-DesktopProcess).Count -eq 0 -and -not $serviceRunning)")
    if not (0 <= stop.find("if ($script:AfterRestart") < entry < wait < stop.find("$script:AfterRestart = $false")
            < look) or "-match $script:Desktop.RunEntry" not in stop:
        out.append("stop-desktop does not wait for Desktop's start at logon (its Run entry), once, after a restart")
    gate = next((n for n in _ifs(lib.function("Invoke-Runbook")) if _condition(n) == "$restarted"), None)
    if gate is None or "$script:AfterRestart = $true" not in _text(_then_block(gate)):
        out.append("a run after the restart does not know it follows one")
    window = lib.body("Wait-DesktopProcess")
    if "AddSeconds($Seconds)" not in window or "-Name $names" not in window or \
            "$names = if ($Gone) { $script:Desktop.Processes } else { $script:Desktop.Windows }" not in window:
        out.append("Wait-DesktopProcess does not wait the given time for Desktop's window")
    return out


def check_the_backup_folder_is_local(lib: Lib) -> list[str]:
    """Docker Desktop cannot mount a network share into the helper containers (docker/for-win#8234): a -BackupPath
    on a share or a mapped network drive is refused before anything is written, as plan.backup_path is."""
    out = []
    share = next((n for n in _ifs(lib.function("Assert-BackupFolderPath"))
                  if "$trimmed.StartsWith('\\\\')" in _condition(n)), None)
    if share is None or "throw" not in _text(_then_block(share)):
        out.append("Assert-BackupFolderPath accepts a network share")
    mapped = next((n for n in _ifs(lib.function("Initialize-BackupFolder"))
                   if "$drive.DriveType -eq [System.IO.DriveType]::Network" in _condition(n)), None)
    if mapped is None or "throw" not in _text(_then_block(mapped)):
        out.append("Initialize-BackupFolder accepts a mapped network drive")
    return out


def check_engine_urls_are_checked(lib: Lib) -> list[str]:
    """Each engine the program expects gets its URL from the parameter the program names for it, checked (no
    blanks, quotes or controls: it is pasted into the command line unquoted) before anything runs; docker reaches an
    engine only by that URL."""
    function = lib.function("Invoke-Runbook")
    loop = next((n for n in walk(function) if n.type == "foreach_statement"
                 and "in $script:EngineExpect.Keys)" in _text(n).split("\n")[0]), None)
    body = _text(loop) if loop is not None else ""
    refusal = next((n for n in _ifs(loop) if "$url -notmatch '^(npipe|tcp|unix|ssh)://" in _condition(n)
                    and "[char]34, [char]39, [char]96" in _condition(n)), None) if loop is not None else None
    out = []
    if refusal is None or not any(n.type == "throw" for n in walk(_then_block(refusal))) or \
            not all(p in body for p in ("$name = $script:EngineParameters[$engine]", "$url = $Options[$name]")) \
            or not body.find("throw") < body.find("$script:Engines[$engine] = $url"):
        out.append("an engine URL is used unchecked, or not the one the program's parameter gives")
    if "'--host ' + $script:Engines[$Engine] + ' '" not in lib.body("Invoke-DockerCommand"):
        out.append("Invoke-DockerCommand does not reach the engine by its checked URL")
    return out


def check_the_backup_layout_is_the_programs(lib: Lib) -> list[str]:
    """The files and folders the runbook keeps in the backup folder (journal, artifact record, summary, logs, edits,
    rollback) are the program's $script:Layout, which the rehearsal reads too (BACKUP_LAYOUT): the library names none
    itself and reads only names the layout has."""
    out = [f"{enclosing_function(node) or 'script body'}: {m.group(0)}" for name in BACKUP_LAYOUT.values()
           for m, node in _code_matches(lib, rf"'{re.escape(name)}['/]")]
    used = set(re.findall(r"\$script:Layout\.(\w+)", lib.source))
    if not used or not used <= set(BACKUP_LAYOUT):
        out.append(f"the library reads {sorted(used)} of the layout, which has {sorted(BACKUP_LAYOUT)}")
    return out


def _owner(node):
    """The try statement a catch clause belongs to."""
    cur = node.parent
    while cur is not None and cur.type != "try_statement":
        cur = cur.parent
    return cur


def check_failures_say_what_next(lib: Lib) -> list[str]:
    """On failure the run prints the log and transcript paths and the command to resume or roll back."""
    function = lib.function("Invoke-Runbook")
    run = next((n for n in walk(function) if n.type == "try_statement" and lib.calls("Import-Journal", n)), None)
    catch = next((n for n in walk(run) if n.type == "catch_clause" and _owner(n) == run), None) \
        if run is not None else None
    text = _text(catch) if catch is not None else ""
    return [f"the failure message lacks {part}" for part in ("$script:LogPath", "$script:TranscriptPath",
                                                             " -Resume' + $folder", " -Rollback' + $folder",
                                                             "\" -BackupPath '\"")
            if part not in text]


def check_json_edits_follow_section_7(lib: Lib) -> list[str]:
    """A JSON edit: Desktop stopped, the previous values recorded once (edit-json only), ConvertTo-Json -Depth 100
    read back and compared with the document before anything is written. Every host file written (JSON,
    .wslconfig, a file put back by restore-files) goes through Write-HostFile: ShouldProcess, the original kept, an
    atomic write, the bytes read back, the original put back (or a new file moved aside) on any difference."""
    update = lib.body("Merge-JsonFile")
    write = lib.body("Write-HostFile")
    out = []
    for body, order in ((update, ("Assert-DesktopStopped", "Resolve-HostFile", "$document.PSObject.Properties[$name]",
                                  "if ($Record -and $null -eq (Get-JsonProperty", "-Name 'previous'", "Save-Journal",
                                  "ConvertTo-Json -InputObject $document -Depth 100",
                                  "Test-JsonValueEqual -Left (ConvertFrom-Json -InputObject $text) -Right $document",
                                  "if (-not $same) { throw", "Write-HostFile -File $file")),
                        (write, ("$PSCmdlet.ShouldProcess", "Save-FileSnapshot -Path $File.Path -Bytes $File.Bytes",
                                 "Write-BytesFileAtomic -Path $File.Path -Bytes $Bytes",
                                 "(Get-FileSha256 -Path $File.Path) -eq (Get-BytesSha256 -Bytes $Bytes)",
                                 "Write-BytesFileAtomic -Path $File.Path -Bytes $File.Bytes",
                                 "[System.IO.File]::Move"))):
        positions = [body.find(p) for p in order]
        if min(positions) < 0 or positions != sorted(positions):
            out.append(f"expected, in order: {order}")
    callers = {"Edit-JsonFile": "Merge-JsonFile -Step $Step", "Restore-JsonKey": "Merge-JsonFile -Step $Step",
               "Edit-IniFile": "Write-HostFile -File $file", "Restore-HostFile": "Write-HostFile -File $live"}
    for function, call in callers.items():
        if call not in lib.body(function):
            out.append(f"{function} does not write through {call.split()[0]}")
    if "-Record" not in lib.body("Edit-JsonFile") or "-Record" in lib.body("Restore-JsonKey"):
        out.append("only edit-json records the previous values")
    # Nothing else in the library writes a file the plan names as a host file.
    for name in ("Edit-IniFile", "Restore-HostFile", "Merge-JsonFile"):
        if re.search(r"Write-(Bytes|Utf8)FileAtomic", lib.body(name)):
            out.append(f"{name} writes a host file itself")
    return out


def check_backup_copies_are_the_plans(lib: Lib) -> list[str]:
    """backup-files keeps each host file's copy where the plan says (HostFile.backup), naming none itself."""
    body = lib.body("Backup-HostFile")
    if "$relative = $file.Backup" not in body or "'settings/" in body:
        return ["backup-files does not keep each copy where the plan says (HostFile.Backup)"]
    return []


def check_file_sharing_reads_the_plans_setting(lib: Lib) -> list[str]:
    """check-host's file sharing check reads the setting the plan names, as that setting's shape (a list of folders
    or drive letter -> true): the setting names it compares are the model's, and it does not guess the shape from
    the value's run-time type."""
    body = lib.body("Test-FileSharing")
    out = []
    named = set(re.findall(r"\$setting -eq '([^']*)'", body))
    if not named or not named <= set(FILE_SHARING_SETTINGS):
        out.append(f"Test-FileSharing compares the setting with {sorted(named)}, the model has {FILE_SHARING_SETTINGS}")
    if "$setting = $Step.Params.FileSharing.Setting" not in body:
        out.append("Test-FileSharing does not read the plan's setting")
    if re.search(r"-is \[System\.(Management\.Automation\.PSCustomObject|Array)\]", body):
        out.append("Test-FileSharing decides the shape from the value's type")
    return out


def check_verify_target_compares_both_digests(lib: Lib) -> list[str]:
    """verify-target reads each volume's digest before the switch and after the restore and compares them as
    case-sensitive tokens."""
    function = lib.function("Test-TargetEngine")
    body = _text(function)
    out = []
    for part in ("Read-DigestToken -Relative $volume.BackupDigest", "Read-DigestToken -Relative $volume.TargetDigest",
                 "$before -cne $after"):
        if part not in body:
            out.append(f"Test-TargetEngine lacks {part}")
    if "-Checks $p.Checks" not in body:
        out.append("Test-TargetEngine does not run the planned checks")
    return out


def check_check_modes_are_the_models(lib: Lib) -> list[str]:
    """The library knows exactly the check modes of the model and its {recorded} placeholder."""
    modes = set(re.findall(r"\$check\.Mode -eq '([^']*)'", lib.body("Assert-Check")))
    out = [] if modes == set(CHECK_MODES) else [f"check modes {sorted(modes)} != {sorted(CHECK_MODES)}"]
    if ".Replace('{recorded}', $recorded)" not in lib.body("Assert-Check"):
        out.append("the {recorded} placeholder is not the model's")
    return out


def _key_set(cls: type, *extra: str) -> set[str]:
    return {pascal(f.name).lower() for f in dataclasses.fields(cls)} | {e.lower() for e in extra}


_STEP = Step("a/b", "preflight", "t", Docker("source", ("version",), 60))
STEP_KEYS = {k.lower() for k in expected_step(_STEP, 1)}
DOCKER_KEYS = {k.lower() for k in expected_step(_STEP, 1)["Docker"]}
NESTED = {"file": HostFile, "settings": HostFile, "filesharing": FileSharing}
"""Parameters that hold a dataclass whose fields the library reads further."""
READS: list[tuple[str, str, set[str]]] = [
    ("*", "Step", STEP_KEYS),
    ("Test-BackupArtifact", "item", STEP_KEYS),
    ("Test-BackupsVerified", "gate", STEP_KEYS),
    ("Invoke-DockerStep", "docker", DOCKER_KEYS),
    ("Invoke-DockerStep", "command", {"commandline", "display"}),
    ("Assert-Check", "check", _key_set(Check, "CommandLine")),
    ("Confirm-Engine", "expect", _key_set(EngineExpect)),
    ("Test-MigrationHost", "need", _key_set(FreeSpace)),
    ("Test-TargetEngine", "volume", _key_set(TargetVolume)),
    ("Backup-HostFile", "file", _key_set(HostFile)),
    ("Resolve-HostFile", "File", _key_set(HostFile)),
    ("Edit-IniFile", "entry", _key_set(IniEntry)),
    ("Invoke-RunbookStep", "artifact", {"path", "kind", "subject", "secret"}),
    ("Test-BackupArtifact", "artifact", {"path", "kind", "subject", "secret"}),
    ("Export-InspectedValue", "ref", _key_set(SecretRef, "What")),
    ("Invoke-HostProgram", "run", _key_set(ProgramRun, "Arguments")),
]
"""(function or *, variable, keys it may read): what the library reads of the program's hashtables."""
_EXTRA_PARAMS = {WriteEnvFile: ("Inspect", "Display", "Subject", "Unsafe", "UnsafeWhy", "FileFormat", "Entries"),
                 WriteSecretValues: ("Inspect", "Display", "Subject", "Unsafe", "UnsafeWhy", "FileFormat"),
                 EnableFeature: ("Run",), InstallWsl: ("Run",),
                 SetWslVersion: ("Run",), UpgradeDesktop: ("Run",), SwitchContainers: ("Run",)}
_ALWAYS = {"count", "length"}
"""Members of every array and string."""


def _members(body: str, variable: str) -> Iterator[tuple[str, str]]:
    """(first member, second member or '') of every `$variable.Member[.Member]` in body (variables ignore case)."""
    for m in re.finditer(rf"(?i)\${variable}\.(\w+)(?:\.(\w+))?(?!\w*\()", body):
        yield m.group(1), m.group(2) or ""


def check_the_library_reads_only_what_the_program_holds(lib: Lib) -> list[str]:
    """Every key the library reads from a step, a docker command, an action's parameters (`$p.X`) and the
    dataclasses inside them is a field of the step model: a misspelt key would be $null under strict mode."""
    out = []
    switch = _text(lib.function("Invoke-HostAction"))
    for name, cls in ACTION_NAMES.items():
        function = re.search(rf"'{name}'[^\n]*?\{{ ([\w-]+) -Step", switch)
        if function is None:
            continue  # check_every_action_has_one_case reports it
        names = [function.group(1)]
        for callee in names:  # the functions the step is handed on to read its parameters too
            names += [c for c in re.findall(r"([\w-]+) -Step \$Step\b", lib.body(callee))
                      if c.lower() in lib.functions and c not in names]
        body = "\n".join(lib.body(n) for n in names)
        keys = _key_set(cls, *_EXTRA_PARAMS.get(cls, ()))
        reads = [*_members(body, "p"), *_members(body, r"Step\.Params")]
        for first, second in reads:
            if first.lower() not in keys:
                out.append(f"{function.group(1)} reads {first} of {name}, which has {sorted(keys)}")
            elif second and first.lower() in NESTED and second.lower() not in _key_set(NESTED[first.lower()]) | _ALWAYS:
                out.append(f"{function.group(1)} reads {first}.{second} of {name}")
    for function, variable, keys in READS:
        bodies = [_text(f) for f in lib.functions.values()] if function == "*" else [lib.body(function)]
        for body in bodies:
            for first, _ in _members(body, variable):
                if first.lower() not in keys | _ALWAYS and not (variable == "Step" and first.lower() == "params"):
                    out.append(f"{function}: ${variable}.{first} is not in {sorted(keys)}")
    return out


def _saved_keys(function_body: str, variable: str) -> set[str]:
    """The keys of the [ordered]@{...} assigned to $variable (or added with .Add) in a function body."""
    m = re.search(rf"\${variable} = \[ordered\]@\{{(.*?)\n    \}}", function_body, re.S)
    return set(re.findall(r"^\s*(\w+)\s+=", m.group(1), re.M)) if m else set()


def _literal_keys(body: str, opening: str) -> set[str]:
    """The keys of the hashtable literal that starts with opening (one line or one key a line) in a function body."""
    m = re.search(re.escape(opening) + r"(.*?)(?:\}(?: \}|\)|$)|\n    \})", body, re.S | re.M)
    return set(re.findall(r"(?:^|;|\{)\s*(\w+)\s+=", m.group(1), re.M)) if m else set()


def check_the_journal_is_the_rehearsals(lib: Lib) -> list[str]:
    """journal.json and artifacts.json have the keys migrate/rehearse/journal.py writes and reads: a rehearsal's
    backup folder reads like a real one, and the other way round. The entries are kept as read and checked against
    the program's $script:EntryKeys (the rehearsal's ENTRY_KEYS); the entries the runbook makes have those keys."""
    journal = Journal("h", steps={"a": StepState()}, verified={"p": "s"}).to_json()
    save = lib.body("Save-Journal")
    out = []
    if _saved_keys(save, "document") != set(journal):
        out.append(f"Save-Journal writes {sorted(_saved_keys(save, 'document'))}, the rehearsal {sorted(journal)}")
    reboot = set(re.findall(r"(\w+) = \$script:Journal\.\w+", re.search(r"reboot\s+= \[ordered\]@\{([^}]*)\}",
                                                                          save).group(1)))
    if reboot != set(journal["reboot"]):
        out.append(f"journal reboot keys {sorted(reboot)} != {sorted(journal['reboot'])}")
    read = set(re.findall(r"-Name '(\w+)'", lib.body("Import-Journal")))
    wanted = set(journal) - {"toolVersion"} | set(journal["reboot"])
    if not wanted <= read:
        out.append(f"Import-Journal does not read {sorted(wanted - read)}")
    if ENTRY_KEYS["steps"] != tuple(journal["steps"][0]) or ENTRY_KEYS["verified"] != tuple(journal["verified"][0]) \
            or set(ENTRY_KEYS["artifacts"]) != {f.name for f in dataclasses.fields(ArtifactRecord)}:
        out.append("ENTRY_KEYS are not the keys the rehearsal writes")
    made = {"steps": _literal_keys(lib.body("Get-StepState"), "[pscustomobject]@{"),
            "artifacts": _literal_keys(lib.body("Add-ArtifactRecord"), "$script:Artifacts[$Artifact.Path] = "
                                                                        "[pscustomobject]@{"),
            "verified": _literal_keys(lib.body("Test-BackupArtifact"), "[pscustomobject]@{")}
    out += [f"the runbook makes {name} entries with {sorted(keys)}, not {ENTRY_KEYS[name]}"
            for name, keys in made.items() if keys != set(ENTRY_KEYS[name])]
    for function, name in (("Import-Journal", "steps"), ("Import-Journal", "engines"), ("Import-Journal", "verified"),
                           ("Import-ArtifactRecord", "artifacts")):
        if f"(Get-JsonProperty -Object $document -Name '{name}') -Keys $script:EntryKeys.{name}" \
                not in lib.body(function):
            out.append(f"{function} does not check the {name} entries against $script:EntryKeys.{name}")
    return out


def check_time_limits_come_from_the_program(lib: Lib) -> list[str]:
    """No time limit is the library's own number: each is the step's (a variable or parameter passed on) or one of
    the program's $script:Timeouts, which the rehearsal's interpreter reads from the same table (TIMEOUTS)."""
    out = []
    for m, node in _code_matches(lib, r"-TimeoutSeconds\s+(\S+)"):
        value = m.group(1).rstrip(")")
        name = value.removeprefix("$script:Timeouts.")
        if value.startswith("$script:Timeouts."):
            if name not in TIMEOUTS:
                out.append(f"{enclosing_function(node)}: $script:Timeouts has no {name}")
        elif not re.fullmatch(r"\$\w+(\.\w+)*", value):
            out.append(f"{enclosing_function(node)}: -TimeoutSeconds {value} (not from the program)")
    # Waits and pauses too: a literal number of seconds or milliseconds is the library's own limit.
    literal = r"(AddSeconds\(|WaitForExit\(|WaitAll\([^\n]*\),\s*)\d+\)|(Start-Sleep|Wait-DesktopProcess) " \
              r"-Seconds \d+\b"
    for m, node in _code_matches(lib, literal):
        out.append(f"{enclosing_function(node)}: {m.group(0)} (not from the program)")
    return out


def check_json_arrays_are_not_wrapped(lib: Lib) -> list[str]:
    """No @() around ConvertFrom-Json or Get-JsonProperty: on 5.1 ConvertFrom-Json emits a JSON array as one
    object[], which @() wraps into a one-element array (a loop would see the whole array as one item), and
    Get-JsonProperty keeps arrays whole with the unary comma. Assigned to a variable, both loop alike on 5.1 and 7."""
    return [f"{enclosing_function(node) or 'script body'}: {m.group(0)}" for m, node in
            _code_matches(lib, r"@\(\s*(?:ConvertFrom-Json|Get-JsonProperty)\b")]


CHECKS: list[Callable[[Lib], list[str]]] = [
    check_only_native_process_starts_programs, check_native_calls_have_timeouts, check_every_action_has_one_case,
    check_mutating_docker_steps_ask_first, check_native_calls_are_guarded_or_read_only, check_dry_run_changes_nothing,
    check_the_log_is_written_only_in_a_real_run, check_features_go_through_dism, check_refuses_a_32_bit_powershell,
    check_the_lock_comes_before_the_journal, check_resume_checks_the_boot_time, check_resume_task_settings,
    check_desktop_starts_unelevated, check_rollback_tombstone_stops_forward_runs, check_logs_show_the_display_text,
    check_env_values_never_reach_a_message, check_secret_values_never_reach_a_message,
    check_secret_values_live_in_the_backup_folder, check_the_backup_folder_is_locked,
    check_artifacts_are_rehashed_before_use,
    check_engines_prove_what_they_are, check_wsl_changes_only_while_desktop_is_stopped,
    check_the_backup_folder_is_local, check_the_first_stop_after_a_restart_waits_for_desktop,
    check_failures_say_what_next, check_engine_urls_are_checked, check_the_backup_layout_is_the_programs,
    check_json_edits_follow_section_7,
    check_file_sharing_reads_the_plans_setting,
    check_backup_copies_are_the_plans,
    check_verify_target_compares_both_digests, check_check_modes_are_the_models,
    check_the_library_reads_only_what_the_program_holds, check_the_journal_is_the_rehearsals,
    check_json_arrays_are_not_wrapped, check_time_limits_come_from_the_program,
]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
def test_the_library_has_the_property(check: Callable[[Lib], list[str]]) -> None:
    assert check(_lib(LIB)) == []


# (check, [(old text, new text), ...]): a small edit of the library that breaks the property.
MUTATIONS: list[tuple[Callable[[Lib], list[str]], list[tuple[str, str]]]] = [
    (check_only_native_process_starts_programs,
     [("[void](Invoke-NativeProcess -FilePath $wsl -Arguments '--shutdown'",
       "[void](Start-Process -FilePath $wsl -ArgumentList '--shutdown'")]),
    (check_only_native_process_starts_programs,
     [("        Add-StepNote -Text 'WSL shut down'", "        wsl.exe --shutdown")]),
    (check_only_native_process_starts_programs,
     [("    $wsl = Get-SystemProgram -Name 'wsl.exe'\n    if ($p.ShutdownWsl",
       "    $wsl = Get-SystemProgram -Name 'wsl.exe'\n    [void][System.Diagnostics.Process]::Start($wsl)\n"
       "    if ($p.ShutdownWsl")]),
    (check_native_calls_have_timeouts, [("'/PID ' + $process.Id + ' /T /F'", "'/PID ' + $process.Id + ' /F'")]),
    (check_native_calls_have_timeouts, [("            [void]$killer.WaitForExit(1000 * $script:Timeouts.KillWait)\n",
                                         "            Write-Verbose -Message 'ending it'\n")]),
    (check_native_calls_have_timeouts, [("        if ($running -and -not $process.HasExited) {",
                                         "        if ($false -and -not $process.HasExited) {")]),
    (check_native_calls_have_timeouts, [("{ $timedOut = $true; break }", "{ $timedOut = $true }")]),
    (check_native_calls_have_timeouts, [(" -Display '--shutdown' -StepId $Step.Id -TimeoutSeconds "
                                         "$script:Timeouts.WslShutdown)",
                                         " -Display '--shutdown' -StepId $Step.Id)")]),
    (check_native_calls_have_timeouts, [("        TimeoutSeconds = $docker.Timeout",
                                         "        TimeoutSeconds   = 604800")]),
    (check_native_calls_have_timeouts, [("[int]$TimeoutSeconds, [int[]]$OkExitCodes = @(0),\n        "
                                         "[AllowEmptyString()] "
                                         "[string]$WorkingDirectory = '', [AllowEmptyString()] [string]$ProgressPath "
                                         "= '',\n        [switch]$NoThrow, [switch]$UnicodeOutput",
                                         "[int]$TimeoutSeconds = 0, [int[]]$OkExitCodes = @(0),\n        "
                                         "[AllowEmptyString()] [string]$WorkingDirectory = '', [AllowEmptyString()] "
                                         "[string]$ProgressPath = '',\n        "
                                         "[switch]$NoThrow, [switch]$UnicodeOutput")]),
    (check_native_calls_have_timeouts, [("    [void]$PSBoundParameters.Remove('Segments')\n",
                                         "    [void]$PSBoundParameters.Remove('Segments')\n"
                                         "    [void]$PSBoundParameters.Remove('TimeoutSeconds')\n")]),
    (check_native_calls_have_timeouts, [("-TimeoutSeconds $run.Timeout -UnicodeOutput:$run.Utf16",
                                         "-UnicodeOutput:$run.Utf16")]),
    (check_every_action_has_one_case, [("        'finish' { Complete-Migration -Step $Step }\n", "")]),
    (check_every_action_has_one_case, [("'enable-feature', 'install-wsl'", "'enable-feature', 'install-wls'")]),
    (check_every_action_has_one_case, [("{ $_ -in 'upgrade-desktop', ", "{ $_ -like 'upgrade-desktop', ")]),
    (check_every_action_has_one_case, [("'finish' { Complete-Migration -Step $Step }",
                                        "'finish' { Complete-Migrations -Step $Step }")]),
    (check_every_action_has_one_case, [("        'reboot' { Request-Restart -Step $Step }\n",
                                        "        'reboot' { Request-Restart -Step $Step }\n"
                                        "        'reboot' { Request-Restart -Step $Step }\n")]),
    (check_every_action_has_one_case, [("        default { throw ('step ' + $Step.Id + ': unknown host action ' + "
                                        "$Step.Kind) }", "        'format-disk' { Complete-Migration -Step $Step }")]),
    (check_mutating_docker_steps_ask_first, [("if ($Step.Mutating -and -not $PSCmdlet.ShouldProcess($Step.Target, "
                                              "$Step.Title)) {", "if ($false -and -not "
                                              "$PSCmdlet.ShouldProcess($Step.Target, $Step.Title)) {")]),
    (check_native_calls_are_guarded_or_read_only,
     [("    } elseif ($PSCmdlet.ShouldProcess('Docker Desktop', 'Stop')) {", "    } elseif ($true) {")]),
    (check_dry_run_changes_nothing, [("    if ($script:DryRun) { return }\n    $document = [ordered]@{\n",
                                      "    $document = [ordered]@{\n")]),
    (check_dry_run_changes_nothing, [("    if (-not $PSCmdlet.ShouldProcess($script:ResumeTaskName, 'Register a logon "
                                      "task that resumes the runbook after the restart')) {",
                                      "    if ($false) {")]),
    (check_dry_run_changes_nothing, [("                if (-not $script:DryRun) {\n                    foreach "
                                      "($artifact in $Step.Produces)", "                if ($true) {\n"
                                      "                    foreach ($artifact in $Step.Produces)")]),
    (check_dry_run_changes_nothing, [("    $script:DryRun = [bool]$WhatIfPreference\n    $script:Options = $Options",
                                      "    $script:Options = $Options\n    $script:DryRun = [bool]$WhatIfPreference")]),
    (check_the_log_is_written_only_in_a_real_run,
     [("    $script:TranscriptPath = [System.IO.Path]::Combine($logFolder, 'transcript-' + $runId + '.txt')",
       "    $script:TranscriptPath = [System.IO.Path]::Combine($logFolder, 'transcript-' + $runId + '.txt')\n"
       "    $script:LogPath = [System.IO.Path]::Combine($logFolder, 'runbook.jsonl')")]),
    (check_features_go_through_dism, [("-OkExitCodes $run.OkExitCodes -TimeoutSeconds $run.Timeout",
                                       "-OkExitCodes @(0) -TimeoutSeconds $run.Timeout")]),
    (check_features_go_through_dism, [("        $done += '; Windows must restart (exit code '",
                                       "        Enable-WindowsOptionalFeature -Online -FeatureName $run.Target\n"
                                       "        $done += '; Windows must restart (exit code '")]),
    (check_features_go_through_dism, [("$script:Journal.RebootNeeded = $true\n"
                                       "            $script:Journal.RebootRequestedBy",
                                       "$script:Journal.RebootRequestedBy")]),
    (check_features_go_through_dism, [("if ($run.System32) { $file = Get-SystemProgram -Name $run.Program }",
                                       "if ($run.System32) { $file = $run.Program }")]),
    (check_refuses_a_32_bit_powershell, [("if (-not [System.Environment]::Is64BitProcess) {",
                                          "if (-not [System.Environment]::Is64BitOperatingSystem) {")]),
    (check_refuses_a_32_bit_powershell, [("    $script:Options = $Options\n",
                                          "    $script:Options = $Options\n    Import-Journal\n")]),
    (check_the_lock_comes_before_the_journal,
     [("        Import-Journal\n        Import-ArtifactRecord\n", "        Import-ArtifactRecord\n"),
      ("    $mutex = New-Object", "    Import-Journal\n    $mutex = New-Object")]),
    (check_the_lock_comes_before_the_journal, [("    if (-not $owned) {\n        $mutex.Dispose()\n        throw "
                                                "'another run of this runbook is in progress (it holds the lock): "
                                                "wait for it to end'\n    }\n", "")]),
    (check_resume_checks_the_boot_time, [("if (-not $restarted -and -not $Options.Rollback) {",
                                          "if ($false -and -not $Options.Rollback) {")]),
    (check_resume_checks_the_boot_time, [("$restarted = (Get-BootTime) -ne $script:Journal.BootTime",
                                          "$restarted = $true")]),
    (check_resume_checks_the_boot_time, [("    $script:Journal.BootTime = Get-BootTime\n    Save-Journal\n",
                                          "    Save-Journal\n")]),
    (check_resume_task_settings, [("-AllowStartIfOnBatteries -DontStop", "-AllowStartIfOnBatteries:$false -DontStop")]),
    (check_resume_task_settings, [("-ExecutionTimeLimit (New-TimeSpan -Seconds 0)",
                                   "-ExecutionTimeLimit (New-TimeSpan -Hours 72)")]),
    (check_resume_task_settings, [(" -DontStopIfGoingOnBatteries", "")]),
    (check_resume_task_settings, [(" -Priority 4\n", "\n")]),
    (check_resume_task_settings, [(" -Settings $settings -Force", " -Force")]),
    (check_resume_task_settings, [("    Write-BytesFileAtomic -Path $copy -Bytes $bytes\n", "")]),
    (check_resume_task_settings, [("(ConvertTo-QuotedArgument -Value $script:BackupRoot), (ConvertTo-QuotedArgument "
                                   "-Value $script:DockerExe)", "(ConvertTo-QuotedArgument -Value $script:DockerExe), "
                                   "(ConvertTo-QuotedArgument -Value $script:BackupRoot)")]),
    (check_resume_task_settings, [("Register-RunbookTask -Task $splatTask -RunLevel Highest",
                                   "Register-RunbookTask -Task $splatTask -RunLevel Limited")]),
    (check_desktop_starts_unelevated, [("New-ScheduledTaskAction -Execute $exe } -RunLevel Limited",
                                        "New-ScheduledTaskAction -Execute $exe } -RunLevel Highest")]),
    (check_desktop_starts_unelevated, [("-LogonType Interactive -RunLevel $RunLevel",
                                        "-LogonType Interactive -RunLevel Highest")]),
    (check_rollback_tombstone_stops_forward_runs,
     [("if ($script:Journal.RolledBack.Length -gt 0 -and -not $Options.Rollback) {",
       "if ($script:Journal.Finished.Length -gt 0 -and -not $Options.Rollback) {")]),
    (check_logs_show_the_display_text, [("('run: ' + $program + ' ' + $Display)",
                                         "('run: ' + $program + ' ' + $Arguments)")]),
    (check_env_values_never_reach_a_message, [("Add-StepNote -Text ([string]$values.Count + ' value(s) written')",
                                               "Add-StepNote -Text ('written: ' + $text)")]),
    (check_env_values_never_reach_a_message, [("throw ($p.Subject + ' no longer has the ' + $ref.What)",
                                               "throw ($p.Subject + ' no longer has the ' + $found[$key])")]),
    (check_secret_values_never_reach_a_message, [("Add-StepNote -Text ([string]$values.Count + ' value(s) written')",
                                                   "Add-StepNote -Text ('written: ' + $values)")]),
    (check_secret_values_never_reach_a_message, [("throw ($Relative + ' holds no value ' + $Index)",
                                                   "throw ($Relative + ' holds no value ' + $Index + $document)")]),
    (check_secret_values_never_reach_a_message, [("    return ([string][char]34 + $escaped + [string][char]34)",
                                                   "    Write-RunbookLog -Message $escaped\n"
                                                   "    return ([string][char]34 + $escaped + [string][char]34)")]),
    (check_secret_values_never_reach_a_message, [("    if ($Engine.Length -gt 0) { $arguments = '--host '",
                                                   "    Write-Verbose -Message $arguments\n"
                                                   "    if ($Engine.Length -gt 0) { $arguments = '--host '")]),
    (check_secret_values_live_in_the_backup_folder, [("    $path = Get-BackupItemPath -Relative $Relative\n"
                                                       "    if (-not [System.IO.File]::Exists($path)) "
                                                       "{ throw ($Relative + ' is missing",
                                                       "    $path = $Relative\n"
                                                       "    if (-not [System.IO.File]::Exists($path)) "
                                                       "{ throw ($Relative + ' is missing")]),
    (check_secret_values_live_in_the_backup_folder, [("ConvertTo-EncodedArgument -Value ($segment['Prefix'] + "
                                                       "(Get-SecretValue",
                                                       "($segment['Prefix'] + (Get-SecretValue")]),
    (check_secret_values_live_in_the_backup_folder, [("Write-Utf8FileAtomic -Path (Get-BackupItemPath -Relative "
                                                       "$p.Path) -Text $text",
                                                       "Write-Utf8FileAtomic -Path ($env:TEMP + $p.Path) "
                                                       "-Text $text")]),
    (check_the_backup_folder_is_locked, [("' /inheritance:r /grant:r ' + $grants", "' /grant ' + $grants")]),
    (check_json_arrays_are_not_wrapped, [("$files = Get-JsonProperty -Object $manifest -Name 'files' -Default @()",
                                          "$files = @(Get-JsonProperty -Object $manifest -Name 'files' -Default 0)")]),
    (check_the_backup_folder_is_locked, [("-Sids @($userSid, 'S-1-5-18')",
                                          "-Sids @($userSid, 'S-1-5-18', 'S-1-1-0')")]),
    (check_artifacts_are_rehashed_before_use, [(" -or (Get-FileSha256 -Path $path) -ne $record.Sha256", "")]),
    (check_artifacts_are_rehashed_before_use, [("    $gate = $script:BackupGate\n", "    $gate = @($script:Steps | "
                                                "Where-Object -FilterScript { $_.Kind -eq 'verify-backups' })[0]\n")]),
    (check_engines_prove_what_they_are, [("-not $found.KernelVersion.Contains($expect.KernelContains)", "$false")]),
    (check_time_limits_come_from_the_program, [("[void](Wait-DesktopProcess -Seconds $script:Timeouts.DesktopStart)",
                                                "[void](Wait-DesktopProcess -Seconds 60)")]),
    (check_time_limits_come_from_the_program, [("Start-Sleep -Seconds $script:Timeouts.EnginePoll",
                                                "Start-Sleep -Seconds 5")]),
    (check_engines_prove_what_they_are, [("                    $script:CheckedEngines = @{}\n", "")]),
    (check_engines_prove_what_they_are, [("$problem.Length -eq 0 -and $expect.NotSource -and ",
                                          "$problem.Length -eq 0 -and ")]),
    (check_engines_prove_what_they_are, [("[void](Confirm-Engine -Engine $Step.Engine -StepId $Step.Id)",
                                          "Write-Verbose -Message $Step.Engine")]),
    (check_resume_checks_the_boot_time, [("        $program = $script:Steps\n", "        $program = @()\n")]),
    (check_the_backup_layout_is_the_programs, [("-Relative $script:Layout.Summary", "-Relative 'summary.json'")]),
    (check_the_backup_layout_is_the_programs, [("($script:Layout.Edits + '/' + $stamp", "('edits/' + $stamp")]),
    (check_the_backup_layout_is_the_programs, [("-Relative $script:Layout.Logs", "-Relative $script:Layout.Log")]),
    (check_engine_urls_are_checked, [("$url.IndexOfAny([char[]]@([char]34, [char]39, [char]96))",
                                      "$url.IndexOfAny([char[]]@([char]34))")]),
    (check_engine_urls_are_checked, [("        $url = $Options[$name]\n", "        $url = $Options.SourceEngine\n")]),
    (check_the_library_reads_only_what_the_program_holds, [("if ($docker.Progress.Length -gt 0)",
                                                            "if ($docker.ProgressPath.Length -gt 0)")]),
    (check_the_first_stop_after_a_restart_waits_for_desktop,
     [(" { [void](Wait-DesktopProcess -Seconds $script:Timeouts.DesktopStart) }", " { }")]),
    (check_the_first_stop_after_a_restart_waits_for_desktop, [("-match $script:Desktop.RunEntry", "-match 'Docker'")]),
    (check_the_first_stop_after_a_restart_waits_for_desktop, [("else { $script:Desktop.Windows }",
                                                                "else { $script:Desktop.Processes }")]),
    (check_the_first_stop_after_a_restart_waits_for_desktop, [("                $script:AfterRestart = $true\n", "")]),
    (check_the_backup_folder_is_local, [("    if ($trimmed.StartsWith('\\\\')) {", "    if ($false) {")]),
    (check_the_backup_folder_is_local, [("    if ($drive.DriveType -eq [System.IO.DriveType]::Network) {",
                                         "    if ($drive.DriveType -eq [System.IO.DriveType]::Ram) {")]),
    (check_wsl_changes_only_while_desktop_is_stopped,
     [("        if ($run.Stopped.Length -gt 0) { Assert-DesktopStopped -What $run.Stopped }\n", "")]),
    (check_failures_say_what_next, [("        Write-Warning -Message ('Log: ' + $script:LogPath + '; transcript: ' + "
                                     "$script:TranscriptPath)\n", "")]),
    (check_json_edits_follow_section_7, [("        Write-BytesFileAtomic -Path $File.Path -Bytes $File.Bytes\n", "")]),
    (check_json_edits_follow_section_7, [("    Write-HostFile -File $file -Bytes $out -Change",
                                          "    Write-BytesFileAtomic -Path $file.Path -Bytes $out # -Change")]),
    (check_json_edits_follow_section_7, [("    if ($File.Existed) { [void](Save-FileSnapshot -Path $File.Path -Bytes "
                                          "$File.Bytes) }\n", "")]),
    (check_json_edits_follow_section_7, [("$same = Test-JsonValueEqual -Left (ConvertFrom-Json -InputObject $text) "
                                          "-Right $document", "$same = $true")]),
    (check_json_edits_follow_section_7, [("Merge-JsonFile -Step $Step -Set $set -Remove $remove",
                                          "Merge-JsonFile -Step $Step -Set $set -Remove $remove -Record")]),
    (check_json_edits_follow_section_7, [("Write-HostFile -File $live -Bytes ([System.IO.File]::ReadAllBytes($copy))",
                                          "Write-BytesFileAtomic -Path $live.Path -Bytes "
                                          "([System.IO.File]::ReadAllBytes($copy))")]),
    (check_backup_copies_are_the_plans, [("$relative = $file.Backup", "$relative = 'settings/' + $file.Key")]),
    (check_file_sharing_reads_the_plans_setting,
     [("if ($setting -eq 'sharedDrives') {", "if ($shared -is [System.Management.Automation.PSCustomObject]) {")]),
    (check_file_sharing_reads_the_plans_setting, [("if ($setting -eq 'sharedDrives') {",
                                                   "if ($setting -eq 'SharedDrive') {")]),
    (check_verify_target_compares_both_digests, [("$before -cne $after", "$before -ne $after")]),
    (check_check_modes_are_the_models, [("$check.Mode -eq 'has-word'", "$check.Mode -eq 'hasword'")]),
    (check_the_library_reads_only_what_the_program_holds, [("$deadline = (Get-Date).AddSeconds($p.Timeout)\n    while "
                                                            "($true) {", "$deadline = (Get-Date).AddSeconds("
                                                            "$p.TimeoutSeconds)\n    while ($true) {")]),
    (check_the_library_reads_only_what_the_program_holds, [("$docker.OkExitCodes", "$docker.OkCodes")]),
    (check_the_library_reads_only_what_the_program_holds, [("$setting = $Step.Params.FileSharing.Setting",
                                                            "$setting = $Step.Params.FileSharing.Name")]),
    (check_the_library_reads_only_what_the_program_holds, [("-Remove $p.Remove -Create:$p.Create -Record",
                                                            "-Remove $p.Keys -Create:$p.Create -Record")]),
    (check_the_journal_is_the_rehearsals, [("        rolledBack  = $script:Journal.RolledBack",
                                            "        rolledBackAt = $script:Journal.RolledBack")]),
    (check_time_limits_come_from_the_program, [("-TimeoutSeconds $run.Timeout", "-TimeoutSeconds 3600")]),
    (check_time_limits_come_from_the_program, [("-TimeoutSeconds $script:Timeouts.Probe -NoThrow -UnicodeOutput",
                                                "-TimeoutSeconds $script:Timeouts.WslProbe -NoThrow -UnicodeOutput")]),
    (check_the_library_reads_only_what_the_program_holds, [("@($run.RestartExitCodes)", "@($run.RestartCodes)")]),
    (check_the_journal_is_the_rehearsals, [("bootTime = $script:Journal.BootTime }",
                                            "boottime = $script:Journal.BootTime }")]),
    (check_the_journal_is_the_rehearsals, [("startedAt = ''; endedAt = ''; attempt = 0",
                                            "startedAt = ''; endedAt = ''; attempts = 0")]),
    (check_the_journal_is_the_rehearsals, [("        sha256  = Get-FileSha256 -Path $path\n",
                                            "        sha     = Get-FileSha256 -Path $path\n")]),
    (check_the_journal_is_the_rehearsals, [("[pscustomobject]@{ path = $relative; sha256 = ",
                                            "[pscustomobject]@{ path = $relative; hash = ")]),
    (check_the_journal_is_the_rehearsals, [("-Name 'verified') -Keys $script:EntryKeys.verified",
                                            "-Name 'verified') -Keys 'path'")]),
]


@pytest.mark.parametrize("check, edits", MUTATIONS,
                         ids=[f"{c.__name__.removeprefix('check_')}-{i}" for i, (c, _) in enumerate(MUTATIONS)])
def test_each_check_catches_a_broken_library(check: Callable[[Lib], list[str]], edits: list[tuple[str, str]]) -> None:
    source = LIB
    for old, new in edits:
        assert source.count(old) == 1, f"the library no longer has {old!r} (update the mutation)"
        source = source.replace(old, new)
    assert check(_lib(source)) != []


def test_every_check_has_a_mutation() -> None:
    assert {c for c, _ in MUTATIONS} == set(CHECKS)


# ---------------------------------------------------------------------------------------------------------------
# The digest token: the library's rule reads what the digest script writes, as the rehearsal's twin does


def _digest_rule(lib: Lib) -> tuple[str, str]:
    """The -split and -cmatch patterns of Read-DigestToken (which trims the text before splitting)."""
    body = lib.body("Read-DigestToken")
    split = re.search(r"\(\(Read-TextFile -Path \$path\)\.Trim\(\) -split '([^']*)'\)\[0\]", body)
    match = re.search(r"\$token -cmatch '([^']*)'", body)
    assert split and match, "Read-DigestToken no longer has the expected form"
    return split.group(1), match.group(1)


def _token(content: str, rule: tuple[str, str]) -> str:
    """What Read-DigestToken returns for a file holding content ('' when it is not a digest)."""
    split, match = rule
    # .NET: String.Trim() removes Unicode white space; -split and -cmatch are .NET regexes (these patterns mean
    # the same in Python's re).
    token = re.split(split, content.strip())[0]
    return token if re.search(match, token) else ""


def test_the_digest_token_rule_reads_what_the_digest_script_writes(tmp_path: Path) -> None:
    from migrate.rehearse.host import _digest_token

    rule = _digest_rule(_lib(LIB))
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "sub" / "f").write_bytes(b"one\n")

    def digest(name: str) -> str:
        out = tmp_path / name
        subprocess.run(["sh", "-c", digest_script(), "sh", str(data), str(out)], check=True, timeout=60)
        return out.read_bytes().decode("ascii")

    written = digest("a.digest")
    token = _token(written, rule)
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", token) and written.startswith(token)

    class Ctx:
        root = tmp_path

    def twin(content: str) -> str:
        (tmp_path / "t.digest").write_bytes(content.encode("ascii"))
        return _digest_token(Ctx(), "t.digest")  # type: ignore[arg-type]

    for same in (written, written.replace("\n", "\r\n"), written + "  \r\n\r\n", written.replace(" ", "\t"),
                 written.rstrip("\n"), token + " 99\n"):
        assert _token(same, rule) == token == twin(same), repr(same)
    (data / "sub" / "f").write_bytes(b"two\n")
    other = _token(digest("b.digest"), rule)
    assert other and other != token
    for bad in ("", "\n", token.upper(), token[:-1], token + "0", token.replace("sha256:", "sha512:"),
                token.replace("sha256:", ""), "3 " + token, "sha256: " + token[7:]):
        assert _token(bad, rule) == "" == twin(bad), repr(bad)


# ---------------------------------------------------------------------------------------------------------------
# The guard analysis itself


def _function(body: str, name: str = "Set-Thing") -> str:
    return f"function {name} {{\n    [CmdletBinding(SupportsShouldProcess)]\n    param()\n{body}}}\n"


@pytest.mark.parametrize("source, expected", [
    (_function("    if ($PSCmdlet.ShouldProcess('a', 'b')) {\n        Stop-Service -Name x\n    }\n"), True),
    (_function("    if (-not $PSCmdlet.ShouldProcess('a', 'b')) {\n        return\n    }\n    Stop-Service -Name x\n"),
     True),
    (_function("    if ($y -or -not $PSCmdlet.ShouldProcess('a', 'b')) {\n        return\n    }\n"
               "    Stop-Service -Name x\n"), True),
    (_function("    if ($script:DryRun) {\n        return\n    }\n    Stop-Service -Name x\n"), True),
    (_function("    if (-not $script:DryRun) {\n        Stop-Service -Name x\n    }\n"), True),
    # Approved or not, $y lets it through; the exit is not taken under -WhatIf when $y is false.
    (_function("    if ($y -or $PSCmdlet.ShouldProcess('a', 'b')) {\n        Stop-Service -Name x\n    }\n"), False),
    (_function("    if (-not $PSCmdlet.ShouldProcess('a', 'b') -and $y) {\n        return\n    }\n"
               "    Stop-Service -Name x\n"), False),
    (_function("    if (-not $PSCmdlet.ShouldProcess('a', 'b')) {\n        Write-Verbose -Message 'no'\n    }\n"
               "    Stop-Service -Name x\n"), False),
    (_function("    if ($PSCmdlet.ShouldProcess('a', 'b')) {\n        1\n    } else {\n        Stop-Service -Name x\n"
               "    }\n"), False),
    (_function("    Stop-Service -Name x\n"), False),  # nobody calls it: nothing proves it is guarded
    (_function("    Stop-Service -Name x\n") + _function("    if ($PSCmdlet.ShouldProcess('a', 'b')) {\n"
                                                          "        Set-Thing\n    }\n", "Set-Other"), True),
    (_function("    Stop-Service -Name x\n") + _function("    if ($PSCmdlet.ShouldProcess('a', 'b')) {\n"
                                                          "        Set-Thing\n    }\n    Set-Thing\n", "Set-Other"),
     False),
])
def test_the_guard_analysis(source: str, expected: bool) -> None:
    lib = Lib(source)
    (change,) = [node for what, node in changes(lib) if what == "Stop-Service"]
    assert safe(lib, change) is expected


# ---------------------------------------------------------------------------------------------------------------
# A secret value is the one argument quoted at run time: ConvertTo-EncodedArgument's two .NET regular expressions,
# run here with Python's re (the constructs used mean the same in both; .NET's \z is Python's \Z), must quote any
# value as migrate/emit/cmdline.py's encoder does, and docker.exe (Go) and the C runtime must read it back whole.


HOSTILE_VALUES = ["", "p@ss'\"$x", "a b", "\\", "a\\", 'a\\"b', '\\\\"', 'x"', '"', "tab\there", "line\nbreak\r\n",
                  "`$(whoami)`;,", "caf\u00e9 \u2019q\u2019", "end\\\\", "\\\"\\\\\"", "a\\b\\\\c\\\\\\",
                  "%PATH% ^&|<>"]


def test_the_run_time_quoting_is_the_encoders_and_splits_back() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from migrate.emit.cmdline import encode_quoted
    from tests.winsplit import SPLITTERS

    encode = encoded_argument_rule()

    def holds(value: str) -> None:
        line = encode(value)
        assert line == encode_quoted(value), repr(value)
        for name in ("go", "msvcrt"):
            assert SPLITTERS[name]("--label " + line + " x") == ["--label", value, "x"], (name, repr(value))

    for value in HOSTILE_VALUES:
        holds(value)
        holds("com.example.db-password=" + value)

    @settings(max_examples=300, deadline=None)
    @given(st.text(alphabet=st.sampled_from('\\"ab $`\'\t\n,\u00e9'), max_size=24))
    def any_value(value: str) -> None:
        holds(value)

    any_value()
    with pytest.raises(ValueError):
        encode("a\x00b")


@pytest.mark.parametrize("old, new", [
    ("'(\\\\*)\"', '$1$1\\\"'", "'\"', '\\\"'"),  # backslashes before a quote no longer doubled
    ("'(\\\\+)\\z', '$1$1'", "'(\\\\+)$', '$1$1'"),  # .NET's $ also matches before a final line break
])
def test_the_quoting_check_catches_a_broken_encoder(old: str, new: str) -> None:
    assert LIB.count(old) == 1, old
    from migrate.emit.cmdline import encode_quoted

    encode = encoded_argument_rule(LIB.replace(old, new))
    # Python's $ matches before a final line break as .NET's does: "a\\\n" shows that mutation.
    assert any(encode(v) != encode_quoted(v) for v in [*HOSTILE_VALUES, "a\\\n"])


@pytest.mark.parametrize("source", [LIB, resources.files("migrate.emit").joinpath("collector.ps1")
                                    .read_text(encoding="ascii")], ids=["runbook_lib", "collector"])
def test_the_layout_is_otbs(source: str) -> None:
    """runbook-style's layout (OTBS braces, no ';' line ends): else, elseif, catch and finally follow the closing
    brace on its line. A line that starts with one is valid in a script but not at a prompt, and PSScriptAnalyzer's
    CodeFormattingOTBS flags it."""
    code = re.sub(r"<#.*?#>", lambda m: "\n" * m.group().count("\n"), source, flags=re.S)
    bad = [n for n, line in enumerate(code.splitlines(), 1) if not line.lstrip().startswith("#")
           and (re.match(r"\s*(else|elseif|catch|finally)\b", line) or re.search(r";\s*$", line))]
    assert not bad, f"lines {bad[:10]} break the OTBS layout"


# ---------------------------------------------------------------------------------------------------------------
# The planned pattern of Docker Desktop's Run entry (the first stop after a restart waits when one is there)


def test_the_run_entry_pattern_finds_each_desktop_window_program_and_nothing_else() -> None:
    from migrate.plan.steps import DESKTOP

    # PowerShell's -match ignores case; these constructs mean the same in .NET's and Python's regular expressions.
    pattern = re.compile(str(DESKTOP["RunEntry"]), re.I)
    for name in DESKTOP["Windows"]:
        assert pattern.search(f'"C:\\Program Files\\Docker\\Docker\\{name}.exe" -Autostart'), name
        assert pattern.search(f"D:\\Apps\\Docker\\{name.lower()}.EXE"), name
    for other in ("C:\\Program Files\\Docker\\Docker\\resources\\com.docker.backend.exe",
                  "C:\\Program Files\\Docker\\Docker\\Docker Desktop Installer.exe", "C:\\OneDrive\\OneDrive.exe",
                  "Docker Desktop.exe"):
        assert not pattern.search(other), other
