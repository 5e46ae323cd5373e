"""Containers re-created on a second real engine from create_spec's arguments match the originals field by field."""
from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path

import pytest

from migrate.inventory.scan import ScanOptions, scan
from migrate.model import Container, Inventory
from migrate.model import CARRIED_FIELDS
from migrate.plan.recreate import create_spec, env_file_text, not_carried_fields
from tests.engines import Engine, busybox_rootfs, start_engine
from tests.population import Population

pytestmark = pytest.mark.engine

# Container fields that are not carried, and why a re-created container may differ in them.
NOT_COMPARED = {
    "id": "a new container gets a new id",
    "image": "Config.Image is the image_ref the caller passes (here the original; checked on the raw inspect)",
    "state": "the re-created container is created, then started only if the original was running",
    "running": "as state",
    "exit_code": "as state",
    "created": "creation time",
    "driver": "the target engine's storage driver",
    "attach_stdin": "how the creating client attached (docker run -d vs docker create), not a setting",
    "attach_stdout": "as attach_stdin",
    "attach_stderr": "as attach_stdin",
    "stdin_once": "as attach_stdin",
    "config_volumes": "derived: image VOLUMEs plus `-v /dest`; anonymous volumes are re-attached by name instead",
    "network_disabled": "no docker create flag; listed in not_carried when set",
    "shell": "no docker create flag; comes from the image (not_carried when it differs)",
    "onbuild": "no docker create flag; comes from the image (not_carried when it differs)",
    "kernel_memory": "deprecated, ignored by current engines; not_carried when set",
    "kernel_memory_tcp": "deprecated, no docker create flag; not_carried when set",
    "cgroup": "HostConfig.Cgroup has no docker create flag; not_carried when set",
    "masked_paths": "engine defaults derived from privileged and security options",
    "readonly_paths": "as masked_paths",
    "console_size": "the creating client's terminal size",
    "size_rw": "the writable layer is carried by a commit, not by create",
    "size_root_fs": "as size_rw",
    "compose": "derived from labels (labels are compared)",
    "kubernetes": "derived from the name and labels",
    "depends_on": "derived from modes, volumes-from and links (all compared)",
}


def _ids_to_names(value: str, ids: dict[str, str]) -> str:
    """container:<id> modes hold the other container's id, which is new on the target."""
    if value.startswith("container:"):
        ref = value.split(":", 1)[1]
        return "container:" + ids.get(ref, ref)
    return value


def _comparable(c: Container, ids: dict[str, str]) -> dict:
    """The carried fields of c, with the parts that legitimately differ between engines taken out."""
    out = {f: getattr(c, f) for f in CARRIED_FIELDS}
    for f in ("network_mode", "pid_mode", "ipc_mode"):
        out[f] = _ids_to_names(out[f], ids)
    if c.hostname == c.id[:12]:
        out["hostname"] = "<engine-generated from the id>"
    # A volume's mountpoint lies under the engine's data root, which differs between the two test engines; an
    # anonymous volume re-attached by name gets the volume mode 'z' that named mounts get.
    out["mounts"] = tuple(
        dataclasses.replace(m, source="<data-root>" if m.type == "volume" else m.source,
                            mode="" if m.anonymous else m.mode)
        for m in c.mounts)
    # Network ids are per engine; addresses the engine chose (no static one asked for) may differ.
    out["networks"] = tuple(
        dataclasses.replace(a, network_id="", ip_address=a.ip_address if a.ipv4_address else "")
        for a in c.networks)
    return out


@pytest.fixture(scope="module")
def target(scratch: Path) -> Engine:
    """A second, empty engine to re-create the containers on."""
    eng = start_engine(scratch / "rc")
    yield eng
    eng.stop()


EXTRA = ["rc-defaults", "rc-overrides", "rc-hostile", "rc-multinet", "rc-storage"]


def _block_device() -> str:
    """A block device of this host, for the per-device IO limits (docker create does not open it)."""
    names = sorted(n for n in os.listdir("/sys/block") if not n.startswith(("loop", "ram", "zram")))
    return next((f"/dev/{n}" for n in names if os.path.exists(f"/dev/{n}")), "/dev/sda")


