"""One story from assessment to runbook (issue 10): for each sample, the assessment (JSON and Markdown), plan.toml,
`validate`, `run`'s summary and the runbook (its header and its free-space checks) state the same sizes, the same
duration and the same things a person must do."""
from __future__ import annotations

import datetime
import shutil
import json
from pathlib import Path

import pytest

from migrate.assess import Config, load_catalog
from migrate.cli_plan import _summary
from migrate.pipeline import runbook_for
from migrate.plan.assessment import assess_and_plan
from migrate.plan.build import build_program
from migrate.plan.planfile import parse_plan, render_plan
from migrate.render import Format, render
from migrate.units import human_bytes, human_duration
from migrate.validate import validate
from tests.test_golden_reports import _inventory

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ("hyperv-2x", "lcow", "near-wsl2")
CATALOG = load_catalog()


@pytest.fixture(scope="module", params=SAMPLES)
def story(request):
    inv = _inventory(request.param)
    report, plan = assess_and_plan(inv, CATALOG, Config(), datetime.date(2026, 11, 28), "test")
    text, _ = render_plan(plan)
    return request.param, inv, report, text


def test_every_part_states_the_same_sizes_and_duration(story) -> None:
    sample, inv, report, text = story
    est = report.estimate
    assert est is not None
    told: dict[str, tuple] = {}
    doc = json.loads(render(Format.JSON, report, inv))
    told["report json"] = (doc["bytes_to_move"], doc["estimate"]["wsl_disk_bytes"], doc["estimated_seconds"],
                           tuple(doc["estimate"]["unknown"]))
    plan = parse_plan(text)
    told["plan.toml"] = (plan.backup_bytes, plan.wsl_disk_bytes, plan.estimated_seconds, plan.unknown_sizes)
    res = validate(plan, inv, report, tool_version="test").resources
    told["validate"] = (res.backup_bytes, res.wsl_disk_bytes, res.estimated_seconds, res.unknown)
    program = build_program(plan)
    check = program.step("preflight/check-host").op
    backup, disk = check.free_space  # type: ignore[union-attr]
    # Unknown sizes are unknown on the day too: the runbook's check asks instead of passing, on the known bytes.
    assert backup.unknown == disk.unknown == bool(est.unknown)
    told["runbook check"] = (backup.bytes, disk.bytes, plan.estimated_seconds, plan.unknown_sizes)
    assert len(set(told.values())) == 1, told
    assert (est.backup_bytes, est.wsl_disk_bytes, est.seconds, est.unknown) == told["plan.toml"]
    assert (backup.folder, disk.folder) == ("backup", est.wsl_disk_folder)

    # The words people read say the same figures.
    script = runbook_for(text, "plan.toml", "test", force=True).text
    header = next(line for line in script.splitlines() if "Estimate:" in line)
    assert f"({est.backup_bytes} bytes)" in header and f"({est.wsl_disk_bytes} bytes)" in header
    assert f"({est.seconds} s)" in header
    summary = _summary(text)
    assert f"({est.backup_bytes} bytes)" in summary and f"({est.seconds} s)" in summary
    markdown = render(Format.MARKDOWN, report, inv)
    row = next(line for line in markdown.splitlines() if line.startswith("| Data to move |"))
    assert row.startswith(f"| Data to move | {human_bytes(est.backup_bytes)}")
    assert human_bytes(est.wsl_disk_bytes) in row
    duration = next(line for line in markdown.splitlines() if line.startswith("| Estimated duration |"))
    assert human_duration(est.seconds) in duration
    assert est.restarts_text().replace("'", "&#39;") in duration.replace("'", "&#39;")  # the possible one too
    assert est.restarts_text() in header and est.restarts_text() in summary


@pytest.mark.parametrize("install", ["", "install", "update", "msi"])
def test_the_restarts_every_part_states_are_the_programs_reboot_steps(story, install: str) -> None:
    """A restart the runbook may make is stated by every report; one it always makes is counted in the duration."""
    import dataclasses

    from migrate.plan.actions import Reboot
    from migrate.plan.estimate import estimate
    from migrate.validate.resources import resource_summary

    sample, inv, report, text = story
    plan = parse_plan(text)
    switch = dataclasses.replace(plan.switch, wsl_install="" if install == "msi" else install,
                                 wsl_msi="C:\\Installers\\wsl.msi" if install == "msi" else "")
    plan = dataclasses.replace(plan, switch=switch)
    reboots = [s.id for s in build_program(plan).steps if isinstance(s.op, Reboot)]
    est = estimate(plan)
    # switch/reboot follows the features (always asked for), switch/reboot-wsl only an installer exiting 3010.
    assert est.reboots == reboots.count("switch/reboot")
    assert est.reboots_possible == reboots.count("switch/reboot-wsl") == (install in ("install", "msi"))
    words = est.restarts_text()
    assert bool(words) == bool(reboots)
    if est.reboots_possible:
        assert "if WSL's installation asks for one" in words
    text2, _ = render_plan(plan)
    script = runbook_for(text2, "plan.toml", "test", force=True).text
    header = next(line for line in script.splitlines() if "Estimate:" in line)
    res = validate(plan, inv, report, tool_version="test").resources
    for what, said in (("runbook header", header), ("run summary", _summary(text2)),
                       ("validate", resource_summary(res))):
        assert words in said, what


