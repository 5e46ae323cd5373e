"""Fuzzing every reader: bundle files, settings, daemon.json, .wslconfig, plan.toml and inventory.json.

Each example takes a valid input (the hyperv-2x sample bundle, its inventory, its plan) and breaks one file the
way real files break or are broken on purpose: cut short, a value of the wrong type, null, deep nesting, a
huge string or number, invalid bytes, a NUL or a lone surrogate, a link or a FIFO where a file should be. The
property: the command exits 0 or 2, never another code, never with a traceback, and never leaves an output
file behind unless it succeeded. Examples are derandomized so CI runs the same ones every time.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from migrate.cli import app
from migrate.errors import InputError
from migrate.plan.planfile import parse_plan, render_plan

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "hyperv-2x"
WSLCONFIG = "[wsl2]\nmemory=8GB\nprocessors=4\n\n[experimental]\nautoMemoryReclaim=gradual\n"
# FUZZ_EXAMPLES=300 FUZZ_RANDOM=1 runs a longer, freshly seeded search locally; CI runs the same 30 each time.
FUZZ = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "30")), deadline=None,
                derandomize=not os.environ.get("FUZZ_RANDOM"), database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

BUNDLE_FILES = ["manifest.json", "engine/info.json", "engine/version.json", "engine/images.json",
                "engine/containers.json", "engine/volumes.json", "engine/networks.json", "engine/df.json",
                "desktop/settings.json", "desktop/settings-store.json", "desktop/admin-settings.json",
                "desktop/daemon.json", "desktop/windows-daemon.json", "host/wslconfig", "host/facts.json"]
HYPERV_FILES = ["engine-hyperv/info.json", "engine-hyperv/version.json", "engine-hyperv/images.json",
                "engine-hyperv/containers.json", "engine-hyperv/volumes.json", "engine-hyperv/networks.json",
                "engine-hyperv/df.json"]
"""The LCOW host's second engine (docs/bundle.md), broken in the lcow sample."""
ADMIN_SETTINGS = {"configurationFileVersion": 2, "blockDockerLoad": {"locked": True, "value": False},
                  "linuxVM": {"dockerDaemonOptions": {"locked": True, "value": "{\"debug\": false}"}}}

_BAD_VALUES = [True, False, None, 0, -5, -813953096, 2**70, 1e308, "", "-x", "--output=C:/evil.tar:latest",
               "\u0000", "\ud800", "x" * 70_000, [], {}, [None], {"a": True}, [[[[[[]]]]]]]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a JSON value (keys and indexes), the root included."""
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value[:20]):
            out += _paths(v, (*prefix, i))
    return out


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    value[path[0]] = _replace(value[path[0]], path[1:], new)
    return value


def _deep(depth: int) -> Any:
    node: Any = 1
    for i in range(depth):
        node = [node] if i % 2 else {"k": node}
    return node


@st.composite
def broken(draw: st.DrawFn, original: bytes) -> bytes:
    """original bytes broken one way."""
    how = draw(st.sampled_from(["truncate", "value", "value", "value", "deep", "bytes", "encoding", "empty"]))
    if how == "truncate":
        return original[: draw(st.integers(0, max(0, len(original) - 1)))]
    if how == "bytes":
        at = draw(st.integers(0, max(0, len(original) - 1)))
        return original[:at] + draw(st.binary(min_size=1, max_size=40)) + original[at:]
    if how == "encoding":
        return b"\xff\xfe" + original[:200] if draw(st.booleans()) else original.replace(b"e", b"\xe9", 3)
    if how == "empty":
        return b""
    try:
        data = json.loads(original)
    except ValueError:  # .wslconfig: a line of anything
        return original + draw(st.text(max_size=200)).encode("utf-8", "surrogatepass")
    if how == "deep":
        path = draw(st.sampled_from(_paths(data)))
        data = _replace(data, path, _deep(draw(st.sampled_from([70, 1200, 5000]))))
    else:
        path = draw(st.sampled_from(_paths(data)))
        data = _replace(data, path, draw(st.sampled_from(_BAD_VALUES)))
    try:
        return json.dumps(data).encode("utf-8", "surrogatepass")
    except RecursionError:
        return b"[" * 5000 + b"]" * 5000


def _fresh_bundle(root: Path, sample: str = "hyperv-2x") -> Path:
    bundle = root / "bundle"
    shutil.copytree(ROOT / "samples" / sample, bundle)
    if sample == "hyperv-2x":
        (bundle / "host" / "wslconfig").write_text(WSLCONFIG, encoding="utf-8")
        shutil.copy(bundle / "desktop" / "daemon.json", bundle / "desktop" / "windows-daemon.json")
        shutil.copy(ROOT / "tests" / "data" / "settings" / "settings-store-pascal.json",
                    bundle / "desktop" / "settings-store.json")
        (bundle / "desktop" / "admin-settings.json").write_text(json.dumps(ADMIN_SETTINGS), encoding="utf-8")
    return bundle


def _check_cli(args: list[str], out: Path, parse: Callable[[str], Any] = json.loads) -> None:
    """The property, for one command line; parse reads a successful command's output."""
    result = CliRunner().invoke(app, args)
    detail = "".join(traceback.format_exception(*result.exc_info)) if result.exc_info else ""
    assert result.exit_code in (0, 2), (args, result.exit_code, result.output, detail)
    assert "Traceback" not in result.output, result.output
    if result.exit_code == 0:
        assert out.is_file(), "a successful command writes its output"
        parse(out.read_text(encoding="utf-8"))
    else:
        assert not out.exists(), "a failed command leaves no output file"
        assert "internal error" not in result.output
    # No temporary file left beside the output either.
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]


