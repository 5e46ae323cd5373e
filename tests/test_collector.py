"""Tests for the PowerShell collector: grammar, version quoting, bundle coverage, encodings and native arguments."""
from __future__ import annotations

import json
import re
import subprocess
import unicodedata
from pathlib import Path

import pytest
import tree_sitter_powershell
from hypothesis import given
from hypothesis import strategies as st

from tests.pslint import enclosing_function, functions, lint, text, walk
from tests.pslit import evaluate_assignment
from tests.psbranch import branch_versions
from tests.psref import load_reference, splat_keys
from tree_sitter import Language, Node, Parser

from migrate.collector import VERSION_MARKER, collector_template, render_collector
from migrate.inventory.runas import PER_USER_FILES_FROM, RUN_AS

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
    text = BUNDLE_DOC.read_text(encoding="utf-8")
    for line in text[: text.index("\n## ")].splitlines():
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
    # Assigned once, read by the manifest and by the -Detect line.
    assert rendered.count("$script:CollectorVersion") == 3


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
    assert [n.text.decode() for n in _walk(root) if n.type == "redirection"] == []
    assert script.count("[System.IO.File]::WriteAllText(") == 1
    assert "New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false" in script


def test_collector_passes_the_lint_checks(script: str) -> None:
    assert lint(script) == []


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


# ---------------------------------------------------------------------------------------------------------------
# Native calls: one place starts a process, every wait has a limit, a timeout ends the tree and is recorded.

NATIVE_CALLERS = {"Invoke-DockerCommand", "Invoke-WslCommand", "Get-FeatureState", "Get-ExcludedPortRange"}
"""The functions that name a program and run it through Invoke-NativeCommand."""


def _commands(root: Node, name: str) -> list[Node]:
    return [n for n in walk(root) if n.type == "command" and any(
        c.type == "command_name" and text(c).lower() == name.lower() for c in n.children)]


def _callers(root: Node, name: str) -> set[str]:
    return {enclosing_function(n) for n in _commands(root, name)}


def _parameters(command: Node) -> set[str]:
    """Named parameters of a command, splatted hashtable keys included, lower-case."""
    names = set()
    elements = next((c for c in command.children if c.type == "command_elements"), None)
    for element in elements.children if elements else []:
        if element.type == "command_parameter":
            names.add(text(element).lstrip("-").rstrip(":").lower())
        elif text(element).startswith("@") and element.type != "command_argument_sep":
            keys = splat_keys(text(element).strip()[1:], command)
            assert keys is not None, text(command)
            names |= {k.lower() for k in keys}
    return names


def _method_calls(root: Node, method: str) -> list[Node]:
    return [n for n in walk(root) if n.type == "invokation_expression" and len(n.children) > 2
            and text(n.children[2]).lower() == method.lower()]


def test_every_program_is_started_in_one_place(script: str) -> None:
    root = _parse(script)
    assert [n for n in walk(root) if n.type in ("command_invokation_operator", "redirection")] == []
    for needle in ("System.Diagnostics.ProcessStartInfo", "System.Diagnostics.Process\n", "StartInfo = "):
        where = {enclosing_function(n) for n in walk(root) if n.type == "pipeline" and needle.strip() in text(n)}
        assert where <= {"Start-NativeProcess"}, (needle, where)
    assert "[System.Diagnostics.Process]::Start" not in script and "Start-Process" not in script
    assert _callers(root, "Start-NativeProcess") == {"Invoke-NativeCommand", "Stop-ProcessTree"}
    assert _callers(root, "Invoke-NativeCommand") == NATIVE_CALLERS
    # Every command is a function of this script or a cmdlet of the reference: no program runs by its name.
    reference = load_reference()
    defined = set(functions(root))
    for node in walk(root):
        if node.type == "command_name":
            name = text(node).lower()
            assert name in defined or name in reference.cmdlets["5.1"], text(node.parent)


def test_every_wait_has_a_time_limit(script: str) -> None:
    root = _parse(script)
    waits = _method_calls(root, "WaitForExit") + _method_calls(root, "Wait")
    assert len(waits) >= 4
    for node in waits:
        args = next(c for c in node.children if c.type == "argument_list")
        assert text(args) not in ("()", "( )"), text(node)  # WaitForExit() and Wait() block forever
    assert _method_calls(root, "ReadToEnd") == [] and len(_method_calls(root, "ReadToEndAsync")) == 2
    assert _method_calls(root, "WaitOne") == []


