"""Two networks of one name (engines before 25.0 allowed it): kept apart by id from scan through assess, plan
(plan.toml reads back) and verify."""
from __future__ import annotations

import datetime
import json
import shutil
from pathlib import Path

from migrate.assess import assess, load_catalog, load_config
from migrate.assess.evaluate import subject_name
from migrate.assess.facts import Facts
from migrate.inventory.names import unique_names
from migrate.inventory.scan import ScanOptions, scan
from migrate.plan.decide import decide
from migrate.plan.planfile import parse_plan, render_plan
from migrate.verify.compare import compare

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "hyperv-2x"
SECOND = "ff" + "0123456789abcdef" * 3 + "0123456789abcd"


def _bundle(tmp_path: Path) -> Path:
    """The hyperv-2x sample with a second `shop_default` network, which shop_db_1 is on."""
    bundle = tmp_path / "bundle"
    shutil.copytree(SAMPLE, bundle)
    nets_file, ctrs_file = bundle / "engine" / "networks.json", bundle / "engine" / "containers.json"
    nets = json.loads(nets_file.read_text())
    first = next(n for n in nets if n["Name"] == "shop_default")
    second = json.loads(json.dumps(first))
    second["Id"] = SECOND
    second["IPAM"]["Config"] = [{"Subnet": "172.31.0.0/16", "Gateway": "172.31.0.1"}]
    second["Containers"] = {}
    nets.append(second)
    nets_file.write_text(json.dumps(nets))
    ctrs = json.loads(ctrs_file.read_text())
    db = next(c for c in ctrs if c["Name"] == "/shop_db_1")
    db["NetworkSettings"]["Networks"]["shop_default"]["NetworkID"] = SECOND
    first["Containers"].pop(db["Id"], None)
    nets_file.write_text(json.dumps(nets))
    ctrs_file.write_text(json.dumps(ctrs))
    return bundle


def test_duplicate_network_names_through_assess_plan_and_verify(tmp_path: Path) -> None:
    inv = scan(ScanOptions(bundle=_bundle(tmp_path), use_engine=False), "test")
    shop = [n for n in inv.networks if n.name == "shop_default"]
    assert len(shop) == 2
    by_id = {n.id: n for n in shop}
    assert set(by_id[SECOND].containers) == {"shop_db_1"}
    assert "shop_db_1" not in next(n for n in shop if n.id != SECOND).containers

    # Assess: a shared name is shown with the id beside it.
    facts = Facts(inv)
    assert facts.duplicates["network"] == frozenset({"shop_default"})
    assert subject_name("network", by_id[SECOND], facts.duplicates) == f"shop_default ({SECOND[:12]})"
    catalog = load_catalog()
    report = assess(inv, catalog, load_config(None, catalog), datetime.date(2026, 12, 5), "test")

    # Plan: two names the new engine takes, and a plan.toml that reads back.
    plan = decide(inv, report, "test")
    names = sorted(n.name for n in plan.networks)
    assert names == ["shop_default", f"shop_default-{SECOND[:12]}"]
    renamed = next(n for n in plan.networks if n.name != "shop_default")
    assert renamed.args[-1] == f"shop_default-{SECOND[:12]}" and "172.31.0.0/16" in renamed.args
    assert any("another network is named 'shop_default' too" in w for w in renamed.why)
    db = next(c for c in plan.containers if c.name == "shop_db_1")
    assert f"shop_default-{SECOND[:12]}" in db.create and "shop_default" not in db.create
    assert f"shop_default-{SECOND[:12]}" in db.networks
    text, _ = render_plan(plan)
    again = parse_plan(text, "plan.toml")
    assert sorted(n.name for n in again.networks) == names

    # Verify: the target holds the two networks under their new names; each is compared with its own.
    after = unique_names(inv)
    result = compare(inv, after)
    nets = [o for o in result.objects if o.kind == "network"]
    assert sorted(o.name for o in nets) == names
    assert all(o.status == "equal" for o in result.objects), [o for o in result.objects if o.status != "equal"]
    # Either side is renamed the same way, so the scan compared with itself keeps the two networks apart.
    flat = compare(inv, inv)
    assert {o.name for o in flat.objects if o.kind == "network"} == set(names)
