"""Windows command-line text for docker.exe arguments (PowerShell string expressions: migrate.pwsh).

The runbook starts docker.exe through System.Diagnostics.Process with a pre-built Arguments string
(runbook-style §4.6 B), which .NET passes through verbatim on Windows PowerShell 5.1 and every 7.x, so the text
built here is exactly what docker.exe (a Go program) splits. The encoder follows runbook-style §4.5: a literal `"`
is always written `\\"`, never `""`, because the post-2008 C runtime and the pre-2008 rules (Go's
commandLineToArgv, CommandLineToArgvW) disagree about `""` inside quotes but agree about backslash escapes.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from typing import Union

from migrate.errors import CommandLineError, InternalError
from migrate.plan.steps import Arg, BackupPath, SecretValue, Word
from migrate.pwsh import powershell_literal, powershell_string_expr  # noqa: F401  (the runbook's quoting)

Segment = Union[str, BackupPath, SecretValue]
"""A piece of a command line: literal text, a backup path the runbook inserts at run time, or a whole argument whose
value the runbook reads at run time and encodes with encode_quoted's rules (ConvertTo-EncodedArgument)."""

_QUOTE_OR_SPACE = re.compile(r'["\s]')


def needs_quotes(arg: str) -> bool:
    """True when arg must be wrapped in quotes: it is empty, or has whitespace or a double quote."""
    # Only space and tab split arguments, but quoting for any whitespace (as .NET PasteArguments does) is harmless
    # and keeps newlines and exotic spaces visibly inside one argument.
    return not arg or _QUOTE_OR_SPACE.search(arg) is not None


def _check_literal(text: str) -> None:
    """Reject text a Windows command line cannot carry."""
    if "\x00" in text:
        raise CommandLineError(f"argument {text!r} contains a NUL character, which a Windows command line cannot carry")


def _quoted_body(text: str, before_quote: bool) -> str:
    """text escaped for the inside of a quoted region; before_quote: a `"` (the closing one) follows it."""
    out: list[str] = []
    slashes = 0
    for ch in text:
        if ch == "\\":
            slashes += 1
            continue
        if ch == '"':
            out.append("\\" * (2 * slashes + 1) + '"')
        else:
            out.append("\\" * slashes + ch)
        slashes = 0
    out.append("\\" * (2 * slashes if before_quote else slashes))
    return "".join(out)


@functools.lru_cache(maxsize=65536)
def encode_arg(arg: str) -> str:
    """One argument as command-line text that MSVCRT, CommandLineToArgvW and Go all read back as arg."""
    _check_literal(arg)
    if not needs_quotes(arg):
        return arg
    return '"' + _quoted_body(arg, before_quote=True) + '"'


def encode_quoted(arg: str) -> str:
    """One argument always in double quotes (a run-time value: the runbook's ConvertTo-EncodedArgument does this
    with two regular expressions, tests/test_runbook_lib.py holds them to it)."""
    _check_literal(arg)
    return '"' + _quoted_body(arg, before_quote=True) + '"'


def _check_backup_path(path: BackupPath) -> None:
    """Reject a relative backup path whose resolved form could break the quoting around it."""
    rel = path.rel
    bad = [ch for ch in rel if ch in '"\\' or ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F]
    if bad or rel.startswith("/") or rel.endswith("/"):
        raise CommandLineError(f"backup path {rel!r}: must use '/' separators, not start or end with '/', "
                         "and hold no '\"', '\\' or control characters")


def _merge(segments: Sequence[Segment]) -> tuple[Segment, ...]:
    """Adjacent literal segments joined, empty ones dropped."""
    out: list[Segment] = []
    for seg in segments:
        if isinstance(seg, str):
            if not seg:
                continue
            if out and isinstance(out[-1], str):
                out[-1] = out[-1] + seg
                continue
        out.append(seg)
    return tuple(out)


def _encode_word(parts: Sequence[str | BackupPath]) -> list[Segment]:
    """A word holding at least one backup path: always quoted, so a run-time path with spaces stays one argument."""
    merged = _merge(parts)
    out: list[Segment] = ['"']
    for i, part in enumerate(merged):
        if isinstance(part, BackupPath):
            _check_backup_path(part)
            out.append(part)
            continue
        if isinstance(part, SecretValue):
            raise InternalError("a secret value is a whole argument, never part of a word")
        _check_literal(part)
        # A backslash run that reaches a backup path is followed by the path's first character, never by '"'
        # (the run-time path holds no '"' and does not end with '\'), so only the last part meets a quote.
        out.append(_quoted_body(part, before_quote=i == len(merged) - 1))
    out.append('"')
    return out


def _encode_one(arg: Arg) -> list[Segment]:
    """Segments of one argument."""
    if isinstance(arg, str):
        return [encode_arg(arg)]
    if isinstance(arg, BackupPath):
        return _encode_word((arg,))
    if isinstance(arg, SecretValue):
        _check_literal(arg.prefix)
        return [arg]
    if isinstance(arg, Word):
        if any(isinstance(p, BackupPath) for p in arg.parts):
            return _encode_word(arg.parts)
        return [encode_arg("".join(p for p in arg.parts if isinstance(p, str)))]
    raise InternalError(f"not a docker argument: {arg!r}")


def encode_command_line(args: Sequence[Arg]) -> tuple[Segment, ...]:
    """The Arguments text for args as literal segments and backup-path markers; adjacent literals merged."""
    out: list[Segment] = []
    for i, arg in enumerate(args):
        if i:
            out.append(" ")
        out.extend(_encode_one(arg))
    return _merge(out)


def backup_path_text(root: str, rel: str) -> str:
    """The run-time path of a backup path: root, or root + '\\' + rel with backslashes (what the runbook does)."""
    return root if not rel else root + "\\" + rel.replace("/", "\\")


def resolve_command_line(segments: Sequence[Segment], root: str,
                         secret: Callable[[SecretValue], str] | None = None) -> str:
    """The final Arguments string: segments joined with each marker replaced by its path under root, and each
    secret value (read by secret) encoded as one quoted argument."""
    # Quoting stays sound only for a non-empty root without '"' or NUL that does not end with '\'; the runbook
    # checks more (absolute, no control characters) before it gets here.
    if not root or '"' in root or "\x00" in root or root.endswith("\\"):
        raise CommandLineError(f"backup folder {root!r}: must be non-empty, hold no '\"' and not end with '\\'")
    out = []
    for s in segments:
        if isinstance(s, str):
            out.append(s)
        elif isinstance(s, BackupPath):
            out.append(backup_path_text(root, s.rel))
        elif secret is None:
            raise CommandLineError(f"a secret value of {s.file} is needed and nothing reads it")
        else:
            out.append(encode_quoted(s.prefix + secret(s)))
    return "".join(out)
