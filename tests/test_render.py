"""Tests for migrate.render: every format, determinism, SARIF schema validity, escaping and secrets."""
from __future__ import annotations

import dataclasses
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from migrate.errors import InputError, InternalError
from migrate.model import (
    Attachment,
    Backend,
    Container,
    Engine,
    Estimate,
    Finding,
    HostFacts,
    Image,
    Inventory,
    IpamConfig,
    Mount,
    Network,
    Note,
    Report,
    Volume,
)
from migrate.render import Format, render
from migrate.render._common import human_bytes, human_duration
from migrate.secrets import redact
from migrate.render.markdown import fix_blocks
from migrate.render.mdinventory import code, prose
from migrate.render.sarif import artifact_uri, sarif_level

ROOT = Path(__file__).resolve().parent.parent
SARIF_SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif-2.1.0.json").read_text(encoding="utf-8"))

HOSTILE = "web|`rm -rf /`<script>alert(1)</script>_[x]*"
LABEL_SECRET = "Sup3rS3cretLabelValue"
ENV_SECRET = "Sup3rS3cretEnvValue"
PROXY_SECRET = "Pr0xyPa55"
ENGINE_LABEL_SECRET = "AKIAEXAMPLEKEY123"
BLIND_SPOT_SECRET = "BlindSp0tPass"
ALWAYS_HIDDEN = (LABEL_SECRET, ENV_SECRET)
HIDDEN_UNLESS_SHOWN = (PROXY_SECRET, ENGINE_LABEL_SECRET, BLIND_SPOT_SECRET)

EVIDENCE = {
    "os_type": "linux",
    "operating_system": "Docker Desktop",
    "kernel_version": "5.10.47-linuxkit",
    "server_version": "20.10.8",
    "storage_driver": "overlay2",
    "experimental": False,
    "platform_name": "Docker Desktop 4.1.1 (69879)",
    "labels": [f"com.example.api_key={ENGINE_LABEL_SECRET}", "com.example.team=shop"],
    "settings": {
        "file": "C:\\Users\\alice\\AppData\\Roaming\\Docker\\settings.json",
        "wslEngineEnabled": False,
        "proxyHttp": f"http://alice:{PROXY_SECRET}@proxy.corp.example:3128",
    },
}

FIX_WITH_COMMAND = """Commit the container to an image before the switch, then re-create it from that image:

    docker commit "web" backup/web:pre-wsl2
    docker save -o D:\\backup\\web.tar backup/web:pre-wsl2

The plan does this for you when the strategy is commit."""


def _inventory(evidence: dict[str, object] | None = None, reverse: bool = False) -> Inventory:
    """A Hyper-V era workstation with a hostile container name and secrets in env and labels."""
    images = (
        Image(id="sha256:" + "a1" * 32, tags=("nginx:1.25",), repo_digests=("nginx@sha256:" + "b2" * 32,),
              os="linux", architecture="amd64", size=187_000_000, containers=(HOSTILE,)),
        Image(id="sha256:" + "c3" * 32, tags=("shop/api:dev",), os="linux", architecture="arm64",
              variant="v8", size=412_500_000, containers=("db",)),
        Image(id="sha256:" + "d4" * 32, os="linux", architecture="amd64", size=55_000_000, dangling=True),
    )
    containers = (
        Container(id="f" * 64, name=HOSTILE, image="nginx:1.25", state="running", running=True,
                  env=(f"DB_PASSWORD={ENV_SECRET}", "PATH=/usr/local/sbin:/usr/bin"),
                  labels={"DB_PASSWORD": LABEL_SECRET, "com.docker.compose.project": "shop"},
                  mounts=(Mount(type="bind", source="/run/desktop/mnt/host/c/Users/alice/site",
                                destination="/usr/share/nginx/html"),),
                  networks=(Attachment(network="shop_default"),)),
        Container(id="e" * 64, name="db", image="postgres:16", state="exited",
                  mounts=(Mount(type="volume", source="/var/lib/docker/volumes/pgdata/_data",
                                destination="/var/lib/postgresql/data", name="pgdata"),),
                  network_mode="bridge"),
    )
    volumes = (
        Volume(name="pgdata", size=1_234_567_890, users=("db",)),
        Volume(name="9" * 64, size=None, anonymous=True),
    )
    networks = (
        Network(name="bridge", driver="bridge", builtin=True, ipam=(IpamConfig(subnet="172.17.0.0/16"),)),
        Network(name="shop_default", driver="bridge", ipam=(IpamConfig(subnet="172.18.0.0/16"),),
                containers=(HOSTILE,)),
    )
    if reverse:
        images, containers, volumes, networks = images[::-1], containers[::-1], volumes[::-1], networks[::-1]
    return Inventory(
        tool_version="0.1.0",
        backend=Backend(kind="hyperv", evidence=dict(EVIDENCE if evidence is None else evidence),
                        reasons=("kernel_version ends in -linuxkit",
                                 "settings.json has wslEngineEnabled=false")),
        engine=Engine(reachable=True, server_version="20.10.8", os_type="linux", name="docker-desktop"),
        images=images, containers=containers, volumes=volumes, networks=networks,
        host=HostFacts(computer_name="DEV-WS-042", build=18363, edition="Microsoft Windows 10 Pro"),
    )


