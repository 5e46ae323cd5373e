"""validate: drift, coverage, simulated order, resources and blockers, on the samples and hand-edited plans."""
from __future__ import annotations

import dataclasses
import datetime
import json
from pathlib import Path

import pytest
import tomlkit

from migrate.helpertools import END as PROBE_END
from migrate.assess import assess, load_catalog
from migrate.assess.config import Config
from migrate.model import Drive, Inventory, Report, dumps, loads
from migrate.plan.build import build_steps
from migrate.plan.decide import decide
from migrate.plan.planfile import parse_plan, render_plan
from migrate.validate import Validation, validate
from migrate.validate.simulate import simulate
from migrate.validate.state import initial_world

ROOT = Path(__file__).resolve().parent.parent
BUSYBOX = "sha256:49c425e323cdb47568720a77cc5f81600fcc2cf3057358e4fb33f278599d3f5d"
SHOP_API = "sha256:aab18892c3c9e3ee070ba7e8c066eda91f1ae66def7ba337d7a8a5e5d1f34863"


def _inventory(name: str) -> Inventory:
    from migrate.cli import build_options, load_or_scan

    return load_or_scan(build_options(bundle=ROOT / "samples" / name))


def _assess(inv: Inventory) -> Report:
    return assess(inv, load_catalog(), Config(), datetime.date(2026, 11, 28), "test")


@pytest.fixture(scope="module")
def hyperv() -> tuple[Inventory, Report, str]:
    """The hyperv-2x sample, its assessment and its default plan.toml text."""
    inv = _inventory("hyperv-2x")
    report = _assess(inv)
    text, _ = render_plan(decide(inv, report, "test"))
    return inv, report, text


def _edit(text: str, change) -> str:
    """plan.toml text after a hand edit (done on the TOML document, as a user's editor would)."""
    doc = tomlkit.parse(text)
    change(doc)
    return tomlkit.dumps(doc)


def _run(text: str, inv: Inventory, report: Report, **kw) -> Validation:
    # As validate on a live engine whose helper image has every tool (its probe prints only its end marker): the
    # resource checks below are about space; tests/test_helper_tools.py probes real images.
    kw.setdefault("helper_probe", PROBE_END + "\n")
    return validate(parse_plan(text), inv, report, tool_version="test", **kw)


def _lines(v: Validation, check: str, severity: str = "fail") -> list[str]:
    return [f"{p.subject}: {p.message}" for p in v.problems if p.check == check and p.severity == severity]


def _status(v: Validation) -> dict[str, str]:
    return {c.name: c.status for c in v.checks}


# --------------------------------------------------------------------------------------------- the samples


@pytest.mark.parametrize("name", ["hyperv-2x", "near-wsl2"])
def test_a_fresh_plan_of_a_sample_validates(name: str) -> None:
    inv = _inventory(name)
    report = _assess(inv)
    text, _ = render_plan(decide(inv, report, "test"))
    v = _run(text, inv, report)
    assert [p for p in v.problems if p.severity == "fail"] == []
    assert v.passed
    assert v.steps == len(build_steps(parse_plan(text)))
    # Both samples carry free space for C: in their host facts: the resource check is decided, not a warning.
    assert _status(v)["resources"] == "pass"


def test_the_lcow_sample_fails_on_its_blocker() -> None:
    inv = _inventory("lcow")
    report = _assess(inv)
    text, _ = render_plan(decide(inv, report, "test"))
    v = _run(text, inv, report)
    assert not v.passed
    assert _status(v)["blockers"] == "fail"
    assert any("HOST001" in line for line in _lines(v, "blockers"))
    # Its volumes have no size in the inventory: not counted, and said so.
    assert any("redis-data" in line for line in _lines(v, "resources", "warn"))
    # The Windows container legacy-svc is skipped and keeps running while svc-data is copied.
    assert any("svc-data" in line and "legacy-svc" in line for line in _lines(v, "order", "warn"))


def test_a_waived_blocker_no_longer_fails() -> None:
    inv = _inventory("lcow")
    report = _assess(inv)
    waived = dataclasses.replace(report, findings=tuple(dataclasses.replace(f, waived=True) if f.severity ==
                                                        "blocker" else f for f in report.findings))
    text, _ = render_plan(decide(inv, report, "test"))
    v = _run(text, inv, waived)
    assert _status(v)["blockers"] == "pass"


# --------------------------------------------------------------------------------------------- drift