def _fuzz_scan(rel: str, place: Callable[[Path, Path, bytes], list[str]], sample: str = "hyperv-2x") -> None:
    """Break the sample's file rel every way; place(base, work, data) writes it and gives the scan's source flags."""
    with tempfile.TemporaryDirectory() as tmp:
        base = _fresh_bundle(Path(tmp) / "base", sample)

        @FUZZ
        @given(broken((base / rel).read_bytes()))
        def check(data: bytes) -> None:
            with tempfile.TemporaryDirectory() as work:
                out = Path(work) / "out" / "inventory.json"
                out.parent.mkdir()
                _check_cli(["scan", *place(base, Path(work), data), "-o", str(out), "-q"], out)

        check()


@pytest.mark.parametrize(("sample", "rel"), [("hyperv-2x", r) for r in BUNDLE_FILES] +
                         [("lcow", r) for r in HYPERV_FILES])
def test_bundle_file_broken_any_way_is_read_or_refused(sample: str, rel: str) -> None:
    def place(base: Path, work: Path, data: bytes) -> list[str]:
        bundle = work / "b"
        shutil.copytree(base, bundle)
        (bundle / rel).write_bytes(data)
        return ["--bundle", str(bundle)]

    _fuzz_scan(rel, place, sample)


def test_the_fuzzed_bundle_files_are_all_read() -> None:
    """Each file broken above is one the scan reads (a cut-off copy is refused naming it), else fuzzing it proves
    nothing."""
    with tempfile.TemporaryDirectory() as tmp:
        for sample, files in (("hyperv-2x", BUNDLE_FILES), ("lcow", HYPERV_FILES)):
            base = _fresh_bundle(Path(tmp) / sample, sample)
            for rel in files:
                bundle = Path(tmp) / "b" / sample / rel.replace("/", "-")
                shutil.copytree(base, bundle)
                (bundle / rel).write_bytes((bundle / rel).read_bytes()[:-2] if rel != "host/wslconfig" else b"\xff")
                out = bundle.parent / "inventory.json"
                result = CliRunner().invoke(app, ["scan", "--bundle", str(bundle), "-o", str(out), "-q"])
                read = result.exit_code == 2 and rel.split("/")[-1] in result.output
                if rel == "host/wslconfig":  # not UTF-8: WSL ignores it, a problem noted (DESK012), not an error
                    read = result.exit_code == 0 and "not valid UTF-8" in out.read_text(encoding="utf-8")
                assert read, (rel, result.exit_code, result.output)


SINGLE_FLAGS = [("--settings", "desktop/settings.json"), ("--daemon-config", "desktop/daemon.json"),
                ("--wslconfig", "host/wslconfig"), ("--host-facts", "host/facts.json"),
                ("--engine-info", "engine/info.json"), ("--engine-info", "engine/version.json")]


@pytest.mark.parametrize(("flag", "rel"), SINGLE_FLAGS)
def test_single_file_flag_broken_any_way_is_read_or_refused(flag: str, rel: str) -> None:
    def place(base: Path, work: Path, data: bytes) -> list[str]:
        path = work / Path(rel).name
        path.write_bytes(data)
        return [flag, str(path)]

    _fuzz_scan(rel, place)


