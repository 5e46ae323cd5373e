"""Run a function as an unprivileged user (nobody) in a forked child: the suite runs as root, for which file
permissions do not apply, so a file the process may not read exists only for another user."""
from __future__ import annotations

import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

NOBODY = 65534


def shared_dir() -> Path:
    """A fresh directory nobody can enter (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="w2m-nobody-"))
    path.chmod(0o755)
    return path


def as_nobody(fn: Callable[[], Any]) -> Any:
    """fn() run as uid/gid 65534 in a child process; its result (or exception) comes back pickled."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop privileges, run, report, exit without running the parent's cleanups
        os.close(read_end)
        try:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            result: tuple[str, Any] = ("ok", fn())
        except BaseException as exc:  # everything goes back to the parent
            result = ("error", exc)
        with os.fdopen(write_end, "wb") as fh:
            try:
                pickle.dump(result, fh)
            except Exception as exc:  # an unpicklable result
                pickle.dump(("error", RuntimeError(repr(exc))), fh)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as fh:
        data = fh.read()
    os.waitpid(pid, 0)
    kind, value = pickle.loads(data)
    if kind == "error":
        raise value
    return value
