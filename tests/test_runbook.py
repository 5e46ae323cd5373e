"""Tests for the runbook generator: grammar, lint, header, hostile values round trip, command lines, guards."""
from __future__ import annotations

import dataclasses
import json
import re
import subprocess
from importlib import resources
from pathlib import Path

import pytest
from tree_sitter import Node

from migrate.emit.runbook import RunbookMeta, render_runbook
from migrate.plan.steps import HOST_ACTIONS, PHASES, Artifact, BackupPath, Step, Word, resolve_arg
from migrate.volumedigest import digest_script
from tests.pslint import enclosing_function, functions, lint, text, walk
from tests.pslit import evaluate_node, parse_powershell, syntax_problems
from tests.winsplit import split_command_line_go, split_command_line_msvcrt

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
]
ROOT = "C:\\Backup Root\\run 1"
HASH = "0123456789abcdef" * 4
HELPER = "busybox:1.36"
DIGEST_SCRIPT = "cd /data && wsl2-migrate-digest"
"""Stands in for the digest script the planner passes to sh -c (its text is the planner's, not the runbook's)."""
IMAGE_ID = "sha256:" + "ab" * 32
ODD_PATH = "it's $(x) `y` caf\u00e9 @{z} \u65e5 #"
"""A relative backup-folder file name the runbook accepts that is hostile to PowerShell quoting."""


MIRRORS = ["https://m.example", "http://mirror.corp.example:5000/"]
INSECURE = ["reg.local:5000", "10.1.0.0/16", "http://plain.example"]


def _daemon_set(hostile: bool) -> dict:
    """The set param of the Linux daemon.json step: what the planner emits, plus HOSTILE keys and values."""
    wanted: dict = {"registry-mirrors": ["https://m.example"], "insecure-registries": ["reg.local:5000"]}
    if hostile:
        wanted["registry-mirrors"] = list(HOSTILE)
        wanted.update({v or "empty": v for v in HOSTILE})
        wanted.update({"debug": True, "max-concurrent-downloads": 3, "ratio": 0.25, "labels": []})
    return wanted


def _join(s: str) -> str:
    """Surrogate pairs (as [char] casts produce them) as single characters."""
    return s.encode("utf-16-le", "surrogatepass").decode("utf-16-le")


def _all_steps(hostile: bool = False) -> list[Step]:
    """One step per host action plus docker steps with backup paths; hostile=True puts HOSTILE values everywhere."""
    h = HOSTILE if hostile else ["x"]
    name = "db\u2019s \"vol\"" if hostile else "pgdata"
    vol_argv = ("run", "--rm", "--network", "none", "-v", f"{name}:/data:ro",
                "-v", Word((BackupPath("volumes"), ":/backup")), HELPER,
                "tar", "-c", "--numeric-owner", "-f", "/backup/v.tar", "-C", "/data", ".")

    def digest_argv(folder: str) -> tuple:
        return ("run", "--rm", "--network", "none", "-v", f"{name}:/data:ro", "-v", Word((BackupPath(folder), ":/out")),
                HELPER, "sh", "-c", f"{DIGEST_SCRIPT} > /out/v.digest")
    steps = [
        Step("preflight/check-host", "preflight", h[0] or "t", action="check-host", mutating=False, target="host",
             params={"backup_bytes": 10 ** 12, "manual": list(h), "min_windows_build": 19041}, findings=tuple(h)),
        Step("preflight/backup-folder", "preflight", "Create the backup folder", action="prepare-backup-folder",
             target="folder", depends_on=("preflight/check-host",),
             params={"folders": ["images", "volumes", "secrets/env", "settings", "verify"], "secret": "secrets"}),
        Step("freeze/stop/db", "freeze", "Stop db", engine="source", argv=("stop", "--time", "30", *h),
             target=h[-1] or "db", depends_on=("preflight/backup-folder",)),
        Step("backup/env/db", "backup", "Env of db", engine="source", action="write-env-file", target="db",
             params={"container": h[2] if hostile else "db", "path": "secrets/env/db.env", "names": list(h),
                     "skip": ["BAD NAME"]},
             produces=(Artifact("secrets/env/db.env", "env-file", "db", secret=True),)),
        Step("backup/save/images-01", "backup", "Save images", engine="source",
             argv=("save", "-o", BackupPath("images/images-01.tar"), "repo:1", IMAGE_ID), target="images",
             produces=(Artifact("images/images-01.tar", "image-archive", ", ".join(h), tar=True),)),
        Step("backup/volume/v", "backup", f"Copy volume {name}", engine="source", argv=vol_argv, target=name,
             produces=(Artifact("volumes/v.tar", "volume-archive", name, tar=True),)),
        Step("backup/digest/v", "backup", f"Digest volume {name}", engine="source", argv=digest_argv("volumes"),
             target=name, produces=(Artifact("volumes/v.digest", "volume-digest", name),)),
        Step("backup/inspect", "backup", "Read-only probe", engine="source", mutating=False,
             argv=("image", "inspect", "--format", "{{json .RepoTags}}", *h), target="probe"),
        Step("backup/verify", "backup", "Verify backups", action="verify-backups", mutating=False,
             depends_on=("backup/save/images-01", "backup/volume/v", "backup/env/db")),
        Step("switch/stop-desktop", "switch", "Stop Docker Desktop", action="stop-desktop",
             params={"timeout_seconds": 90, "shutdown_wsl": True}, depends_on=("backup/verify",)),
        Step("switch/backup-settings", "switch", "Back up settings", action="backup-file",
             params={"files": ["desktop-settings", "daemon-linux", "daemon-windows", "wslconfig"]},
             produces=(Artifact("settings/manifest.json", "settings-backup", "settings files"),)),
        Step("switch/feature/vmp", "switch", "Enable VMP", action="enable-feature",
             params={"name": "VirtualMachinePlatform"}),
        Step("switch/reboot", "switch", "Restart if needed", action="reboot"),
        Step("switch/settings", "switch", "WSL2 on", action="set-desktop-setting",
             params={"values": {"wslEngineEnabled": True, "nested": {"k": h}}, "linux_containers": True}),
        Step("switch/daemon-config", "switch", "Drop experimental", action="edit-daemon-config",
             params={"engine": "windows", "remove": ["experimental"]}),
        Step("switch/daemon-config-linux", "switch", "Fit daemon.json", action="edit-daemon-config",
             params={"engine": "linux", "remove": ["data-root", "graph", "storage-driver"],
                     "set": _daemon_set(hostile)}),
        Step("switch/wslconfig", "switch", ".wslconfig", action="write-wslconfig",
             params={"values": {"memory": "4GB", "processors": 2, "localhostForwarding": True}}),
        Step("switch/start-desktop", "switch", "Start Docker Desktop", action="start-desktop",
             params={"linux_containers": True}),
        Step("switch/wait-engine", "switch", "Wait", engine="target", action="wait-engine", mutating=False,
             params={"timeout_seconds": 600, "registry_mirrors": MIRRORS + ([v for v in h if v] if hostile else []),
                     "insecure_registries": INSECURE}),
        Step("restore/load/images-01", "restore", "Load", engine="target",
             argv=("load", "-i", BackupPath("images/images-01.tar")), consumes=("images/images-01.tar",)),
        Step("restore/volume-data/v", "restore", "Restore volume", engine="target",
             argv=("run", "--rm", "-v", f"{name}:/data", "-v", Word((BackupPath("volumes"), ":/backup:ro")), HELPER,
                   "tar", "-x", "-f", "/backup/v.tar", "-C", "/data"), consumes=("volumes/v.tar",)),
        Step("restore/create/db", "restore", "Create db", engine="target",
             argv=("create", "--name", "db", "--env-file", BackupPath("secrets/env/db.env"), "--label",
                   *(f"k={v}" for v in h), "repo:1", *h), consumes=("secrets/env/db.env",)),
        Step("restore/compose/p", "restore", "Compose", engine="target",
             workdir=("C:\\Users\\me\\" + h[1]) if hostile else "C:\\p",
             argv=("compose", "--project-directory", "C:\\p q\\", "up", "--no-start")),
        Step("restore/start/db", "restore", "Start db", engine="target", argv=("start", "db"), ok_exit_codes=(0, 1)),
        Step("verify/digest/v", "verify", f"Digest volume {name}", engine="target", argv=digest_argv("verify"),
             target=name, depends_on=("restore/volume-data/v",)),
        # A plan from before volume digests still names the helper; the runbook accepts it and ignores it.
        Step("verify/target", "verify", "Verify target", engine="target", action="verify-target", mutating=False,
             params={"helper": HELPER} if hostile else {}, depends_on=("verify/digest/v",)),
        Step("cleanup/finish", "cleanup", "Finish", action="finish"),
    ]
    if hostile:
        steps += [Step(f"verify/title/{i}", "verify", v, engine="target", argv=("version",), mutating=False,
                       target=v or "empty") for i, v in enumerate(HOSTILE)]
    return steps


