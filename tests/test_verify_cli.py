"""`wsl2-migrate verify` from the command line, on inventory files: output, exit codes, one-line errors."""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from migrate.inventory.scan import ScanOptions, scan
from migrate.model import Inventory, dumps

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "hyperv-2x"


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "migrate", *args], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)


@pytest.fixture(scope="module")
def inv() -> Inventory:
    return scan(ScanOptions(bundle=SAMPLE), "test")


@pytest.fixture
def before(inv: Inventory, tmp_path: Path) -> Path:
    p = tmp_path / "before.json"
    p.write_text(dumps(inv), encoding="utf-8")
    return p


def _write(inv: Inventory, path: Path, encoding: str = "utf-8") -> Path:
    path.write_text(dumps(inv), encoding=encoding)
    return path


def test_equal_sides_pass_with_exit_0(before: Path, inv: Inventory, tmp_path: Path):
    # The same inventory, written as UTF-16 the way PowerShell redirection writes it.
    after = _write(inv, tmp_path / "after.json", encoding="utf-16")
    res = _cli("verify", str(before), str(after))
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[-1] == "14 equal, 0 missing, 0 different, 0 skipped, 0 extra: PASS"


def test_differences_exit_1_and_env_values_never_show(before: Path, inv: Inventory, tmp_path: Path):
    api = next(c for c in inv.containers if c.name == "shop_api_1")
    env = tuple("DJANGO_SECRET_KEY=changed-value" if e.startswith("DJANGO_SECRET_KEY=") else e for e in api.env)
    after = replace(inv, containers=tuple(replace(c, env=env, restart_policy="always") if c.name == "shop_api_1"
                                          else c for c in inv.containers if c.name != "legacy-importer"))
    path = _write(after, tmp_path / "after.json")
    res = _cli("verify", str(before), str(path))
    assert res.returncode == 1, res.stderr
    rows = [line.split() for line in res.stdout.splitlines()]
    assert ["container", "legacy-importer", "missing"] in [r[:3] for r in rows]
    assert ["container", "shop_api_1", "different", "restart_policy", "unless-stopped", "always"] in rows
    env_row = next(line for line in res.stdout.splitlines() if "env (names only)" in line)
    assert env_row.count("DJANGO_SECRET_KEY") == 2
    for secret in ("changed-value", "k#9v!2m@x7q$w1zr8t&u5y", "Sh0p-Passw0rd!"):
        assert secret not in res.stdout
    assert res.stdout.rstrip().endswith("FAIL")

    out = tmp_path / "verify.json"
    res = _cli("verify", str(before), str(path), "--format", "json", "-o", str(out))
    assert res.returncode == 1 and res.stdout == ""
    data = json.loads(out.read_text())
    assert data["ok"] is False and data["counts"]["missing"] == 1 and data["counts"]["different"] == 1
    assert data["before"] == str(before)


def test_plan_skips_are_reported_as_skipped(before: Path, inv: Inventory, tmp_path: Path):
    from migrate.plan.model import ContainerPlan, Plan
    from migrate.plan.planfile import render_plan

    plan = Plan(tool_version="t", inventory_fingerprint="f", source_backend="hyperv", backup_path="B",
                helper_image="busybox:1.32",
                containers=(ContainerPlan(name="legacy-importer", id="x", strategy="skip"),))
    plan_file = tmp_path / "plan.toml"
    plan_file.write_text(render_plan(plan)[0], encoding="utf-8")
    after = _write(replace(inv, containers=tuple(c for c in inv.containers if c.name != "legacy-importer")),
                   tmp_path / "after.json")
    assert _cli("verify", str(before), str(after)).returncode == 1
    res = _cli("verify", str(before), str(after), "--plan", str(plan_file), "--format", "json")
    assert res.returncode == 0, res.stderr
    statuses = {o["name"]: o["status"] for o in json.loads(res.stdout)["objects"]}
    assert statuses["legacy-importer"] == "skipped"


@pytest.mark.parametrize("args,code,fragment", [
    (["{tmp}/nope.json", "{before}"], 2, "nope.json: no such file"),
    (["{tmp}/bad.json", "{before}"], 2, "bad.json: malformed JSON at line 1"),
    (["{tmp}/other.json", "{before}"], 2, "other.json: not a wsl2-migrate inventory"),
    (["{before}", "{before}", "--format", "xml"], 2, "--format: 'xml' is not one of table, json"),
    (["{before}", "{before}", "--plan", "{tmp}/plan.toml"], 2, "plan.toml: no such file"),
    (["{before}", "unix:///nonexistent/docker.sock"], 3, "engine unix:///nonexistent/docker.sock: unreachable"),
])
def test_errors_are_one_line_with_their_exit_code(before: Path, tmp_path: Path, args: list[str], code: int,
                                                  fragment: str):
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "other.json").write_text('{"schema": "something/else"}', encoding="utf-8")
    res = _cli("verify", *[a.format(tmp=tmp_path, before=before) for a in args])
    assert res.returncode == code, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wsl2-migrate: error: ") and fragment in lines[0], res.stderr
