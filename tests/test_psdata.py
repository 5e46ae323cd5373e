"""The test-side decoder of PowerShell data literals: PowerShell's meaning, and a loud failure on anything else."""
from __future__ import annotations

from typing import Any

import pytest

from tests.psdata import assignments, segments_text


def _value(expr: str) -> Any:
    return assignments(f"$x = {expr}\n", ("$x",))["$x"]


@pytest.mark.parametrize("expr, value", [
    ("'it''s'", "it's"),
    ("('caf' + [char]0x00e9)", "caf\u00e9"),
    ("('' + [char]0xd83d + [char]0xde00)", "\U0001f600"),
    ("0", 0),
    ("10737418240", 10737418240),
    ("$true", True),
    ("$false", False),
    ("$null", None),
    ("@()", []),
    ("@('a')", ["a"]),
    ("@('a', 'b')", ["a", "b"]),
    ("'a', 'b'", ["a", "b"]),
    # @() enumerates each statement's output one level: an array inside is flattened, a list of arrays is not.
    ("@(@('a', 'b'))", ["a", "b"]),
    ("@(@('a'), @('b'))", [["a"], ["b"]]),
    ("@(@())", []),
    ("@($null)", [None]),
    ("@(\n    'a'\n    # a comment\n    'b', 'c'\n)", ["a", "b", "c"]),
    ("@{}", {}),
    ("@{ A = 1; B = @{ C = @() } }", {"A": 1, "B": {"C": []}}),
    ("@{\n    A = 'x'\n    B = $null\n}", {"A": "x", "B": None}),
    ("@(@{ A = 1 }\n@{ A = 2 })", [{"A": 1}, {"A": 2}]),
])
def test_decodes_with_powershells_meaning(expr: str, value: Any) -> None:
    got = _value(expr)
    assert got == value and type(got) is type(value)
    if isinstance(value, list):
        assert [type(v) for v in got] == [type(v) for v in value]


@pytest.mark.parametrize("expr, message", [
    ('"expandable $x"', "not a single-quoted literal"),
    ("$x", "a variable in data"),
    ("$script:Other", "a variable in data"),
    ("1kb", "number literal"),
    ("0x10", "number literal"),
    ("1.5", "not a data expression"),
    ("-1", "unexpected"),
    ("99999999999999999999", "beyond Int64"),
    ("[char]0x41", "a \\[char\\]"),
    ("[int]5", "unexpected cast"),
    ("(Get-Date)", "unexpected"),
    ("Get-Date", "not a data expression"),
    ("@{ A = 1; a = 2 }", "duplicate key"),
    ("@{ 'A' = 1 }", "bare word"),
    ("@{ (1) = 1 }", "bare word"),
    ("'a' + 'b', 'c'", "unexpected"),
    ("@('a') + 'b'", "not a single-quoted literal|unexpected"),
    ("@'\nhere\n'@", "not a single-quoted literal|unexpected"),
    ("@(1 | Out-Null)", "not a data expression"),
])
def test_fails_loudly_on_anything_else(expr: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _value(expr)


def test_assignments_must_be_single_and_at_top_level() -> None:
    with pytest.raises(ValueError, match="assigned 2 times"):
        assignments("$x = 1\n$x = 2\n", ("$x",))
    with pytest.raises(ValueError, match="assigned 0 times"):
        assignments("$y = 1\n", ("$x",))
    with pytest.raises(ValueError, match="inside a block"):
        assignments("function Get-X {\n    $x = 1\n}\n", ("$x",))
    with pytest.raises(ValueError, match="not a plain assignment"):
        assignments("$x += 1\n", ("$x",))
    with pytest.raises(ValueError, match="does not parse"):
        assignments("$x = @(\n", ("$x",))
    assert assignments("$SCRIPT:x = 1\n", ("$script:X",)) == {"$script:X": 1}  # names ignore case


def test_segments_text_joins_backup_paths_as_the_runbook_does() -> None:
    segments = ["save -o \"", {"Backup": "images/a.tar"}, "\" ", {"Backup": ""}]
    assert segments_text(segments, "C:\\B r") == 'save -o "C:\\B r\\images\\a.tar" C:\\B r'
    for bad in ([1], [{"Backup": 1}], [{"Backup": "x", "Other": 1}], "text"):
        with pytest.raises(ValueError):
            segments_text(bad, "C:\\B")
