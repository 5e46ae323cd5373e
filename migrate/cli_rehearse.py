"""The `rehearse` command: a plan's engine steps run for real from a source engine to a target, then verified."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Optional

import typer

from migrate import __version__
from migrate.cli import check_output, app, guarded, write_output
from migrate.errors import EXIT_FINDINGS, InputError

FORMATS = ("table", "json")


def _scan(url: str) -> Any:
    from migrate.inventory.scan import ScanOptions, scan

    return scan(ScanOptions(host=url, volume_digests=True), __version__)


def _without_digests(inv: Any) -> Any:
    return dataclasses.replace(inv, volumes=tuple(dataclasses.replace(v, digest="") for v in inv.volumes),
                               notes=tuple(n for n in inv.notes if n.area != "volumes"))


def digest_pairs(plan: Any, workdir: Path) -> list[dict[str, Any]]:
    """The runbook's volume rule, applied to the rehearsal's backup folder: digest before == digest after."""
    from migrate.plan.manifest import expected_manifest

    def token(rel: str) -> str:
        path = workdir / rel
        return path.read_text(encoding="ascii").split()[0] if path.is_file() else "(missing)"

    out = []
    for v in expected_manifest(plan)["volumes"]:
        b, a = token(v["backup_digest"]), token(v["target_digest"])
        out.append({"name": v["name"], "backup": b, "target": a, "equal": b == a and b.startswith("sha256:")})
    return out


@app.command()
def rehearse(
    plan_file: Path = typer.Argument(..., metavar="PLAN", help="plan.toml written by `plan`."),
    source: str = typer.Option(..., "--source", metavar="URL",
                               help="Engine URL holding what the plan moves (unix://, tcp://...)."),
    target: str = typer.Option(..., "--target", metavar="URL",
                               help="Engine URL to restore onto (a scratch engine or context)."),
    workdir: Path = typer.Option(..., "--workdir", metavar="DIR",
                                 help="An empty directory: the backup folder of the rehearsal."),
    keep_source_changes: bool = typer.Option(False, "--keep-source-changes",
                                             help="Leave the source frozen (stopped containers, commit tags)."),
    fmt: str = typer.Option("table", "--format", "-f", metavar="FORMAT", help="table or json."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", metavar="FILE",
                                          help="Write the report here (default: stdout)."),
) -> None:
    """Run the plan's docker steps for real (source -> target), skip the Windows-only steps, then verify."""

    def body() -> None:
        check_output(output)  # a bad output path fails before any work is done
        from migrate.cli_verify import render_json, render_table
        from migrate.inventory.textfile import read_text
        from migrate.model import fingerprint
        from migrate.plan.build import build_steps
        from migrate.plan.manifest import expected_changes
        from migrate.plan.planfile import parse_plan
        from migrate.rehearse.run import (
            Engines,
            StepFailed,
            check_workdir,
            docker_cli,
            restore_source,
            run_steps,
        )
        from migrate.verify.compare import compare, plan_skips

        if fmt not in FORMATS:
            raise InputError(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
        if not plan_file.is_file():
            raise InputError(f"{plan_file}: no such plan file")
        check_workdir(workdir)  # before any engine is touched
        text, _ = read_text(plan_file)
        plan = parse_plan(text, str(plan_file))
        steps = build_steps(plan)
        engines = Engines(source, target, docker_cli())
        before = _scan(source)
        if fingerprint(_without_digests(before)) != plan.inventory_fingerprint:
            typer.echo(f"warning: {source} no longer matches the plan's inventory (run `wsl2-migrate validate`); "
                       "rehearsing the plan as written", err=True)
        state: dict[str, Any] = {}

        def verify_target() -> str:
            after = _scan(target)
            state["result"] = compare(before, after, skipped=plan_skips(plan), expected=expected_changes(plan, after))
            state["digests"] = digest_pairs(plan, workdir)
            counts = state["result"].counts
            return ", ".join(f"{counts[k]} {k}" for k in counts if counts[k])

        def show(r: Any) -> None:
            typer.echo(f"{r.status:8} {r.seconds:6.1f}s  {r.id}" + (f"  ({r.note})" if r.note else ""), err=True)

        try:
            results = run_steps(steps, engines, workdir, on_step=show, verify_target=verify_target)
        except StepFailed:
            if not keep_source_changes:
                restore_source(steps, engines)
            raise
        problems = [] if keep_source_changes else restore_source(steps, engines)
        for p in problems:
            typer.echo(f"warning: restoring the source: {p}", err=True)
        result = state["result"]
        bad_digests = [d for d in state["digests"] if not d["equal"]]
        for d in bad_digests:
            typer.echo(f"volume {d['name']}: content digest before the switch {d['backup']} != after the restore "
                       f"{d['target']}", err=True)
        done = sum(1 for r in results if r.status == "done")
        skipped = [r.id for r in results if r.status == "skipped"]
        typer.echo(f"rehearsal: {done} steps run, {len(skipped)} Windows-only steps skipped", err=True)
        if fmt == "json":
            data = json.loads(render_json(result, source, target))
            data["steps"] = [dataclasses.asdict(r) for r in results]
            data["volume_digests"] = state["digests"]
            write_output(json.dumps(data, indent=2, ensure_ascii=False) + "\n", output)
        else:
            write_output(render_table(result, source, target), output)
        if not result.ok or bad_digests:
            raise typer.Exit(EXIT_FINDINGS)

    guarded(body)
