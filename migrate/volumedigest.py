"""Volume content digests, the pure part: the record format (docs/verify.md), the digest of a tar stream, and the
shell twin (volume_digest.sh) the runbook runs in a helper container. The engine side (the helper container whose
archive is streamed through digest_tar_stream) is in migrate.inventory.engine, with the other SDK code."""
from __future__ import annotations

import functools
import hashlib
import io
import tarfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any, cast

from migrate.errors import ArchiveError

FORMAT = b"wsl2-migrate/volume-digest/2\n"
"""Hashed first: a change of the record format changes every digest instead of colliding with old ones."""

MOUNT_POINT = "/data"
"""Where the helper container mounts the volume; the archive's top entry is its base name."""

HELPER_LABEL = "wsl2-migrate.helper"
"""Label on every helper container, so a leftover (engine crash mid-digest) can be found and removed."""

READ_SIZE = 1 << 20
_TYPES = {
    tarfile.DIRTYPE: "dir",
    tarfile.REGTYPE: "file",
    tarfile.AREGTYPE: "file",
    tarfile.CONTTYPE: "file",
    tarfile.SYMTYPE: "symlink",
    tarfile.CHRTYPE: "char",
    tarfile.BLKTYPE: "block",
    tarfile.FIFOTYPE: "fifo",
}


@dataclass(frozen=True, slots=True)
class VolumeDigest:
    """The digest of one volume's content."""

    digest: str
    """sha256:<hex> over the sorted entry records (docs/verify.md)."""
    entries: int
    """Paths in the volume, its root directory included."""
    bytes: int
    """Content bytes hashed (a hard-linked file counts once)."""


@dataclass
class _Entry:
    type: str
    mode: int
    uid: int
    gid: int
    size: int = 0
    link: bytes = b""
    sha256: str = ""
    device: str = ""


@functools.lru_cache(maxsize=1)
def digest_script() -> str:
    """The shell implementation of the digest (volume_digest.sh): `sh -c SCRIPT sh DIR OUT` in a helper container."""
    from importlib import resources

    return resources.files("migrate").joinpath("volume_digest.sh").read_text(encoding="ascii")


def _hex(data: bytes) -> bytes:
    # Names may hold newlines, spaces or any byte but NUL and '/': hex keeps one record on one line.
    return data.hex().encode() if data else b"-"


def entry_record(path: bytes, type_: str, mode: int, uid: int, gid: int, size: int = 0, link: bytes = b"",
                 sha256: str = "", device: str = "") -> bytes:
    """The line one path contributes to a digest (docs/verify.md, 'Volume digest'): nine fields, LF-ended."""
    fields = (_hex(path), type_.encode(), b"%04o" % (mode & 0o7777), b"%d" % uid, b"%d" % gid, b"%d" % size,
              _hex(link), sha256.encode() or b"-", device.encode() or b"-")
    return b" ".join(fields) + b"\n"


def digest_records(records: Iterable[tuple[bytes, bytes]]) -> str:
    """sha256:<hex> over (path, record) pairs, taken in byte order of the path."""
    h = hashlib.sha256(FORMAT)
    for _, record in sorted(records):
        h.update(record)
    return "sha256:" + h.hexdigest()


def _relative(name: str, root: str) -> bytes:
    raw = name.encode("utf-8", "surrogateescape").rstrip(b"/")
    if raw.startswith(b"./"):
        raw = raw[2:]
    top = root.encode()
    if raw == top or raw == b".":
        return b"."
    if raw.startswith(top + b"/"):
        return raw[len(top) + 1:]
    raise ArchiveError(f"archive entry {name!r} is outside {root!r}")


def digest_tar_stream(fileobj: IO[bytes], root: str = MOUNT_POINT.strip("/")) -> VolumeDigest:
    """The digest of a tar stream whose entries are `root` and `root/...` (as the archive endpoint sends them)."""
    entries: dict[bytes, _Entry] = {}
    group: dict[bytes, bytes] = {}
    """Hard-link groups: member -> the first path of its inode in the stream."""
    total = 0
    counted = _Counted(fileobj)
    with tarfile.open(fileobj=cast(IO[bytes], counted), mode="r|", encoding="utf-8", errors="surrogateescape") as tar:
        for member in tar:
            path = _relative(member.name, root)
            if member.type == tarfile.LNKTYPE:
                target = _relative(member.linkname, root)
                if target not in entries:
                    raise ArchiveError(f"hard link {member.name!r} points at {member.linkname!r}, not seen before")
                first = group.setdefault(target, target)
                group[path] = first
                src = entries[target]
                entries[path] = _Entry(src.type, src.mode, src.uid, src.gid, src.size, b"", src.sha256, src.device)
                continue
            kind = _TYPES.get(member.type)
            if kind is None:
                raise ArchiveError(f"archive entry {member.name!r} has unsupported type {member.type!r}")
            e = _Entry(kind, member.mode & 0o7777, member.uid, member.gid)
            if kind == "symlink":
                e.link = member.linkname.encode("utf-8", "surrogateescape")
            elif kind in ("char", "block"):
                e.device = f"{member.devmajor},{member.devminor}"
            elif kind == "file":
                h = hashlib.sha256()
                stream = tar.extractfile(member)
                assert stream is not None  # a regular file always has a content stream
                size = 0
                while chunk := stream.read(READ_SIZE):
                    h.update(chunk)
                    size += len(chunk)
                e.size, e.sha256 = size, h.hexdigest()
                total += size
            entries[path] = e
        end = tar.offset
    while counted.read(READ_SIZE):
        pass
    # tarfile takes a stream cut at a header boundary for the end of the archive; the end-of-archive marker
    # (two zero blocks) tells a complete archive from a dropped connection.
    if counted.count < end + 2 * tarfile.BLOCKSIZE:
        raise ArchiveError(f"the archive ends early, at byte {counted.count} (no end-of-archive marker)")
    members: dict[bytes, list[bytes]] = {}
    for path, first in group.items():
        members.setdefault(first, []).append(path)
    for paths in members.values():
        # Which name of an inode a tar writer sees first depends on its walk order; the smallest name does not.
        name = min(paths)
        for p in paths:
            entries[p].link = name
    records = [(p, entry_record(p, e.type, e.mode, e.uid, e.gid, e.size, e.link, e.sha256, e.device))
               for p, e in entries.items()]
    return VolumeDigest(digest=digest_records(records), entries=len(records), bytes=total)


class _Counted:
    """A read-only file that counts the bytes read through it."""

    def __init__(self, fileobj: IO[bytes]) -> None:
        self.fileobj = fileobj
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self.fileobj.read(size)
        self.count += len(data)
        return data


class ChunkReader(io.RawIOBase):
    """A read-only file over an iterator of byte chunks (the SDK's archive stream)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._buf = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self._buf:
            try:
                self._buf = memoryview(next(self._chunks))
            except StopIteration:
                return 0
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n
