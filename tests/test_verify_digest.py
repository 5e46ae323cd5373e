"""Volume digests from tar streams, checked against a separate implementation of docs/verify.md over a directory."""
from __future__ import annotations

import hashlib
import io
import os
import random
import stat
import tarfile
from collections import defaultdict
from pathlib import Path

import pytest

from migrate.errors import ArchiveError
from migrate.volumedigest import digest_tar_stream

# ------------------------------------------------------------------ the reference: docs/verify.md, from os.lstat


def _line(fields) -> bytes:
    """One record as docs/verify.md states it: path and link in hex, empty fields as '-', space-separated, LF."""
    path, kind, mode, uid, gid, size, link, sha, dev = fields
    return b" ".join([path.hex().encode(), kind, mode, uid, gid, size, link.hex().encode() if link else b"-",
                      sha or b"-", dev or b"-"]) + b"\n"


def reference_records(root: Path) -> dict[bytes, list[bytes]]:
    """path -> its nine fields, read from the directory with os.lstat as docs/verify.md describes."""
    broot = os.fsencode(root)
    paths = [broot]
    for dirpath, dirnames, filenames in os.walk(broot):
        paths.extend(os.path.join(dirpath, n) for n in dirnames + filenames)
    fields: dict[bytes, list[bytes]] = {}
    inodes: dict[tuple[int, int], list[bytes]] = defaultdict(list)
    for full in paths:
        rel = b"." if full == broot else os.path.relpath(full, broot)
        st = os.lstat(full)
        kind, size, link, sha, dev = b"", b"0", b"", b"", b""
        if stat.S_ISDIR(st.st_mode):
            kind = b"dir"
        elif stat.S_ISREG(st.st_mode):
            kind = b"file"
            with open(full, "rb") as fh:
                data = fh.read()
            size, sha = b"%d" % len(data), hashlib.sha256(data).hexdigest().encode()
            inodes[(st.st_dev, st.st_ino)].append(rel)
        elif stat.S_ISLNK(st.st_mode):
            kind, link = b"symlink", os.readlink(full)
        elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
            kind = b"char" if stat.S_ISCHR(st.st_mode) else b"block"
            dev = b"%d,%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
        elif stat.S_ISFIFO(st.st_mode):
            kind = b"fifo"
        fields[rel] = [rel, kind, b"%04o" % stat.S_IMODE(st.st_mode), b"%d" % st.st_uid, b"%d" % st.st_gid, size,
                       link, sha, dev]
    for group in inodes.values():
        if len(group) > 1:
            for rel in group:
                fields[rel][6] = min(group)
    return fields


def reference_digest(root: Path) -> tuple[str, int, int]:
    """(digest, entries, content bytes) of a directory, computed without migrate.verify."""
    fields = reference_records(root)
    h = hashlib.sha256(b"wsl2-migrate/volume-digest/2\n")
    for path in sorted(fields):
        h.update(_line(fields[path]))
    seen: set[bytes] = set()
    total = 0
    for f in fields.values():
        if f[1] == b"file" and (f[6] or f[0]) not in seen:
            seen.add(f[6] or f[0])
            total += int(f[5])
    return "sha256:" + h.hexdigest(), len(fields), total


