"""The host-file edit rules (migrate/rehearse/settingsfile.py) that runbook_lib.ps1 mirrors on Windows.

Expected results are written out by hand from the rules in docs/runbook.md and the functions' docstrings.
"""
from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from migrate.rehearse.settingsfile import (
    EditError,
    edit_ini_text,
    edit_json_document,
    json_equal,
    restore_json_document,
)

# ---------------------------------------------------------------------------------------------------------------
# edit_json_document


def test_ignore_case_keeps_the_files_spelling_and_place() -> None:
    before = {"autoStart": True, "WslEngineEnabled": False, "memoryMiB": 2048}
    after, previous = edit_json_document(before, {"wslEngineEnabled": True}, (), ignore_case=True)
    assert list(after.items()) == [("autoStart", True), ("WslEngineEnabled", True), ("memoryMiB", 2048)]
    assert previous == {"wslEngineEnabled": {"present": True, "value": False}}


def test_exact_case_replaces_a_key_spelled_otherwise_with_the_plans_spelling_last() -> None:
    before = {"Debug": True, "data-root": "D:\\docker", "labels": ["a"]}
    after, previous = edit_json_document(before, {"debug": False}, (), ignore_case=False)
    assert list(after.items()) == [("data-root", "D:\\docker"), ("labels", ["a"]), ("debug", False)]
    assert previous == {"debug": {"present": True, "value": True}}


def test_a_new_key_goes_last_and_was_absent() -> None:
    before = {"a": 1, "b": {"nested": [1, {"x": None}]}}
    after, previous = edit_json_document(before, {"registry-mirrors": ["https://m.example/"]}, (), ignore_case=False)
    assert list(after) == ["a", "b", "registry-mirrors"]
    assert after["b"] == {"nested": [1, {"x": None}]}
    assert previous == {"registry-mirrors": {"present": False, "value": None}}


def test_remove_any_spelling_only_with_ignore_case() -> None:
    before = {"Data-Root": "D:\\x", "graph": "old", "keep": 1}
    after, previous = edit_json_document(before, {}, ("data-root", "graph", "storage-driver"), ignore_case=True)
    assert after == {"keep": 1}
    assert previous == {"data-root": {"present": True, "value": "D:\\x"}, "graph": {"present": True, "value": "old"},
                        "storage-driver": {"present": False, "value": None}}
    after, previous = edit_json_document(before, {}, ("data-root", "graph"), ignore_case=False)
    assert after == {"Data-Root": "D:\\x", "keep": 1}
    assert previous == {"data-root": {"present": False, "value": None}, "graph": {"present": True, "value": "old"}}


def test_set_and_remove_together_and_the_input_is_not_changed() -> None:
    before = {"wslEngineEnabled": False, "useWindowsContainers": True, "other": [1, 2]}
    kept = copy.deepcopy(before)
    after, previous = edit_json_document(before, {"wslEngineEnabled": True, "autoStart": False},
                                         ("useWindowsContainers",), ignore_case=True)
    assert before == kept
    assert list(after.items()) == [("wslEngineEnabled", True), ("other", [1, 2]), ("autoStart", False)]
    assert previous == {"wslEngineEnabled": {"present": True, "value": False},
                        "autoStart": {"present": False, "value": None},
                        "useWindowsContainers": {"present": True, "value": True}}


def test_a_file_with_keys_differing_only_in_case_is_refused() -> None:
    """PowerShell's ConvertFrom-Json refuses it too, so the twin must not edit one the runbook cannot."""
    with pytest.raises(EditError, match="differing only in case"):
        edit_json_document({"debug": True, "Debug": False}, {"x": 1}, (), ignore_case=False)
    with pytest.raises(EditError, match="differing only in case"):
        restore_json_document({"a": 1, "A": 2}, {"a": {"present": False, "value": None}}, ("a",), ignore_case=True)


# ---------------------------------------------------------------------------------------------------------------
# restore_json_document


