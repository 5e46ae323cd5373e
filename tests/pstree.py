"""Tree-sitter helpers shared by the PowerShell checks: simple literal values and the node under expression chains."""
from __future__ import annotations

import re

from tree_sitter import Node

from tests.pslint import text
from tests.pslit import decode_powershell_single_quoted


def literal(node: Node) -> str | None:
    """The value of a simple string literal or bare word, else None."""
    raw = text(node).strip()
    if raw[:1] in "'\u2018\u2019\u201a\u201b":
        try:
            return decode_powershell_single_quoted(raw)
        except ValueError:
            return None
    if len(raw) >= 2 and raw[0] == raw[-1] == '"' and not re.search(r'[`$"]', raw[1:-1]):
        return raw[1:-1]
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", raw):
        return raw
    return None


def unwrap(node: Node) -> Node:
    """The single meaningful node below the expression chain tree-sitter builds around a value."""
    while node.type not in ("string_literal", "type_literal", "variable", "hash_literal_expression"):
        named = [c for c in node.children if c.is_named]
        if node.type == "parenthesized_expression":
            inner = [c for c in node.children if c.type not in ("(", ")")]
            if len(inner) == 1:
                node = inner[0]
                continue
        if len(node.children) == 1 and len(named) == 1:
            node = named[0]
            continue
        return node
    return node
