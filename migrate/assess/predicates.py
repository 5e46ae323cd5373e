"""The predicate language of rules: compile (with load-time type checks), evaluate and describe."""
from __future__ import annotations

import re
import typing
from dataclasses import dataclass
from typing import Any

from migrate.assess.facts import Facts
from migrate.errors import RuleError
from migrate.assess.paths import (
    MISSING,
    Path,
    PathError,
    check_path,
    element_type,
    elements,
    parse_path,
    resolve,
    strip_optional,
    type_name,
)

COMPARISONS = ("eq", "ne", "lt", "le", "gt", "ge")
LEAF_OPS = COMPARISONS + ("match", "in", "contains", "exists", "empty")


class PredicateError(RuleError):
    """A predicate that does not fit the language or the model."""


@dataclass(frozen=True)
class Ref:
    """A comparison operand read from another field."""

    path: Path


@dataclass(frozen=True)
class Leaf:
    """One field tested with one operator."""

    path: Path
    op: str
    operand: Any
    as_version: bool = False


@dataclass(frozen=True)
class AllOf:
    """Every part is true."""

    parts: tuple[Pred, ...]


@dataclass(frozen=True)
class AnyOf:
    """At least one part is true."""

    parts: tuple[Pred, ...]


@dataclass(frozen=True)
class Not:
    """The part is false."""

    part: Pred


@dataclass(frozen=True)
class Quant:
    """some / every / count over the elements at path."""

    kind: str
    path: Path
    where: Pred
    op: str = ""
    operand: int = 0


Pred = Leaf | AllOf | AnyOf | Not | Quant


# ---------------------------------------------------------------------------------------------------
# Compile


def _base(tp: Any) -> Any:
    """The scalar kind of a type: bool, int, str, list, object, or Any."""
    tp = strip_optional(tp)
    origin = typing.get_origin(tp)
    if origin is tuple:
        return list
    if origin is dict:
        return dict
    if tp in (bool, int, str):
        return tp
    return Any if tp is Any else object


def _operand_ok(base: Any, value: Any) -> bool:
    if base is Any:
        return True
    if base is bool:
        return isinstance(value, bool)
    if base is int:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if base is str:
        return isinstance(value, str)
    if base is list:
        return isinstance(value, list)
    if base is dict:
        return isinstance(value, dict)
    return False


def compile_predicate(data: Any, root: Any) -> Pred:
    """Check a predicate's shape, operators, operand types and field paths against root; PredicateError if bad."""
    try:
        return _compile(data, root)
    except PathError as exc:
        raise PredicateError(str(exc)) from None


def _compile(data: Any, root: Any) -> Pred:
    if not isinstance(data, dict) or not data:
        raise PredicateError(f"a predicate is a table, got {data!r}")
    keys = set(data)
    if keys == {"all"} or keys == {"any"}:
        (key,) = keys
        parts = data[key]
        if not isinstance(parts, list):
            raise PredicateError(f"{key!r} takes a list of predicates")
        compiled = tuple(_compile(p, root) for p in parts)
        return AllOf(compiled) if key == "all" else AnyOf(compiled)
    if keys == {"not"}:
        return Not(_compile(data["not"], root))
    for kind in ("some", "every", "count"):
        if kind in keys:
            return _compile_quant(kind, data, root)
    if "field" in keys:
        return _compile_leaf(data, root)
    raise PredicateError(f"unknown predicate keys {sorted(keys)}; expected field, all, any, not, some, every or count")


def _compile_quant(kind: str, data: dict[str, Any], root: Any) -> Quant:
    allowed = {kind, "where"} | (set(COMPARISONS) if kind == "count" else set())
    extra = sorted(set(data) - allowed)
    if extra:
        raise PredicateError(f"unknown key {extra[0]!r} in a {kind!r} predicate")
    if "where" not in data:
        raise PredicateError(f"a {kind!r} predicate needs 'where'")
    path = parse_path(data[kind])
    elem = element_type(check_path(path, root), path)
    where = _compile(data["where"], elem)
    if kind != "count":
        return Quant(kind, path, where)
    ops = [k for k in COMPARISONS if k in data]
    if len(ops) != 1:
        raise PredicateError("a 'count' predicate needs exactly one of eq, ne, lt, le, gt, ge")
    n = data[ops[0]]
    if isinstance(n, bool) or not isinstance(n, int):
        raise PredicateError(f"'count' compares with an integer, got {n!r}")
    return Quant(kind, path, where, ops[0], n)


