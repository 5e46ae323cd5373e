"""The shell implementation of the volume digest (run by the runbook) equals the Python one (run by verify).

Both follow docs/verify.md; this is what makes the runbook's final verification and `wsl2-migrate verify` agree
on what an equal volume is. The shell runs in real helper containers on the real test engine: Debian's static
busybox (with and without /tmp) and an image of this machine's GNU tools (dash, coreutils, findutils, mawk)
without /tmp, each with a read-only root filesystem and the volume mounted read-only, so the script can write
nothing but its output file. On the host, it runs with dash + GNU tools and with busybox's shell and applets.
"""
from __future__ import annotations

import os
import random
import socket
import stat
import subprocess
from pathlib import Path

import pytest

from migrate.inventory.engine import digest_volumes
from migrate.volumedigest import digest_script
from tests.engines import Engine
from tests.helper_images import busybox_rootfs_without_tmp, gnu_rootfs, import_image
from tests.population import Population
from tests.test_verify_digest import build_tree, reference_digest

pytestmark = pytest.mark.engine

AWKWARD = (
    "cd /v && mkdir -p 'd 1/empty' sub && printf 'a\\nb' > \"$(printf 'new\\nline')\" && printf x > 'q\"uote' && "
    "printf 'é' > 'caf\u00e9' && printf '10' > 10 && printf '9' > 9 && ln 10 sub/hard && ln -s 'd 1' sl && "
    "ln -s dangling broken && chmod 4755 9 && chmod 1777 'd 1' && chown 123:456 sub/hard && mkfifo pipe && "
    "mknod chr c 1 3 && : > empty && chmod 0 empty"
)
FLAVOURS = ("busybox", "busybox-no-tmp", "gnu-no-tmp")
PIDS = "/proc/sys/kernel/ns_last_pid"
COUNTED = f'a=$(cat {PIDS}) && sh -c "$1" sh /data /out/d && b=$(cat {PIDS}) && echo $((b - a - 1)) > /out/pids'
"""Runs the digest and writes how many processes it started: the container's fresh pid namespace hands out pids
in sequence, so the pid of a `cat` after it minus the pid of a `cat` before it, less one, counts every process the
digest created (its own shell, every batch shell and tool) without tracing anything."""


@pytest.fixture(scope="module")
def helpers(engine: Engine, rich: Population, scratch: Path) -> dict[str, str]:
    """Helper images by flavour; the two built here are removed after the module."""
    built = {"busybox-no-tmp": import_image(engine, busybox_rootfs_without_tmp(scratch / "bb-no-tmp.tar"),
                                            "w2m-test/busybox-no-tmp:1"),
             "gnu-no-tmp": import_image(engine, gnu_rootfs(scratch / "gnu.tar"), "w2m-test/gnu-no-tmp:1")}
    yield {"busybox": rich.base, **built}
    engine.docker("image", "rm", *built.values())


def _mountpoint(e: Engine, volume: str) -> bytes:
    return os.fsencode(e.inspect(volume)[0]["Mountpoint"])


def _volume(e: Engine, name: str) -> bytes:
    e.docker("volume", "create", name)
    return _mountpoint(e, name)


def _write(path: bytes, data: bytes, mode: int | None = None) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
    if mode is not None:
        os.chmod(path, mode)


