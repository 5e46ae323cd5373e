"""Issue 10's Windows steps as properties of the program and of the rehearsal over the simulated host: WSL installed
or updated after the features and their restart, WSL 2 made the default and proved before Docker Desktop starts on
it; a Docker Desktop too old for the WSL 2 backend upgraded between the backups and the switch (or the run stops
and asks); the minimum Windows build, update revision and edition the planner chose, enforced by check-host."""
from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from migrate.errors import PlanError
from migrate.model import HostFacts
from migrate.plan.actions import (
    BuildFloor,
    CheckHost,
    CheckWsl,
    EnableFeature,
    InstallWsl,
    Reboot,
    SetWslVersion,
    StartDesktop,
    UpgradeDesktop,
)
from migrate.plan.build import build_program
from migrate.plan.decide import decide
from migrate.plan.planfile import parse_plan, render_plan, strip_reasons
from migrate.rehearse.host import INSTALLERS, SimulatedHost
from migrate.rehearse.interpreter import run_program
from migrate.rehearse.journal import load_journal
from tests.simworld import PLACE, PLAN_HASH, World, cleanup_place, inventory, report


@pytest.fixture(autouse=True)
def _cleanup():
    yield
    cleanup_place()


def _plan(sample: str, inv=None, **switch):
    inv = inv or inventory(sample)
    plan = decide(inv, report(sample), "test")
    return dataclasses.replace(plan, switch=dataclasses.replace(plan.switch, **switch)) if switch else plan


def _world(sample: str, host: dict | None = None, **switch) -> World:
    """A world for the sample's plan with [switch] edits, its simulated host state changed by host."""
    shutil.rmtree(PLACE, ignore_errors=True)
    PLACE.mkdir(parents=True)
    inv = inventory(sample)
    plan = _plan(sample, inv, **switch)
    w = World(PLACE, inv, plan, build_program(plan))
    if host:
        sim = SimulatedHost(w.host_root)
        for key, value in host.items():
            if isinstance(value, dict) and isinstance(sim.state.get(key), dict):
                sim.state[key].update(value)
            else:
                sim.state[key] = value
        sim.save()
    return w


def _ids(program) -> list[str]:
    return [s.id for s in program.steps]


# ------------------------------------------------------------------------------------------ the planner


def _host(**facts) -> HostFacts:
    return HostFacts(**{"edition_id": "Professional", "build": 19045, "revision": 3803, **facts})


@pytest.mark.parametrize("facts, install, default_v2", [
    ({"wsl_installed": False}, "install", True),
    ({"wsl_installed": True}, "update", True),  # the inbox WSL: no version
    ({"wsl_installed": True, "wsl_version": "2.0.9.0", "wsl_default_version": 2}, "update", False),
    ({"wsl_installed": True, "wsl_version": "2.1.5.0", "wsl_default_version": 1}, "", True),
    ({"wsl_installed": True, "wsl_version": "2.3.26.0", "wsl_default_version": 2}, "", False),
    ({}, "update", True),  # nothing known: updated, unless it already reports a recent WSL when the run asks
])
def test_the_planner_installs_or_updates_wsl_as_the_host_facts_say(facts, install: str, default_v2: bool) -> None:
    inv = dataclasses.replace(inventory("hyperv-2x"), host=_host(**facts))
    sw = decide(inv, report("hyperv-2x"), "test").switch
    assert (sw.wsl_install, sw.wsl_set_default_version) == (install, default_v2)
    ids = _ids(build_program(decide(inv, report("hyperv-2x"), "test")))
    assert ("switch/install-wsl" in ids) == bool(install)
    assert ("switch/wsl-default-version" in ids) == default_v2
    assert "switch/check-wsl" in ids


