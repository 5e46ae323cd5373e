"""The `verify` command: compare two sides (inventory files or live engines) and say what was lost or changed."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer

from migrate import __version__
from migrate.cli import check_output, _progress_printer, app, guarded, read_inventory, write_output
from migrate.errors import EXIT_FINDINGS, InputError
from migrate.model import JSON

ENGINE_SCHEMES = ("unix://", "npipe://", "tcp://", "ssh://", "http://", "https://")
"""A side starting with one of these is a live engine; anything else is an inventory file."""

FORMATS = ("table", "json")
_WIDTH = 60


def is_engine_url(side: str) -> bool:
    """Whether a BEFORE/AFTER argument names a live engine rather than an inventory file."""
    return side.lower().startswith(ENGINE_SCHEMES)


def load_side(side: str) -> Any:
    """The inventory of one side: read from the file, or scanned live with volume digests."""
    if not is_engine_url(side):
        if "://" in side and not Path(side).exists():
            raise InputError(f"{side}: neither an inventory file nor an engine URL ({', '.join(ENGINE_SCHEMES)})")
        return read_inventory(Path(side))
    from migrate.inventory.scan import ScanOptions, scan

    return scan(ScanOptions(host=side, use_engine=True, volume_digests=True), __version__, _progress_printer())


def skipped_from_plan(path: Path) -> dict[str, set[str]]:
    """Objects the plan file leaves behind (strategy 'skip'), by kind."""
    from migrate.inventory.textfile import read_text
    from migrate.plan.planfile import parse_plan
    from migrate.verify.compare import plan_skips

    text, _ = read_text(path)
    return plan_skips(parse_plan(text, str(path)))


def expected_from_plan(path: Path, after: Any) -> dict[tuple[str, str, str], JSON]:
    """What the plan changes on purpose (a committed container's image id), read from the after side."""
    from migrate.inventory.textfile import read_text
    from migrate.plan.manifest import expected_changes
    from migrate.plan.planfile import parse_plan

    text, _ = read_text(path)
    return expected_changes(parse_plan(text, str(path)), after)


def _cell(value: JSON) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = text.replace("\n", "\\n")
    return text if len(text) <= _WIDTH else text[:_WIDTH - 3] + "..."


def render_table(result: Any, before: str, after: str) -> str:
    """People's view: every object that is not equal, one row per difference, then the counts and verdict."""
    from tabulate import tabulate

    rows = []
    unread: dict[str, list[str]] = {}
    for o in result.objects:
        for note in o.notes:
            unread.setdefault(note, []).append(o.name)
        if o.status == "equal":
            continue
        name = f"{o.name[:19]} ({o.label})" if o.label else o.name
        if not o.diffs:
            rows.append([o.kind, name, o.status, "; ".join(o.notes), "", ""])
        for d in o.diffs:
            rows.append([o.kind, name, o.status, d.field, _cell(d.before), _cell(d.after)])
            if d.field == "env":
                rows[-1][3] = "env (names only)"
    lines = [f"verify: before={before} after={after}"]
    if rows:
        lines.append(tabulate(rows, headers=["kind", "name", "status", "field", "before", "after"],
                              tablefmt="simple"))
    for note, names in sorted(unread.items()):
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        lines.append(f"note: {note}: {shown}")
    lines.extend(f"note: {n}" for n in result.notes)
    counts = ", ".join(f"{result.counts.get(s, 0)} {s}" for s in ("equal", "missing", "different", "skipped",
                                                                   "extra"))
    lines.append(f"{counts}: {'PASS' if result.ok else 'FAIL'}")
    return "\n".join(lines) + "\n"


def render_json(result: Any, before: str, after: str) -> str:
    """Machines' view: both sides, ok, counts, notes and every object with its differences."""
    from migrate.verify.compare import result_data

    data = {"before": before, "after": after, **result_data(result)}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


@app.command()
def verify(
    before: str = typer.Argument(..., metavar="BEFORE",
                                 help="Inventory JSON, or engine URL (unix://, npipe://, tcp://, ssh://)."),
    after: str = typer.Argument(..., metavar="AFTER",
                                help="Inventory JSON, or engine URL; a live side is scanned with digests."),
    plan: Optional[Path] = typer.Option(None, "--plan", metavar="FILE",
                                        help="plan.toml: objects it skips are not 'missing'."),
    backup: Optional[Path] = typer.Option(None, "--backup", metavar="DIR", help="The run's backup folder (or the "
                                          "rehearsal's --workdir), with --plan: each copied volume is compared as "
                                          "it was restored (its digest taken before any container started)."),
    fmt: str = typer.Option("table", "--format", "-f", metavar="FORMAT", help="table or json."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", metavar="FILE",
                                          help="Write the result here (default: stdout)."),
) -> None:
    """Compare BEFORE with AFTER object by object; exit 1 when anything is missing or different."""

    def body() -> None:
        check_output(output)  # a bad output path fails before any work is done
        from migrate.verify.compare import compare

        if fmt not in FORMATS:
            raise InputError(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
        skipped = skipped_from_plan(plan) if plan is not None else {}
        if backup is not None and plan is None:
            raise InputError("--backup needs --plan (the plan names the volumes it copied)")
        b, a = load_side(before), load_side(after)
        the_plan = None
        if plan is not None:
            from migrate.inventory.textfile import read_text
            from migrate.plan.planfile import parse_plan

            the_plan = parse_plan(read_text(plan)[0], str(plan))
        if backup is not None and the_plan is not None:
            from migrate.verify.restored import as_restored, restored_digests

            if not backup.is_dir():
                raise InputError(f"{backup}: no such backup folder")
            a = as_restored(a, restored_digests(backup, the_plan))
        from migrate.plan.second import merged_sources

        # An LCOW host's second engine (the Hyper-V VM's) is compared with the new engine too, named as moved.
        b = merged_sources(b, the_plan)
        expected = expected_from_plan(plan, a) if plan is not None else {}
        result = compare(b, a, skipped=skipped, expected=expected)
        render = render_table if fmt == "table" else render_json
        write_output(render(result, before, after), output)
        if not result.ok:
            raise typer.Exit(EXIT_FINDINGS)

    guarded(body)
