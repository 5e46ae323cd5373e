"""plan.toml read at C speed: the TOML subset render_plan writes becomes JSON for json.loads; tomllib reads the rest."""
from __future__ import annotations

import json
import re
import tomllib
from functools import cache
from typing import Any

# Why: tomllib is pure Python and takes as long on a 10,000-object plan as reading the whole inventory JSON. The
# plan's own layout (tables of `key = value` with basic strings, integers, booleans, arrays and inline tables) is
# validated line by line with one regular expression and its values handed to json.loads in one call. Whatever
# falls outside that subset, or breaks a TOML rule (a key or table defined twice, a key walking into a value),
# goes to tomllib, so the result, the types, the key order and every error are tomllib's.

_CTRL = r"\x00-\x08\x0a-\x1f\x7f"
"""Characters TOML forbids raw in basic strings and comments (every ASCII control but tab)."""
_STR = rf'"(?:[^"\\{_CTRL}]++|\\[btnfr"\\]|\\u(?![dD][89a-fA-F])[0-9a-fA-F]{{4}})*+"'
"""A basic string whose escapes mean the same in JSON: no \\U, no surrogate \\u (tomllib refuses those)."""
_BARE = r"[A-Za-z0-9_-]++"
_KEY = rf"(?:{_BARE}|{_STR})"
_INT = r"-?+(?:0|[1-9][0-9]{0,18}+)"
"""Decimal integers JSON writes the same way (no '+', '_', hex, octal or binary; short of Python's digit limit)."""
_SCALAR = rf"(?:{_STR}|{_INT}|true|false)"
_SP = r"[ \t]*+"
_COMMENT = rf"\#[^{_CTRL}]*+"
_AWS = rf"(?:[ \t\n]++|{_COMMENT})*+"
"""Blanks, newlines and comments, as allowed between the items of an array."""
_FLAT = rf"\[{_SP}(?:{_SCALAR}{_SP}(?:,{_SP}{_SCALAR}{_SP})*+)?\]"
_SIMPLE = rf"{_SCALAR}|{_FLAT}|\{{{_SP}\}}"
"""Values whose TOML text is already their JSON text."""
_DEPTH = 3
"""Nesting levels of arrays and inline tables read here (a plan has 2); deeper values go to tomllib."""


def _canon(depth: int) -> str:
    """A multi-line array as render_plan writes it: '[', one item per line each with a comma, ']'."""
    item = f"{_SCALAR}|{_FLAT}" + (f"|{_canon(depth - 1)}" if depth > 1 else "")
    return rf"\[\n(?:{_SP}(?:{item}),\n)++{_SP}\]"


def _value(depth: int) -> str:
    """Any value of the subset: arrays over lines with comments and trailing commas, inline tables."""
    if depth == 0:
        return rf"(?:{_SCALAR}|\[{_AWS}\]|\{{{_SP}\}})"
    inner = _value(depth - 1)
    array = rf"\[{_AWS}(?:{inner}{_AWS}(?:,{_AWS}|(?=\])))*+\]"
    table = rf"\{{{_SP}(?:{_KEY}{_SP}={_SP}{inner}{_SP}(?:,{_SP}(?!\}})|(?=\}})))*+\}}"
    return rf"(?:{_SCALAR}|{array}|{table})"


@cache
def _statement() -> re.Pattern[str]:
    """Blank and comment lines, then one header or key = value and the end of its line; else the rest as 'bad'."""
    value = rf"(?P<s>{_SIMPLE})|(?P<c>{_canon(_DEPTH)})|(?P<x>{_value(_DEPTH)})"
    return re.compile(
        rf"(?:{_SP}(?:{_COMMENT})?\n)*+"
        rf"{_SP}(?:\[{_SP}(?P<h>{_KEY}(?:{_SP}\.{_SP}{_KEY})*+){_SP}\]|(?P<k>{_KEY}){_SP}={_SP}(?:{value}))?"
        rf"{_SP}(?:{_COMMENT})?(?:\n|\Z)"
        r"|(?P<bad>[\s\S]+)")


_PART = re.compile(rf"{_BARE}|{_STR}")
_TRAILING = re.compile(r",(?=\n[ \t]*+\])")
"""A trailing comma of a multi-line array (a string holds no raw newline, so this is never inside one)."""
_TOKEN = re.compile(rf"({_STR})|({_BARE}){_SP}=|=|\#[^\n]*+|,(?=(?:[ \t\n]++|\#[^\n]*+)*+\])")
"""What differs from JSON in a validated value: bare keys, '=', comments, trailing commas; strings kept whole."""


_MISSING: Any = object()


class _Unsure(Exception):
    """The fast path leaves this text to tomllib."""


def _json_token(m: re.Match[str]) -> str:
    if m.lastindex == 1:
        return m.group(1)
    if m.lastindex == 2:
        return f'"{m.group(2)}":'
    return ":" if m.group() == "=" else ""


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    table = dict(pairs)
    if len(table) != len(pairs):
        raise _Unsure  # tomllib: "Duplicate inline table key"
    return table


def _key(part: str) -> str:
    if part[0] != '"':
        return part
    return part[1:-1] if "\\" not in part else str(json.loads(part, strict=False))


def fast(text: str) -> dict[str, Any] | None:
    """What tomllib.loads returns for text in the plan's subset of TOML; None when tomllib must decide."""
    src = text.replace("\r\n", "\n") if "\r" in text else text  # as tomllib does
    rows = _statement().findall(src)
    while rows and not (rows[-1][0] or rows[-1][1]):  # comments and blanks at the end, or what is not TOML here
        if rows.pop()[5]:
            return None
    if not rows:
        return {}
    headers, keys, simple, canon, other, _ = zip(*rows, strict=True)
    # One JSON value per row ("0" for a header row), decoded in one call.
    values = [s or (_TRAILING.sub("", c) if c else _TOKEN.sub(_json_token, x) if x else "0")
              for s, c, x in zip(simple, canon, other, strict=True)]
    try:
        decoded = json.loads("[" + ",".join(values) + "]", strict=False, object_pairs_hook=_unique)
    except (_Unsure, ValueError):
        return None
    if '\n"' in "\n" + "\n".join(keys):  # a quoted key anywhere, the first row's too
        keys = tuple(_key(k) if k else k for k in keys)
    starts = [i for i, h in enumerate(headers) if h]
    root: dict[str, Any] = {}
    declared: set[tuple[str, ...]] = set()
    fills = []
    # A table's keys follow its header, up to the next header; the root's come before the first.
    for start, end in zip([-1, *starts], [*starts, len(rows)], strict=True):
        table = root
        if start >= 0:
            path = tuple(_key(p) for p in _PART.findall(headers[start]))
            if path in declared:
                return None
            declared.add(path)
            for part in path:
                nest = table.get(part, _MISSING)
                if nest is _MISSING:
                    nest = table[part] = {}
                elif nest is None:
                    return None  # a [table] through a key's value
                table = nest
        block = keys[start + 1:end]
        if block:
            if len(set(block)) != len(block) or (table and not table.keys().isdisjoint(block)):
                return None  # a key defined twice, or a key where a [table] is
            table.update(dict.fromkeys(block))  # None holds each key's place in the order until the values come
            fills.append((table, block, start + 1, end))
    for table, block, first, end in fills:
        table.update(zip(block, decoded[first:end], strict=True))
    return root


def loads(text: str) -> dict[str, Any]:
    """Exactly tomllib.loads(text): the same data, types, key order and errors; faster on plan.toml."""
    data = fast(text)
    return tomllib.loads(text) if data is None else data
