"""Every "the plan ..." of every rule is a promise the program keeps (issue 10).

For each rule: what its message and fix write right after "the plan" must be something its plan kind does
(migrate/assess/kinds.py `says`), and for each of its fail examples the program built from that example's plan has
the steps the kind maps to, carrying the rule's id (or the subject gets the kind's decision, or a named manual item
lists it). The filled messages of the findings are held to the same words.
"""
from __future__ import annotations

import dataclasses
import re

import pytest

from migrate.assess import load_catalog
from migrate.assess.catalog import load_rule_file
from migrate.assess.kinds import ANY_KIND_SAYS, KINDS, PlanKind, spec
from migrate.errors import InputError
from migrate.model import Finding
from migrate.plan.build import build_program
from migrate.plan.model import Plan
from migrate.plan.steps import Program
from tests.estimates import assessed

CATALOG = load_catalog()

PENDING: set[str] = set()
"""Rules whose text promises a step not built yet; they fail the check below, and
test_pending_rules_still_promise_a_missing_step says so (HOST006 and HOST010 left it with the WSL steps)."""

_THE_PLAN = re.compile(r"(?i)\bthe plan\b(?!\.toml)")
_NOT_A_PROMISE = {"of", "in", "run", "running", "start", "starting", "with"}
"""Words before "the plan" that make it the object, not the subject: "part of the plan", "run the plan"."""


def promises(text: str) -> list[str]:
    """What the text writes right after each "the plan" that says what the plan does."""
    out = []
    for m in _THE_PLAN.finditer(text):
        before = re.findall(r"[A-Za-z']+", text[:m.start()])
        if before and before[-1].lower() in _NOT_A_PROMISE:
            continue
        after = re.split(r"[;:(]|\.(?:\s|$)", text[m.end():], maxsplit=1)[0]
        out.append(after[:60].strip().lower())
    return out


def broken_promises(rule_plan: str, text: str) -> list[str]:
    says = spec(rule_plan).says + ANY_KIND_SAYS
    return [p for p in promises(text) if not any(p.startswith(s) for s in says)]


def test_the_promise_reader_finds_promises_and_skips_mentions() -> None:
    text = ("The plan writes it from memoryMiB. Let the plan commit it; run the plan as that user, keep part of "
            "the plan, edit plan.toml, the plan's pull step.")
    assert promises(text) == ["writes it from memorymib", "commit it", "'s pull step"]
    assert broken_promises("write-wslconfig", "The plan updates WSL.") == ["updates wsl"]
    assert broken_promises("write-wslconfig", "The plan writes it; the plan does not copy it.") == []


@pytest.mark.parametrize("rule", CATALOG.rules, ids=lambda r: r.id)
def test_every_sentence_about_the_plan_is_one_its_kind_keeps(rule) -> None:
    broken = broken_promises(rule.plan, f"{rule.message} {rule.fix}")
    if rule.id in PENDING:
        return
    assert broken == [], (f"{rule.id} ({rule.plan}) says the plan {broken}: only "
                          f"{spec(rule.plan).says + ANY_KIND_SAYS} are what its kind does")


def test_pending_rules_still_promise_a_missing_step() -> None:
    """When the Windows side lands these steps, their kinds map to them: drop the rule from PENDING."""
    for rule in CATALOG.rules:
        if rule.id in PENDING:
            assert broken_promises(rule.plan, f"{rule.message} {rule.fix}"), rule.id


def _subject_strategy(plan: Plan, f: Finding, section: str) -> str:
    for obj in getattr(plan, section):
        names = {getattr(obj, "name", "")} if section != "images" else \
            {*obj.tags[:1], obj.id.removeprefix("sha256:")[:12]}
        if f.subject in names:
            return obj.strategy
    return "(no decision)"


