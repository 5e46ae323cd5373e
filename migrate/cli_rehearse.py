"""The `rehearse` command: a plan's whole program run for real from a source engine to a target, then verified."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Optional

import typer

from migrate import __version__
from migrate.cli import app, check_output, guarded, write_output
from migrate.errors import EXIT_FINDINGS, EXIT_INTERRUPTED, InputError

FORMATS = ("table", "json")


@app.command()
def rehearse(
    plan_file: Path = typer.Argument(..., metavar="PLAN", help="plan.toml written by `plan`."),
    source: str = typer.Option(..., "--source", metavar="URL", help="Engine holding what the plan moves."),
    target: str = typer.Option(..., "--target", metavar="URL", help="Engine to restore onto (a scratch engine)."),
    hyperv: Optional[str] = typer.Option(None, "--hyperv", metavar="URL", help="The plan's second source engine (an "
                                         "LCOW host's Linux engine in the Hyper-V VM; the plan's [hyperv] tables)."),
    workdir: Path = typer.Option(..., "--workdir", metavar="DIR", help="The rehearsal's backup folder: empty or new "
                                 "for a fresh run; the same folder again for --resume and --rollback."),
    host_root: Optional[Path] = typer.Option(None, "--host-root", metavar="DIR", help="A folder standing for the "
                                             "Windows host (%USERPROFILE%, %ProgramData%); default: under --workdir."),
    inventory: Optional[Path] = typer.Option(None, "--inventory", metavar="FILE", help="The inventory the plan was "
                                             "made from: host files DIR lacks are seeded from its copies."),
    stop_after: str = typer.Option("", "--stop-after", metavar="STEP", help="Stop cleanly after this step, as a "
                                   "crash or a restart would leave the run."),
    resume: bool = typer.Option(False, "--resume",
                                help="Continue from the journal in --workdir (migrate.ps1 -Resume)."),
    rollback: bool = typer.Option(False, "--rollback", help="Run the rollback program (migrate.ps1 -Rollback)."),
    keep_source_changes: bool = typer.Option(False, "--keep-source-changes",
                                             help="Leave the source frozen (stopped containers, commit tags)."),
    target_kernel: str = typer.Option("", "--target-kernel", metavar="PART", help="Text the target's kernel must "
                                      "contain (the runbook requires microsoft-standard; a scratch target is not "
                                      "WSL 2, so by default it is not checked)."),
    fmt: str = typer.Option("table", "--format", "-f", metavar="FORMAT", help="table or json."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", metavar="FILE",
                                          help="Write the report here (default: stdout)."),
) -> None:
    """Run the plan's whole program (docker steps for real, Windows steps on a simulated host), then verify."""

    def body() -> None:
        check_output(output)  # a bad output path fails before any work is done
        from migrate.cli_verify import render_json, render_table
        from migrate.inventory.scan import ScanOptions, scan
        from migrate.inventory.textfile import read_text
        from migrate.model import loads
        from migrate.plan.build import build_program
        from migrate.plan.manifest import expected_changes
        from migrate.plan.planfile import parse_plan, plan_hash
        from migrate.plan.second import merged_sources
        from migrate.rehearse.docker import CliDocker
        from migrate.rehearse.run import Options, rehearse as run_rehearsal
        from migrate.verify.compare import compare, plan_skips
        from migrate.verify.restored import as_restored, restored_digests

        if fmt not in FORMATS:
            raise InputError(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
        if resume and rollback:
            raise InputError("--resume and --rollback: give one of them")
        if not plan_file.is_file():
            raise InputError(f"{plan_file}: no such plan file")
        text, _ = read_text(plan_file)
        plan = parse_plan(text, str(plan_file))
        program = build_program(plan)
        inv = loads(read_text(inventory)[0]) if inventory is not None else None
        urls = {"source": source, "target": target}
        if "hyperv" in program.engines:
            if not hyperv:
                raise InputError(f"{plan_file}: the plan moves a second source engine (its [hyperv] tables): give "
                                 "its URL with --hyperv")
            urls["hyperv"] = hyperv
        elif hyperv:
            raise InputError(f"--hyperv {hyperv}: {plan_file} has no second source engine to rehearse")

        def scan_engine(which: str) -> Any:
            # The source side holds the second engine too, as the plan's inventory did (`scan --host A --host B`).
            return scan(ScanOptions(host=urls[which], hyperv_host=urls.get("hyperv") if which == "source" else None,
                                    volume_digests=True), __version__)

        def check(before: Any, after: Any, root: Path) -> tuple[Any, list[dict[str, Any]]]:
            # A copied volume is compared as the runbook does: by its digest after the restore, taken before any
            # container started (a database writes to it at start). Its digest before comes from the scan made
            # before the run, by the other implementation (Python): the two must agree.
            digests = restored_digests(root, plan)
            after = as_restored(after, digests)
            result = compare(merged_sources(before, plan), after, skipped=plan_skips(plan),
                             expected=expected_changes(plan, after))
            pairs = [{"name": n, "backup": b or "(missing)", "target": a or "(missing)", "equal": bool(b) and a == b}
                     for n, (b, a) in sorted(digests.items())]
            return result, pairs

        def show(r: Any) -> None:
            typer.echo(f"{r.status:8} {r.seconds:6.1f}s  {r.id}" + (f"  ({r.note})" if r.note else ""), err=True)

        # Absolute before anything is touched: docker would read a relative bind source as a volume name.
        opts = Options(workdir=workdir.resolve(), host_root=host_root.resolve() if host_root else None,
                       stop_after=stop_after, resume=resume, rollback=rollback,
                       keep_source_changes=keep_source_changes, target_kernel=target_kernel)
        try:
            report = run_rehearsal(plan, plan_hash(text).removeprefix("sha256:"), program, CliDocker(urls), opts,
                                   scan=scan_engine, inventory=inv, on_step=show, compare=check)
        except KeyboardInterrupt:
            typer.echo("interrupted: the source was put back as it was (rollback program)", err=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        _explain(report, workdir, stop_after, keep_source_changes)
        outcome = report.outcome
        if outcome.status in ("stopped", "reboot") or rollback:
            if outcome.status == "failed":
                raise typer.Exit(EXIT_FINDINGS)
            return
        if outcome.status == "failed":
            raise typer.Exit(EXIT_FINDINGS)
        result = report.verify
        if result is None:
            return
        bad = [d for d in report.digests if not d["equal"]]
        if fmt == "json":
            data = json.loads(render_json(result, source, target))
            data["steps"] = [dataclasses.asdict(r) for r in outcome.results]
            data["volume_digests"] = report.digests
            write_output(json.dumps(data, indent=2, ensure_ascii=False) + "\n", output)
        else:
            write_output(render_table(result, source, target), output)
        if not result.ok or bad:
            raise typer.Exit(EXIT_FINDINGS)

    guarded(body)


def _explain(report: Any, workdir: Path, stop_after: str, kept: bool) -> None:
    """What happened, and what to run next, on stderr."""
    echo = lambda text: typer.echo(text, err=True)  # noqa: E731
    if report.seeded:
        echo(f"simulated Windows host: {report.host_root} (seeded {', '.join(report.seeded)})")
    else:
        echo(f"simulated Windows host: {report.host_root}")
    if report.drift:
        echo("warning: the source no longer matches the plan's inventory (run `wsl2-migrate validate`); "
             "rehearsing the plan as written")
    if report.restarts:
        echo(f"simulated {report.restarts} Windows restart(s); the logon task resumed the run each time")
    outcome = report.outcome
    done = sum(1 for r in outcome.results if r.status == "done")
    echo(f"rehearsal: {outcome.status}: {done} step(s) run, "
         f"{sum(1 for r in outcome.results if r.status == 'skipped')} skipped")
    if outcome.status in ("stopped", "reboot"):
        echo(f"stopped as asked; continue with: wsl2-migrate rehearse ... --workdir {workdir} --resume "
             f"(or --rollback)")
    if outcome.status == "failed":
        echo(f"failed: {outcome.message}")
        if report.rollback is not None:
            echo(f"rolled back: {report.rollback.status} (the source's containers run again; the journal refuses "
                 "a resume)")
        elif kept:
            echo(f"the source stays frozen; fix the cause, then: wsl2-migrate rehearse ... --workdir {workdir} "
                 "--resume")
    for p in report.source_problems:
        echo(f"warning: putting the source back: {p}")