@pytest.fixture(scope="module")
def extra(engine: Engine, rich: Population, scratch: Path) -> list[str]:
    """More containers on the source: image defaults, overrides of them, hostile values, several networks."""
    work = scratch / "rc-src"
    work.mkdir(exist_ok=True)
    rootfs = busybox_rootfs(work / "rootfs.tar")
    engine.docker("import", "--change", 'ENTRYPOINT ["/bin/sh", "-c"]', "--change", 'CMD ["sleep 3600"]',
                  "--change", "ENV A=1 PATH=/bin", "--change", "VOLUME /declared", "--change", "LABEL team=x",
                  "--change", "EXPOSE 9000", "--change", "WORKDIR /tmp", "--change", "USER 1000",
                  "--change", 'HEALTHCHECK --interval=5s --retries=4 CMD ["true"]', str(rootfs), "rc/defaults:1")
    engine.docker("network", "create", "--subnet", "172.29.0.0/16", "--label", "rc=1", "rcnet")
    engine.docker("create", "--name", "rc-defaults", "rc/defaults:1")
    engine.docker(
        "create", "--name", "rc-overrides", "--entrypoint", "", "-e", "A=2", "-e", "NEW=v", "--label", "team=y",
        "--health-interval", "1500ms", "--health-start-period", "2m", "--user", "0", "--workdir", "/",
        "--restart", "on-failure:3", "--expose", "7000/udp", "-p", "[::1]:8082:82/sctp", "-p", "90",
        "--mount", "type=tmpfs,target=/t2", "--tmpfs", "/t1", "--ipc", "shareable", "--cgroupns", "private",
        "--memory", "32m", "--memory-swappiness", "10", "--cpu-period", "100000", "--cpu-quota", "50000",
        "--device-cgroup-rule", "c 1:3 mr", "--gpus", '"device=0,1",capabilities=compute', "--init=false",
        "--stop-timeout", "7", "--dns-search", ".", "--userns", "host",
        "rc/defaults:1", "sh", "-c", "exit 0",
    )
    hostile = "it's \"quoted\" $(rm -rf /) `x` ; & | ünï€ode"
    engine.docker(
        "create", "--name", "rc-hostile", "-e", f"H={hostile}", "-e", "LINES=a\nb", "-e", "DASH=-x",
        "--label", f"h={hostile}", "--label", "nl=line1\nline2", "--label", "empty=",
        "--hostname", "h-1", "--add-host", "h6:::1", "--no-healthcheck", "--log-opt", "max-file=2",
        "--log-opt", "max-size=1k", "--mount", f"type=bind,source={work},target=/w,readonly",
        "-v", f"{work}:/w2:ro,rslave", "--entrypoint", "/bin/echo",
        rich.base, "--rm", hostile, "", "-e", "line\nbreak",
    )
    engine.docker("create", "--name", "rc-multinet", "--network", "shopnet", "--network-alias", "m1",
                  "--network-alias", "m2", "--link-local-ip", "169.254.1.1", rich.base, "sleep", "3600")
    engine.docker("network", "connect", "--alias", "r1", "--ip", "172.29.0.7", "--link", "db:dbl", "rcnet",
                  "rc-multinet")
    # Mount options and per-device IO limits this engine (20.10, API 1.41) takes; annotations (1.43), subpath
    # (1.45) and the read-only recursion switches (1.44) need newer engines, and this kernel has no blkio
    # weight_device (the engine discards --blkio-weight-device): those are covered in test_recreate.py.
    dev = _block_device()
    engine.docker(
        "create", "--name", "rc-storage", "--volume-driver", "local", "--device-read-bps", f"{dev}:1mb",
        "--device-write-bps", f"{dev}:2097153", "--device-read-iops", f"{dev}:100", "--device-write-iops",
        f"{dev}:200", "--mount", "type=volume,source=rcvol,target=/v1,volume-nocopy,volume-opt=type=tmpfs,"
        "volume-opt=device=tmpfs,volume-label=rc=1,\"volume-label=c=a,b\"",
        "--mount", "type=volume,target=/anon,volume-nocopy", "-v", "rcvol2:/v2:nocopy",
        "--mount", "type=tmpfs,target=/t3,tmpfs-size=1048577,tmpfs-mode=1770",
        "--mount", f"type=bind,source={work},target=/nr,bind-recursive=disabled",
        rich.base, "sleep", "3600")
    yield EXTRA
    engine.docker("rm", "-f", "-v", *EXTRA, check=False)
    engine.docker("volume", "rm", "rcvol", "rcvol2", check=False)
    engine.docker("network", "rm", "rcnet", check=False)
    engine.docker("rmi", "rc/defaults:1", check=False)


@pytest.fixture(scope="module")
def source_inv(engine: Engine, rich: Population, extra: list[str]) -> Inventory:
    # Values as read: the env files below are built from the inventory, standing in for the runbook's run-time read.
    return scan(ScanOptions(host=engine.url, with_secrets=True), "test")


