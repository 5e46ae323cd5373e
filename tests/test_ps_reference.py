"""Every cmdlet and named parameter our PowerShell uses exists in Windows PowerShell 5.1 and PowerShell 7.4."""
from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from tests.psref import Finding, check, load_reference, resolve

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_DIR = ROOT / "tests" / "data" / "ps-reference"
SCRIPTS = sorted({*ROOT.glob("migrate/**/*.ps1"), *ROOT.glob("tests/golden/*.ps1")})
"""Every script the project ships or generates: the collector, the runbook library, each sample runbook."""

REF = load_reference()


def _errors(source: str) -> list[str]:
    return [str(f) for f in check(source, REF) if f.severity == "error"]


def _notes(source: str) -> list[str]:
    return [str(f) for f in check(source, REF) if f.severity == "note"]


def _extract_module():
    spec = importlib.util.spec_from_file_location("ps_reference_extract", REFERENCE_DIR / "extract.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------------------------------------------------
# The scripts


def test_the_glob_finds_the_collector_the_library_and_every_sample_runbook() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in SCRIPTS}
    assert {"migrate/emit/collector.ps1", "migrate/emit/runbook_lib.ps1"} <= names
    samples = {p.parent.name for p in (ROOT / "samples").glob("*/manifest.json")}
    assert {f"tests/golden/{s}.migrate.ps1" for s in samples} <= names


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_script_uses_only_cmdlets_and_parameters_of_51_and_74(path: Path) -> None:
    findings = check(path.read_text(encoding="utf-8-sig"), REF)
    errors = [str(f) for f in findings if f.severity == "error"]
    notes = [str(f) for f in findings if f.severity == "note"]
    # Prefix matches and caveats are allowed but shown with any failure, for the reviewer.
    assert errors == [], "\n".join(errors + notes)


def test_the_collector_is_clean_of_notes_too() -> None:
    # The collector is ours to keep clean: no parameter prefixes, no DISM module, no unresolved splat.
    assert _notes((ROOT / "migrate" / "emit" / "collector.ps1").read_text(encoding="utf-8")) == []


# ---------------------------------------------------------------------------------------------------------------
# The table: its source and facts known independently of the extraction


def test_table_names_its_sources_and_the_readme_the_same_commits() -> None:
    header = REF.source
    commits = re.findall(r"\b([0-9a-f]{40})\b", "\n".join(header))
    assert len(commits) == 2
    assert any("MicrosoftDocs/PowerShell-Docs" in line for line in header)
    assert any("MicrosoftDocs/windows-powershell-docs" in line for line in header)
    readme = (REFERENCE_DIR / "README.md").read_text(encoding="utf-8")
    for commit in commits:
        assert commit in readme
    assert re.search(r"Extracted on \d{4}-\d{2}-\d{2}", readme)


@pytest.mark.parametrize(("version", "cmdlet", "parameter", "present"), [
    ("5.1", "Get-WmiObject", "Class", True),  # removed in PowerShell 6
    ("7.4", "Start-Process", "Environment", True),  # added in 7.4
    ("5.1", "Start-Process", "Environment", False),
    ("7.4", "ForEach-Object", "Parallel", True),
    ("5.1", "ForEach-Object", "Parallel", False),
    ("5.1", "Get-Content", "AsByteStream", False),  # 5.1 has -Encoding Byte instead
    ("7.4", "Get-Content", "AsByteStream", True),
    ("5.1", "Get-ChildItem", "FollowSymlink", False),  # the 5.1 page lists it, dated 6.0
    ("5.1", "Get-CimInstance", "OperationTimeoutSec", True),
    ("7.4", "Get-CimInstance", "OT", True),  # alias
    ("5.1", "Register-ScheduledTask", "Settings", True),
    ("7.4", "New-ScheduledTaskSettingsSet", "AllowStartIfOnBatteries", True),
    ("5.1", "Get-WindowsOptionalFeature", "Online", True),
    ("5.1", "Get-VM", "VMName", True),  # alias of -Name
    ("5.1", "Get-Item", "ProgressAction", False),  # 7.4's common parameter
    ("7.4", "Get-Item", "ProgressAction", True),
    ("5.1", "Get-Item", "EA", True),
    ("5.1", "Stop-Process", "WhatIf", True),
    ("5.1", "Get-Process", "WhatIf", False),  # no SupportsShouldProcess
])
def test_table_holds_known_facts(version: str, cmdlet: str, parameter: str, present: bool) -> None:
    command = REF.cmdlets[version].get(cmdlet.lower())
    if command is None:
        assert not present
        return
    assert (parameter.lower() in command.names) is present


def test_get_wmiobject_is_not_a_cmdlet_of_74() -> None:
    assert "get-wmiobject" in REF.cmdlets["5.1"]
    assert "get-wmiobject" not in REF.cmdlets["7.4"]


