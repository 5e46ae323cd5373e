"""compare(): what counts as equal, missing, different, skipped and extra, on a real captured Hyper-V inventory."""
from __future__ import annotations

import dataclasses
import json
from dataclasses import replace
from pathlib import Path

import pytest

from migrate.inventory.scan import ScanOptions, scan
from migrate.model import Container, Inventory, IpamConfig, to_data
from migrate.verify.compare import carried_fields, compare, plan_skips, result_data

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "hyperv-2x"


@pytest.fixture(scope="module")
def before() -> Inventory:
    inv = scan(ScanOptions(bundle=SAMPLE), "test")
    # Give the volumes digests, as `scan --volume-digests` would.
    vols = tuple(replace(v, digest=f"sha256:{i:064x}") for i, v in enumerate(inv.volumes, start=1))
    return replace(inv, volumes=vols)


def _ctr(inv: Inventory, name: str) -> Container:
    return next(c for c in inv.containers if c.name == name)


def _with_ctr(inv: Inventory, name: str, **changes) -> Inventory:
    return replace(inv, containers=tuple(replace(c, **changes) if c.name == name else c for c in inv.containers))


def _status(result) -> dict[tuple[str, str], str]:
    return {(o.kind, o.name): o.status for o in result.objects}


def _diffs(result, name: str) -> dict[str, tuple]:
    o = next(o for o in result.objects if o.name == name)
    return {d.field: (d.before, d.after) for d in o.diffs}


def _recreated_elsewhere(inv: Inventory) -> Inventory:
    """What a faithful migration leaves on a new engine: new ids, a new data root, new dynamic addresses."""
    new_id = {c.id: f"{i:x}".rjust(64, "e") for i, c in enumerate(inv.containers)}

    def ctr(c: Container) -> Container:
        nid = new_id[c.id]
        mode = c.network_mode
        if mode.startswith("container:"):
            mode = "container:" + new_id[mode.split(":", 1)[1]]
        mounts = tuple(replace(m, source=m.source.replace("/var/lib/docker", "/var/lib/docker-wsl"))
                       if m.type == "volume" else m for m in c.mounts)
        nets = tuple(replace(a, network_id="f" * 64, ip_address=a.ipv4_address or "172.28.9.9") for a in c.networks)
        return replace(c, id=nid, hostname=nid[:12] if c.hostname == c.id[:12] else c.hostname, network_mode=mode,
                       mounts=mounts, networks=nets, env=tuple(reversed(c.env)), created="2030-01-01T00:00:00Z",
                       size_rw=0, exit_code=0, cap_add=tuple(reversed(c.cap_add)))

    vols = tuple(replace(v, mountpoint=v.mountpoint.replace("/var/lib/docker", "/var/lib/docker-wsl"), size=1,
                         created="2030-01-01T00:00:00Z", users=()) for v in inv.volumes)
    nets = tuple(replace(n, id="f" * 64, containers=()) for n in inv.networks)
    imgs = tuple(replace(i, repo_digests=(), tags=tuple(reversed(i.tags)), containers=()) for i in inv.images)
    return replace(inv, containers=tuple(ctr(c) for c in inv.containers), volumes=vols, networks=nets, images=imgs)


def test_an_inventory_equals_itself_and_every_object_is_listed(before: Inventory):
    result = compare(before, before)
    assert result.ok and set(_status(result).values()) == {"equal"}
    # 6 images, 2 volumes, 1 user network (bridge/host/none are the engine's own), 5 containers
    assert result.counts == {"equal": 14, "missing": 0, "different": 0, "skipped": 0, "extra": 0}
    assert ("network", "bridge") not in _status(result)


def test_a_faithful_recreation_on_another_engine_is_equal(before: Inventory):
    after = _recreated_elsewhere(before)
    assert _ctr(after, "shop_db_1").hostname != _ctr(before, "shop_db_1").hostname  # the fixture did change it
    result = compare(before, after)
    assert [(o.name, o.diffs) for o in result.objects if o.status != "equal"] == []