def _meta(hostile: bool = False) -> RunbookMeta:
    name = "db\u2019s \"vol\"" if hostile else "pgdata"
    odd = HOSTILE[6] if hostile else "n"
    manifest = {
        "images": [{"id": IMAGE_ID, "tags": ["repo:1", f"r/{odd}:2" if hostile else "r:2"]}],
        "networks": [{"name": odd, "driver": "bridge", "subnets": ["172.30.0.0/16"]},
                     {"name": "auto", "driver": "overlay", "subnets": []}],
        "volumes": [{"name": name, "backup_digest": "volumes/v.digest", "target_digest": "verify/v.digest"}] + (
            [{"name": HOSTILE[4], "backup_digest": f"volumes/{ODD_PATH}.digest",
              "target_digest": f"verify/{ODD_PATH}.digest"}] if hostile else []),
        "containers": [{"name": HOSTILE[0] if hostile else "db", "image_id": IMAGE_ID, "running": True},
                       {"name": "idle", "image_id": IMAGE_ID, "running": False}],
    }
    backup = "D:\\it\u2019s \"x\" $(y) `z" if hostile else "D:\\wsl2-migrate"
    version = HOSTILE[2] if hostile else "0.1.0"
    return RunbookMeta(HASH, version, backup, "hyperv", manifest)


@pytest.fixture(scope="module")
def plain() -> str:
    return render_runbook(_all_steps(), _meta())


@pytest.fixture(scope="module")
def hostile() -> str:
    return render_runbook(_all_steps(True), _meta(True))


# ---------------------------------------------------------------------------------------------------------------
# AST helpers


def _root(script: str) -> Node:
    tree = parse_powershell(script)
    assert syntax_problems(tree) == []
    return tree.root_node


def _first(node: Node, kind: str) -> Node:
    return next(n for n in walk(node) if n.type == kind)


def _hash_entries(node: Node) -> dict[str, Node]:
    """key -> value node of a hash literal."""
    body = _first(node, "hash_literal_body")
    out = {}
    for entry in body.children:
        if entry.type == "hash_entry":
            equals = next(i for i, c in enumerate(entry.children) if c.type == "=")
            out[text(entry.children[0])] = entry.children[equals + 1]
    return out


def _array_items(node: Node) -> list[Node]:
    """The element nodes of the first @(...) under node."""
    array = _first(node, "array_expression")
    statements = [c for c in array.children if c.type == "statement_list"]
    if not statements:
        return []
    items = []
    for statement in statements[0].children:
        if statement.type == "comment":
            continue
        lit = _first(statement, "array_literal_expression")
        items += [c for c in lit.children if c.type == "unary_expression"]
    return items


def _value(node: Node) -> str:
    return _join(evaluate_node(node))


def _segments(node: Node) -> list[str | BackupPath]:
    out: list[str | BackupPath] = []
    for item in _array_items(node):
        if item.children[0].type == "hash_literal_expression":
            entries = _hash_entries(item)
            assert list(entries) == ["Backup"]
            out.append(BackupPath(_value(entries["Backup"])))
        else:
            out.append(_value(item))
    return out


def _command_line(node: Node, root: str = ROOT) -> str:
    return "".join(s if isinstance(s, str) else (root + "\\" + s.rel.replace("/", "\\") if s.rel else root)
                   for s in _segments(node))


