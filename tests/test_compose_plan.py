"""Compose honoured (issue 10): a compose project whose files were read is re-created by `docker compose up
--no-start` in its folder, without the compose bookkeeping labels in its `create`; a committed service or one whose
files were not read is re-created with docker create, and the plan's `why` and CTR014 say why.

Debian ships no compose v2 plugin, so no compose runs here: these are properties of the program and of validate's
simulation of it.
"""
from __future__ import annotations

import dataclasses

from migrate.assess import load_catalog
from migrate.assess.catalog import expand_example
from migrate.model import Inventory, from_data
from migrate.plan.build import build_program
from migrate.plan.planfile import parse_plan, render_plan
from migrate.validate import validate
from migrate.validate.offline import consistency, offline_problems
from migrate.validate.state import initial_world
from tests.estimates import assessed

CATALOG = load_catalog()
API = "sha256:" + "a1" * 32
WEB = "sha256:" + "b2" * 32
DIR = "C:\\src\\shop"
FILE = "C:\\src\\shop\\docker-compose.yml"


def _labels(service: str, number: int, version: str) -> dict[str, str]:
    return {"com.docker.compose.project": "shop", "com.docker.compose.service": service,
            "com.docker.compose.container-number": str(number), "com.docker.compose.version": version,
            "com.docker.compose.config-hash": "9" * 64, "com.docker.compose.project.working_dir": DIR,
            "com.docker.compose.project.config_files": FILE, "com.example.team": "shop"}


def _container(name: str, service: str, number: int, image: str, image_id: str, version: str,
               size_rw: int = 0, depends: tuple[str, ...] = ()) -> dict:
    return {"id": name.encode().hex().ljust(64, "0")[:64], "name": name, "image": image, "image_id": image_id,
            "running": True, "state": "running", "size_rw": size_rw, "labels": _labels(service, number, version),
            "networks": [{"network": "shop_default"}],
            "compose": {"project": "shop", "service": service, "working_dir": DIR, "config_files": [FILE],
                        "container_number": str(number), "depends_on": list(depends)}}


def _inventory(version: str = "1.27.4", files_read: bool = True, api_rw: int = 0) -> Inventory:
    """A compose project: api, and web scaled to two containers that depend on api."""
    names = ("shop_api_1", "shop_web_1", "shop_web_2") if version.startswith("1.") else \
        ("shop-api-1", "shop-web-1", "shop-web-2")
    data = {
        "engine": {"os_type": "linux"},
        "images": [{"id": API, "tags": ["shop/api:dev"], "os": "linux", "size": 1000, "layers": ["sha256:" + "1" * 64]},
                   {"id": WEB, "tags": ["nginx:1.25"], "os": "linux", "size": 2000,
                    "repo_digests": ["nginx@sha256:" + "c3" * 32]}],
        "networks": [{"name": "shop_default", "driver": "bridge",
                      "labels": {"com.docker.compose.project": "shop", "com.docker.compose.network": "default"}}],
        "containers": [_container(names[0], "api", 1, "shop/api:dev", API, version, api_rw),
                       _container(names[1], "web", 1, "nginx:1.25", WEB, version, depends=("api",)),
                       _container(names[2], "web", 2, "nginx:1.25", WEB, version, depends=("api",))],
        "project_files": [{"file": FILE, "file_kind": "compose"}] if files_read else [],
    }
    return from_data(Inventory, expand_example(data, "hyperv"))


def _plan(inv: Inventory):
    report, plan = assessed(inv, CATALOG)
    return report, plan


def test_a_project_whose_files_were_read_is_re_created_by_compose_up_no_start() -> None:
    inv = _inventory()
    report, plan = _plan(inv)
    assert {c.name: c.strategy for c in plan.containers} == dict.fromkeys(("shop_api_1", "shop_web_1",
                                                                           "shop_web_2"), "compose")
    program = build_program(plan)
    steps = {s.id: s for s in program.steps}
    assert not [s for s in steps if s.startswith("restore/create/")]
    compose = steps["restore/compose/shop"]
    # Made by Compose v1: --compatibility keeps the shop_web_1 names; web had two containers.
    assert compose.argv == ("compose", "--compatibility", "--project-name", "shop", "--project-directory", DIR,
                            "-f", FILE, "up", "--no-start", "--no-build", "--no-deps", "--scale", "web=2", "--",
                            "api", "web")
    assert compose.op.workdir == DIR  # type: ignore[union-attr]
    # Its images and network exist on the target before compose runs: it pulls and builds nothing.
    assert {"restore/load/images-01", "restore/network/shop_default", "switch/wait-engine"} <= set(compose.depends_on)
    assert any(d.startswith("restore/tag/nginx") for d in compose.depends_on)  # after the pull and its tag
    for name in ("shop_api_1", "shop_web_1", "shop_web_2"):
        assert compose.id in steps[f"restore/start/{name}"].depends_on
    assert "CTR005" in compose.findings
    assert {f.rule for f in report.findings if f.subject == "shop_api_1"} >= {"CTR005"}
    assert not [f for f in report.findings if f.rule == "CTR014"]


