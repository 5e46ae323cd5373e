"""The `validate` command: check a plan against a fresh inventory before the day (docs/validate.md)."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from migrate import __version__
from migrate.cli import (
    app,
    with_sources,
    build_options,
    check_output,
    guarded,
    load_or_scan,
    write_output,
)
from migrate.cli_assess import CONFIG_OPT, RULES_DIR_OPT
from migrate.errors import EXIT_FINDINGS, InputError

if TYPE_CHECKING:
    from migrate.plan.model import Plan


def read_plan(path: Path) -> Plan:
    """The Plan in a plan.toml; InputError (one line, naming the file) when missing or malformed."""
    from migrate.inventory.textfile import read_text
    from migrate.pipeline import read_plan_text

    if not path.is_file():
        raise InputError(f"{path}: no such plan file")
    text, _ = read_text(path)
    return read_plan_text(text, str(path))


@app.command()
@with_sources
def validate(
    sources: dict[str, Any],
    plan_file: Path = typer.Argument(..., metavar="PLAN", help="plan.toml written by `plan` (and edited)."),
    inventory: Optional[Path] = typer.Argument(None, metavar="INVENTORY",
                                               help="A fresh inventory JSON written by `scan`."),
    backup_free_bytes: Optional[int] = typer.Option(None, "--backup-free-bytes", metavar="N",
                                                    help="Free bytes on the backup drive, when the host facts "
                                                    "lack it (or to override them)."),
    fmt: str = typer.Option("table", "--format", "-f", metavar="FORMAT", help="table or json."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", metavar="FILE",
                                          help="Write the report here (default: stdout)."),
    rules_dir: Optional[list[Path]] = RULES_DIR_OPT,
    config: Optional[Path] = CONFIG_OPT,
) -> None:
    """Check a plan against a fresh scan: drift, coverage, simulated step order, disk space, open blockers."""

    def body() -> None:
        check_output(output)  # a bad output path fails before any work is done
        from migrate.cli_assess import config_path
        from migrate.pipeline import assess_inventory, validate_plan
        from migrate.validate.report import FORMATS, render

        if backup_free_bytes is not None and backup_free_bytes < 0:
            raise InputError(f"--backup-free-bytes: {backup_free_bytes} is negative; give the free bytes, as in "
                             "--backup-free-bytes 50000000000")
        if fmt not in FORMATS:
            raise InputError(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
        plan = read_plan(plan_file)
        opts = build_options(inventory, **sources)
        inv = load_or_scan(opts)
        # Assessed with the plan's backup folder: the free-space blocker judges the drive the plan writes to.
        report, _ = assess_inventory(inv, list(rules_dir or []), config_path(config), __version__,
                                     backup_path=plan.backup_path)
        engine = None
        if opts.inventory is None and opts.wants_engine() and inv.engine is not None:
            from migrate.inventory.engine import resolve_host

            engine = resolve_host(opts.host, opts.context)
        result = validate_plan(plan, inv, report, __version__, str(plan_file), backup_free_bytes, engine)
        write_output(render(result, fmt), output)
        if output is not None:
            fails = sum(p.severity == "fail" for p in result.problems)
            typer.echo(f"{'passed' if result.passed else f'failed ({fails} failure(s))'}; report written to "
                       f"{output}", err=True)
        if not result.passed:
            raise typer.Exit(EXIT_FINDINGS)

    guarded(body)
