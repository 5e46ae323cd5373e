"""`wsl2-migrate validate` through the CLI: exit codes, table and JSON output, one-line input errors."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "hyperv-2x"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "migrate", *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd or ROOT, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """plan.toml and inventory.json of the hyperv-2x sample, written by the real scan and plan commands."""
    d = tmp_path_factory.mktemp("validate")
    assert run("scan", "--bundle", str(SAMPLE), "-q", "-o", str(d / "inventory.json")).returncode == 0
    r = run("plan", str(d / "inventory.json"), "-o", str(d / "plan.toml"))
    assert r.returncode == 0, r.stderr
    return d / "plan.toml", d / "inventory.json"


def test_a_fresh_plan_passes_with_exit_0(made) -> None:
    plan, inv = made
    r = run("validate", str(plan), "--bundle", str(SAMPLE))
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.rstrip().splitlines()[-1].startswith("PASS: 0 failure(s)")
    for check in ("drift", "coverage", "order", "blockers"):
        assert any(line.split()[:2] == [check, "PASS"] for line in r.stdout.splitlines()), check
    # From a bundle no engine runs the helper image: validate says so (a warning, not a failure).
    assert any(line.split()[:2] == ["resources", "WARN"] for line in r.stdout.splitlines())
    assert "helper image busybox:1.32" in r.stdout and "not checked (the inventory was not read from a live engine)" \
        in r.stdout


def test_json_output_to_a_file(made, tmp_path: Path) -> None:
    plan, inv = made
    out = tmp_path / "v.json"
    r = run("validate", str(plan), str(inv), "--format", "json", "-o", str(out), "--backup-free-bytes", "1000")
    assert r.returncode == 1
    assert r.stdout == ""
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["schema"] == "wsl2-migrate/validate/1"
    assert data["passed"] is False
    assert [c["name"] for c in data["checks"]] == ["drift", "coverage", "consistency", "order", "resources", "blockers"]
    assert {c["name"]: c["status"] for c in data["checks"]}["resources"] == "fail"
    assert data["resources"]["free_bytes"] == 1000
    assert data["resources"]["free_from"] == "--backup-free-bytes"
    assert data["resources"]["backup_bytes"] == sum(data["resources"]["parts"].values())
    assert data["plan_inventory_fingerprint"] == data["inventory_fingerprint"]
    fails = [p for p in data["problems"] if p["severity"] == "fail"]
    assert [p["check"] for p in fails] == ["resources"]
    assert "failed (1 failure(s))" in r.stderr


def test_drift_fails_with_exit_1_and_names_the_container(made, tmp_path: Path) -> None:
    plan, inv = made
    data = json.loads(inv.read_text(encoding="utf-8"))
    data["containers"] = [c for c in data["containers"] if c["name"].lstrip("/") != "shop_web_1"]
    edited = tmp_path / "inv.json"
    edited.write_text(json.dumps(data), encoding="utf-8")
    r = run("validate", str(plan), str(edited))
    assert r.returncode == 1
    lines = [line for line in r.stdout.splitlines() if line.split()[:2] == ["drift", "fail"]]
    assert len(lines) == 1 and "container shop_web_1" in lines[0] and "removed" in lines[0], r.stdout


def test_missing_plan_file_is_one_line_exit_2(made, tmp_path: Path) -> None:
    _, inv = made
    r = run("validate", str(tmp_path / "nope.toml"), str(inv))
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [f"wsl2-migrate: error: {tmp_path / 'nope.toml'}: no such plan file"]


def test_bad_toml_is_one_line_exit_2(made, tmp_path: Path) -> None:
    _, inv = made
    bad = tmp_path / "plan.toml"
    bad.write_text("[plan\nschema = 1\n", encoding="utf-8")
    r = run("validate", str(bad), str(inv))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"wsl2-migrate: error: {bad}: not valid TOML")


def test_a_plan_with_a_bad_strategy_is_exit_2(made, tmp_path: Path) -> None:
    plan, inv = made
    bad = tmp_path / "plan.toml"
    bad.write_text(plan.read_text(encoding="utf-8").replace('strategy = "copy"', 'strategy = "teleport"', 1),
                   encoding="utf-8")
    r = run("validate", str(bad), str(inv))
    assert r.returncode == 2
    assert "teleport" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_bad_format_is_exit_2(made) -> None:
    plan, inv = made
    r = run("validate", str(plan), str(inv), "--format", "xml")
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == ["wsl2-migrate: error: --format: 'xml' is not one of table, json"]


def test_an_unreachable_engine_is_exit_3(made) -> None:
    plan, _ = made
    r = run("validate", str(plan), "--host", "unix:///nonexistent/w2m.sock")
    assert r.returncode == 3, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
