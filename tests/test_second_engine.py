"""The LCOW host's second engine (Docker Desktop's Linux engine in the Hyper-V VM): read, assessed, planned, run.

The scan reads it from a bundle's engine-hyperv/ (the lcow sample) or, on the real engines of
tests/test_rehearse_second_engine.py, live; here the inventory, the rules, the plan's names and the program's order.
"""
from __future__ import annotations

import dataclasses
import datetime
import json
import shutil
from pathlib import Path

import pytest

from migrate.assess import Config, assess, load_catalog
from migrate.errors import InputError
from migrate.inventory.scan import ScanOptions, scan
from migrate.inventory.second import PIPES
from migrate.model import Container, Image, Inventory, Mount, SecondEngine, Volume, dumps, fingerprint, loads
from migrate.plan.build import build_program
from migrate.plan.decide import decide
from migrate.plan.planfile import parse_plan, render_plan
from migrate.plan.second import merged_sources, rename
from migrate.validate.offline import plan_world
from migrate.validate.simulate import simulate

ROOT = Path(__file__).resolve().parent.parent
LCOW = ROOT / "samples" / "lcow"
CATALOG = load_catalog()


def _scan(bundle: Path) -> Inventory:
    return scan(ScanOptions(bundle=bundle), "test")


@pytest.fixture(scope="module")
def lcow() -> Inventory:
    return _scan(LCOW)


def _copy(tmp_path: Path) -> Path:
    dest = tmp_path / "bundle"
    shutil.copytree(LCOW, dest)
    return dest


# ------------------------------------------------------------------------------------------------- inventory


def test_the_sample_bundle_holds_the_second_engine(lcow: Inventory) -> None:
    he = lcow.hyperv_engine
    assert he is not None and he.read
    assert he.url == "npipe:////./pipe/docker_engine_linux"  # the manifest's record of the pipe that answered
    assert (he.vm, he.vm_state) == ("DockerDesktopVM", "Running")
    assert he.engine is not None and he.engine.os_type == "linux" and he.engine.kernel_version.endswith("-linuxkit")
    names = {c.name.lstrip("/") for c in he.containers}
    assert {"reports-db", "redis", "report-worker"} <= names and not any(c.running for c in he.containers)
    assert {v.name for v in he.volumes} == {"pgdata", "redis-data"}
    # The first engine's objects are not mixed in.
    assert not {c.name.lstrip("/") for c in lcow.containers} & names


def test_the_second_engine_is_in_the_fingerprint_and_absent_keeps_the_json(lcow: Inventory) -> None:
    he = lcow.hyperv_engine
    assert he is not None
    changed = dataclasses.replace(lcow, hyperv_engine=dataclasses.replace(he, volumes=he.volumes[:1]))
    assert fingerprint(changed) != fingerprint(lcow)
    without = dataclasses.replace(lcow, hyperv_engine=None)
    assert '"hyperv_engine"' not in dumps(without) and '"hyperv_engine"' in dumps(lcow)
    assert loads(dumps(lcow)) == lcow and loads(dumps(without)) == without
    # The fingerprint of an inventory without one is computed as before the field existed.
    data = json.loads(dumps(without))
    assert "hyperv_engine" not in data


def test_a_vm_without_its_engine_is_a_blind_spot_and_an_error(tmp_path: Path) -> None:
    bundle = _copy(tmp_path)
    shutil.rmtree(bundle / "engine-hyperv")
    inv = _scan(bundle)
    assert inv.hyperv_engine is not None and not inv.hyperv_engine.read
    assert inv.hyperv_engine.vm_disks == ("C:\\ProgramData\\DockerDesktop\\vm-data\\DockerDesktop.vhdx",)
    report = assess(inv, CATALOG, Config(), datetime.date(2026, 11, 28), "test")
    rules = {f.rule: f for f in report.findings}
    assert "LCOW008" in rules and "LCOW007" not in rules and rules["LCOW008"].needs_action
    assert any(s.subject == "DockerDesktopVM" and "not read" in s.message for s in report.blind_spots)
    plan = decide(inv, report, "test")
    assert plan.hyperv is None  # nothing read, nothing moved: a person must (LCOW008 is a manual item)
    assert any(m.startswith("LCOW008:") for m in plan.switch.manual)


def test_a_read_second_engine_is_reported_with_what_it_holds(lcow: Inventory) -> None:
    report = assess(lcow, CATALOG, Config(), datetime.date(2026, 11, 28), "test")
    found = [f for f in report.findings if f.rule == "LCOW007"]
    assert len(found) == 1 and not found[0].needs_action
    assert "DockerDesktopVM (Running)" in found[0].message and "2 volume(s)" in found[0].message
    assert "4 Kubernetes image(s)" in found[0].message


