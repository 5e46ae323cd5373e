"""How the rehearsal runs a docker command: the docker CLI against an engine URL, with a time limit that ends
the whole process tree (the CLI and any plugin it started), as the runbook does on Windows."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from migrate.plan.steps import TIMEOUTS
from migrate.errors import EngineError


@dataclass(frozen=True, slots=True)
class Completed:
    """What a docker command did."""

    code: int
    stdout: str
    stderr: str


class CommandTimedOut(Exception):
    """The command ran past its time limit; its process tree was ended."""


class DockerRunner(Protocol):
    """Runs `docker --host <engine> args...`."""

    def run(self, engine: str, args: Sequence[str], timeout: int, cwd: str | None = None) -> Completed: ...


class CliDocker:
    """The real docker CLI against real engines."""

    def __init__(self, urls: dict[str, str], docker: str = "") -> None:
        self.urls = urls
        self.docker = docker or docker_cli()

    def run(self, engine: str, args: Sequence[str], timeout: int, cwd: str | None = None) -> Completed:
        cmd = [self.docker, "--host", self.urls[engine], *args]
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    cwd=cwd, start_new_session=True)
        except FileNotFoundError:
            raise EngineError(f"{self.docker}: the docker CLI is not installed or not on PATH") from None
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            # The CLI's own session: a plugin it started (compose, desktop) holds the pipes and must end too.
            os.killpg(proc.pid, signal.SIGKILL)
            try:
                # As the runbook: the pipes are waited for a bounded time (a child outside the group may hold them).
                proc.communicate(timeout=TIMEOUTS["PipeDrain"])
            except subprocess.TimeoutExpired:
                pass
            raise CommandTimedOut(f"docker {' '.join(args[:2])} did not finish within {timeout} s") from None
        except BaseException:
            os.killpg(proc.pid, signal.SIGKILL)
            try:
                proc.wait(timeout=TIMEOUTS["KillWait"])
            except subprocess.TimeoutExpired:
                pass  # what is raised is the interruption, not this wait
            raise
        return Completed(proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))


def docker_cli() -> str:
    """The docker CLI on PATH."""
    found = shutil.which("docker")
    if found is None:
        raise EngineError("docker: the docker CLI is not installed or not on PATH (the rehearsal runs it)")
    return found