def _step_tables(script: str) -> list[dict[str, Node]]:
    root = _root(script)
    assignment = next(n for n in walk(root) if n.type == "assignment_expression"
                      and text(n).startswith("$script:Steps = @("))
    return [_hash_entries(item) for item in _array_items(assignment)]


# ---------------------------------------------------------------------------------------------------------------
# grammar, encoding, lint


def test_parses_without_error_nodes(plain: str, hostile: str) -> None:
    assert syntax_problems(parse_powershell(plain)) == []
    assert syntax_problems(parse_powershell(hostile)) == []


def test_ascii_with_crlf_line_endings(plain: str, hostile: str) -> None:
    for script in (plain, hostile):
        assert all(ord(c) < 128 for c in script)
        assert "\n" not in script.replace("\r\n", "")
        assert "\r" not in script.replace("\r\n", "")
        assert script.endswith("\r\n")


def test_lint_is_clean(plain: str, hostile: str) -> None:
    assert lint(plain) == []
    assert lint(hostile) == []


def test_library_alone_parses_and_lints() -> None:
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


def test_lint_accepts_backticks_inside_strings() -> None:
    assert lint("$a = 'x`y'\nif ($null -eq $a) { $a = \"z\" }\n") == []


# ---------------------------------------------------------------------------------------------------------------
# header and parameters


def test_header_help_and_strictness(plain: str) -> None:
    lines = plain.split("\r\n")
    assert lines[0] == "#Requires -Version 5.1"
    help_end = lines.index("#>")
    help_text = "\n".join(lines[:help_end])
    for section in (".SYNOPSIS", ".DESCRIPTION", ".EXAMPLE"):
        assert f"\n{section}\n" in help_text
    assert f"Plan sha256: {HASH}" in help_text
    examples = re.findall(r"\.EXAMPLE\n    (.*)", help_text)
    assert any(e.endswith("-WhatIf") for e in examples)
    assert any(e.endswith("-Resume") for e in examples)
    assert any("-Phase " in e for e in examples)
    assert any("-Rollback" in e for e in examples)
    assert any("-ResumeFrom restore/" in e for e in examples)
    assert lines[help_end + 1] == "[CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'Medium')]"
    params = re.findall(r"\[(?:string|switch|int)\]\$(\w+)", "\n".join(lines[help_end:lines.index(")", help_end)]))
    assert params == ["BackupPath", "ResumeFrom", "Phase", "Resume", "Force", "Rollback", "SourceEngine",
                      "TargetEngine", "DockerPath", "EngineTimeoutSeconds"]
    documented = re.findall(r"^\.PARAMETER (\w+)$", help_text, re.M)
    assert documented == params
    for line in ("Set-StrictMode -Version 3.0", "$ErrorActionPreference = 'Stop'",
                 "$PSNativeCommandUseErrorActionPreference = $false", f"$script:StepTotal = {len(_all_steps())}"):
        assert line in lines
    assert "#Requires -RunAsAdministrator" not in plain


def test_param_defaults_and_validate_sets(hostile: str) -> None:
    root = _root(hostile)
    block = _first(root, "param_block")
    params = {}
    for param in (n for n in walk(block) if n.type == "script_parameter"):
        name = text(_first(param, "variable"))
        params[name] = param
    default = next(c for c in params["$BackupPath"].children if c.type == "script_parameter_default")
    assert _value(default.children[-1]) == _meta(True).backup_path
    for engine in ("$SourceEngine", "$TargetEngine"):
        default = next(c for c in params[engine].children if c.type == "script_parameter_default")
        assert _value(default.children[-1]) == "npipe:////./pipe/docker_engine"
    assert text(params["$EngineTimeoutSeconds"]).endswith("$EngineTimeoutSeconds = 300")

    def validate_set(param: Node) -> list[str]:
        attr = next(n for n in walk(param) if n.type == "attribute" and text(n).startswith("[ValidateSet("))
        return [_value(a) for a in walk(attr) if a.type == "string_literal"]

    assert validate_set(params["$ResumeFrom"]) == [s.id for s in _all_steps(True)]
    assert validate_set(params["$Phase"]) == list(PHASES)


# ---------------------------------------------------------------------------------------------------------------
# the step table: every plan value decodes back exactly


def test_hostile_values_round_trip(hostile: str) -> None:
    steps = _all_steps(True)
    tables = _step_tables(hostile)
    assert len(tables) == len(steps)
    for index, (step, table) in enumerate(zip(steps, tables, strict=True), 1):
        assert text(table["Index"]) == str(index)
        assert _value(table["Id"]) == step.id
        assert _value(table["Phase"]) == step.phase
        assert _value(table["Title"]) == step.title
        assert _value(table["Target"]) == (step.target or step.id)
        assert _value(table["WorkDir"]) == step.workdir
        assert _value(table["Action"]) == step.action
        assert json.loads(_value(table["Params"])) == step.params
        assert [_value(i) for i in _array_items(table["Findings"])] == list(step.findings)
        assert [_value(i) for i in _array_items(table["DependsOn"])] == list(step.depends_on)
        assert [_value(i) for i in _array_items(table["Consumes"])] == list(step.consumes)
        produced = [_hash_entries(i) for i in _array_items(table["Produces"])]
        assert [(_value(p["Path"]), _value(p["Subject"]), text(p["Secret"])) for p in produced] == \
            [(a.path, a.subject, "$true" if a.secret else "$false") for a in step.produces]
    for value in HOSTILE:
        assert any(_value(t["Title"]) == value for t in tables)


def test_docker_command_lines_split_back_to_argv(hostile: str, plain: str) -> None:
    for script, steps in ((hostile, _all_steps(True)), (plain, _all_steps())):
        for step, table in zip(steps, _step_tables(script), strict=True):
            if not step.argv:
                assert _array_items(table["CommandLine"]) == []
                continue
            line = _command_line(table["CommandLine"])
            expected = [_join(resolve_arg(a, ROOT, "\\")) for a in step.argv]
            assert split_command_line_go(line) == expected, step.id
            assert split_command_line_msvcrt(line) == expected, step.id
            assert text(table["OkExitCodes"]) == "@(" + ", ".join(map(str, step.ok_exit_codes)) + ")"