def test_a_hostile_pipe_in_the_manifest_is_refused(tmp_path: Path) -> None:
    bundle = _copy(tmp_path)
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    manifest["hyperv_engine"] = "npipe:////./pipe/x' ; Remove-Item C:\\"
    (bundle / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(InputError, match="hyperv_engine"):
        _scan(bundle)


def test_a_windows_engine_in_engine_hyperv_is_refused(tmp_path: Path) -> None:
    bundle = _copy(tmp_path)
    for name in ("info.json", "version.json"):
        shutil.copyfile(bundle / "engine" / name, bundle / "engine-hyperv" / name)
    with pytest.raises(InputError, match="Linux engine"):
        _scan(bundle)


def test_the_collector_asks_the_documented_pipes_only_after_a_windows_engine() -> None:
    script = (ROOT / "migrate" / "emit" / "collector.ps1").read_text(encoding="ascii")
    assert "$script:HyperVPipes = @(" + ", ".join(f"'{p}'" for p in PIPES) + ")" in script
    branch = script[script.index("} elseif ($osType -eq 'windows') {"):]
    branch = branch[:branch.index("\n    }\n") if "\n    }\n" in branch else len(branch)]
    assert "Save-EngineSnapshot -Folder 'engine-hyperv' -HostArgs @('-H', $pipe) -Probe" in branch
    assert "$script:HyperVEngine = $pipe" in branch and "break" in branch
    assert "hyperv_engine     = $script:HyperVEngine" in script


# ------------------------------------------------------------------------------------------------- names


def _engine(**objects: object) -> Inventory:
    return Inventory(**objects)  # type: ignore[arg-type]


def test_names_the_first_engine_keeps_are_renamed_with_a_reason(lcow: Inventory) -> None:
    plan = decide(lcow, None, "test")
    assert plan.hyperv is not None
    vols = {v.name: v for v in plan.hyperv.volumes}
    assert vols["redis-data-hyperv"].source_name == "redis-data" and "redis-data" in {v.name for v in plan.volumes}
    assert "keeps that name" in vols["redis-data-hyperv"].why[0]
    assert vols["pgdata"].source_name == ""
    images = {im.id: im for im in plan.hyperv.images}
    redis = next(im for im in images.values() if im.source_tags == ("redis:6-alpine",))
    assert redis.tags == ("redis:6-alpine-hyperv",) and "holds the tag" in redis.why[0]
    ctr = next(c for c in plan.hyperv.containers if c.name == "redis")
    assert ctr.image == "redis:6-alpine-hyperv"
    assert "type=volume,source=redis-data-hyperv,target=/data" in ctr.create or \
        "redis-data-hyperv:/data" in ctr.create
    # Kubernetes stays behind: Desktop pulls its own set.
    assert all(im.strategy == "skip" for im in images.values() if any(t.startswith("k8s.gcr.io/") for t in im.tags))
    assert all(c.strategy == "skip" for c in plan.hyperv.containers if c.name.startswith("k8s_"))


def test_renames_reach_every_reference_and_never_collide() -> None:
    first = _engine(volumes=(Volume("data"), Volume("data-hyperv")),
                    containers=(Container("a" * 64, "/app", "app:1", image_id="sha256:" + "1" * 64),),
                    images=(Image("sha256:" + "1" * 64, tags=("app:1",), os="linux"),))
    plan = decide(first, None, "test")
    second = _engine(
        volumes=(Volume("data"),),
        images=(Image("sha256:" + "2" * 64, tags=("app:1", "app:2"), os="linux"),),
        containers=(
            Container("b" * 64, "/app", "app:1", image_id="sha256:" + "2" * 64, binds=("data:/d",),
                      mounts=(Mount("volume", "/var/lib/docker/volumes/data/_data", "/d", name="data",
                                    spec="data:/d"),)),
            Container("c" * 64, "/side", "app:2", image_id="sha256:" + "2" * 64, network_mode="container:app",
                      volumes_from=("app:ro",), depends_on=("app",)),
        ))
    renamed, r = rename(second, plan)
    assert r.volumes == {"data": "data-hyperv-2"}  # data-hyperv is the first engine's own
    assert r.containers == {"app": "app-hyperv"} and r.tags == {"sha256:" + "2" * 64: {"app:1": "app:1-hyperv"}}
    app = next(c for c in renamed.containers if c.id == "b" * 64)
    side = next(c for c in renamed.containers if c.id == "c" * 64)
    assert app.name == "app-hyperv" and app.image == "app:1-hyperv" and app.binds == ("data-hyperv-2:/d",)
    assert app.mounts[0].name == "data-hyperv-2" and app.mounts[0].spec == "data-hyperv-2:/d"
    assert side.network_mode == "container:app-hyperv" and side.volumes_from == ("app-hyperv:ro",)
    assert side.depends_on == ("app-hyperv",) and side.image == "app:2"
    assert renamed.images[0].tags == ("app:1-hyperv", "app:2")


def test_verify_compares_both_engines_named_as_moved(lcow: Inventory) -> None:
    plan = decide(lcow, None, "test")
    merged = merged_sources(lcow, plan)
    assert merged.hyperv_engine is None
    names = {v.name for v in merged.volumes}
    assert {"redis-data", "svc-data", "pgdata", "redis-data-hyperv"} <= names
    assert {"redis-data", "svc-data"} <= names
    assert merged_sources(dataclasses.replace(lcow, hyperv_engine=None)) == dataclasses.replace(lcow,
                                                                                                 hyperv_engine=None)
    # Without a plan the same names come out (the first engine's Linux objects keep theirs).
    assert {v.name for v in merged_sources(lcow).volumes} == names


# ------------------------------------------------------------------------------------------------- the plan file


def test_plan_toml_round_trips_the_second_engine_and_keeps_edits(lcow: Inventory) -> None:
    plan = decide(lcow, None, "test")
    text, _ = render_plan(plan)
    assert "[hyperv]\n" in text and '[hyperv.volumes."redis-data-hyperv"]' in text or \
        "[hyperv.volumes.redis-data-hyperv]" in text
    back = parse_plan(text)
    assert back.hyperv is not None and back.hyperv.url == plan.hyperv.url  # type: ignore[union-attr]
    assert {v.name: v.source_name for v in back.hyperv.volumes} == {v.name: v.source_name for v in plan.hyperv.volumes}
    edited = text.replace('url = "npipe:////./pipe/docker_engine_linux"', 'url = "npipe:////./pipe/my_linux"', 1)
    start = edited.index("[hyperv.volumes.pgdata]")
    edited = edited[:start] + edited[start:].replace('strategy = "copy"', 'strategy = "skip"', 1)
    again, notices = render_plan(plan, edited)
    reread = parse_plan(again)
    assert reread.hyperv is not None and reread.hyperv.url == "npipe:////./pipe/my_linux"
    assert {v.name: v.strategy for v in reread.hyperv.volumes}["pgdata"] == "skip"
    assert any(n.startswith("hyperv.url") for n in notices) and any("hyperv.volumes.pgdata" in n for n in notices)


def test_plan_toml_refuses_an_unknown_key_in_the_second_engine(lcow: Inventory) -> None:
    text, _ = render_plan(decide(lcow, None, "test"))
    with pytest.raises(InputError, match="hyperv: unknown key"):
        parse_plan(text.replace("[hyperv]\n", "[hyperv]\nbogus = 1\n", 1))


# ------------------------------------------------------------------------------------------------- the program


def test_the_program_reaches_the_second_engine_after_every_step_of_the_first(lcow: Inventory) -> None:
    program = build_program(decide(lcow, None, "test"))
    ids = [s.id for s in program.steps]
    reach = ids.index("backup/hyperv/engine")
    assert all(i < reach for i, s in enumerate(program.steps) if s.engine == "source")
    assert all(i > reach for i, s in enumerate(program.steps) if s.engine == "hyperv" and s.id != ids[reach])
    assert program.step("backup/hyperv/engine").op.to == "linux"  # type: ignore[union-attr]
    # backup/verify covers both engines' backups.
    verify = program.step("backup/verify")
    assert "backup/volume/pgdata" in verify.depends_on and "backup/volume/redis-data" in verify.depends_on
    # The second engine's images are restored first: the first engine's image ends with a tag both hold.
    loads_ = [i for i, s in enumerate(program.steps) if s.id.startswith(("restore/load/", "restore/pull/"))]
    hyperv_images = [i for i in loads_ if "hyperv" in ids[i] or program.steps[i].target in
                     ("redis@sha256:a7abd38c324fcfd81b246ce1f35b9e98fd316696c9f5eb4dd3600dbe919fc08f",)]
    first_own = program.step("restore/pull/bec4d577ca45")
    assert max(hyperv_images) < ids.index(first_own.id)
    assert program.engines["hyperv"].os == "linux" and program.engines["hyperv"].kernel_contains == "linuxkit"


def test_the_rollback_switches_back_before_the_first_engine_and_restarts_both(lcow: Inventory) -> None:
    program = build_program(decide(lcow, None, "test"))
    ids = [s.id for s in program.rollback]
    assert ids.index("rollback/windows-containers") < ids.index("rollback/wait-engine") < \
        ids.index("rollback/start/lcow-web")
    assert ids.index("rollback/start/lcow-web") < ids.index("rollback/hyperv/engine") < \
        ids.index("rollback/untag/reports-db") < ids.index("rollback/hyperv/windows-containers") < \
        ids.index("rollback/mark")
    for sid in ("rollback/windows-containers", "rollback/hyperv/engine", "rollback/hyperv/windows-containers"):
        assert program.step(sid).only_if_started == "backup/hyperv/engine"
    assert program.step("rollback/untag/reports-db").engine == "hyperv"


def test_nothing_to_move_means_no_switch(lcow: Inventory) -> None:
    he = lcow.hyperv_engine
    assert he is not None
    only_k8s = dataclasses.replace(lcow, hyperv_engine=dataclasses.replace(
        he, containers=tuple(c for c in he.containers if c.kubernetes), volumes=(),
        images=tuple(i for i in he.images if any(t.startswith(("k8s.gcr.io/", "docker/desktop-")) for t in i.tags))))
    program = build_program(decide(only_k8s, None, "test"))
    assert "hyperv" not in program.engines and not any("hyperv" in s.id for s in program.steps)


def test_validate_refuses_a_first_engine_step_after_the_switch(lcow: Inventory) -> None:
    plan = decide(lcow, None, "test")
    steps = list(build_program(plan).steps)
    _, ok = simulate(plan, plan_world(plan), steps)
    assert not [p for p in ok if p.severity == "fail"]
    moved = next(s for s in steps if s.id == "backup/volume/svc-data")
    steps.remove(moved)
    steps.insert([s.id for s in steps].index("backup/hyperv/helper-tools") + 1, moved)
    _, problems = simulate(plan, plan_world(plan), steps)
    assert any(p.step == "backup/volume/svc-data" and "switched Docker Desktop to Linux containers" in p.message
               for p in problems)


def test_the_second_engine_ends_on_the_target_in_validate(lcow: Inventory) -> None:
    plan = decide(lcow, None, "test")
    end, problems = simulate(plan, plan_world(plan), list(build_program(plan).steps))
    assert not [p for p in problems if p.severity == "fail"]
    assert end.target.volumes["redis-data-hyperv"].content == "the data of volume redis-data on the hyperv engine"
    assert end.target.volumes["redis-data"].content == "the data of volume redis-data on the source"


def test_engine_objects_of_an_empty_second_engine_need_no_rule(lcow: Inventory) -> None:
    empty = dataclasses.replace(lcow, hyperv_engine=SecondEngine(read=True, vm="DockerDesktopVM"))
    report = assess(empty, CATALOG, Config(), datetime.date(2026, 11, 28), "test")
    assert not {"LCOW007", "LCOW008"} & {f.rule for f in report.findings}


def test_the_second_engines_helper_runs_by_its_own_tag_there_and_its_new_tag_on_the_target() -> None:
    """Both engines hold busybox:1 (different images): the second engine's copy is tagged busybox:1-hyperv on the
    target, but its helper containers run on that engine by the tag it has there."""
    first = _engine(images=(Image("sha256:" + "1" * 64, tags=("busybox:1",), os="linux"),),
                    volumes=(Volume("a"),))
    second = SecondEngine(read=True, images=(Image("sha256:" + "2" * 64, tags=("busybox:1",), os="linux"),),
                          volumes=(Volume("b"),))
    plan = decide(dataclasses.replace(first, hyperv_engine=second), None, "test")
    assert plan.hyperv is not None and plan.hyperv.helper_image == "busybox:1" and not plan.hyperv.helper_pull
    program = build_program(plan)
    backup = program.step("backup/volume/b")
    restore = program.step("restore/volume-data/b")
    assert backup.engine == "hyperv" and "busybox:1" in backup.argv
    assert restore.engine == "target" and "busybox:1-hyperv" in restore.argv and "busybox:1" not in restore.argv
    assert program.step("restore/volume-data/a").argv.count("busybox:1") == 1
