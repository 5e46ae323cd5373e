"""Read files as Windows writes them (UTF-8 with or without BOM, UTF-16 LE/BE with BOM) with one-line errors."""
from __future__ import annotations

import codecs
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from migrate.errors import InputError

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _detect(raw: bytes) -> str:
    """The encoding of file bytes from their start: a BOM, or UTF-16 without one, else UTF-8."""
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            return codec
    # PowerShell 5.1's `Out-File` writes UTF-16 LE with a BOM, but some tools omit it: a NUL in every other
    # byte of ASCII text gives it away.
    if len(raw) >= 4 and raw[1] == 0 and raw[3] == 0 and raw[0] != 0:
        return "utf-16-le"
    if len(raw) >= 4 and raw[0] == 0 and raw[2] == 0 and raw[1] != 0:
        return "utf-16-be"
    return "utf-8"


def decode_bytes(raw: bytes, name: str) -> tuple[str, str]:
    """Decode file bytes; return the text and the encoding found (utf-8, utf-8-sig, utf-16-le, utf-16-be)."""
    encoding = _detect(raw)
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not valid {encoding} text (byte {exc.start})") from None
    label = encoding
    if encoding == "utf-16":
        label = "utf-16-le" if raw.startswith(codecs.BOM_UTF16_LE) else "utf-16-be"
    return text.lstrip("\ufeff"), label


class Entry(Protocol):
    """A file that is not on disk, such as an entry of a zipped bundle (inventory/bundlezip.py)."""

    def read_bytes(self) -> bytes:
        """Its bytes, or InputError naming it."""


def read_bytes(path: str | Path | Entry) -> bytes:
    """A file's bytes; InputError naming the file when it is missing, a directory or unreadable."""
    if not isinstance(path, (str, os.PathLike)):
        return path.read_bytes()
    p = Path(path)
    try:
        return p.read_bytes()
    except OSError as exc:
        raise unreadable(p, exc) from None


def unreadable(path: Path, exc: OSError) -> InputError:
    """The one-line error for a file that cannot be read: missing, a directory, or why not."""
    if isinstance(exc, FileNotFoundError):
        return InputError(f"{path}: no such file")
    if isinstance(exc, IsADirectoryError):
        return InputError(f"{path}: is a directory, expected a file")
    return InputError(f"{path}: cannot read ({exc.strerror or exc})")


def read_text(path: str | Path | Entry) -> tuple[str, str]:
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


def read_json(path: str | Path | Entry) -> tuple[Any, str]:
    """Read and parse a JSON file; return the value and the encoding it was written in."""
    text, encoding = read_text(path)
    return parse_json(text, str(path)), encoding


_CHUNK = 1 << 20
_MAX_ITEM = 64 << 20
"""No `docker inspect` object comes near this: a longer one is malformed input, not a reason to keep reading."""


def iter_json_array(path: str | Path | Entry) -> Iterator[Any]:
    """The items of a JSON array file (or the one object of a file holding an object), one at a time: a
    100,000-container `docker inspect` is never held whole, as text or as parsed data. Encodings as read_text.
    (An entry of a zipped bundle, size-limited by bundlezip, is read whole first.)"""
    if not isinstance(path, (str, os.PathLike)):
        with io.BytesIO(path.read_bytes()) as data:
            yield from _items(data, str(path))
        return
    p = Path(path)
    try:
        fh = open(p, "rb")
    except OSError as exc:
        raise unreadable(p, exc) from None
    with fh:
        yield from _items(fh, str(p))


def _decoder_for(head: bytes) -> tuple[Any, int]:
    """An incremental decoder for the file's encoding (as decode_bytes detects it) and the BOM length to skip."""
    for bom, codec in _BOMS:
        if head.startswith(bom):
            if codec == "utf-16":
                codec = "utf-16-le" if bom == codecs.BOM_UTF16_LE else "utf-16-be"
            return codecs.getincrementaldecoder("utf-8" if codec == "utf-8-sig" else codec)(), len(bom)
    return codecs.getincrementaldecoder(_detect(head))(), 0


