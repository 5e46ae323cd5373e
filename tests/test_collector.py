"""Tests for the PowerShell collector: grammar, version quoting, bundle coverage, encodings and native arguments."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import tree_sitter_powershell

from tests.pslit import evaluate_assignment
from tree_sitter import Language, Node, Parser

from migrate.collector import VERSION_MARKER, collector_template, render_collector

ROOT = Path(__file__).resolve().parent.parent
BUNDLE_DOC = ROOT / "docs" / "bundle.md"
HOSTILE_VERSION = "1.2.3'; Remove-Item -Recurse C:\\ ; '\u2018\u2019\u201a\u201b\"$(whoami)`n''"

_PARSER = Parser(Language(tree_sitter_powershell.language()))


def _parse(text: str) -> Node:
    return _PARSER.parse(text.encode("utf-8")).root_node


def _walk(node: Node):
    yield node
    for child in node.children:
        yield from _walk(child)


def _problems(root: Node) -> list[str]:
    return [f"{n.type} at {n.start_point}: {n.text[:60]!r}" for n in _walk(root) if n.type == "ERROR" or n.is_missing]


def _doc_bundle_files() -> list[str]:
    """The file column of the table in docs/bundle.md."""
    files = []
    for line in BUNDLE_DOC.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\|\s*`([^`]+)`\s*\|", line)
        if match:
            files.append(match.group(1))
    return files


def _decode_verbatim(source: str) -> tuple[str, int]:
    """Read a PowerShell verbatim string starting at source[0] as the tokenizer does; return value and end index."""
    quotes = "'\u2018\u2019\u201a\u201b"
    assert source[0] in quotes
    value, i = [], 1
    while True:
        if i >= len(source):
            raise AssertionError("unterminated string")
        ch = source[i]
        if ch in quotes:
            if i + 1 < len(source) and source[i + 1] in quotes:
                value.append(source[i + 1])
                i += 2
                continue
            return "".join(value), i + 1
        value.append(ch)
        i += 1


def _legacy_command_line(args: list[str]) -> str:
    """Windows PowerShell 5.1's native argument binder (NativeCommandParameterBinder, legacy mode)."""
    parts = []
    for arg in args:
        if arg == "":
            continue  # 5.1 drops empty arguments
        quoted, needs = False, False
        for ch in arg:
            if ch == '"':
                quoted = not quoted
            elif ch.isspace() and not quoted:
                needs = True
        parts.append(f'"{arg}"' if needs else arg)
    return " ".join(parts)