def test_compose_writes_its_own_labels_so_the_plan_does_not_carry_them() -> None:
    _, plan = _plan(_inventory())
    api = next(c for c in plan.containers if c.name == "shop_api_1")
    assert not [a for a in api.create if a.startswith("com.docker.compose.")]
    assert "com.example.team=shop" in api.create
    assert any(n.startswith("labels com.docker.compose.*: docker compose writes them") for n in api.not_carried)
    assert any("re-created by `docker compose up --no-start`" in w for w in api.why)


def test_a_compose_v2_project_keeps_its_names_without_compatibility() -> None:
    _, plan = _plan(_inventory(version="2.24.6"))
    compose = build_program(plan).step("restore/compose/shop")
    assert "--compatibility" not in compose.argv
    assert compose.argv[:3] == ("compose", "--project-name", "shop")


def test_the_simulation_and_validate_accept_the_compose_program() -> None:
    inv = _inventory()
    report, plan = _plan(inv)
    text, _ = render_plan(plan)
    reread = parse_plan(text)
    assert [c.compose for c in reread.containers] == [c.compose for c in plan.containers]
    cons, order, program = offline_problems(reread, initial_world(inv))
    assert program is not None and cons == []
    assert [p for p in order if p.severity == "fail"] == []
    result = validate(reread, inv, report, tool_version="test")
    assert {c.name: c.status for c in result.checks}["order"] == "pass", result.problems


def test_a_committed_service_is_re_created_with_docker_create_and_the_why_says_so() -> None:
    inv = _inventory(api_rw=4096)
    report, plan = _plan(inv)
    api = next(c for c in plan.containers if c.name == "shop_api_1")
    assert (api.strategy, api.commit) == ("recreate", True)
    assert api.compose is not None  # one edit away from strategy = "compose"
    why = " ".join(api.why)
    assert "committed, so it is re-created with docker create from the commit" in why
    assert "without the data in its writable layer" in why
    # docker create keeps the compose labels, config hash included, so compose leaves the container as it is.
    assert f"com.docker.compose.config-hash={'9' * 64}" in api.create
    steps = {s.id for s in build_program(plan).steps}
    assert {"backup/commit/shop_api_1", "restore/create/shop_api_1", "restore/compose/shop"} <= steps
    ctr014 = [f for f in report.findings if f.rule == "CTR014"]
    assert [f.subject for f in ctr014] == ["shop_api_1"]
    assert "writable layer holds data" in ctr014[0].message and "re-creates it with docker create" in \
        ctr014[0].message
    # The other services still go through compose, without api.
    assert build_program(plan).step("restore/compose/shop").argv[-2:] == ("--", "web")


def test_unread_compose_files_mean_docker_create_and_ctr014_says_so() -> None:
    report, plan = _plan(_inventory(files_read=False))
    assert {c.strategy for c in plan.containers} == {"recreate"}
    ctr014 = [f for f in report.findings if f.rule == "CTR014"]
    assert len(ctr014) == 3 and all("compose files were not read" in f.message for f in ctr014)
    assert not [f for f in report.findings if f.rule == "CTR005"]


def test_a_commit_with_strategy_compose_is_a_contradiction() -> None:
    _, plan = _plan(_inventory())
    edited = dataclasses.replace(plan, containers=tuple(
        dataclasses.replace(c, commit=True, commit_ref="wsl2-migrate/x:commit") if c.name == "shop_api_1" else c
        for c in plan.containers))
    problems = consistency(edited)
    assert [p.subject for p in problems] == ["containers.shop_api_1.commit"]
    assert "the commit would not be used" in problems[0].message