def _items(fh: Any, name: str) -> Iterator[Any]:
    decoder = json.JSONDecoder()
    head = fh.read(_CHUNK)
    inc, skip = _decoder_for(head)
    buf = _decode(inc, head[skip:], False, name)
    done_lines = 0  # lines before buf[0], and characters of its line before it: for error positions
    done_cols = 0
    eof = not head

    def more() -> bool:
        nonlocal buf, eof
        if eof:
            return False
        chunk = fh.read(_CHUNK)
        eof = not chunk
        buf += _decode(inc, chunk, eof, name)
        return not eof or bool(buf)

    def fail(msg: str, pos: int) -> InputError:
        line = done_lines + buf.count("\n", 0, pos) + 1
        newline = buf.rfind("\n", 0, pos)
        col = pos - newline if newline >= 0 else done_cols + pos + 1
        return InputError(f"{name}: malformed JSON at line {line} column {col}: {msg}")

    pos = _skip_ws(buf, 0)
    while pos >= len(buf) and more():
        pos = _skip_ws(buf, pos)
    if pos >= len(buf):
        return  # an empty file: no items (`docker inspect` of nothing)
    if buf[pos] != "[":
        # One object where a list was expected: one item was inspected.
        while more():
            pass
        try:
            value, end = decoder.raw_decode(buf, pos)
        except json.JSONDecodeError as exc:
            raise fail(exc.msg, exc.pos) from None
        except RecursionError:
            raise InputError(f"{name}: nested too deeply (no file the tool reads nests that far)") from None
        if _skip_ws(buf, end) < len(buf):
            raise fail("Extra data", _skip_ws(buf, end))
        if not isinstance(value, dict):
            raise InputError(f"{name}: expected a JSON array as `docker ... inspect` prints it")
        yield value
        return
    pos += 1
    first = True
    while True:
        pos = _skip_ws(buf, pos)
        while pos >= len(buf):
            if not more():
                raise fail("Expecting value or ']'", pos)
            pos = _skip_ws(buf, pos)
        if buf[pos] == "]":
            end = _skip_ws(buf, pos + 1)
            while end >= len(buf) and more():
                end = _skip_ws(buf, end)
            if end < len(buf):
                raise fail("Extra data", end)
            return
        if not first:
            if buf[pos] != ",":
                raise fail("Expecting ',' delimiter", pos)
            pos = _skip_ws(buf, pos + 1)
            while pos >= len(buf):
                if not more():
                    raise fail("Expecting value", pos)
                pos = _skip_ws(buf, pos)
        while True:
            try:
                value, end = decoder.raw_decode(buf, pos)
                after = _skip_ws(buf, end)
                # Only a ',' or ']' after it proves the value whole: a number cut by the chunk reads as a shorter one.
                if (after < len(buf) and buf[after] in ",]") or not more():
                    break
                continue
            except json.JSONDecodeError as exc:
                # Most likely the item is cut by the chunk boundary: read on (a real error stays one).
                if len(buf) - pos > _MAX_ITEM or not more():
                    raise fail(exc.msg, exc.pos) from None
            except RecursionError:
                raise InputError(f"{name}: nested too deeply (no file the tool reads nests that far)") from None
        yield value
        first = False
        if end > _CHUNK:  # drop what was consumed, so the buffer stays about one chunk long
            newline = buf.rfind("\n", 0, end)
            done_lines += buf.count("\n", 0, end)
            done_cols = end - newline - 1 if newline >= 0 else done_cols + end
            buf = buf[end:]
            end = 0
        pos = end


def _skip_ws(buf: str, pos: int) -> int:
    n = len(buf)
    while pos < n and buf[pos] in " \t\r\n":
        pos += 1
    return pos


def _decode(inc: Any, data: bytes, final: bool, name: str) -> str:
    try:
        text: str = inc.decode(data, final)
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not valid text ({exc.reason} at byte {exc.start} of a read)") from None
    return text
