"""The secret scrubber never eats a rule's own words: every literal part of every rule's message template is in
the finding its fail examples produce."""
from __future__ import annotations

import re

import pytest

from migrate.assess.catalog import load_catalog
from migrate.assess.evaluate import run_rule
from migrate.assess.facts import Facts
from tests.estimates import assessed

CATALOG = load_catalog()
CASES = [(rule, ex) for rule in CATALOG.rules for ex in rule.examples if ex.expect == "fail"]


@pytest.mark.parametrize(("rule", "example"), CASES, ids=[f"{r.id}-{i}" for i, (r, _) in enumerate(CASES)])
def test_literal_words_survive(rule, example) -> None:
    # The size facts come from the plan's estimate, as in every real assessment.
    estimate = assessed(example.inventory, CATALOG)[0].estimate
    findings = run_rule(rule, example.inventory, Facts(example.inventory, estimate=estimate))
    assert findings
    literals = [part.replace("{{", "{").replace("}}", "}")
                for part in re.split(r"\{[^{}]*\}", rule.message.replace("{{", "\0").replace("}}", "\1"))]
    for finding in findings:
        for part in literals:
            part = part.replace("\0", "{").replace("\1", "}").strip()
            if part:
                assert part in finding.message, (rule.id, part, finding.message)


def test_template_words_stay_and_substituted_secrets_go() -> None:
    from migrate.assess.messages import REDACTED, fill
    from migrate.model import ConfigFile, Inventory, Settings

    inv = Inventory(settings=Settings(wslconfig=ConfigFile(file="C:\\Users\\me\\.wslconfig",
                                                           problems=("line 3: token=s3cr3t is outside any section",))))
    template = "Write each setting as key=value (the api_key=... form), not as {wslconfig.problems}."
    text = fill(template, inv.settings, Facts(inv))
    assert text.startswith("Write each setting as key=value (the api_key=... form), not as line 3: token=")
    assert "s3cr3t" not in text and f"token={REDACTED}" in text
