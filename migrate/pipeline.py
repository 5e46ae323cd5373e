"""The pipeline as typed functions: assess, plan, runbook, validate. The CLI parses flags, calls these and prints;
the tests call them directly. Nothing here reads flags, prints or exits."""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migrate.assess.config import Config
from migrate.errors import InputError
from migrate.model import Inventory, Report
from migrate.plan.model import Plan
from migrate.validate.result import Problem, Validation


def assess_inventory(inv: Inventory, rules_dirs: list[Path], config_file: Path | None, tool_version: str,
                     today: datetime.date | None = None, backup_path: str | None = None,
                     show_secrets: bool = False) -> tuple[Report, Config]:
    """The assessment of an inventory with the shipped rules (and any extra rule folders) and a configuration,
    stating the plan's estimate and manual items (the plan made with the same backup path)."""
    from migrate.assess import load_catalog, load_config
    from migrate.plan.assessment import assess_and_plan

    catalog = load_catalog(rules_dirs)
    cfg = load_config(config_file, catalog)
    report, _ = assess_and_plan(inv, catalog, cfg, today or datetime.date.today(), tool_version, show_secrets,
                                backup_path or "")
    return report, cfg


def plan_text(inv: Inventory, report: Report, cfg: Config, tool_version: str, backup_path: str | None,
              previous: str | None) -> tuple[str, list[str]]:
    """plan.toml text for an inventory (keeping a previous plan's edits and comments) and the notices to show."""
    from migrate.plan.decide import decide
    from migrate.plan.planfile import render_plan

    plan = decide(inv, report, tool_version, backup_path or cfg.backup_dir)
    text, notices = render_plan(plan, previous)
    return text, [*plan.problems, *notices]


def read_plan_text(text: str, file: str) -> Plan:
    """A plan from plan.toml text; InputError naming the file (and saying so when it is an inventory)."""
    from migrate.plan.planfile import parse_plan

    if text.lstrip().startswith("{") and '"schema"' in text[:2000]:
        raise InputError(f"{file}: this is an inventory (JSON), not a plan: make one with "
                         f"`wsl2-migrate plan {file} -o plan.toml`")
    return parse_plan(text, file)


@dataclass(frozen=True, slots=True)
class Runbook:
    """A runbook and what the offline checks found in its plan (empty when the plan passed them)."""

    text: str
    problems: tuple[Problem, ...]
    built: bool = True
    """False when the plan's steps cannot be built at all (a value out of range...): --force cannot help."""


def runbook_for(text: str, file: str, tool_version: str, force: bool = False) -> Runbook:
    """The runbook of plan.toml text, after validate's offline checks over the world the plan describes. Failures
    are returned, and the text is '' unless force (then they are listed in the runbook's header)."""
    from migrate.emit.runbook import RunbookMeta, render_runbook
    from migrate.plan.estimate import estimate, estimate_text
    from migrate.plan.planfile import plan_hash
    from migrate.validate.offline import offline_problems, plan_world

    plan = read_plan_text(text, file)
    cons, order, program = offline_problems(plan, plan_world(plan))
    fails = tuple(p for p in (*cons, *order) if p.severity == "fail")
    if program is None or (fails and not force):
        return Runbook("", fails, built=program is not None)
    meta = RunbookMeta(plan_hash=plan_hash(text).removeprefix("sha256:"), tool_version=tool_version,
                       backup_path=plan.backup_path, source_backend=plan.source_backend,
                       problems=tuple(f"{p.subject}: {p.message}" for p in fails),
                       estimate=estimate_text(estimate(plan)),
                       hyperv_engine=plan.hyperv.url if plan.hyperv is not None else "")
    return Runbook(render_runbook(program, meta), fails)


def validate_plan(plan: Plan, inv: Inventory, report: Report, tool_version: str, plan_file: str,
                  backup_free_bytes: int | None, engine: tuple[str, Any] | None = None) -> Validation:
    """Every check of the plan against a fresh inventory and its assessment (docs/validate.md); with the engine
    (URL, TLS) the inventory was just read from, the plan's helper image is probed there."""
    from migrate.validate import validate

    probe: str | None = None
    why = "the inventory was not read from a live engine"
    if engine is not None:
        from migrate.inventory.engine import probe_helper

        platform = "linux" if plan.source_backend == "lcow" else None
        probe = probe_helper(engine[0], engine[1], plan.helper_image, platform)
        why = "the engine does not have it yet; the run pulls it"
    return validate(plan, inv, report, tool_version=tool_version, plan_file=plan_file,
                    backup_free_bytes=backup_free_bytes, helper_probe=probe, helper_not_checked=why)
