"""Test-side readers for PowerShell string expressions: decode literals, evaluate the ASCII-only form via tree-sitter.

Only what migrate.emit.cmdline generates is understood: single-quoted literals, `[char]0xHHHH` casts, `+` chains
and parentheses. Anything else raises ValueError, so a test fails loudly instead of guessing.
"""
from __future__ import annotations

import tree_sitter_powershell
from tree_sitter import Language, Node, Parser, Tree

SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"
"""PowerShell's single quotes (CharExtensions.IsSingleQuote); written out here, not taken from the code under test."""

_PARSER = Parser(Language(tree_sitter_powershell.language()))


def decode_powershell_single_quoted(token: str) -> str:
    """The value of a single-quoted PowerShell literal token, quotes included (tokenizer ScanStringLiteral rules)."""
    if len(token) < 2 or token[0] not in SINGLE_QUOTES:
        raise ValueError(f"not a single-quoted literal: {token!r}")
    out: list[str] = []
    i, end = 1, len(token)
    while i < end:
        ch = token[i]
        if ch in SINGLE_QUOTES:
            # Two quote characters in a row: the first escapes, the second is kept; a lone one ends the string.
            if i + 1 < end and token[i + 1] in SINGLE_QUOTES:
                out.append(token[i + 1])
                i += 2
                continue
            if i != end - 1:
                raise ValueError(f"literal ends before the token does: {token!r}")
            return "".join(out)
        out.append(ch)
        i += 1
    raise ValueError(f"unterminated literal: {token!r}")


def parse_powershell(source: str) -> Tree:
    """The tree-sitter tree of a PowerShell source text."""
    return _PARSER.parse(source.encode("utf-8"))


def syntax_problems(tree: Tree) -> list[str]:
    """Every ERROR or MISSING node of tree, as 'type at row:col' strings (empty when the parse is clean)."""
    found: list[str] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            found.append(f"{'MISSING' if node.is_missing else 'ERROR'} {node.type} at {node.start_point}")
        stack.extend(node.children)
    return found


def _text(node: Node) -> str:
    """The source text of node."""
    return (node.text or b"").decode("utf-8")


class PsChar(str):
    """A [char] value: PowerShell adds two chars (or a char and a string) as numbers, not as text."""


def evaluate_node(node: Node) -> str:
    """The value of an expression node built from the generated forms (a PsChar for a bare [char] cast)."""
    kind = node.type
    if kind == "string_literal":
        return decode_powershell_single_quoted(_text(node))
    if kind == "parenthesized_expression":
        inner = [c for c in node.children if c.type not in ("(", ")")]
        if len(inner) != 1:
            raise ValueError(f"unexpected parenthesized expression: {_text(node)!r}")
        return evaluate_node(inner[0])
    if kind == "additive_expression" and len(node.children) == 3:
        left, op, right = node.children
        if op.type != "+":
            raise ValueError(f"unexpected operator {_text(op)!r}")
        lvalue = evaluate_node(left)
        if isinstance(lvalue, PsChar):
            # The left operand picks the operation: [char] + anything is numeric in PowerShell, never text.
            raise ValueError(f"numeric addition, not concatenation: {_text(node)!r}")
        return str(lvalue) + str(evaluate_node(right))
    if kind == "cast_expression" and len(node.children) == 2:
        type_node, value = node.children
        if _text(type_node).lower() != "[char]":
            raise ValueError(f"unexpected cast {_text(type_node)!r}")
        digits = _text(value)
        if not digits.lower().startswith("0x"):
            raise ValueError(f"unexpected cast operand {digits!r}")
        unit = int(digits[2:], 16)
        if unit > 0xFFFF:
            raise ValueError(f"[char] out of range: {digits!r}")
        return PsChar(chr(unit))
    named = [c for c in node.children if c.is_named]
    if len(named) == 1 and len(node.children) == 1:
        return evaluate_node(named[0])
    raise ValueError(f"unexpected {kind}: {_text(node)!r}")


def utf16(text: str) -> bytes:
    """text as .NET holds it (UTF-16 code units): '\\ud83d\\ude00' and '\\U0001f600' are the same .NET string."""
    return text.encode("utf-16-le", "surrogatepass")


def _join_surrogates(text: str) -> str:
    """text with UTF-16 surrogate pairs (as [char] casts produce them) combined into single characters."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def evaluate_assignment(source: str) -> str:
    """The value assigned by a one-statement `$x = <expr>` source, after checking it parses cleanly."""
    tree = parse_powershell(source)
    problems = syntax_problems(tree)
    if problems:
        raise ValueError(f"parse problems in {source!r}: {problems}")
    assignments = [n for n in _walk(tree.root_node) if n.type == "assignment_expression"]
    if len(assignments) != 1:
        raise ValueError(f"expected one assignment in {source!r}, found {len(assignments)}")
    value = assignments[0].child_by_field_name("value")
    if value is None:
        raise ValueError(f"assignment without value: {source!r}")
    result = evaluate_node(value)
    if isinstance(result, PsChar):
        raise ValueError(f"a [char], not a string: {source!r}")
    return _join_surrogates(result)


def evaluate_expression(expr: str) -> str:
    """The value of a generated ASCII-only expression, read through tree-sitter as `$x = expr`."""
    return evaluate_assignment(f"$x = {expr}\n")


def _walk(node: Node):
    """node and all its descendants, depth first."""
    yield node
    for child in node.children:
        yield from _walk(child)
