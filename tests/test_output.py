"""The one writer (migrate/output.py): atomic replace, nodes written in place or refused, temporaries never left."""
from __future__ import annotations

import os
import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from migrate.errors import InputError
from migrate.output import check_target, write_folder, write_text


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_a_new_file_gets_the_usual_mode_and_a_private_one_0600(tmp_path: Path) -> None:
    write_text("a\n", tmp_path / "plain.txt")
    write_text("b\n", tmp_path / "secret.txt", private=True)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode) == 0o666 & ~umask
    assert stat.S_IMODE((tmp_path / "secret.txt").stat().st_mode) == 0o600
    assert (tmp_path / "secret.txt").read_text() == "b\n"


def test_replacing_a_file_keeps_its_mode(tmp_path: Path) -> None:
    f = tmp_path / "x.md"
    f.write_text("old")
    f.chmod(0o640)
    write_text(iter(["new", " text"]), f)
    assert f.read_text() == "new text" and stat.S_IMODE(f.stat().st_mode) == 0o640
    assert _leftovers(tmp_path) == []


def test_ctrl_c_during_a_write_leaves_no_temporary_file_and_the_old_content(tmp_path: Path) -> None:
    f = tmp_path / "inventory.json"
    f.write_text("old")

    def pieces() -> Iterator[str]:
        yield "x" * 1_000_000
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_text(pieces(), f)
    assert f.read_text() == "old"
    assert _leftovers(tmp_path) == []


def test_a_read_only_file_is_refused_even_for_root(tmp_path: Path) -> None:
    f = tmp_path / "keep.md"
    f.write_text("keep")
    f.chmod(0o444)
    for call in (lambda: check_target(f), lambda: write_text("new", f)):
        with pytest.raises(InputError, match="read-only"):
            call()
    assert f.read_text() == "keep"


def test_a_symlink_to_a_device_is_written_in_place_and_stays_a_symlink(tmp_path: Path) -> None:
    link = tmp_path / "null"
    link.symlink_to("/dev/null")
    write_text("data", link)
    assert link.is_symlink() and stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_symlink_to_a_file_stays_a_symlink_and_its_file_is_replaced(tmp_path: Path) -> None:
    real = tmp_path / "real.txt"
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    write_text("new", link)
    assert link.is_symlink() and real.read_text() == "new"


def test_a_dangling_symlink_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "link.txt"
    link.symlink_to(tmp_path / "nowhere" / "x")
    with pytest.raises(InputError, match="does not exist"):
        write_text("new", link)


def test_a_named_pipe_is_written_in_place(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    write_text("through the pipe\n", fifo)
    reader.join(timeout=10)
    assert got == [b"through the pipe\n"] and stat.S_ISFIFO(fifo.lstat().st_mode)


def test_a_socket_and_a_directory_are_refused(tmp_path: Path) -> None:
    sock_path = tmp_path / "s"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        with pytest.raises(InputError, match="is a socket"):
            write_text("x", sock_path)
    with pytest.raises(InputError, match="is a directory"):
        write_text("x", tmp_path)


def test_a_folder_of_files_is_written_together_or_not_at_all(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.txt").write_text("old a")
    (out / "c.txt").mkdir()  # a folder where a file must go: refused before anything is written
    with pytest.raises(InputError, match="c.txt: is a directory"):
        write_folder(out, {"a.txt": "new a", "b.txt": "new b", "c.txt": "new c"})
    assert (out / "a.txt").read_text() == "old a" and not (out / "b.txt").exists()
    assert _leftovers(out) == []
    (out / "c.txt").rmdir()
    write_folder(out, {"a.txt": "new a", "b.txt": "new b", "c.txt": "new c"}, private=["b.txt"])
    assert [(out / n).read_text() for n in ("a.txt", "b.txt", "c.txt")] == ["new a", "new b", "new c"]
    assert stat.S_IMODE((out / "b.txt").stat().st_mode) == 0o600
    assert _leftovers(out) == []


def test_a_failed_move_puts_back_what_earlier_moves_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.txt").write_text("old a")
    (out / "b.txt").write_text("old b")
    real_replace = os.replace
    calls = []

    def flaky(src: str | Path, dst: str | Path) -> None:
        calls.append(dst)
        if Path(dst).name == "b.txt" and len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky)
    with pytest.raises(InputError, match="nothing was changed"):
        write_folder(out, {"a.txt": "new a", "b.txt": "new b"})
    assert (out / "a.txt").read_text() == "old a" and (out / "b.txt").read_text() == "old b"
    assert _leftovers(out) == []


def test_ctrl_c_while_writing_a_new_folder_leaves_nothing(tmp_path: Path) -> None:
    def pieces() -> Iterator[str]:
        yield "x"
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_folder(tmp_path / "out", {"a.txt": "a", "b.txt": pieces()})
    assert list(tmp_path.iterdir()) == []