def test_a_timeout_ends_the_whole_process_tree_on_51_and_7(script: str) -> None:
    root = _parse(script)
    stop = functions(root)["stop-processtree"]
    kills = [n for n in _method_calls(stop, "Kill") if text(next(c for c in n.children
                                                                if c.type == "argument_list")) == "($true)"]
    assert len(kills) == 1 and branch_versions(kills[0])[0] == {"7.4"}  # Kill(entireProcessTree): .NET Core only
    taskkill = [n for n in _commands(stop, "Start-NativeProcess") if "'taskkill.exe'" in text(n)]
    assert len(taskkill) == 1 and branch_versions(taskkill[0])[0] == {"5.1"}
    assert re.search(r"@\('/PID', \[string\]\$Process\.Id, '/T', '/F'\)", text(taskkill[0]))
    invoke = functions(root)["invoke-nativecommand"]
    assert len(_commands(invoke, "Stop-ProcessTree")) == 1
    assert "$timedOut = $true" in text(invoke) and "TimedOut  = $timedOut" in text(invoke)


def test_every_cim_query_has_a_time_limit(script: str) -> None:
    root = _parse(script)
    queries = _commands(root, "Get-CimInstance") + _commands(root, "Invoke-CimMethod")
    assert len(queries) >= 3
    for command in queries:
        assert "operationtimeoutsec" in _parameters(command), text(command)
    assert _callers(root, "Get-CimInstance") == {"Get-CimData"}
    assert "Get-WindowsOptionalFeature" not in script  # the DISM module: no time limit, fails in Store PowerShell 7


def test_every_native_timeout_is_recorded_with_its_file_and_seconds(script: str) -> None:
    root = _parse(script)
    failure = text(functions(root)["get-failuretext"])
    assert "' timed out after ' + $script:TimeoutSeconds + ' s'" in failure
    users = set()
    records_itself = {"Get-FeatureState", "Get-ExcludedPortRange"}
    for wrapper in NATIVE_CALLERS - records_itself:
        users |= _callers(root, wrapper)
    users |= records_itself
    users -= NATIVE_CALLERS - records_itself
    assert users >= {"Save-InspectOutput", "Save-ListedInspect", "Save-FormattedOutput", "Save-EngineSnapshot",
                     "Get-WslFact", "Get-FeatureState"}
    for name in users:
        body = text(functions(root)[name.lower()])
        assert "Add-BundleError" in body and "Get-FailureText" in body, name
    # Each result of a native call is handed to Get-FailureText, which names a timeout, and so recorded.
    wrappers = {"invoke-nativecommand", "invoke-dockercommand", "invoke-wslcommand"}
    results = 0
    for node in walk(root):
        value = node.child_by_field_name("value") if node.type == "assignment_expression" else None
        if value is None or enclosing_function(node).lower() in wrappers:
            continue
        if any(n.type == "command_name" and text(n).lower() in wrappers for n in walk(value)):
            variable = text(node.children[0]).strip()
            body = text(functions(root)[enclosing_function(node).lower()])
            assert f"-Result {variable})" in body, (variable, text(node))
            results += 1
    assert results >= 8


def test_cim_timeout_message_names_the_seconds(script: str) -> None:
    body = text(functions(_parse(script))["get-cimdata"])
    assert "' timed out after ' + $script:TimeoutSeconds + ' s'" in body
    assert "OperationTimeoutSec = $script:TimeoutSeconds" in body


def test_timeout_parameter_is_documented(script: str) -> None:
    head = script[: script.index("Set-StrictMode")]
    assert "[ValidateRange(1, 86400)] [int]$TimeoutSeconds = 60" in head
    assert ".PARAMETER TimeoutSeconds" in head
    assert "`-TimeoutSeconds` (default 60)" in BUNDLE_DOC.read_text(encoding="utf-8")


_NET_SPACE = "\f\n\r\t\v\x85" + "".join(chr(c) for c in range(0x10000) if unicodedata.category(chr(c)).startswith("Z"))
NET_WHITESPACE = re.compile("[" + re.escape(_NET_SPACE) + "]")
r""".NET's regex \s, [\f\n\r\t\v\x85\p{Z}]: Python's \s also matches \x1c-\x1f."""


def _encode(value: str) -> str:
    """ConvertTo-CommandLineArgument's rule, stated independently: bare when no whitespace, else quoted."""
    if value == "" or '"' in value:
        raise ValueError(value)
    if not NET_WHITESPACE.search(value):
        return value
    if value.endswith("\\"):
        raise ValueError(value)
    return f'"{value}"'


def test_the_encoder_in_the_script_states_the_same_rule(script: str) -> None:
    body = text(functions(_parse(script))["convertto-commandlineargument"])
    assert "if ($Value.Length -eq 0 -or $Value.IndexOf([char]34) -ge 0) {\n        throw" in body
    assert "if ($Value -notmatch '\\s') {\n        return $Value" in body
    assert "if ($Value.EndsWith('\\')) {\n        throw" in body
    assert body.rstrip().endswith("return ('\"' + $Value + '\"')\n}")


def _literal_arguments(script: str) -> list[str]:
    literals = []
    for line in script.splitlines():
        if re.search(r"ArgumentList|ListArgs|InspectArgs|HostArgs|\$format = ", line):
            literals += re.findall(r"'([^']*)'", line)
    return literals