def test_drift_names_each_change(hyperv, tmp_path: Path) -> None:
    inv, report, text = hyperv
    data = json.loads(dumps(inv))
    data["containers"] = [c for c in data["containers"] if c["name"].lstrip("/") != "legacy-importer"]
    data["volumes"].append({"name": "scratch", "driver": "local", "size": 1000})
    for im in data["images"]:
        if im["id"] == SHOP_API:
            im["tags"] = ["shop/api:v2"]
    changed = loads(json.dumps(data))
    v = _run(text, changed, _assess(changed))
    drift = _lines(v, "drift")
    assert any(line.startswith("container legacy-importer:") and "removed" in line for line in drift)
    assert any(line.startswith("volume scratch:") and "added" in line for line in drift)
    assert any(line.startswith(f"image {SHOP_API[:19]}:") and "shop/api:dev" in line and "shop/api:v2" in line
               for line in drift)
    assert len(drift) == 3, drift
    # The new volume has no decision; the plan still commits the container that is gone.
    assert any(line.startswith("volume scratch:") for line in _lines(v, "coverage"))
    assert any(p.step == "backup/commit/legacy-importer" for p in v.problems if p.check == "order")
    assert not v.passed


def test_drift_of_a_re_created_container_and_an_unchanged_inventory(hyperv) -> None:
    inv, report, text = hyperv
    assert _run(text, inv, report).checks[0].status == "pass"
    containers = tuple(dataclasses.replace(c, id="f" * 64) if c.name.lstrip("/") == "shop_db_1" else c
                       for c in inv.containers)
    changed = dataclasses.replace(inv, containers=containers)
    drift = _lines(_run(text, changed, report), "drift")
    assert any(line.startswith("container shop_db_1:") and "re-created" in line for line in drift)


def test_a_changed_fingerprint_without_object_changes_only_warns(hyperv) -> None:
    inv, report, text = hyperv
    host = dataclasses.replace(inv.host, drives=(Drive("C", free_bytes=123 * 10**9),))
    v = _run(text, dataclasses.replace(inv, host=host), report)
    assert _status(v)["drift"] == "warn"
    assert _lines(v, "drift") == []


# --------------------------------------------------------------------------------------------- coverage


def test_skipping_a_mounted_volume_fails_naming_both(hyperv) -> None:
    inv, report, text = hyperv
    edited = _edit(text, lambda d: d["volumes"]["shop_pgdata"].__setitem__("strategy", "skip"))
    v = _run(edited, inv, report)
    cov = _lines(v, "coverage")
    assert any("shop_db_1" in line and "shop_pgdata" in line and "EMPTY" in line for line in cov), cov
    # The simulation finds the same hole at the step where docker would create the empty volume.
    order = [p for p in v.problems if p.check == "order" and p.severity == "fail"]
    assert any(p.step == "restore/create/shop_db_1" and "shop_pgdata" in p.message for p in order)
    assert not v.passed


def test_an_object_missing_from_the_plan_has_no_decision(hyperv) -> None:
    inv, report, text = hyperv
    edited = _edit(text, lambda d: d["networks"].remove("shop_default"))
    v = _run(edited, inv, report)
    cov = _lines(v, "coverage")
    assert any(line.startswith("network shop_default:") and "no decision" in line for line in cov)
    assert any(line.startswith("container shop_db_1:") and "shop_default" in line for line in cov)
    order = [p for p in v.problems if p.check == "order" and p.severity == "fail"]
    assert {p.step for p in order if "shop_default" in p.message} >= {"restore/create/shop_db_1",
                                                                      "restore/create/shop_api_1"}


def test_a_kept_container_on_a_skipped_image(hyperv) -> None:
    inv, report, text = hyperv
    edited = _edit(text, lambda d: d["images"][BUSYBOX].__setitem__("strategy", "skip"))
    v = _run(edited, inv, report)
    assert any("shop-web.debug-2" in line and "busybox:1.32" in line and "skipped" in line
               for line in _lines(v, "coverage"))
    order = {p.step: p.message for p in v.problems if p.check == "order" and p.severity == "fail"}
    assert "busybox:1.32" in order["restore/create/shop-web.debug-2"]
    # busybox is also the helper the volume restores run in.
    assert "busybox:1.32" in order["restore/volume-data/shop_pgdata"]


# --------------------------------------------------------------------------------------------- order