FINDINGS = (
    Finding(rule="HOST002", title="Windows is too old for WSL 2", severity="blocker",
            message="Windows build 18363 is older than 19041, the first build with WSL 2.",
            subject_kind="host", subject="DEV-WS-042", why="WSL 2 needs Windows 10 version 2004 or later.",
            fix="Update Windows through Windows Update, then scan again.",
            references=("https://learn.microsoft.com/windows/wsl/install-manual",), plan="stop"),
    Finding(rule="CTR004", title="Data written into the container layer", severity="error",
            message=f"Container {HOSTILE} has 118.0 MB in its writable layer, lost unless committed.",
            subject_kind="container", subject=HOSTILE, why="Switching backends does not move containers.",
            fix=FIX_WITH_COMMAND, plan="commit-container"),
    Finding(rule="FILE001", title="--platform flag in a project file", severity="warning",
            message="docker-compose.yml pins \x1b[31mplatform: linux/amd64\x1b[0m.",
            subject_kind="file", subject="projects\\shop\\docker-compose.yml:14",
            file="projects\\shop\\docker-compose.yml", line=14),
    Finding(rule="DESK009", title="A stale settings.json beside settings-store.json", severity="warning",
            message="settings.json is no longer read; 2 values differ from settings-store.json.",
            subject_kind="settings", subject="settings", why="Docker Desktop 4.35 renamed the file.",
            fix="Delete it after the move: `Remove-Item $env:APPDATA\\Docker\\settings.json`; keep_a copy.",
            file="C:\\Users\\alice\\AppData\\Roaming\\Docker\\settings.json"),
    Finding(rule="NET002", title="Subnet collides with a WSL 2 range", severity="warning",
            message="Network shop_default uses 172.18.0.0/16.", subject_kind="network",
            subject="shop_default",
            waived=True, waiver_reason="Agreed with the networking team", waiver_expires="2026-12-31"),
    Finding(rule="IMG001", title="Image can be pulled again by digest", severity="info",
            message="nginx:1.25 is pullable by digest; it is pulled, not saved.", subject_kind="image",
            subject="nginx:1.25", references=("https://docs.docker.com/engine/reference/commandline/pull/",)),
)


def _report(findings: tuple[Finding, ...] = FINDINGS, evidence: dict[str, object] | None = None) -> Report:
    """A blocked report over the inventory above."""
    return Report(
        tool_version="0.1.0",
        inventory_fingerprint="sha256:" + "0" * 64,
        backend=Backend(kind="hyperv", evidence=dict(EVIDENCE if evidence is None else evidence),
                        reasons=("kernel_version ends in -linuxkit",
                                 f"proxy http://alice:{PROXY_SECRET}@proxy.corp.example:3128 in settings")),
        findings=findings,
        verdict="blocked",
        counts={"images": 3, "containers": 2, "volumes": 2, "networks": 2, "project_files": 2},
        bytes_to_move=3_245_000_000,
        estimated_seconds=725,
        blind_spots=(Note(area="files", subject="C:\\Users\\alice\\projects\\legacy\\compose.yml",
                          message="unreadable: permission denied"),
                     Note(area="host", subject="DEV-WS-042",
                          message=f"no host facts: https://bob:{BLIND_SPOT_SECRET}@share.corp.example/f")),
        rules_checked=47,
        notices=("waiver for CTR009 on container old expired on 2024-01-31; the finding is reported again",),
        estimate=Estimate(backup_bytes=3_245_000_000, wsl_disk_bytes=3_432_000_000, pull_bytes=187_000_000,
                          seconds=725, backup_parts={"image_archives": 412_500_000, "volume_archives": 1_234_567_890,
                                                     "committed_layers": 1_597_932_110, "commit_base_layers": 0},
                          unknown=("volume " + "9" * 64,), backup_folder="D:\\wsl2-migrate-backup",
                          wsl_disk_folder="%LOCALAPPDATA%\\Docker\\wsl"),
        actions=("FILE001: --platform flag in a project file (projects\\shop\\docker-compose.yml:14)",),
    )


