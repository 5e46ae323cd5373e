"""The runbook library's run-time quoting (ConvertTo-EncodedArgument) as a Python function, read from its source.

The function is two .NET regular expression replacements and a pair of quotes; the constructs it uses mean the
same in Python's re (.NET's \\z is Python's \\Z, a `$1` group reference is `\\g<1>`), so running them here runs the
library's own rule. The tests hold it to migrate/emit/cmdline.py's encode_quoted and the reference splitters.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from importlib import resources

from tests.pslint import functions, text
from tests.pslit import parse_powershell

LIB = resources.files("migrate.emit").joinpath("runbook_lib.ps1").read_text(encoding="ascii")


def encoded_argument_rule(source: str = LIB) -> Callable[[str], str]:
    """ConvertTo-EncodedArgument of the library source as a Python function (its NUL refusal included)."""
    body = text(functions(parse_powershell(source).root_node)["convertto-encodedargument"])
    replaces = re.findall(r"\$escaped = \[regex\]::Replace\(\$(\w+), '([^']*)', '([^']*)'\)", body)
    wraps = "return ([string][char]34 + $escaped + [string][char]34)" in body
    refuses = re.search(r"if \(\$Value\.IndexOf\(\[char\]0\) -ge 0\) \{\s*throw ", body) is not None
    if len(replaces) != 2 or not wraps or not refuses or [r[0] for r in replaces] != ["Value", "escaped"]:
        raise AssertionError("ConvertTo-EncodedArgument no longer has the expected form")
    rules = [(re.compile(p.replace(r"\z", r"\Z")), re.sub(r"\$(\d)", r"\\g<\1>", r.replace("\\", "\\\\")))
             for _, p, r in replaces]

    def encode(value: str) -> str:
        if "\x00" in value:
            raise ValueError("a NUL character cannot be passed")
        for pattern, replacement in rules:
            value = pattern.sub(replacement, value)
        return '"' + value + '"'
    return encode
