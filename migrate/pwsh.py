"""PowerShell string literals and ASCII-only string expressions: the one quoting path of the runbook and the
collector (runbook-style section 4)."""
from __future__ import annotations

SINGLE_QUOTES = frozenset("'\u2018\u2019\u201a\u201b")
"""Every character PowerShell's tokenizer takes as a single quote (CharExtensions.IsSingleQuote)."""


def powershell_literal(text: str) -> str:
    """A single-quoted PowerShell string literal whose value is exactly text (all five single quotes doubled)."""
    # The tokenizer keeps the second of two adjacent single-quote characters, so doubling each one keeps its kind.
    return "'" + "".join(ch + ch if ch in SINGLE_QUOTES else ch for ch in text) + "'"


def _utf16_units(text: str) -> list[int]:
    """UTF-16 code units of text (astral characters as surrogate pairs, lone surrogates kept)."""
    data = text.encode("utf-16-le", "surrogatepass")
    return [int.from_bytes(data[i:i + 2], "little") for i in range(0, len(data), 2)]


def powershell_string_expr(text: str) -> str:
    """An ASCII-only PowerShell expression whose value is text: a literal, or `('ab' + [char]0x00e9 + 'c')`."""
    if all(" " <= ch <= "~" for ch in text):
        return powershell_literal(text)
    pieces: list[str] = []
    run: list[str] = []
    for unit in _utf16_units(text):
        if 0x20 <= unit <= 0x7E:
            run.append(chr(unit))
            continue
        if run or not pieces:
            # A leading '' makes the sum a string concatenation: [char] + [char] would add numbers.
            pieces.append(powershell_literal("".join(run)))
            run = []
        pieces.append(f"[char]0x{unit:04x}")
    if run:
        pieces.append(powershell_literal("".join(run)))
    return "(" + " + ".join(pieces) + ")"
