"""The planner: default decisions, plan.toml round trip and re-planning with user edits, the step list's order."""
from __future__ import annotations

import json

import dataclasses
import datetime
from pathlib import Path

import pytest

from migrate.assess import assess, load_catalog
from migrate.assess.config import Config
from migrate.errors import InputError
from migrate.model import Container, Image, Inventory, Backend
from migrate.plan.build import build_program, build_steps
from migrate.plan.layout import safe_name
from migrate.plan.decide import decide
from migrate.plan.planfile import parse_plan, render_plan, strip_reasons, toml_value
from migrate.plan.steps import PHASES, BackupPath, Word

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ("hyperv-2x", "lcow", "near-wsl2")


def _inventory(name: str) -> Inventory:
    from migrate.cli import build_options, load_or_scan

    return load_or_scan(build_options(bundle=ROOT / "samples" / name))


@pytest.fixture(scope="module", params=SAMPLES)
def sample(request: pytest.FixtureRequest) -> tuple[Inventory, object]:
    inv = _inventory(request.param)
    report = assess(inv, load_catalog(), Config(), datetime.date(2026, 11, 28), "test")
    return inv, report


def test_plan_toml_round_trips(sample) -> None:
    inv, report = sample
    plan = decide(inv, report, "test")
    text, notices = render_plan(plan)
    assert notices == []
    assert parse_plan(text) == strip_reasons(plan)


def test_findings_are_plan_values_and_only_rule_ids(sample) -> None:
    """The findings that shaped an object or a switch step are keys of plan.toml (so the runbook written from the
    file names them on its steps); anything but a rule id there is refused."""
    inv, report = sample
    plan = decide(inv, report, "test")
    text, _ = render_plan(plan)
    parsed = parse_plan(text)
    assert [o.findings for o in parsed.images + parsed.volumes + parsed.containers] == \
        [o.findings for o in plan.images + plan.volumes + plan.containers]
    assert parsed.switch.kind_findings == plan.switch.kind_findings
    marked = next((o for o in plan.containers + plan.images if o.findings), None)
    assert marked is not None
    key = f"findings = {toml_value(list(marked.findings))}"
    assert key in text
    for bad in ("x; rm -rf /", "CTR001'", ""):
        with pytest.raises(InputError) as exc:
            parse_plan(text.replace(key, f"findings = {toml_value([*marked.findings, bad])}", 1))
        assert ".findings" in str(exc.value) and "is not a rule id" in str(exc.value)


def test_every_object_has_a_decision_and_steps(sample) -> None:
    inv, report = sample
    plan = decide(inv, report, "test")
    assert {i.id for i in plan.images} == {i.id for i in inv.images}
    assert {v.name for v in plan.volumes} == {v.name for v in inv.volumes}
    assert {c.name for c in plan.containers} == {c.name.lstrip("/") for c in inv.containers}
    steps = build_steps(plan)
    words = [a for s in steps for a in s.argv if isinstance(a, str)]
    for im in plan.images:
        if im.strategy == "save":
            assert any(s.argv[:1] == ("save",) and (set(im.tags) or {im.id}) <= set(s.argv) for s in steps)
        if im.strategy == "repull":
            assert im.reference in words
    for v in plan.volumes:
        if v.strategy == "copy":
            assert {f"backup/volume/{safe_name(v.name)}", f"restore/volume-data/{safe_name(v.name)}"} <= \
                {s.id for s in steps}
    for c in plan.containers:
        ids = {s.id for s in steps}
        if c.strategy == "recreate":
            assert f"restore/create/{safe_name(c.name)}" in ids
        if c.start and c.strategy != "skip":
            assert f"restore/start/{safe_name(c.name)}" in ids


def test_steps_respect_phases_dependencies_and_the_backup_gate(sample) -> None:
    inv, report = sample
    steps = build_steps(decide(inv, report, "test"))
    assert len({s.id for s in steps}) == len(steps)
    seen: set[str] = set()
    phase_rank = [PHASES.index(s.phase) for s in steps]
    assert phase_rank == sorted(phase_rank), "phases run in order"
    produced: set[str] = set()
    for s in steps:
        assert set(s.depends_on) <= seen, f"{s.id} depends on a later step"
        assert set(s.consumes) <= produced, f"{s.id} reads an artifact no earlier step wrote"
        produced |= {a.path for a in s.produces}
        seen.add(s.id)
    ids = [s.id for s in steps]
    gate = ids.index("backup/verify")
    assert all(PHASES.index(s.phase) < PHASES.index("switch") for s in steps[:gate])
    assert all(s.engine != "source" for s in steps[gate:]), "nothing touches the old engine after the gate"
    assert steps[-1].id == "cleanup/finish"


def test_the_same_inventory_gives_the_same_plan_and_steps(sample) -> None:
    inv, report = sample
    a, _ = render_plan(decide(inv, report, "test"))
    b, _ = render_plan(decide(inv, report, "test"))
    assert a == b
    assert build_steps(parse_plan(a)) == build_steps(parse_plan(b))


