"""The fast plan.toml reader against tomllib: the same data, types and key order, or tomllib's own error."""
from __future__ import annotations

import dataclasses
import functools
import random
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bench.plan import synthetic
from migrate.errors import InputError
from migrate.plan.decide import decide
from migrate.plan.model import ComposePlan, Plan
from migrate.plan.planfile import parse_plan, render_plan, strip_reasons, toml_key, toml_value
from migrate.plan.tomlfast import fast, loads
from tests.simworld import inventory
from tests.test_runbook import HOSTILE

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = sorted((ROOT / "tests" / "golden").glob("*.plan.toml"))
SAMPLES = ("hyperv-2x", "lcow", "near-wsl2")
PROPERTY = settings(max_examples=300, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def shape(x: Any) -> Any:
    """A value with its types and key order made visible (== alone takes True for 1 and ignores key order)."""
    if isinstance(x, dict):
        return ("dict", [(k, shape(v)) for k, v in x.items()])
    if isinstance(x, list):
        return ("list", [shape(v) for v in x])
    return (type(x).__name__, repr(x))  # repr: nan equals itself


def tomllib_result(text: str) -> tuple[Any, str | None]:
    """tomllib's answer: (shape, None) or (None, 'ErrorType: message')."""
    try:
        return shape(tomllib.loads(text)), None
    except (tomllib.TOMLDecodeError, RecursionError) as e:
        return None, f"{type(e).__name__}: {e}"


def assert_same_as_tomllib(text: str) -> bool:
    """loads(text) is tomllib's answer, and so is the fast path's whenever it answers; True when it answered."""
    expected, error = tomllib_result(text)
    quick = fast(text)
    if quick is not None:
        assert error is None, f"the fast path accepted what tomllib refuses ({error})"
        assert shape(quick) == expected
    try:
        got: tuple[Any, str | None] = shape(loads(text)), None
    except (tomllib.TOMLDecodeError, RecursionError) as e:
        got = None, f"{type(e).__name__}: {e}"
    assert got == (expected, error)
    return quick is not None


def _hostile_plan(plan: Plan) -> Plan:
    """The plan with hostile text in names (table keys), arguments, labels, tags, compose and switch tables."""
    h = [v for v in dict.fromkeys(HOSTILE)]
    containers = tuple(dataclasses.replace(
        c, name=h[i % len(h)] + ("" if i < len(h) else str(i)), create=("create", *h), connect=(tuple(h), ("x",)),
        depends_on=tuple(h[:3]), compose=ComposePlan(h[i % len(h)], h[-1], h[2], tuple(h), bool(i % 2)))
        for i, c in enumerate(plan.containers))
    volumes = tuple(dataclasses.replace(v, name=h[(i + 3) % len(h)] + str(i), labels={x: x for x in h},
                                        options={h[2]: h[5]}) for i, v in enumerate(plan.volumes))
    images = tuple(dataclasses.replace(im, tags=tuple(h), reference=h[i % len(h)])
                   for i, im in enumerate(plan.images))
    switch = dataclasses.replace(plan.switch, wslconfig={x: x for x in h}, linux_daemon_set={h[1]: tuple(h)},
                                 desktop_user=h[2], manual=tuple(h))
    return dataclasses.replace(plan, containers=containers, volumes=volumes, images=images, switch=switch,
                               backup_path=h[3], problems=tuple(h))


@functools.cache
def plan_texts() -> dict[str, str]:
    """Plans the real decide/render_plan write: the samples, a synthetic inventory, and a hostile plan."""
    out = {}
    for sample in SAMPLES:
        out[sample] = render_plan(decide(inventory(sample), None, "test"))[0]
    out["synthetic"] = render_plan(decide(synthetic(200), None, "test"))[0]
    out["hostile"] = render_plan(_hostile_plan(decide(inventory("hyperv-2x"), None, "test")))[0]
    return out


# --- plans as written --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [*SAMPLES, "synthetic", "hostile"])
def test_written_plans_take_the_fast_path_and_read_as_tomllib_reads_them(name: str) -> None:
    text = plan_texts()[name]
    assert fast(text) is not None, "a plan render_plan wrote left the fast path"
    assert assert_same_as_tomllib(text)


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.name)
def test_golden_plans_read_identically(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert fast(text) is not None
    assert assert_same_as_tomllib(text)
    assert assert_same_as_tomllib(text.replace("\n", "\r\n"))  # saved by a Windows editor


def test_hostile_values_round_trip_through_parse_plan() -> None:
    plan = _hostile_plan(decide(inventory("hyperv-2x"), None, "test"))
    text = render_plan(plan)[0]
    assert fast(text) is not None
    assert parse_plan(text) == strip_reasons(plan)
    data = loads(text)
    assert set(HOSTILE) <= set(data["plan"]["problems"]) and "\udc80" in "".join(data["switch"]["wslconfig"])


# --- values the writer can write --------------------------------------------------------------------------------

_TEXT = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=12),
                  st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x7F), max_size=8),
                  st.text(alphabet=st.sampled_from(['"', "\\", "'", "#", "\t", "\x7f", "\ud800", "\U0001F600", "="]),
                          max_size=6))
