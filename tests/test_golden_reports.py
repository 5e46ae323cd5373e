"""Reports for each bundled sample, compared with golden files.

After an intended change, regenerate with `UPDATE_GOLDEN=1 bash scripts/test.sh tests/test_golden_reports.py` and
review the diff of tests/golden/ like any other change.
"""
from __future__ import annotations

import datetime
import os
from pathlib import Path

import pytest

from migrate.assess import load_catalog, load_config
from migrate.inventory.scan import ScanOptions, scan
from migrate.model import dumps
from migrate.plan.assessment import assess_and_plan
from migrate.render import Format, render

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(os.environ.get("WSL2_MIGRATE_GOLDEN_DIR") or ROOT / "tests" / "golden")
"""The golden files; tests/test_golden_flag.py points this at a copy to check the update flag itself."""
SAMPLES = sorted(p.name for p in (ROOT / "samples").iterdir() if (p / "manifest.json").is_file())
# Waiver expiry is judged against this date, so the goldens do not age.
TODAY = datetime.date(2026, 11, 28)


def _updating() -> bool:
    """UPDATE_GOLDEN=1 rewrites the golden files; any other value is a mistake, not a quiet 'no'."""
    value = os.environ.get("UPDATE_GOLDEN")
    if value not in (None, "", "1"):
        pytest.fail(f"UPDATE_GOLDEN={value!r}: set it to 1 to rewrite the golden files, or leave it unset")
    return value == "1"


def _check(name: str, text: str | bytes) -> None:
    path = GOLDEN / name
    data = text.encode("utf-8") if isinstance(text, str) else text
    if _updating():
        changed = not path.is_file() or path.read_bytes() != data
        if changed:
            path.write_bytes(data)
        _WRITTEN.append(f"{name} {'rewritten' if changed else 'unchanged'}")
        return
    assert path.is_file(), f"{path} is missing: run with UPDATE_GOLDEN=1 to create it"
    assert data == path.read_bytes(), f"{name} differs from its golden file"


_WRITTEN: list[str] = []


def _finish() -> None:
    """A test that wrote goldens never passes (it compared nothing): review the diff, then run without the flag."""
    if _WRITTEN:
        done = "; ".join(_WRITTEN)
        _WRITTEN.clear()
        pytest.fail(f"UPDATE_GOLDEN=1: {done}; review `git diff tests/golden`, then run again without it")


def _inventory(sample: str):
    # Relative paths keep the goldens independent of where the repository is checked out.
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        return scan(ScanOptions(bundle=Path("samples") / sample, use_engine=False), "golden")
    finally:
        os.chdir(cwd)


def test_there_are_at_least_three_samples():
    assert len(SAMPLES) >= 3


@pytest.mark.parametrize("sample,backend", [("hyperv-2x", "hyperv"), ("lcow", "lcow"), ("near-wsl2", "hyperv")])
def test_sample_backend(sample: str, backend: str):
    assert _inventory(sample).backend.kind == backend


@pytest.mark.parametrize("sample", SAMPLES)
def test_sample_inventory_and_reports_match_golden(sample: str):
    inv = _inventory(sample)
    _check(f"{sample}.inventory.json", dumps(inv))
    catalog = load_catalog()
    report, _ = assess_and_plan(inv, catalog, load_config(None, catalog), TODAY, "golden")
    for fmt in Format:
        text = render(fmt, report, inv)
        assert text == render(fmt, report, inv)  # deterministic within a run too
        _check(f"{sample}.{fmt.value}", text)
    _finish()


@pytest.mark.parametrize("sample", SAMPLES)
def test_sample_plan_and_runbook_match_golden(sample: str):
    """plan.toml and migrate.ps1 for each sample: byte-identical to the reviewed golden files."""
    from migrate.cli_plan import make_runbook
    from migrate.plan.planfile import render_plan

    inv = _inventory(sample)
    catalog = load_catalog()
    _, plan = assess_and_plan(inv, catalog, load_config(None, catalog), TODAY, "golden")
    plan_text, _ = render_plan(plan)
    _check(f"{sample}.plan.toml", plan_text)
    script = make_runbook(plan_text, f"{sample}.plan.toml")
    _check(f"{sample}.migrate.ps1", script.encode("ascii"))
    from tests.pslit import parse_powershell, syntax_problems

    assert syntax_problems(parse_powershell(script)) == [], f"{sample}: the runbook does not parse cleanly"
    _finish()
