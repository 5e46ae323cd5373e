"""The scan of a real engine matches what `docker inspect` says, field by field."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from migrate.inventory.scan import ScanOptions, scan
from migrate.model import Inventory, dumps, loads
from tests.engines import Engine
from tests.population import Population

pytestmark = pytest.mark.engine


@pytest.fixture(scope="module")
def inv(engine: Engine, rich: Population) -> Inventory:
    # Values as read: these tests check the normalizer against docker inspect (test_secrets_at_rest: the digests).
    return scan(ScanOptions(host=engine.url, with_secrets=True), "test")


def _by_name(inv: Inventory) -> dict:
    return {c.name: c for c in inv.containers}


# (path in `docker inspect`, attribute of the model's Container, how to turn the inspect value into ours)
CONTAINER_FIELDS = [
    ("Config.Image", "image", lambda v: v),
    ("Image", "image_id", lambda v: v),
    ("State.Status", "state", lambda v: v),
    ("State.Running", "running", lambda v: v),
    ("Config.Env", "env", lambda v: tuple(v or ())),
    ("Config.Cmd", "cmd", lambda v: None if v is None else tuple(v)),
    ("Config.Entrypoint", "entrypoint", lambda v: None if v is None else tuple(v)),
    ("Config.User", "user", lambda v: v),
    ("Config.WorkingDir", "working_dir", lambda v: v),
    ("Config.Hostname", "hostname", lambda v: v),
    ("Config.Domainname", "domainname", lambda v: v),
    ("Config.Labels", "labels", lambda v: v or {}),
    ("Config.ExposedPorts", "exposed_ports", lambda v: tuple(sorted(v or {}))),
    ("Config.Healthcheck", "healthcheck", lambda v: v),
    ("Config.StopSignal", "stop_signal", lambda v: v or ""),
    ("Config.StopTimeout", "stop_timeout", lambda v: v),
    ("Config.Tty", "tty", lambda v: v),
    ("Config.OpenStdin", "open_stdin", lambda v: v),
    ("HostConfig.Binds", "binds", lambda v: tuple(v or ())),
    ("HostConfig.RestartPolicy.Name", "restart_policy", lambda v: v),
    ("HostConfig.NetworkMode", "network_mode", lambda v: v),
    ("HostConfig.VolumesFrom", "volumes_from", lambda v: tuple(v or ())),
    ("HostConfig.Links", "links", lambda v: tuple(v or ())),
    ("HostConfig.CapAdd", "cap_add", lambda v: tuple(v or ())),
    ("HostConfig.CapDrop", "cap_drop", lambda v: tuple(v or ())),
    ("HostConfig.Privileged", "privileged", lambda v: v),
    ("HostConfig.Devices", "devices", lambda v: tuple(v or ())),
    ("HostConfig.SecurityOpt", "security_opt", lambda v: tuple(v or ())),
    ("HostConfig.Ulimits", "ulimits", lambda v: tuple(v or ())),
    ("HostConfig.LogConfig.Type", "log_driver", lambda v: v),
    ("HostConfig.LogConfig.Config", "log_opts", lambda v: v or {}),
    ("HostConfig.ExtraHosts", "extra_hosts", lambda v: tuple(v or ())),
    ("HostConfig.Dns", "dns", lambda v: tuple(v or ())),
    ("HostConfig.DnsSearch", "dns_search", lambda v: tuple(v or ())),
    ("HostConfig.DnsOptions", "dns_options", lambda v: tuple(v or ())),
    ("HostConfig.Memory", "memory", lambda v: v),
    ("HostConfig.MemorySwap", "memory_swap", lambda v: v),
    ("HostConfig.MemoryReservation", "memory_reservation", lambda v: v),
    ("HostConfig.NanoCpus", "nano_cpus", lambda v: v),
    ("HostConfig.CpuShares", "cpu_shares", lambda v: v),
    ("HostConfig.CpusetCpus", "cpuset_cpus", lambda v: v),
    ("HostConfig.Tmpfs", "tmpfs", lambda v: v or {}),
    ("HostConfig.ShmSize", "shm_size", lambda v: v),
    ("HostConfig.Init", "init", lambda v: v),
    ("HostConfig.ReadonlyRootfs", "readonly_rootfs", lambda v: v),
    ("HostConfig.Runtime", "runtime", lambda v: v),
    ("HostConfig.Isolation", "isolation", lambda v: v),
    ("HostConfig.PidMode", "pid_mode", lambda v: v),
    ("HostConfig.IpcMode", "ipc_mode", lambda v: v),
    ("HostConfig.UTSMode", "uts_mode", lambda v: v),
    ("HostConfig.Sysctls", "sysctls", lambda v: v or {}),
    ("HostConfig.GroupAdd", "group_add", lambda v: tuple(v or ())),
    ("HostConfig.OomScoreAdj", "oom_score_adj", lambda v: v),
    ("HostConfig.PublishAllPorts", "publish_all_ports", lambda v: v),
    ("HostConfig.VolumeDriver", "volume_driver", lambda v: v or ""),
    ("HostConfig.BlkioWeightDevice", "blkio_weight_device", lambda v: tuple(v or ())),
    ("HostConfig.BlkioDeviceReadBps", "blkio_device_read_bps", lambda v: tuple(v or ())),
    ("HostConfig.BlkioDeviceWriteBps", "blkio_device_write_bps", lambda v: tuple(v or ())),
    ("HostConfig.BlkioDeviceReadIOps", "blkio_device_read_iops", lambda v: tuple(v or ())),
    ("HostConfig.BlkioDeviceWriteIOps", "blkio_device_write_iops", lambda v: tuple(v or ())),
    ("HostConfig.Annotations", "annotations", lambda v: v or {}),
    ("HostConfig.Cgroup", "cgroup", lambda v: v or ""),
]


def _get(d: dict, path: str):
    for part in path.split("."):
        d = (d or {}).get(part)
    return d


def test_every_container_matches_docker_inspect_field_by_field(engine: Engine, rich: Population, inv: Inventory):
    containers = _by_name(inv)
    assert set(rich.containers) <= set(containers)
    for name in rich.containers:
        raw = engine.inspect(name)[0]
        c = containers[name]
        assert c.id == raw["Id"]
        for path, attr, conv in CONTAINER_FIELDS:
            assert getattr(c, attr) == conv(_get(raw, path)), f"{name}: {attr} differs from {path}"
        # every port binding, and every network with its aliases and static addresses
        ports = {(p.container_port, p.host_ip, p.host_port) for p in c.port_bindings}
        expect = {(k, b.get("HostIp", ""), b.get("HostPort", ""))
                  for k, bs in (raw["HostConfig"]["PortBindings"] or {}).items() for b in bs or []}
        assert ports == expect, name
        nets = {a.network: a for a in c.networks}
        assert set(nets) == set(raw["NetworkSettings"]["Networks"]), name
        for net, ep in raw["NetworkSettings"]["Networks"].items():
            assert nets[net].ipv4_address == ((ep.get("IPAMConfig") or {}).get("IPv4Address") or ""), name
            assert set(nets[net].aliases) <= set(ep.get("Aliases") or []), name
        mounts = {(m.type, m.destination, m.name, m.source, not m.read_only, m.propagation) for m in c.mounts}
        expect_m = {(m["Type"], m["Destination"], m.get("Name", ""), m["Source"], m["RW"], m.get("Propagation", ""))
                    for m in raw["Mounts"]}
        assert expect_m <= mounts, name
        # the options only HostConfig.Mounts holds (what `--mount` was given)
        by_dest = {m.destination: m for m in c.mounts}
        for spec in raw["HostConfig"].get("Mounts") or []:
            m = by_dest[spec["Target"]]
            vol, tmpfs = spec.get("VolumeOptions") or {}, spec.get("TmpfsOptions") or {}
            assert (m.type, m.read_only) == (spec["Type"], spec.get("ReadOnly", False)), name
            assert m.nocopy == vol.get("NoCopy", False) and m.volume_labels == (vol.get("Labels") or {}), name
            assert m.volume_options == ((vol.get("DriverConfig") or {}).get("Options") or {}), name
            assert (m.tmpfs_size, m.tmpfs_mode) == (tmpfs.get("SizeBytes", 0), tmpfs.get("Mode", 0)), name
            assert m.non_recursive == (spec.get("BindOptions") or {}).get("NonRecursive", False), name


def test_values_set_at_creation_survive(rich: Population, inv: Inventory):
    c = _by_name(inv)
    db = c["db"]
    assert "PASSWORD=s3cret" in db.env
    assert db.memory == 64 * 1024 * 1024 and db.memory_swap == 128 * 1024 * 1024
    assert db.nano_cpus == 500_000_000
    assert db.restart_policy == "unless-stopped"
    assert db.init is True and db.stop_signal == "SIGINT" and db.stop_timeout == 20
    assert db.tmpfs == {"/run/cache": "rw,size=1m"}
    assert db.sysctls == {"net.ipv4.ip_forward": "1"}
    assert db.pids_limit == 200
    shop = {a.network: a for a in db.networks}["shopnet"]
    assert shop.ipv4_address == "172.30.0.10" and "database" in shop.aliases
    assert db.running and db.hostname == "dbhost"
    assert [m.name for m in db.mounts if m.type == "volume"] == ["pgdata"]

    app = c["app"]
    assert app.state == "created" and not app.running
    assert app.volumes_from == ("db:ro",) and app.privileged and app.readonly_rootfs
    assert app.entrypoint == ("sh",) and app.cmd == ("-c", "sleep 3600")
    assert "EMPTY=" in app.env
    binds = {m.destination: m for m in app.mounts}
    assert binds["/srv/www"].read_only and binds["/srv/www"].source == str(rich.bind_dir)
    assert binds["/work"].propagation == "rslave"
    assert [(p.container_port, p.host_ip, p.host_port) for p in app.port_bindings] == [("80/tcp", "127.0.0.1", "8080")]
    assert app.depends_on == ("db",)
    assert c["sidecar"].depends_on == ("db",) and c["sidecar"].network_mode.startswith("container:")

    assert c["stopped"].state == "exited" and c["stopped"].size_rw and c["stopped"].size_rw >= 64 * 1024
    web = c["shop-web-1"]
    assert web.compose is not None and web.compose.project == "shop" and web.compose.depends_on == ("db",)
    assert web.compose.working_dir == "C:\\Users\\jdoe\\src\\shop"
    assert [m for m in web.mounts if m.destination == "/anon"][0].anonymous
    assert c["k8s_POD_coredns-abc_kube-system_1"].kubernetes and not db.kubernetes


def test_images_volumes_networks(engine: Engine, rich: Population, inv: Inventory):
    images = {i.id: i for i in inv.images}
    raw_ids = engine.docker("image", "ls", "-aq", "--no-trunc").split()
    assert set(images) == set(raw_ids)
    for raw in engine.inspect(*raw_ids):
        img = images[raw["Id"]]
        assert set(img.tags) == set(raw["RepoTags"] or [])
        assert set(img.repo_digests) == set(raw["RepoDigests"] or [])
        assert img.layers == tuple(raw["RootFS"]["Layers"])
        assert (img.os, img.architecture, img.size) == (raw["Os"], raw["Architecture"], raw["Size"])
    base = next(i for i in inv.images if rich.base in i.tags)
    assert "local/base:latest" in base.tags and rich.pulled in base.repo_digests
    assert base.labels == {"org.example.team": "platform"}
    derived = next(i for i in inv.images if rich.derived in i.tags)
    assert derived.layers[0] == base.layers[0]
    assert images[rich.dangling_id].dangling and not base.dangling
    assert "db" in derived.containers

    vols = {v.name: v for v in inv.volumes}
    assert {"pgdata", "empty-vol"} <= set(vols)
    assert vols["pgdata"].labels == {"com.example.backup": "daily"}
    assert vols["pgdata"].users == ("app", "db") or vols["pgdata"].users == ("db",)
    assert vols["pgdata"].size and vols["pgdata"].size > 0 and not vols["pgdata"].anonymous
    assert vols["empty-vol"].users == () and vols["empty-vol"].ref_count == 0
    anon = [v for v in inv.volumes if v.anonymous]
    assert len(anon) == 1 and anon[0].users == ("shop-web-1",)

    nets = {n.name: n for n in inv.networks}
    shop = nets["shopnet"]
    raw = json.loads(engine.docker("network", "inspect", "shopnet"))[0]
    assert [(p.subnet, p.gateway, p.ip_range) for p in shop.ipam] == [
        (c["Subnet"], c["Gateway"], c.get("IPRange", "")) for c in raw["IPAM"]["Config"]]
    assert shop.labels == raw["Labels"] and shop.options == raw["Options"] and not shop.builtin
    assert {"db", "app", "shop-web-1"} <= set(shop.containers)
    assert nets["none"].builtin and nets["host"].builtin


def test_backend_and_engine_facts(inv: Inventory):
    assert inv.backend.kind == "linux"
    assert inv.engine is not None and inv.engine.reachable and inv.engine.os_type == "linux"
    assert inv.engine.storage_driver == "overlay2"


def test_inventory_round_trips_through_json(inv: Inventory):
    text = dumps(inv)
    assert json.loads(text)["schema"] == "wsl2-migrate/inventory/1"
    assert loads(text) == inv
    assert dumps(loads(text)) == text


def test_cli_scan_writes_inventory_and_summary(engine: Engine, rich: Population, tmp_path):
    out = tmp_path / "inv.json"
    res = subprocess.run([sys.executable, "-m", "migrate", "scan", "--host", engine.url, "-o", str(out)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    data = json.loads(out.read_text())
    assert {c["name"] for c in data["containers"]} >= set(rich.containers)
    assert "containers" in res.stderr and "backend" in res.stderr


def test_vanished_container_is_a_note_not_a_crash(engine: Engine, rich: Population):
    from migrate.inventory import engine as eng

    engine.docker("create", "--name", "ephemeral", rich.base, "true")
    real = eng._inspect_all

    def racing(fetch, ids, stage, *args, **kwargs):
        if stage == "containers":
            engine.docker("rm", "-f", "ephemeral")
        return real(fetch, ids, stage, *args, **kwargs)

    eng._inspect_all = racing
    try:
        inv = scan(ScanOptions(host=engine.url), "test")
    finally:
        eng._inspect_all = real
    assert "ephemeral" not in {c.name for c in inv.containers}
    assert any(n.area == "containers" and "disappeared" in n.message for n in inv.notes)