def test_restore_puts_back_values_and_removes_keys_that_were_absent() -> None:
    before = {"AutoStart": True, "theme": "dark"}
    edited, previous = edit_json_document(before, {"autoStart": False, "wslEngineEnabled": True}, (),
                                          ignore_case=True)
    assert edited == {"AutoStart": False, "theme": "dark", "wslEngineEnabled": True}
    restored = restore_json_document(edited, previous, ("autoStart", "wslEngineEnabled"), ignore_case=True)
    assert list(restored.items()) == [("AutoStart", True), ("theme", "dark")]
    # Only the keys named are restored.
    partial = restore_json_document(edited, previous, ("autoStart",), ignore_case=True)
    assert partial == {"AutoStart": True, "theme": "dark", "wslEngineEnabled": True}


def test_restore_without_a_record_is_refused() -> None:
    with pytest.raises(EditError, match="no previous value was recorded for autoStart"):
        restore_json_document({"autoStart": False}, {}, ("autoStart",), ignore_case=True)
    with pytest.raises(EditError, match="no previous value"):
        restore_json_document({"autoStart": False}, {"autoStart": True}, ("autoStart",), ignore_case=True)


def test_restore_of_an_absent_key_leaves_another_spelling_alone_without_ignore_case() -> None:
    doc = {"Debug": True}
    assert restore_json_document(doc, {"debug": {"present": False, "value": None}}, ("debug",),
                                 ignore_case=False) == {"Debug": True}
    assert restore_json_document(doc, {"debug": {"present": False, "value": None}}, ("debug",),
                                 ignore_case=True) == {}


def test_restore_is_the_edit_with_the_recorded_values() -> None:
    """A key recorded present is set back as edit-json sets a key (in daemon.json, the recorded spelling replaces
    another one), a key recorded absent removed as edit-json removes one."""
    previous = {"debug": {"present": True, "value": True}, "graph": {"present": False, "value": None}}
    before = {"Debug": False, "graph": "x", "keep": 1}
    assert list(restore_json_document(before, previous, ("debug", "graph"), ignore_case=False).items()) == \
        [("keep", 1), ("debug", True)]
    assert list(restore_json_document(before, previous, ("debug", "graph"), ignore_case=True).items()) == \
        [("Debug", True), ("keep", 1)]


_keys = st.sampled_from(["a", "A", "autoStart", "AUTOSTART", "wslEngineEnabled", "x-y", "\u00e9t\u00e9"])
_values = st.recursive(st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=3),
                       lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=2), inner,
                                                                                    max_size=2), max_leaves=4)


def _case_unique(d: dict) -> bool:
    return len({k.lower() for k in d}) == len(d)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_keys, _values).filter(_case_unique), st.dictionaries(_keys, _values).filter(_case_unique),
       st.lists(_keys, unique_by=str.lower, max_size=3))
def test_edit_then_restore_gives_back_the_document(before: dict, values: dict, remove: list[str]) -> None:
    """With ignore_case (how the planner uses restore-json-keys), restoring every key an edit named gives back
    the original values; only keys the edit named change at all. A key the edit removed comes back spelled as
    the plan names it (the record keeps values, not spellings): the same without case, which is how Docker
    Desktop's settings are read."""
    remove = [k for k in remove if k.lower() not in {v.lower() for v in values}]
    after, previous = edit_json_document(before, values, remove, ignore_case=True)
    named = {k.lower() for k in (*values, *remove)}
    assert {k: v for k, v in after.items() if k.lower() not in named} == \
        {k: v for k, v in before.items() if k.lower() not in named}
    restored = restore_json_document(after, previous, (*values, *remove), ignore_case=True)
    assert {k.lower(): v for k, v in restored.items()} == {k.lower(): v for k, v in before.items()}
    if not remove:
        assert restored == before


# ---------------------------------------------------------------------------------------------------------------
# json_equal


@pytest.mark.parametrize("a, b, equal", [
    (1, 1.0, True), (True, 1, False), (False, 0, False), (None, None, True), ("a", "A", False),
    ({"a": [1, {"b": None}]}, {"a": [1.0, {"b": None}]}, True), ({"a": 1}, {"a": 1, "b": 2}, False),
    ([1, 2], [2, 1], False), ({"a": 1, "b": 2}, {"b": 2, "a": 1}, True), ("1", 1, False), ([], {}, False),
])
def test_json_equal(a: object, b: object, equal: bool) -> None:
    assert json_equal(a, b) is equal and json_equal(b, a) is equal


# ---------------------------------------------------------------------------------------------------------------
# edit_ini_text


ENTRIES = [("memory", "4GB"), ("processors", "2")]