def kept(rule_id: str, kind: str, found: list[Finding], plan: Plan, program: Program) -> list[str]:
    """What the program lacks of what the kind promises for these findings (empty: every promise is kept)."""
    s = spec(kind)
    missing = []
    for entry in s.steps:
        prefixes = entry.split("|")
        if not any(st.id.startswith(p) and rule_id in st.findings for st in program.steps for p in prefixes):
            missing.append(f"a step {entry} carrying {rule_id}")
    if s.decision is not None:
        section, strategy = s.decision
        for f in found:
            got = _subject_strategy(plan, f, section)
            if got != strategy:
                missing.append(f"{section} {f.subject} with strategy {strategy} (has {got})")
    if s.manual:
        check = program.step("preflight/check-host").op
        if not any(item.startswith(f"{rule_id}: ") for item in check.manual):  # type: ignore[union-attr]
            missing.append(f"a manual item {rule_id} in check-host")
        if rule_id not in program.step("preflight/check-host").findings:
            missing.append(f"check-host carrying {rule_id}")
    return missing


CASES = [(rule, n, ex) for rule in CATALOG.rules for n, ex in enumerate(rule.examples, 1) if ex.expect == "fail"]


@pytest.mark.parametrize(("rule", "n", "example"), CASES, ids=[f"{r.id}-{n}" for r, n, _ in CASES])
def test_the_program_of_every_fail_example_has_what_the_kind_promises(rule, n, example) -> None:
    report, plan = assessed(example.inventory, CATALOG)
    found = [f for f in report.findings if f.rule == rule.id]
    assert found, f"{rule.id} example {n} gives no finding through the whole pipeline"
    program = build_program(plan)
    missing = kept(rule.id, rule.plan, found, plan, program)
    if rule.id in PENDING:
        return
    assert missing == [], f"{rule.id} example {n} ({rule.plan}): the program lacks {missing}"
    for f in found:
        assert broken_promises(rule.plan, f.message) == [], f.message


def test_the_check_fails_when_the_kind_promises_a_step_the_program_lacks() -> None:
    """The same example under another kind: a commit promise with nothing committed is caught."""
    rule = CATALOG.get("CTR013")
    example = next(e for e in rule.examples if e.expect == "fail")
    report, plan = assessed(example.inventory, CATALOG)
    found = [f for f in report.findings if f.rule == "CTR013"]
    program = build_program(plan)
    assert kept("CTR013", "recreate-container", found, plan, program) == []
    assert kept("CTR013", "commit-container", found, plan, program) == ["a step backup/commit/ carrying CTR013"]
    assert kept("CTR013", "skip-container", found, plan, program) == ["containers dind with strategy skip (has "
                                                                      "recreate)"]
    assert kept("CTR013", "manual", found, plan, program) == ["a manual item CTR013 in check-host",
                                                              "check-host carrying CTR013"]
    bare = dataclasses.replace(plan, containers=tuple(dataclasses.replace(c, findings=()) for c in plan.containers))
    assert kept("CTR013", "recreate-container", found, bare, build_program(bare)) == [
        "a step restore/create/|restore/compose/ carrying CTR013"]


def test_every_kind_says_what_it_does_and_maps_to_something() -> None:
    for kind, s in KINDS.items():
        assert s.does, kind
        if kind is not PlanKind.NONE:
            assert s.manual or s.steps or s.decision, f"{kind} maps to no step, decision or manual item"
            assert s.manual or s.says, f"{kind}: what may a rule say the plan does?"


def test_a_rule_with_an_unknown_kind_is_refused_at_load() -> None:
    text = (CATALOG.get("CTR013").source and open(CATALOG.get("CTR013").source, encoding="utf-8").read())
    bad = text.replace('plan = "recreate-container"', 'plan = "recreate-containr"', 1)
    with pytest.raises(InputError) as err:
        load_rule_file("org/containers.toml", bad.encode())
    msg = err.value.message
    assert msg.startswith("org/containers.toml: rule CTR008: plan kind 'recreate-containr' is not one of none, "
                          "manual,"), msg
    assert "\n" not in msg


def test_the_rule_format_doc_lists_the_kinds_as_generated() -> None:
    from pathlib import Path

    from migrate.assess.kinds import render_kinds_md

    doc = (Path(__file__).resolve().parent.parent / "docs" / "rule-format.md").read_text(encoding="utf-8")
    section = doc.split("## Plan kinds", 1)[1].split("\n## ", 1)[0]
    table = section[section.index("| kind |"):].split("\n\n", 1)[0].rstrip("\n") + "\n"
    assert table == render_kinds_md(), "docs/rule-format.md's table of plan kinds is stale: paste render_kinds_md()"
    used = {r.plan for r in CATALOG.rules}
    assert used <= {k.value for k in PlanKind}