def _hostile(root: bytes, outside: bytes) -> None:
    """Every awkward thing a volume can hold that a shell or a tool could get wrong, written from the host."""
    j = os.path.join
    names = [b"-dash", b"--", b"-n", b"back\\slash", b"\\", b"\\n", b"cr\rname", b"trailing\n", b"\nleading",
             b"a\nb\nc", b"\xff\xfe not utf-8", b"caf\xc3\xa9", b" space ", b"x" * 255, b"'quote", b'"dq',
             b"$(echo no)", b"*", b"000", b"0a", b"\x01\x1b[31m", b"tab\there", b"-> arrow"]
    for i, name in enumerate(names):
        _write(j(root, name), name * (i + 1))
    deep = j(root, b"d\nir", b"sub dir", b"\x7f")
    os.makedirs(deep)
    _write(j(deep, b"in\\side\n"), b"deep")
    _write(j(root, b"big.bin"), random.Random(3).randbytes(2**20 + 17))
    _write(j(root, b"empty"), b"", 0)
    _write(j(root, b"setuid"), b"#!/bin/sh\n", 0o4755)
    _write(j(root, b"setgid"), b"#!/bin/sh\n", 0o2711)
    _write(j(root, b"owned"), b"mine", 0o640)
    os.chown(j(root, b"owned"), 100000, 65534)
    os.mkdir(j(root, b"sticky"))
    os.chmod(j(root, b"sticky"), 0o1777)
    os.makedirs(j(root, b"empty dir", b"deeper"))
    # symlinks: a target ending in a newline, one shaped like stat's own output, a long non-UTF-8 one
    for name, target in ((b"ln\nk", b"tar\nget\n"), (b"'weird' -> 'x'", b"'q' -> 'x'\n"), (b"long", b"\xff" * 1000),
                         (b"dot", b"."), (b"-> x", b"-> y"), (b"dangling", b"../nowhere with space")):
        os.symlink(target, j(root, name))
    # hard links: a group of three across folders, a symlink and a fifo with two names each, and a file whose
    # second name is outside the volume (one name here: no group)
    _write(j(root, b"zz-first"), b"linked")
    os.link(j(root, b"zz-first"), j(root, b"d\nir", b"a-second"))
    os.link(j(root, b"zz-first"), j(root, b"m-third"))
    os.link(j(root, b"dot"), j(root, b"dot2"), follow_symlinks=False)
    os.mkfifo(j(root, b"fifo"))
    os.link(j(root, b"fifo"), j(root, b"fifo2"))
    _write(outside, b"outside")
    os.link(outside, j(root, b"one-name-here"))
    os.mknod(j(root, b"null"), stat.S_IFCHR | 0o666, os.makedev(1, 3))
    os.mknod(j(root, b"loop"), stat.S_IFBLK | 0o600, os.makedev(7, 200))
    # a socket: archives skip it (docker's and tar's), so neither digest has it
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(j(root, b"sock").decode("utf-8", "surrogateescape"))


def _paths_but_sockets(root: bytes) -> int:
    paths = [root]
    for top, dirs, files in os.walk(root):
        paths += [os.path.join(top, n) for n in dirs + files]
    return sum(1 for p in paths if not stat.S_ISSOCK(os.lstat(p).st_mode))


