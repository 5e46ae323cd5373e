"""Run a plan's engine steps for real: the same step list and docker arguments the runbook runs."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from migrate.errors import EngineError, InputError
from migrate.plan.steps import Artifact, Step, join_backup, resolve_arg

WINDOWS_ONLY = ("check-host", "stop-desktop", "backup-file", "enable-feature", "reboot", "set-desktop-setting",
                "edit-daemon-config", "write-wslconfig", "start-desktop")
"""Host actions that only mean something on the Windows machine: listed as skipped."""
DOCKER_TIMEOUT = 3600
"""Seconds one docker command may take (a large save or volume copy)."""


@dataclass(frozen=True, slots=True)
class StepResult:
    """What happened to one step."""

    id: str
    phase: str
    title: str
    status: str
    """done, skipped (a Windows-only host step) or failed."""
    seconds: float
    note: str = ""
    command: tuple[str, ...] = ()


class StepFailed(EngineError):
    """A step failed; the message names it, the command's exit code and the end of its stderr."""


@dataclass(frozen=True, slots=True)
class Engines:
    """The engine URLs the rehearsal runs against, and the docker CLI to run."""

    source: str
    target: str
    docker: str = "docker"


def _docker(engines: Engines, engine: str, args: Sequence[str], cwd: str | None = None) -> str:
    url = engines.source if engine == "source" else engines.target
    cmd = [engines.docker, "--host", url, *args]
    try:
        res = subprocess.run(cmd, capture_output=True, cwd=cwd, timeout=DOCKER_TIMEOUT, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise EngineError(f"{engines.docker}: the docker CLI is not installed or not on PATH") from None
    except subprocess.TimeoutExpired:
        raise StepFailed(f"docker {' '.join(args[:2])} against {url}: no answer in {DOCKER_TIMEOUT} s") from None
    if res.returncode != 0:
        tail = res.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        raise StepFailed(f"docker {' '.join(args[:2])} against {url} exited {res.returncode}: {' / '.join(tail)}")
    return res.stdout.decode("utf-8", "replace")


def artifact_record(root: Path, a: Artifact) -> dict[str, object]:
    """Size, sha256 and (for tars) entry count of an artifact: what the runbook's manifest holds too."""
    path = Path(join_backup(str(root), a.path))
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    rec: dict[str, object] = {"path": a.path, "kind": a.kind, "subject": a.subject, "size": path.stat().st_size,
                              "sha256": h.hexdigest()}
    if a.tar:
        with tarfile.open(path, "r:") as tf:
            rec["entries"] = sum(1 for _ in tf)
    return rec


def write_env_file(engines: Engines, step: Step, root: Path) -> None:
    """The env file of a container from the source engine's Config.Env, only the names the plan carries."""
    container = str(step.params["container"])
    names = step.params.get("names") or []
    raw = json.loads(_docker(engines, "source", ["inspect", "--type", "container", "--format",
                                                 "{{json .Config.Env}}", container]) or "null") or []
    wanted = set(names) if isinstance(names, list) else set()
    lines = [e for e in raw if e.split("=", 1)[0] in wanted]
    path = Path(join_backup(str(root), str(step.params["path"])))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("".join(line + "\n" for line in lines))


def check_workdir(workdir: Path) -> None:
    """The rehearsal's backup folder must be new or empty: a leftover artifact would pass for a fresh one."""
    if workdir.exists() and (not workdir.is_dir() or any(workdir.iterdir())):
        raise InputError(f"{workdir}: the rehearsal work directory must be empty or new")


def run_steps(steps: Sequence[Step], engines: Engines, workdir: Path,
              on_step: Callable[[StepResult], None] | None = None,
              verify_target: Callable[[], str] | None = None) -> list[StepResult]:
    """Run every step in order; Windows-only host steps are skipped. Stops at the first failure (raises)."""
    check_workdir(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, dict[str, object]] = {}
    results: list[StepResult] = []
    for step in steps:
        started = time.monotonic()
        status, note, command = "done", "", ()
        try:
            if step.argv:
                args = [resolve_arg(a, str(workdir)) for a in step.argv]
                command = ("docker", "--host", step.engine, *args)
                _docker(engines, step.engine, args, cwd=step.workdir or None)
            elif step.action in WINDOWS_ONLY:
                status, note = "skipped", "Windows host step (runs only in the runbook)"
            elif step.action == "prepare-backup-folder":
                secret = str(step.params.get("secret", "secrets"))
                (workdir / secret).mkdir(mode=0o700, exist_ok=True)  # the ACL the runbook sets with icacls
                for sub in step.params.get("folders") or []:
                    (workdir / str(sub)).mkdir(parents=True, exist_ok=True)
            elif step.action == "write-env-file":
                write_env_file(engines, step, workdir)
            elif step.action == "verify-backups":
                note = _verify_backups(workdir, manifest)
            elif step.action == "wait-engine":
                _docker(engines, step.engine or "target", ["version", "--format", "{{.Server.Version}}"])
                if step.params:
                    note = "registry settings are checked by the runbook only (a scratch target has its own)"
            elif step.action == "verify-target":
                note = verify_target() if verify_target is not None else "left to the verify report"
            elif step.action == "finish":
                pass
            else:
                raise InputError(f"step {step.id}: unknown host action {step.action!r}")
            if status == "done":
                for a in step.produces:
                    manifest[a.path] = artifact_record(workdir, a)
        except StepFailed as exc:
            results.append(StepResult(step.id, step.phase, step.title, "failed", time.monotonic() - started,
                                      exc.message, command))
            if on_step:
                on_step(results[-1])
            raise StepFailed(f"step {step.id} ({step.title}) failed: {exc.message}") from None
        results.append(StepResult(step.id, step.phase, step.title, status, time.monotonic() - started, note,
                                  command))
        if on_step:
            on_step(results[-1])
        _write_json(workdir / "manifest.json", {"artifacts": [manifest[k] for k in sorted(manifest)]})
    return results


def _verify_backups(root: Path, manifest: dict[str, dict[str, object]]) -> str:
    for path, rec in sorted(manifest.items()):
        again = artifact_record(root, Artifact(path, str(rec["kind"]), str(rec["subject"]), tar="entries" in rec))
        if again != rec:
            raise StepFailed(f"backup {path} changed since it was written (size/sha256/entries differ)")
    return f"{len(manifest)} artifact(s) verified"


def _write_json(path: Path, data: object) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def restore_source(steps: Sequence[Step], engines: Engines) -> list[str]:
    """After a rehearsal: restart the source containers the freeze stopped and untag the commits (best effort)."""
    problems: list[str] = []
    stops = [s for s in steps if s.phase == "freeze" and s.argv[:1] == ("stop",)]
    for s in reversed(stops):
        try:
            _docker(engines, "source", ["start", str(s.argv[-1])])
        except StepFailed as exc:
            problems.append(exc.message)
    for s in steps:
        if s.phase == "backup" and s.argv[:1] == ("commit",):
            try:
                _docker(engines, "source", ["image", "rm", str(s.argv[-1])])
            except StepFailed as exc:
                problems.append(exc.message)
    return problems


def docker_cli() -> str:
    """The docker CLI on PATH."""
    found = shutil.which("docker")
    if found is None:
        raise EngineError("docker: the docker CLI is not installed or not on PATH (the rehearsal runs it)")
    return found