@pytest.mark.parametrize("field,value", [
    ("restart_policy", "no"),
    ("port_bindings", ()),
    ("running", False),
    ("privileged", True),
    ("dns", ("10.0.0.1",)),
    ("hostname", "renamed"),
])
def test_a_changed_container_setting_is_different(before: Inventory, field: str, value):
    after = _with_ctr(_recreated_elsewhere(before), "shop_api_1", **{field: value})
    result = compare(before, after)
    assert not result.ok
    assert _status(result)[("container", "shop_api_1")] == "different"
    diffs = _diffs(result, "shop_api_1")
    assert list(diffs) == [field]
    assert diffs[field][1] == to_data(value)


def test_a_lost_static_address_or_peer_namespace_is_different(before: Inventory):
    db = _ctr(before, "shop_db_1")
    nets = tuple(replace(a, ipv4_address="") for a in db.networks)
    after = _with_ctr(before, "shop_db_1", networks=nets)
    after = _with_ctr(after, "shop-web.debug-2", network_mode="container:" + _ctr(before, "shop_api_1").id)
    result = compare(before, after)
    assert list(_diffs(result, "shop_db_1")) == ["networks"]
    assert _diffs(result, "shop-web.debug-2")["network_mode"] == ("container:shop_web_1", "container:shop_api_1")


def test_env_differences_show_names_never_values(before: Inventory):
    api = _ctr(before, "shop_api_1")
    env = tuple("DJANGO_SECRET_KEY=rotated" if e.startswith("DJANGO_SECRET_KEY=") else e for e in api.env
                if not e.startswith("DEBUG=")) + ("NEW_VAR=visible-nowhere",)
    result = compare(before, _with_ctr(before, "shop_api_1", env=env))
    assert _diffs(result, "shop_api_1") == {"env": (["DEBUG", "DJANGO_SECRET_KEY"], ["DJANGO_SECRET_KEY", "NEW_VAR"])}
    text = json.dumps(result_data(result))
    for secret in ("k#9v!2m@x7q$w1zr8t&u5y", "rotated", "visible-nowhere", "Sh0p-Passw0rd!"):
        assert secret not in text


def test_label_differences_show_the_changed_keys_with_secret_values_redacted(before: Inventory):
    db = _ctr(before, "shop_db_1")
    labels = {**db.labels, "com.example.api_token": "tok-123", "com.example.tier": "gold"}
    result = compare(before, _with_ctr(before, "shop_db_1", labels=labels))
    assert _diffs(result, "shop_db_1") == {"labels": ({}, {"com.example.api_token": "<redacted>",
                                                            "com.example.tier": "gold"})}


def test_images_by_id_with_their_tags(before: Inventory):
    api_id = next(i.id for i in before.images if "shop/api:dev" in i.tags)
    pg_id = next(i.id for i in before.images if "postgres:12" in i.tags)
    imgs = tuple(replace(i, tags=()) if i.id == api_id else i for i in before.images if i.id != pg_id)
    extra = replace(before.images[0], id="sha256:" + "1" * 64, tags=("new:1",))
    result = compare(before, replace(before, images=(*imgs, extra)))
    st = _status(result)
    assert st[("image", api_id)] == "different" and _diffs(result, api_id) == {"tags": (["shop/api:dev"], [])}
    assert st[("image", pg_id)] == "missing" and st[("image", extra.id)] == "extra"
    assert next(o for o in result.objects if o.name == pg_id).label == "postgres:12"


def test_volumes_by_content_and_options(before: Inventory):
    changed = tuple(replace(v, digest="sha256:" + "a" * 64) if v.name == "shop_pgdata" else v for v in before.volumes)
    result = compare(before, replace(before, volumes=changed))
    assert _diffs(result, "shop_pgdata") == {"digest": (before.volumes[1].digest, "sha256:" + "a" * 64)}
    relabeled = tuple(replace(v, labels={}, options={"o": "bind"}) if v.name == "shop_pgdata" else v
                      for v in before.volumes)
    assert set(_diffs(compare(before, replace(before, volumes=relabeled)), "shop_pgdata")) == {"labels", "options"}


