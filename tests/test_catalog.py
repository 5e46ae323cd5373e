"""The rule catalog: loading and its errors, the predicate language, derived facts, assess() and docs/rules.md."""
from __future__ import annotations

import datetime
import math
import re
from pathlib import Path

import pytest

from migrate.assess import Config, assess, load_catalog, render_rules_md
from migrate.assess.catalog import AREAS, ID_PATTERN, Catalog, expand_example, load_rule_file
from migrate.assess.facts import Facts
from migrate.assess.predicates import compile_predicate, evaluate
from migrate.errors import InputError
from migrate.plan.assessment import assess_and_plan
from migrate.model import (
    BACKENDS,
    SEVERITIES,
    Container,
    Inventory,
    Report,
    from_data,
)

from tests.estimates import assessed

ROOT = Path(__file__).resolve().parent.parent
TODAY = datetime.date(2025, 6, 1)
CATALOG = load_catalog()

RULE = '''
[[rule]]
id = "{id}"
title = "A test rule"
severity = "{severity}"
backends = {backends}
subject = "{subject}"
when = {when}
message = "{message}"
why = "Because."
fix = "Do it."
plan = ""
references = ["https://example.org/doc"]
{extra}
[[rule.example]]
expect = "fail"
inventory = {{ containers = [ {{ name = "web" }} ] }}
'''


def rule_text(**kw: str) -> str:
    values = {"id": "CTR901", "severity": "warning", "backends": '["hyperv"]', "subject": "containers",
              "when": '{ field = "name", eq = "web" }', "message": "Container {name}.", "extra": ""}
    values.update(kw)
    return RULE.format(**values)


def inv(**data: object) -> Inventory:
    """An inventory from partial JSON data, expanded like rule examples."""
    return from_data(Inventory, expand_example(dict(data), "hyperv"))


# ---------------------------------------------------------------------------------------------------
# Meta-tests over the built-in catalog


def test_catalog_has_the_issue_families() -> None:
    areas = {r.area for r in CATALOG.rules}
    assert {"HOST", "DESK", "LCOW"} <= areas
    assert len([r for r in CATALOG.rules if r.area == "HOST"]) >= 9
    assert len([r for r in CATALOG.rules if r.area == "DESK"]) >= 12
    assert len([r for r in CATALOG.rules if r.area == "LCOW"]) >= 5


def test_every_rule_is_complete() -> None:
    ids = [r.id for r in CATALOG.rules]
    assert len(ids) == len(set(ids))
    assert ids == sorted(ids)
    for r in CATALOG.rules:
        assert ID_PATTERN.match(r.id) and r.area in AREAS, r.id
        assert r.title and r.message and r.why and r.fix, r.id
        assert r.severity in SEVERITIES, r.id
        assert r.backends and set(r.backends) <= set(BACKENDS), r.id
        assert any(re.match(r"^https://[^\s/]+\.[a-z]+/", u) for u in r.references), r.id
        expects = {e.expect for e in r.examples}
        assert expects == {"pass", "fail"}, f"{r.id} needs both a pass and a fail example"
        assert r.plan, f"{r.id}: built-in rules say what the planner does (or 'none')"


def test_get_is_case_insensitive_and_returns_none_when_unknown() -> None:
    assert CATALOG.get("host001").id == "HOST001"
    assert CATALOG.get("HOST999") is None


def test_rules_md_is_current() -> None:
    committed = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == render_rules_md(CATALOG), (
        "docs/rules.md is stale: regenerate it with "
        "`python -c 'from migrate.assess import *; print(render_rules_md(load_catalog()), end=\"\")' > docs/rules.md`")


def test_rules_md_documents_every_rule() -> None:
    text = render_rules_md(CATALOG)
    for r in CATALOG.rules:
        assert f"### {r.id}: {r.title}" in text
        assert r.references[0] in text


# ---------------------------------------------------------------------------------------------------
# Loading errors: one line, naming the file, the rule and the reason