def test_extractor_reads_a_doc_page() -> None:
    extract = _extract_module()
    page = "\n".join([
        "---", "Module Name: Demo", "title: Get-Demo", "---", "# Get-Demo", "## SYNTAX", "### Default", "```",
        "Get-Demo [-Name] <string> [-Force] [-Hidden <int>] [<CommonParameters>]", "```", "## DESCRIPTION",
        "Demo-Thing -NotAParameter appears in prose.", "## PARAMETERS", "### -Name", "Text.", "```yaml",
        "Type: System.String", "Aliases: N, Nm", "```", "### -Force", "This parameter was added in PowerShell 7.1.",
        "```yaml", "Aliases:", "```", "### -Old", "This parameter was introduced in PowerShell 3.0.", "```yaml",
        "Aliases: None", "```", "### -Cert", "This parameter was reintroduced in PowerShell 7.1", "```yaml",
        "Aliases:", "```", "### CommonParameters", "Common.", "## INPUTS",
    ])
    cmdlet = extract.parse_cmdlet(page, "Demo", "5.1")
    assert cmdlet.name == "Get-Demo" and cmdlet.common
    # -Force is dated after 5.1; its SYNTAX line still names it, so the section is what decides: drop it there too.
    assert cmdlet.params["Name"] == ["N", "Nm"]
    assert cmdlet.params["Old"] == [] and cmdlet.params["Cert"] == [] and "Hidden" in cmdlet.params
    assert "NotAParameter" not in cmdlet.params and "Demo" not in cmdlet.params
    later = extract.parse_cmdlet(page, "Demo", "7.4")
    assert "Force" in later.params
    assert extract.parse_cmdlet(page.replace("## SYNTAX", "## NOTES"), "Demo", "5.1") is None


# ---------------------------------------------------------------------------------------------------------------
# The checker can fail, in each way it knows


def test_binding_follows_powershell_names_aliases_and_prefixes() -> None:
    names = {"path": "Path", "pspath": "LiteralPath", "literalpath": "LiteralPath", "passthru": "PassThru"}
    assert resolve("PATH", names) == ("exact", "Path")
    assert resolve("PSPath", names) == ("exact", "LiteralPath")
    assert resolve("Lit", names) == ("prefix", "LiteralPath")
    assert resolve("Pa", names) == ("ambiguous", "PassThru, Path")
    assert resolve("Nope", names) == ("unknown", "")


def test_unknown_and_version_only_parameters_fail() -> None:
    assert _errors("Get-Item -Foo 'x'\n") == ["1: error: Get-Item -Foo: no such parameter in PowerShell 5.1, 7.4"]
    assert _errors("Start-Process -FilePath 'a' -Environment @{}\n") == [
        "1: error: Start-Process -Environment: no such parameter in PowerShell 5.1"]
    assert _errors("Get-Item -Path 'x' -ProgressAction SilentlyContinue\n") == [
        "1: error: Get-Item -ProgressAction: no such parameter in PowerShell 5.1"]
    assert _errors("Get-Process -Name 'x' -WhatIf\n") == [
        "1: error: Get-Process -WhatIf: no such parameter in PowerShell 5.1, 7.4"]


def test_missing_cmdlets_and_unknown_verb_noun_names_fail() -> None:
    assert _errors("Get-WmiObject -Class 'Win32_OS'\n") == [
        "1: error: Get-WmiObject is not a cmdlet of PowerShell 7.4 in the reference nor a function of this script"]
    assert _errors("Get-Frobnicator -Name 'x'\n") == [
        "1: error: Get-Frobnicator is not a cmdlet of PowerShell 5.1, 7.4 in the reference nor a function of this "
        "script"]
    assert _errors("icacls.exe 'C:\\x' /grant 'a'\n") == []  # a native program is not a cmdlet


def test_prefixes_are_notes_and_ambiguous_prefixes_fail() -> None:
    source = "Get-CimInstance -Class 'Win32_OS' -ErrorAction Stop\n"
    assert _errors(source) == []
    assert _notes(source) == ["1: note: Get-CimInstance -Class: prefix of -ClassName in PowerShell 5.1, 7.4"]
    assert _errors("Get-ChildItem -Path 'x' -Fi 'y'\n") == [
        "1: error: Get-ChildItem -Fi: ambiguous in PowerShell 5.1, 7.4 (File, Filter)"]


def test_functions_of_the_script_are_checked_against_their_param_block() -> None:
    source = "\n".join([
        "function Get-Thing {",
        "    [CmdletBinding(SupportsShouldProcess = $true)]",
        "    param([Parameter(Mandatory = $true)] [Alias('N')] [string]$Name)",
        "    if ($PSCmdlet.ShouldProcess($Name)) { $Name }",
        "}",
        "function Get-Other {",
        "    [CmdletBinding()]",
        "    param([string]$Name)",
        "}",
        "Get-Thing -N 'a' -Verbose -WhatIf",
        "Get-Other -Name 'a' -WhatIf -Bogus 1",
        "",
    ])
    assert _errors(source) == [
        "11: error: Get-Other -Bogus: unknown parameter of the function in this script",
        "11: error: Get-Other -WhatIf: unknown parameter of the function in this script",
    ]


