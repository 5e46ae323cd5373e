"""One bundle in one worker process: scan, assess, write its JSON report and page, return its fleet row."""
from __future__ import annotations

import datetime
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migrate.errors import MigrateError
from migrate.fleet.machine import HostSummary, Machine, summarize_host, summarize_report


@dataclass(frozen=True, slots=True)
class Settings:
    """What every worker needs to assess a bundle as `assess` would."""

    tool_version: str
    rules_dirs: tuple[Path, ...]
    config: Path | None
    today: datetime.date
    show_secrets: bool
    staging: Path = Path()
    """Where pages are written, as pages/INDEX.json and pages/INDEX.html, before the run names them."""


_STATE: dict[str, Any] = {}
"""Per process: the settings, the catalog and the configuration, loaded once."""


def init(settings: Settings) -> None:
    """Load the catalog and configuration once per worker (already there when the worker was forked)."""
    from migrate.assess import load_catalog, load_config

    if _STATE.get("settings") == settings:
        return
    catalog = load_catalog(list(settings.rules_dirs))
    _STATE.update(settings=settings, catalog=catalog, config=load_config(settings.config, catalog))


def bundle_name(bundle: str) -> str:
    """A name for a bundle that could not be read: its folder or zip file name."""
    p = Path(bundle)
    return p.stem if p.suffix.lower() == ".zip" else p.name


def _write(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def assess_bundle(task: tuple[int, str]) -> Machine:
    """The row of one bundle; a bundle that cannot be read is a row with its error, never an exception."""
    from migrate.inventory.scan import ScanOptions, scan
    from migrate.plan.assessment import assess_and_plan
    from migrate.render import html, jsonout

    index, bundle = task
    settings: Settings = _STATE["settings"]
    fallback = bundle_name(bundle)
    try:
        inv = scan(ScanOptions(bundle=Path(bundle), use_engine=False), settings.tool_version)
        report, _ = assess_and_plan(inv, _STATE["catalog"], _STATE["config"], settings.today, settings.tool_version,
                                    settings.show_secrets)
        doc = jsonout.render(report, inv, settings.show_secrets)
        page = html.render(report, inv, settings.show_secrets)
        pages = settings.staging / "pages"
        _write(pages / f"{index}.json", doc)
        _write(pages / f"{index}.html", page)
        # The row is read back from the report as written: the fleet's numbers are the report's numbers.
        return Machine(index=index, bundle=bundle, host=summarize_host(inv, fallback),
                       report=summarize_report(json.loads(doc)), pages=True)
    except MigrateError as exc:
        return Machine(index=index, bundle=bundle, host=HostSummary(name=fallback), error=exc.message)
    except RecursionError:
        return Machine(index=index, bundle=bundle, host=HostSummary(name=fallback),
                       error=f"{bundle}: nested too deeply to read")
    except Exception as exc:  # one bundle is the boundary: a bug there must not stop the fleet
        return Machine(index=index, bundle=bundle, host=HostSummary(name=fallback),
                       error=f"{bundle}: internal error ({type(exc).__name__}: {str(exc)[:200]})")


def worker_count(jobs: int) -> int:
    """Worker processes: jobs when given, else one per CPU."""
    return jobs if jobs > 0 else (os.cpu_count() or 1)