def test_every_part_lists_the_same_things_to_do_by_hand(story) -> None:
    sample, inv, report, text = story
    plan = parse_plan(text)
    check = build_program(plan).step("preflight/check-host").op
    assert report.actions == plan.switch.manual == check.manual  # type: ignore[union-attr]
    assert report.actions, sample
    markdown = render(Format.MARKDOWN, report, inv)
    verdict = markdown.split("## Summary", 1)[0]
    listed = verdict.split("### What you must do", 1)[1].split("###", 1)[0]
    assert len([line for line in listed.splitlines() if line.startswith("- ")]) == len(report.actions)
    # What a person must do comes before what the plan does.
    assert verdict.index("### What you must do") < verdict.index("### What the plan does for you")


def test_unknown_sizes_are_named_never_zero() -> None:
    inv = _inventory("lcow")
    report, plan = assess_and_plan(inv, CATALOG, Config(), datetime.date(2026, 11, 28), "test")
    unknown = {f"volume {v.name}" for v in inv.volumes if v.size is None}
    assert unknown and set(report.estimate.unknown) == unknown  # type: ignore[union-attr]
    markdown = render(Format.MARKDOWN, report, inv)
    assert "unknown sizes (volume" in markdown and "at least" in markdown
    result = validate(plan, inv, report, tool_version="test")
    assert {c.name: c.status for c in result.checks}["resources"] == "warn"


def test_the_backups_go_to_the_roomiest_drive_when_c_is_short() -> None:
    import dataclasses

    inv = _inventory("hyperv-2x")
    report, plan = assess_and_plan(inv, CATALOG, Config(), datetime.date(2026, 11, 28), "test")
    assert plan.backup_path == "C:\\wsl2-migrate-backup"  # 41.9 GB free on C: is room enough
    need = plan.backup_bytes + plan.wsl_disk_bytes
    drives = tuple(dataclasses.replace(d, free_bytes=need - 1) if d.name == "C" else d for d in inv.host.drives)
    short = dataclasses.replace(inv, host=dataclasses.replace(inv.host, drives=drives))
    report, plan = assess_and_plan(short, CATALOG, Config(), datetime.date(2026, 11, 28), "test")
    assert plan.backup_path == "D:\\wsl2-migrate-backup"
    assert report.estimate.backup_folder == plan.backup_path  # type: ignore[union-attr]
    assert not [f for f in report.findings if f.rule == "HOST008"]  # C: still holds the new WSL disk
    # A configured folder is never moved.
    _, kept = assess_and_plan(short, CATALOG, Config(backup_dir="C:\\mine"), datetime.date(2026, 11, 28), "test")
    assert kept.backup_path == "C:\\mine"
    no_room = tuple(dataclasses.replace(d, free_bytes=1) for d in inv.host.drives)
    full = dataclasses.replace(inv, host=dataclasses.replace(inv.host, drives=no_room))
    report, plan = assess_and_plan(full, CATALOG, Config(), datetime.date(2026, 11, 28), "test")
    assert plan.backup_path == "C:\\wsl2-migrate-backup"
    host008 = next(f for f in report.findings if f.rule == "HOST008")
    assert "drive C: needs" in host008.message and "the backups" in host008.message and \
        "the new WSL disk" in host008.message


def test_the_readme_shows_the_verdict_the_hyperv_sample_gets() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    excerpt = readme.split("### What the assessment says", 1)[1].split("```markdown\n", 1)[1].split("\n```", 1)[0]
    golden = (ROOT / "tests" / "golden" / "hyperv-2x.markdown").read_text(encoding="utf-8").splitlines()
    lines = excerpt.splitlines()
    verdict = lines[:lines.index("| Item | Value |")]
    start = golden.index("## Verdict")
    assert golden[start:start + len(verdict)] == verdict, "README.md's excerpt is stale: copy the golden's verdict"
    for row in lines[len(verdict):]:
        assert row in golden, row