@pytest.mark.parametrize("facts, floor, edition", [
    ({"edition_id": "Professional"}, (19041, 0), "pro"),
    ({"edition_id": "Core"}, (19041, 0), "home"),
    ({"edition_id": "Enterprise"}, (18362, 1049), "enterprise"),
    ({"edition_id": "", "edition": "Microsoft Windows 10 Education"}, (18362, 1049), "education"),
    ({"edition_id": ""}, (19041, 0), ""),  # not known: the Home and Pro minimum
])
def test_the_minimum_windows_depends_on_the_edition(facts, floor, edition: str) -> None:
    inv = dataclasses.replace(inventory("hyperv-2x"), host=_host(**facts))
    plan = decide(inv, report("hyperv-2x"), "test")
    assert (plan.switch.min_windows_build, plan.switch.min_windows_ubr, plan.switch.windows_edition) == \
        (*floor, edition)
    check = build_program(plan).step("preflight/check-host").op
    assert check.edition == edition
    # The minimum first; 1909 needs the same update revision as 1903 on the editions that may run it.
    assert [(f.build, f.ubr) for f in check.floors] == [floor, *([(18363, 1049)] if floor[0] == 18362 else [])]


def test_wsl_steps_follow_the_features_restart_and_come_before_desktop_starts() -> None:
    for sample in ("hyperv-2x", "lcow", "near-wsl2"):
        program = build_program(decide(inventory(sample), report(sample), "test"))
        ids = _ids(program)
        check = ids.index("switch/check-wsl")
        start = ids.index("switch/start-desktop")
        assert check < start and not program.step("switch/check-wsl").mutating, sample
        for step_id in ("switch/install-wsl", "switch/wsl-default-version"):
            if step_id in ids:
                assert ids.index("switch/reboot") < ids.index(step_id) < check, (sample, step_id)
        if "switch/install-wsl" in ids and program.step("switch/install-wsl").op.restart_exit_codes:
            # A restart WSL's installation asks for comes before anything that needs WSL running.
            assert ids.index("switch/install-wsl") < ids.index("switch/reboot-wsl") < check
            assert isinstance(program.step("switch/reboot-wsl").op, Reboot)


def test_the_plan_carries_the_installers_and_the_program_uses_them() -> None:
    plan = _plan("hyperv-2x", wsl_msi="\\\\srv\\pkgs\\wsl.2.3.26.0.x64.msi", desktop_upgrade=True,
                 desktop_installer="D:\\pkgs\\Docker Desktop Installer.exe")
    program = build_program(plan)
    install = program.step("switch/install-wsl").op
    assert isinstance(install, InstallWsl) and install.msi.endswith(".msi") and install.wsl_arguments == ()
    assert install.program == "msiexec.exe"
    assert install.restart_exit_codes == (3010,) and 3010 in install.ok_exit_codes
    upgrade = program.step("switch/upgrade-desktop").op
    assert isinstance(upgrade, UpgradeDesktop) and upgrade.installer.startswith("D:\\")
    ids = _ids(program)
    # Between the backups and the switch: after the settings are backed up, before they change.
    assert ids.index("backup/verify") < ids.index("switch/backup-settings") < ids.index("switch/upgrade-desktop") \
        < ids.index("switch/stop-desktop-upgraded") < ids.index("switch/settings")
    # The plan file keeps the values (they are what a person edits) and reads them back.
    text, _ = render_plan(plan)
    assert parse_plan(text) == strip_reasons(plan)


@pytest.mark.parametrize("switch, message", [
    ({"wsl_install": "reinstall"}, "wsl_install"),
    ({"wsl_msi": "wsl.msi"}, "full path"),
    ({"wsl_msi": "C:\\pkgs\\wsl.exe"}, ".msi"),
    ({"desktop_upgrade": True, "desktop_installer": "C:\\pkgs\\\"x\".exe"}, "full path"),
    ({"wsl_min_version": "latest"}, "version"),
])
def test_bad_plan_values_are_refused_when_the_program_is_built(switch, message: str) -> None:
    with pytest.raises(PlanError, match=message):
        build_program(_plan("hyperv-2x", **switch))


def test_an_unknown_wsl_argument_list_is_refused() -> None:
    with pytest.raises(PlanError, match="not one of"):
        InstallWsl(wsl_arguments=("--install",))
    with pytest.raises(PlanError, match="restart"):
        InstallWsl(ok_exit_codes=(0,), restart_exit_codes=(3010,))
    with pytest.raises(PlanError, match="msiexec"):
        InstallWsl(program="wsl.exe", wsl_arguments=(), msi="C:\\w.msi")
    with pytest.raises(PlanError, match="32-bit"):
        InstallWsl(ok_exit_codes=(0, 2 ** 31))
    with pytest.raises(PlanError, match="does not exist"):
        SetWslVersion(version=3)
    with pytest.raises(PlanError, match="does not exist"):
        CheckWsl(default_version=3)