def test_hand_edits_survive_replanning() -> None:
    inv = _inventory("hyperv-2x")
    report = assess(inv, load_catalog(), Config(), datetime.date(2026, 11, 28), "test")
    text, _ = render_plan(decide(inv, report, "test"))
    name = next(c.name.lstrip("/") for c in inv.containers
                if c.running and c.name.lstrip("/").replace("_", "").isalnum())
    header = f"[containers.{name}]\n"
    assert header in text
    edited = text.replace(header, header + "# keep this one: the team lead asked\n", 1)
    start = edited.index(header)
    block_end = edited.index("\n[", start + 1)
    block = edited[start:block_end]
    new_block = block.replace('strategy = "recreate"', 'strategy = "skip"  # not needed any more', 1)
    assert new_block != block
    edited = edited[:start] + new_block + edited[block_end:]
    again, notices = render_plan(decide(inv, report, "test"), edited)
    plan = parse_plan(again)
    assert next(c for c in plan.containers if c.name == name).strategy == "skip"
    assert "# keep this one: the team lead asked" in again
    assert 'strategy = "skip"  # not needed any more' in again
    assert any(n.startswith(f"containers.{name}.strategy") for n in notices)
    # Generated reasons are rewritten, not piled up.
    first_why = text[text.index(header):].split("\n")[1]
    assert first_why.startswith("# why:")
    assert again.count(first_why) == text.count(first_why)
    # Re-planning the re-planned file changes nothing more.
    assert render_plan(decide(inv, report, "test"), again)[0] == again


def test_objects_gone_from_the_engine_leave_the_plan() -> None:
    inv = _inventory("hyperv-2x")
    text, _ = render_plan(decide(inv, None, "test"))
    gone = inv.containers[0].name.lstrip("/")
    smaller = dataclasses.replace(inv, containers=inv.containers[1:])
    again, _ = render_plan(decide(smaller, None, "test"), text)
    assert gone not in {c.name for c in parse_plan(again).containers}


@pytest.mark.parametrize(("edit", "message"), [
    (('strategy = "recreate"', 'strategy = "recreat"'),
     "networks.shop_default.strategy: 'recreat' is not one of recreate, skip"),
    (("[plan]\n", "[plan]\nbogus = 1\n"), "plan: unknown key 'bogus'"),
    (('schema = "wsl2-migrate/plan/1"', 'schema = "x"'), "plan.schema"),
    (("[plan]\n", "[plan\n"), "not valid TOML"),
])
def test_bad_plans_get_one_line_errors(edit: tuple[str, str], message: str) -> None:
    text, _ = render_plan(decide(_inventory("hyperv-2x"), None, "test"))
    assert edit[0] in text
    with pytest.raises(InputError) as exc:
        parse_plan(text.replace(edit[0], edit[1], 1), "my-plan.toml")
    assert str(exc.value.message).startswith("my-plan.toml: ")
    assert message in exc.value.message and "\n" not in exc.value.message


def _inv(images: list[Image], containers: list[Container], backend: str = "hyperv") -> Inventory:
    return Inventory(backend=Backend(kind=backend), images=tuple(images), containers=tuple(containers))


def test_image_strategies() -> None:
    images = [
        Image("sha256:" + "1" * 64, tags=("reg.example/app:1",), repo_digests=("reg.example/app@sha256:" + "a" * 64,),
              os="linux", architecture="arm64", variant="v8", layers=("l1",)),
        Image("sha256:" + "2" * 64, tags=("local/app:1",), os="linux", layers=("l1", "l2")),
        Image("sha256:" + "3" * 64, dangling=True, os="linux", layers=("l3",)),
        Image("sha256:" + "4" * 64, tags=("mcr.microsoft.com/windows/nanoserver:ltsc2022",), os="windows"),
        Image("sha256:" + "5" * 64, tags=("registry.k8s.io/pause:3.9",), os="linux",
              repo_digests=("registry.k8s.io/pause@sha256:" + "b" * 64,)),
        Image("sha256:" + "6" * 64, dangling=True, os="linux", layers=("l1", "l6")),
    ]
    used = Container("c" * 64, "/uses-dangling", "sha256:" + "6" * 64, image_id="sha256:" + "6" * 64)
    plan = decide(_inv(images, [used]), None, "test")
    got = {p.id[7:8]: p for p in plan.images}
    assert got["1"].strategy == "repull" and got["1"].reference.startswith("reg.example/app@sha256:")
    assert got["1"].platform == "linux/arm64/v8"
    assert got["2"].strategy == "save"
    assert got["3"].strategy == "skip" and got["4"].strategy == "skip" and got["5"].strategy == "skip"
    assert got["6"].strategy == "save", "a dangling image a container runs is kept"
    assert got["2"].archive == got["6"].archive, "images sharing layer l1 share an archive"
    # The untagged one is tagged by the plan first and saved by that tag: a containerd image store on the new
    # engine would not find it by its classic id.
    assert got["6"].tags == (got["6"].plan_tag,) == ("wsl2-migrate/image:" + "6" * 12,)
    steps = build_steps(plan)
    save = next(s for s in steps if s.argv[:1] == ("save",))
    tag = next(s for s in steps if s.argv[:1] == ("tag",) and s.engine == "source")
    assert tag.argv == ("tag", "--", "sha256:" + "6" * 64, got["6"].plan_tag) and tag.id in save.depends_on
    assert save.argv[2] == BackupPath(got["2"].archive) and got["6"].plan_tag in save.argv
    assert "sha256:" + "6" * 64 not in save.argv
    # The container that runs it is created from that tag.
    cp = plan.containers[0]
    assert cp.image == got["6"].plan_tag and cp.create[cp.create.index("--") + 1] == got["6"].plan_tag
    program = build_program(plan)
    untag = next(s for s in program.rollback if s.argv[:3] == ("image", "rm", "--"))
    assert untag.argv[3] == got["6"].plan_tag and untag.only_if_started == tag.id