def test_a_create_that_needs_a_later_container_names_the_step(hyperv) -> None:
    inv, report, text = hyperv

    def change(d):
        create = d["containers"]["shop_db_1"]["create"]
        create.insert(3, "--volumes-from")
        create.insert(4, "shop_web_1")

    v = _run(_edit(text, change), inv, report)
    order = [p for p in v.problems if p.check == "order" and p.severity == "fail"]
    assert [(p.step, "shop_web_1" in p.message) for p in order] == [("restore/create/shop_db_1", True)]


def test_reordered_steps_are_caught() -> None:
    inv = _inventory("hyperv-2x")
    plan = decide(inv, _assess(inv), "test")
    steps = build_steps(plan)
    ids = [s.id for s in steps]
    create = steps.pop(ids.index("restore/create/shop_db_1"))
    steps.insert(ids.index("restore/network/shop_default"), create)
    _, problems = simulate(plan, initial_world(inv), steps)
    msgs = [p.message for p in problems if p.step == "restore/create/shop_db_1"]
    assert any("network shop_default" in m for m in msgs)
    assert any("depends on restore/network/shop_default" in m for m in msgs)
    # Moving a restore step before the switch: the target engine is not up yet.
    steps = build_steps(plan)
    load = next(s for s in steps if s.id == "restore/pull/49c425e323cd")
    steps.remove(load)
    steps.insert(2, load)
    _, problems = simulate(plan, initial_world(inv), steps)
    assert any(p.step == "restore/pull/49c425e323cd" and "before a wait-engine" in p.message for p in problems)


def test_a_digest_reference_survives_a_pull_but_not_a_load(hyperv) -> None:
    inv, report, text = hyperv
    digest = "busybox@sha256:a402d4d3bab7107fab8703e7eb78fad47dafe3182d77b2403fe276ef367da6cf"

    def by_digest(d):
        create = d["containers"]["shop-web.debug-2"]["create"]
        create[list(create).index("busybox:1.32")] = digest

    pulled = _run(_edit(text, by_digest), inv, report)
    assert _lines(pulled, "order") == []

    def saved(d):
        by_digest(d)
        d["images"][BUSYBOX]["strategy"] = "save"
        d["images"][BUSYBOX]["archive"] = "images/images-09.tar"

    loaded = _run(_edit(text, saved), inv, report)
    order = {p.step: p.message for p in loaded.problems if p.check == "order" and p.severity == "fail"}
    assert list(order) == ["restore/create/shop-web.debug-2"]
    assert digest in order["restore/create/shop-web.debug-2"]


def test_a_stopped_container_that_a_dependent_needs_running(hyperv) -> None:
    inv, report, text = hyperv
    # shop-web.debug-2 shares shop_web_1's network: it cannot start while shop_web_1 stays stopped.
    v = _run(_edit(text, lambda d: d["containers"]["shop_web_1"].__setitem__("start", False)), inv, report)
    order = {p.step: p.message for p in v.problems if p.check == "order" and p.severity == "fail"}
    assert "shop_web_1" in order["restore/start/shop-web.debug-2"]


# --------------------------------------------------------------------------------------------- resources


def test_too_little_free_space_fails_and_unknown_space_warns(hyperv) -> None:
    inv, report, text = hyperv
    v = _run(text, inv, report)
    # The sample by hand: 412830113 bytes of image archive (shop/api:dev and its parent share it), volumes
    # 52430000 + 1288000000, writable layers 3435973836 + 1848211 + 63 + 1120, and the bases of the two commits
    # whose images are pulled, not saved (postgres 313870336, nginx 22601224), which images/commits.tar holds.
    layers = 3435973836 + 1848211 + 63 + 1120
    assert v.resources.parts == {"image_archives": 412830113, "volume_archives": 52430000 + 1288000000,
                                 "committed_layers": layers, "commit_base_layers": 313870336 + 22601224}
    assert v.resources.backup_bytes == sum(v.resources.parts.values())
    # The new WSL disk gets the archive, the pulled images (busybox, postgres, nginx), the commits and the volumes.
    pulls = 1232407 + 313870336 + 22601224
    assert v.resources.wsl_disk_bytes == 412830113 + pulls + layers + 52430000 + 1288000000
    assert v.resources.free_bytes == 41875279872
    # Both go to C: by default: what C: must hold is their sum.
    need = v.resources.backup_bytes + v.resources.wsl_disk_bytes
    assert v.resources.drives == (("C", need, 41875279872),)
    short = _run(text, inv, report, backup_free_bytes=need - 1)
    assert _status(short)["resources"] == "fail"
    assert any("the backups and the new WSL disk need" in line and "short" in line
               for line in _lines(short, "resources"))
    enough = _run(text, inv, report, backup_free_bytes=need)
    assert _status(enough)["resources"] == "pass"
    no_host = _run(text, dataclasses.replace(inv, host=None), report)
    assert _status(no_host)["resources"] == "warn"
    assert no_host.resources.free_bytes is None