# ------------------------------------------------------------------------------------------ the rehearsal


def test_a_host_without_wsl_gets_it_installed_with_wsl2_as_the_default() -> None:
    w = _world("hyperv-2x")
    before = SimulatedHost(w.host_root).state["wsl"]
    assert before["installed"] is False
    outcome = w.run()
    assert outcome.status == "finished", outcome.message
    host = SimulatedHost(w.host_root)
    assert host.state["wsl"] == {"installed": True, "version": INSTALLERS["wsl"], "default_version": 2}
    assert all(host.state["features"][f] == "Enabled" for f in w.plan.switch.enable_features)


def test_a_resume_after_the_wsl_update_continues_without_installing_again() -> None:
    w = _world("hyperv-2x")
    first = w.run(stop_after="switch/install-wsl")
    assert first.status == "stopped", first.message
    host = SimulatedHost(w.host_root)
    host.state["installers"]["wsl"] = "9.9.9.0"  # a second installation would be seen
    host.save()
    second = w.run(resume=True)
    assert second.status == "finished", second.message
    assert SimulatedHost(w.host_root).state["wsl"]["version"] == INSTALLERS["wsl"]
    journal = load_journal(w.work, PLAN_HASH)
    assert journal.state("switch/install-wsl").attempt == 1
    assert journal.status("switch/check-wsl") == "done"


def test_a_recent_wsl_is_not_installed_again() -> None:
    w = _world("hyperv-2x", host={"wsl": {"installed": True, "version": "2.2.4.0", "default_version": 1},
                                  "installers": {"wsl": "9.9.9.0"}}, wsl_install="update")
    assert w.run().status == "finished"
    state = SimulatedHost(w.host_root).state["wsl"]
    assert state == {"installed": True, "version": "2.2.4.0", "default_version": 2}


def test_the_inbox_wsl_without_an_update_fails_the_check_before_desktop_starts() -> None:
    """The plan was edited not to update WSL; the feature brings the inbox wsl.exe, which has no --version."""
    w = _world("hyperv-2x", wsl_install="")
    outcome = w.run()
    assert outcome.status == "failed" and "inbox WSL" in outcome.message
    assert outcome.results[-1].id == "switch/check-wsl"
    assert load_journal(w.work, PLAN_HASH).status("switch/start-desktop") == "pending"


def test_an_old_wsl_fails_the_check() -> None:
    w = _world("near-wsl2", host={"wsl": {"installed": True, "version": "1.2.5.0", "default_version": 2}})
    assert w.plan.switch.wsl_install == ""  # the facts said 2.3.26.0; the machine changed since
    outcome = w.run()
    assert outcome.status == "failed" and "older than 2.1.5" in outcome.message


def test_the_msi_is_used_where_the_store_is_blocked_and_a_missing_one_stops_the_run() -> None:
    msi = "\\\\srv\\pkgs\\wsl.2.3.26.0.x64.msi"
    w = _world("hyperv-2x", wsl_msi=msi)
    path = SimulatedHost(w.host_root).path(msi)
    assert path.is_file()  # seeded: the rehearsal stands for a machine that reaches the share
    path.unlink()
    outcome = w.run()
    assert outcome.status == "failed" and "no such installer" in outcome.message
    assert outcome.results[-1].id == "switch/install-wsl"
    path.write_bytes(b"msi")
    assert w.run(resume=True).status == "finished"
    assert SimulatedHost(w.host_root).state["wsl"]["version"] == INSTALLERS["wsl"]


def test_an_old_desktop_without_an_installer_stops_the_run_until_it_is_upgraded() -> None:
    w = _world("hyperv-2x", host={"desktop": {"version": "2.2.0.5"}}, desktop_upgrade=True)
    outcome = w.run()
    assert outcome.status == "failed" and "older than 2.3.0.2" in outcome.message
    assert "Docker Desktop Installer.exe" in outcome.message  # the instructions name the installer to run
    journal = load_journal(w.work, PLAN_HASH)
    assert journal.status("backup/verify") == "done" and journal.status("switch/settings") == "pending"
    host = SimulatedHost(w.host_root)
    host.state["desktop"]["version"] = "4.36.0"  # the user ran the installer
    host.save()
    assert w.run(resume=True).status == "finished"