_SCALAR = st.one_of(_TEXT, st.booleans(), st.integers(min_value=-(2**63), max_value=2**63 - 1))
_VALUE = st.recursive(_SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=6),
                                                       st.dictionaries(_TEXT, inner, max_size=4)), max_leaves=12)


def _depth(v: Any) -> int:
    if isinstance(v, list):
        return 1 + max(map(_depth, v), default=0)
    if isinstance(v, dict):
        return 1 + max(map(_depth, v.values()), default=0)
    return 0


@PROPERTY
@given(st.dictionaries(_TEXT, st.dictionaries(_TEXT, _VALUE, max_size=5), max_size=4))
def test_any_value_the_writer_writes_reads_back_exactly(tables: dict[str, dict[str, Any]]) -> None:
    text = "".join(f"[t.{toml_key(name)}]\n" + "".join(f"{toml_key(k)} = {toml_value(v)}\n" for k, v in body.items())
                   + "\n" for name, body in tables.items())
    assert tomllib.loads(text) == ({"t": tables} if tables else {})
    answered = assert_same_as_tomllib(text)
    if all(_depth(v) <= 3 for body in tables.values() for v in body.values()):
        assert answered, "a value the writer wrote left the fast path"


# --- edited and broken plans -------------------------------------------------------------------------------------

_FRAGMENTS = ['"', "'", "\\", "#", "[", "]", "{", "}", ",", "=", ".", " ", "\t", "\r", "\n", "\r\n", "\x00", "\x7f",
              "\x1f", "\\u", "\\U0001F600", "\\uD800", "\\ud83d\\ude00", "\\e", "\\x41", "\\/", '"""', "'''", "1.5",
              "0x1F", "1979-05-27", "07:32:00", "inf", "nan", "+1", "-0", "1_000", "00", "12345678901234567890",
              "true", "false", "\ufeff", "\u2028", "\x85", "\udc80", "\u00e9", "\U0001F600", '"a" = 1', "a = 1",
              "[a]", "[[a]]", "a.b = 1", "[plan]", "[switch]", "= {}", "{ a = 1, a = 2 }", '{ "a" = 1, "\\u0061" = 2 }',
              "[\n", ",\n]", "# c", "\n# c\n", "strategy", "create", "tags"]