def _all(show_secrets: bool = False) -> dict[Format, str]:
    return {fmt: render(fmt, _report(), _inventory(), show_secrets) for fmt in Format}


def test_every_format_renders_text_ending_in_newline() -> None:
    outputs = _all()
    assert set(outputs) == {Format.TABLE, Format.JSON, Format.MARKDOWN, Format.SARIF, Format.JUNIT, Format.HTML}
    for fmt, text in outputs.items():
        assert text.endswith("\n") and len(text) > 200, fmt
    assert render("json", _report(), _inventory()) == outputs[Format.JSON]  # type: ignore[arg-type]
    with pytest.raises(InputError):
        render("pdf", _report(), _inventory())  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", list(Format))
def test_deterministic_regardless_of_input_order(fmt: Format) -> None:
    first = render(fmt, _report(), _inventory())
    assert render(fmt, _report(), _inventory()) == first
    reordered = dict(reversed(list(EVIDENCE.items())))
    assert render(fmt, _report(evidence=reordered), _inventory(reordered, reverse=True)) == first


@pytest.mark.parametrize("fmt", list(Format))
def test_secrets_stay_secret(fmt: Format) -> None:
    hidden = render(fmt, _report(), _inventory())
    shown = render(fmt, _report(), _inventory(), show_secrets=True)
    for secret in ALWAYS_HIDDEN + HIDDEN_UNLESS_SHOWN:
        assert secret not in hidden
    for secret in ALWAYS_HIDDEN:  # container env and labels are never part of a report
        assert secret not in shown
    assert BLIND_SPOT_SECRET in shown  # every format reports the blind spots
    if fmt in (Format.JSON, Format.MARKDOWN, Format.HTML):  # the formats that show the backend evidence
        assert "<redacted>" in hidden or "\\<redacted\\>" in hidden or "&lt;redacted&gt;" in hidden
        for secret in HIDDEN_UNLESS_SHOWN:
            assert secret in shown


def test_redact_nested_keys_urls_and_key_value_strings() -> None:
    data = {"AuthToken": "abc", "nested": {"db_passwd": "x", "ok": "plain"}, "list": ["API-KEY=zzz", "a=b"],
            "proxy": "https://u:p@proxy:8080/path", "flag_private": False}
    assert redact(data) == {"AuthToken": "<redacted>", "nested": {"db_passwd": "<redacted>", "ok": "plain"},
                            "list": ["API-KEY=<redacted>", "a=b"], "proxy": "https://u:<redacted>@proxy:8080/path",
                            "flag_private": False}
    assert redact(data, show_secrets=True) == data