def test_an_old_desktop_is_upgraded_with_the_planned_installer() -> None:
    installer = "D:\\pkgs\\Docker Desktop Installer.exe"
    w = _world("hyperv-2x", host={"desktop": {"version": "2.2.0.5"}}, desktop_upgrade=True,
               desktop_installer=installer)
    assert w.run().status == "finished"
    assert SimulatedHost(w.host_root).state["desktop"]["version"] == INSTALLERS["desktop"]


def test_an_installer_that_leaves_an_old_desktop_fails_the_step() -> None:
    installer = "D:\\pkgs\\Docker Desktop Installer.exe"
    w = _world("hyperv-2x", host={"desktop": {"version": "2.2.0.5"}, "installers": {"desktop": "2.2.0.5"}},
               desktop_upgrade=True, desktop_installer=installer)
    outcome = w.run()
    assert outcome.status == "failed" and "older than 2.3.0.2" in outcome.message


@pytest.mark.parametrize("edition, windows, ok", [
    ("Enterprise", {"build": 18363, "ubr": 1000}, False),  # 1909 before the backport
    ("Enterprise", {"build": 18363, "ubr": 1049}, True),
    ("Enterprise", {"build": 18362, "ubr": 1048}, False),
    ("Professional", {"build": 18363, "ubr": 1556}, False),  # Pro needs 2004
    ("Professional", {"build": 19041, "ubr": 1}, True),
])
def test_check_host_enforces_build_update_revision_and_edition(edition: str, windows: dict, ok: bool) -> None:
    inv = dataclasses.replace(inventory("hyperv-2x"), host=dataclasses.replace(inventory("hyperv-2x").host,
                                                                                edition_id=edition))
    shutil.rmtree(PLACE, ignore_errors=True)
    PLACE.mkdir(parents=True)
    plan = decide(inv, report("hyperv-2x"), "test")
    w = World(PLACE, inv, plan, build_program(plan))
    host = SimulatedHost(w.host_root)
    host.state["windows"] = windows
    host.save()
    outcome = run_program(w.ctx(), stop_after="preflight/check-host")
    assert (outcome.status == "stopped") == ok, outcome.message
    if not ok:
        assert "older than" in outcome.message and f"the {plan.switch.windows_edition} edition" in outcome.message


def test_desktop_starts_only_after_wsl_was_proved_in_every_sample() -> None:
    for sample in ("hyperv-2x", "lcow", "near-wsl2"):
        program = build_program(decide(inventory(sample), report(sample), "test"))
        proved = False
        for step in program.steps:
            if isinstance(step.op, CheckWsl):
                proved = True
            if isinstance(step.op, StartDesktop):
                assert proved, sample


def test_rollback_after_the_wsl_installation_leaves_wsl_installed_and_the_source_running(tmp_path: Path) -> None:
    """WSL and the features stay (the old backend does not mind them); the source comes back as it was."""
    from migrate.rehearse.interpreter import run_rollback

    w = _world("hyperv-2x")
    source_before = w.docker.engines["source"].snapshot()
    assert w.run(stop_after="switch/check-wsl").status == "stopped"
    assert run_rollback(w.ctx()).status == "finished"
    host = SimulatedHost(w.host_root)
    assert host.state["wsl"]["installed"] and host.backend() == "hyperv" and host.state["desktop"]["running"]
    assert w.docker.engines["source"].snapshot() == source_before


def test_without_host_facts_wsl_is_updated_and_checked_and_the_run_finishes() -> None:
    """An inventory read from the engine alone (no collector): WSL's state is not known, the plan updates it (the
    step skips when WSL is recent), makes WSL 2 the default and checks it; the simulated host stands for a machine
    whose features are on."""
    shutil.rmtree(PLACE, ignore_errors=True)
    PLACE.mkdir(parents=True)
    inv = dataclasses.replace(inventory("hyperv-2x"), host=None)
    plan = decide(inv, None, "test")  # no host facts: no feature findings, nothing known of WSL
    assert (plan.switch.wsl_install, plan.switch.wsl_set_default_version) == ("update", True)
    assert plan.switch.enable_features == ()
    w = World(PLACE, inv, plan, build_program(plan))
    outcome = w.run()
    assert outcome.status == "finished", outcome.message
    notes = {r.id: r.note for r in outcome.results}
    assert "already installed" in notes["switch/install-wsl"]