def _go_argv(cmdline: str) -> list[str]:
    """How docker.exe (Go's os.commandLineToArgv, pre-2008 rule) splits a command line."""
    args, i, n = [], 0, len(cmdline)
    while i < n:
        while i < n and cmdline[i] in " \t":
            i += 1
        if i >= n:
            break
        buf, inquote, nslash = [], False, 0
        while i < n:
            c = cmdline[i]
            if c in " \t" and not inquote:
                break
            if c == "\\":
                nslash += 1
                i += 1
                continue
            if c == '"':
                buf.append("\\" * (nslash // 2))
                if nslash % 2 == 0:
                    if inquote and i + 1 < n and cmdline[i + 1] == '"':
                        buf.append('"')
                        i += 1
                    inquote = not inquote
                else:
                    buf.append('"')
                nslash = 0
                i += 1
                continue
            buf.append("\\" * nslash)
            nslash = 0
            buf.append(c)
            i += 1
        buf.append("\\" * nslash)
        args.append("".join(buf))
    return args


@pytest.fixture(scope="module")
def script() -> str:
    return render_collector("0.1.0")


def test_rendered_script_parses_without_error_nodes(script: str) -> None:
    assert _problems(_parse(script)) == []


def test_the_grammar_check_would_catch_a_broken_script(script: str) -> None:
    broken = script.replace("function Get-WslFact {", "function Get-WslFact {{", 1)
    assert broken != script
    assert _problems(_parse(broken))


def test_hostile_version_round_trips_through_the_powershell_literal() -> None:
    rendered = render_collector(HOSTILE_VERSION)
    assert _problems(_parse(rendered)) == []
    prefix = "$script:CollectorVersion = "
    start = rendered.index(prefix) + len(prefix)
    line = rendered[start:].split("\n", 1)[0]
    assert line.isascii()  # Windows PowerShell 5.1 reads a BOM-less script as ANSI
    assert evaluate_assignment(prefix + line) == HOSTILE_VERSION  # the whole line is one inert string expression
    assert rendered.count("$script:CollectorVersion") == 2  # assigned once, read once (manifest)


def test_only_the_version_marker_changes() -> None:
    template = collector_template()
    assert template.count(VERSION_MARKER) == 1
    rendered = render_collector("9.9.9")
    assert rendered == template.replace(VERSION_MARKER, "'9.9.9'")
    assert "__WSL2_MIGRATE_VERSION__" not in rendered


def test_script_names_every_bundle_file_of_the_doc(script: str) -> None:
    documented = _doc_bundle_files()
    assert "engine/images.json" in documented and "host/facts.json" in documented
    for name in documented:
        assert f"'{name}'" in script, name
    block = re.search(r"\$script:BundleFiles = @\((.*?)\n\)", script, re.S)
    assert block is not None
    listed = re.findall(r"'([^']+)'", block.group(1))
    assert listed == documented


def test_settings_sources_are_the_documented_windows_paths(script: str) -> None:
    for parts in (
        "$appData, 'Docker', 'settings.json'",
        "$appData, 'Docker', 'settings-store.json'",
        "$userProfile, '.docker', 'daemon.json'",
        "$programData, 'Docker', 'config', 'daemon.json'",
        "$userProfile, '.docker', 'windows-daemon.json'",
        "$userProfile, '.wslconfig'",
    ):
        assert parts in script


def test_no_out_file_set_content_or_file_redirection(script: str) -> None:
    root = _parse(script)
    names = {n.text.decode().lower() for n in _walk(root) if n.type == "command_name"}
    assert not names & {"out-file", "set-content", "add-content", "tee-object", "convertto-json"}
    redirections = [n.text.decode() for n in _walk(root) if n.type == "redirection"]
    assert redirections == ["2>&1"]  # stderr merged for the exit-code helper, nothing written to a file
    assert script.count("[System.IO.File]::WriteAllText(") == 1
    assert "New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false" in script


def test_script_is_ascii_only(script: str) -> None:
    offenders = [(i, ch) for i, ch in enumerate(script) if ord(ch) > 127]
    assert offenders == []


def test_header_parameters_and_strictness(script: str) -> None:
    head = script[: script.index("Set-StrictMode")]
    assert "[CmdletBinding()]" in head
    assert re.search(r"\[string\]\$OutputDir = ", head)
    assert "[string]$DockerExe = 'docker'" in head
    assert "[switch]$Zip" in head
    assert "Set-StrictMode -Version 3.0\n$ErrorActionPreference = 'Stop'" in script


def test_every_native_call_reads_the_exit_code_on_the_next_line(script: str) -> None:
    lines = script.splitlines()
    calls = [i for i, line in enumerate(lines) if re.search(r"&\s+\$", line)]
    assert calls, "no native call found"
    for i in calls:
        assert "$LASTEXITCODE" in lines[i + 1], lines[i]
    root = _parse(script)
    commands = {n.text.decode().lower() for n in _walk(root) if n.type == "command_name"}
    assert not commands & {"docker", "docker.exe", "wsl", "wsl.exe"}  # only through Invoke-NativeCommand


def _docker_literals(script: str) -> list[str]:
    literals = []
    for line in script.splitlines():
        if re.search(r"ArgumentList|ListArgs|InspectArgs|HostArgs|\$format = ", line):
            literals += re.findall(r"'([^']*)'", line)
    return literals


def test_docker_arguments_reach_docker_exe_intact_on_51_and_7(script: str) -> None:
    literals = _docker_literals(script)
    assert "{{json .}}" in literals and "--no-trunc" in literals and "--size" in literals
    runtime = [
        "sha256:" + "0123456789abcdef" * 4,
        "shop_pgdata",
        "npipe:////./pipe/docker_engine_windows",
        "3f1c0d9e8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d",
    ]
    args = ["image", "inspect"] + literals + runtime
    assert _go_argv(_legacy_command_line(args)) == args  # Windows PowerShell 5.1 (and 7.0-7.2 Legacy)
    assert _go_argv(subprocess.list2cmdline(args)) == args  # PowerShell 7.3+ (Standard, PasteArguments rules)


def test_oracles_reject_what_51_breaks() -> None:
    # The reason for the safe subset: an embedded quote does not survive 5.1's binder.
    args = ["info", "--format", '{{json .Name}} "x"']
    assert _go_argv(_legacy_command_line(args)) != args
    assert _go_argv(subprocess.list2cmdline(args)) == args


def test_engine_commands_match_the_documented_ones(script: str) -> None:
    for fragment in (
        "@('image', 'ls', '-aq', '--no-trunc') -InspectArgs @('image', 'inspect')",
        "@('ps', '-aq', '--no-trunc') -InspectArgs @('container', 'inspect', '--size')",
        "@('volume', 'ls', '-q') -InspectArgs @('volume', 'inspect')",
        "@('network', 'ls', '-q', '--no-trunc') -InspectArgs @('network', 'inspect')",
        "@('info') + $format",
        "@('version') + $format",
        "@('system', 'df', '-v') + $format",
    ):
        assert fragment in script, fragment


def test_manifest_is_written_last_and_the_facts_format_matches_the_doc(script: str) -> None:
    assert script.rindex("Write-BundleText -Relative 'manifest.json'") > script.rindex("'host/facts.json' -Text")
    doc = BUNDLE_DOC.read_text(encoding="utf-8")
    assert '"format": "wsl2-migrate-host/1"' in doc and "'wsl2-migrate-host/1'" in script
    assert "wsl2-migrate-bundle/1" in doc and "'wsl2-migrate-bundle/1'" in script
    facts_block = doc[doc.index("```json") : doc.rindex("```")]
    keys = set(re.findall(r'"([a-z_]+)":', facts_block)) - {"format"}
    for key in keys:
        assert re.search(rf"\b{key}\s*=|\['{key}'\]", script), key


# ---------------------------------------------------------------------------------------------------------------
# The sample bundles in samples/: the layout the collector writes, with consistent ids.

SAMPLES = ROOT / "samples"
SAMPLE_DIRS = ("hyperv-2x", "lcow", "near-wsl2")


def _read(path: Path):
    from migrate.inventory.textfile import read_json

    return read_json(path)[0]


@pytest.mark.parametrize("name", SAMPLE_DIRS)
def test_sample_holds_only_documented_bundle_files(name: str) -> None:
    documented = set(_doc_bundle_files())
    files = {p.relative_to(SAMPLES / name).as_posix() for p in (SAMPLES / name).rglob("*") if p.is_file()}
    assert files <= documented
    assert {"manifest.json", "engine/info.json", "engine/containers.json", "host/facts.json"} <= files
    manifest = _read(SAMPLES / name / "manifest.json")
    assert manifest["format"] == "wsl2-migrate-bundle/1"
    for error in manifest["errors"]:
        assert set(error) == {"file", "message"} and error["file"] in documented
    assert _read(SAMPLES / name / "host" / "facts.json")["format"] == "wsl2-migrate-host/1"


@pytest.mark.parametrize("name", SAMPLE_DIRS)
def test_sample_engine_files_reference_each_other(name: str) -> None:
    engine = SAMPLES / name / "engine"
    images = {i["Id"] for i in _read(engine / "images.json")}
    containers = _read(engine / "containers.json")
    volumes = {v["Name"] for v in _read(engine / "volumes.json")}
    networks = {n["Id"]: n for n in _read(engine / "networks.json")}
    ids = {c["Id"] for c in containers}
    hexid = re.compile(r"^[0-9a-f]{64}$")
    for image_id in images:
        assert hexid.match(image_id.removeprefix("sha256:"))
    for c in containers:
        assert hexid.match(c["Id"]) and c["Image"] in images
        for m in c["Mounts"]:
            if m["Type"] == "volume":
                assert m["Name"] in volumes
        mode = c["HostConfig"]["NetworkMode"]
        if mode.startswith("container:"):
            assert mode.split(":", 1)[1] in ids
        for net in c["NetworkSettings"]["Networks"].values():
            assert net["NetworkID"] in networks
    for n in networks.values():
        assert set(n["Containers"]) <= ids
    assert _read(engine / "info.json")["Containers"] == len(containers)


def test_samples_hold_the_hostile_values_and_backends() -> None:
    text = (SAMPLES / "hyperv-2x" / "engine" / "containers.json").read_text(encoding="utf-8")
    assert "O'Brien" in text and "$(date)" in text and "`whoami`" in text and "PASSWORD=" in text
    infos = {name: _read(SAMPLES / name / "engine" / "info.json") for name in SAMPLE_DIRS}
    assert infos["hyperv-2x"]["KernelVersion"].endswith("-linuxkit")
    assert "lcow (linux)" in infos["lcow"]["Driver"] and infos["lcow"]["OSType"] == "windows"
    assert infos["near-wsl2"]["OperatingSystem"] == "Docker Desktop"
