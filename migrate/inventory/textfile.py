"""Read files as Windows writes them (UTF-8 with or without BOM, UTF-16 LE/BE with BOM) with one-line errors.

Every input file may come from another machine and may be hostile: a file is read only when it is a regular
file no bigger than the limit of its kind (a FIFO would hang the scan, /dev/zero would fill the memory), and
JSON is refused when it nests deeper than any Docker or Desktop file does, or holds a string that no file or
command line can carry (a NUL character, a lone UTF-16 surrogate).
"""
from __future__ import annotations

import codecs
import io
import json
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from migrate.errors import InputError

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

MIB = 1024 * 1024
LIMITS = {
    "text": 1024 * MIB,
    "engine-info": 4 * MIB,
    "settings": 4 * MIB,
    "daemon.json": 4 * MIB,
    "wslconfig": 1 * MIB,
    "host-facts": 4 * MIB,
    "manifest": 1 * MIB,
    "engine-objects": 1024 * MIB,
}
"""The most bytes read from one file of each kind. Real files are far smaller (settings files a few KiB, `docker
info` a few KiB, a workstation's container inspects a few MiB); the limits keep a wrong file from taking the
machine's memory. "text" (inventories, plans, configuration) and engine objects grow with the engine, so they
leave room for many thousand objects."""

MAX_JSON_DEPTH = 64
"""Nesting levels of a JSON document. Engine API payloads and Desktop settings nest fewer than 10; deeper input
is refused before any code recurses into it."""