@pytest.mark.parametrize("raw, want, added", [
    # A new file: the section and the keys, CRLF.
    (b"", b"[wsl2]\r\nmemory=4GB\r\nprocessors=2\r\n", ["memory", "processors"]),
    # LF file: new lines follow the section's last non-blank line (a comment is one), with LF; blank lines stay
    # before the next section.
    (b"[wsl2]\nswap=0\n\n# note\n\n[experimental]\nx=1\n",
     b"[wsl2]\nswap=0\n\n# note\nmemory=4GB\nprocessors=2\n\n[experimental]\nx=1\n", ["memory", "processors"]),
    (b"[wsl2]\nswap=0\n\n\n[experimental]\n", b"[wsl2]\nswap=0\nmemory=4GB\nprocessors=2\n\n\n[experimental]\n",
     ["memory", "processors"]),
    # CRLF file, a key already set (other case, blanks around '='): it keeps its value.
    (b"[wsl2]\r\n  MEMORY = 8GB\r\n", b"[wsl2]\r\n  MEMORY = 8GB\r\nprocessors=2\r\n", ["processors"]),
    # Commented keys do not count.
    (b"[wsl2]\n# memory=8GB\n;processors=4\n", b"[wsl2]\n# memory=8GB\n;processors=4\nmemory=4GB\nprocessors=2\n",
     ["memory", "processors"]),
    # The section header without case and with blanks; a key of another section does not count.
    (b"[boot]\nmemory=1GB\n[ WSL2 ]\r\n", b"[boot]\nmemory=1GB\n[ WSL2 ]\r\nmemory=4GB\r\nprocessors=2\r\n",
     ["memory", "processors"]),
    # No such section: appended after a last line that lacked its line break.
    (b"[boot]\nsystemd=true", b"[boot]\nsystemd=true\n[wsl2]\nmemory=4GB\nprocessors=2\n", ["memory", "processors"]),
    # The section is last and its last line has no line break.
    (b"[wsl2]\r\nswap=0", b"[wsl2]\r\nswap=0\r\nmemory=4GB\r\nprocessors=2\r\n", ["memory", "processors"]),
    # A UTF-8 BOM is kept; non-ASCII text elsewhere is kept byte for byte.
    (b"\xef\xbb\xbf[wsl2]\r\nkernelCommandLine = a=b \xc3\xa9\r\n",
     b"\xef\xbb\xbf[wsl2]\r\nkernelCommandLine = a=b \xc3\xa9\r\nmemory=4GB\r\nprocessors=2\r\n",
     ["memory", "processors"]),
    # A BOM and nothing else.
    (b"\xef\xbb\xbf", b"\xef\xbb\xbf[wsl2]\r\nmemory=4GB\r\nprocessors=2\r\n", ["memory", "processors"]),
    # One CRLF anywhere makes the new lines CRLF.
    (b"[wsl2]\nswap=0\r\n", b"[wsl2]\nswap=0\r\nmemory=4GB\r\nprocessors=2\r\n", ["memory", "processors"]),
])
def test_edit_ini_text(raw: bytes, want: bytes, added: list[str]) -> None:
    assert edit_ini_text(raw, "wsl2", ENTRIES) == (want, added)


def test_edit_ini_text_changes_nothing_when_every_key_is_set() -> None:
    raw = b"[wsl2]\r\nmemory=8GB\r\nprocessors = 8 # mine\r\n\r\n"
    assert edit_ini_text(raw, "wsl2", ENTRIES) == (raw, [])


@pytest.mark.parametrize("raw", [b"[wsl2]\nmemory=\xe9\n", b"\xff\xfe[\x00w\x00", b"\xed\xa0\x80"])
def test_edit_ini_text_refuses_what_is_not_utf8(raw: bytes) -> None:
    with pytest.raises(EditError, match="not UTF-8"):
        edit_ini_text(raw, "wsl2", ENTRIES)


def test_edit_ini_text_keeps_every_other_byte() -> None:
    raw = b"; top\r\n[wsl2]\r\nswap=0\r\n\r\n[experimental]\r\nautoMemoryReclaim=gradual\r\n"
    out, _ = edit_ini_text(raw, "wsl2", ENTRIES)
    assert out.replace(b"memory=4GB\r\nprocessors=2\r\n", b"", 1) == raw
