"""The test suite's own rules: engine-backed files are marked, every rule shows a pass and a fail, type checks are
clean, and the wheel ships no caches."""
from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from migrate.assess.catalog import load_catalog

ROOT = Path(__file__).resolve().parent.parent
ENGINE_FIXTURES = {"engine", "rich", "registry"}
"""Session fixtures (conftest.py) that start a real dockerd or registry."""
ENGINE_STARTERS = {"start_engine", "start_isolated_engine", "start_registry"}


def _engine_backed(tree: ast.Module) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if {a.arg for a in node.args.args} & ENGINE_FIXTURES:
                return True
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in ENGINE_STARTERS:
            return True
    return False


def _marked(tree: ast.Module) -> bool:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "pytestmark" for t in node.targets):
            return "pytest.mark.engine" in ast.unparse(node.value)
    return False


def test_every_engine_backed_test_file_carries_the_engine_marker() -> None:
    files = sorted((ROOT / "tests").glob("test_*.py"))
    backed = {f.name for f in files if _engine_backed(ast.parse(f.read_text(encoding="utf-8")))}
    unmarked = sorted(f.name for f in files if f.name in backed and not _marked(ast.parse(f.read_text("utf-8"))))
    assert len(backed) >= 6, backed  # the check sees the files that start engines
    assert unmarked == []


def test_the_marker_selects_exactly_the_engine_backed_tests() -> None:
    """`-m 'not engine'` runs without dockerd: nothing left in it asks for an engine fixture."""
    res = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "not engine",
                          "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-2000:]
    collected = {line.split("::")[0] for line in res.stdout.splitlines() if "::" in line}
    files = {f"tests/{f.name}" for f in (ROOT / "tests").glob("test_*.py")
             if _engine_backed(ast.parse(f.read_text(encoding="utf-8")))}
    assert collected and not (collected & files)


def test_every_rule_has_a_pass_and_a_fail_example() -> None:
    lacking = [f"{r.id}: {sorted({e.expect for e in r.examples})}" for r in load_catalog().rules
               if {e.expect for e in r.examples} != {"pass", "fail"}]
    assert lacking == []


def test_mypy_is_clean() -> None:
    """mypy as configured in pyproject.toml (Python 3.11, the per-module exceptions listed there)."""
    res = subprocess.run([sys.executable, "-m", "mypy", "--no-error-summary", "migrate"], cwd=ROOT,
                         capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]


def test_the_wheel_ships_no_caches(tmp_path: Path) -> None:
    """Built from a copy of the checkout as it is after a test run: byte-code caches beside the sources."""
    import py_compile
    import shutil

    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    for name in ("migrate", "rules", "samples"):
        shutil.copytree(ROOT / name, src / name)
    for package in ("samples", "migrate"):
        py_compile.compile(str(src / package / "__init__.py"), cfile=str(
            src / package / "__pycache__" / f"__init__.cpython-{sys.version_info[0]}{sys.version_info[1]}.pyc"))
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                          str(tmp_path / "dist"), str(src)], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("wsl2_migrate-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "migrate/volume_digest.sh" in names and "migrate/emit/collector.ps1" in names
    assert any(n.startswith("migrate/_samples/hyperv-2x/") for n in names)
    assert [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".pyo"))] == []


@pytest.mark.parametrize("name", ["scratch"])
def test_session_scratch_is_removed(name: str) -> None:
    """conftest's scratch fixture removes its folder at the end of the session (read from its source)."""
    tree = ast.parse((ROOT / "tests" / "conftest.py").read_text(encoding="utf-8"))
    fixture = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name)
    text = ast.unparse(fixture)
    assert "yield" in text and "rmtree" in text.split("yield", 1)[1]