@pytest.mark.parametrize(("kw", "reason"), [
    ({"severity": "critical"}, "severity 'critical'"),
    ({"backends": '["hyperv", "docker-machine"]'}, "unknown backend 'docker-machine'"),
    ({"subject": "pods"}, "subject 'pods'"),
    ({"id": "K8S001"}, "id 'K8S001'"),
    ({"when": '{ field = "nmae", eq = "web" }'}, "Container has no field 'nmae'"),
    ({"when": '{ field = "derived.bogus", eq = 1 }'}, "no derived fact 'bogus'"),
    ({"when": '{ field = "$.host.nope", exists = true }'}, "HostFacts has no field 'nope'"),
    ({"when": '{ some = "mounts", where = { field = "sauce", match = "x" } }'}, "Mount has no field 'sauce'"),
    ({"when": '{ field = "mounts.source", eq = "x" }'}, "follows a list"),
    ({"when": '{ field = "name", match = "([" }'}, "bad regular expression"),
    ({"when": '{ field = "memory", gt = "lots" }'}, "does not fit the field's type"),
    ({"when": '{ field = "name", eq = "web", ne = "db" }'}, "exactly one operator"),
    ({"when": '{ field = "name", equals = "web" }'}, "unknown key 'equals'"),
    ({"message": "Container {nmae}."}, "message placeholder {nmae}"),
    ({"message": "Size {size_rw:megabytes}."}, "unknown format 'megabytes'"),
    ({"extra": 'severity_note = "x"'}, "unknown key 'severity_note'"),
])
def test_invalid_rule_is_rejected(kw: dict[str, str], reason: str) -> None:
    with pytest.raises(InputError) as err:
        load_rule_file("org/rules.toml", rule_text(**kw).encode())
    msg = err.value.message
    assert msg.startswith("org/rules.toml: rule "), msg
    assert reason in msg, msg
    assert "\n" not in msg


def test_missing_key_and_bad_example_are_rejected() -> None:
    text = rule_text().replace('why = "Because."\n', "")
    with pytest.raises(InputError, match=r"rules.toml: rule CTR901: missing key 'why'"):
        load_rule_file("rules.toml", text.encode())
    text = rule_text().replace('{ name = "web" }', '{ name = "web", restart = "always" }')
    msg = r"rule CTR901: example 1: inventory \$\.containers\[0\]: unknown field 'restart'"
    with pytest.raises(InputError, match=msg):
        load_rule_file("rules.toml", text.encode())


def test_malformed_toml_names_file_and_line() -> None:
    with pytest.raises(InputError, match=r"^bad\.toml: malformed TOML: .*line 2"):
        load_rule_file("bad.toml", b'[[rule]]\nid = "HOST001\n')


