"""The `fleet` command: many collector bundles (folders or zips) assessed into one report for an IT lead."""
from __future__ import annotations

import datetime
import sys
from pathlib import Path
from typing import Optional

import typer

from migrate import __version__
from migrate.cli import app, guarded
from migrate.errors import InputError
from migrate.fleet.run import Progress


def _progress() -> Optional[Progress]:
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        sys.stderr.write(f"\r  assessed {done}/{total} bundles" + ("\n" if done == total else ""))
        sys.stderr.flush()

    return show


@app.command()
def fleet(
    paths: list[Path] = typer.Argument(..., metavar="PATH...",
                                       help="Bundle folders, bundle zips, or folders holding them (searched at "
                                            "any depth)."),
    output: Path = typer.Option(..., "-o", "--output", metavar="DIR",
                                help="The folder to write index.html, machines/, fleet.csv, fleet.json and "
                                     "waves.csv into."),
    jobs: int = typer.Option(0, "--jobs", "-j", metavar="N", help="Worker processes (default: one per CPU)."),
    wave_size: int = typer.Option(50, "--wave-size", metavar="N", help="At most this many machines per wave."),
    waves: Optional[Path] = typer.Option(None, "--waves", metavar="FILE",
                                         help="An edited waves.csv to keep (default: DIR/waves.csv when present)."),
    fresh_waves: bool = typer.Option(False, "--fresh-waves", help="Ignore DIR/waves.csv and suggest every wave."),
    rules_dir: Optional[list[Path]] = typer.Option(None, "--rules-dir", metavar="DIR",
                                                   help="A directory of extra rule files (repeatable)."),
    config: Optional[Path] = typer.Option(None, "--config", metavar="FILE",
                                          help="Configuration file (default: ./wsl2-migrate.toml if present)."),
    show_secrets: bool = typer.Option(False, "--show-secrets", help="Show secret-looking values in the reports."),
) -> None:
    """Assess every workstation's bundle and roll them up: readiness, blockers, data, platforms, waves."""

    def body() -> None:
        from migrate.assess import load_catalog, load_config
        from migrate.cli_assess import config_path
        from migrate.fleet.discover import find_bundles
        from migrate.fleet.run import run_fleet
        from migrate.fleet.worker import Settings

        if jobs < 0:
            raise InputError(f"--jobs: {jobs} is not 0 (one per CPU) or a positive number")
        if waves is not None and not waves.is_file():
            raise InputError(f"{waves}: no such waves file")
        cfg_path = config_path(config)
        rules = tuple(rules_dir or [])
        load_config(cfg_path, load_catalog(list(rules)))  # a bad catalog or configuration stops here, once
        bundles = find_bundles(list(paths))
        if not bundles:
            raise InputError(f"no bundles under {', '.join(str(p) for p in paths)} (a bundle is a folder with "
                             "manifest.json, engine/ or host/, or a .zip of one)")
        settings = Settings(tool_version=__version__, rules_dirs=rules, config=cfg_path,
                            today=datetime.date.today(), show_secrets=show_secrets, staging=Path())
        result = run_fleet(bundles, output, settings, jobs, wave_size, waves, fresh_waves, _progress())
        for notice in result.notices:
            typer.echo(f"wsl2-migrate: note: {notice}", err=True)
        v = result.fleet.verdicts
        typer.echo(f"{len(result.fleet.machines)} machines: {v['ready']} ready, {v['ready-after-actions']} ready "
                   f"after actions, {v['blocked']} blocked, {v['could-not-read']} could not be read; "
                   f"open {output / 'index.html'}", err=True)

    guarded(body)
