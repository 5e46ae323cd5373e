"""Every step of a rich program, interrupted and resumed, crashed mid-step and recovered, rolled back: the rehearsal's
interpreter over the simulated Windows host, with the docker steps on tests/dockerdouble.py.

The properties are the journal's and the host's (issue 9): a run stopped after any step and resumed ends exactly as
an uninterrupted run; a power cut in the middle of any docker command, then a resume, ends the same way; a rollback
after any step brings the source back as it was (its containers running again, its commit tags gone, Docker
Desktop's files as they were) and every later resume refuses; running a finished program again changes nothing.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from migrate.rehearse.host import SimulatedHost
from migrate.rehearse.interpreter import RunRefused, StepFailed, run_program, run_rollback
from migrate.rehearse.journal import load_journal
from tests.dockerdouble import Crash

from tests.simworld import PLAN_HASH, VM_OFF, cleanup_place, world as _world


@pytest.fixture(scope="module", autouse=True)
def _cleanup():
    yield
    cleanup_place()


@pytest.fixture(scope="module", params=["hyperv-2x", "lcow", "lcow" + VM_OFF])
def baseline(request, tmp_path_factory) -> tuple[str, dict, list[str]]:
    """The uninterrupted run of each sample's program: its end state and its step ids."""
    w = _world(tmp_path_factory.mktemp("base"), request.param)
    outcome = w.run()
    assert outcome.status == "finished", outcome.message
    return request.param, w.state(), [s.id for s in w.program.steps]


def test_the_uninterrupted_run_does_what_the_plan_says(baseline, tmp_path: Path) -> None:
    sample, state, ids = baseline
    assert all(status == "done" for status, _ in state["steps"].values())
    assert set(state["steps"]) == set(ids)
    assert state["finished"] and not state["rolled_back"]
    w = _world(tmp_path, sample)
    w.run()
    settings = json.loads((w.host_root / "AppData/Roaming/Docker/settings.json").read_text())
    assert {k.lower(): v for k, v in settings.items()}["wslengineenabled"] is True
    target = w.docker.engines["target"]
    for c in (*w.plan.containers, *(w.plan.hyperv.containers if w.plan.hyperv else ())):
        if c.strategy != "skip":
            assert target.containers[c.name].running == c.start, c.name
    if sample.startswith("lcow"):
        # Both source engines' Linux objects are on the target: the second engine's volume whose name the first's
        # keeps is there under its new name, with its own content.
        hyperv = w.docker.engines["hyperv"]
        assert target.volumes["redis-data-hyperv"] == hyperv.volumes["redis-data"]
        assert target.volumes["redis-data"] == w.docker.engines["source"].volumes["redis-data"]
        assert target.images["redis:6-alpine"] != target.images["redis:6-alpine-hyperv"]
        assert {"reports-db", "report-worker", "redis", "lcow-web", "lcow-redis"} <= set(target.containers)
    # The target engine was proved to be another engine than the source before anything was restored.
    assert state["engines_seen"]["target"]["id"] != state["engines_seen"]["source"]["id"]


def test_stop_after_every_step_then_resume_ends_as_the_uninterrupted_run(baseline, tmp_path: Path) -> None:
    sample, expected, ids = baseline
    for i, step_id in enumerate(ids[:-1]):
        w = _world(tmp_path / f"s{i}", sample)
        first = w.run(stop_after=step_id)
        assert first.status in ("stopped", "reboot"), (step_id, first.message)
        assert load_journal(w.work, PLAN_HASH).status(step_id) == "done"
        second = w.run(resume=True)
        assert second.status == "finished", (step_id, second.message)
        assert w.state() == expected, step_id


def test_a_power_cut_in_any_docker_command_then_a_resume_ends_as_the_uninterrupted_run(baseline,
                                                                                       tmp_path: Path) -> None:
    sample, expected, _ = baseline
    probe = _world(tmp_path / "probe", sample)
    probe.run()
    total = len(probe.docker.calls)
    for n in range(total):
        for after in (False, True):
            w = _world(tmp_path / f"c{n}{int(after)}", sample)
            w.docker.crash_at, w.docker.crash_after_effect = n, after
            with pytest.raises(Crash):
                w.run()
            w.docker.crash_at = -1
            outcome = w.run(resume=True)
            assert outcome.status == "finished", (n, after, probe.docker.calls[n], outcome.message)
            assert w.state() == expected, (n, after, probe.docker.calls[n])