def build_tree(root: Path) -> Path:
    """A directory with every awkward thing a volume can hold (needs root for owners and the device node)."""
    root.mkdir(parents=True)
    os.chmod(root, 0o750)
    (root / "plain.txt").write_bytes(b"hello\n")
    (root / "empty-file").write_bytes(b"")
    (root / "setuid-bin").write_bytes(b"#!/bin/sh\n")
    os.chmod(root / "setuid-bin", 0o4755)
    (root / "owned").write_bytes(b"mine")
    os.chown(root / "owned", 1234, 5678)
    os.chmod(root / "owned", 0o640)
    (root / "sticky").mkdir()
    os.chmod(root / "sticky", 0o1777)
    (root / "dir with space" / "empty").mkdir(parents=True)
    with open(os.path.join(os.fsencode(root), b"new\nline"), "wb") as fh:
        fh.write(b"n")
    with open(os.path.join(os.fsencode(root), b"caf\xe9"), "wb") as fh:
        fh.write(b"latin-1 name")
    # Bigger than the SDK's 2 MiB chunks and tarfile's buffers, with an odd tail.
    (root / "dir with space" / "big.bin").write_bytes(random.Random(5).randbytes(3 * 2**20 + 17))
    os.symlink("plain.txt", root / "link-to-plain")
    os.symlink("../nowhere with space", root / "dangling")
    (root / "b-first").write_bytes(b"linked content")
    os.link(root / "b-first", root / "a-second")
    os.mkfifo(root / "pipe")
    os.mknod(root / "null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
    return root


def tar_of(root: Path, arcname: str = "data", fmt: int = tarfile.PAX_FORMAT) -> bytes:
    """A tar of the directory, made by Python's tarfile (not by an engine)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt, encoding="utf-8", errors="surrogateescape") as tar:
        tar.add(str(root), arcname=arcname)
    return buf.getvalue()


# ----------------------------------------------------------------------------------------------------- tests


def test_tar_of_a_directory_digests_as_the_reference(tmp_path: Path):
    tree = build_tree(tmp_path / "t")
    want = reference_digest(tree)
    for fmt in (tarfile.PAX_FORMAT, tarfile.GNU_FORMAT):
        got = digest_tar_stream(io.BytesIO(tar_of(tree, fmt=fmt)))
        assert (got.digest, got.entries, got.bytes) == want


def test_the_reference_sees_every_entry(tmp_path: Path):
    # Guards the reference itself: if it skipped a kind of entry, agreement above would prove less.
    fields = reference_records(build_tree(tmp_path / "t"))
    kinds = {f[1] for f in fields.values()}
    assert kinds == {b"dir", b"file", b"symlink", b"fifo", b"char"}
    assert fields[b"caf\xe9"][1] == b"file" and fields[b"new\nline"][1] == b"file"
    assert fields[b"setuid-bin"][2] == b"4755" and fields[b"sticky"][2] == b"1777" and fields[b"."][2] == b"0750"
    assert fields[b"a-second"][6] == fields[b"b-first"][6] == b"a-second"
    assert len(fields) == 17


def _tar(entries: list[tuple[str, bytes | None, dict]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data, attrs in entries:
            info = tarfile.TarInfo(name)
            for k, v in attrs.items():
                setattr(info, k, v)
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


ROOT = ("data", None, {"type": tarfile.DIRTYPE, "mode": 0o755})


def test_hard_link_groups_do_not_depend_on_which_name_comes_first():
    one = _tar([ROOT, ("data/a", b"x", {"mode": 0o644}), ("data/b", None, {"type": tarfile.LNKTYPE,
                                                                           "linkname": "data/a"})])
    two = _tar([ROOT, ("data/b", b"x", {"mode": 0o644}), ("data/a", None, {"type": tarfile.LNKTYPE,
                                                                           "linkname": "data/b"})])
    separate = _tar([ROOT, ("data/a", b"x", {"mode": 0o644}), ("data/b", b"x", {"mode": 0o644})])
    d1, d2, d3 = (digest_tar_stream(io.BytesIO(t)) for t in (one, two, separate))
    assert d1.digest == d2.digest
    assert d1.digest != d3.digest  # two names of one inode are not two copies
    assert d1.bytes == 1 and d3.bytes == 2


def test_mtime_and_user_names_do_not_count_but_type_bits_in_mode_do_not_leak():
    a = _tar([ROOT, ("data/f", b"x", {"mode": 0o644, "mtime": 1, "uname": "root"})])
    b = _tar([ROOT, ("data/f", b"x", {"mode": 0o100644, "mtime": 999999, "uname": "someone"})])
    assert digest_tar_stream(io.BytesIO(a)).digest == digest_tar_stream(io.BytesIO(b)).digest


@pytest.mark.parametrize("change", [
    {"mode": 0o645}, {"uid": 1}, {"gid": 1}, {"data": b"y"}, {"name": "data/g"}, {"type": tarfile.SYMTYPE},
])
def test_each_recorded_attribute_changes_the_digest(change: dict):
    base = {"name": "data/f", "data": b"x", "mode": 0o644, "uid": 0, "gid": 0, "type": tarfile.REGTYPE}
    mod = {**base, **change}

    def one(e: dict) -> str:
        data = e["data"] if e["type"] == tarfile.REGTYPE else None
        attrs = {"mode": e["mode"], "uid": e["uid"], "gid": e["gid"], "type": e["type"]}
        if e["type"] == tarfile.SYMTYPE:
            attrs["linkname"] = "x"
        return digest_tar_stream(io.BytesIO(_tar([ROOT, (e["name"], data, attrs)]))).digest

    assert one(base) != one(mod)


def test_entries_outside_the_root_are_refused():
    with pytest.raises(ArchiveError, match="outside"):
        digest_tar_stream(io.BytesIO(_tar([ROOT, ("etc/passwd", b"x", {})])))


@pytest.mark.parametrize("cut", [512 + 100, 1024, 1536, 2048])
def test_a_cut_stream_is_an_error_not_a_smaller_digest(cut: int):
    # 1536 and 2048 end on block boundaries, where tarfile alone would see a clean end of the archive.
    raw = _tar([ROOT, ("data/f", b"abc", {"mode": 0o644})])
    digest_tar_stream(io.BytesIO(raw))
    with pytest.raises((ArchiveError, tarfile.TarError)):
        digest_tar_stream(io.BytesIO(raw[:cut]))
