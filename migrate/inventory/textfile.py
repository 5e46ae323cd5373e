"""Read files as Windows writes them (UTF-8 with or without BOM, UTF-16 LE/BE with BOM) with one-line errors."""
from __future__ import annotations

import codecs
import json
from pathlib import Path
from typing import Any

from migrate.errors import InputError

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_bytes(raw: bytes, name: str) -> tuple[str, str]:
    """Decode file bytes; return the text and the encoding found (utf-8, utf-8-sig, utf-16-le, utf-16-be)."""
    encoding = "utf-8"
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            encoding = codec
            break
    else:
        # PowerShell 5.1's `Out-File` writes UTF-16 LE with a BOM, but some tools omit it: a NUL in every other
        # byte of ASCII text gives it away.
        if len(raw) >= 4 and raw[1] == 0 and raw[3] == 0 and raw[0] != 0:
            encoding = "utf-16-le"
        elif len(raw) >= 4 and raw[0] == 0 and raw[2] == 0 and raw[1] != 0:
            encoding = "utf-16-be"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not valid {encoding} text (byte {exc.start})") from None
    label = encoding
    if encoding == "utf-16":
        label = "utf-16-le" if raw.startswith(codecs.BOM_UTF16_LE) else "utf-16-be"
    return text.lstrip("\ufeff"), label


def read_bytes(path: str | Path) -> bytes:
    """A file's bytes; InputError naming the file when it is missing, a directory or unreadable."""
    p = Path(path)
    try:
        return p.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{p}: is a directory, expected a file") from None
    except OSError as exc:
        raise InputError(f"{p}: cannot read ({exc.strerror or exc})") from None


def read_text(path: str | Path) -> tuple[str, str]:
    """Read a text file in any of the encodings Windows tools write; InputError names the file on failure."""
    return decode_bytes(read_bytes(path), str(path))


def parse_json(text: str, name: str) -> Any:
    """Parse JSON text; a syntax error becomes one line naming the file, line and column."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        if not text.strip():
            raise InputError(f"{name}: the file is empty, expected JSON") from None
        raise InputError(f"{name}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise InputError(f"{name}: nested too deeply (no file the tool reads nests that far)") from None


def read_json(path: str | Path) -> tuple[Any, str]:
    """Read and parse a JSON file; return the value and the encoding it was written in."""
    text, encoding = read_text(path)
    return parse_json(text, str(path)), encoding