def _compile_leaf(data: dict[str, Any], root: Any) -> Leaf:
    extra = sorted(set(data) - {"field", "as"} - set(LEAF_OPS))
    if extra:
        raise PredicateError(f"unknown key {extra[0]!r} in a field predicate")
    ops = [k for k in LEAF_OPS if k in data]
    if len(ops) != 1:
        raise PredicateError(f"field {data['field']!r}: give exactly one operator of {', '.join(LEAF_OPS)}")
    op = ops[0]
    path = parse_path(data["field"])
    base = _base(check_path(path, root))
    as_version = False
    if "as" in data:
        if data["as"] != "version":
            raise PredicateError(f"field {path.text!r}: 'as' accepts only \"version\"")
        if base not in (str, Any) or op not in COMPARISONS:
            raise PredicateError(f"field {path.text!r}: as = \"version\" needs a string field and a comparison")
        as_version = True
    operand = data[op]
    where = f"field {path.text!r} ({type_name(check_path(path, root))})"
    if isinstance(operand, dict) and set(operand) == {"ref"}:
        if op not in COMPARISONS:
            raise PredicateError(f"{where}: {op!r} does not take a ref")
        ref = parse_path(operand["ref"])
        rbase = _base(check_path(ref, root))
        if Any not in (base, rbase) and base != rbase:
            raise PredicateError(f"{where}: cannot compare with {ref.text!r} ({type_name(check_path(ref, root))})")
        return Leaf(path, op, Ref(ref), as_version)
    if op in ("exists", "empty"):
        if not isinstance(operand, bool):
            raise PredicateError(f"{where}: {op!r} takes true or false")
    elif op == "match":
        if base not in (str, Any):
            raise PredicateError(f"{where}: 'match' needs a string field")
        if not isinstance(operand, str):
            raise PredicateError(f"{where}: 'match' takes a regular expression string")
        try:
            operand = re.compile(operand)
        except re.error as exc:
            raise PredicateError(f"{where}: bad regular expression ({exc})") from None
    elif op == "in":
        if not isinstance(operand, list) or not all(as_version or _operand_ok(base, v) for v in operand):
            raise PredicateError(f"{where}: 'in' takes a list of values of the field's type")
        operand = tuple(operand)
    elif op == "contains":
        if base not in (list, dict, str, Any):
            raise PredicateError(f"{where}: 'contains' needs a list, object or string field")
    elif op in ("lt", "le", "gt", "ge") and base not in (int, str, Any):
        raise PredicateError(f"{where}: {op!r} needs a number or string field")
    elif not as_version and not _operand_ok(base, operand):
        raise PredicateError(f"{where}: {op!r} operand {operand!r} does not fit the field's type")
    if as_version and not isinstance(operand, str):
        raise PredicateError(f"{where}: a version operand is a string like \"2.3.0.2\"")
    return Leaf(path, op, operand, as_version)


# ---------------------------------------------------------------------------------------------------
# Evaluate


def version_key(value: Any) -> tuple[int, ...] | None:
    """A dotted version as a tuple of ints for comparison; None when it holds no digits."""
    if not isinstance(value, str):
        return None
    digits = re.findall(r"\d+", value)
    return tuple(int(d) for d in digits) if digits else None


def _compare(op: str, a: Any, b: Any) -> bool:
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    try:
        if op == "eq":
            return bool(a == b)
        if op == "ne":
            return bool(a != b)
        if op == "lt":
            return bool(a < b)
        if op == "le":
            return bool(a <= b)
        if op == "gt":
            return bool(a > b)
        return bool(a >= b)
    except TypeError:
        return False


def _unknown(value: Any) -> bool:
    return value is None or value is MISSING