def test_backups_on_another_drive_leave_c_the_new_wsl_disk(hyperv) -> None:
    inv, report, text = hyperv
    edited = _edit(text, lambda d: d["plan"].__setitem__("backup_path", "D:\\backups"))
    v = _run(edited, inv, report)
    assert v.resources.drives == (("C", v.resources.wsl_disk_bytes, 41875279872),
                                  ("D", v.resources.backup_bytes, 612142317568))
    drives = tuple(dataclasses.replace(d, free_bytes=v.resources.wsl_disk_bytes - 1) if d.name == "C" else d
                   for d in inv.host.drives)
    small_c = _run(edited, dataclasses.replace(inv, host=dataclasses.replace(inv.host, drives=drives)), report)
    assert [p.subject for p in small_c.problems if p.check == "resources"] == ["drive C:"]
    assert "the new WSL disk need" in next(p.message for p in small_c.problems if p.check == "resources")


def test_an_unknown_size_keeps_the_free_space_check_from_passing(hyperv) -> None:
    inv, report, text = hyperv
    vols = tuple(dataclasses.replace(x, size=None) if x.name == "shop_pgdata" else x for x in inv.volumes)
    v = _run(text, dataclasses.replace(inv, volumes=vols), report, backup_free_bytes=10**15)
    assert _status(v)["resources"] == "warn"
    assert v.resources.unknown == ("volume shop_pgdata",)
    assert any("cannot pass" in line for line in _lines(v, "resources", "warn"))


def test_the_backup_drive_comes_from_the_backup_path(hyperv) -> None:
    inv, report, text = hyperv
    edited = _edit(text, lambda d: d["plan"].__setitem__("backup_path", "D:\\backups"))
    v = _run(edited, inv, report)
    assert (v.resources.drive, v.resources.free_bytes) == ("D", 612142317568)


def test_a_volume_without_size_is_not_counted_but_named(hyperv) -> None:
    inv, report, text = hyperv
    vols = tuple(dataclasses.replace(x, size=None) if x.name == "shop_pgdata" else x for x in inv.volumes)
    v = _run(text, dataclasses.replace(inv, volumes=vols), report)
    assert v.resources.unknown_volumes == ("shop_pgdata",)
    assert v.resources.parts["volume_archives"] == 52430000


def test_a_running_kept_container_left_running_while_its_volume_is_copied(hyperv) -> None:
    inv, report, text = hyperv
    # start = false drops the freeze step too: shop_db_1 would still write to shop_pgdata during the copy.
    v = _run(_edit(text, lambda d: d["containers"]["shop_db_1"].__setitem__("start", False)), inv, report)
    order = {p.step: p.message for p in v.problems if p.check == "order" and p.severity == "fail"}
    assert "shop_db_1" in order["backup/volume/shop_pgdata"]


def test_compose_needs_its_volumes_restored_first(hyperv) -> None:
    inv, report, text = hyperv

    def to_compose(d):
        c = d["containers"]["shop_db_1"]
        c["strategy"], c["commit"], c["image"] = "compose", False, "postgres:12"
        c["compose"] = {"project": "shop", "service": "db", "working_dir": "C:\\src\\shop",
                        "files": ["C:\\src\\shop\\docker-compose.yml"]}

    assert _lines(_run(_edit(text, to_compose), inv, report), "order") == []

    def and_skip(d):
        to_compose(d)
        d["volumes"]["shop_pgdata"]["strategy"] = "skip"

    order = {p.step: p.message for p in _run(_edit(text, and_skip), inv, report).problems
             if p.check == "order" and p.severity == "fail"}
    assert list(order) == ["restore/compose/shop"]
    assert "shop_pgdata" in order["restore/compose/shop"] and "empty" in order["restore/compose/shop"]


def test_a_create_line_docker_would_reject_fails_at_its_step(hyperv) -> None:
    inv, report, text = hyperv
    v = _run(_edit(text, lambda d: d["containers"]["shop_web_1"]["create"].insert(3, "--frobnicate")), inv, report)
    order = [(p.step, p.message) for p in v.problems if p.check == "order" and p.severity == "fail"]
    assert order[0][0] == "restore/create/shop_web_1" and "--frobnicate" in order[0][1]
