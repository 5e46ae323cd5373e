"""The assessment told with the plan: the rules run with the plan's estimate, and the report carries the plan's
figures and the things a person must do, so the assessment and the plan tell one story."""
from __future__ import annotations

import dataclasses
import datetime

from migrate.assess.catalog import Catalog
from migrate.assess.config import Config
from migrate.assess.evaluate import assess
from migrate.model import Inventory, Report
from migrate.plan.decide import decide
from migrate.plan.estimate import estimate
from migrate.plan.model import Plan


def assess_and_plan(inv: Inventory, catalog: Catalog, config: Config, today: datetime.date, tool_version: str,
                    show_secrets: bool = False, backup_path: str = "") -> tuple[Report, Plan]:
    """The report (with the plan's sizes, duration and manual items) and the default plan of an inventory."""
    path = backup_path or config.backup_dir
    # Sizes and the backup folder depend on the decisions, not on the findings: the size rules see the plan's.
    sized = estimate(decide(inv, None, tool_version, path))
    report = assess(inv, catalog, config, today, tool_version, show_secrets, estimate=sized)
    plan = decide(inv, report, tool_version, path)
    return with_plan(report, plan), plan


def with_plan(report: Report, plan: Plan) -> Report:
    """The report stating the plan's estimate (the restarts its features need included) and its manual items."""
    est = estimate(plan)
    return dataclasses.replace(report, bytes_to_move=est.backup_bytes, estimated_seconds=est.seconds, estimate=est,
                               actions=plan.switch.manual)