def test_digest_reference_to_a_saved_image_is_recreated_from_its_tag() -> None:
    """A load drops registry digests, and the containerd image store does not know the classic id: the container
    is created from the tag the image has."""
    iid = "sha256:" + "7" * 64
    image = Image(iid, tags=("local/app:1",), os="linux")
    c = Container("d" * 64, "/web", "local/app@sha256:" + "e" * 64, image_id=iid)
    plan = decide(_inv([image], [c]), None, "test")
    cp = plan.containers[0]
    assert cp.image == "local/app:1" and cp.create[cp.create.index("--") + 1] == "local/app:1"
    assert iid not in cp.create


def test_volume_copy_uses_the_helper_and_keeps_owners() -> None:
    from migrate.model import Volume

    inv = dataclasses.replace(_inv([Image("sha256:" + "8" * 64, tags=("alpine:3.19",), os="linux")], []),
                              volumes=(Volume("data"),))
    steps = build_steps(decide(inv, None, "test"))
    backup = next(s for s in steps if s.id == "backup/volume/data")
    assert "alpine:3.19" in backup.argv and any("tar -c --numeric-owner" in a for a in backup.argv
                                                  if isinstance(a, str))
    assert Word((BackupPath("volumes"), ":/backup")) in backup.argv
    assert any(":ro" in a for a in backup.argv if isinstance(a, str)), "the source volume is mounted read-only"


def test_lcow_source_steps_ask_for_linux_containers() -> None:
    """On LCOW the old engine is the Windows one: helper containers there need --platform linux; not on WSL 2."""
    inv = _inventory("lcow")
    steps = build_steps(decide(inv, None, "test"))
    runs = [s for s in steps if s.argv[:1] in (("run",), ("pull",))]
    assert any(s.engine == "source" for s in runs) and any(s.engine == "target" for s in runs)
    for s in runs:
        has = "--platform" in s.argv and s.argv[s.argv.index("--platform") + 1] == "linux"
        assert has == (s.engine == "source"), s.id
    hyperv = build_steps(decide(_inventory("hyperv-2x"), None, "test"))
    assert not any("--platform" in s.argv and s.argv[0] == "run" for s in hyperv)


def test_daemon_config_promises_of_the_engine_rules_are_planned() -> None:
    """ENG003: Windows-only registry settings go into the Linux daemon.json; ENG004/006: storage keys come out;
    ENG001/002: the new engine is checked for the registries after the switch."""
    from migrate.model import ConfigFile, Engine, Settings

    lcow = build_steps(decide(_inventory("lcow"), None, "test"))
    step = next(s for s in lcow if s.id == "switch/daemon-config-linux")
    assert step.op.file.key == "daemon-linux"
    assert json.loads(step.op.set_json)["registry-mirrors"] == ["https://mirror.corp.example.com"]
    wait = next(s for s in lcow if s.id == "switch/wait-engine")
    assert [(c.expect, c.mode) for c in wait.op.checks] == [("https://mirror.corp.example.com/", "has-word"),
                                                           ("registry.corp.example.com:5000", "has-word")]

    inv = Inventory(backend=Backend(kind="hyperv"),
                    engine=Engine(registry_mirrors=("https://m.example/",), insecure_registries=("127.0.0.0/8",)),
                    settings=Settings(daemon_linux=ConfigFile(values={"data-root": "/mnt/x", "storage-driver": "aufs",
                                                                      "debug": True})))
    steps = build_steps(decide(inv, None, "test"))
    step = next(s for s in steps if s.id == "switch/daemon-config-linux")
    assert (step.op.file.key, step.op.remove, json.loads(step.op.set_json)) == \
        ("daemon-linux", ("data-root", "storage-driver"), {})
    wait = next(s for s in steps if s.id == "switch/wait-engine")
    assert [(c.expect, c.mode) for c in wait.op.checks] == [("https://m.example/", "has-word")]
    assert [s.id for s in steps].index("switch/daemon-config-linux") < [s.id for s in steps].index(
        "switch/start-desktop"), "edited while Docker Desktop is stopped"