def _eval_leaf(p: Leaf, subject: Any, facts: Facts) -> bool:
    value = resolve(p.path, subject, facts)
    if p.op == "exists":
        return (not _unknown(value)) == p.operand
    if p.op == "empty":
        is_empty = _unknown(value) or (hasattr(value, "__len__") and len(value) == 0)
        return is_empty == p.operand
    if _unknown(value):
        return False
    operand = p.operand
    if isinstance(operand, Ref):
        operand = resolve(operand.path, subject, facts)
        if _unknown(operand):
            return False
    if p.op == "match":
        return isinstance(value, str) and operand.search(value) is not None
    if p.op == "in":
        if p.as_version:
            key = version_key(value)
            return key is not None and key in {version_key(v) for v in operand}
        return any(_compare("eq", value, v) for v in operand)
    if p.op == "contains":
        if isinstance(value, dict):
            return operand in value
        if isinstance(value, str):
            return isinstance(operand, str) and operand in value
        return any(_compare("eq", v, operand) for v in value) if isinstance(value, (list, tuple)) else False
    if p.as_version:
        a, b = version_key(value), version_key(operand)
        if a is None or b is None:
            return False
        width = max(len(a), len(b))
        value, operand = a + (0,) * (width - len(a)), b + (0,) * (width - len(b))
    return _compare(p.op, value, operand)


def evaluate(p: Pred, subject: Any, facts: Facts) -> bool:
    """Whether the predicate holds for the subject."""
    if isinstance(p, Leaf):
        return _eval_leaf(p, subject, facts)
    if isinstance(p, AllOf):
        return all(evaluate(q, subject, facts) for q in p.parts)
    if isinstance(p, AnyOf):
        return any(evaluate(q, subject, facts) for q in p.parts)
    if isinstance(p, Not):
        return not evaluate(p.part, subject, facts)
    items = elements(resolve(p.path, subject, facts))
    if p.kind == "some":
        return any(evaluate(p.where, e, facts) for e in items)
    if p.kind == "every":
        return all(evaluate(p.where, e, facts) for e in items)
    return _compare(p.op, sum(1 for e in items if evaluate(p.where, e, facts)), p.operand)


# ---------------------------------------------------------------------------------------------------
# Describe (for docs/rules.md)

_OP_TEXT = {"eq": "=", "ne": "≠", "lt": "<", "le": "≤", "gt": ">", "ge": "≥", "match": "matches",
            "in": "is one of", "contains": "contains"}


def describe(p: Pred) -> str:
    """The predicate in one readable line."""
    if isinstance(p, Leaf):
        field = f"`{p.path.text}`"
        if p.op == "exists":
            return f"{field} is {'known' if p.operand else 'unknown'}"
        if p.op == "empty":
            return f"{field} is {'empty' if p.operand else 'not empty'}"
        operand = p.operand
        if isinstance(operand, Ref):
            shown = f"`{operand.path.text}`"
        elif isinstance(operand, re.Pattern):
            shown = f"`{operand.pattern}`"
        elif isinstance(operand, tuple):
            shown = "(" + ", ".join(f"`{_lit(v)}`" for v in operand) + ")"
        else:
            shown = f"`{_lit(operand)}`"
        suffix = " (as versions)" if p.as_version else ""
        return f"{field} {_OP_TEXT[p.op]} {shown}{suffix}"
    if isinstance(p, (AllOf, AnyOf)):
        if not p.parts:
            return "always" if isinstance(p, AllOf) else "never"
        if len(p.parts) == 1:
            return describe(p.parts[0])
        joiner = " and " if isinstance(p, AllOf) else " or "
        return "(" + joiner.join(describe(q) for q in p.parts) + ")"
    if isinstance(p, Not):
        return f"not {describe(p.part)}"
    if p.kind == "count":
        return f"the number of `{p.path.text}` where {describe(p.where)} {_OP_TEXT[p.op]} {p.operand}"
    word = "some" if p.kind == "some" else "every"
    return f"{word} element of `{p.path.text}` has {describe(p.where)}"


def _lit(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    return str(v)