def test_sarif_validates_against_the_2_1_0_schema() -> None:
    validator_cls = jsonschema.validators.validator_for(SARIF_SCHEMA)
    validator_cls.check_schema(SARIF_SCHEMA)
    for report in (_report(), _report(findings=())):
        log = json.loads(render(Format.SARIF, report, _inventory()))
        errors = sorted(validator_cls(SARIF_SCHEMA).iter_errors(log), key=lambda e: list(e.path))
        assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def test_sarif_locations_levels_rules_and_suppressions() -> None:
    run = json.loads(render(Format.SARIF, _report(), _inventory()))["runs"][0]
    results = {r["ruleId"]: r for r in run["results"]}
    rules = run["tool"]["driver"]["rules"]
    assert run["tool"]["driver"]["name"] == "wsl2-migrate" and run["tool"]["driver"]["version"] == "0.1.0"
    assert [r["id"] for r in rules] == ["CTR004", "DESK009", "FILE001", "HOST002", "IMG001", "NET002"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]

    file001 = results["FILE001"]["locations"][0]["physicalLocation"]
    assert file001 == {"artifactLocation": {"uri": "projects/shop/docker-compose.yml"},
                       "region": {"startLine": 14}}
    desk = results["DESK009"]["locations"][0]["physicalLocation"]
    assert desk == {"artifactLocation": {"uri": "file:///C:/Users/alice/AppData/Roaming/Docker/settings.json"}}
    ctr = results["CTR004"]["locations"][0]
    assert "physicalLocation" not in ctr
    assert ctr["logicalLocations"] == [{"name": HOSTILE, "kind": "container",
                                        "fullyQualifiedName": f"container/{HOSTILE}"}]

    assert (results["HOST002"]["level"], results["HOST002"]["properties"]["severity"]) == ("error", "blocker")
    assert (results["CTR004"]["level"], results["FILE001"]["level"], results["IMG001"]["level"]) == (
        "error", "warning", "note")
    host_rule = rules[results["HOST002"]["ruleIndex"]]
    assert host_rule["defaultConfiguration"] == {"level": "error"}
    assert host_rule["shortDescription"]["text"] == "Windows is too old for WSL 2"
    assert host_rule["fullDescription"]["text"] == "WSL 2 needs Windows 10 version 2004 or later."
    assert host_rule["help"]["text"].startswith("Update Windows")
    assert host_rule["helpUri"] == "https://learn.microsoft.com/windows/wsl/install-manual"

    assert results["NET002"]["suppressions"] == [{"kind": "external", "status": "accepted",
                                                  "justification": "Agreed with the networking team",
                                                  "properties": {"expires": "2026-12-31"}}]
    assert "suppressions" not in results["CTR004"]
    notes = [n["message"]["text"] for n in run["invocations"][0]["toolExecutionNotifications"]]
    assert any("permission denied" in n for n in notes) and any("expired" in n for n in notes)


def test_sarif_fingerprint_depends_on_rule_and_subject_only() -> None:
    def fingerprint(f: Finding) -> str:
        log = json.loads(render(Format.SARIF, _report(findings=(f,)), _inventory()))
        return str(log["runs"][0]["results"][0]["partialFingerprints"]["wsl2MigrateSubject/v1"])

    base = FINDINGS[2]
    moved = dataclasses.replace(base, line=40, message="other text", severity="error")
    assert fingerprint(moved) == fingerprint(base)
    assert fingerprint(dataclasses.replace(base, subject="other.yml")) != fingerprint(base)
    assert fingerprint(dataclasses.replace(base, rule="FILE002")) != fingerprint(base)


def test_sarif_level_is_the_one_mapping() -> None:
    levels = [sarif_level(s) for s in ("blocker", "error", "warning", "info")]
    assert levels == ["error", "error", "warning", "note"]
    with pytest.raises(InternalError):
        sarif_level("critical")


@pytest.mark.parametrize(("path", "uri"), [
    ("compose.yaml", "compose.yaml"),
    ("./svc/Dockerfile", "svc/Dockerfile"),
    ("proj dir\\a#b.yml", "proj%20dir/a%23b.yml"),
    ("C:\\Users\\alice\\scripts\\switch backend.ps1", "file:///C:/Users/alice/scripts/switch%20backend.ps1"),
    ("c:x\\y.yml", "c%3Ax/y.yml"),
    ("D:\\work\\shop\\compose.yml", "file:///D:/work/shop/compose.yml"),
    ("\\\\fileserver\\share\\compose.yml", "file://fileserver/share/compose.yml"),
    ("/home/alice/compose.yml", "file:///home/alice/compose.yml"),
])
def test_artifact_uri(path: str, uri: str) -> None:
    assert artifact_uri(path) == uri


DOCUMENTED_KEYS = {"schema", "tool_version", "inventory_fingerprint", "backend", "verdict", "counts",
                   "bytes_to_move", "estimated_seconds", "rules_checked", "findings", "blind_spots",
                   "notices", "actions", "estimate"}