def _order(containers: dict[str, Container], names: list[str]) -> list[str]:
    """Dependencies first (container: modes, volumes-from, links)."""
    done: list[str] = []

    def visit(n: str) -> None:
        if n in done:
            return
        for d in containers[n].depends_on:
            visit(d)
        done.append(n)

    for n in names:
        visit(n)
    return done


@pytest.fixture(scope="module")
def recreated(engine: Engine, target: Engine, rich: Population, extra: list[str], source_inv: Inventory,
              scratch: Path) -> dict:
    """Carry images, networks and volumes to the target, then re-create every container from its spec."""
    work = scratch / "rc-work"
    work.mkdir(exist_ok=True)
    src = {c.name: c for c in source_inv.containers}
    images = {i.id: i for i in source_inv.images}
    names = rich.containers + extra
    tags = sorted({t for n in names for t in images[src[n].image_id].tags})
    engine.docker("save", "-o", str(work / "images.tar"), *tags)
    target.docker("load", "-i", str(work / "images.tar"))
    for n in names:
        if "@sha256:" in src[n].image:  # docker load drops registry digests: the plan pulls these
            target.docker("pull", src[n].image)
    for net in source_inv.networks:
        if net.name in {a.network for n in names for a in src[n].networks} and not net.builtin:
            args = ["network", "create", "--driver", net.driver]
            for p in net.ipam:
                args += ["--subnet", p.subnet] + (["--gateway", p.gateway] if p.gateway else [])
                args += ["--ip-range", p.ip_range] if p.ip_range else []
            for k, v in net.labels.items():
                args += ["--label", f"{k}={v}"]
            # the two engines share the host's network namespace: the Linux bridge needs another name
            target.docker(*args, "-o", f"com.docker.network.bridge.name=rc{len(net.name)}{net.name[:8]}", net.name)
    for vol in source_inv.volumes:
        if not vol.anonymous and vol.users and set(vol.users) & set(names):
            target.docker("volume", "create", *[x for k, v in vol.labels.items() for x in ("--label", f"{k}={v}")],
                          *[x for k, v in vol.options.items() for x in ("--opt", f"{k}={v}")], vol.name)
    specs = {}
    for n in _order(src, names):
        c = src[n]
        image = images[c.image_id]
        env_path = work / f"{n}.env"
        env_path.write_bytes(env_file_text(c.env, image.config.get("Env") or []).encode("utf-8"))
        spec = create_spec(c, image, image_ref=c.image, env_file=str(env_path),
                           peers=source_inv.containers)
        specs[n] = spec
        out = target.docker(*spec.args)  # raises with the engine's message if an argument is refused
        assert len(out.strip()) == 64, (n, out)
        for connect in spec.connect:
            target.docker(*connect)
        if c.running:
            target.docker("start", n)
    return specs


def test_every_argument_is_accepted_and_the_expected_omissions_are_listed(recreated: dict, source_inv: Inventory):
    lost = {n: dict(s.not_carried) for n, s in recreated.items()}
    env = next(c.env for c in source_inv.containers if c.name == "rc-hostile")
    bad = f"env entry {env.index('LINES=a' + chr(10) + 'b') + 1}"
    assert set(lost["rc-hostile"]) == {bad}, lost["rc-hostile"]
    assert "line break" in lost["rc-hostile"][bad]
    assert all(not v for n, v in lost.items() if n != "rc-hostile"), lost
    assert recreated["rc-hostile"].env_names == tuple(e.split("=")[0] for e in env if not e.startswith("LINES="))
    assert set(recreated["rc-hostile"].env_names) == {"H", "DASH"}
    for spec in recreated.values():
        assert all(isinstance(a, str) for a in spec.args)
        assert not any("s3cret" in a for a in spec.args)  # env values never in argv
    assert len(recreated["rc-multinet"].connect) == 1


