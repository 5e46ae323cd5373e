"""PowerShell string literals and ASCII-only string expressions: the one quoting path of the runbook and the
collector (runbook-style section 4)."""
from __future__ import annotations

import re
import struct

SINGLE_QUOTES = frozenset("'\u2018\u2019\u201a\u201b")
"""Every character PowerShell's tokenizer takes as a single quote (CharExtensions.IsSingleQuote)."""


_DOUBLED = str.maketrans({q: q + q for q in SINGLE_QUOTES})
_PRINTABLE = re.compile(r"[ -~]+")


def powershell_literal(text: str) -> str:
    """A single-quoted PowerShell string literal whose value is exactly text (all five single quotes doubled)."""
    # The tokenizer keeps the second of two adjacent single-quote characters, so doubling each one keeps its kind.
    return "'" + text.translate(_DOUBLED) + "'"


def _utf16_units(text: str) -> list[int]:
    """UTF-16 code units of text (astral characters as surrogate pairs, lone surrogates kept)."""
    data = text.encode("utf-16-le", "surrogatepass")
    return list(struct.unpack(f"<{len(data) // 2}H", data))


def powershell_string_expr(text: str) -> str:
    """An ASCII-only PowerShell expression whose value is text: a literal, or `('ab' + [char]0x00e9 + 'c')`."""
    if _PRINTABLE.fullmatch(text) or not text:
        return powershell_literal(text)
    pieces: list[str] = []
    pos = 0
    for m in _PRINTABLE.finditer(text):
        pieces += _chars(text[pos:m.start()], not pieces)
        pieces.append(powershell_literal(m.group()))
        pos = m.end()
    pieces += _chars(text[pos:], not pieces)
    return "(" + " + ".join(pieces) + ")"


def _chars(text: str, first: bool) -> list[str]:
    """[char] casts of text's UTF-16 units; a leading '' when they start the expression, because [char] + [char]
    would add numbers, not join text."""
    if not text:
        return []
    return ["''"] * first + [f"[char]0x{unit:04x}" for unit in _utf16_units(text)]
