"""Field paths over the inventory model: parsing, load-time type checking and run-time resolution."""
from __future__ import annotations

import dataclasses
import re
import types
import typing
from dataclasses import dataclass
from typing import Any, Union

from migrate.assess.facts import REGISTRY, Facts
from migrate.errors import RuleError
from migrate.model import Inventory


class PathError(RuleError):
    """A field path that is malformed or names a field the model does not have."""


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""A path that led nowhere (a dict key that is absent, a field of a null object)."""

_TOKEN = re.compile(r'\.?([A-Za-z0-9_-]+)|\["([^"\]]*)"\]')


@dataclass(frozen=True)
class Path:
    """A parsed field path: `$.` absolute or relative to the subject; `@` the element itself."""

    text: str
    absolute: bool
    segments: tuple[str, ...]


def parse_path(text: str) -> Path:
    """Parse 'a.b["c.d"].e', '$.derived.x' or '@'."""
    if not isinstance(text, str) or not text.strip():
        raise PathError("a field path must be a non-empty string")
    raw = text.strip()
    if raw == "@":
        return Path(raw, False, ())
    absolute = raw.startswith("$.")
    rest = raw[2:] if absolute else raw
    segments: list[str] = []
    pos = 0
    while pos < len(rest):
        m = _TOKEN.match(rest, pos)
        if not m or (pos == 0 and rest.startswith(".")):
            raise PathError(f"malformed field path {text!r} at character {pos + (2 if absolute else 0) + 1}")
        segments.append(m.group(1) if m.group(1) is not None else m.group(2))
        pos = m.end()
    return Path(raw, absolute, tuple(segments))


# ---------------------------------------------------------------------------------------------------
# Types: the model's type hints, plus two markers for the derived namespace and {key, value} entries.


@dataclass(frozen=True)
class DerivedNS:
    """The `derived` namespace of a dataclass type."""

    owner: type


@dataclass(frozen=True)
class EntryType:
    """An entry of a dict walked by a quantifier: fields `key` (str) and `value`."""

    value: Any


@dataclass(frozen=True)
class Entry:
    """A run-time dict entry, as quantifiers over objects see it."""

    key: str
    value: Any


def strip_optional(tp: Any) -> Any:
    """X for Optional[X] / X | None; tp otherwise."""
    if typing.get_origin(tp) in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
        return Any
    return tp


def type_name(tp: Any) -> str:
    """A short human name for a type in error messages."""
    tp = strip_optional(tp)
    origin = typing.get_origin(tp)
    if origin is tuple:
        return "list"
    if origin is dict:
        return "object"
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return tp.__name__
    if tp is Any:
        return "any"
    return getattr(tp, "__name__", str(tp))


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def step_type(tp: Any, seg: str, path: Path) -> Any:
    """The type reached from tp by one path segment; PathError when the model has no such field."""
    tp = strip_optional(tp)
    if tp is Any:
        return Any
    if isinstance(tp, DerivedNS):
        facts = REGISTRY.get(tp.owner, {})
        if seg not in facts:
            known = ", ".join(sorted(facts)) or "none"
            raise PathError(f"{path.text!r}: no derived fact {seg!r} on {tp.owner.__name__} (known: {known})")
        return facts[seg].type
    if isinstance(tp, EntryType):
        if seg == "key":
            return str
        if seg == "value":
            return tp.value
        raise PathError(f"{path.text!r}: an object entry has only 'key' and 'value', not {seg!r}")
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if seg == "derived" and tp in REGISTRY:
            return DerivedNS(tp)
        hints = _hints(tp)
        if seg not in hints:
            raise PathError(f"{path.text!r}: {tp.__name__} has no field {seg!r}")
        return hints[seg]
    origin = typing.get_origin(tp)
    if origin is dict:
        return typing.get_args(tp)[1]
    if origin is tuple:
        raise PathError(f"{path.text!r}: {seg!r} follows a list; use some/every/count, contains or empty")
    raise PathError(f"{path.text!r}: a {type_name(tp)} has no field {seg!r}")


def check_path(path: Path, root: Any) -> Any:
    """The type a path leads to, starting from root (or Inventory when absolute)."""
    tp: Any = Inventory if path.absolute else root
    for seg in path.segments:
        tp = step_type(tp, seg, path)
    if isinstance(tp, DerivedNS):
        raise PathError(f"{path.text!r}: name a derived fact after 'derived'")
    return tp


def element_type(tp: Any, path: Path) -> Any:
    """The element type a quantifier walks: list items, or {key, value} entries of an object."""
    tp = strip_optional(tp)
    if tp is Any:
        return Any
    origin = typing.get_origin(tp)
    if origin is tuple:
        args = typing.get_args(tp)
        return args[0] if args else Any
    if origin is dict:
        return EntryType(typing.get_args(tp)[1])
    raise PathError(f"{path.text!r} is a {type_name(tp)}, not a list or object to quantify over")


# ---------------------------------------------------------------------------------------------------
# Run time


def step_value(value: Any, seg: str, facts: Facts, derived: bool) -> Any:
    """One segment of resolution; `derived` says the previous segment was the derived namespace."""
    if value is None or value is MISSING:
        return MISSING
    if derived:
        return facts.get(value, seg)
    if isinstance(value, Entry):
        return value.key if seg == "key" else value.value
    if isinstance(value, dict):
        return value.get(seg, MISSING)
    if dataclasses.is_dataclass(value):
        return getattr(value, seg, MISSING)
    return MISSING


def resolve(path: Path, subject: Any, facts: Facts) -> Any:
    """The value at path (MISSING when a step led nowhere)."""
    value = facts.inv if path.absolute else subject
    derived = False
    for seg in path.segments:
        if not derived and seg == "derived" and dataclasses.is_dataclass(value) and type(value) in REGISTRY:
            derived = True
            continue
        value = step_value(value, seg, facts, derived)
        derived = False
    return value


def elements(value: Any) -> list[Any]:
    """The elements a quantifier walks (Entry objects for dicts, sorted by key)."""
    if value is None or value is MISSING:
        return []
    if isinstance(value, dict):
        return [Entry(str(k), value[k]) for k in sorted(value)]
    if isinstance(value, (list, tuple)):
        return list(value)
    return []
