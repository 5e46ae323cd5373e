"""The `assess` and `rules` commands: the rule catalog applied to an inventory, and the catalog itself."""
from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any, Optional

import typer
from tabulate import tabulate

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
from migrate.errors import EXIT_FINDINGS, InputError
from migrate.model import SEVERITIES

rules_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                        help="List and explain the rules the assessment applies.")
app.add_typer(rules_app, name="rules")

RULES_DIR_OPT = typer.Option(None, "--rules-dir", metavar="DIR", help="A directory of extra rule files (repeatable).")
CONFIG_OPT = typer.Option(None, "--config", metavar="FILE",
                          help="Configuration file (default: ./wsl2-migrate.toml if present).")


def config_path(given: Optional[Path]) -> Optional[Path]:
    """The configuration file: --config, else wsl2-migrate.toml in the current directory when it exists."""
    if given is not None:
        if not given.is_file():
            raise InputError(f"{given}: no such configuration file")
        return given
    default = Path("wsl2-migrate.toml")
    return default if default.is_file() else None


def _fail_on(value: Optional[str]) -> Optional[str]:
    if value is None or value == "none":
        return None
    if value not in SEVERITIES:
        raise InputError(f"--fail-on: {value!r} is not one of none, {', '.join(SEVERITIES)}")
    return value


def _today() -> datetime.date:
    return datetime.date.today()


@app.command()
@with_sources
def assess(
    sources: dict[str, Any],
    inventory: Optional[Path] = typer.Argument(None, metavar="INVENTORY",
                                               help="An inventory JSON written by `scan`."),
    fmt: str = typer.Option("table", "--format", "-f", metavar="FORMAT",
                            help="table, json, markdown, sarif, junit or html."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", metavar="FILE",
                                          help="Write the report here (default: stdout)."),
    fail_on: Optional[str] = typer.Option(None, "--fail-on", metavar="LEVEL",
                                          help="Exit 1 when a finding reaches this severity (info..blocker)."),
    rules_dir: Optional[list[Path]] = RULES_DIR_OPT,
    config: Optional[Path] = CONFIG_OPT,
    show_secrets: bool = typer.Option(False, "--show-secrets", help="Show env and secret-looking label values."),
) -> None:
    """Flag what will break or be lost in the move: a report for people (table, markdown, html) or CI (json, sarif,
    junit)."""

    def body() -> None:
        check_output(output)  # a bad output path fails before any work is done
        from migrate.assess import load_catalog, load_config
        from migrate.plan.assessment import assess_and_plan
        from migrate.render import Format, render

        try:
            form = Format(fmt)
        except ValueError:
            raise InputError(f"--format: {fmt!r} is not one of {', '.join(f.value for f in Format)}") from None
        threshold = _fail_on(fail_on)
        catalog = load_catalog(list(rules_dir or []))
        cfg = load_config(config_path(config), catalog)
        opts = build_options(inventory, **sources)
        inv = load_or_scan(opts)
        report, _ = assess_and_plan(inv, catalog, cfg, _today(), __version__, show_secrets)
        write_output(render(form, report, inv, show_secrets), output)
        if output is not None:
            typer.echo(f"{report.verdict}: {len(report.findings)} findings; report written to {output}", err=True)
        if threshold is not None:
            level = SEVERITIES.index(threshold)
            if any(not f.waived and SEVERITIES.index(f.severity) >= level for f in report.findings):
                raise typer.Exit(EXIT_FINDINGS)

    guarded(body)


@rules_app.command("list")
def rules_list(
    rules_dir: Optional[list[Path]] = RULES_DIR_OPT,
    config: Optional[Path] = CONFIG_OPT,
) -> None:
    """Every rule: id, severity (after configuration), backends and title."""

    def body() -> None:
        from migrate.assess import load_catalog, load_config

        catalog = load_catalog(list(rules_dir or []))
        cfg = load_config(config_path(config), catalog)
        rows = []
        for rule in catalog.rules:
            sev = cfg.severities.get(rule.id, rule.severity)
            disabled = rule.id in cfg.disabled
            rows.append([rule.id, sev + (" (disabled)" if disabled else ""), ",".join(rule.backends), rule.title])
        write_output(tabulate(rows, headers=["id", "severity", "backends", "title"], tablefmt="simple") + "\n",
                     None)

    guarded(body)


@rules_app.command("show")
def rules_show(
    rule_id: str = typer.Argument(..., metavar="ID", help="A rule id, as in LCOW001."),
    rules_dir: Optional[list[Path]] = RULES_DIR_OPT,
) -> None:
    """One rule in full: what it checks, why, how to fix it, references and examples."""

    def body() -> None:
        from migrate.assess import load_catalog
        from migrate.assess.docs import render_rule_md

        catalog = load_catalog(list(rules_dir or []))
        rule = catalog.get(rule_id.upper())
        if rule is None:
            raise InputError(f"rule {rule_id!r}: no such rule (see `wsl2-migrate rules list`)")
        write_output(render_rule_md(rule), None)

    guarded(body)
