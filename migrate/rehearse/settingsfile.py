"""The edits the runbook makes to host files, as pure functions: the definition both interpreters follow.

runbook_lib.ps1 (Merge-JsonFile, Restore-JsonKey, Edit-IniFile) does the same on Windows; the rehearsal applies
these to its simulated host. docs/runbook.md states the rules in words.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from migrate.errors import EXIT_ENVIRONMENT, MigrateError

_HEADER = re.compile(r"^\s*\[(?P<name>[^\]]*)\]\s*$")


class EditError(MigrateError):
    """A host file cannot be edited as the plan says."""

    exit_code = EXIT_ENVIRONMENT


def _match(doc: dict[str, Any], key: str) -> str | None:
    """The document's key equal to key without case (PowerShell's objects hold only one such key)."""
    return next((k for k in doc if k.lower() == key.lower()), None)


def _check_keys(doc: dict[str, Any]) -> None:
    folded = [k.lower() for k in doc]
    if len(set(folded)) != len(folded):
        raise EditError("the file has keys differing only in case, which PowerShell's ConvertFrom-Json refuses")


def edit_json_document(before: dict[str, Any], values: dict[str, Any], remove: Sequence[str],
                       ignore_case: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """The document after the edit, and each named key's previous state ({'present', 'value'}).

    A key is found without case. Setting it: with ignore_case (Docker Desktop's settings) the key keeps its spelling
    and place; without (daemon.json, which dockerd reads case-sensitively) a key spelled otherwise is replaced by
    the plan's spelling, last. A new key goes last. Removing it: with ignore_case any spelling, else the exact one.
    Every other key is kept as it was.
    """
    _check_keys(before)
    after = dict(before)
    previous: dict[str, Any] = {}
    for key, value in values.items():
        m = _match(after, key)
        previous[key] = {"present": m is not None, "value": after[m] if m is not None else None}
        if m is not None and (ignore_case or m == key):
            after[m] = value
        else:
            if m is not None:
                del after[m]
            after[key] = value
    for key in remove:
        m = _match(after, key)
        hit = m is not None and (ignore_case or m == key)
        previous[key] = {"present": hit, "value": after[m] if hit and m is not None else None}
        if hit and m is not None:
            del after[m]
    return after, previous


def restore_json_document(before: dict[str, Any], previous: dict[str, Any], keys: Sequence[str],
                          ignore_case: bool) -> dict[str, Any]:
    """The document with each key put back to its recorded previous state by the same edit: a key present before
    is set to its value, one absent before is removed (absent before: removed again)."""
    values: dict[str, Any] = {}
    remove = []
    for key in keys:
        rec = previous.get(key)
        if not isinstance(rec, dict):
            raise EditError(f"no previous value was recorded for {key}")
        if rec.get("present"):
            values[key] = rec.get("value")
        else:
            remove.append(key)
    return edit_json_document(before, values, remove, ignore_case)[0]


def json_equal(a: Any, b: Any) -> bool:
    """Deep equality of JSON values (1 and 1.0 equal, true and 1 not)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def edit_ini_text(raw: bytes, section: str, entries: Sequence[tuple[str, str]]) -> tuple[bytes, list[str]]:
    """The file with each entry the section lacks added as `key=value`; the keys added.

    The section is found by its header, without case; a key counts as set when a `key = ...` line (not a `#` or `;`
    comment) names it, without case. New lines go right after the section's last non-blank line, with the file's
    line ending (CRLF for a new file); without the section, `[section]` and the lines are appended. A UTF-8 BOM is
    kept. Anything else is left byte for byte.
    """
    bom = raw.startswith(b"\xef\xbb\xbf")
    try:
        text = raw[3 if bom else 0:].decode("utf-8")
    except UnicodeDecodeError:
        raise EditError("the file is not UTF-8 (WSL reads .wslconfig as UTF-8)") from None
    nl = "\r\n" if "\r\n" in text or not text else ("\n" if "\n" in text else "\r\n")
    # Lines end at '\n' only (a '\r' before it stays part of the line): the runbook splits the same way.
    lines = re.findall(r"[^\n]*\n|[^\n]+$", text)
    start = next((i for i, line in enumerate(lines) if (m := _HEADER.match(line.rstrip("\r\n")))
                  and m.group("name").strip().lower() == section.lower()), None)
    have: set[str] = set()
    if start is not None:
        end = next((i for i in range(start + 1, len(lines)) if _HEADER.match(lines[i].rstrip("\r\n"))), len(lines))
        for line in lines[start + 1:end]:
            body = line.strip()
            if body and body[0] not in "#;" and "=" in body:
                have.add(body.split("=", 1)[0].strip().lower())
    missing = [(k, v) for k, v in entries if k.lower() not in have]
    if not missing:
        return raw, []
    new = [f"{k}={v}{nl}" for k, v in missing]
    if start is None:
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += nl
        lines += [f"[{section}]{nl}", *new]
    else:
        last = start
        for i in range(start + 1, end):
            if lines[i].strip():
                last = i
        if not lines[last].endswith("\n"):
            lines[last] += nl
        lines[last + 1:last + 1] = new
    out = "".join(lines).encode("utf-8")
    return (b"\xef\xbb\xbf" + out if bom else out), [k for k, _ in missing]
