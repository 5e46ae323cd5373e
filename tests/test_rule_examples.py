"""Every rule's pass and fail examples, run by one shared test (the catalog's executable documentation)."""
from __future__ import annotations

import pytest

from migrate.assess.catalog import load_catalog
from migrate.assess.evaluate import run_rule
from migrate.assess.facts import Facts
from tests.estimates import assessed

CATALOG = load_catalog()
CASES = [(rule, n, ex) for rule in CATALOG.rules for n, ex in enumerate(rule.examples, 1)]


@pytest.mark.parametrize(("rule", "n", "example"), CASES, ids=[f"{r.id}-{n}-{e.expect}" for r, n, e in CASES])
def test_rule_example(rule, n, example) -> None:
    # The size facts come from the plan's estimate, as in every real assessment.
    estimate = assessed(example.inventory, CATALOG)[0].estimate
    findings = run_rule(rule, example.inventory, Facts(example.inventory, estimate=estimate))
    got = "fail" if findings else "pass"
    assert got == example.expect, (
        f"{rule.id} example {n} ({example.note or example.data}) expected {example.expect}, got {got}: "
        f"{[f.message for f in findings]}")
    for f in findings:
        assert f.rule == rule.id and f.severity == rule.severity
        assert "{" not in f.message and "}" not in f.message, f.message


def test_examples_exist() -> None:
    assert len(CASES) >= 2 * len(CATALOG.rules)
