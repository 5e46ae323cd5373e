"""Volume content digests: every path of a volume with its type, mode, owner, size, link and content hash.

The content is read through a helper container that is created (never started) with the volume mounted
read-only, by streaming `GET /containers/{id}/archive?path=/data` through tarfile's stream mode: nothing is
extracted, nothing is written to the volume, and memory stays flat whatever the volume's size. The record format
is specified in docs/verify.md so that anyone can recompute a digest from a directory on disk.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import tarfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any, cast

from migrate.errors import ArchiveError, EngineError
from migrate.model import Note, Volume

FORMAT = b"wsl2-migrate/volume-digest/2\n"
"""Hashed first: a change of the record format changes every digest instead of colliding with old ones."""

MOUNT_POINT = "/data"
"""Where the helper container mounts the volume; the archive's top entry is its base name."""

HELPER_LABEL = "wsl2-migrate.helper"
"""Label on every helper container, so a leftover (engine crash mid-digest) can be found and removed."""

_READ = 1 << 20
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

    return resources.files("migrate.verify").joinpath("volume_digest.sh").read_text(encoding="ascii")


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
                while chunk := stream.read(_READ):
                    h.update(chunk)
                    size += len(chunk)
                e.size, e.sha256 = size, h.hexdigest()
                total += size
            entries[path] = e
        end = tar.offset
    while counted.read(_READ):
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


class _ChunkReader(io.RawIOBase):
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


def pick_helper_image(client: Any) -> str | None:
    """The id of the smallest image on the engine that suits a helper (engine's OS, no declared volumes)."""
    os_type = str((client.info() or {}).get("OSType") or "linux")
    fallback = None
    for summary in sorted(client.images(), key=lambda i: (i.get("Size") or 0, i.get("Id") or "")):
        try:
            img = client.inspect_image(summary["Id"])
        except Exception:  # removed since the listing; try the next one
            continue
        if (img.get("Os") or os_type) != os_type:
            continue
        if (img.get("Config") or {}).get("Volumes"):
            # It would work (anonymous volumes are removed with the helper), but creates volumes meanwhile.
            fallback = fallback or str(img["Id"])
            continue
        return str(img["Id"])
    return fallback


def digest_volume(client: Any, name: str, image: str) -> VolumeDigest:
    """Digest volume `name` through a created (never started) helper container of `image`, always removed."""
    from docker.types import Mount

    # Mounting a volume that does not exist would create it, empty: make sure it is there first.
    client.inspect_volume(name)
    host_config = client.create_host_config(
        mounts=[Mount(MOUNT_POINT, name, type="volume", read_only=True, no_copy=True)], network_mode="none")
    created = client.create_container(image, command=["true"], host_config=host_config, network_disabled=True,
                                      labels={HELPER_LABEL: "volume-digest"})
    cid = created["Id"]
    try:
        chunks, _ = client.get_archive(cid, MOUNT_POINT)
        reader = io.BufferedReader(_ChunkReader(chunks), buffer_size=_READ)
        return digest_tar_stream(reader)
    finally:
        try:
            client.remove_container(cid, v=True, force=True)
        except Exception as exc:  # any failure here leaves a container behind: say which one
            raise EngineError(f"helper container {cid[:12]} (volume {name}) could not be removed "
                              f"({str(exc).splitlines()[0][:200]}); remove it with `docker rm -f {cid[:12]}`") from None


Progress = Callable[[str, int, int], None]


def digest_volumes(url: str, names: Sequence[str], tls: Any = None,
                   progress: Progress | None = None) -> tuple[dict[str, VolumeDigest], list[Note]]:
    """Digests of the named volumes on the engine at url; a volume that cannot be read becomes a Note."""
    from docker.errors import APIError, NotFound

    from migrate.inventory.engine import connect

    out: dict[str, VolumeDigest] = {}
    notes: list[Note] = []
    if not names:
        return out, notes
    client = connect(url, tls)
    try:
        image = pick_helper_image(client)
        if image is None:
            notes.append(Note(area="volumes", subject=url, message="no volume digests: the engine holds no image "
                              "to create a helper container from"))
            return out, notes
        total = len(names)
        if progress:
            progress("volume digests", 0, total)
        for done, name in enumerate(sorted(names), start=1):
            try:
                out[name] = digest_volume(client, name, image)
            except NotFound:
                notes.append(Note(area="volumes", subject=name, message="disappeared during the scan (removed "
                                  "while it was read)"))
            except APIError as exc:
                notes.append(Note(area="volumes", subject=name,
                                  message=f"no digest: the engine refused the helper container ({exc.explanation})"))
            except (ArchiveError, tarfile.TarError) as exc:
                notes.append(Note(area="volumes", subject=name, message=f"no digest: unreadable archive ({exc})"))
            if progress:
                progress("volume digests", done, total)
    except (OSError, APIError) as exc:
        raise EngineError(f"engine {url}: volume digests failed ({str(exc).splitlines()[0][:200]})") from None
    finally:
        client.close()
    return out, notes


def apply_digests(url: str, tls: Any, volumes: Sequence[Volume], os_type: str,
                  progress: Progress | None = None) -> tuple[list[Volume], list[Note]]:
    """The volumes with `digest` filled from the live engine at url, and notes for those left without one."""
    if os_type == "windows":
        return list(volumes), [Note(area="volumes", subject=url, message="no volume digests: computed for Linux "
                                    "engines only (the helper container mounts the volume at /data)")]
    digests, notes = digest_volumes(url, [v.name for v in volumes], tls, progress)
    out = [dataclasses.replace(v, digest=digests[v.name].digest) if v.name in digests else v for v in volumes]
    return out, notes