def _sample_inventory_and_plan(tmp: Path) -> tuple[Path, Path]:
    inv, plan = tmp / "inventory.json", tmp / "plan.toml"
    result = CliRunner().invoke(app, ["scan", "--bundle", str(SAMPLE), "-o", str(inv), "-q"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(app, ["plan", str(inv), "-o", str(plan)])
    assert result.exit_code == 0, result.output
    return inv, plan


def test_inventory_json_broken_any_way_is_assessed_or_refused() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        inv, _ = _sample_inventory_and_plan(Path(tmp))
        original = inv.read_bytes()

        @FUZZ
        @given(broken(original))
        def check(data: bytes) -> None:
            with tempfile.TemporaryDirectory() as work:
                path = Path(work) / "inventory.json"
                path.write_bytes(data)
                out = Path(work) / "out" / "report.json"
                out.parent.mkdir()
                _check_cli(["assess", str(path), "-f", "json", "-o", str(out)], out)
                # The plan reads the same inventory: sizes and counts feed its estimate and its TOML.
                plan = Path(work) / "out" / "plan.toml"
                _check_cli(["plan", str(path), "-o", str(plan)], plan, parse_plan)

        check()


def _toml_breakages(original: str) -> st.SearchStrategy[str]:
    lines = original.splitlines()
    return st.one_of(
        st.integers(0, len(original)).map(lambda n: original[:n]),
        st.tuples(st.integers(0, len(lines)), st.sampled_from([
            "x = " + "[" * 5000 + "]" * 5000, "switch = 5", 'schema = "wsl2-migrate/plan/9"', "[images]",
            'strategy = true', "size = -1", 'bad = "\\u0000"', "create = [1, 2]", "[containers.x]", "= =",
            "depends_on = " + "{ a = " * 300 + "1" + " }" * 300, 'wslconfig = { memory = ["8GB"] }',
        ])).map(lambda t: "\n".join(lines[: t[0]] + [t[1]] + lines[t[0]:])),
    )


def test_plan_toml_broken_any_way_is_read_or_refused() -> None:
    """parse_plan returns a Plan or raises InputError; re-planning into the broken file does the same."""
    with tempfile.TemporaryDirectory() as tmp:
        _, plan = _sample_inventory_and_plan(Path(tmp))
        original = plan.read_text(encoding="utf-8")
        good = parse_plan(original, "plan.toml")

        @FUZZ
        @given(_toml_breakages(original))
        def check(text: str) -> None:
            try:
                parse_plan(text, "p.toml")
            except InputError as exc:
                assert exc.message.startswith("p.toml: ") and "\n" not in exc.message
            try:
                render_plan(good, previous=text, previous_name="p.toml")
            except InputError as exc:
                assert exc.message.startswith("p.toml: ")

        check()


def test_plan_toml_broken_any_way_gives_a_runbook_or_exit_2() -> None:
    """Through the command a user runs: `runbook p.toml -o migrate.ps1` exits 0 or 2 and leaves no partial file."""
    with tempfile.TemporaryDirectory() as tmp:
        _, plan = _sample_inventory_and_plan(Path(tmp))
        original = plan.read_text(encoding="utf-8")

        def ps1(text: str) -> None:
            assert text.startswith("#Requires") or "param(" in text, text[:200]

        @FUZZ
        @given(_toml_breakages(original))
        def check(text: str) -> None:
            with tempfile.TemporaryDirectory() as work:
                path = Path(work) / "p.toml"
                path.write_text(text, encoding="utf-8")
                out = Path(work) / "out" / "migrate.ps1"
                out.parent.mkdir()
                _check_cli(["runbook", str(path), "-o", str(out), "--force"], out, ps1)

        check()


def test_bundle_links_and_special_files_are_refused() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for rel, make in [("host/wslconfig", lambda p: p.symlink_to("/etc/shadow")),
                          ("desktop/settings.json", lambda p: p.symlink_to("../../elsewhere.json")),
                          ("engine/info.json", lambda p: os.mkfifo(p)),
                          ("engine/images.json", lambda p: p.mkdir())]:
            bundle = _fresh_bundle(Path(tmp) / rel.replace("/", "-"))
            (Path(tmp) / rel.replace("/", "-") / "elsewhere.json").write_text("{}")
            target = bundle / rel
            target.unlink()
            make(target)
            out = bundle.parent / "inventory.json"
            result = CliRunner().invoke(app, ["scan", "--bundle", str(bundle), "-o", str(out), "-q"])
            assert result.exit_code == 2, (rel, result.output)
            assert str(target) in result.output and not out.exists(), result.output