def _files(root: bytes, n: int, seed: int) -> None:
    """n small files as a node_modules tree holds them: 100 per package folder, 0-2 KB each."""
    rnd = random.Random(seed)
    for i in range(n):
        d = os.path.join(root, b"node_modules", b"pkg-%d" % (i // 100), b"lib")
        if i % 100 == 0:
            os.makedirs(d)
        _write(os.path.join(d, b"m%d.js" % (i % 100)), rnd.randbytes(rnd.randint(0, 2000)))


@pytest.fixture(scope="module")
def awkward(engine: Engine, rich: Population) -> str:
    engine.docker("volume", "create", "digest-awkward")
    engine.docker("run", "--rm", "-v", "digest-awkward:/v", rich.base, "sh", "-c", AWKWARD)
    yield "digest-awkward"
    engine.docker("volume", "rm", "digest-awkward")


@pytest.fixture(scope="module")
def hostile(engine: Engine) -> str:
    root = _volume(engine, "digest-hostile")
    _hostile(root, os.path.join(os.path.dirname(root), b"outside"))  # beside _data: same filesystem
    yield "digest-hostile"
    engine.docker("volume", "rm", "digest-hostile")


@pytest.fixture(scope="module")
def sized(engine: Engine) -> dict:
    """Two volumes of small files, 500 and 50,000, with their Python digests computed once."""
    for name, n in (("digest-500", 500), ("digest-50000", 50_000)):
        _files(_volume(engine, name), n, n)
    py, notes = digest_volumes(engine.url, ["digest-500", "digest-50000"])
    assert notes == []
    yield py
    engine.docker("volume", "rm", "digest-500", "digest-50000")


def _shell_digest(e: Engine, volume: str, image: str, out: Path, user: str = "0:0") -> str:
    """The digest line the script writes, run as the runbook runs it (plus a read-only root filesystem)."""
    out.mkdir(parents=True, exist_ok=True)
    e.docker("run", "--rm", "--read-only", "--user", user, "--network", "none", "-v", f"{volume}:/data:ro",
             "-v", f"{out}:/out", image, "sh", "-c", digest_script(), "sh", "/data", "/out/d")
    return (out / "d").read_text().strip()


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_shell_and_python_digests_agree(engine: Engine, rich: Population, awkward: str, hostile: str,
                                        helpers: dict[str, str], flavour: str, tmp_path: Path) -> None:
    names = [*rich.volumes, awkward, hostile]
    py, notes = digest_volumes(engine.url, names)
    assert notes == []
    # Every path but the socket is an entry (counted here from the host's view of the volume).
    assert py[hostile].entries == _paths_but_sockets(_mountpoint(engine, hostile))
    for name in names:
        line = _shell_digest(engine, name, helpers[flavour], tmp_path / name)
        digest, entries = line.split()
        assert digest == py[name].digest, name
        assert int(entries) == py[name].entries, name


@pytest.mark.parametrize("flavour", ("busybox-no-tmp", "gnu-no-tmp"))
def test_50000_small_files_digest_equal_with_processes_per_batch_not_per_file(
        engine: Engine, sized: dict, helpers: dict[str, str], flavour: str, tmp_path: Path) -> None:
    spawned = {}
    for volume in ("digest-500", "digest-50000"):
        out = tmp_path / volume
        out.mkdir()
        engine.docker("run", "--rm", "--read-only", "--network", "none", "-v", f"{volume}:/data:ro",
                      "-v", f"{out}:/out", helpers[flavour], "sh", "-c", COUNTED, "sh", digest_script())
        digest, entries = (out / "d").read_text().split()
        assert (digest, int(entries)) == (sized[volume].digest, sized[volume].entries), volume
        spawned[volume] = int((out / "pids").read_text())
    # A process per path would be 51,000 and more. Batches are bounded by the argument-list size (busybox find
    # fills ARG_MAX, GNU find 128 KiB), so 100x the paths may add a few batches of about five processes each.
    assert 5 <= spawned["digest-500"] <= 30, spawned
    assert spawned["digest-50000"] <= spawned["digest-500"] + sized["digest-50000"].entries // 600, spawned


@pytest.mark.parametrize("flavour", ("busybox-no-tmp", "gnu-no-tmp"))
@pytest.mark.parametrize("locked", ("dir", "file"))
def test_content_it_cannot_read_fails_the_digest_and_writes_nothing(
        engine: Engine, helpers: dict[str, str], flavour: str, locked: str, tmp_path: Path) -> None:
    volume = f"digest-locked-{locked}"
    root = _volume(engine, volume)
    try:
        _files(root, 300, 1)
        target = os.path.join(root, b"node_modules", b"pkg-1")
        os.chmod(target if locked == "dir" else os.path.join(target, b"lib", b"m5.js"), 0o700)
        out = tmp_path / "out"
        out.mkdir()
        out.chmod(0o777)
        with pytest.raises(RuntimeError, match="volume digest"):
            _shell_digest(engine, volume, helpers[flavour], out, user="1000:1000")
        assert not (out / "d").exists()
        assert list(out.iterdir()) == []
    finally:
        engine.docker("volume", "rm", volume)


@pytest.mark.parametrize("shell", (["sh"], ["busybox", "sh"]), ids=("dash+GNU", "busybox"))
def test_on_host_tools_the_digest_equals_the_reference(shell: list[str], tmp_path: Path) -> None:
    tree = build_tree(tmp_path / "t")
    root = os.fsencode(tree)
    for name in (b"-dash", b"back\\slash", b"cr\rname", b"trailing\n", b"\xff\xfe", b"x" * 255):
        _write(os.path.join(root, name), name)
    os.symlink(b"tar\nget\n", os.path.join(root, b"ln\nk"))
    env = dict(os.environ, PATH="/nonexistent") if shell[0] == "busybox" else None  # busybox's applets only
    exe = "/bin/busybox" if shell[0] == "busybox" else "sh"
    subprocess.run([exe, *shell[1:], "-c", digest_script(), "sh", str(tree), str(tmp_path / "d")], check=True,
                   timeout=120, env=env)
    digest, entries, _ = reference_digest(tree)
    assert (tmp_path / "d").read_text() == f"{digest} {entries}\n"


def test_the_shell_digest_sees_a_one_byte_change(engine: Engine, rich: Population, tmp_path: Path) -> None:
    engine.docker("volume", "create", "digest-change")
    try:
        engine.docker("run", "--rm", "-v", "digest-change:/v", rich.base, "sh", "-c", "echo abc > /v/f")
        before = _shell_digest(engine, "digest-change", rich.base, tmp_path / "a")
        engine.docker("run", "--rm", "-v", "digest-change:/v", rich.base, "sh", "-c", "echo abd > /v/f")
        after = _shell_digest(engine, "digest-change", rich.base, tmp_path / "b")
        assert before.split()[1] == after.split()[1] and before.split()[0] != after.split()[0]
    finally:
        engine.docker("volume", "rm", "digest-change")