def test_splatted_hashtable_keys_are_checked() -> None:
    source = "\n".join([
        "$splat = @{",
        "    Path  = 'x'",
        "    'Bogus' = 1",
        "}",
        "$splat['Recurse'] = $true",
        "$splat.Nope = 2",
        "Get-ChildItem @splat",
        "Get-ChildItem @unknown",
        "",
    ])
    assert _errors(source) == [
        "7: error: Get-ChildItem -Bogus: no such parameter in PowerShell 5.1, 7.4",
        "7: error: Get-ChildItem -Nope: no such parameter in PowerShell 5.1, 7.4",
    ]
    assert _notes(source) == ["8: note: Get-ChildItem: the keys of @unknown are not known here; not checked"]


def test_version_branches_check_only_the_versions_they_run_on() -> None:
    seven_only = "Start-Process -FilePath 'a' -Environment @{}"
    five_only = "Get-WmiObject -Class 'Win32_OS'"
    for source in (
        f"if ($PSVersionTable.PSVersion.Major -ge 7) {{\n    {seven_only}\n}} else {{\n    {five_only}\n}}\n",
        f"if ($PSVersionTable.PSVersion.Major -lt 7) {{\n    {five_only}\n}} else {{\n    {seven_only}\n}}\n",
        f"if ($PSEdition -eq 'Desktop') {{\n    {five_only}\n}} elseif ($x) {{\n    {seven_only}\n}}\n",
        f"if ($x -and $PSVersionTable.PSEdition -ne 'Desktop') {{\n    {seven_only}\n}}\n",
    ):
        assert _errors(source) == [], source
    # The wrong branch: each call is checked against the version that reaches it.
    swapped = f"if ($PSVersionTable.PSVersion.Major -ge 7) {{\n    {five_only}\n}} else {{\n    {seven_only}\n}}\n"
    assert _errors(swapped) == [
        "2: error: Get-WmiObject is not a cmdlet of PowerShell 7.4 in the reference nor a function of this script",
        "4: error: Start-Process -Environment: no such parameter in PowerShell 5.1",
    ]
    # A condition that does not decide the version narrows nothing.
    assert _errors(f"if ($x -or $PSVersionTable.PSVersion.Major -ge 7) {{\n    {seven_only}\n}}\n") == [
        "2: error: Start-Process -Environment: no such parameter in PowerShell 5.1"]


def test_dotnet_members_missing_in_51_fail_outside_a_7_branch() -> None:
    assert _errors("[System.IO.File]::Move($a, $b, $true)\n") == [
        "1: error: '[System.IO.File]::Move($a, $b, $true)': File.Move(source, dest, overwrite) is .NET Core 3.0+; "
        "Windows PowerShell 5.1 reaches it"]
    assert _errors("[System.IO.File]::Move($a, $b)\n") == []
    assert _errors("$p.Kill($true)\n") == [
        "1: error: '$p.Kill($true)': Process.Kill(entireProcessTree) is .NET Core 3.0+; Windows PowerShell 5.1 "
        "reaches it"]
    assert _errors("if ($PSVersionTable.PSVersion.Major -ge 7) {\n    $p.Kill($true)\n}\n") == []
    assert _errors("$p.Kill()\n") == []
    assert _errors("$id = [Environment]::ProcessId\n") == [
        "1: error: '[Environment]::ProcessId': Environment.ProcessId is .NET 5+; Windows PowerShell 5.1 reaches it"]
    assert len(_errors("$t = $text.Replace('a', 'b', [StringComparison]::OrdinalIgnoreCase)\n")) == 1
    assert _errors("$t = $text.Replace('a', 'b')\n") == []
    assert len(_errors("$parts = $text.Split('ab')\n")) == 1
    assert _errors("$parts = $text.Split('a')\n") == []
    source = "$psi = New-Object -TypeName System.Diagnostics.ProcessStartInfo\n$psi.ArgumentList.Add('x')\n"
    assert _errors(source) == [
        "2: error: '$psi.ArgumentList': ProcessStartInfo.ArgumentList is .NET Core 2.1+; Windows PowerShell 5.1 "
        "reaches it"]


def test_pipeline_chains_and_unparsable_scripts_fail() -> None:
    assert _errors("Get-Item -Path 'a' && Get-Item -Path 'b'\n") == [
        "1: error: && between pipelines is PowerShell 7+ syntax"]
    assert any(e.startswith("0: error: syntax:") for e in _errors("Get-Item -Path (\n"))


def test_dism_module_calls_are_noted() -> None:
    notes = _notes("$f = Get-WindowsOptionalFeature -Online -FeatureName 'Containers'\n")
    assert len(notes) == 1 and "PowerShell/PowerShell#13866" in notes[0]


def test_findings_print_with_their_line() -> None:
    assert str(Finding(3, "error", "x")) == "3: error: x"
