"""The collector's fleet-tool parts (-OutputZip, -Detect): grammar, order, documented keys and exit codes.

PowerShell does not run here; these read the script as tree-sitter and as text, and compare it with the docs.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import tree_sitter_powershell
from tree_sitter import Language, Node, Parser

from migrate.collector import render_collector

ROOT = Path(__file__).resolve().parent.parent
FLEET_DOC = (ROOT / "docs" / "fleet.md").read_text(encoding="utf-8")
BUNDLE_DOC = (ROOT / "docs" / "bundle.md").read_text(encoding="utf-8")
_PARSER = Parser(Language(tree_sitter_powershell.language()))


@pytest.fixture(scope="module")
def script() -> str:
    return render_collector("0.1.0")


def _walk(node: Node):
    yield node
    for child in node.children:
        yield from _walk(child)


def _block(script: str, opener: str) -> str:
    """The text of the braced block that opens with `opener` (braces in strings do not occur in these blocks)."""
    start = script.index(opener)
    depth = 0
    for i in range(script.index("{", start), len(script)):
        depth += {"{": 1, "}": -1}.get(script[i], 0)
        if depth == 0:
            return script[start:i + 1]
    raise AssertionError(f"unclosed block {opener}")


def _function(script: str, name: str) -> str:
    return _block(script, f"function {name} {{")


def test_parameters_are_declared(script: str) -> None:
    params = _block(script, "param(\n    [string]$OutputDir")
    assert "[string]$OutputZip = ''" in params and "[switch]$Detect" in params
    for name in ("OutputZip", "Detect"):
        assert f".PARAMETER {name}" in script


def test_detect_runs_before_anything_is_written_and_exits_0_or_1(script: str) -> None:
    main = script[script.index("# Main\n"):]
    detect = _block(main, "if ($Detect) {")
    assert main.index("if ($Detect) {") < main.index("CreateDirectory($script:BundleRoot)")
    assert re.findall(r"\bexit (\d+)", detect) == ["0", "1"]
    assert "Get-Detection" in detect and "Write-Output" in detect
    # One line: the JSON writer escapes every control character (so no string holds a raw line break), and the
    # line breaks of its indentation are removed.
    assert "-replace '\\n\\s*', ''" in detect
    assert "$code -lt 32" in _function(script, "ConvertTo-JsonStringLiteral")


def test_detection_line_keys_and_values_are_documented(script: str) -> None:
    body = _function(script, "Get-Detection")
    result = body[body.rindex("[ordered]@{"):]
    keys = re.findall(r"^\s+([a-z_]+)\s+=", result, re.M)
    assert keys == ["format", "status", "backend", "computer", "run_as", "desktop_version", "reasons",
                    "collector_version"]
    example = re.search(r"```json\n(\{\"format\": \"wsl2-migrate-detect/1\".*?)\n```", FLEET_DOC, re.S)
    assert example is not None, "docs/fleet.md shows a detection line"
    for key in keys:
        assert f'"{key}"' in example.group(1), key
    statuses = set(re.findall(r"\$status = '([a-z-]+)'", body))
    assert statuses == {"ready", "action-needed", "unknown"}
    for status in statuses:
        assert f"`{status}`" in FLEET_DOC, status
    backends = set(re.findall(r"return '([a-z0-9]+)'", _function(script, "Get-DesktopBackend")))
    assert backends == {"windows", "wsl2", "hyperv"}


def test_detection_reads_files_and_registry_only(script: str) -> None:
    """Detection must be fast and work as SYSTEM: no docker, wsl or CIM call on its path."""
    for name in ("Get-Detection", "Get-DesktopBackend", "Get-ProfileFolder", "Get-RunAs"):
        body = _function(script, name)
        assert "Invoke-NativeCommand" not in body and "Invoke-DockerCommand" not in body
        assert "Get-CimInstance" not in body and "Get-WslFact" not in body


def test_zip_is_written_under_a_temporary_name_with_one_top_folder(script: str) -> None:
    body = _function(script, "Write-BundleZip")
    assert "$partial = $ZipPath + '.partial'" in body
    assert body.index("ZipFile]::Open($partial") < body.index("[System.IO.File]::Move($partial, $ZipPath)")
    assert "$item.FullName.Substring($prefix.Length).Replace('\\', '/')" in body
    assert "$entry = $TopFolder + '/' + $entry" in body
    main = script[script.index("# Main\n"):]
    assert "$script:ZipName = $env:COMPUTERNAME + '_' + [DateTime]::UtcNow.ToString('yyyy-MM-dd'" in main
    end = _block(main, "if ($OutputZip) {\n    $zipFailure")
    assert "Remove-Item -LiteralPath $script:BundleRoot" in end and "exit 2" in end
    # The zip is made after the manifest, so it holds the whole bundle.
    assert main.index("Write-BundleText -Relative 'manifest.json'") < main.index("Write-BundleZip -Folder")


def test_exit_codes_are_documented() -> None:
    table = FLEET_DOC[FLEET_DOC.index("## The collector for fleet tools"):]
    for row in ("| 0 |", "| 1 |", "| 2 |"):
        assert row in table, row


def test_detection_as_system_looks_at_every_user_profile(script: str) -> None:
    assert "S-1-5-18" in _function(script, "Get-RunAs")
    profiles = _function(script, "Get-ProfileFolder")
    assert "ProfileList" in profiles and "S-1-5-21-" in profiles
    assert "Get-ProfileFolder -RunAs $runAs" in _function(script, "Get-Detection")


def test_new_functions_use_approved_verbs_and_no_aliases(script: str) -> None:
    from tests.pslint import ALIASES, APPROVED_VERBS

    root = _PARSER.parse(script.encode("utf-8")).root_node
    names = [n.text.decode() for n in _walk(root) if n.type == "function_name"]
    for name in ("Get-RunAs", "Get-OutputZipPath", "Write-BundleZip", "Get-ProfileFolder",
                 "Get-DesktopBackend", "Get-Detection"):
        assert name in names
        assert name.split("-")[0].lower() in APPROVED_VERBS
    commands = {n.text.decode().lower() for n in _walk(root) if n.type == "command_name"}
    assert not commands & ALIASES