def test_host_action_command_lines(hostile: str) -> None:
    by_id = {_value(t["Id"]): t for t in _step_tables(hostile)}
    commands = _hash_entries(by_id["backup/env/db"]["Commands"])
    assert split_command_line_go(_command_line(commands["Inspect"])) == \
        ["container", "inspect", "--format", "{{json .Config.Env}}", HOSTILE[2]]
    probe = _hash_entries(by_id["switch/wait-engine"]["Commands"])["Probe"]
    assert split_command_line_go(_command_line(probe)) == \
        ["version", "--format", "{{.Server.Os}}/{{.Server.KernelVersion}}"]
    assert _value(by_id["preflight/check-host"]["Engine"]) == "source"
    assert _value(by_id["backup/env/db"]["Engine"]) == "source"


def test_verify_target_manifest_and_commands(hostile: str) -> None:
    meta = _meta(True)
    table = {_value(t["Id"]): t for t in _step_tables(hostile)}["verify/target"]
    manifest = _hash_entries(table["Manifest"])
    images = [_hash_entries(i) for i in _array_items(manifest["Images"])]
    assert [(_value(i["Id"]), [_value(t) for t in _array_items(i["Tags"])]) for i in images] == \
        [(IMAGE_ID, sorted(meta.manifest["images"][0]["tags"]))]
    networks = [_hash_entries(i) for i in _array_items(manifest["Networks"])]
    assert sorted(_value(n["Name"]) for n in networks) == sorted(n["name"] for n in meta.manifest["networks"])
    for net in networks:
        argv = split_command_line_go(_command_line(net["Inspect"]))
        assert argv[:3] == ["network", "inspect", "--format"] and argv[4] == _value(net["Name"])
    containers = [_hash_entries(i) for i in _array_items(manifest["Containers"])]
    assert {(_value(c["Name"]), _value(c["ImageId"]), text(c["Running"])) for c in containers} == \
        {(HOSTILE[0], IMAGE_ID, "$true"), ("idle", IMAGE_ID, "$false")}
    volumes = [_hash_entries(i) for i in _array_items(manifest["Volumes"])]
    assert all(list(v) == ["Name", "BackupDigest", "TargetDigest"] for v in volumes)
    assert [(_value(v["Name"]), _value(v["BackupDigest"]), _value(v["TargetDigest"])) for v in volumes] == [
        (HOSTILE[4], f"volumes/{ODD_PATH}.digest", f"verify/{ODD_PATH}.digest"),
        ("db\u2019s \"vol\"", "volumes/v.digest", "verify/v.digest"),
    ]  # sorted by name: '`' (0x60) before 'd'


def _comparisons(node: Node, operator: str) -> list[tuple[str, str]]:
    """(left, right) source texts of every `left <operator> right` under node."""
    out = []
    for n in walk(node):
        if n.type == "comparison_expression" and len(n.children) == 3 and text(n.children[1]) == operator:
            out.append((text(n.children[0]), text(n.children[2])))
    return out


def test_verify_target_compares_the_two_digest_files_of_each_volume(plain: str) -> None:
    root = _root(plain)
    function = functions(root)["test-targetengine"]
    loop = next(n for n in walk(function) if n.type == "foreach_statement"
                and text(next(c for c in n.children if c.type == "pipeline")) == "$manifest.Volumes")
    variable = text(next(c for c in loop.children if c.type == "variable"))
    read: dict[str, str] = {}
    for assignment in (n for n in walk(loop) if n.type == "assignment_expression"):
        command = next((n for n in walk(assignment) if n.type == "command"), None)
        if command is not None and text(command.children[0]) == "Read-VolumeDigest":
            read[text(command.children[1]).strip()] = text(assignment.children[0])
    backup, target = read.pop(f"-Relative {variable}.BackupDigest"), read.pop(f"-Relative {variable}.TargetDigest")
    assert read == {} and backup != target
    # The verdict is the case-sensitive comparison of the two tokens, and a difference is a problem of the step.
    (pair,) = _comparisons(loop, "-cne")
    assert set(pair) == {backup, target}
    verdict = next(n for n in walk(loop) if n.type == "if_statement" and "-cne" in text(n.children[2]))
    assert "$problems.Add(" in text(next(c for c in verdict.children if c.type == "statement_block"))
    # Every entry field the loop reads is one the generator writes; nothing is archived or run any more.
    used = {text(n.children[2]) for n in walk(loop) if n.type == "member_access" and text(n.children[0]) == variable}
    table = {_value(t["Id"]): t for t in _step_tables(plain)}["verify/target"]
    (entry,) = [_hash_entries(i) for i in _array_items(_hash_entries(table["Manifest"])["Volumes"])]
    assert used == set(entry) == {"Name", "BackupDigest", "TargetDigest"}
    commands = {text(n).lower() for n in walk(function) if n.type == "command_name"}
    assert not commands & {"measure-tararchive", "invoke-nativeprocess"}
    assert "ShouldProcess" not in text(function)


def _digest_rule(script: str) -> tuple[str, str]:
    """The split and well-formedness patterns of Read-VolumeDigest (and that it trims before splitting)."""
    function = functions(_root(script))["read-volumedigest"]
    ((source, split),) = _comparisons(function, "-split")
    assert source.endswith(".Trim()")
    ((_, match),) = _comparisons(function, "-cnotmatch")  # -notmatch would let upper-case hex through
    return _value(_first(_first(_root(split), "string_literal"), "string_literal")), \
        _value(_first(_root(match), "string_literal"))


def _token(content: str, rule: tuple[str, str]) -> str | None:
    """What Read-VolumeDigest returns for a file holding content (None: it throws)."""
    split, match = rule
    token = re.split(split, content.strip())[0]
    return token if re.search(match, token) else None


def _run_digest_script(folder: Path, out: Path) -> str:
    subprocess.run(["sh", "-c", digest_script(), "sh", str(folder), str(out)], check=True, timeout=60)
    return out.read_bytes().decode("ascii")


