"""Reading `docker inspect` arrays one object at a time, and writing the inventory in pieces: the same values and
the same bytes as the whole-file forms, the same one-line errors."""
from __future__ import annotations

import codecs
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from migrate.errors import InputError
from migrate.inventory import textfile
from migrate.inventory.scan import ScanOptions, scan
from migrate.model import dump_pieces, dumps, to_data

ROOT = Path(__file__).resolve().parent.parent

# Strings any file can carry: a NUL or a lone surrogate is refused by the reader, as by read_json (tested there).
_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text.map(lambda t: t[:5]), inner, max_size=4),
    max_leaves=12)
ENCODINGS = [("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("utf-16-le", codecs.BOM_UTF16_LE),
             ("utf-16-be", codecs.BOM_UTF16_BE)]


@pytest.fixture
def tiny_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(textfile, "_CHUNK", 5)  # every value is cut by a chunk boundary somewhere


@settings(max_examples=150, deadline=None)
@given(items=st.lists(_json, max_size=6), indent=st.sampled_from([None, 4]), enc=st.sampled_from(ENCODINGS))
def test_items_are_what_json_loads_reads(tmp_path_factory: pytest.TempPathFactory, items: list,
                                         indent: int | None, enc: tuple[str, bytes]) -> None:
    textfile._CHUNK, saved = 5, textfile._CHUNK
    try:
        path = tmp_path_factory.mktemp("s") / "a.json"
        path.write_bytes(enc[1] + json.dumps(items, indent=indent, ensure_ascii=False).encode(enc[0]))
        assert list(textfile.iter_json_array(path)) == json.loads(json.dumps(items))
    finally:
        textfile._CHUNK = saved


@pytest.mark.parametrize("text", ['[{"a": 1} {"b": 2}]', '[{"a": 1},]', '[\n {"a": 1},\n {"b": x}\n]', "[1, 2] 3",
                                  '{"a": 1} x', "nope"])
def test_errors_name_the_same_position_as_json_loads(tmp_path: Path, tiny_chunks: None, text: str) -> None:
    path = tmp_path / "x.json"
    path.write_text(text)
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    with pytest.raises(InputError) as got:
        list(textfile.iter_json_array(path))
    where = f"line {expected.value.lineno} column {expected.value.colno}"
    assert got.value.message.startswith(f"{path}: malformed JSON at {where}")


def test_an_object_is_one_item_an_empty_file_none_and_a_scalar_an_error(tmp_path: Path, tiny_chunks: None) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"Id": "a"}')
    assert list(textfile.iter_json_array(path)) == [{"Id": "a"}]
    path.write_text("  \n")
    assert list(textfile.iter_json_array(path)) == []
    path.write_text('"text"')
    with pytest.raises(InputError, match="expected a JSON array"):
        list(textfile.iter_json_array(path))
    with pytest.raises(InputError, match="no such file"):
        list(textfile.iter_json_array(tmp_path / "absent.json"))


@pytest.mark.parametrize("sample", ["hyperv-2x", "lcow", "near-wsl2"])
def test_the_pieces_are_dumps_byte_for_byte(sample: str) -> None:
    inv = scan(ScanOptions(bundle=ROOT / "samples" / sample, use_engine=False), "t")
    data = to_data(inv)
    if data["hyperv_engine"] is None:
        del data["hyperv_engine"]  # absent, it is left out (model._OPTIONAL_KEYS)
    whole = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    assert "".join(dump_pieces(inv)) == whole == dumps(inv)
    assert sum(1 for _ in dump_pieces(inv)) > len(inv.containers)  # one piece per object at least


def test_a_nul_a_deep_item_and_a_huge_file_are_refused_as_read_json_refuses_them(
        tmp_path: Path, tiny_chunks: None, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "x.json"
    path.write_text('[{"Name": "ok"}, {"Name": "a\\u0000b"}]')
    with pytest.raises(InputError, match="NUL"):
        list(textfile.iter_json_array(path))
    path.write_text("[" + "[" * 70 + "]" * 70 + "]")
    with pytest.raises(InputError, match="nested deeper"):
        list(textfile.iter_json_array(path))
    monkeypatch.setitem(textfile.LIMITS, "engine-objects", 100)
    path.write_text("[" + ",".join(['{"Id": "x"}'] * 50) + "]")
    with pytest.raises(InputError, match="larger than"):
        list(textfile.iter_json_array(path))
    fifo = tmp_path / "fifo"
    import os

    os.mkfifo(fifo)
    with pytest.raises(InputError, match="FIFO"):
        list(textfile.iter_json_array(fifo))
