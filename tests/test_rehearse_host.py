"""Issue 9's defects as properties of the program and of its interpreter, one test each (the PowerShell side of each
is checked on the library's AST in tests/test_runbook.py)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from migrate.plan.actions import EditIni, EditJson, Reboot, RestoreJsonKeys, StartDesktop, StopDesktop, VerifyTarget
from migrate.plan.build import build_program
from migrate.plan.decide import decide
from migrate.rehearse.host import SimulatedHost
from migrate.rehearse.interpreter import RunRefused, run_program
from migrate.rehearse.journal import load_journal
from tests.dockerdouble import Crash
from tests.simworld import PLAN_HASH, cleanup_place, inventory, report, world

SAMPLES = ("hyperv-2x", "lcow", "near-wsl2")


@pytest.fixture(autouse=True)
def _cleanup():
    yield
    cleanup_place()


def _programs():
    for sample in SAMPLES:
        yield sample, build_program(decide(inventory(sample), report(sample), "test"))


# ------------------------------------------------------------------------------------------ the program's shape


def test_host_files_change_only_while_desktop_is_stopped() -> None:
    """Item 4: after the restart Desktop may have started at logon; every settings edit is preceded by a stop with
    no start or restart in between."""
    for sample, program in _programs():
        stopped = False
        for step in program.steps:
            if isinstance(step.op, StopDesktop):
                stopped = True
            elif isinstance(step.op, (StartDesktop, Reboot)):
                stopped = False
            elif isinstance(step.op, (EditJson, RestoreJsonKeys, EditIni)):
                assert stopped, (sample, step.id)


def test_auto_start_is_held_off_across_the_restart_and_put_back_before_desktop_starts() -> None:
    for sample, program in _programs():
        ids = [s.id for s in program.steps]
        if "switch/reboot" not in ids:
            continue
        settings = json.loads(program.step("switch/settings").op.set_json)
        assert settings["autoStart"] is False, sample
        restore = program.step("switch/autostart")
        assert restore.op.from_step == "switch/settings" and restore.op.keys == ("autoStart",)
        assert ids.index("switch/reboot") < ids.index("switch/stop-desktop-again") < ids.index("switch/autostart") \
            < ids.index("switch/start-desktop"), sample


def test_volume_digests_are_taken_after_the_restore_and_before_any_container_exists() -> None:
    """Item 3: a database writes its pid file at start; the after-digest must not see it. Each volume is digested
    in the container that restored it, before any container is created."""
    for sample, program in _programs():
        ids = [s.id for s in program.steps]
        first_container = min((ids.index(i) for i in ids if i.startswith(("restore/create/", "restore/compose/",
                                                                          "restore/start/"))), default=len(ids))
        verify = next(s.op for s in program.steps if isinstance(s.op, VerifyTarget))
        for vol in verify.volumes:
            writer = next(s for s in program.steps if vol.target_digest in {a.path for a in s.produces})
            assert writer.id.startswith("restore/volume-data/") and ids.index(writer.id) < first_container, \
                (sample, writer.id)
            assert next(s for s in program.steps if vol.backup_digest in {a.path for a in s.produces}).id \
                .startswith("backup/volume/")


def test_committed_images_are_expected_by_the_id_their_commit_recorded() -> None:
    """Item 2: a committed image has no id at plan time; its commit step records it (and the step after it the
    image's id and content, for a containerd image store), the checks use them."""
    program = build_program(decide(inventory("hyperv-2x"), report("hyperv-2x"), "test"))
    commits = {s.id for s in program.steps if s.docker is not None and s.docker.record_output}
    assert commits and all(s.startswith(("backup/commit/", "backup/commit-content/")) for s in commits)
    assert {s.removeprefix("backup/commit/") for s in commits if s.startswith("backup/commit/")} == \
        {s.removeprefix("backup/commit-content/") for s in commits if s.startswith("backup/commit-content/")}
    verify = next(s.op for s in program.steps if isinstance(s.op, VerifyTarget))
    recorded = [c for c in verify.checks if c.recorded_from]
    assert {c.recorded_from for c in recorded} == commits
    assert all("{recorded}" in c.expect for c in recorded)
    assert all(c.expect for c in verify.checks if not c.recorded_from)  # every other id is known to the plan


def test_every_docker_step_has_a_time_limit_and_ends_options_before_its_operands() -> None:
    for sample, program in _programs():
        for step in (*program.steps, *program.rollback):
            if step.docker is not None:
                assert 1 <= step.docker.timeout <= 7 * 86400, step.id
                assert "--" in step.docker.argv or step.docker.argv[0] == "load", (sample, step.id)


def test_the_target_engine_must_be_wsl2_and_not_the_source() -> None:
    for _, program in _programs():
        target = program.engines["target"]
        assert target.kernel_contains == "microsoft-standard" and target.not_source and target.os == "linux"


# ------------------------------------------------------------------------------------------ the interpreter


def _stop_at(w, step_id: str):
    outcome = w.run(stop_after=step_id)
    assert outcome.status in ("stopped", "reboot"), outcome.message
    return outcome


def test_a_resume_before_windows_restarted_refuses(tmp_path: Path) -> None:
    """Item 8: -Resume checks the boot time."""
    w = world(tmp_path, "hyperv-2x")
    assert _stop_at(w, "switch/reboot").status == "reboot"
    with pytest.raises(RunRefused, match="has not restarted"):
        run_program(w.ctx(), resume=True)
    SimulatedHost(w.host_root).restart()
    assert run_program(w.ctx(), resume=True).status == "finished"


def test_the_resume_task_allows_battery_and_has_no_time_limit_and_finish_removes_it(tmp_path: Path) -> None:
    w = world(tmp_path, "hyperv-2x")
    _stop_at(w, "switch/reboot")
    task = SimulatedHost(w.host_root).state["tasks"]["wsl2-migrate-resume"]
    assert task["trigger"] == "logon" and task["battery"] and task["time_limit"] == 0 and task["priority"] == 4
    assert w.run(resume=True).status == "finished"
    assert not SimulatedHost(w.host_root).task_registered()


def test_two_runs_at_once_refuse(tmp_path: Path) -> None:
    """Item 8: one run at a time (the runbook's named mutex)."""
    w = world(tmp_path, "hyperv-2x")
    release = SimulatedHost(w.host_root).lock(w.work)
    try:
        with pytest.raises(RunRefused, match="another run"):
            run_program(w.ctx())
    finally:
        release()


def test_desktop_started_after_the_restart_is_stopped_again(tmp_path: Path) -> None:
    """Item 4: the user (or an auto-start) started Desktop at logon: the run stops it before touching settings."""
    w = world(tmp_path, "hyperv-2x")
    _stop_at(w, "switch/reboot")
    host = SimulatedHost(w.host_root)
    host.restart()
    host.state["desktop"]["running"] = True
    host.save()
    assert run_program(w.ctx(), resume=True).status == "finished"
    settings = json.loads((w.host_root / "AppData/Roaming/Docker/settings.json").read_text())
    assert {k.lower(): v for k, v in settings.items()}["autostart"] is True  # put back as it was


def test_the_old_vm_still_running_stops_the_switch(tmp_path: Path) -> None:
    """Item 11."""
    w = world(tmp_path, "hyperv-2x")
    _stop_at(w, "switch/stop-desktop")
    host = SimulatedHost(w.host_root)
    host.state["vms_running"] = True  # stuck after Desktop stopped
    host.save()
    outcome = run_program(w.ctx(), resume=True)
    assert outcome.status == "failed" and "still running" in outcome.message
    assert load_journal(w.work, PLAN_HASH).status("switch/settings") == "pending"


@pytest.mark.parametrize("change, message", [
    (lambda s: s.update(user="CORP\\admin"), "desktop user"),
    (lambda s: s.update(user="CORP\\other", interactive_user="CORP\\other"), "made for"),
    (lambda s: s.update(is64bit=False), "32-bit"),
    (lambda s: s["windows"].update(build=17763, ubr=1000), "older than"),
])
def test_check_host_refuses_the_wrong_user_a_32_bit_shell_and_an_old_windows(tmp_path: Path, change,
                                                                            message: str) -> None:
    """Items 5 and 7, and the build check."""
    w = world(tmp_path, "hyperv-2x")
    host = SimulatedHost(w.host_root)
    change(host.state)
    host.save()
    outcome = run_program(w.ctx())
    assert outcome.status == "failed" and message in outcome.message
    assert [r.id for r in outcome.results] == ["preflight/check-host"]


def test_a_backup_folder_not_shared_with_hyperv_desktop_is_refused_in_preflight(tmp_path: Path) -> None:
    """Item 6: Hyper-V era Desktop would ask to share it (or hang); the preflight refuses instead."""
    w = world(tmp_path, "hyperv-2x")
    assert w.plan.switch.file_sharing == "filesharingDirectories"
    path = w.host_root / "AppData/Roaming/Docker/settings.json"
    settings = json.loads(path.read_text())
    key = next(k for k in settings if k.lower() == "filesharingdirectories")
    settings[key] = ["C:\\Users"]
    path.write_text(json.dumps(settings))
    outcome = run_program(w.ctx())
    assert outcome.status == "failed" and "not shared" in outcome.message


def test_the_file_sharing_check_reads_the_setting_the_plan_names(tmp_path: Path) -> None:
    """Item 6, by the plan's setting: a plan made from a Desktop that lists sharedDrives (drive letter -> true)
    reads that key as a drive map, whatever else the settings hold; the drive shared by true passes, a truthy
    non-boolean or the folder listed under filesharingDirectories does not."""
    import dataclasses

    from tests.simworld import PLACE, World

    base = world(tmp_path, "hyperv-2x")
    plan = dataclasses.replace(base.plan, switch=dataclasses.replace(base.plan.switch, file_sharing="sharedDrives"))
    program = build_program(plan)
    (check,) = [s for s in program.steps if s.id == "preflight/check-host"]
    assert check.op.file_sharing.setting == "sharedDrives"
    cleanup_place()
    w = World(PLACE, inventory("hyperv-2x"), plan, program)
    path = w.host_root / "AppData/Roaming/Docker/settings.json"
    settings = json.loads(path.read_text())
    drive = str(w.work)[:1].upper()
    assert settings["shareddrives"][drive] is True
    outcome = w.run(stop_after="preflight/check-host")
    assert outcome.status == "stopped", outcome.message
    for shared in ({drive: 1}, [str(w.work)]):
        cleanup_place()
        w = World(PLACE, inventory("hyperv-2x"), plan, program)
        settings = json.loads(path.read_text())
        settings["shareddrives"] = shared
        settings["filesharingDirectories"] = [str(w.work)]
        path.write_text(json.dumps(settings))
        outcome = run_program(w.ctx())
        assert outcome.status == "failed" and "not shared" in outcome.message, shared


def test_backup_files_keeps_each_copy_where_the_plan_says(tmp_path: Path) -> None:
    """Where a host file's copy goes is the plan's (HostFile.backup): the runbook carries it and the rehearsal
    writes there, listed in the manifest with the live path it came from."""
    import dataclasses

    from migrate.emit.runbook import RunbookMeta, render_runbook
    from tests.simworld import PLACE, World

    base = world(tmp_path, "hyperv-2x")
    (step,) = [s for s in base.program.steps if s.id == "switch/backup-settings"]
    files = tuple(dataclasses.replace(f, backup=f"settings/copy-of-{f.key}") for f in step.op.files)
    moved = dataclasses.replace(step, op=dataclasses.replace(step.op, files=files))
    program = dataclasses.replace(base.program, steps=tuple(moved if s is step else s for s in base.program.steps))
    text = render_runbook(program, RunbookMeta(PLAN_HASH, "test", "C:\\wsl2-migrate-backup", "hyperv"))
    assert "Key = 'desktop-settings'; Candidates = @(" in text
    assert "Backup = 'settings/copy-of-desktop-settings' }" in text
    cleanup_place()
    w = World(PLACE, inventory("hyperv-2x"), base.plan, program)
    outcome = w.run(stop_after="switch/backup-settings")
    assert outcome.status == "stopped", outcome.message
    manifest = json.loads((w.work / "settings" / "manifest.json").read_text())
    desktop = next(e for e in manifest["files"] if e["key"] == "desktop-settings")
    assert desktop["present"] and desktop["backup"] == "settings/copy-of-desktop-settings"
    assert (w.work / "settings" / "copy-of-desktop-settings").read_bytes() == Path(desktop["path"]).read_bytes()


def test_an_archive_changed_after_the_verification_is_refused_before_restore(tmp_path: Path) -> None:
    """Item 9: archives are re-hashed right before the step that reads them."""
    w = world(tmp_path, "hyperv-2x")
    _stop_at(w, "switch/wait-engine")
    archive = next((w.work / "images").glob("*.tar"))
    archive.write_bytes(archive.read_bytes() + b" ")
    outcome = w.run(resume=True)
    assert outcome.status == "failed" and "changed since it was written" in outcome.message


def test_the_target_must_not_be_the_source_engine(tmp_path: Path) -> None:
    """Item 1: a resume that talks to the old engine never restores into it."""
    w = world(tmp_path, "hyperv-2x")
    w.docker.engines["target"].id = w.docker.engines["source"].id
    outcome = w.run()
    assert outcome.status == "failed" and "the switch has not happened" in outcome.message
    assert load_journal(w.work, PLAN_HASH).status("restore/load/commits") == "pending"


def test_a_non_empty_target_volume_is_never_extracted_into(tmp_path: Path) -> None:
    """Item 1: the restore refuses a volume that holds anything (an old engine's live volume, for instance)."""
    w = world(tmp_path, "hyperv-2x")
    _stop_at(w, "restore/volume/shop_pgdata")
    w.docker.engines["target"].volumes["shop_pgdata"] = b"live data\n"
    outcome = w.run(resume=True)
    assert outcome.status == "failed" and "not empty" in outcome.message
    assert w.docker.engines["target"].volumes["shop_pgdata"] == b"live data\n"


def test_turning_a_commit_off_creates_the_container_from_its_image() -> None:
    """Issue 12: an edit is followed through, not half applied."""
    import dataclasses

    plan = decide(inventory("hyperv-2x"), report("hyperv-2x"), "test")
    c = next(c for c in plan.containers if c.commit and c.strategy == "recreate")
    edited = dataclasses.replace(plan, containers=tuple(dataclasses.replace(x, commit=False) if x is c else x
                                                        for x in plan.containers))
    program = build_program(edited)
    create = program.step(f"restore/create/{c.name}")
    assert c.commit_ref not in create.argv and c.image_id in create.argv
    assert not any(s.id == f"backup/commit/{c.name}" for s in program.steps)


# ------------------------------------------------------------------------------------------ issue 10: the estimate


def _set_free(w, free: int) -> None:
    host = SimulatedHost(w.host_root)
    host.state["free_bytes"] = free
    host.save()


def test_the_backups_and_the_new_wsl_disk_on_one_drive_are_summed(tmp_path: Path) -> None:
    """Both are on C: by default: each alone fits, together they do not, and check-host refuses."""
    w = world(tmp_path, "hyperv-2x")
    backup, disk = w.program.step("preflight/check-host").op.free_space
    assert (backup.bytes, disk.bytes) == (w.plan.backup_bytes, w.plan.wsl_disk_bytes)
    assert disk.folder == "%LOCALAPPDATA%\\Docker\\wsl"
    _set_free(w, backup.bytes + disk.bytes - 1)
    assert max(backup.bytes, disk.bytes) < backup.bytes + disk.bytes - 1
    outcome = w.run()
    assert outcome.status == "failed" and [r.id for r in outcome.results] == ["preflight/check-host"]
    assert "not enough free space for the backups and the new WSL disk" in outcome.message
    w = world(tmp_path, "hyperv-2x")
    _set_free(w, backup.bytes + disk.bytes)
    assert w.run(stop_after="preflight/check-host").status == "stopped"


def test_an_unknown_size_never_passes_the_free_space_check_silently(tmp_path: Path) -> None:
    """The lcow volumes have no size: the check carries the known bytes and says some are unknown; the twin notes it
    (the runbook asks)."""
    w = world(tmp_path, "lcow")
    needs = w.program.step("preflight/check-host").op.free_space
    assert [(n.bytes, n.unknown) for n in needs] == [(w.plan.backup_bytes, True), (w.plan.wsl_disk_bytes, True)]
    outcome = w.run(stop_after="preflight/check-host")
    assert outcome.status == "stopped"
    assert "a size is unknown" in outcome.results[0].note


def test_the_known_bytes_must_fit_even_when_a_size_is_unknown(tmp_path: Path) -> None:
    """An unknown size is asked about (or -Force goes on), but a drive too small for what is known fails outright."""
    w = world(tmp_path, "lcow")
    backup, disk = w.program.step("preflight/check-host").op.free_space
    assert backup.bytes and disk.bytes
    _set_free(w, backup.bytes + disk.bytes - 1)
    outcome = w.run()
    assert outcome.status == "failed" and [r.id for r in outcome.results] == ["preflight/check-host"]
    assert "not enough free space for the backups and the new WSL disk" in outcome.message


def test_the_planned_wsl_data_folder_is_set_before_the_wsl2_engine_first_starts(tmp_path: Path) -> None:
    """DESK007: the new disk goes beside the old one; the free-space check looks at that drive."""
    import dataclasses

    from tests.simworld import World

    w = world(tmp_path, "hyperv-2x")
    plan = dataclasses.replace(w.plan, switch=dataclasses.replace(w.plan.switch, wsl_data_dir="D:\\Docker\\wsl"))
    program = build_program(plan)
    ids = [s.id for s in program.steps]
    assert json.loads(program.step("switch/settings").op.set_json)["customWslDistroDir"] == "D:\\Docker\\wsl"
    assert ids.index("switch/settings") < ids.index("switch/start-desktop")
    assert program.step("preflight/check-host").op.free_space[1].folder == "D:\\Docker\\wsl"
    w = World(w.work.parent, inventory("hyperv-2x"), plan, program)
    assert w.run().status == "finished"
    settings = json.loads((w.host_root / "AppData/Roaming/Docker/settings.json").read_text())
    assert settings["customWslDistroDir"] == "D:\\Docker\\wsl"


def test_switch_steps_carry_the_findings_of_their_own_kinds() -> None:
    """The findings on a step are the rules whose plan kind made it (tests/test_rule_promises.py relies on it)."""
    from migrate.assess.kinds import spec

    for sample in SAMPLES:
        rep = report(sample)
        kinds = {f.rule: f.plan for f in rep.findings}
        program = build_program(decide(inventory(sample), rep, "test"))
        for step in program.steps:
            if step.phase in ("preflight", "switch"):
                for rule in step.findings:
                    prefixes = [p for e in spec(kinds[rule]).steps for p in e.split("|")]
                    assert spec(kinds[rule]).manual or any(step.id.startswith(p) for p in prefixes), \
                        (sample, step.id, rule, kinds[rule])


def test_a_volume_already_on_the_new_engine_is_never_adopted(tmp_path: Path) -> None:
    """A volume of the planned name on the WSL 2 engine (an earlier install's) stops its create step: the run does
    not pour the backup into it, and does not remove it either."""
    w = world(tmp_path, "hyperv-2x")
    name = next(v.name for v in w.plan.volumes if v.strategy == "copy")
    w.docker.engines["target"].volumes[name] = b"someone else's data"
    outcome = w.run()
    assert outcome.status == "failed" and outcome.results[-1].id.startswith("restore/volume/")
    assert "already exists on the target engine" in outcome.message
    assert w.docker.engines["target"].volumes[name] == b"someone else's data"


def test_an_interrupted_create_is_recovered_on_resume_not_refused(tmp_path: Path) -> None:
    """A power cut after `volume create` took effect but before the journal said so: the resume removes what that
    attempt made (the journal shows it started its command) and creates it again, instead of refusing the name."""
    w = world(tmp_path, "hyperv-2x")
    step = next(s for s in w.program.steps if s.id.startswith("restore/volume/"))
    name = step.target
    real = w.docker._do

    def power_cut_after_create(state, args):  # not `engine`: tests/test_hygiene.py reads that as the fixture
        result = real(state, args)
        if args[:2] == ["volume", "create"] and args[-1] == name:
            raise Crash("power cut after volume create")  # the engine made it; the journal never heard
        return result

    w.docker._do = power_cut_after_create
    with pytest.raises(Crash):
        w.run()
    assert name in w.docker.engines["target"].volumes
    assert load_journal(w.work, PLAN_HASH).steps[step.id].record.get("commandStarted") is True
    w.docker._do = real
    assert w.run(resume=True).status == "finished"
    assert w.docker.engines["target"].volumes[name] == w.docker.engines["source"].volumes[name]


def test_rollback_of_a_plan_that_never_ran_here_does_nothing(tmp_path: Path) -> None:
    from migrate.rehearse.interpreter import run_rollback

    w = world(tmp_path, "hyperv-2x")
    before = w.state()
    outcome = run_rollback(w.ctx())
    assert outcome.status == "finished" and outcome.results == [] and "nothing to roll back" in outcome.message
    assert w.state() == before and not (w.work / "journal.json").exists()
