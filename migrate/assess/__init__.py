"""Assess stage of wsl2-migrate: a data-driven rule catalog run over an inventory, giving a Report."""
from __future__ import annotations

from migrate.assess.catalog import Catalog, Example, Rule, load_catalog
from migrate.assess.config import Config, Waiver, load_config
from migrate.assess.docs import render_rules_md
from migrate.assess.evaluate import assess, run_rule
from migrate.assess.facts import Facts

__all__ = ["Catalog", "Config", "Example", "Facts", "Rule", "Waiver", "assess", "load_catalog", "load_config",
           "render_rules_md", "run_rule"]
