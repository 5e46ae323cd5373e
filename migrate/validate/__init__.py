"""Validate a plan before the day: drift, coverage, step order (simulated), resources and open blockers."""
from __future__ import annotations

from migrate.plan.gcpause import gc_paused
from migrate.model import Inventory, Report, fingerprint
from migrate.plan.decide import decide
from migrate.plan.model import Plan
from migrate.validate.coverage import coverage
from migrate.validate.drift import drift
from migrate.validate.helper import helper_problems
from migrate.validate.offline import offline_problems
from migrate.validate.resources import estimate, resource_problems, resource_summary
from migrate.validate.result import CHECKS, SCHEMA, Check, Problem, Resources, Validation, status_of
from migrate.validate.state import initial_world

__all__ = ["CHECKS", "SCHEMA", "Check", "Problem", "Resources", "Validation", "validate"]


@gc_paused
def validate(plan: Plan, inv: Inventory, report: Report, *, tool_version: str, plan_file: str = "",
             backup_free_bytes: int | None = None, helper_probe: str | None = None,
             helper_not_checked: str = "the inventory was not read from a live engine") -> Validation:
    """Every check of the plan against a fresh inventory and its assessment, and the helper probe's output (None:
    not probed, for the reason given); pure."""
    fresh = decide(inv, report, tool_version, plan.backup_path)
    problems: dict[str, list[Problem]] = {name: [] for name in CHECKS}
    summaries: dict[str, str] = {}

    problems["drift"] = drift(plan, inv, fresh)
    summaries["drift"] = ("inventory unchanged since the plan was made" if not problems["drift"]
                          else f"{sum(p.severity == 'fail' for p in problems['drift'])} change(s) since the plan "
                               "was made")

    problems["coverage"] = coverage(plan, inv, fresh)
    kept = sum(1 for s in ("images", "volumes", "networks", "containers") for x in getattr(plan, s)
               if x.strategy != "skip")
    summaries["coverage"] = f"{kept} object(s) migrated, every need of a kept container covered" \
        if not problems["coverage"] else f"{len(problems['coverage'])} object(s) uncovered or dropped"

    problems["consistency"], problems["order"], program = offline_problems(plan, initial_world(inv))
    steps = list(program.steps) if program is not None else []
    summaries["consistency"] = "the plan agrees with itself" if not problems["consistency"] else \
        f"{len(problems['consistency'])} contradiction(s) in the plan"
    fails = sum(p.severity == "fail" for p in problems["order"])
    summaries["order"] = (f"{len(steps)} steps simulated; every input exists when its step runs and the target "
                          "ends with everything the plan migrates") if not fails else \
        f"{len(steps)} steps simulated; {fails} missing input(s) or final-state gap(s)"

    res = estimate(plan, inv, backup_free_bytes)
    problems["resources"] = resource_problems(res, plan.backup_path) + \
        helper_problems(plan, helper_probe, helper_not_checked)
    summaries["resources"] = resource_summary(res)

    for f in report.findings:
        if f.severity == "blocker" and not f.waived:
            problems["blockers"].append(Problem("blockers", "fail", f"{f.subject_kind} {f.subject}",
                                                f"{f.rule}: {f.title}"))
    summaries["blockers"] = "no open blocker" if not problems["blockers"] else \
        f"{len(problems['blockers'])} open blocker(s): fix or waive them"

    checks = tuple(Check(name, status_of(problems[name]), summaries[name]) for name in CHECKS)
    ordered = tuple(p for name in CHECKS for p in problems[name])
    return Validation(plan_file=plan_file, plan_fingerprint=plan.inventory_fingerprint,
                      inventory_fingerprint=fingerprint(inv), checks=checks, problems=ordered, resources=res,
                      steps=len(steps))