def test_json_has_the_documented_keys_and_round_trips() -> None:
    text = render(Format.JSON, _report(), _inventory())
    doc = json.loads(text)
    assert doc["blind_spots"][1]["message"] == "no host facts: https://bob:<redacted>@share.corp.example/f"
    doc = json.loads(render(Format.JSON, _report(), _inventory(), show_secrets=True))
    assert set(doc) == DOCUMENTED_KEYS
    assert doc["schema"] == "wsl2-migrate/report/1"
    assert set(doc["backend"]) == {"kind", "evidence", "reasons"}
    docs = (ROOT / "docs" / "report-json.md").read_text(encoding="utf-8")
    finding_fields = {f.name for f in dataclasses.fields(Finding)}
    for key in DOCUMENTED_KEYS | finding_fields | {"area", "subject", "message"}:
        assert f"`{key}`" in docs, key
    rebuilt = tuple(Finding(**{k: tuple(v) if isinstance(v, list) else v for k, v in f.items()})  # type: ignore[arg-type]
                    for f in doc["findings"])
    assert rebuilt == FINDINGS
    assert [Note(**n) for n in doc["blind_spots"]] == list(_report().blind_spots)
    assert (doc["verdict"], doc["bytes_to_move"], doc["estimated_seconds"], doc["rules_checked"]) == (
        "blocked", 3_245_000_000, 725, 47)
    assert doc["counts"] == {"containers": 2, "images": 3, "networks": 2, "project_files": 2, "volumes": 2}
    assert doc["backend"]["evidence"]["settings"]["proxyHttp"] == f"http://alice:{PROXY_SECRET}@proxy.corp.example:3128"
    doc = json.loads(text)
    assert doc["backend"]["evidence"]["settings"]["proxyHttp"] == "http://alice:<redacted>@proxy.corp.example:3128"
    assert text.startswith('{\n  "actions": [\n    "FILE001')  # indent 2, sorted keys
    assert doc["estimate"]["wsl_disk_folder"] == "%LOCALAPPDATA%\\Docker\\wsl" and doc["estimate"]["seconds"] == 725
    assert json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n" == text


def _pipes(line: str) -> int:
    """Unescaped pipes in a Markdown table line."""
    return len(re.findall(r"(?<!\\)\|", line))


def test_markdown_sections_numbers_and_escaping() -> None:
    text = render(Format.MARKDOWN, _report(), _inventory())
    assert text.startswith("# Pre-migration assessment: DEV-WS-042\n")
    for heading in ("## Verdict", "## Summary", "## Backend", "## Findings", "### Blockers (1)",
                    "### Errors (1)", "### Warnings (2)", "### Information (1)", "## Waived findings",
                    "## Configuration notices",
                    "## Inventory overview", "### Images (3)", "### Containers (2)", "### Volumes (2)",
                    "### Networks (2)", "## What this assessment could not see"):
        assert f"\n{heading}\n" in text, heading
    assert "**Blocked.**" in text and "HOST002: Windows is too old for WSL 2" in text
    assert ("| Data to move | 3.2 GB + unknown sizes (volume " + "9" * 64 + ") written to the backups "
            "(D:\\\\wsl2-migrate-backup); the new WSL disk grows by 3.4 GB (%LOCALAPPDATA%\\\\Docker\\\\wsl) |") in text
    assert "| Estimated duration | at least about 12 minutes |" in text
    assert "| Backend detected | Hyper-V VM (MobyLinuxVM / DockerDesktopVM) |" in text
    assert "| kernel\\_version | 5.10.47-linuxkit |" in text
    # Hostile values are escaped wherever they appear; nothing reaches the reader as HTML or code.
    escaped = "web\\|\\`rm -rf /\\`\\<script\\>alert(1)\\</script\\>\\_\\[x\\]\\*"
    assert f"| {escaped} | nginx:1.25 | running | 1 | shop\\_default |" in text
    assert f"- **Subject:** container {escaped}" in text
    assert "<script>" not in text and "\x1b" not in text
    for line in text.splitlines():
        if line.startswith("|"):
            assert _pipes(line) in (3, 4, 5, 6), line
    # The fix's commands are fenced code, verbatim; prose around them is not.
    assert '```\ndocker commit "web" backup/web:pre-wsl2\ndocker save -o D:\\backup\\web.tar' in text
    assert ("| NET002 | warning | network shop\\_default | Agreed with the networking team | 2026-12-31 |"
            in text)
    assert "| nginx:1.25 | linux/amd64 | 187.0 MB | yes |" in text
    assert "| shop/api:dev | linux/arm64/v8 | 412.5 MB | no | db |" in text
    assert "| 999999999999 (anonymous) | local | unknown | none |" in text
    assert "| shop\\_default | bridge | 172.18.0.0/16 | yes |" in text
    assert "| host | DEV-WS-042 | no host facts: https://bob:\\<redacted\\>@share.corp.example/f |" in text
    assert "The verdict is already *blocked*; these gaps may hide further findings" in text
    # Catalog prose keeps its code spans as code; the rest is escaped.
    assert ("Delete it after the move: `Remove-Item $env:APPDATA\\Docker\\settings.json`; keep\\_a copy."
            in text)
    assert "- **Subject:** file projects\\\\shop\\\\docker-compose.yml:14\n" in text
    assert "- **Subject:** settings\n" in text
    assert "- **File:** C:\\\\Users\\\\alice\\\\AppData\\\\Roaming\\\\Docker\\\\settings.json\n" in text
    assert "> **Limited verdict:** 2 things could not be seen" in text


