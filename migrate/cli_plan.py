"""The `plan`, `runbook` and `run` commands: an editable plan.toml, the PowerShell runbook, or both at once."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

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
from migrate.cli_assess import CONFIG_OPT, RULES_DIR_OPT, config_path
from migrate.datafiles import data_root
from migrate.errors import EXIT_FINDINGS, InputError
from migrate.units import count

BACKUP_OPT = typer.Option(None, "--backup-path", metavar="FOLDER",
                          help="Backup folder on the Windows machine (default: from "
                          "the configuration's backup_dir, else C:\\wsl2-migrate-backup).")


def _assess(inv: Any, rules_dir: Optional[list[Path]], config: Optional[Path],
            backup_path: Optional[str] = None) -> tuple[Any, Any]:
    from migrate.pipeline import assess_inventory

    return assess_inventory(inv, list(rules_dir or []), config_path(config), __version__, backup_path=backup_path)


def make_plan(inv: Any, report: Any, cfg: Any, backup_path: Optional[str],
              previous: Optional[str]) -> tuple[str, list[str]]:
    """plan.toml text for an inventory (keeping a previous plan's edits) and the notices to print."""
    from migrate.pipeline import plan_text

    return plan_text(inv, report, cfg, __version__, backup_path, previous)


def make_runbook(text: str, file: str, force: bool = False) -> str:
    """The runbook for plan.toml text; exit 1 naming each problem when validate's offline checks reject the plan
    (unless force: then the runbook lists them in its header)."""
    from migrate.pipeline import runbook_for

    result = runbook_for(text, file, __version__, force)
    if not result.built:
        # Not a plan that fails a check but one that describes no program: bad input, whatever --force says.
        first = result.problems[0] if result.problems else None
        raise InputError(f"{file}: {first.subject}: {first.message}" if first else f"{file}: its steps cannot be built")
    for p in result.problems:
        typer.echo(f"{file}: {p.subject}: {p.message}", err=True)
    if not result.text:
        typer.echo(f"{file}: the plan does not pass validate's offline checks ({len(result.problems)} problem(s) "
                   "above): fix them in the plan, or write the runbook anyway with --force", err=True)
        raise typer.Exit(EXIT_FINDINGS)
    return result.text


def _summary(text: str) -> str:
    from migrate.plan.estimate import estimate, estimate_text
    from migrate.plan.planfile import parse_plan

    plan = parse_plan(text)

    def counts(engine: Any) -> str:
        parts = []
        for section in ("images", "volumes", "networks", "containers"):
            items = getattr(engine, section)
            kept = sum(1 for x in items if x.strategy != "skip")
            parts.append(f"{kept}/{count(len(items), section[:-1])}")
        return ", ".join(parts)

    # An LCOW host's second engine moves too: its objects are counted apart, never left out of the figures.
    second = "" if plan.hyperv is None else f"; Hyper-V engine: {counts(plan.hyperv)} migrated"
    return f"plan: {counts(plan)} migrated{second}; {estimate_text(estimate(plan))}"


@app.command()
@with_sources
def plan(
    sources: dict[str, Any],
    inventory: Optional[Path] = typer.Argument(None, metavar="INVENTORY",
                                               help="An inventory JSON written by `scan`."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", metavar="FILE",
                                          help="Write plan.toml here (default: stdout). "
                                          "An existing plan there is re-planned: your edits and comments stay."),
    fresh: bool = typer.Option(False, "--fresh", help="Ignore an existing plan at --output."),
    backup_path: Optional[str] = BACKUP_OPT,
    rules_dir: Optional[list[Path]] = RULES_DIR_OPT,
    config: Optional[Path] = CONFIG_OPT,
) -> None:
    """Decide what happens to every image, volume, network and container: an editable, commented plan.toml."""

    def body() -> None:
        check_output(output)  # a bad output path fails before any work is done
        from migrate.inventory.textfile import read_text

        opts = build_options(inventory, **sources)
        inv = load_or_scan(opts)
        report, cfg = _assess(inv, rules_dir, config, backup_path)
        previous = None
        if output is not None and output.is_file() and not fresh:
            previous, _ = read_text(output)
        text, notices = make_plan(inv, report, cfg, backup_path, previous)
        clear = inv.secrets.mode != "digest"  # secret labels and options go into the create arguments as read
        write_output(text, output, private=clear)
        if clear and output is not None and str(output) != "-":
            typer.echo(f"warning: the inventory holds secret values in clear; {output} may too (written 0600)",
                       err=True)
        for n in notices:
            typer.echo(f"note: {n}", err=True)
        if output is not None:
            typer.echo(f"{_summary(text)}; written to {output}", err=True)

    guarded(body)


@app.command()
def runbook(
    plan_file: Path = typer.Argument(..., metavar="PLAN", help="plan.toml written by `plan` (and edited)."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", metavar="FILE",
                                          help="Write the .ps1 here (default: stdout)."),
    force: bool = typer.Option(False, "--force", help="Write the runbook even when validate's offline checks "
                               "reject the plan (the problems are listed in its header)."),
) -> None:
    """Generate the PowerShell runbook (5.1 and 7.x) that carries out a plan: -WhatIf, resume, verify, rollback."""

    def body() -> None:
        check_output(output)  # a bad output path fails before any work is done
        from migrate.inventory.textfile import read_text

        if not plan_file.is_file():
            raise InputError(f"{plan_file}: no such plan file")
        text, _ = read_text(plan_file)
        write_output(make_runbook(text, str(plan_file), force), output)
        if output is not None:
            typer.echo(f"runbook written to {output}; check the plan against the machine with `wsl2-migrate "
                       f"validate {plan_file}`, then dry-run it there: {output} -WhatIf", err=True)

    guarded(body)


def sample_bundle(name: str) -> Path:
    """The bundled sample of that name (samples/NAME)."""
    root = Path(str(data_root("migrate._samples", "samples")))
    names = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))
    if name not in names:
        raise InputError(f"--sample: no sample {name!r} (samples: {', '.join(names)})")
    return root / name