def _mutate(text: str, rnd: random.Random) -> str:
    """One edit of the kinds hands and tools make: lines deleted, doubled, swapped; characters inserted or removed;
    quoting changed; comments added; line ends changed."""
    lines = text.split("\n")
    i, j = rnd.randrange(len(lines)), rnd.randrange(len(lines))
    op = rnd.randrange(11)
    if op == 0:
        del lines[i]
    elif op == 1:
        lines.insert(i, lines[i])
    elif op == 2:
        lines[i], lines[j] = lines[j], lines[i]
    elif op == 3:
        lines.insert(j, lines.pop(i))
    elif op == 4:
        c = rnd.randrange(len(lines[i]) + 1)
        lines[i] = lines[i][:c] + rnd.choice(_FRAGMENTS) + lines[i][c:]
    elif op == 5:
        c = rnd.randrange(len(lines[i]) + 1)
        lines[i] = lines[i][:c] + lines[i][c + rnd.randrange(1, 4):]
    elif op == 6:
        c = rnd.randrange(len(lines[i]) + 1)
        lines[i] = lines[i][:c] + chr(rnd.choice([rnd.randrange(0x20), rnd.randrange(0x20, 0x3000), 0x7F])) \
            + lines[i][c + 1:]
    elif op == 7:
        lines[i] = lines[i].replace('"', "'", 2) if rnd.random() < 0.7 else lines[i].replace('"', '"""', 2)
    elif op == 8:
        lines[i] += rnd.choice(["  # edited", "# x", " #", "\t# \u00e9 \U0001F600", " # \x01"])
        lines.insert(j, rnd.choice(["# my note", "   # indented", "#", ""]))
    elif op == 9:
        return "\r\n".join(lines) if rnd.random() < 0.5 else "\n".join(lines[:i]) + "\r" + "\n".join(lines[i:])
    else:
        lines[i] = lines[i].rstrip(",") if lines[i].endswith(",") else lines[i] + ","
    return "\n".join(lines)


def _small_texts() -> list[str]:
    texts = plan_texts()
    return [texts["hyperv-2x"], texts["lcow"], texts["near-wsl2"], texts["hostile"],
            texts["synthetic"][:6000]]  # a cut mid-table, mid-array: broken as a truncated file is


@PROPERTY
@given(st.integers(min_value=0, max_value=4), st.integers(min_value=1, max_value=4), st.randoms(use_true_random=False))
def test_mutated_plans_read_as_tomllib_reads_them_or_fail_as_it_fails(which: int, edits: int,
                                                                       rnd: random.Random) -> None:
    text = _small_texts()[which]
    for _ in range(edits):
        text = _mutate(text, rnd)
    event("fast path" if assert_same_as_tomllib(text) else "tomllib")


def test_mutations_reach_both_paths() -> None:
    """The property above is only worth something if edits stay on the fast path and broken files leave it."""
    rnd = random.Random(12)
    fast_ok = refused = 0
    for n in range(1500):
        text = _mutate(_small_texts()[n % 5], rnd)
        answered = assert_same_as_tomllib(text)
        fast_ok += answered
        refused += tomllib_result(text)[1] is not None
    assert fast_ok > 300 and refused > 300, (fast_ok, refused)


def _move_up(text: str, key: str, by: int) -> str:
    lines = text.split("\n")
    k = next(i for i, line in enumerate(lines) if line.startswith(key))
    lines.insert(k - by, lines.pop(k))
    return "\n".join(lines)


EDITS: dict[str, Callable[[str], str]] = {
    "value changed": lambda t: t.replace('strategy = "repull"', 'strategy = "save"', 1),
    "comment after a value": lambda t: t.replace("helper_pull = false", "helper_pull = false  # pulled by IT"),
    "own comment line": lambda t: t.replace("[switch]\n", "[switch]\n# ask Jo before the switch\n"),
    "array item commented out": lambda t: t.replace('    "--name",\n', '    # "--name", was here\n', 1),
    "trailing comma removed": lambda t: t.replace('",\n]', '"\n]', 1),
    "spaces around": lambda t: t.replace("stop_timeout = 10", "stop_timeout=10   ", 1),
    "header with blanks": lambda t: t.replace("[switch]", "[ switch ]"),
    "quoted header part": lambda t: t.replace("[plan]", '["plan"]'),
    "line deleted": lambda t: t.replace("helper_pull = false\n", ""),
    "key moved up": lambda t: _move_up(t, "estimated_seconds", 3),
    "CRLF": lambda t: t.replace("\n", "\r\n"),
    "no newline at the end": lambda t: t.rstrip("\n"),
    "tabs": lambda t: t.replace("    ", "\t"),
}


@pytest.mark.parametrize("edit", EDITS, ids=list(EDITS))
def test_ordinary_edits_stay_on_the_fast_path(edit: str) -> None:
    before = GOLDEN[0].read_text(encoding="utf-8")
    text = EDITS[edit](before)
    assert text != before
    assert fast(text) is not None, edit
    assert assert_same_as_tomllib(text)


# --- the edges of the subset -------------------------------------------------------------------------------------

