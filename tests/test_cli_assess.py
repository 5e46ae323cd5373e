"""`wsl2-migrate assess` and `rules` through the CLI: user rules, configuration, waivers, exit codes."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from migrate.model import Backend, Container, DesktopSettings, Inventory, Settings, dumps

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "migrate", *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd or ROOT, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})


@pytest.fixture
def inventory(tmp_path: Path) -> Path:
    inv = Inventory(
        tool_version="t",
        backend=Backend(kind="hyperv", reasons=("test",)),
        settings=Settings(desktop=DesktopSettings(file="C:\\Users\\jdoe\\AppData\\Roaming\\Docker\\settings.json",
                                                  format="settings.json", wsl_engine_enabled=False,
                                                  memory_mib=4096, cpus=4)),
        containers=(Container(id="a" * 64, name="legacy-web", image="nginx:1.25", env=("API_TOKEN=hunter2",),
                              labels={"team": "shop"}),),
    )
    p = tmp_path / "inv.json"
    p.write_text(dumps(inv))
    return p


USER_RULE = '''
[[rule]]
id = "ACME-CTR001"
title = "Containers must carry a team label"
severity = "error"
backends = ["hyperv", "lcow", "wsl2", "windows", "linux", "unknown"]
subject = "containers"
when = { field = 'labels["team"]', exists = false }
message = "Container {name} has no team label."
why = "Our fleet policy needs an owner for every container."
fix = "docker run --label team=NAME ..."
plan = "none"
references = ["https://example.com/policy"]
[[rule.example]]
expect = "fail"
inventory = { containers = [ { name = "x" } ] }
[[rule.example]]
expect = "pass"
inventory = { containers = [ { name = "x", labels = { team = "a" } } ] }
'''


def findings(res: subprocess.CompletedProcess) -> dict[str, dict]:
    assert res.returncode in (0, 1), res.stderr
    return {f["rule"] + "/" + f["subject"]: f for f in json.loads(res.stdout)["findings"]}


def test_user_rule_file_adds_a_rule(inventory: Path, tmp_path: Path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "acme.toml").write_text(USER_RULE)
    base = findings(run("assess", str(inventory), "--format", "json"))
    assert not any(k.startswith("ACME-CTR001") for k in base)
    inv = json.loads(inventory.read_text())
    inv["containers"][0]["labels"] = {}
    inventory.write_text(json.dumps(inv))
    got = findings(run("assess", str(inventory), "--format", "json", "--rules-dir", str(rules)))
    assert got["ACME-CTR001/legacy-web"]["severity"] == "error"
    listed = run("rules", "list", "--rules-dir", str(rules))
    assert "ACME-CTR001" in listed.stdout


def test_config_changes_severity_disables_and_expired_waiver_counts_again(inventory: Path, tmp_path: Path):
    base = findings(run("assess", str(inventory), "--format", "json"))
    assert "DESK003/" + "C:\\Users\\jdoe\\AppData\\Roaming\\Docker\\settings.json" in base or any(
        k.startswith("DESK003/") for k in base)
    desk3 = next(k for k in base if k.startswith("DESK003/"))
    subject = base[desk3]["subject"]
    others = [k.split("/")[0] for k in base if not k.startswith("DESK003/")]
    assert others, "the inventory should trigger more than one rule"
    disabled = others[0]
    cfg = tmp_path / "wsl2-migrate.toml"
    cfg.write_text(
        f'[rules]\ndisable = ["{disabled}"]\n[rules.severity]\nDESK003 = "blocker"\n'
        f'[[waiver]]\nrule = "DESK003"\nsubject = {json.dumps(subject)}\nreason = "accepted"\nexpires = 2020-01-01\n'
    )
    res = run("assess", str(inventory), "--format", "json", "--config", str(cfg), "--fail-on", "blocker")
    assert res.returncode == 1, res.stderr  # the expired waiver no longer waives the (now blocker) finding
    data = json.loads(res.stdout)
    got = {f["rule"]: f for f in data["findings"]}
    assert got["DESK003"]["severity"] == "blocker" and not got["DESK003"]["waived"]
    assert disabled not in got
    assert data["verdict"] == "blocked"
    assert any("expired" in n for n in data["notices"])
    # the same waiver without expiry waives it: no blocker left, exit 0 with --fail-on blocker
    cfg.write_text(
        f'[rules.severity]\nDESK003 = "blocker"\n'
        f'[[waiver]]\nrule = "DESK003"\nsubject = {json.dumps(subject)}\nreason = "accepted"\n'
    )
    res = run("assess", str(inventory), "--format", "json", "--config", str(cfg), "--fail-on", "blocker")
    assert res.returncode == 0, res.stderr
    assert {f["rule"]: f for f in json.loads(res.stdout)["findings"]}["DESK003"]["waived"]


def test_default_config_file_in_current_directory(inventory: Path, tmp_path: Path):
    (tmp_path / "wsl2-migrate.toml").write_text('[rules]\ndisable = ["DESK003"]\n')
    got = findings(run("assess", str(inventory), "--format", "json", cwd=tmp_path))
    assert not any(k.startswith("DESK003/") for k in got)


def test_fail_on_and_secrets(inventory: Path):
    res = run("assess", str(inventory), "--format", "json", "--fail-on", "info")
    assert res.returncode == 1
    for fmt in ("table", "json", "markdown", "sarif", "junit"):
        out = run("assess", str(inventory), "--format", fmt)
        assert out.returncode == 0, out.stderr
        assert "hunter2" not in out.stdout, fmt


@pytest.mark.parametrize("text,needle", [
    ('[[rule]]\nid = "X"\n', "X"),
    (USER_RULE.replace('plan = "none"', 'plan = "none"\nbogus = 1'), "bogus"),
    (USER_RULE.replace("labels[\"team\"]", "no_such_field"), "no_such_field"),
    (USER_RULE + USER_RULE.replace("[[rule]]", "[[rule]]", 1), "ACME-CTR001"),
    ("[[rule]\n", "line"),
])
def test_malformed_rule_files_exit_2_naming_file_and_rule(tmp_path: Path, inventory: Path, text: str, needle: str):
    rules = tmp_path / "bad"
    rules.mkdir()
    (rules / "bad.toml").write_text(text)
    res = run("assess", str(inventory), "--rules-dir", str(rules))
    assert res.returncode == 2, res.stdout
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr
    assert "bad.toml" in lines[0] and needle in lines[0]


@pytest.mark.parametrize("text,needle", [
    ('[rules]\ndisable = ["NOPE999"]\n', "NOPE999"),
    ('[rules.severity]\nDESK003 = "fatal"\n', "fatal"),
    ('[[waiver]]\nrule = "DESK003"\nsubject = "x"\n', "reason"),
    ('[[waiver]]\nrule = "DESK003"\nsubject = "x"\nreason = "r"\nexpires = "soon"\n', "expires"),
    ('[unknown]\n', "unknown"),
])
def test_malformed_config_exit_2(tmp_path: Path, inventory: Path, text: str, needle: str):
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(text)
    res = run("assess", str(inventory), "--config", str(cfg))
    assert res.returncode == 2
    line = res.stderr.strip()
    assert "\n" not in line and "cfg.toml" in line and needle in line


def test_bad_format_and_fail_on_are_usage_errors(inventory: Path):
    assert run("assess", str(inventory), "--format", "pdf").returncode == 2
    assert run("assess", str(inventory), "--fail-on", "fatal").returncode == 2


def test_rules_show(tmp_path: Path):
    res = run("rules", "show", "desk003")
    assert res.returncode == 0 and "DESK003" in res.stdout and "Why" in res.stdout
    assert run("rules", "show", "NOPE1").returncode == 2