def test_a_volume_without_a_digest_on_one_side_is_not_content_compared(before: Inventory):
    nodigest = tuple(replace(v, digest="") for v in before.volumes)
    result = compare(replace(before, volumes=nodigest), before)
    o = next(o for o in result.objects if o.name == "shop_pgdata")
    assert o.status == "equal" and o.notes == ("content not compared: no digest in before",)
    assert result.ok


def test_networks_ignore_the_engines_own(before: Inventory):
    nets = tuple(replace(n, ipam=(IpamConfig(subnet="172.29.0.0/16", gateway="172.29.0.1"),))
                 if n.name == "shop_default" else n for n in before.networks if n.name != "bridge")
    result = compare(before, replace(before, networks=nets))
    assert [(o.name, o.status) for o in result.objects if o.kind == "network"] == [("shop_default", "different")]
    assert list(_diffs(result, "shop_default")) == ["ipam"]


def test_skipped_objects_are_not_missing(before: Inventory):
    after = replace(before, containers=tuple(c for c in before.containers if c.name != "legacy-importer"),
                    images=tuple(i for i in before.images if "busybox:1.32" not in i.tags))
    assert not compare(before, after).ok
    result = compare(before, after, skipped={"container": ["legacy-importer"], "image": ["busybox:1.32"]})
    assert result.ok and result.counts["skipped"] == 2 and result.counts["missing"] == 0


def test_expected_values_replace_the_before_value(before: Inventory):
    api = _ctr(before, "shop_api_1")
    wsl_binds = ("/run/desktop/mnt/host/c/Users/jdoe/src/shop/api:/app:rw",)
    after = _with_ctr(before, "shop_api_1", binds=wsl_binds)
    assert list(_diffs(compare(before, after), "shop_api_1")) == ["binds"]
    result = compare(before, after, expected={("container", "shop_api_1", "binds"): list(wsl_binds)})
    assert result.ok and api.binds != wsl_binds


def test_every_carried_field_is_a_container_field():
    names = {f.name for f in dataclasses.fields(Container)}
    assert set(carried_fields()) <= names


def test_plan_skips_reads_the_strategies():
    from migrate.plan.model import ContainerPlan, ImagePlan, NetworkPlan, Plan, VolumePlan

    plan = Plan(tool_version="t", inventory_fingerprint="f", source_backend="hyperv", backup_path="B",
                helper_image="busybox", images=(ImagePlan(id="sha256:a", strategy="skip"),
                                                ImagePlan(id="sha256:b", strategy="save")),
                volumes=(VolumePlan(name="v", strategy="skip"),),
                networks=(NetworkPlan(name="n", strategy="recreate"),),
                containers=(ContainerPlan(name="c", id="1", strategy="skip"),))
    assert plan_skips(plan) == {"image": {"sha256:a"}, "volume": {"v"}, "network": set(), "container": {"c"}}


def test_mount_mode_tokens_that_repeat_other_fields_or_do_nothing_are_ignored(before: Inventory):
    # As inspected on a real engine: `-v /anon` gives Mode "", the same volume re-created as `-v NAME:/anon`
    # gives Mode "z"; a bind given with ':rw' has Mode "rw".
    def modes(inv: Inventory, db_mode: str, api_mode: str) -> Inventory:
        inv = _with_ctr(inv, "shop_db_1", mounts=tuple(replace(m, mode=db_mode) for m in _ctr(inv, "shop_db_1").mounts))
        return _with_ctr(inv, "shop_api_1", mounts=tuple(replace(m, mode=api_mode)
                                                        for m in _ctr(inv, "shop_api_1").mounts))

    assert compare(modes(before, "", "rw"), modes(before, "z", "")).ok
    assert compare(modes(before, "Z,rprivate", "ro"), modes(before, "", "")).ok
    result = compare(modes(before, "", ""), modes(before, "nocopy", ""))
    assert list(_diffs(result, "shop_db_1")) == ["mounts"] and list(_diffs(result, "shop_api_1")) == []