def test_rules_dir_adds_rules_and_rejects_duplicate_ids(tmp_path: Path) -> None:
    (tmp_path / "acme.toml").write_text(rule_text(id="ACME-CTR001"), encoding="utf-8")
    cat = load_catalog([tmp_path])
    assert cat.get("ACME-CTR001") is not None and len(cat.rules) == len(CATALOG.rules) + 1
    (tmp_path / "dup.toml").write_text(rule_text(id="HOST001"), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_catalog([tmp_path])
    assert "dup.toml: rule HOST001: duplicate id (already defined in" in err.value.message
    assert "host.toml" in err.value.message


def test_missing_rules_dir(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="rules directory not found"):
        load_catalog([tmp_path / "nope"])


def test_rule_file_in_utf16_with_bom_loads() -> None:
    rules = load_rule_file("r.toml", rule_text().encode("utf-16"))
    assert rules[0].id == "CTR901"


# ---------------------------------------------------------------------------------------------------
# The predicate language


def holds(pred: dict, subject: object, inventory: Inventory | None = None) -> bool:
    root = type(subject)
    inventory = inventory or (subject if isinstance(subject, Inventory) else Inventory())
    return evaluate(compile_predicate(pred, root), subject, Facts(inventory))


WEB = from_data(Container, {
    "id": "c1", "name": "web", "image": "nginx:1.25", "memory": 536870912, "size_rw": 0,
    "labels": {"com.docker.compose.project": "shop", "db.password": "hunter2"},
    "binds": ["C:\\src\\shop:/usr/share/nginx/html:ro"],
    "mounts": [{"type": "bind", "source": "/host_mnt/c/src/shop", "destination": "/usr/share/nginx/html"},
               {"type": "volume", "source": "/var/lib/docker/volumes/data/_data", "destination": "/data",
                "name": "data"}],
    "env": ["PATH=/usr/bin", "API_TOKEN=abc123"],
})


@pytest.mark.parametrize(("pred", "expected"), [
    ({"field": "name", "eq": "web"}, True),
    ({"field": "name", "ne": "web"}, False),
    ({"field": "memory", "gt": 0}, True),
    ({"field": "memory", "le": 268435456}, False),
    ({"field": "image", "match": "^nginx:"}, True),
    ({"field": "image", "in": ["redis:7", "nginx:1.25"]}, True),
    ({"field": "env", "contains": "PATH=/usr/bin"}, True),
    ({"field": "labels", "contains": "com.docker.compose.project"}, True),
    ({"field": 'labels["com.docker.compose.project"]', "eq": "shop"}, True),
    ({"field": 'labels["missing.label"]', "exists": False}, True),
    ({"field": "size_root_fs", "exists": False}, True),
    ({"field": "links", "empty": True}, True),
    ({"all": []}, True),
    ({"any": []}, False),
    ({"not": {"field": "name", "eq": "db"}}, True),
    ({"all": [{"field": "name", "eq": "web"}, {"field": "privileged", "eq": False}]}, True),
    ({"some": "mounts", "where": {"field": "derived.host_path_style", "eq": "host_mnt"}}, True),
    ({"every": "mounts", "where": {"field": "type", "eq": "bind"}}, False),
    ({"count": "mounts", "where": {"field": "type", "in": ["bind", "volume"]}, "eq": 2}, True),
    ({"some": "binds", "where": {"field": "@", "match": r"^[A-Za-z]:\\"}}, True),
    ({"some": "labels", "where": {"all": [{"field": "key", "match": "password"}, {"field": "value", "ne": ""}]}},
     True),
    ({"field": "$.backend.kind", "eq": "unknown"}, True),
])
def test_operators(pred: dict, expected: bool) -> None:
    assert holds(pred, WEB) is expected


def test_unknown_never_matches_except_exists_and_empty() -> None:
    host = from_data(Inventory, {"host": {}}).host
    for op, value in (("eq", 1), ("ne", 2), ("lt", 2), ("gt", 0), ("in", [1, 2])):
        assert holds({"field": "wsl_default_version", op: value}, host) is False, op
    assert holds({"not": {"field": "wsl_default_version", "eq": 2}}, host) is True
    assert holds({"field": "wsl_default_version", "empty": True}, host) is True


def test_version_comparison_is_numeric() -> None:
    inventory = inv(settings={"desktop": {"desktop_version": "4.9.0"}})
    facts = Facts(inventory)
    for op, other, expected in (("lt", "4.10.1", True), ("gt", "4.9", False), ("ge", "4.9", True),
                                ("lt", "2.3.0.2", False)):
        pred = compile_predicate({"field": "derived.desktop_version", op: other, "as": "version"}, Inventory)
        assert evaluate(pred, inventory, facts) is expected, (op, other)
    # plain string comparison would say "4.9.0" > "4.10.1"
    pred = compile_predicate({"field": "derived.desktop_version", "gt": "4.10.1"}, Inventory)
    assert evaluate(pred, inventory, facts) is True


def test_ref_compares_two_fields() -> None:
    host = inv(host={"build": 22621}).host
    assert holds({"field": "build", "lt": {"ref": "derived.desktop_min_build"}}, host) is True
    host = inv(host={"build": 19045}).host
    assert holds({"field": "build", "lt": {"ref": "derived.desktop_min_build"}}, host) is False


# ---------------------------------------------------------------------------------------------------
# Derived facts


def test_planned_memory_prefers_wslconfig_then_desktop_then_host() -> None:
    base = {"host": {"memory_bytes": 32 * 2**30}}
    f = Facts(inv(**base, settings={"wslconfig": {"values": {"wsl2": {"memory": "6GB"}}},
                                    "desktop": {"memory_mib": 2048}}))
    assert (f.get(f.inv, "planned_wsl2_memory_bytes"), f.get(f.inv, "planned_wsl2_memory_source")) == (
        6 * 2**30, "wslconfig")
    f = Facts(inv(**base, settings={"desktop": {"memory_mib": 2048}}))
    assert f.get(f.inv, "planned_wsl2_memory_bytes") == 2048 * 2**20
    f = Facts(inv(**base))
    assert (f.get(f.inv, "planned_wsl2_memory_bytes"), f.get(f.inv, "planned_wsl2_memory_source")) == (
        16 * 2**30, "host-memory")
    f = Facts(inv())
    assert f.get(f.inv, "planned_wsl2_memory_bytes") is None


def test_size_facts_are_the_plans_estimate_and_unknown_without_it() -> None:
    inventory = inv(images=[{"size": 100, "tags": ["local:1"]}], engine={"os_type": "linux"},
                    host={"drives": [{"name": "C", "free_bytes": 10**9}]})
    f = Facts(inventory)
    assert f.get(inventory, "bytes_to_export") is None and f.get(inventory, "free_space_short") == ""
    report, _ = assessed(inventory, CATALOG)
    sized = Facts(inventory, estimate=report.estimate)
    assert (sized.get(inventory, "bytes_to_export"), sized.get(inventory, "wsl_disk_bytes")) == (100, 100)
    assert sized.get(inventory, "wsl_disk_drive") == "C"


def test_backup_drive_follows_backup_dir() -> None:
    inventory = inv(host={"drives": [{"name": "C:", "free_bytes": 5}, {"name": "D", "free_bytes": 9}]})
    report, _ = assessed(inventory, CATALOG)
    assert Facts(inventory, estimate=report.estimate).get(inventory, "backup_drive_free_bytes") == 5
    report, _ = assessed(inventory, CATALOG, Config(backup_dir="d:\\backups"))
    f = Facts(inventory, estimate=report.estimate)
    assert (f.get(inventory, "backup_drive"), f.get(inventory, "backup_drive_free_bytes")) == ("D", 9)


@pytest.mark.parametrize(("subnet", "collides"), [
    ("192.168.65.0/24", "192.168.65.0/24"), ("192.168.0.0/16", "192.168.65.0/24"),
    ("172.17.0.0/16", ""), ("10.0.75.0/24", ""), ("not-a-subnet", ""),
])
def test_subnet_collisions(subnet: str, collides: str) -> None:
    inventory = inv(networks=[{"name": "n", "ipam": [{"subnet": subnet}]}])
    assert Facts(inventory).get(inventory.networks[0], "collides_with") == collides


def test_desktop_subnet_from_settings() -> None:
    inventory = inv(settings={"desktop": {"values": {"vpnkitcidr": "10.99.0.0/24"}}},
                    networks=[{"name": "n", "ipam": [{"subnet": "10.99.0.128/25"}]}])
    assert Facts(inventory).get(inventory.networks[0], "collides_with") == "10.99.0.0/24"


def test_desktop_version_from_platform_name_and_dependents() -> None:
    inventory = inv(engine={"platform_name": "Docker Desktop 4.25.0 (126437)"},
                    containers=[{"name": "db"}, {"name": "app", "depends_on": ["db"]},
                                {"name": "worker", "depends_on": ["/db", "app"]}])
    f = Facts(inventory)
    assert f.get(inventory, "desktop_version") == "4.25.0"
    assert f.get(inventory.containers[0], "dependents") == ("app", "worker")


def test_lcow_detection_from_images_on_a_windows_engine() -> None:
    inventory = from_data(Inventory, expand_example(
        {"backend": {"kind": "windows"}, "engine": {"os_type": "windows"}, "images": [{"os": "linux"}]}, "windows"))
    assert Facts(inventory).get(inventory, "lcow_in_use") is True
    inventory = from_data(Inventory, expand_example(
        {"backend": {"kind": "windows"}, "engine": {"os_type": "windows"}, "images": [{"os": "windows"}]}, "windows"))
    assert Facts(inventory).get(inventory, "lcow_in_use") is False


# ---------------------------------------------------------------------------------------------------
# assess(): report fields, secrets


def test_assess_report() -> None:
    inventory = inv(
        host={"computer_name": "DEV-042", "build": 17763, "windows_users": 2,
              "drives": [{"name": "C", "free_bytes": 10**12}]},
        engine={"os_type": "linux", "name": "docker-desktop"},
        images=[{"size": 120_000_000, "tags": ["app:1"]}, {"size": 200_000_000,
                                                          "repo_digests": ["redis@sha256:" + "b" * 64]}],
        settings={"desktop": {"file": "C:\\Users\\j\\AppData\\Roaming\\Docker\\settings.json", "memory_mib": 2048,
                              "file_sharing": ["C:\\Users"]}},
        notes=[{"area": "volumes", "subject": "engine/df.json", "message": "volume sizes missing"}],
    )
    report, _ = assess_and_plan(inventory, CATALOG, Config(), TODAY, "9.9.9")
    assert isinstance(report, Report)
    assert report.verdict == "blocked"  # HOST001
    assert report.findings[0].rule == "HOST001" and report.findings[0].subject == "DEV-042"
    ranks = [SEVERITIES.index(f.severity) for f in report.findings]
    assert ranks == sorted(ranks, reverse=True)
    rules = [f.rule for f in report.findings]
    assert {"HOST009", "DESK003", "DESK008"} <= set(rules)
    desk3 = next(f for f in report.findings if f.rule == "DESK003")
    assert desk3.file.endswith("settings.json") and desk3.subject_kind == "settings"
    assert report.counts == {"images": 2, "containers": 0, "volumes": 0, "networks": 0, "project_files": 0}
    assert report.bytes_to_move == 120_000_000
    # 120 MB written and loaded at 60 MB/s, hashed twice at 200 MB/s, 200 MB pulled at 20 MB/s, the switch
    assert report.estimated_seconds == math.ceil(2 * 2 + 2 * 0.6 + 10) + 180
    assert report.actions == ("HOST001: Windows build is too old for WSL 2", "HOST009: Several Windows users "
                              "share the Hyper-V images, but WSL 2 keeps them per user")
    assert {f.rule for f in report.findings if f.needs_action} == {"HOST001", "HOST009"}
    assert report.rules_checked == len([r for r in CATALOG.rules if "hyperv" in r.backends])
    assert [n.area for n in report.blind_spots] == ["volumes"]
    assert "volume findings may be missing" in report.blind_spots[0].message
    assert report.tool_version == "9.9.9" and report.inventory_fingerprint.startswith("sha256:")


def test_blind_spots_for_missing_sources_and_ready_verdict() -> None:
    report = assess(inv(), CATALOG, Config(), TODAY, "1")
    assert report.verdict == "ready"
    assert [n.area for n in report.blind_spots] == ["engine", "host", "settings"]
    assert "HOST rules were not checked" in next(n.message for n in report.blind_spots if n.area == "host")


SECRET_RULE = rule_text(
    message="Container {name} env {env}, token {env}, labels {labels}, pw {labels[\\\"db.password\\\"]}.")


@pytest.mark.parametrize("show", [False, True])
def test_messages_never_leak_secrets_unless_asked(tmp_path: Path, show: bool) -> None:
    (tmp_path / "s.toml").write_text(SECRET_RULE, encoding="utf-8")
    cat = load_catalog([tmp_path])
    c = {"name": "web", "env": ["PATH=/usr/bin", "API_TOKEN=abc123"],
         "labels": {"db.password": "hunter2", "com.docker.compose.project": "shop"}}
    report = assess(inv(containers=[c]), cat, Config(), TODAY, "1", show_secrets=show)
    msg = next(f.message for f in report.findings if f.rule == "CTR901")
    for secret in ("abc123", "hunter2", "/usr/bin"):
        assert (secret in msg) is show, msg
    assert "com.docker.compose.project=shop" in msg and "API_TOKEN=" in msg


def test_values_are_redacted_but_never_the_rules_own_words() -> None:
    from migrate.assess.facts import Facts
    from migrate.assess.messages import fill
    from migrate.model import Container

    c = Container(id="c" * 64, name="web", image="x", cmd=("run", "--password=hunter2"),
                  labels={"db.password": "hunter2", "url": "http://bob:s3cret@proxy:3128"})
    template = ("Set token=abc123 or auth: basic in your own config; the cmd is {cmd}, the proxy {labels.url}, "
                "the password label {labels.db.password}.")
    msg = fill(template, c, Facts(Inventory(), {}))
    assert msg.startswith("Set token=abc123 or auth: basic in your own config; ")
    assert "hunter2" not in msg and "s3cret" not in msg
    assert "--password=<redacted>" in msg and "http://bob:<redacted>@proxy:3128" in msg


def test_empty_catalog_is_ready() -> None:
    report = assess(inv(host={"build": 1}), Catalog(()), Config(), TODAY, "1")
    assert report.findings == () and report.verdict == "ready" and report.rules_checked == 0
