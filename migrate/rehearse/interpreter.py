"""The rehearsal's interpreter of a program: the Python twin of the runbook's Invoke-Runbook (runbook_lib.ps1).

Both follow docs/runbook.md, "Running a program": the journal says what is done; a step runs only when its
dependencies are done, the backups are verified before the switch and restore phases, and the artifacts it reads
still hash as recorded; each engine proves what it is before the first step that talks to it; an interrupted
docker step first runs its recovery commands; a finished step's artifacts are measured and recorded. Docker steps
go to a DockerRunner (the real CLI, or a test double), host actions to their twins over a simulated Windows host.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from migrate.errors import EngineError, InputError, MigrateError
from migrate.plan.actions import SECRET_VALUES_FORMAT, SOURCE_ENGINES, Action, VerifyBackups
from migrate.plan.checks import Check, check_passes, image_store
from migrate.plan.layout import BACKUP_LAYOUT
from migrate.plan.steps import (
    ENGINE_CHANGING,
    GATED_PHASES,
    SELF_PROVING,
    TIMEOUTS,
    Arg,
    Docker,
    Program,
    SecretValue,
    Step,
    resolve_arg,
)
from migrate.rehearse.docker import CommandTimedOut, Completed, DockerRunner
from migrate.rehearse.journal import (
    ArtifactRecord,
    Journal,
    load_artifacts,
    load_journal,
    measure,
    save_artifacts,
    save_journal,
)


class StepFailed(EngineError):
    """A step failed; the message names it and why."""


class RunRefused(InputError):
    """The run cannot start: another run holds the folder, the plan was rolled back, Windows must restart first."""


@dataclass(frozen=True, slots=True)
class StepResult:
    """What happened to one step in this run."""

    id: str
    phase: str
    title: str
    status: str
    """done, skipped (done earlier, or a rollback step whose forward step never started) or failed."""
    seconds: float
    note: str = ""


@dataclass(slots=True)
class Outcome:
    """How a run ended: finished, stopped (--stop-after), reboot (Windows must restart), failed."""

    status: str
    results: list[StepResult] = field(default_factory=list)
    message: str = ""


class Host:
    """What the interpreter needs from the (simulated) Windows host: the twins and the engines' reachability."""

    def twin(self, action: Action) -> Callable[[Action, Context], None]:
        raise NotImplementedError

    def engine_up(self, engine: str) -> str:
        """'' when Docker Desktop runs the engine that name stands for, else why not."""
        raise NotImplementedError

    def boot_id(self) -> str:
        raise NotImplementedError

    def lock(self, root: Path) -> Callable[[], None]:
        """Take the run's lock (the runbook's named mutex); returns the release function."""
        raise NotImplementedError