FAST = [
    'a = "tab\there"', "a = -0", "a = [ ]", "a = { }", "a = []\nb = {}", '[ x . "y" ]\nk = 1', '"" = 1',
    "# only a comment", "a = 1 # no newline at the end", "a = [\n  1, # one\n  2, # two\n  # none\n]",
    "a = [{ x = 1 }, { y = [1, 2] }]", 'a = { x = [\n 1,\n 2,\n], y = "z" }', "[a.b]\nx = 1\n[a]\ny = 2",
    "[a]\n[a.b]\n[a.c]\nk = true", 'a = "\\u00e9\\u0000\\b\\t\\n\\f\\r\\"\\\\"', 'a = "\U0001F600 \udc80 \x85"',
    "a = [[[1]]]", "a = [\n[\n1,\n],\n]", "a = [1,\n2]", "  a  =  1  ", "a = 9223372036854775807",
    "a = -9223372036854775808", '"a\\"b" = 1\n"a\\u0022b2" = 2', "a = [\"#\", \"]\", \",]\"]",
]


@pytest.mark.parametrize("text", FAST)
def test_subset_edges_read_fast_and_identically(text: str) -> None:
    assert fast(text) is not None
    assert assert_same_as_tomllib(text)


SLOW = [
    "a = 'literal'", 'a = """multi"""', "a = '''multi'''", "a = 1.5", "a = 1e5", "a = inf", "a = nan",
    "a = 1979-05-27", "a = 07:32:00", "a = 1979-05-27T07:32:00Z", "a = 0x1F", "a = 0o7", "a = 0b1", "a = +1",
    "a = 1_000", 'a = "\\U0001F600"', "a.b = 1", "[[a]]\nx = 1", "a = 12345678901234567890", "'k' = 1",
    "a = [[[[1]]]]",
]


@pytest.mark.parametrize("text", SLOW)
def test_valid_toml_outside_the_subset_goes_to_tomllib(text: str) -> None:
    assert fast(text) is None
    assert tomllib_result(text)[1] is None
    assert not assert_same_as_tomllib(text)


BROKEN = [
    "a = 1\na = 2", '"a" = 1\na = 2', 'a = 1\n"\\u0061" = 2', "[a]\n[a]", '[a]\n["a"]', "[a.b]\n[a.b]",
    "a = 1\n[a]", "a = {}\n[a]", "a = []\n[a]", "a = { b = 1 }\n[a.b]", "[a.b]\n[a]\nb = 1", "a = { b = 1, b = 2 }",
    'a = { b = 1, "\\u0062" = 2 }', "a = [{ b = 1, b = 2 }]", "a = { b = 1, }", "a = {\n b = 1 }", 'a = "\\uD800"',
    'a = "\\ud83d\\ude00"', 'a = "\\e"', 'a = "\\x41"', 'a = "\\/"', "a = [,]", "a = [1,,2]", "a = [1 2]",
    "a = 1 b = 2", "[a] b = 1", "a = 01", "a = -", "a = tru", "a = [1", "a = [1 # ]", "a = \"x", "a = \"x\ny\"",
    "a = 1\r", "a = \"\x01\"", "a = \"\x7f\"", "# \x7f", "# \x00", "a = \ufeff1", "\ufeffa = 1", "a = 1\n[a\n",
    "= 1", "a =", "a = [1]]", "a = {}}", "[]", "[a.]", "[.a]", "a = \"\u2028\"\u2028",
]


@pytest.mark.parametrize("text", BROKEN)
def test_what_tomllib_refuses_the_fast_path_refuses(text: str) -> None:
    assert fast(text) is None
    assert tomllib_result(text)[1] is not None
    assert not assert_same_as_tomllib(text)


def test_parse_plan_errors_are_tomllib_errors() -> None:
    text = (GOLDEN[0]).read_text(encoding="utf-8").replace("[switch]\n", "[switch]\nhold_autostart = true\n", 1)
    with pytest.raises(tomllib.TOMLDecodeError) as raised:
        tomllib.loads(text)
    with pytest.raises(InputError) as refused:
        parse_plan(text, "edited.toml")
    assert str(refused.value) == f"edited.toml: not valid TOML: {raised.value}"