def test_carried_fields_match_after_recreation(target: Engine, recreated: dict, source_inv: Inventory):
    tgt_inv = scan(ScanOptions(host=target.url, with_secrets=True), "test")
    compared = set(CARRIED_FIELDS) | set(NOT_COMPARED)
    assert compared == {f.name for f in dataclasses.fields(Container)}, "every field is compared or excused"
    src = {c.name: c for c in source_inv.containers}
    tgt = {c.name: c for c in tgt_inv.containers}
    src_ids = {c.id: c.name for c in source_inv.containers}
    tgt_ids = {c.id: c.name for c in tgt_inv.containers}
    assert set(recreated) <= set(tgt)
    for n in recreated:
        a, b = _comparable(src[n], src_ids), _comparable(tgt[n], tgt_ids)
        excused = not_carried_fields(recreated[n])
        assert excused <= set(CARRIED_FIELDS)
        diffs = {f: (a[f], b[f]) for f in CARRIED_FIELDS if a[f] != b[f] and f not in excused}
        assert not diffs, f"{n}: {diffs}"
        assert tgt[n].running == src[n].running, n
    # the new options were really set on the source, so the comparison above is not of empty values
    st = {m.destination: m for m in src["rc-storage"].mounts}
    assert st["/v1"].nocopy and st["/v1"].volume_options == {"device": "tmpfs", "type": "tmpfs"}
    assert st["/v1"].volume_labels == {"c": "a,b", "rc": "1"} and st["/anon"].nocopy and st["/v2"].nocopy
    assert (st["/t3"].tmpfs_size, st["/t3"].tmpfs_mode) == (1048577, 0o1770) and st["/nr"].non_recursive
    assert src["rc-storage"].volume_driver == "local"
    assert [d["Rate"] for d in src["rc-storage"].blkio_device_write_bps] == [2097153]
    assert all(getattr(src["rc-storage"], f) for f in ("blkio_device_read_bps", "blkio_device_read_iops",
                                                       "blkio_device_write_iops"))
    # the one entry an env file cannot hold is the only one missing
    assert tgt["rc-hostile"].env == tuple(e for e in src["rc-hostile"].env if not e.startswith("LINES="))


RAW_PATHS = ["Config.Image", "Config.Cmd", "Config.Entrypoint", "Config.Labels", "Config.Healthcheck",
             "Config.ExposedPorts", "Config.User", "Config.WorkingDir", "HostConfig.Binds",
             "HostConfig.PortBindings", "HostConfig.RestartPolicy", "HostConfig.Tmpfs", "HostConfig.Ulimits",
             "HostConfig.LogConfig", "HostConfig.DeviceRequests", "HostConfig.Sysctls", "HostConfig.VolumesFrom",
             "HostConfig.VolumeDriver", "HostConfig.BlkioWeightDevice", "HostConfig.BlkioDeviceReadBps",
             "HostConfig.BlkioDeviceWriteBps", "HostConfig.BlkioDeviceReadIOps", "HostConfig.BlkioDeviceWriteIOps",
             "HostConfig.Annotations"]


def _get(d: dict, path: str):
    for part in path.split("."):
        d = (d or {}).get(part)
    return d


def test_raw_inspect_paths_match(engine: Engine, target: Engine, recreated: dict):
    for n in recreated:
        raw_a, raw_b = engine.inspect(n)[0], target.inspect(n)[0]
        for path in RAW_PATHS:
            assert _get(raw_a, path) == _get(raw_b, path), f"{n}: {path}"
        # anonymous volumes are re-attached by name with --mount, so that their restored data stays attached;
        # an anonymous --mount of the original comes back the same but for the name
        anon_at = {m["Destination"]: m["Name"] for m in raw_a["Mounts"]
                   if m["Type"] == "volume" and re.match(r"^[0-9a-f]{64}$", m["Name"])}
        anon = set(anon_at.values())
        mounts_a = [dict(m, Source=anon_at[m["Target"]]) if m.get("Type") == "volume" and not m.get("Source")
                    else m for m in raw_a["HostConfig"].get("Mounts") or []]
        mounts_b = [m for m in raw_b["HostConfig"].get("Mounts") or [] if m.get("Source") not in anon or m in mounts_a]
        assert sorted(mounts_a, key=lambda m: m["Target"]) == sorted(mounts_b, key=lambda m: m["Target"]), n
        assert anon == {m.get("Name") for m in raw_b["Mounts"] if m.get("Name") in anon}, n
        for net, ep in raw_a["NetworkSettings"]["Networks"].items():
            ep_b = raw_b["NetworkSettings"]["Networks"][net]
            assert ep.get("IPAMConfig") == ep_b.get("IPAMConfig"), (n, net)
            assert set(ep.get("Aliases") or []) - {raw_a["Id"][:12]} == set(ep_b.get("Aliases") or []) - {
                raw_b["Id"][:12]}, (n, net)
    hostile = json.loads(target.docker("inspect", "rc-hostile"))[0]
    assert hostile["Config"]["Labels"]["nl"] == "line1\nline2"
    assert hostile["Config"]["Cmd"] == ["--rm", "it's \"quoted\" $(rm -rf /) `x` ; & | ünï€ode", "", "-e",
                                        "line\nbreak"]