def test_every_argument_reaches_the_program_intact(script: str) -> None:
    literals = _literal_arguments(script)
    assert {"{{json .}}", "--no-trunc", "--size", "/English", "/T", "--verbose"} <= set(literals)
    runtime = [
        "sha256:" + "0123456789abcdef" * 4,
        "shop_pgdata",
        "npipe:////./pipe/docker_engine_windows",
        "3f1c0d9e8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d",
        "4242",
    ]
    args = ["image", "inspect"] + literals + runtime
    line = " ".join(_encode(a) for a in args)
    # .NET passes ProcessStartInfo.Arguments verbatim on 5.1 and 7; Go (docker) and MSVCRT (wsl, dism, taskkill)
    # split it back.
    assert _go_argv(line) == args
    assert line == subprocess.list2cmdline(args)


@given(st.text(alphabet=st.characters(blacklist_characters='"', blacklist_categories=("Cs",)), min_size=1))
def test_the_encoding_round_trips_for_every_safe_value(value: str) -> None:
    try:
        encoded = _encode(value)
    except ValueError:
        assert value.endswith("\\") and NET_WHITESPACE.search(value)
        return
    assert _go_argv(encoded) == [value]
    if not re.search("[\f\n\r\v\x85\u00a0-\uffff]", value):
        # list2cmdline (MSVCRT rules) quotes for space and tab only; the other whitespace needs no quotes there.
        assert encoded == subprocess.list2cmdline([value])


def test_the_encoder_refuses_what_no_rule_carries() -> None:
    for value in ("", 'a"b', "dir with space\\"):
        with pytest.raises(ValueError):
            _encode(value)


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
    facts_doc = doc[doc.index("## `host/facts.json`") :]
    facts_block = facts_doc[facts_doc.index("```json") : facts_doc.index("```\n", facts_doc.index("```json") + 7)]
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


# ---------------------------------------------------------------------------------------------------------------
# Who ran the collector: manifest.json "identity", as docs/bundle.md describes and migrate.inventory.runas reads it.

def _identity_doc() -> str:
    doc = BUNDLE_DOC.read_text(encoding="utf-8")
    return doc[doc.index("## Who ran the collector") :]


def test_identity_keys_match_the_doc(script: str) -> None:
    body = text(functions(_parse(script))["get-collectoridentity"])
    block = re.search(r"\$identity = \[ordered\]@\{\n(.*?)\n    \}", body, re.S)
    assert block is not None
    keys = re.findall(r"^\s+([a-z_]+)\s+=", block.group(1), re.M)
    doc = _identity_doc()
    example = json.loads("{" + doc[doc.index('"identity": {') :].split("\n}\n", 1)[0] + "\n}}")["identity"]
    table = re.findall(r"`([a-z_]+)`", "\n".join(line.split("|")[1] for line in doc.splitlines()
                                                  if line.startswith("| `")))
    assert keys == list(example) and sorted(keys) == sorted(table)
    assert "identity          = $script:Identity" in script


def test_identity_values_are_the_ones_the_scan_reads(script: str) -> None:
    assigned = set(re.findall(r"run_as\s+=\s+'([a-z-]+)'", script))
    assert assigned == set(RUN_AS)
    assigned = set(re.findall(r"per_user_files_from\s+=\s+'([a-z-]+)'", script))
    assert assigned == set(PER_USER_FILES_FROM)
    doc = _identity_doc()
    for value in (*RUN_AS, *PER_USER_FILES_FROM, "Win32_ComputerSystem.UserName", "explorer.exe owner"):
        assert f"`{value}`" in doc and f"'{value}'" in script, value
    assert "$sid -eq 'S-1-5-18'" in script  # LocalSystem


def test_per_user_files_come_from_the_desktop_users_folders(script: str) -> None:
    main = script[script.index("# Main") :]
    # The documented files under %APPDATA% or %USERPROFILE% only (windows-daemon.json also has a machine path).
    per_user = [name for name, content in re.findall(r"^\| `([^`]+)` \| (.*) \|$", BUNDLE_DOC.read_text(
        encoding="utf-8"), re.M) if re.search("%APPDATA%|%USERPROFILE%", content) and "ProgramData" not in content]
    assert per_user == ["desktop/settings.json", "desktop/settings-store.json", "desktop/daemon.json",
                        "host/wslconfig"]
    listed = re.search(r"foreach \(\$relative in @\(([^)]*)\)\) \{\n\s+Add-BundleError", main)
    assert listed is not None and re.findall(r"'([^']+)'", listed.group(1)) == per_user
    assert "$appData = $script:UserPaths.AppData" in main and "$userProfile = $script:UserPaths.Profile" in main
    assert "GetFolderPath('ApplicationData')" not in main and "$env:USERPROFILE" not in main
    # WSL is per user too: the desktop user's registry when someone else runs the collector.
    assert "Get-WslFact -UserSid $script:UserPaths.Sid -NoUser:(-not $script:UserPaths.Found)" in script
    assert "Open-RegistryKey -Hive Users -SubKey ($UserSid + '\\' + $lxssKey)" in script
