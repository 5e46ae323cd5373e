"""journal.json and artifacts.json as the rehearsal reads them: entries with every key ENTRY_KEYS names, else the
file is named as damaged (as the runbook's Get-RequiredProperty names it), after the format and plan checks."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from migrate.errors import InputError
from migrate.plan.steps import ENTRY_KEYS, JOURNAL_FORMAT
from migrate.rehearse.journal import (
    ArtifactRecord,
    Journal,
    StepState,
    load_artifacts,
    load_journal,
    save_artifacts,
    save_journal,
)


def _journal() -> Journal:
    return Journal("h", "1.0", {"a/b": StepState("done", "t1", "t2", 2, "n", {"output": "x"})},
                   {"source": {"id": "e", "os": "linux", "kernel": "k", "store": "classic"}}, True, "a/b", "boot",
                   {"p": "s"}, "", "")


def test_a_saved_journal_and_record_load_as_they_were(tmp_path: Path) -> None:
    save_journal(tmp_path, _journal())
    loaded = load_journal(tmp_path, "h")
    assert loaded.to_json() == _journal().to_json() and loaded.exists
    records = {"p": ArtifactRecord("p", "image-archive", "img", "a/b", 3, "s", True)}
    save_artifacts(tmp_path, "h", records)
    assert load_artifacts(tmp_path) == records


@pytest.mark.parametrize("name, key", [(n, k) for n, keys in ENTRY_KEYS.items() for k in keys])
def test_an_entry_without_a_key_is_a_damaged_file(tmp_path: Path, name: str, key: str) -> None:
    save_journal(tmp_path, _journal())
    save_artifacts(tmp_path, "h", {"p": ArtifactRecord("p", "k", "s", "a/b", 3, "s")})
    file = tmp_path / ("artifacts.json" if name == "artifacts" else "journal.json")
    data = json.loads(file.read_text(encoding="utf-8"))
    entries = data[name] if isinstance(data[name], list) else list(data[name].values())
    del entries[0][key]
    file.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError, match=rf"{file.name} is damaged: an entry of {name} has no {key}"):
        load_artifacts(tmp_path) if name == "artifacts" else load_journal(tmp_path, "h")


def test_another_format_is_named_before_its_entries(tmp_path: Path) -> None:
    (tmp_path / "journal.json").write_text(json.dumps({"format": JOURNAL_FORMAT[:-1] + "1", "planHash": "h",
                                                       "steps": [{"id": "a"}]}), encoding="utf-8")
    with pytest.raises(InputError, match="not a " + JOURNAL_FORMAT):
        load_journal(tmp_path, "h")