def test_every_promise_of_every_finding_of_the_sample_is_a_runbook_step(story) -> None:
    """The done-when of issue 10 on the samples themselves (tests/test_rule_promises.py holds every rule to it on
    its fail examples): each finding's "the plan ..." is one its kind keeps, the program has the steps the kind
    maps to, and those steps are in the runbook written from plan.toml."""
    from tests.test_rule_promises import broken_promises, kept

    from tests.psdata import program_data

    sample, inv, report, text = story
    # The program as the runbook gets it: from plan.toml, whose objects and switch keep their findings as keys.
    plan = parse_plan(text)
    program = build_program(plan)
    _, decided = assess_and_plan(inv, CATALOG, Config(), datetime.date(2026, 11, 28), "test")
    assert [(s.id, s.findings) for s in program.steps] == [(s.id, s.findings) for s in build_program(decided).steps]
    by_rule: dict[str, list] = {}
    for f in report.findings:
        if not f.waived:
            by_rule.setdefault(f.rule, []).append(f)
    assert by_rule, sample
    script = runbook_for(text, "plan.toml", "test", force=True).text
    steps = {step["Id"]: step for step in program_data(script)["$script:Steps"]}
    promised = 0
    for rule_id, found in sorted(by_rule.items()):
        rule = CATALOG.get(rule_id)
        assert kept(rule_id, rule.plan, found, plan, program) == [], (sample, rule_id)
        for f in found:
            assert broken_promises(rule.plan, f.message) == [], (sample, f.message)
        carrying = [s.id for s in program.steps if rule_id in s.findings]
        promised += len(carrying)
        for step_id in carrying:
            assert rule_id in steps[step_id]["Findings"], (sample, rule_id, step_id)
    assert promised, f"{sample}: no finding is carried by a step, so nothing above was checked"


def test_the_summary_counts_the_second_engines_objects_too() -> None:
    """The lcow sample moves both engines' Linux data: `run`/`plan` say how much of each."""
    from migrate.units import count

    for sample in SAMPLES:
        _, plan = assess_and_plan(_inventory(sample), CATALOG, Config(), datetime.date(2026, 11, 28), "test")
        summary = _summary(render_plan(plan)[0])
        if plan.hyperv is None:
            assert "Hyper-V engine" not in summary, sample
            continue
        h = plan.hyperv
        assert sum(1 for c in h.containers if c.strategy != "skip") > 0  # it holds Linux data to move
        second = summary.split("; Hyper-V engine: ", 1)[1].split(" migrated;", 1)[0]
        want = ", ".join(f"{sum(1 for x in getattr(h, s) if x.strategy != 'skip')}/"
                         f"{count(len(getattr(h, s)), s[:-1])}" for s in ("images", "volumes", "networks",
                                                                          "containers"))
        assert second == want, summary


USER_WSLCONFIG = {"hyperv-2x": {"memory": "12GB", "swap": "0"}, "lcow": {"memory": "3GB", "processors": "1"},
                  "near-wsl2": None}
"""Values a user set in .wslconfig, unlike what Desktop's settings hold (near-wsl2: the sample's own file)."""


@pytest.mark.parametrize("sample", SAMPLES)
def test_wslconfig_values_the_user_set_survive_the_whole_run(sample: str) -> None:
    """The plan never plans a key the user set, and after the whole program ran on the simulated host the
    user's lines are there once each, unchanged, beside the keys the plan added."""
    import dataclasses

    from migrate.model import ConfigFile
    from migrate.pipeline import assess_inventory
    from tests import simworld

    inv = simworld.inventory(sample)
    if USER_WSLCONFIG[sample] is not None:
        wsl = ConfigFile(file="C:\\Users\\u\\.wslconfig", values={"wsl2": dict(USER_WSLCONFIG[sample])})
        inv = dataclasses.replace(inv, settings=dataclasses.replace(inv.settings, wslconfig=wsl))
    assert inv.settings.wslconfig is not None
    user = {str(k).lower(): str(v) for k, v in inv.settings.wslconfig.values["wsl2"].items()}
    assert user
    report = assess_inventory(inv, [], None, "test", datetime.date(2026, 1, 1))[0]
    plan = simworld.decide(inv, report, "test")
    assert not set(k.lower() for k in plan.switch.wslconfig) & set(user), plan.switch.wslconfig
    desktop = simworld.decide(dataclasses.replace(inv, settings=dataclasses.replace(inv.settings, wslconfig=None)),
                              report, "test").switch.wslconfig
    added = {k: v for k, v in desktop.items() if k.lower() not in user}
    assert plan.switch.wslconfig == added
    shutil.rmtree(simworld.PLACE, ignore_errors=True)
    simworld.PLACE.mkdir(parents=True)
    try:
        w = simworld.World(simworld.PLACE, inv, plan, build_program(plan))
        outcome = w.run()
        assert outcome.status == "finished", outcome.message
        files = [p for p in w.host_root.rglob(".wslconfig")]
        assert len(files) == 1, files
        lines = [ln.strip() for ln in files[0].read_text(encoding="utf-8").splitlines()]
    finally:
        simworld.cleanup_place()
    keys = [ln.split("=", 1)[0].strip().lower() for ln in lines if "=" in ln]
    for key, value in user.items():
        assert f"{key}={value}" in lines and keys.count(key) == 1, (key, lines)
    for key, value in added.items():
        assert f"{key}={value}" in lines, (key, lines)
    if sample == "hyperv-2x":
        assert added, "Desktop's processors setting is what the plan adds beside the user's keys"
