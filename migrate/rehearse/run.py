"""A rehearsal: the plan's whole program run from one real engine to another over a simulated Windows host, then
verified; stopped, resumed and rolled back as the runbook would be; the source engine left as it was found."""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from migrate.errors import InputError
from migrate.model import Inventory, dumps, fingerprint, loads
from migrate.plan.actions import SOURCE_ENGINES
from migrate.plan.layout import BACKUP_LAYOUT
from migrate.plan.model import Plan
from migrate.plan.steps import Program
from migrate.rehearse.docker import DockerRunner
from migrate.rehearse.host import SimulatedHost, seed_host
from migrate.rehearse.interpreter import Context, Outcome, StepResult, run_program, run_rollback

BEFORE = "rehearsal-before.json"
"""The source as scanned before the rehearsal (volume digests included), kept for a later --resume's verify."""
HOST_FOLDER = "simulated-host"


@dataclass(frozen=True, slots=True)
class Options:
    """What a rehearse command asked for."""

    workdir: Path
    host_root: Path | None = None
    stop_after: str = ""
    resume: bool = False
    rollback: bool = False
    keep_source_changes: bool = False
    target_kernel: str = ""
    """Text the target's kernel must contain ('' = not checked: a rehearsal target is not WSL 2)."""


@dataclass(slots=True)
class Report:
    """How a rehearsal went."""

    outcome: Outcome
    host_root: Path
    seeded: list[str] = field(default_factory=list)
    drift: bool = False
    restarts: int = 0
    rollback: Outcome | None = None
    source_problems: list[str] = field(default_factory=list)
    verify: Any = None
    digests: list[dict[str, Any]] = field(default_factory=list)


def check_workdir(workdir: Path) -> None:
    """A fresh rehearsal's backup folder must be new or empty: a leftover artifact would pass for a fresh one."""
    if not workdir.is_absolute():
        raise InputError(f"--workdir {workdir}: give an absolute path (docker reads a relative one as a volume name)")
    if workdir.exists() and (not workdir.is_dir() or any(workdir.iterdir())):
        raise InputError(f"{workdir}: the rehearsal work directory must be empty or new")


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def without_digests(inv: Inventory) -> Inventory:
    """The inventory as a plan sees it: volume digests (a scan option) left out of the comparison."""
    he = inv.hyperv_engine
    if he is not None:
        he = dataclasses.replace(he, volumes=tuple(dataclasses.replace(v, digest="") for v in he.volumes))
    return dataclasses.replace(inv, volumes=tuple(dataclasses.replace(v, digest="") for v in inv.volumes),
                               notes=tuple(n for n in inv.notes if n.area != "volumes"), hyperv_engine=he)


def rehearse(plan: Plan, plan_hash: str, program: Program, runner: DockerRunner, opts: Options, *,
             scan: Callable[[str], Inventory], inventory: Inventory | None = None,
             on_step: Callable[[StepResult], None] | None = None, compare: Callable[..., Any] | None = None,
             clock: Callable[[], str] = _now) -> Report:
    """Run (or resume, or roll back) the program; verify a finished run; put the source back unless asked not to."""
    workdir = opts.workdir
    fresh = not (opts.resume or opts.rollback)
    if fresh:
        check_workdir(workdir)
    elif not (workdir / BACKUP_LAYOUT["Journal"]).is_file():
        raise InputError(f"{workdir}: no {BACKUP_LAYOUT['Journal']}: nothing to "
                         f"{'resume' if opts.resume else 'roll back'}")
    host_root = opts.host_root or workdir / HOST_FOLDER
    if not host_root.is_absolute():
        raise InputError(f"--host-root {host_root}: give an absolute path")
    workdir.mkdir(parents=True, exist_ok=True)
    report = Report(Outcome("finished"), host_root)
    before_file = workdir / BEFORE
    if fresh:
        before = scan("source")
        report.drift = fingerprint(without_digests(before)) != plan.inventory_fingerprint
        before_file.write_text(dumps(before), encoding="utf-8")
        report.seeded = seed_host(host_root, plan, inventory, workdir)
    else:
        before = loads(before_file.read_text(encoding="utf-8")) if before_file.is_file() else scan("source")
    host = SimulatedHost(host_root)
    # Engines here are Debian's dockerd: neither a LinuxKit nor a WSL kernel, nor "Docker Desktop" (--target-kernel).
    kernel = {"source": "", "hyperv": "", "target": opts.target_kernel}
    ctx = Context(program, plan_hash, workdir, runner, host, clock, kernel)
    if opts.rollback:
        clear_ports(ctx, before, runner)
        report.outcome = run_rollback(ctx, on_step)
        return report
    if opts.resume and host.state.get("pending_restart"):
        host.restart()  # the user restarted Windows; the logon task resumes the run
        report.restarts += 1
    try:
        outcome = run_program(ctx, resume=opts.resume, stop_after=opts.stop_after, on_step=on_step)
        while outcome.status == "reboot" and not (opts.stop_after and outcome.results
                                                   and outcome.results[-1].id == opts.stop_after):
            host.restart()
            report.restarts += 1
            ctx = Context(program, plan_hash, workdir, runner, host, clock, kernel)
            more = run_program(ctx, resume=True, stop_after=opts.stop_after, on_step=on_step)
            outcome = Outcome(more.status, outcome.results + more.results, more.message)
    except KeyboardInterrupt:
        if not opts.keep_source_changes:
            report.rollback = _roll_back(program, plan_hash, workdir, runner, host, clock, kernel, before, on_step)
        raise
    report.outcome = outcome
    if outcome.status == "failed" and not opts.keep_source_changes:
        report.rollback = _roll_back(program, plan_hash, workdir, runner, host, clock, kernel, before, on_step)
    elif outcome.status == "finished":
        if compare is not None:
            report.verify, report.digests = compare(before, scan("target"), workdir)
        if not opts.keep_source_changes:
            report.source_problems = restore_source(ctx, before, runner)
    return report