def test_markdown_groups_a_rule_over_its_subjects_and_lists_what_a_person_must_do_first() -> None:
    base = dict(title="Data was written into the container's own filesystem", severity="warning",
                subject_kind="container", why="Lost unless committed.", fix="Let the plan commit it.",
                plan="commit-container")
    same = (Finding(rule="CTR003", message="It holds data.", subject="a", **base),  # type: ignore[arg-type]
            Finding(rule="CTR003", message="It holds data.", subject="b", **base))  # type: ignore[arg-type]
    differ = (Finding(rule="CTR003", message="1.0 kB were written.", subject="a", **base),  # type: ignore[arg-type]
              Finding(rule="CTR003", message="2.0 kB were written.", subject="b", **base))  # type: ignore[arg-type]
    manual = Finding(rule="CTR007", title="The container uses host networking", severity="warning",
                     message="Uses the host network.", subject_kind="container", subject="mdns", plan="manual",
                     needs_action=True)
    for findings in (same, differ):
        report = dataclasses.replace(_report(findings=(*findings, manual)), verdict="ready-after-actions",
                                     actions=("CTR007: The container uses host networking (mdns)",))
        text = render(Format.MARKDOWN, report, _inventory())
        assert text.count("#### CTR003: ") == 1 and text.count("**Why.** Lost unless committed.") == 1
        assert "#### CTR003: Data was written into the container's own filesystem (2 subjects)" in text
        assert "- **Subjects:** container a, container b" in text
        assert "1 finding needs a person" in text
        verdict = text.split("## Summary", 1)[0]
        must, does = verdict.index("### What you must do"), verdict.index("### What the plan does for you")
        assert must < does
        assert "- CTR007: The container uses host networking (mdns)" in verdict[must:does]
        assert "- The plan commits the container's changed filesystem before the switch and re-creates it from " \
               "the commit: CTR003 (container a, container b)" in verdict[does:]
        assert "### Warnings (3; 2 rules)" in text
    assert "\nIt holds data.\n" in render(Format.MARKDOWN, dataclasses.replace(_report(findings=same)),
                                           _inventory())
    text = render(Format.MARKDOWN, _report(findings=differ), _inventory())
    assert "- container a: 1.0 kB were written.\n- container b: 2.0 kB were written." in text


def test_markdown_title_falls_back_to_the_engine_name_and_ready_verdict() -> None:
    inv = dataclasses.replace(_inventory(), host=None)
    report = dataclasses.replace(_report(findings=FINDINGS[5:]), verdict="ready", blind_spots=())
    text = render(Format.MARKDOWN, report, inv)
    assert text.startswith("# Pre-migration assessment: docker-desktop\n")
    assert "**Ready.**" in text and "Limited verdict" not in text
    gaps = dataclasses.replace(report, blind_spots=_report().blind_spots)
    limited = render(Format.MARKDOWN, gaps, inv)
    assert "So the verdict, *ready*, holds only as far as the scan could see" in limited
    assert "The scan reported nothing it could not read." in text


def test_fix_blocks_fence_cannot_be_closed_by_the_command() -> None:
    blocks = fix_blocks("Run:\n\n    echo ```` done\n")
    assert blocks == ["Run:", "", "`````", "echo ```` done", "`````"]
    fenced = fix_blocks("Then:\n```powershell\nwsl --set-default-version 2\n```\nDone_now.")
    assert fenced == ["Then:", "", "```powershell", "wsl --set-default-version 2", "```", "", "Done\\_now."]
    kept = fix_blocks("Steps:\n    wsl --shutdown\n\n    wsl --set-default-version 2\nThen restart.")
    assert kept == ["Steps:", "", "```", "wsl --shutdown", "", "wsl --set-default-version 2", "```", "",
                    "Then restart."]