class Context:
    """What a step (docker or twin) sees: the backup folder, the journal, the artifacts, the engines."""

    def __init__(self, program: Program, plan_hash: str, root: Path, runner: DockerRunner, host: Host,
                 clock: Callable[[], str], kernel_override: dict[str, str] | None = None) -> None:
        self.program = program
        self.plan_hash = plan_hash
        self.root = root
        self.runner = runner
        self.host = host
        self.clock = clock
        self.kernel_override = kernel_override or {}
        """Engines checked against what this host's engines report: the kernel part given ('' = any), no OS name."""
        self.journal: Journal = load_journal(root, plan_hash)
        self.artifacts: dict[str, ArtifactRecord] = load_artifacts(root)
        self.step: Step | None = None
        self.notes: list[str] = []
        self.checked: set[str] = set()
        self.stop_requested = False
        self.after_restart = False
        """This run follows the restart the program asked for: its first stop-desktop waits for Desktop to start
        at logon (from its Run entry) before it looks."""

    def notice_restart(self, *, refuse: bool) -> None:
        """The restart the journal waits for: refused when it has not happened (a forward run), else recorded."""
        j = self.journal
        if not (j.reboot_needed and j.boot_time):
            return
        if self.host.boot_id() == j.boot_time:
            if refuse:
                raise RunRefused(f"Windows has not restarted since {j.reboot_requested_by} asked for it: restart, "
                                 "then resume")
            return
        j.reboot_needed, j.boot_time = False, ""
        self.after_restart = True

    # --------------------------------------------------------------------------------------- helpers for steps

    def note(self, text: str) -> None:
        self.notes.append(text)

    def save(self) -> None:
        save_journal(self.root, self.journal)

    def docker(self, engine: str, args: Sequence[str], timeout: int, ok: Sequence[int] = (0,)) -> Completed:
        """A docker command; StepFailed on a timeout or an exit code not in ok."""
        why = self.host.engine_up(engine)
        if why:
            raise StepFailed(f"the {engine} engine is not running: {why}")
        try:
            res = self.runner.run(engine, list(args), timeout)
        except CommandTimedOut as exc:
            raise StepFailed(str(exc)) from None
        if res.code not in ok:
            tail = " / ".join(res.stderr.strip().splitlines()[-3:])
            raise StepFailed(f"docker {' '.join(args[:2])} exited with code {res.code}: {tail}")
        return res

    def secret_value(self, arg: SecretValue) -> str:
        """A value a write-secret-values step wrote (never shown: errors name the file and the position)."""
        try:
            document = json.loads(self.root.joinpath(*arg.file.split("/")).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise StepFailed(f"{arg.file} cannot be read as a secret-values file") from None
        values = document.get("values") if isinstance(document, dict) else None
        if not isinstance(values, list) or document.get("format") != SECRET_VALUES_FORMAT \
                or not 0 <= arg.index < len(values):
            raise StepFailed(f"{arg.file} holds no value {arg.index}")
        value = values[arg.index]
        if not isinstance(value, str) or not value.startswith("="):
            raise StepFailed(f"{arg.file}: value {arg.index} is not in the form the file is written in")
        return value[1:]

    def argv(self, cmd: tuple[Arg, ...]) -> list[str]:
        """A planned command with its backup paths joined and its secret values read."""
        return [resolve_arg(a, str(self.root), secret=self.secret_value) for a in cmd]

    def engine_info(self, engine: str) -> dict:
        """`docker info` of an engine as JSON."""
        out = self.docker(engine, ["info", "--format", "{{json .}}"], TIMEOUTS["Probe"]).stdout
        try:
            data = json.loads(out)
        except ValueError:
            raise StepFailed(f"the {engine} engine's docker info is not JSON") from None
        return data if isinstance(data, dict) else {}

    def identity_problem(self, engine: str, info: dict) -> str:
        """Why an engine is not the one the program expects ('' when it is)."""
        expect = self.program.engines.get(engine)
        if expect is None:
            return ""
        os_type = str(info.get("OSType", ""))
        kernel = str(info.get("KernelVersion", ""))
        if os_type != expect.os:
            return f"it runs {os_type or 'an unknown OS'} containers, the plan expects {expect.os}"
        want = self.kernel_override.get(engine, expect.kernel_contains)
        if want and want not in kernel:
            return f"its kernel {kernel!r} is not the one expected ({want})"
        system = str(info.get("OperatingSystem", ""))
        if expect.operating_system and engine not in self.kernel_override and system != expect.operating_system:
            return f"it runs on {system or 'an unknown system'}, not {expect.operating_system}"
        for source in SOURCE_ENGINES:
            source_id = self.journal.engines.get(source, {}).get("id", "")
            if expect.not_source and source_id and str(info.get("ID", "")) == source_id:
                return f"it is the old backend's engine ({source}: the same engine id): the switch has not happened"
        return ""

    def prove_engine(self, engine: str) -> str:
        """The runbook's Confirm-Engine: '' when docker info reports what the program expects of the engine, which is
        then recorded with its image store (the source's id lets the target prove it is another engine), else why
        not."""
        info = self.engine_info(engine)
        problem = self.identity_problem(engine, info)
        if not problem:
            self.record_engine(engine, info)
        return problem

    def check_engine(self, engine: str) -> None:
        """Once per run and engine, before the first step that talks to it: the engine is what the program expects."""
        if engine in self.checked:
            return
        problem = self.prove_engine(engine)
        if problem:
            raise StepFailed(f"the {engine} engine is not the expected one: {problem}")

    def record_engine(self, engine: str, info: dict) -> None:
        self.journal.engines[engine] = {"id": str(info.get("ID", "")), "os": str(info.get("OSType", "")),
                                        "kernel": str(info.get("KernelVersion", "")),
                                        "store": image_store(info.get("DriverStatus"))}
        self.checked.add(engine)

    def record_artifact(self, step: Step, rel: str, kind: str, subject: str, secret: bool = False) -> None:
        size, sha = measure(self.root, rel)
        self.artifacts[rel] = ArtifactRecord(rel, kind, subject, step.id, size, sha, secret)
        save_artifacts(self.root, self.plan_hash, self.artifacts)

    # --------------------------------------------------------------------------------------- one step

    def _blocker(self, step: Step) -> str:
        for dep in step.depends_on:
            if self.journal.status(dep) != "done":
                return f"depends on {dep}, which is not done"
        if step.phase in GATED_PHASES and not self._backups_verified():
            return ("the backups have not passed backup/verify, or one changed after it did: then they cannot be "
                    "trusted; go back with --rollback and start again in a new work folder")
        for rel in step.consumes:
            rec = self.artifacts.get(rel)
            if rec is None:
                return f"needs {rel}, which is not in {BACKUP_LAYOUT['Artifacts']}"
            try:
                size, sha = measure(self.root, rel)
            except OSError:
                return f"{rel} is missing from the backup folder"
            if (size, sha) != (rec.size, rec.sha256):
                return f"{rel} changed since it was written (size or sha256 differs)"
        return ""

    def _backups_verified(self) -> bool:
        """verify-backups (the program's backup gate) is done and every artifact it lists still has the sha256 it
        verified."""
        index = self.program.backup_gate
        if index is None:
            return False
        gate = self.program.steps[index]
        assert isinstance(gate.op, VerifyBackups)
        return self.journal.status(gate.id) == "done" and all(
            self.journal.verified.get(p) == (self.artifacts[p].sha256 if p in self.artifacts else None)
            for p in gate.op.artifacts)

    def _quiet(self, engine: str, commands: tuple[tuple[Arg, ...], ...], why: str) -> None:
        """Commands whose failure only means there was nothing to do (recovery, clean-up)."""
        for cmd in commands:
            try:
                self.docker(engine, self.argv(cmd), TIMEOUTS["Cleanup"])
                self.note(f"{why}: docker {' '.join(str(a) for a in cmd[:2])}")
            except StepFailed as exc:
                self.note(f"{why}: nothing to do ({exc.message[:80]})")

    def _run_docker(self, step: Step, op: Docker, started_before: bool) -> None:
        if started_before:
            # An earlier attempt started the command and did not finish: its helper may still run, its object be
            # half made (require_absent proved the object was not there before that attempt).
            self._quiet(op.engine, op.cleanup, "clean-up")
            self._quiet(op.engine, op.recover, "recovered")
        for cmd in op.require_absent:
            if self.docker(op.engine, self.argv(cmd), TIMEOUTS["Probe"], (0, 1)).code == 0:
                raise StepFailed(f"{step.target} already exists on the {op.engine} engine and this run did not make "
                                 "it (an earlier install's?): rename or remove it there, then resume")
        self.journal.state(step.id).record["commandStarted"] = True
        self.save()
        try:
            res = self.docker(op.engine, self.argv(op.argv), op.timeout,
                              op.ok_exit_codes)
        except BaseException:
            self._quiet(op.engine, op.cleanup, "clean-up")
            raise
        if res.code:
            self.note(f"docker exited with code {res.code}")
        if op.expect_output and res.stdout.strip() != op.expect_output:
            raise StepFailed(f"unexpected output: {' / '.join(res.stdout.strip().splitlines()[:10])[:400]}")
        if op.record_output:
            # A re-run makes a new object (a new commit): the newest output is the one later checks need.
            self.journal.state(step.id).record["output"] = res.stdout.strip()
        problems = [p for p in (self.check(op.engine, c) for c in op.checks) if p]
        if problems:
            raise StepFailed("; ".join(problems))

    def check(self, engine: str, check: Check) -> str:
        """'' when the check passes on the engine, else what was found instead."""
        expect = check.expect
        if check.recorded_from:
            recorded = str(self.journal.state(check.recorded_from).record.get("output", ""))
            if not recorded:
                return f"{check.what}: {check.recorded_from} recorded no output"
            expect = expect.replace("{recorded}", recorded)
        res = self.docker(engine, list(check.argv), TIMEOUTS["Probe"], (0, 1))
        got = res.stdout.strip()
        if res.code:
            return f"{check.what}: not there ({' '.join(res.stderr.split())[:200]})"
        store = self.journal.engines.get(engine, {}).get("store", "classic")
        return "" if check_passes(check, got, expect, store) else f"{check.what}: found {got[:120]!r}"

    def run_step(self, step: Step) -> StepResult:
        started = time.monotonic()
        self.step, self.notes = step, []
        state = self.journal.state(step.id)
        started_before = state.status != "done" and bool(state.record.get("commandStarted"))
        state.status, state.attempt, state.started_at, state.ended_at = "running", state.attempt + 1, self.clock(), ""
        self.save()
        try:
            op = step.op
            if isinstance(op, Docker):
                self.check_engine(op.engine)
                self._run_docker(step, op, started_before)
            else:
                if step.action in ENGINE_CHANGING:
                    self.checked.clear()
                engine = op.engine_of()
                if engine and step.action not in SELF_PROVING:
                    self.check_engine(engine)
                self.host.twin(op)(op, self)
            for art in step.produces:
                self.record_artifact(step, art.path, art.kind, art.subject, art.secret)
        except MigrateError as exc:
            state.status, state.ended_at, state.notes = "failed", self.clock(), exc.message
            self.save()
            raise StepFailed(f"step {step.id} ({step.title}) failed: {exc.message}") from None
        state.status, state.ended_at, state.notes = "done", self.clock(), "; ".join(self.notes)
        self.save()
        return StepResult(step.id, step.phase, step.title, "done", time.monotonic() - started, state.notes)


def run_program(ctx: Context, *, resume: bool = False, stop_after: str = "", phase: str = "",
                on_step: Callable[[StepResult], None] | None = None) -> Outcome:
    """Run the forward steps from the journal's state (docs/runbook.md, "Running a program")."""
    release = ctx.host.lock(ctx.root)
    try:
        j = ctx.journal
        if j.rolled_back:
            raise RunRefused(f"{ctx.root}: this run was rolled back at {j.rolled_back}; a rolled-back migration is "
                             "never resumed: start again with a new backup folder")
        if resume and not j.exists:
            raise RunRefused(f"{ctx.root}: no {BACKUP_LAYOUT['Journal']} to resume from")
        ctx.notice_restart(refuse=True)
        if stop_after and stop_after not in {s.id for s in ctx.program.steps}:
            raise InputError(f"--stop-after: no step {stop_after!r} in the plan")
        results: list[StepResult] = []
        for step in ctx.program.steps:
            if phase and step.phase != phase:
                continue
            if j.status(step.id) == "done":
                results.append(StepResult(step.id, step.phase, step.title, "skipped", 0.0, "already done"))
            else:
                blocker = ctx._blocker(step)
                if blocker:
                    results.append(StepResult(step.id, step.phase, step.title, "failed", 0.0, blocker))
                    if on_step:
                        on_step(results[-1])
                    return Outcome("failed", results, f"step {step.id} ({step.title}) cannot run: {blocker}")
                try:
                    results.append(ctx.run_step(step))
                except StepFailed as exc:
                    results.append(StepResult(step.id, step.phase, step.title, "failed", 0.0, exc.message))
                    if on_step:
                        on_step(results[-1])
                    return Outcome("failed", results, exc.message)
            if on_step:
                on_step(results[-1])
            if ctx.stop_requested:
                return Outcome("reboot", results, "Windows must restart; the run resumes after it")
            if step.id == stop_after:
                return Outcome("stopped", results, f"stopped after {step.id}")
        return Outcome("finished", results)
    finally:
        release()


def run_rollback(ctx: Context, on_step: Callable[[StepResult], None] | None = None) -> Outcome:
    """The rollback program: each step whose forward step started (or that has none) runs, in order."""
    if not ctx.journal.exists:
        # The runbook's -Rollback (Invoke-Runbook): this plan never ran in this folder, so nothing to put back.
        return Outcome("finished", [],
                       f"nothing to roll back: no {BACKUP_LAYOUT['Journal']} in {ctx.root} (this plan never ran "
                       "there)")
    release = ctx.host.lock(ctx.root)
    try:
        ctx.notice_restart(refuse=False)
        results: list[StepResult] = []
        for step in ctx.program.rollback:
            if step.only_if_started and ctx.journal.status(step.only_if_started) == "pending":
                results.append(StepResult(step.id, step.phase, step.title, "skipped", 0.0,
                                          f"{step.only_if_started} never started"))
            else:
                # A rollback step runs again whenever rollback runs, on its journal entry (the runbook's -Always).
                try:
                    results.append(ctx.run_step(step))
                except StepFailed as exc:
                    results.append(StepResult(step.id, step.phase, step.title, "failed", 0.0, exc.message))
                    if on_step:
                        on_step(results[-1])
                    return Outcome("failed", results, exc.message)
            if on_step:
                on_step(results[-1])
        return Outcome("finished", results)
    finally:
        release()
