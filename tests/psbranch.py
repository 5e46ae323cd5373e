"""Which PowerShell versions reach a node: enclosing if/elseif/else tests of $PSVersionTable or $PSEdition."""
from __future__ import annotations

import re

from tree_sitter import Node

from tests.pslint import text
from tests.pstree import literal, unwrap

VERSIONS = {"5.1": (5, "desktop"), "7.4": (7, "core")}
"""Each checked version with what `$PSVersionTable.PSVersion.Major` and `.PSEdition` (lower-case) say there."""

_OPERATORS = {
    "eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "ge": lambda a, b: a >= b,
    "gt": lambda a, b: a > b, "le": lambda a, b: a <= b, "lt": lambda a, b: a < b,
}
_VERSION_WORDS = ("$psversiontable", "$psedition", "$iscoreclr")


def _operand(node: Node, version: str) -> object:
    node = unwrap(node)
    key = re.sub(r"\s+", "", text(node)).lower()
    major, edition = VERSIONS[version]
    if key == "$psversiontable.psversion.major":
        return major
    if key in ("$psversiontable.psedition", "$psedition"):
        return edition
    if node.type in ("integer_literal", "decimal_integer_literal"):
        return int(text(node))
    value = literal(node)
    return value.lower() if value is not None and node.type == "string_literal" else None


def _condition(node: Node, version: str) -> bool | None:
    """What a condition is on version: True, False, or None when it does not depend on the version alone."""
    node = unwrap(node)
    kids = node.children
    if node.type == "logical_expression" and len(kids) == 3:
        left, right = _condition(kids[0], version), _condition(kids[2], version)
        op = text(kids[1]).lower()
        if op == "-and":
            return False if False in (left, right) else (True if left is right is True else None)
        if op == "-or":
            return True if True in (left, right) else (False if left is right is False else None)
        return None
    if node.type == "expression_with_unary_operator" and len(kids) == 2 and text(kids[0]).lower() in ("-not", "!"):
        inner = _condition(kids[1], version)
        return None if inner is None else not inner
    if node.type == "comparison_expression" and len(kids) == 3:
        op = text(kids[1]).lower().lstrip("-")
        op = op[1:] if op[:1] in ("i", "c") and op[1:] in _OPERATORS else op
        left, right = _operand(kids[0], version), _operand(kids[2], version)
        if op in _OPERATORS and left is not None and right is not None and type(left) is type(right):
            return bool(_OPERATORS[op](left, right))
    return None


def _mentions_version(node: Node) -> bool:
    return any(word in text(node).lower() for word in _VERSION_WORDS)


def _clause_condition(clause: Node) -> Node | None:
    return next((c for c in clause.children if c.type == "pipeline"), None)


def branch_versions(node: Node) -> tuple[set[str], list[str]]:
    """The versions node can run on, from enclosing version tests; and notes on tests not understood."""
    versions = set(VERSIONS)
    notes: list[str] = []
    child, cur = node, node.parent
    while cur is not None:
        if child.type == "statement_block" and cur.type in ("if_statement", "elseif_clause", "else_clause"):
            statement = cur if cur.type == "if_statement" else cur.parent
            if statement is not None and statement.type == "elseif_clauses":
                statement = statement.parent
            if statement is None or statement.type != "if_statement":
                break
            clauses = [statement] + [c for e in statement.children if e.type == "elseif_clauses"
                                     for c in e.children if c.type == "elseif_clause"]
            # Versions reach this branch when every earlier condition may be false and this one may be true.
            for version in list(versions):
                for clause in clauses:
                    cond = _clause_condition(clause)
                    value = _condition(cond, version) if cond is not None else None
                    if cond is not None and value is None and _mentions_version(cond):
                        notes.append(f"version test not understood: {text(cond)[:60]!r}")
                    if clause is cur:
                        if value is False:
                            versions.discard(version)
                        break
                    if value is True:
                        versions.discard(version)
                        break
        child, cur = cur, cur.parent
    return versions, sorted(set(notes))
