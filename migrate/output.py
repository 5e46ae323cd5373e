"""The one writer of every output path (a file, a folder of files, or `-` for stdout): never half-written, never
destroying what is there, every failure an InputError naming the path and the reason."""
from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from migrate.errors import InputError

Text = str | Iterable[str]
"""What is written: one string, or the pieces of one (a large inventory is streamed, never held twice)."""

PRIVATE_MODE = 0o600
"""Files holding secrets (`--with-secrets`): readable by their owner only."""


def is_stdout(out: Path | str | None) -> bool:
    """Whether out means standard output (no path, or `-`)."""
    return out is None or str(out) == "-"


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _pieces(text: Text) -> Iterator[str]:
    if isinstance(text, str):
        yield text
    else:
        yield from text


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _check_parent(target: Path) -> Path:
    parent = target.parent if str(target.parent) else Path(".")
    try:
        st = parent.stat()
    except FileNotFoundError:
        raise InputError(f"{target}: the directory {parent} does not exist") from None
    except NotADirectoryError:
        raise InputError(f"{target}: {_first_file(parent)} is a file, not a directory") from None
    except OSError as exc:
        raise InputError(f"{target}: cannot reach the directory {parent} ({_reason(exc)})") from None
    if not stat.S_ISDIR(st.st_mode):
        raise InputError(f"{target}: {parent} is not a directory")
    return parent


def _first_file(path: Path) -> Path:
    """The first component of path that exists and is not a directory (for `afile/sub/x`: afile)."""
    for p in reversed((path, *path.parents)):
        if p.exists() and not p.is_dir():
            return p
    return path


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISFIFO, "a named pipe")):
        if test(mode):
            return name
    return "not a regular file"


def _existing(target: Path) -> os.stat_result | None:
    """The stat of what target points at (symlinks followed), None when nothing is there."""
    try:
        return target.stat()
    except FileNotFoundError:
        if target.is_symlink():
            raise InputError(f"{target}: a symbolic link to {os.readlink(target)}, which does not exist") from None
        return None
    except NotADirectoryError:
        raise InputError(f"{target}: {_first_file(target.parent)} is a file, not a directory") from None
    except OSError as exc:
        raise InputError(f"{target}: cannot write ({_reason(exc)})") from None


def _in_proc(path: Path) -> bool:
    """A path through /proc or /dev/fd (`/dev/stdout`): an open descriptor of some process, written in place."""
    real = os.path.realpath(path)
    return real.startswith(("/proc/", "/dev/fd/")) or " (deleted)" in real


def check_target(out: Path | str | None) -> None:
    """Refuse, before any work is done, an output path write_text would refuse (InputError naming it)."""
    if is_stdout(out):
        return
    target = Path(str(out))
    st = _existing(target)
    if st is not None and not stat.S_ISREG(st.st_mode):
        if not (stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode)):
            raise InputError(f"{target}: is {_kind(st.st_mode)}; give a file path")
        return
    if st is not None and not st.st_mode & 0o222:
        raise InputError(f"{target}: the file is read-only; remove it or give another path")
    if st is not None and target.is_symlink() and _in_proc(target):
        return
    real = Path(os.path.realpath(target)) if st is not None and target.is_symlink() else target
    parent = _check_parent(real)
    _probe(target, parent)