def test_rollback_after_any_step_puts_the_source_back_and_a_resume_refuses(baseline, tmp_path: Path) -> None:
    sample, _, ids = baseline
    fresh = _world(tmp_path / "fresh", sample)
    sources = [e for e in ("source", "hyperv") if e in fresh.docker.engines]
    source_before = {e: fresh.docker.engines[e].snapshot() for e in sources}
    settings_before = {p.name: p.read_bytes() for p in (fresh.host_root / "AppData/Roaming/Docker").glob("*.json")}
    for i, step_id in enumerate(ids):
        w = _world(tmp_path / f"r{i}", sample)
        outcome = w.run(stop_after=step_id)
        if outcome.status == "reboot":
            w.host.restart()
        rolled = run_rollback(w.ctx())
        assert rolled.status == "finished", (step_id, rolled.message)
        # Every source engine: the LCOW sample's second one (the Hyper-V VM's) too.
        assert {e: w.docker.engines[e].snapshot() for e in sources} == source_before, step_id
        after = {p.name: p.read_bytes() for p in (w.host_root / "AppData/Roaming/Docker").glob("*.json")}
        assert after == settings_before, step_id
        host = SimulatedHost(w.host_root)
        assert host.state["desktop"]["running"] and not host.task_registered(), step_id
        assert host.backend() == ("windows" if sample.startswith("lcow") else "hyperv"), step_id
        with pytest.raises(RunRefused, match="rolled back"):
            run_program(w.ctx(), resume=True)


def test_running_a_finished_program_again_changes_nothing(baseline, tmp_path: Path) -> None:
    sample, expected, _ = baseline
    w = _world(tmp_path, sample)
    w.run()
    calls = len(w.docker.calls)
    again = w.run(resume=True)
    assert again.status == "finished"
    assert all(r.status == "skipped" for r in again.results)
    assert len(w.docker.calls) == calls
    assert w.state() == expected



@pytest.mark.parametrize("changing", ["switch/stop-desktop", "switch/start-desktop", "backup/hyperv/engine"])
def test_an_engine_proves_what_it_is_again_after_desktop_or_its_engine_changes(changing: str, tmp_path: Path) -> None:
    """After a step that can make a pipe reach another engine (Docker Desktop stopped or started, its engine
    switched), the next command on an engine is its identity probe, never a step's command on trust."""
    w = _world(tmp_path, "lcow")
    ctx = w.ctx()
    Path(ctx.root).mkdir(parents=True, exist_ok=True)
    ctx.run_step(ctx.program.step("preflight/pull-helper"))
    probe = ctx.program.step("preflight/helper-tools")
    assert probe.engine == "source"
    ctx.run_step(probe)
    ctx.run_step(ctx.program.step(changing))
    mark = len(w.docker.calls)
    if changing == "switch/stop-desktop":
        # The simulated host's engine is gone with Docker Desktop: proving it again is what finds that out.
        with pytest.raises(StepFailed, match="not running"):
            ctx.run_step(probe)
        return
    ctx.run_step(probe)
    later = [args for engine, args in w.docker.calls[mark:] if engine == "source"]
    assert later[0][0] == "info", later[0][:3]


def test_a_second_rollback_runs_each_step_again_on_its_journal_entry(tmp_path: Path) -> None:
    """As the runbook's -Rollback (Invoke-RunbookStep -Always): a rollback step that ran runs again when rollback
    runs again, on the entry the journal keeps (its attempts count on; a record from an interrupted attempt stays,
    so its clean-up and recovery run), and its result is again done."""
    w = _world(tmp_path / "twice", "lcow")
    assert w.run(stop_after=w.program.steps[-3].id).status == "stopped"
    first = run_rollback(w.ctx())
    assert first.status == "finished", first.message
    ran = [r.id for r in first.results if r.status == "done"]
    assert ran
    second = run_rollback(w.ctx())
    assert second.status == "finished", second.message
    assert [r.id for r in second.results if r.status == "done"] == ran
    journal = load_journal(w.work, PLAN_HASH)
    assert {i: journal.steps[i].attempt for i in ran} == {i: 2 for i in ran}