def _roll_back(program: Program, plan_hash: str, workdir: Path, runner: DockerRunner, host: SimulatedHost,
               clock: Callable[[], str], kernel: dict[str, str], before: Inventory,
               on_step: Callable[[StepResult], None] | None) -> Outcome:
    """After a failed or interrupted rehearsal: the rollback program (the source's containers run again)."""
    ctx = Context(program, plan_hash, workdir, runner, host, clock, kernel)
    clear_ports(ctx, before, runner)
    return run_rollback(ctx, on_step)


def clear_ports(ctx: Context, before: Inventory, runner: DockerRunner) -> list[str]:
    """Stop the target's running containers that publish a host port a source container needs (on Windows the two
    engines never run at once; here they may share the host's ports)."""
    second = before.hyperv_engine.containers if before.hyperv_engine is not None else ()
    wanted = {(p.host_ip or "0.0.0.0", p.host_port) for c in (*before.containers, *second) if c.running
              for p in c.port_bindings if p.host_port}
    if not wanted:
        return []
    ids = runner.run("target", ["ps", "-q", "--no-trunc"], 120).stdout.split()
    stopped = []
    for cid in ids:
        res = runner.run("target", ["container", "inspect", "--format", "{{json .HostConfig.PortBindings}}", "--",
                                    cid], 120)
        try:
            bindings = json.loads(res.stdout or "null") or {}
        except ValueError:
            continue
        ports = {(b.get("HostIp") or "0.0.0.0", str(b.get("HostPort") or ""))
                 for v in bindings.values() for b in v or []}
        if any(port in {p for _, p in wanted} for _, port in ports):
            runner.run("target", ["stop", "-t", "10", "--", cid], 300)
            stopped.append(cid)
    return stopped


_PORT_TAKEN = ("address already in use", "port is already allocated")


def restore_source(ctx: Context, before: Inventory, runner: DockerRunner) -> list[str]:
    """After a finished rehearsal: the rollback program's docker steps against the source engines (the frozen
    containers started again, the commit tags removed), run directly: on the simulated host Desktop now runs WSL 2.
    When a start fails because the target (sharing this host's network) holds the port, the target's containers
    that publish it are stopped and the start tried again; a target in its own network is left as the run left
    it."""
    problems = []
    for step in ctx.program.rollback:
        op = step.docker
        if op is None or op.engine not in SOURCE_ENGINES:
            continue
        if step.only_if_started and ctx.journal.status(step.only_if_started) == "pending":
            continue
        res = runner.run(op.engine, [str(a) for a in op.argv], op.timeout)
        if res.code not in op.ok_exit_codes and any(t in res.stderr for t in _PORT_TAKEN):
            clear_ports(ctx, before, runner)
            res = runner.run(op.engine, [str(a) for a in op.argv], op.timeout)
        if res.code not in op.ok_exit_codes:
            problems.append(f"{step.id}: docker exited with code {res.code}: {res.stderr.strip()[-200:]}")
    return problems