def test_junit_counts_and_outcomes() -> None:
    text = render(Format.JUNIT, _report(), _inventory())
    root = ET.fromstring(text.encode("utf-8"))
    suites = root.findall("testsuite")
    assert len(suites) == 1
    suite = suites[0]
    cases = suite.findall("testcase")
    failures = [c for c in cases if c.find("failure") is not None]
    skipped = [c for c in cases if c.find("skipped") is not None]
    assert (len(cases), len(failures), len(skipped)) == (6, 2, 1)
    for element in (root, suite):
        counts = [element.get(k) for k in ("tests", "failures", "skipped", "errors")]
        assert counts == ["6", "2", "1", "0"]
    assert {c.get("name") for c in failures} == {"HOST002 host/DEV-WS-042", f"CTR004 container/{HOSTILE}"}
    assert [f.get("type") for c in failures for f in c.iter("failure")] == ["blocker", "error"]
    skip = skipped[0].find("skipped")
    assert skip is not None
    assert skip.get("message") == "waived: Agreed with the networking team (until 2026-12-31)"
    areas = {"HOST", "CTR", "DESK", "FILE", "NET", "IMG"}
    assert {c.get("classname") for c in cases} == {f"wsl2-migrate.{area}" for area in areas}
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["verdict"] == "blocked" and props["backend"] == "hyperv"
    assert "\\x1b[31m" in text and "\x1b" not in text


def test_junit_with_no_findings_is_valid_and_counts_zero() -> None:
    root = ET.fromstring(render(Format.JUNIT, _report(findings=()), _inventory()))
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("0", "0", "0")


def test_table_fits_a_terminal_and_ends_with_the_verdict() -> None:
    text = render(Format.TABLE, _report(), _inventory())
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 110
    assert lines[-1] == ("BLOCKED: 1 blocker, 1 error, 2 warning, 1 info, 1 waived; "
                         "3.2 GB to move, about 12 minutes; 2 blind spots")
    assert lines[0].split() == ["severity", "rule", "subject", "message"]
    assert "\x1b" not in text and "\\x1b[31m" in text
    assert "note: waiver for CTR009" in text
    assert ("not seen: files: C:\\Users\\alice\\projects\\legacy\\compose.yml: unreadable: permission denied"
            in text)
    assert "(waived)" in text
    empty = render(Format.TABLE, dataclasses.replace(_report(findings=()), verdict="ready", blind_spots=()),
                   _inventory())
    assert empty.startswith("No findings.\n")
    assert empty.endswith("\nREADY: no findings; 3.2 GB to move, about 12 minutes\n")


def test_table_keeps_number_like_values_verbatim() -> None:
    odd = dataclasses.replace(FINDINGS[5], subject="1e5", message="0042")
    text = render(Format.TABLE, _report(findings=(odd,)), _inventory())
    assert "1e5" in text and "0042" in text and "100000" not in text


@pytest.mark.parametrize(("n", "text"), [(0, "0 B"), (999, "999 B"), (1000, "1.0 kB"),
                                         (3_245_000_000, "3.2 GB"), (999_960_000, "1.0 GB"),
                                         (None, "unknown")])
def test_human_bytes(n: int | None, text: str) -> None:
    assert human_bytes(n) == text


@pytest.mark.parametrize(("seconds", "text"), [(0, "less than a minute"), (59, "less than a minute"),
                                               (60, "about 1 minute"), (725, "about 12 minutes"),
                                               (5340, "about 89 minutes"), (6000, "about 1 hour 40 minutes"),
                                               (7200, "about 2 hours")])
def test_human_duration(seconds: int, text: str) -> None:
    assert human_duration(seconds) == text


def test_the_documented_example_has_the_documented_shape() -> None:
    docs = (ROOT / "docs" / "report-json.md").read_text(encoding="utf-8")
    example = json.loads(re.search(r"```json\n(.*?)\n```", docs, re.DOTALL).group(1))  # type: ignore[union-attr]
    assert set(example) == DOCUMENTED_KEYS
    assert all(set(f) == {f.name for f in dataclasses.fields(Finding)} for f in example["findings"])


def test_prose_keeps_code_spans_and_escapes_the_rest() -> None:
    assert prose("Run `wsl -l -v` then fix_it <now>") == "Run `wsl -l -v` then fix\\_it \\<now\\>"
    assert prose("no `closing code") == "no \\`closing code"
    assert code("a`b") == "``a`b``"
    assert code("`x") == "`` `x ``"