def test_digest_token_rule_reads_what_the_digest_script_writes(plain: str, tmp_path: Path) -> None:
    rule = _digest_rule(plain)
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "sub" / "f").write_bytes(b"one\n")
    written = _run_digest_script(data, tmp_path / "a.digest")
    assert re.fullmatch(r"sha256:[0-9a-f]{64} 3\n", written)  # as sh wrote it: digest, entries, LF
    token = _token(written, rule)
    assert token == written.split(" ")[0]
    for same in (written.replace("\n", "\r\n"), written + "  \r\n\r\n", written.replace(" ", "\t"),
                 written.rstrip("\n"), token + " 99\n"):
        assert _token(same, rule) == token, repr(same)
    (data / "sub" / "f").write_bytes(b"two\n")
    other = _token(_run_digest_script(data, tmp_path / "b.digest"), rule)
    assert other is not None and other != token
    for bad in ("", "\n", token.upper(), token[:-1], token + "0", token.replace("sha256:", "sha512:"),
                token.replace("sha256:", ""), "3 " + token, "sha256: " + token[7:]):
        assert _token(bad, rule) is None, repr(bad)


# ---------------------------------------------------------------------------------------------------------------
# ShouldProcess, native calls, host actions


def _guarded(call: Node) -> bool:
    """True when call is in the then-block of `if (..ShouldProcess..)` or after `if (-not ..ShouldProcess) {return}`."""
    node = call
    while node.parent is not None and node.type != "function_statement":
        parent = node.parent
        if node.type == "statement_block" and parent.type in ("if_statement", "elseif_clause"):
            condition = next(c for c in parent.children if c.type == "pipeline")
            cond = text(condition)
            if "$PSCmdlet.ShouldProcess(" in cond and not cond.startswith("-not"):
                return True
        if parent.type == "statement_list":
            for sibling in parent.children:
                if sibling.start_byte >= node.start_byte:
                    break
                head = text(sibling)
                if sibling.type == "if_statement" and head.startswith("if (-not $PSCmdlet.ShouldProcess(") and \
                        re.search(r"\b(return|continue)\b", head):
                    return True
        node = parent
    return False


READ_ONLY_CALLS = {
    ("Test-MigrationHost", "$Step.Commands['Probe']"),
    ("Export-ContainerEnvironment", "$Step.Commands['Inspect']"),
    ("Wait-DockerEngine", "$Step.Commands['Probe']"),
    ("Test-EngineRegistryConfig", "$Step.Commands['Registry']"),
    ("Test-TargetEngine", "$Step.Commands['ImageList']"),
    ("Test-TargetEngine", "$network.Inspect"),
    ("Test-TargetEngine", "$container.Inspect"),
    ("Invoke-DockerStep", "@splatDocker"),
    ("Invoke-DockerCommand", "@splatProcess"),
}
"""Native calls that may run under -WhatIf: probes that change nothing, and the helper itself."""


def test_every_native_call_is_guarded_or_a_known_probe(plain: str) -> None:
    root = _root(plain)
    unguarded = set()
    for node in walk(root):
        if node.type == "command_name" and text(node) in ("Invoke-NativeProcess", "Invoke-DockerCommand"):
            call = node.parent
            if not _guarded(call):
                args = text(call)
                key = next((k for f, k in READ_ONLY_CALLS if k in args and f == enclosing_function(call)), args)
                unguarded.add((enclosing_function(call), key))
    assert unguarded == READ_ONLY_CALLS


def test_mutating_docker_steps_run_only_under_should_process(plain: str) -> None:
    root = _root(plain)
    body = functions(root)["invoke-dockerstep"]
    calls = [n.parent for n in walk(body) if n.type == "command_name" and text(n) == "Invoke-DockerCommand"]
    assert len(calls) == 2
    mutating_if = next(n for n in walk(body) if n.type == "if_statement" and text(n).startswith("if ($Step.Mutating)"))
    then_block = next(c for c in mutating_if.children if c.type == "statement_block")
    inside = [c for c in calls if then_block.start_byte <= c.start_byte < then_block.end_byte]
    assert len(inside) == 1 and _guarded(inside[0])
    else_clause = next(c for c in mutating_if.children if c.type == "else_clause")
    assert any(else_clause.start_byte <= c.start_byte < else_clause.end_byte for c in calls)
    for step, table in zip(_all_steps(), _step_tables(plain), strict=True):
        assert text(table["Mutating"]) == ("$true" if step.mutating else "$false")


def test_every_host_action_dispatches_to_a_function(plain: str) -> None:
    root = _root(plain)
    known = functions(root)
    dispatcher = known["invoke-hostaction"]
    clauses = {}
    for clause in (n for n in walk(dispatcher) if n.type == "switch_clause"):
        condition = _first(clause, "switch_clause_condition")
        if condition.children and condition.children[0].type == "string_literal":
            called = _first(clause, "command_name")
            clauses[_value(condition.children[0])] = text(called)
    assert set(clauses) == set(HOST_ACTIONS)
    for action, function in clauses.items():
        assert function.lower() in known, action
        assert "param(" in text(known[function.lower()])


def test_only_one_place_starts_processes(plain: str) -> None:
    assert plain.count("New-Object -TypeName System.Diagnostics.ProcessStartInfo") == 1
    root = _root(plain)
    starts = [n.parent for n in walk(root) if n.type == "command_name" and text(n).lower() == "start-process"]
    assert [enclosing_function(s) for s in starts] == ["Start-DockerDesktop"]
    assert all("-ArgumentList" not in text(s) for s in starts)
    assert "docker.exe" not in plain.lower().replace("docker.exe)", "")
    assert "Invoke-Expression" not in plain and "Write-Host" not in plain


def test_secrets_folder_is_locked_before_env_files(plain: str) -> None:
    root = _root(plain)
    init = text(functions(root)["initialize-backupfolder"])
    assert "/inheritance:r /grant:r *' + $userSid + ':(OI)(CI)F *S-1-5-18:(OI)(CI)F'" in init
    assert init.index("CreateDirectory($secrets)") < init.index("icacls.exe") < init.index("AreAccessRulesProtected")
    export = text(functions(root)["export-containerenvironment"])
    assert "Write-RunbookLog" not in export  # the values never reach the log
    secret = [t for t in _step_tables(plain) if _value(t["Id"]) == "backup/env/db"][0]
    assert text(_hash_entries(_array_items(secret["Produces"])[0])["Secret"]) == "$true"