_FILE_KINDS = {stat.S_IFDIR: "a directory", stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFCHR: "a character device",
               stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket"}


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


def _human(n: int) -> str:
    return f"{n // MIB} MiB" if n >= MIB else f"{n // 1024} KiB"


class Entry(Protocol):
    """A file that is not on disk, such as an entry of a zipped bundle (inventory/bundlezip.py)."""

    def read_bytes(self) -> bytes:
        """Its bytes, or InputError naming it."""


def read_bytes(path: str | Path | Entry, kind: str = "text") -> bytes:
    """A regular file's bytes, at most LIMITS[kind]; InputError naming the file otherwise.

    The file is opened without blocking and checked with fstat before anything is read, so a FIFO, a device
    or a socket given by mistake is refused instead of hanging the scan or reading forever. An archive entry
    (checked for type and size when its archive was opened) is read by the archive, then held to the same limit.
    """
    limit = LIMITS[kind]
    if not isinstance(path, (str, os.PathLike)):
        data = path.read_bytes()
        if len(data) > limit:
            raise InputError(f"{path}: larger than {_human(limit)}, the limit for a {kind} file; "
                             "is it the right file?")
        return data
    p = Path(path)
    fd = open_regular(p)
    try:
        chunks = []
        size = 0
        while True:
            chunk = os.read(fd, min(limit + 1 - size, 1 << 22) or 1)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise InputError(f"{p}: larger than {_human(limit)}, the limit for a {kind} file; "
                                 "is it the right file?")
        return b"".join(chunks)
    except OSError as exc:
        raise unreadable(p, exc) from None
    finally:
        os.close(fd)


def open_regular(p: Path) -> int:
    """A descriptor of p opened without blocking, once fstat says it is a regular file; InputError otherwise."""
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise unreadable(p, exc) from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        what = _FILE_KINDS.get(stat.S_IFMT(mode), "not a regular file")
        raise InputError(f"{p}: is {what}, expected a regular file")
    return fd


def unreadable(path: Path, exc: OSError) -> InputError:
    """The one-line error for a file that cannot be read: missing, a directory, or why not."""
    if isinstance(exc, FileNotFoundError):
        return InputError(f"{path}: no such file")
    if isinstance(exc, IsADirectoryError):
        return InputError(f"{path}: is a directory, expected a file")
    return InputError(f"{path}: cannot read ({exc.strerror or exc})")


def read_text(path: str | Path | Entry, kind: str = "text") -> tuple[str, str]:
    """Read a text file in any of the encodings Windows tools write; InputError names the file on failure."""
    return decode_bytes(read_bytes(path, kind), str(path))


# Escapes that decode to characters no file, report or command line can carry: NUL, and UTF-16 surrogates
# (a valid pair decodes to one character; a lone one stays a surrogate that cannot be encoded).
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


def parse_json(text: str, name: str) -> Any:
    """Parse JSON text; a syntax error, deep nesting or an uncarriable string is one line naming the file."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if not text.strip():
            raise InputError(f"{name}: the file is empty, expected JSON") from None
        raise InputError(f"{name}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise InputError(f"{name}: JSON nested deeper than {MAX_JSON_DEPTH} levels; not a Docker file") from None
    check_depth(data, name)
    if _SUSPECT_ESCAPE.search(text):
        check_strings(data, name)
    return data


def check_depth(data: Any, name: str, limit: int = MAX_JSON_DEPTH) -> None:
    """InputError when data nests more than limit levels (iterative: deep input cannot overflow the stack)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        obj, depth = stack.pop()
        if depth > limit:
            raise InputError(f"{name}: JSON nested deeper than {limit} levels; not a Docker file")
        if isinstance(obj, dict):
            stack.extend((v, depth + 1) for v in obj.values() if isinstance(v, (dict, list)))
        elif isinstance(obj, list):
            stack.extend((v, depth + 1) for v in obj if isinstance(v, (dict, list)))


def _bad_char(s: str) -> str:
    """What makes s uncarriable ('' when nothing)."""
    if "\0" in s:
        return "a NUL character (\\u0000)"
    try:
        s.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"a lone UTF-16 surrogate (\\u{ord(s[exc.start]):04x})"
    return ""


def check_strings(data: Any, name: str) -> None:
    """InputError naming the JSON path (and the object's Name) of the first string no file or command can carry."""
    stack: list[tuple[Any, str, str]] = [(data, "$", "")]
    while stack:
        obj, where, owner = stack.pop()
        if isinstance(obj, dict):
            if not owner and isinstance(obj.get("Name"), str) and not _bad_char(obj["Name"]):
                owner = obj["Name"]
            for k, v in obj.items():
                bad = _bad_char(k)
                if bad:
                    raise _uncarriable(name, where, owner, bad)
                stack.append((v, f"{where}.{k}", owner))
        elif isinstance(obj, list):
            stack.extend((v, f"{where}[{i}]", owner) for i, v in enumerate(obj))
        elif isinstance(obj, str):
            bad = _bad_char(obj)
            if bad:
                raise _uncarriable(name, where, owner, bad)


def _uncarriable(name: str, where: str, owner: str, bad: str) -> InputError:
    of = f" (object {owner!r})" if owner else ""
    return InputError(f"{name}: {where}{of} holds {bad}, which no file or command line can carry; refused")


def read_json(path: str | Path | Entry, kind: str = "text") -> tuple[Any, str]:
    """Read and parse a JSON file; return the value and the encoding it was written in."""
    text, encoding = read_text(path, kind)
    return parse_json(text, str(path)), encoding


_CHUNK = 1 << 20
_MAX_ITEM = 64 << 20
"""No `docker inspect` object comes near this: a longer one is malformed input, not a reason to keep reading."""


def iter_json_array(path: str | Path | Entry, kind: str = "engine-objects") -> Iterator[Any]:
    """The items of a JSON array file (or the one object of a file holding an object), one at a time: a
    100,000-container `docker inspect` is never held whole, as text or as parsed data. The file is held to what
    read_json holds a whole file to: a regular file within LIMITS[kind], the encodings of read_text, no item
    nested deeper than MAX_JSON_DEPTH, no string no file can carry. (An entry of a zipped bundle, size-limited when
    its archive was opened, is read whole first.)"""
    if not isinstance(path, (str, os.PathLike)):
        with io.BytesIO(read_bytes(path, kind)) as data:
            yield from _items(data, str(path), LIMITS[kind], kind)
        return
    p = Path(path)
    fh = os.fdopen(open_regular(p), "rb")
    with fh:
        try:
            yield from _items(fh, str(p), LIMITS[kind], kind)
        except OSError as exc:
            raise unreadable(p, exc) from None


class _Limited:
    """A binary file that raises InputError once more than limit bytes were read from it."""

    def __init__(self, fh: Any, name: str, limit: int, kind: str) -> None:
        self.fh, self.name, self.limit, self.kind, self.size = fh, name, limit, kind, 0

    def read(self, n: int) -> bytes:
        data: bytes = self.fh.read(n)
        self.size += len(data)
        if self.size > self.limit:
            raise InputError(f"{self.name}: larger than {_human(self.limit)}, the limit for a {self.kind} file; "
                             "is it the right file?")
        return data


def _decoder_for(head: bytes) -> tuple[Any, int]:
    """An incremental decoder for the file's encoding (as decode_bytes detects it) and the BOM length to skip."""
    for bom, codec in _BOMS:
        if head.startswith(bom):
            if codec == "utf-16":
                codec = "utf-16-le" if bom == codecs.BOM_UTF16_LE else "utf-16-be"
            return codecs.getincrementaldecoder("utf-8" if codec == "utf-8-sig" else codec)(), len(bom)
    return codecs.getincrementaldecoder(_detect(head))(), 0


def _items(raw_fh: Any, name: str, limit: int, kind: str) -> Iterator[Any]:
    decoder = json.JSONDecoder()
    fh = _Limited(raw_fh, name, limit, kind)
    suspect = False  # an escape that may decode to a NUL or a lone surrogate: check the items' strings
    head = fh.read(_CHUNK)
    inc, skip = _decoder_for(head)
    buf = _decode(inc, head[skip:], False, name)
    suspect = bool(_SUSPECT_ESCAPE.search(buf))
    done_lines = 0  # lines before buf[0], and characters of its line before it: for error positions
    done_cols = 0
    eof = not head

    def more() -> bool:
        nonlocal buf, eof, suspect
        if eof:
            return False
        chunk = fh.read(_CHUNK)
        eof = not chunk
        start = max(0, len(buf) - 5)  # an escape cut by the chunk boundary is found too
        buf += _decode(inc, chunk, eof, name)
        suspect = suspect or bool(_SUSPECT_ESCAPE.search(buf, start))
        return not eof or bool(buf)

    def checked(value: Any, depth: int) -> Any:
        check_depth(value, name, MAX_JSON_DEPTH - depth)
        if suspect:
            check_strings(value, name)
        return value

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
            raise InputError(f"{name}: JSON nested deeper than {MAX_JSON_DEPTH} levels; not a Docker file") from None
        if _skip_ws(buf, end) < len(buf):
            raise fail("Extra data", _skip_ws(buf, end))
        if not isinstance(value, dict):
            raise InputError(f"{name}: expected a JSON array as `docker ... inspect` prints it")
        yield checked(value, 0)
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
                raise InputError(f"{name}: JSON nested deeper than {MAX_JSON_DEPTH} levels; not a Docker file") \
                    from None
        yield checked(value, 1)
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
