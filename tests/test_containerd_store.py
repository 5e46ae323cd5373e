"""The containerd image store on the target: image ids differ from the classic store's, content does not.

Debian's dockerd 20.10 has no containerd image store, so no engine here can show it: the store's real output, pasted
into public issues (tests/data/containerd/README.md), and the recording double's containerd mode stand in.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from migrate.inventory import normalize
from migrate.inventory.engineinfo import read_capture
from migrate.model import Engine, Image, Inventory
from migrate.plan.checks import IMAGE_FORMAT, check_passes, container_check, image_check, image_store
from migrate.verify.compare import compare
from tests.simworld import cleanup_place, world

DATA = Path(__file__).resolve().parent / "data" / "containerd"
CLASSIC_ID = "sha256:5e981582c25298a01492a4af9f5e9548e4855248106aecec35515f7a726dc396"
"""The config digest the classic engine of docker/cli#6996 shows for the image (cli-6996-classic.txt)."""
TAG = "test:7bwkndsdbb4ialj34vsz8jx3i3hs3kdh"


@pytest.fixture(scope="module", autouse=True)
def _cleanup():
    yield
    cleanup_place()


def _containerd_engine() -> Engine:
    cap = read_capture((DATA / "moby-49068-info-containerd.txt").read_text(encoding="utf-8"), "info")
    return normalize.engine_from_info(cap.info, cap.version, True, cap.client)


def _containerd_image() -> Image:
    raw = json.loads((DATA / "cli-6996-containerd-inspect.json").read_text(encoding="utf-8"))
    (image,) = normalize.images_from_inspect(raw)
    return image


def _classic_side() -> Inventory:
    """The classic engine of the same issue: its id and tag from its output, the diff ids its config holds."""
    text = (DATA / "cli-6996-classic.txt").read_text(encoding="utf-8")
    assert CLASSIC_ID in text and TAG.split(":")[1] in text
    layers = _containerd_image().layers  # one archive, one config: the same diff ids (README)
    return Inventory(engine=Engine(storage_driver="overlay2", driver_status=(("Backing Filesystem", "extfs"),)),
                     images=(Image(id=CLASSIC_ID, tags=(TAG,), os="linux", layers=layers),))


def test_the_captured_engine_reports_the_containerd_store() -> None:
    assert image_store(_containerd_engine().driver_status) == "containerd"
    assert image_store(_classic_side().engine.driver_status) == "classic"
    assert image_store(None) == image_store([["driver-type"]]) == "classic"


def test_the_captured_ids_differ_and_the_content_does_not() -> None:
    image = _containerd_image()
    assert image.id != CLASSIC_ID and image.tags == (TAG,)
    assert image.layers == ("sha256:f003e077fcffe7c286bb778c1514ebe6c7388d057e705b8bc43d6be413837a43",)


def test_an_image_check_holds_on_the_containerd_store_by_content_only() -> None:
    image = _containerd_image()
    check = image_check(TAG, CLASSIC_ID, image.layers)
    assert check.argv[3] == IMAGE_FORMAT
    # What `docker image inspect --format IMAGE_FORMAT` prints on that engine (Go's range leaves a trailing space).
    got = (f"{image.id}|" + "".join(layer + " " for layer in image.layers)).strip()
    assert check_passes(check, got, check.expect, "containerd")
    assert not check_passes(check, got, check.expect, "classic")  # the classic store compares the id too
    other = f"{image.id}|sha256:{'0' * 64}"
    assert not check_passes(check, other, check.expect, "containerd")
    # Content unknown to the plan cannot pass on a containerd store.
    assert not check_passes(image_check(TAG, CLASSIC_ID), f"{image.id}|", f"{CLASSIC_ID}|", "containerd")


def test_a_container_check_compares_its_state_on_the_containerd_store() -> None:
    check = container_check("web", True, image_id=CLASSIC_ID)
    shown = _containerd_image().id
    assert check_passes(check, f"{shown}|true", check.expect, "containerd")
    assert not check_passes(check, f"{shown}|false", check.expect, "containerd")
    assert not check_passes(check, f"{shown}|true", check.expect, "classic")


def test_verify_matches_images_across_stores_by_tag_and_content() -> None:
    before = _classic_side()
    after = Inventory(engine=_containerd_engine(), images=(_containerd_image(),))
    result = compare(before, after)
    assert result.ok, result.objects
    assert [(o.kind, o.name, o.status) for o in result.objects] == [("image", CLASSIC_ID, "equal")]
    assert any("containerd" in n for n in result.notes)


def test_verify_still_fails_an_image_of_other_content_across_stores() -> None:
    before = _classic_side()
    changed = dataclasses.replace(_containerd_image(), layers=(f"sha256:{'1' * 64}",))
    result = compare(before, Inventory(engine=_containerd_engine(), images=(changed,)))
    assert not result.ok
    assert {(o.name, o.status) for o in result.objects} == {(CLASSIC_ID, "missing"), (changed.id, "extra")}


def test_verify_on_one_store_compares_ids() -> None:
    """Same store on both sides: the content alone is not enough (the ids must be equal)."""
    before = _classic_side()
    relabelled = dataclasses.replace(_containerd_image(), id=f"sha256:{'2' * 64}")
    result = compare(before, dataclasses.replace(before, images=(relabelled,)))
    assert not result.ok


@pytest.mark.parametrize("sample", ["hyperv-2x", "lcow"])
def test_a_program_runs_to_the_end_onto_a_containerd_target(tmp_path: Path, sample: str) -> None:
    """The double shows every image by a manifest digest on a containerd target and finds none by its config
    digest: the run's checks (loads, pulls, tags, the final check) hold by content there."""
    w = world(tmp_path, sample)
    w.docker.engines["target"].store = "containerd"
    outcome = w.run()
    assert outcome.status == "finished", outcome.message
    shown = w.docker.engines["target"]
    assert any(r.id == "verify/target" and r.status == "done" for r in outcome.results)
    assert all(shown.shown(i) != i for i in set(shown.images.values()))


def test_the_checks_fail_on_a_containerd_target_the_run_takes_for_classic(tmp_path: Path, monkeypatch) -> None:
    """The store decides the comparison: read as classic, the first image check on the containerd target fails."""
    import migrate.rehearse.interpreter as interpreter

    monkeypatch.setattr(interpreter, "image_store", lambda status: "classic")
    w = world(tmp_path, "hyperv-2x")
    w.docker.engines["target"].store = "containerd"
    outcome = w.run()
    assert outcome.status == "failed"
    assert outcome.results[-1].id.startswith(("restore/load/", "restore/pull/", "restore/tag/"))
