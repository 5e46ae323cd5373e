"""`wsl2-migrate plan`, `runbook` and `run` through the CLI: files written, re-planning, one-line errors."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from migrate.plan.planfile import parse_plan
from tests.pslit import parse_powershell, syntax_problems

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "migrate", *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd or ROOT, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})


def test_run_on_a_sample_writes_the_four_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = run("run", "--sample", "hyperv-2x", "--out", str(out))
    assert res.returncode == 0, res.stderr
    names = ["inventory.json", "assessment.md", "plan.toml", "migrate.ps1"]
    assert res.stdout.splitlines() == [str(out / n) for n in names]
    assert sorted(p.name for p in out.iterdir()) == sorted(names)
    plan = parse_plan((out / "plan.toml").read_text(encoding="utf-8"))
    assert plan.source_backend == "hyperv"
    script = (out / "migrate.ps1").read_bytes()
    assert script.isascii() and b"\r\n" in script
    assert syntax_problems(parse_powershell(script.decode("ascii"))) == []
    # `runbook` on the same plan gives the same script, byte for byte.
    again = tmp_path / "again.ps1"
    res = run("runbook", str(out / "plan.toml"), "-o", str(again))
    assert res.returncode == 0, res.stderr
    assert again.read_bytes() == script
    report = (out / "assessment.md").read_text(encoding="utf-8")
    assert report.startswith("#") and "HOST" in report  # the markdown report, with the sample's host findings


def test_a_plan_that_describes_no_program_is_bad_input_even_with_force(tmp_path: Path) -> None:
    """A value the step model refuses is not a check --force may override: exit 2, one line, no file."""
    out = tmp_path / "out"
    assert run("run", "--sample", "hyperv-2x", "--out", str(out)).returncode == 0
    plan = out / "plan.toml"
    text = plan.read_text(encoding="utf-8")
    assert "min_windows_build = 19041" in text
    plan.write_text(text.replace("min_windows_build = 19041", "min_windows_build = 1"), encoding="utf-8")
    for force in ((), ("--force",)):
        script = tmp_path / "migrate.ps1"
        res = run("runbook", str(plan), "-o", str(script), *force)
        assert res.returncode == 2, (force, res.stderr)
        assert res.stderr.count("\n") == 1 and "its steps cannot be built" in res.stderr and str(plan) in res.stderr
        assert not script.exists()


def test_run_twice_gives_the_same_files(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    assert run("run", "--sample", "lcow", "--out", str(a)).returncode == 0
    assert run("run", "--sample", "lcow", "--out", str(b)).returncode == 0
    for name in ("plan.toml", "migrate.ps1", "assessment.md"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_unknown_sample_is_a_one_line_error_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = run("run", "--sample", "nope", "--out", str(out))
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "no sample 'nope'" in res.stderr and "hyperv-2x" in res.stderr
    assert not out.exists()


def test_bad_input_leaves_no_half_written_set(tmp_path: Path) -> None:
    out = tmp_path / "out"
    bad = tmp_path / "inv.json"
    bad.write_text("{not json", encoding="utf-8")
    res = run("run", str(bad), "--out", str(out))
    assert res.returncode == 2 and str(bad) in res.stderr and res.stderr.count("\n") == 1
    assert not out.exists() or not any(out.iterdir())


def test_replanning_through_the_cli_keeps_an_edit(tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    assert run("plan", "--bundle", "samples/hyperv-2x", "-o", str(plan)).returncode == 0
    text = plan.read_text(encoding="utf-8")
    edited = text.replace('helper_image = "busybox:1.32"', 'helper_image = "alpine:3.19"  # ours', 1)
    assert edited != text
    plan.write_text(edited, encoding="utf-8")
    res = run("plan", "--bundle", "samples/hyperv-2x", "-o", str(plan))
    assert res.returncode == 0, res.stderr
    assert "plan.helper_image: kept your value" in res.stderr
    assert 'helper_image = "alpine:3.19"  # ours' in plan.read_text(encoding="utf-8")
    res = run("plan", "--bundle", "samples/hyperv-2x", "-o", str(plan), "--fresh")
    assert 'helper_image = "busybox:1.32"' in plan.read_text(encoding="utf-8")


def test_runbook_errors_are_one_line(tmp_path: Path) -> None:
    res = run("runbook", str(tmp_path / "missing.toml"))
    assert res.returncode == 2 and "missing.toml: no such plan file" in res.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text('[plan]\nschema = "wsl2-migrate/plan/1"\nbackup_path = 3\n', encoding="utf-8")
    out = tmp_path / "x.ps1"
    res = run("runbook", str(bad), "-o", str(out))
    assert res.returncode == 2 and res.stderr.startswith(f"wsl2-migrate: error: {bad}: plan")
    assert res.stderr.count("\n") == 1
    assert not out.exists()


def test_every_reading_command_takes_the_same_source_options() -> None:
    from migrate.cli import SOURCES

    flags = ["--host", "--context", "--bundle", "--bundle-partial", "--engine-info", "--settings", "--daemon-config",
             "--wslconfig", "--host-facts", "--project"]
    assert len(flags) == len(SOURCES)
    for command in ("scan", "assess", "plan", "run", "validate"):
        res = run(command, "--help")
        assert res.returncode == 0, res.stderr
        for flag in flags:
            assert flag in res.stdout, f"{command} lacks {flag}"
