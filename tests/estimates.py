"""The pipeline's assessment for tests: the report with the plan's estimate, and the plan."""
from __future__ import annotations

import datetime

from migrate.assess import Catalog, Config
from migrate.model import Inventory, Report
from migrate.plan.assessment import assess_and_plan
from migrate.plan.model import Plan

TODAY = datetime.date(2025, 6, 1)


def assessed(inv: Inventory, catalog: Catalog, config: Config | None = None) -> tuple[Report, Plan]:
    """assess_and_plan with the default configuration and a fixed date."""
    return assess_and_plan(inv, catalog, config or Config(), TODAY, "test")