@app.command()
@with_sources
def run(
    sources: dict[str, Any],
    out: Path = typer.Option(..., "--out", metavar="DIR",
                             help="Directory for inventory.json, assessment.md, plan.toml, migrate.ps1."),
    inventory: Optional[Path] = typer.Argument(None, metavar="INVENTORY",
                                               help="An inventory JSON written by `scan`."),
    sample: Optional[str] = typer.Option(None, "--sample", metavar="NAME",
                                         help="Use a bundled sample (hyperv-2x, lcow, near-wsl2)."),
    backup_path: Optional[str] = BACKUP_OPT,
    rules_dir: Optional[list[Path]] = RULES_DIR_OPT,
    config: Optional[Path] = CONFIG_OPT,
    with_secrets: bool = typer.Option(False, "--with-secrets", help="Keep secret values as read in the inventory, "
                                      "plan and runbook (written 0600); by default they are keyed digests."),
) -> None:
    """The main job in one command: scan, assess, plan and write the runbook into one directory."""

    def body() -> None:
        from migrate.model import dumps
        from migrate.render import Format, render

        from migrate.output import check_folder, write_folder

        check_folder(out)  # before a scan that may take minutes
        src_bundle = sources["bundle"]
        if sample is not None:
            if src_bundle is not None or inventory is not None or sources["host"]:
                raise InputError("--sample: give either a sample or your own input, not both")
            src_bundle = sample_bundle(sample)
        opts = build_options(inventory, **{**sources, "bundle": src_bundle})
        opts.with_secrets = with_secrets
        inv = load_or_scan(opts)
        if sample is not None:
            from migrate.inventory.scan import relabel

            inv = relabel(inv, src_bundle, f"samples/{sample}")  # not the folder the package is installed in
        report, cfg = _assess(inv, rules_dir, config, backup_path)
        previous = None
        if (out / "plan.toml").is_file():
            from migrate.inventory.textfile import read_text

            previous, _ = read_text(out / "plan.toml")
        plan_text, notices = make_plan(inv, report, cfg, backup_path, previous)
        script = make_runbook(plan_text, str(out / "plan.toml"))
        # Everything is computed before the first file is written: a failure leaves no half-written set.
        files = {"inventory.json": dumps(inv), "assessment.md": render(Format.MARKDOWN, report, inv, False),
                 "plan.toml": plan_text, "migrate.ps1": script}
        clear = inv.secrets.mode != "digest"  # --with-secrets, or an inventory that holds values as read
        write_folder(out, files, private=files if clear else ())
        for n in notices:
            typer.echo(f"note: {n}", err=True)
        if clear:
            typer.echo(f"warning: secret values are in clear in {out} (files written 0600: only you can read them)",
                       err=True)
        typer.echo(f"{report.verdict}: {len(report.findings)} findings. {_summary(plan_text)}", err=True)
        for name in files:
            typer.echo(str(out / name))
        typer.echo(f"next: read {out / 'assessment.md'}; edit {out / 'plan.toml'} and check it with `wsl2-migrate "
                   f"validate {out / 'plan.toml'}`; regenerate the runbook with `wsl2-migrate runbook "
                   f"{out / 'plan.toml'} -o {out / 'migrate.ps1'}`; then on Windows run migrate.ps1 -WhatIf", err=True)

    guarded(body)
