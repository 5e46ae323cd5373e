"""Test-side decoder of the runbook's data literals: the program's PowerShell hashtables and arrays back as Python.

Understands exactly what migrate.emit.runbook writes for data, with PowerShell's meaning: `@{ Key = value; ... }`
(a dict; keys are bare words, unique without case as PowerShell demands), `@( ... )` (a list: each statement's
output is enumerated one level, as the array subexpression operator does), `a, b` (a list), strings in the forms
tests/pslit.py evaluates, decimal integers that PowerShell reads as Int32 or Int64, `$true`, `$false` and `$null`.
Anything else raises ValueError naming the text, so a test fails loudly instead of guessing.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tree_sitter import Node

from tests.pslit import PsChar, evaluate_node, parse_powershell, syntax_problems

_WRAPPERS = frozenset({
    "pipeline", "pipeline_chain", "logical_expression", "bitwise_expression", "comparison_expression",
    "additive_expression", "multiplicative_expression", "format_expression", "range_expression",
    "array_literal_expression", "unary_expression",
})
"""Grammar levels that stand for their only child when they have one (tree-sitter-powershell's precedence chain)."""
_STRING_NODES = frozenset({"string_literal", "parenthesized_expression", "additive_expression",
                           "expression_with_unary_operator", "cast_expression"})
_CONSTANTS = {"$true": True, "$false": False, "$null": None}
_INT64_MAX = 2 ** 63 - 1


def _text(node: Node) -> str:
    return (node.text or b"").decode("utf-8")


def _join_surrogates(text: str) -> str:
    """UTF-16 surrogate pairs (as [char] casts produce them) as single characters."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def _significant(node: Node) -> list[Node]:
    """The children of node that carry meaning (comments dropped)."""
    return [c for c in node.children if c.type != "comment"]


def decode(node: Node) -> Any:
    """The value of a data expression node (see the module docstring for what is understood)."""
    kind = node.type
    children = _significant(node)
    if kind == "array_literal_expression" and len(children) > 1:
        items = children[0::2]
        if any(sep.type != "," for sep in children[1::2]) or len(children) % 2 == 0:
            raise ValueError(f"unexpected list: {_text(node)[:80]!r}")
        return [decode(item) for item in items]
    if kind == "hash_literal_expression":
        return _hash(node)
    if kind == "array_expression":
        return _array(node)
    if kind == "variable":
        name = _text(node)
        if name not in _CONSTANTS:
            raise ValueError(f"a variable in data: {name!r}")
        return _CONSTANTS[name]
    if kind == "integer_literal":
        return _integer(node)
    if kind in _STRING_NODES and not (kind == "additive_expression" and len(children) == 1):
        value = evaluate_node(node)
        if isinstance(value, PsChar):
            raise ValueError(f"a [char], not a string: {_text(node)!r}")
        return _join_surrogates(value)
    if kind in _WRAPPERS and len(children) == 1:
        return decode(children[0])
    raise ValueError(f"not a data expression ({kind}): {_text(node)[:80]!r}")


def _integer(node: Node) -> int:
    """A decimal integer without type suffix or multiplier, in Int64 range (PowerShell reads larger ones as double)."""
    digits = _text(node)
    if not re.fullmatch(r"[0-9]+", digits):
        raise ValueError(f"unexpected number literal {digits!r}")
    value = int(digits)
    if value > _INT64_MAX:
        raise ValueError(f"{digits} is beyond Int64: PowerShell would read it as a double")
    return value


def _hash(node: Node) -> dict[str, Any]:
    """@{ Key = value } as a dict; a key repeated in any case is an error, as it is in PowerShell."""
    body = [c for c in _significant(node) if c.type == "hash_literal_body"]
    out: dict[str, Any] = {}
    if not body:
        return out
    for entry in _significant(body[0]):
        if entry.type == ";":
            continue
        if entry.type != "hash_entry":
            raise ValueError(f"unexpected {entry.type} in a hash literal: {_text(entry)[:80]!r}")
        parts = _significant(entry)
        if parts and parts[-1].type == ";":
            parts = parts[:-1]
        if len(parts) != 3 or parts[0].type != "key_expression" or parts[1].type != "=":
            raise ValueError(f"unexpected hash entry: {_text(entry)[:80]!r}")
        key_parts = _significant(parts[0])
        if len(key_parts) != 1 or key_parts[0].type != "simple_name":
            raise ValueError(f"a hash key must be a bare word: {_text(parts[0])!r}")
        key = _text(key_parts[0])
        if any(k.lower() == key.lower() for k in out):
            raise ValueError(f"duplicate key {key!r} (PowerShell refuses keys differing only in case)")
        out[key] = decode(parts[2])
    return out


def _array(node: Node) -> list[Any]:
    """@( statements ): each statement's value, an array enumerated into its elements."""
    out: list[Any] = []
    for child in _significant(node):
        if child.type in ("@(", ")"):
            continue
        if child.type != "statement_list":
            raise ValueError(f"unexpected {child.type} in @(...): {_text(child)[:80]!r}")
        for statement in _significant(child):
            if statement.type != "pipeline":
                raise ValueError(f"unexpected statement in @(...): {_text(statement)[:80]!r}")
            value = decode(statement)
            if isinstance(value, list):
                out.extend(value)
            else:
                out.append(value)
    return out


def _walk(node: Node):
    yield node
    for child in node.children:
        yield from _walk(child)


def assignments(source: str, names: tuple[str, ...]) -> dict[str, Any]:
    """The decoded value of each `$name = <data>` in source; each name must be assigned exactly once, at top level
    (outside any function), or ValueError."""
    tree = parse_powershell(source)
    problems = syntax_problems(tree)
    if problems:
        raise ValueError(f"the script does not parse: {problems[:3]}")
    found: dict[str, list[Node]] = {name: [] for name in names}
    for node in _walk(tree.root_node):
        if node.type != "assignment_expression":
            continue
        left = _text(node.children[0]).strip()
        for name in names:
            if left.lower() == name.lower():
                found[name].append(node)
    out: dict[str, Any] = {}
    for name, nodes in found.items():
        if len(nodes) != 1:
            raise ValueError(f"{name} is assigned {len(nodes)} times, expected once")
        parent = nodes[0].parent
        while parent is not None:
            if parent.type in ("function_statement", "script_block", "statement_block"):
                raise ValueError(f"{name} is assigned inside a block, not at the script's top level")
            parent = parent.parent
        value = nodes[0].child_by_field_name("value")
        operator = [c for c in nodes[0].children if c.type == "assignement_operator"]
        if value is None or len(operator) != 1 or _text(operator[0]) != "=":
            raise ValueError(f"{name}: not a plain assignment")
        out[name] = decode(value)
    return out


PROGRAM_VARIABLES = ("$script:Steps", "$script:RollbackSteps", "$script:EngineExpect", "$script:Probes",
                     "$script:Timeouts", "$script:Texts")
"""The generated program's data: what the library runs."""


def program_data(script: str) -> dict[str, Any]:
    """$script:Steps, $script:RollbackSteps, $script:EngineExpect and $script:Probes of a runbook, decoded; each
    @{ Text = 'T1' } segment replaced by the text $script:Texts holds for it (as Invoke-DockerCommand does)."""
    data = assignments(script, PROGRAM_VARIABLES)
    texts = data.pop("$script:Texts")
    if not isinstance(texts, dict) or not all(isinstance(v, str) for v in texts.values()):
        raise ValueError("$script:Texts must be a hashtable of strings")

    def resolve(value: Any) -> Any:
        if isinstance(value, list):
            return [texts[v["Text"]] if isinstance(v, dict) and list(v) == ["Text"] else resolve(v) for v in value]
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        return value

    return {k: resolve(v) for k, v in data.items()}


def segments_text(segments: Any, root: str, secret: Callable[[str, int, str], str] | None = None) -> str:
    """A decoded command line (strings, @{ Backup = 'rel' } and @{ Secret = 'rel'; Index = n; Prefix = 'KEY=' }
    markers) as the Arguments text under root, joined as the runbook's Invoke-DockerCommand and Get-BackupItemPath
    do: root, or root + '\\' + rel with backslashes; a Secret marker becomes secret(file, index, prefix), the whole
    quoted argument (none given: a Secret marker is unexpected)."""
    if not isinstance(segments, list):
        raise ValueError(f"a command line must be an array, not {segments!r}")
    out = []
    for seg in segments:
        if isinstance(seg, str):
            out.append(seg)
        elif isinstance(seg, dict) and list(seg) == ["Backup"] and isinstance(seg["Backup"], str):
            rel = seg["Backup"]
            out.append(root + "\\" + rel.replace("/", "\\") if rel else root)
        elif secret is not None and isinstance(seg, dict) and sorted(seg) == ["Index", "Prefix", "Secret"] and \
                isinstance(seg["Secret"], str) and type(seg["Index"]) is int and isinstance(seg["Prefix"], str):
            out.append(secret(seg["Secret"], seg["Index"], seg["Prefix"]))
        else:
            raise ValueError(f"unexpected command-line segment {seg!r}")
    return "".join(out)