def _probe(target: Path, parent: Path) -> None:
    """Create and remove a temporary file in parent: the only test that holds for root, read-only mounts,
    immutable folders and pseudo file systems alike."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent)
    except OSError as exc:
        raise InputError(f"{target}: cannot write into {parent} ({_reason(exc)})") from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(tmp)


def write_text(text: Text, out: Path | str | None, private: bool = False) -> None:
    """Write text to out, or to stdout when out is None or '-'.

    A regular file (or a symbolic link to one) is replaced atomically: a temporary file beside it, renamed into
    place, removed on any failure or interrupt. A character device or a named pipe (`/dev/null`, `/dev/stdout`,
    a process substitution) is written in place; a directory, a block device or a socket is refused, as is a
    read-only file. private: the file gets mode 0600 (it holds secrets).
    """
    if is_stdout(out):
        try:
            for piece in _pieces(text):
                sys.stdout.write(piece)
            sys.stdout.flush()
        except BrokenPipeError:
            raise InputError("standard output: the reader closed the pipe") from None
        except OSError as exc:
            raise InputError(f"standard output: cannot write ({_reason(exc)})") from None
        return
    target = Path(str(out))
    st = _existing(target)
    if st is not None and not stat.S_ISREG(st.st_mode):
        if stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode):
            _write_in_place(text, target)
            return
        raise InputError(f"{target}: is {_kind(st.st_mode)}; give a file path")
    if st is not None and not st.st_mode & 0o222:
        # root may write anyway; a file its owner made read-only is one the user wants kept.
        raise InputError(f"{target}: the file is read-only; remove it or give another path")
    if st is not None and target.is_symlink() and _in_proc(target):
        _write_in_place(text, target)
        return
    real = Path(os.path.realpath(target)) if st is not None and target.is_symlink() else target
    parent = _check_parent(real)
    _replace(text, real, parent, st, private)


def _write_in_place(text: Text, target: Path) -> None:
    try:
        with open(target, "w", encoding="utf-8", newline="\n") as fh:
            for piece in _pieces(text):
                fh.write(piece)
    except OSError as exc:
        raise InputError(f"{target}: cannot write ({_reason(exc)})") from None


def _replace(text: Text, target: Path, parent: Path, st: os.stat_result | None, private: bool) -> None:
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            for piece in _pieces(text):
                fh.write(piece)
        _set_mode(tmp, st, private)
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        raise InputError(f"{target}: cannot write ({_reason(exc)})") from None
    finally:  # any exit that did not rename, KeyboardInterrupt included, removes the temporary file
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _set_mode(tmp: str, st: os.stat_result | None, private: bool) -> None:
    """mkstemp makes 0600: give the file the mode (and as root, the owner) of the one it replaces, or the usual."""
    if private:
        os.chmod(tmp, PRIVATE_MODE)
    elif st is not None:
        os.chmod(tmp, stat.S_IMODE(st.st_mode))
    else:
        os.chmod(tmp, 0o666 & ~_umask())
    if st is not None and hasattr(os, "geteuid") and os.geteuid() == 0:
        with contextlib.suppress(OSError):
            os.chown(tmp, st.st_uid, st.st_gid)


def check_folder(folder: Path | str) -> bool:
    """Whether folder exists (False: it will be created); InputError when it cannot be an output folder."""
    if is_stdout(folder):
        raise InputError("-: a set of files needs a directory, not standard output")
    root = Path(str(folder))
    try:
        st = root.stat()
    except FileNotFoundError:
        return False
    except NotADirectoryError:
        raise InputError(f"{root}: {_first_file(root.parent)} is a file, not a directory") from None
    except OSError as exc:
        raise InputError(f"{root}: cannot use this directory ({_reason(exc)})") from None
    if not stat.S_ISDIR(st.st_mode):
        what = "a file" if stat.S_ISREG(st.st_mode) else _kind(st.st_mode)
        raise InputError(f"{root}: is {what}, not a directory; give a directory for the output files")
    return True


def write_folder(folder: Path | str, files: Mapping[str, Text], private: Iterable[str] = ()) -> list[Path]:
    """Write several files into folder together, or none of them: all are written into a temporary folder first,
    then moved into place; a move that fails puts back what the earlier moves replaced. Returns the paths.

    folder is created when missing (with its parents). Every target must be absent or a regular file.
    """
    root = Path(str(folder))
    secret = set(private)
    if not check_folder(folder):
        return _new_folder(root, files, secret)
    olds: dict[str, os.stat_result | None] = {}
    targets: dict[str, Path] = {}
    for name in files:
        target = root / name
        old = _existing(target)
        if old is not None and not stat.S_ISREG(old.st_mode):
            raise InputError(f"{target}: is {_kind(old.st_mode)}; nothing was written (move it away first)")
        if old is not None and not old.st_mode & 0o222:
            raise InputError(f"{target}: the file is read-only; nothing was written (remove it first)")
        olds[name] = old
        # A symbolic link to a file stays a link: the file it points at is what gets replaced.
        targets[name] = Path(os.path.realpath(target)) if old is not None and target.is_symlink() else target
    try:
        staging = Path(tempfile.mkdtemp(prefix=".wsl2-migrate-", dir=root))
    except OSError as exc:
        raise InputError(f"{root}: cannot write ({_reason(exc)})") from None
    try:
        for name, text in files.items():
            _fill(staging / name, text, olds[name], name in secret)
        _move_all(root, staging, targets)
    finally:
        _remove_tree(staging)
    return [root / name for name in files]


def _fill(path: Path, text: Text, st: os.stat_result | None, private: bool) -> None:
    try:
        with open(path, "x", encoding="utf-8", newline="\n") as fh:
            for piece in _pieces(text):
                fh.write(piece)
        _set_mode(str(path), st, private)
    except OSError as exc:
        raise InputError(f"{path.parent.parent / path.name}: cannot write ({_reason(exc)})") from None


def _move_all(root: Path, staging: Path, targets: Mapping[str, Path]) -> None:
    """Rename every staged file over its target; on a failure, restore the targets already replaced."""
    saved = staging / ".previous"
    done: list[tuple[str, bool]] = []
    try:
        saved.mkdir()
        for name, target in targets.items():
            had = target.exists()
            if had:
                _keep(target, saved / name)
            os.replace(staging / name, target)
            done.append((name, had))
    except BaseException as exc:
        for name, had in reversed(done):
            with contextlib.suppress(OSError):
                if had:
                    os.replace(saved / name, targets[name])
                else:
                    os.unlink(targets[name])
        if isinstance(exc, OSError):
            raise InputError(f"{root}: cannot write ({_reason(exc)}); nothing was changed") from None
        raise


def _keep(target: Path, copy: Path) -> None:
    """A second name for the old file (a copy where hard links are not possible), to put back on failure."""
    try:
        os.link(target, copy)
    except OSError:
        import shutil

        shutil.copy2(target, copy)


def _new_folder(root: Path, files: Mapping[str, Text], secret: set[str]) -> list[Path]:
    parent = root.parent if str(root.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise InputError(f"{root}: {_first_file(parent)} is a file, not a directory") from None
    except OSError as exc:
        raise InputError(f"{root}: cannot create the directory {parent} ({_reason(exc)})") from None
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{root.name}.", dir=parent))
    except OSError as exc:
        raise InputError(f"{root}: cannot write ({_reason(exc)})") from None
    try:
        for name, text in files.items():
            _fill(staging / name, text, None, name in secret)
        os.chmod(staging, 0o777 & ~_umask())  # mkdtemp makes 0700; a new output folder gets the usual mode
        try:
            os.rename(staging, root)
        except OSError as exc:
            if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
                raise InputError(f"{root}: appeared while writing; nothing was written") from None
            raise InputError(f"{root}: cannot write ({_reason(exc)})") from None
        staging = None  # type: ignore[assignment]
    finally:
        if staging is not None:
            _remove_tree(staging)
    return [root / name for name in files]


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