def test_settings_edit_follows_the_section_7_procedure(plain: str) -> None:
    update = text(functions(_root(plain))["update-jsonfile"])
    order = ["Assert-DesktopStopped", "ReadAllBytes", "Get-BytesSha256", "$PSCmdlet.ShouldProcess", "Save-FileSnapshot",
             "ConvertTo-Json -InputObject $edited -Depth 100", "Write-Utf8FileAtomic", "Get-JsonEditProblem",
             "Write-BytesFileAtomic -Path $Path -Bytes $originalBytes"]
    positions = [update.index(p) for p in order]
    assert positions == sorted(positions)


# ---------------------------------------------------------------------------------------------------------------
# determinism and refusals


def test_same_input_same_bytes() -> None:
    assert render_runbook(_all_steps(True), _meta(True)) == render_runbook(_all_steps(True), _meta(True))
    changed = render_runbook(_all_steps(), dataclasses.replace(_meta(), plan_hash="f" * 64))
    assert changed != render_runbook(_all_steps(), _meta())


@pytest.mark.parametrize("mutate, message", [
    (lambda s: s + [s[0]], "duplicate"),
    (lambda s: [dataclasses.replace(s[0], id="Bad Id")] + s[1:], "step id"),
    (lambda s: [dataclasses.replace(s[0], params={"nope": 1})] + s[1:], "no parameter"),
    (lambda s: [dataclasses.replace(s[0], params={"backup_bytes": "1"})] + s[1:], "must be int"),
    (lambda s: [dataclasses.replace(x, action="finish", mutating=True) if x.action == "verify-backups" else x
                for x in s], "verify-backups"),
    (lambda s: [dataclasses.replace(x, produces=(Artifact("env/x.env", "env-file", "x", secret=True),))
                if x.id == "backup/env/db" else x for x in s], "secrets/"),
    (lambda s: [dataclasses.replace(x, params={"values": {"a": 1, "A": 2}}) if x.action == "set-desktop-setting"
                else x for x in s], "case"),
    (lambda s: [dataclasses.replace(x, params={"files": ["registry"]}) if x.action == "backup-file" else x
                for x in s], "settings file set"),
    (lambda s: [dataclasses.replace(x, consumes=("../x",)) if x.id == "restore/load/images-01" else x
                for x in s], "backup-folder path"),
    (lambda s: [], "at least one"),
    (lambda s: [dataclasses.replace(x, params={"secret": "keys"}) if x.action == "prepare-backup-folder" else x
                for x in s], "secrets folder"),
    (lambda s: [dataclasses.replace(x, params={"values": {"memory": "4GB\n[x]"}}) if x.action == "write-wslconfig"
                else x for x in s], "wslconfig"),
    (lambda s: [dataclasses.replace(x, params={"values": {}}) if x.id == "backup/inspect" else x for x in s],
     "takes no params"),
])
def test_refuses_bad_steps(mutate, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render_runbook(mutate(_all_steps()), _meta())


def test_refuses_bad_meta() -> None:
    with pytest.raises(ValueError, match="plan hash"):
        render_runbook(_all_steps(), dataclasses.replace(_meta(), plan_hash="x"))
    with pytest.raises(ValueError, match="manifest"):
        render_runbook(_all_steps(), dataclasses.replace(_meta(), manifest={"images": [{"id": 1}]}))


@pytest.mark.parametrize("volume, message", [
    ({"name": "w", "archive": "volumes/w.tar"}, "needs name, backup_digest, target_digest"),
    ({"name": "w", "backup_digest": "volumes/w.digest"}, "needs name, backup_digest, target_digest"),
    ({"name": "w", "backup_digest": "volumes/w.digest", "target_digest": 1}, "needs"),
    ({"name": "w", "backup_digest": "../w.digest", "target_digest": "verify/w.digest"}, "backup-folder path"),
    ({"name": "w", "backup_digest": "volumes/w.digest", "target_digest": "verify\\w.digest"}, "backup-folder path"),
    ({"name": "w", "backup_digest": "volumes/w.digest", "target_digest": "/verify/w.digest"}, "backup-folder path"),
    ({"name": "w", "backup_digest": "volumes/w.digest", "target_digest": "C:/w.digest"}, "backup-folder path"),
    ({"name": "w", "backup_digest": "volumes/w.digest", "target_digest": ""}, "backup-folder path"),
    ({"name": "w", "backup_digest": "volumes/w.digest", "target_digest": "volumes/w.digest"}, "named twice"),
    ({"name": "w", "backup_digest": "volumes/w.digest", "target_digest": "verify/v.digest"}, "named twice"),
    ({"name": "w", "backup_digest": "volumes/w.digest", "target_digest": "Volumes/W.digest"}, "named twice"),
])
def test_refuses_bad_volume_entries(volume: dict, message: str) -> None:
    meta = _meta()
    manifest = dict(meta.manifest, volumes=[*meta.manifest["volumes"], volume])
    with pytest.raises(ValueError, match=message):
        render_runbook(_all_steps(), dataclasses.replace(meta, manifest=manifest))


def test_verify_target_helper_is_optional_but_typed() -> None:
    with_helper = [dataclasses.replace(s, params={"helper": HELPER}) if s.action == "verify-target" else s
                   for s in _all_steps()]
    tables = {_value(t["Id"]): t for t in _step_tables(render_runbook(with_helper, _meta()))}
    assert json.loads(_value(tables["verify/target"]["Params"])) == {"helper": HELPER}
    bad = [dataclasses.replace(s, params={"helper": 1}) if s.action == "verify-target" else s for s in _all_steps()]
    with pytest.raises(ValueError, match="helper must be str"):
        render_runbook(bad, _meta())


# ---------------------------------------------------------------------------------------------------------------
# edit-daemon-config set, wait-engine registry checks

REAL_INFO = Path(__file__).parent / "data" / "info" / "dd-wsl2-28.3.2-6.6.87.2.json"
"""docker info of a Docker Desktop WSL 2 engine (captured): RegistryConfig as the registry check reads it."""


def _with(steps: list[Step], action: str, params: dict) -> list[Step]:
    """steps with the params of the first step of that action replaced."""
    out, done = [], False
    for step in steps:
        if step.action == action and not done:
            step = dataclasses.replace(step, params=params)
            done = True
        out.append(step)
    return out


@pytest.mark.parametrize("action, params", [
    ("edit-daemon-config", {"engine": "linux", "remove": ["data-root", "graph", "storage-driver"],
                            "set": {"registry-mirrors": ["https://m.example"],
                                    "insecure-registries": ["reg.local:5000"]}}),
    ("edit-daemon-config", {"engine": "linux", "set": {"registry-mirrors": []}}),
    ("edit-daemon-config", {"engine": "linux", "set": {"debug": False, "max-concurrent-downloads": 3,
                                                       "shutdown-timeout": 1.5, "log-level": "it's"}}),
    ("edit-daemon-config", {"remove": ["experimental"]}),
    ("edit-daemon-config", {"engine": "linux", "remove": [], "set": {"a": "b"}}),
    ("wait-engine", {"registry_mirrors": ["https://m.example"]}),
    ("wait-engine", {"insecure_registries": ["reg.local:5000", "10.0.0.0/8"], "registry_mirrors": []}),
    ("wait-engine", {}),
])
def test_accepts_daemon_set_and_registry_params(action: str, params: dict) -> None:
    script = render_runbook(_with(_all_steps(), action, params), _meta())
    by_id = {_value(t["Id"]): t for t in _step_tables(script)}
    step = next(s for s in _with(_all_steps(), action, params) if s.action == action)
    assert json.loads(_value(by_id[step.id]["Params"])) == params
    assert lint(script) == []


@pytest.mark.parametrize("action, params, message", [
    ("edit-daemon-config", {"engine": "linux"}, "keys to remove or to set"),
    ("edit-daemon-config", {"engine": "linux", "remove": [], "set": {}}, "keys to remove or to set"),
    ("edit-daemon-config", {"engine": "windows", "set": {"registry-mirrors": ["https://m"]}}, "only for engine linux"),
    ("edit-daemon-config", {"set": {"debug": True}}, "only for engine linux"),
    ("edit-daemon-config", {"engine": "linux", "remove": ["Debug"], "set": {"debug": True}}, "both removed and set"),
    ("edit-daemon-config", {"engine": "linux", "set": {"log-opts": {"max-size": "10m"}}}, "string, number"),
    ("edit-daemon-config", {"engine": "linux", "set": {"dns": ["1.1.1.1", 53]}}, "string, number"),
    ("edit-daemon-config", {"engine": "linux", "set": {"x": None}}, "string, number"),
    ("edit-daemon-config", {"engine": "linux", "set": {"x": float("nan")}}, "string, number"),
    ("edit-daemon-config", {"engine": "linux", "set": {"x": 2 ** 60}}, "string, number"),
    ("edit-daemon-config", {"engine": "linux", "set": {"a": 1, "A": 2}}, "case"),
    ("edit-daemon-config", {"engine": "linux", "set": {"": 1}}, "empty key"),
    ("edit-daemon-config", {"engine": "linux", "set": ["registry-mirrors"]}, "set must be dict"),
    ("edit-daemon-config", {"remove": ["data-root", 1]}, "non-empty strings"),
    ("edit-daemon-config", {"remove": "data-root"}, "remove must be list"),
    ("edit-daemon-config", {"engine": "wsl", "remove": ["x"]}, "windows or linux"),
    ("edit-daemon-config", {"remove": ["x"], "merge": {}}, "no parameter 'merge'"),
    ("wait-engine", {"registry_mirrors": "https://m.example"}, "registry_mirrors must be list"),
    ("wait-engine", {"registry_mirrors": ["https://m.example", ""]}, "non-empty strings"),
    ("wait-engine", {"insecure_registries": [["reg.local:5000"]]}, "non-empty strings"),
    ("wait-engine", {"insecure_registries": {"reg.local:5000": True}}, "insecure_registries must be list"),
])
def test_refuses_bad_daemon_set_and_registry_params(action: str, params: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render_runbook(_with(_all_steps(), action, params), _meta())


def test_hostile_daemon_set_values_round_trip(hostile: str) -> None:
    table = {_value(t["Id"]): t for t in _step_tables(hostile)}["switch/daemon-config-linux"]
    params = json.loads(_value(table["Params"]))
    assert params["set"] == _daemon_set(True)
    assert params["set"]["registry-mirrors"] == HOSTILE
    assert {k: v for k, v in params["set"].items() if k in HOSTILE or k == "empty"} == \
        {(v or "empty"): v for v in HOSTILE}
    assert params["remove"] == ["data-root", "graph", "storage-driver"] and params["engine"] == "linux"


def test_wait_engine_registry_probe_command_line(hostile: str, plain: str) -> None:
    for script in (hostile, plain):
        table = {_value(t["Id"]): t for t in _step_tables(script)}["switch/wait-engine"]
        commands = _hash_entries(table["Commands"])
        assert split_command_line_go(_command_line(commands["Registry"])) == \
            ["info", "--format", "{{json .RegistryConfig}}"]
        assert split_command_line_msvcrt(_command_line(commands["Registry"])) == \
            ["info", "--format", "{{json .RegistryConfig}}"]
    bare = render_runbook(_with(_all_steps(), "wait-engine", {"registry_mirrors": []}), _meta())
    commands = _hash_entries({_value(t["Id"]): t for t in _step_tables(bare)}["switch/wait-engine"]["Commands"])
    assert list(commands) == ["Probe"]


def test_registry_check_reads_fields_that_docker_info_has(plain: str) -> None:
    """Every RegistryConfig field the check reads is in a real docker info, at the level it is read from."""
    function = functions(_root(plain))["find-missingregistryentry"]
    names = set()
    for node in walk(function):
        if node.type == "command" and text(node.children[0]) in ("Get-JsonProperty", "Find-JsonProperty"):
            args = text(node)
            match = re.search(r"-Name '([^']+)'", args)
            if match:
                names.add((re.search(r"-Object (\$\w+(?:\.\w+)?)", args).group(1), match.group(1)))
    assert names == {("$Config", "Mirrors"), ("$Config", "InsecureRegistryCIDRs"), ("$Config", "IndexConfigs"),
                     ("$index.Value", "Secure")}
    info = json.loads(REAL_INFO.read_text(encoding="utf-8"))
    config = info["RegistryConfig"]
    assert {"Mirrors", "InsecureRegistryCIDRs", "IndexConfigs"} <= set(config)
    assert config["Mirrors"] is None  # a real engine with no mirrors says null: the check must not count on a list
    assert [v["Secure"] for k, v in sorted(config["IndexConfigs"].items())] == [True, False]
    # The probe template names the top-level field of that payload.
    assert "RegistryConfig" in info


def test_registry_check_uses_the_probe_helper_and_names_what_is_missing(plain: str) -> None:
    root = _root(plain)
    known = functions(root)
    check = known["test-engineregistryconfig"]
    calls = [n.parent for n in walk(check) if n.type == "command_name"]
    native = [c for c in calls if text(c.children[0]) in ("Invoke-DockerCommand", "Invoke-NativeProcess",
                                                          "Start-Process", "docker", "docker.exe")]
    assert [text(c.children[0]) for c in native] == ["Invoke-DockerCommand"]
    assert "-Segments $Step.Commands['Registry']" in text(native[0])
    assert "ShouldProcess" not in text(check) and "-NoThrow" not in text(native[0])
    # Under -WhatIf the check is reported, not run: the DryRun branch returns before the probe.
    dry = next(n for n in walk(check) if n.type == "if_statement" and text(n).startswith("if ($script:DryRun)"))
    assert dry.end_byte < native[0].start_byte
    assert "would check" in text(dry) and re.search(r"\breturn\b", text(dry))
    # The failure names every missing entry that Find-MissingRegistryEntry returns.
    fail = next(n for n in walk(check) if n.type == "if_statement" and "$missing.Count -gt 0" in text(n))
    assert "($missing -join ', ')" in text(fail) and "throw" in text(fail)
    find = text(known["find-missingregistryentry"])
    assert "$missing.Add('mirror ' + $mirror)" in find and "$missing.Add('insecure registry ' + $registry)" in find
    # Wait-DockerEngine runs it only once the engine answers with the expected OS and kernel.
    wait = known["wait-dockerengine"]
    (call,) = [n.parent for n in walk(wait) if n.type == "command_name" and text(n) == "Test-EngineRegistryConfig"]
    ready = next(n for n in walk(wait) if n.type == "if_statement" and text(n).startswith("if ($os -eq $osType"))
    assert ready.start_byte < call.start_byte < ready.end_byte


def test_registry_check_rules_in_the_library(plain: str) -> None:
    """Trailing '/' of mirrors, the scheme of insecure registries, CIDRs compared as networks, Secure false."""
    find = text(functions(_root(plain))["find-missingregistryentry"])
    assert find.count("-replace '/$', ''") == 2  # both sides, one trailing '/' only
    assert "$name = $registry -replace '^https?://', ''" in find
    assert "($secure -is [bool]) -and -not $secure" in find
    cidr = text(functions(_root(plain))["convertto-cidrkey"])
    assert "GetAddressBytes()" in cidr and "(255 -shl (8 - $keep)) -band 255" in cidr


def _foreach(function: Node, pipeline: str) -> Node:
    return next(n for n in walk(function) if n.type == "foreach_statement"
                and text(next(c for c in n.children if c.type == "pipeline")) == pipeline)


def test_daemon_set_path_rereads_and_compares(plain: str) -> None:
    known = functions(_root(plain))
    edit = known["edit-daemonconfig"]
    splat = next(n for n in walk(edit) if n.type == "assignment_expression" and text(n).startswith("$splatEdit = @{"))
    entries = {k: text(v) for k, v in _hash_entries(splat).items()}
    assert entries["Set"] == "$set" and entries["Remove"] == "$remove" and entries["ExactKeys"] == "$true"
    assert entries["CreateMissing"] == "(-not $exists)"
    assert "Update-JsonFile @splatEdit" in text(edit)
    reads = [text(n) for n in walk(edit) if n.type == "command" and text(n.children[0]) == "Get-StepParameter"]
    assert any("-Name 'set'" in r for r in reads) and any("-Name 'remove' -Default @()" in r for r in reads)
    update = known["update-jsonfile"]
    body = text(update)
    write = body.index("Write-Utf8FileAtomic -Path $Path -Text $text")
    reread = body.index("$written = ConvertFrom-Json -InputObject (Read-TextFile -Path $Path)")
    compare = body.index("Get-JsonEditProblem -Original $original -Written $written -Set $Set -Remove $Remove"
                         " -ExactKeys:$ExactKeys")
    rollback = next(n for n in walk(update) if n.type == "if_statement"
                    and text(n).startswith("if ($problem.Length -gt 0)"))
    assert write < reread < compare < rollback.start_byte - update.start_byte
    assert "Write-BytesFileAtomic -Path $Path -Bytes $originalBytes" in text(rollback)
    assert text(rollback).count("throw") >= 2  # every path out of a failed comparison throws
    problem = known["get-jsoneditproblem"]
    for pipeline in ("$Set.PSObject.Properties", "$Original.PSObject.Properties"):
        loop = _foreach(problem, pipeline)
        assert "Test-JsonValueEqual -Left" in text(loop), pipeline
    assert "-Exact:$ExactKeys" in text(_foreach(problem, "$Set.PSObject.Properties"))
    snapshot = text(known["save-filesnapshot"])
    assert snapshot.index("WriteAllBytes") < snapshot.index("Get-BytesSha256") < snapshot.index("Get-FileHash")
    assert "if ($copySha -ne $sha)" in snapshot


def test_rollback_moves_a_created_linux_daemon_json_aside(plain: str) -> None:
    undo = text(functions(_root(plain))["undo-migration"])
    assert "@('wslconfig', 'daemon-linux') -contains [string]$file.set" in undo
    # and the backup-file step backs up the Linux daemon.json, so a file that was absent is recorded as absent
    steps = _all_steps()
    assert "daemon-linux" in next(s for s in steps if s.action == "backup-file").params["files"]
