"""A zipped collector bundle, read in place: checked whole before any entry is read, nothing extracted to disk.

The archive may come from any workstation on a share, so it is hostile input: an entry that would leave the
archive's folder (absolute, drive-qualified, `..`), a symbolic link or device, an encrypted entry, a compression
method other than stored or deflate, more entries or more bytes than a bundle ever holds: each is refused with
the reason, before anything is read. Entries are only ever read into memory up to their declared size, in
chunks, so a lying header cannot make a read grow past the limits.
"""
from __future__ import annotations

import re
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from migrate.errors import InputError

MAX_ENTRIES = 10_000
"""A bundle holds about 20 files; a hundred times that is still plenty."""
MAX_ENTRY_BYTES = 2 * 1024**3
"""One file, uncompressed: `containers.json` of a very large engine stays far below it."""
MAX_TOTAL_BYTES = 4 * 1024**3
"""All files together, uncompressed."""
MAX_DIRECTORY_BYTES = 16 * 1024**2
"""The archive's central directory (its list of entries), read before anything else."""

_MARKERS = ("manifest.json", "engine/info.json", "host/facts.json")
_DRIVE = re.compile(r"^[A-Za-z]:")
_CHUNK = 1024 * 1024


def _central_directory(path: Path) -> tuple[int, int]:
    """(entries, directory bytes) from the end-of-central-directory record, without parsing the entries."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            tail_len = min(size, 65_557)  # the record (22 bytes) and a comment of up to 65,535 bytes
            fh.seek(size - tail_len)
            tail = fh.read(tail_len)
            at = tail.rfind(b"PK\x05\x06")
            if at < 0 or len(tail) - at < 22:
                raise InputError(f"{path}: not a zip archive (no end-of-central-directory record)")
            entries, dir_bytes = struct.unpack("<HI", tail[at + 10:at + 16])
            if entries == 0xFFFF or dir_bytes == 0xFFFFFFFF:  # Zip64: the real numbers are in another record
                locator = tail[at - 20:at] if at >= 20 else b""
                if locator[:4] != b"PK\x06\x07":
                    raise InputError(f"{path}: damaged Zip64 archive (no Zip64 locator)")
                (offset,) = struct.unpack("<Q", locator[8:16])
                fh.seek(offset)
                record = fh.read(56)
                if record[:4] != b"PK\x06\x06" or len(record) < 56:
                    raise InputError(f"{path}: damaged Zip64 archive (no Zip64 directory record)")
                entries, dir_bytes = struct.unpack("<QQ", record[32:48])
            return entries, dir_bytes
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _member_name(path: Path, info: zipfile.ZipInfo) -> str:
    """An entry's name as a relative POSIX path inside the archive, or InputError saying why it is refused."""
    raw = info.filename
    name = raw.replace("\\", "/")  # Windows PowerShell 5.1's Compress-Archive writes backslashes
    if "\x00" in name or not name.strip("/"):
        raise InputError(f"{path}: entry {raw!r} has an empty or invalid name")
    if name.startswith("/") or _DRIVE.match(name):
        raise InputError(f"{path}: entry {raw!r} is an absolute path: it would leave the archive")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise InputError(f"{path}: entry {raw!r} climbs out with '..': it would leave the archive")
    if any(":" in p for p in parts):
        raise InputError(f"{path}: entry {raw!r} names a drive or an alternate data stream")
    return "/".join(parts) + ("/" if name.endswith("/") else "")