@pytest.mark.parametrize("codes, status, reboot", [
    ({}, "reboot", True),  # dism's 3010: on after a restart, which the reboot step asks for
    ({"restart_exit_codes": ()}, "stopped", False),  # the plan says 3010 needs no restart: none is asked for
    ({"ok_exit_codes": (0,), "restart_exit_codes": ()}, "failed", False),  # the plan does not accept 3010
])
def test_the_twin_runs_the_program_as_the_plan_describes_it(codes: dict, status: str, reboot: bool) -> None:
    """run_program reads the exit codes from the action's planned run, as the runbook's Invoke-HostProgram does."""
    shutil.rmtree(PLACE, ignore_errors=True)
    PLACE.mkdir(parents=True)
    inv = inventory("hyperv-2x")
    plan = _plan("hyperv-2x", inv)
    program = build_program(plan)
    steps = tuple(dataclasses.replace(s, op=dataclasses.replace(s.op, **codes)) if isinstance(s.op, EnableFeature)
                  else s for s in program.steps)
    w = World(PLACE, inv, plan, dataclasses.replace(program, steps=steps))
    outcome = w.run(stop_after="switch/reboot")
    assert outcome.status == status, outcome.message
    if status == "failed":
        assert "dism.exe exited with code 3010" in outcome.message
    assert load_journal(w.work, PLAN_HASH).reboot_needed is reboot


@pytest.mark.parametrize("build, ubr, floors", [
    (19045, 3803, [{"Build": 19045, "Ubr": 3803}]),
    (18362, 1049, [{"Build": 18362, "Ubr": 1049}, {"Build": 18363, "Ubr": 1049}]),
])
def test_the_runbook_carries_the_plans_windows_floors_as_one_list(build: int, ubr: int, floors) -> None:
    """The plan's minimum Windows (and the later builds that need an update revision) reach check-host as one list
    of floors, which the library only compares: change the plan and the runbook's list follows."""
    from migrate.emit.runbook import RunbookMeta, render_runbook
    from tests.psdata import program_data

    program = build_program(_plan("hyperv-2x", min_windows_build=build, min_windows_ubr=ubr))
    text = render_runbook(program, RunbookMeta("0" * 64, "0.1.0", "D:\\wsl2-migrate", "hyperv"))
    (check,) = [s for s in program_data(text)["$script:Steps"] if s["Id"] == "preflight/check-host"]
    assert check["Params"]["Floors"] == floors


@pytest.mark.parametrize("floors", [(), (BuildFloor(19041, 0), BuildFloor(18363, 1049)),
                                    (BuildFloor(18362, 1049), BuildFloor(18362, 1049))])
def test_build_floors_out_of_order_or_missing_are_refused(floors) -> None:
    with pytest.raises(PlanError, match="floors"):
        CheckHost(floors=floors)


@pytest.mark.parametrize("windows, refused", [
    ((18362, 1048), "18362.1049"), ((18362, 1049), ""), ((18363, 1048), "18363.1049"), ((18363, 1049), ""),
    ((18900, 0), ""), ((17763, 5000), "18362.1049"),
])
def test_the_twin_applies_the_last_floor_at_or_below_the_build(windows, refused: str) -> None:
    """As Test-MigrationHost does: a build below the first floor fails, and on a floor's own build the update
    revision must reach it; a build between floors passes."""
    build, ubr = windows
    w = _world("hyperv-2x", host={"windows": {"build": build, "ubr": ubr}}, min_windows_build=18362,
               min_windows_ubr=1049, windows_edition="enterprise")
    outcome = run_program(w.ctx(), stop_after="preflight/check-host")
    if refused:
        assert outcome.status == "failed" and f"older than {refused}" in outcome.message
    else:
        assert [r.id for r in outcome.results] == ["preflight/check-host"] and outcome.results[0].status == "done"