def _check_type(path: Path, info: zipfile.ZipInfo) -> None:
    """Refuse links, devices and encrypted entries; only plain files and folders are in a bundle."""
    mode = info.external_attr >> 16
    if info.create_system == 3 and mode and stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
        kind = "a symbolic link" if stat.S_ISLNK(mode) else "a special file"
        raise InputError(f"{path}: entry {info.filename!r} is {kind}; a bundle holds only files and folders")
    if info.create_system == 0 and info.external_attr & 0x400:  # FILE_ATTRIBUTE_REPARSE_POINT
        raise InputError(f"{path}: entry {info.filename!r} is a link (reparse point); a bundle holds only files")
    if info.flag_bits & 0x1:
        raise InputError(f"{path}: entry {info.filename!r} is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) and not info.is_dir():
        raise InputError(f"{path}: entry {info.filename!r} uses compression method {info.compress_type}; "
                         "only stored and deflate are read")


@dataclass(frozen=True, slots=True)
class _Archive:
    """An opened, checked archive: its entries by normalized name and the folders they imply."""

    path: Path
    zf: zipfile.ZipFile
    files: dict[str, zipfile.ZipInfo]
    dirs: frozenset[str]


def _open(path: Path) -> _Archive:
    entries, dir_bytes = _central_directory(path)
    if entries > MAX_ENTRIES:
        raise InputError(f"{path}: {entries} entries, more than the {MAX_ENTRIES} a bundle may hold")
    if dir_bytes > MAX_DIRECTORY_BYTES:
        raise InputError(f"{path}: its list of entries takes {dir_bytes} bytes, more than a bundle's")
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, ValueError, EOFError) as exc:
        raise InputError(f"{path}: not a readable zip archive ({exc})") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    files: dict[str, zipfile.ZipInfo] = {}
    dirs: set[str] = set()
    lowered: set[str] = set()
    total = 0
    for info in zf.infolist():
        name = _member_name(path, info)
        _check_type(path, info)
        if name.endswith("/"):
            dirs.add(name.rstrip("/"))
            continue
        if info.file_size > MAX_ENTRY_BYTES:
            raise InputError(f"{path}: entry {info.filename!r} is {info.file_size} bytes uncompressed, more than "
                             f"the {MAX_ENTRY_BYTES} allowed")
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise InputError(f"{path}: more than {MAX_TOTAL_BYTES} bytes uncompressed in all")
        if name.lower() in lowered:  # Windows would extract two such entries onto one file
            raise InputError(f"{path}: entry {info.filename!r} is in the archive twice")
        lowered.add(name.lower())
        files[name] = info
        parent = PurePosixPath(name).parent
        while str(parent) != ".":
            dirs.add(str(parent))
            parent = parent.parent
    clash = sorted(set(files) & dirs)
    if clash:
        raise InputError(f"{path}: {clash[0]!r} is both a file and a folder in the archive")
    return _Archive(path, zf, files, frozenset(dirs))


class ArchivePath:
    """A file or folder inside a checked bundle archive, with the few path operations the bundle reader uses.

    It prints as ARCHIVE/inner/path, so messages and the inventory name the zip and the file in it.
    """

    __slots__ = ("_archive", "_inner")

    def __init__(self, archive: _Archive, inner: str) -> None:
        self._archive = archive
        self._inner = inner.strip("/")

    def __truediv__(self, rel: str) -> ArchivePath:
        inner = f"{self._inner}/{rel}" if self._inner else rel
        return ArchivePath(self._archive, "/".join(p for p in inner.split("/") if p not in ("", ".")))

    def __str__(self) -> str:
        return f"{self._archive.path}/{self._inner}" if self._inner else str(self._archive.path)

    def __repr__(self) -> str:
        return f"ArchivePath({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ArchivePath) and (self._archive.path, self._inner) == (other._archive.path,
                                                                                      other._inner)

    def __hash__(self) -> int:
        return hash((self._archive.path, self._inner))

    @property
    def name(self) -> str:
        """The last part of the path."""
        return self._inner.rsplit("/", 1)[-1] if self._inner else self._archive.path.name

    def is_file(self) -> bool:
        """Whether a file entry has this path."""
        return self._inner in self._archive.files

    def is_dir(self) -> bool:
        """Whether this is the bundle's root or a folder in the archive."""
        return not self._inner or self._inner in self._archive.dirs

    def exists(self) -> bool:
        """Whether the path is a file or folder in the archive."""
        return self.is_file() or self.is_dir()

    def is_symlink(self) -> bool:
        """Never: links are refused when the archive is opened."""
        return False

    def read_bytes(self) -> bytes:
        """The entry's bytes, read in chunks up to its declared size; InputError when it is missing or damaged."""
        info = self._archive.files.get(self._inner)
        if info is None:
            raise InputError(f"{self}: " + ("is a directory, expected a file" if self.is_dir() else "no such file"))
        chunks: list[bytes] = []
        size = 0
        try:
            with self._archive.zf.open(info) as fh:
                while chunk := fh.read(_CHUNK):
                    size += len(chunk)
                    if size > info.file_size:
                        raise InputError(f"{self}: longer than the archive says ({info.file_size} bytes)")
                    chunks.append(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError) as exc:
            raise InputError(f"{self}: damaged entry ({exc})") from None
        except OSError as exc:
            raise InputError(f"{self}: cannot read ({exc.strerror or exc})") from None
        return b"".join(chunks)


def open_bundle_zip(path: Path) -> ArchivePath:
    """The bundle inside a zip: at the archive's top, or in its one top folder (as the collector writes it)."""
    archive = _open(path)
    root = ArchivePath(archive, "")
    if any((root / marker).is_file() for marker in _MARKERS):
        return root
    tops = {name.split("/", 1)[0] for name in archive.files} | {d.split("/", 1)[0] for d in archive.dirs}
    if len(tops) == 1:
        inner = root / tops.pop()
        if any((inner / marker).is_file() for marker in _MARKERS):
            return inner
    raise InputError(f"{path}: no bundle in the archive (expected manifest.json, engine/ or host/ at its top or "
                     "in its one top folder)")
