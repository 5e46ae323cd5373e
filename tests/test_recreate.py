"""create_spec over hand-built containers: image defaults, entrypoint/cmd, env files, omissions, paths, networks."""
from __future__ import annotations

import pytest

from migrate.inventory.normalize import container_from_inspect
from migrate.model import CARRIED_FIELDS, Attachment, Container, Image, Mount, PortBinding, from_data
from migrate.plan.recreate import create_spec, env_file_text, env_problem, not_carried_fields
from migrate.plan.steps import BackupPath

ID = "0123456789ab" + "c" * 52
IMAGE = Image(
    id="sha256:" + "f" * 64, tags=("shop/api:1",), labels={"org.team": "platform", "version": "1"},
    config={"Env": ["PATH=/usr/bin:/bin", "LANG=C.UTF-8"], "Cmd": ["serve"], "Entrypoint": ["/entry.sh"],
            "WorkingDir": "/app", "User": "app", "ExposedPorts": {"8080/tcp": {}}, "Volumes": {"/data": {}},
            "StopSignal": "SIGTERM",
            "Healthcheck": {"Test": ["CMD-SHELL", "curl -f localhost"], "Interval": 30_000_000_000, "Retries": 3}},
)
ANON = "a" * 64


def _from_image(**kw) -> Container:
    """A container exactly as `docker create shop/api:1` leaves it: every value inherited from the image."""
    base = dict(
        id=ID, name="api", image="shop/api:1", image_id=IMAGE.id, env=("PATH=/usr/bin:/bin", "LANG=C.UTF-8"),
        cmd=("serve",), entrypoint=("/entry.sh",), working_dir="/app", user="app", hostname=ID[:12],
        labels={"org.team": "platform", "version": "1"}, exposed_ports=("8080/tcp",), stop_signal="SIGTERM",
        healthcheck={"Test": ["CMD-SHELL", "curl -f localhost"], "Interval": 30_000_000_000, "Retries": 3},
        config_volumes=("/data",), network_mode="default", ipc_mode="private",
        mounts=(Mount(type="volume", source=f"/var/lib/docker/volumes/{ANON}/_data", destination="/data",
                      name=ANON, driver="local", anonymous=True),),
    )
    base.update(kw)
    return Container(**base)


def _pairs(args) -> list[tuple[str, str]]:
    """Flag/value pairs of an argument list (flags that take no value pair with '')."""
    out, i = [], 0
    args = list(args)
    while i < len(args):
        a = args[i]
        if isinstance(a, str) and a.startswith("--") and "=" not in a and i + 1 < len(args) and not (
                isinstance(args[i + 1], str) and args[i + 1].startswith("--")):
            out.append((a, args[i + 1]))
            i += 2
        else:
            out.append((a, ""))
            i += 1
    return out


def test_a_container_with_only_image_defaults_repeats_none_of_them():
    spec = create_spec(_from_image(), IMAGE, image_ref="shop/api:1")
    # the anonymous volume of the image's VOLUME is attached by name (its data is restored into it), not declared
    assert spec.args == ("create", "--name", "api", "--mount", f"type=volume,source={ANON},target=/data",
                         "--ipc", "private", "--", "shop/api:1")
    assert spec.not_carried == () and spec.env_names == () and spec.connect == ()
    assert "--volume" not in spec.args and "/data" not in spec.args


def test_overrides_of_image_defaults_are_emitted_and_only_those():
    c = _from_image(
        env=("PATH=/usr/bin:/bin", "LANG=de_DE.UTF-8", "TOKEN=x"), labels={"org.team": "platform", "version": "2"},
        working_dir="/srv", user="0", exposed_ports=("8080/tcp", "9090/tcp"), stop_signal="SIGINT",
        healthcheck={"Test": ["CMD-SHELL", "curl -f localhost"], "Interval": 5_000_000_000, "Retries": 3,
                     "StartPeriod": 1_500_000_000},
    )
    spec = create_spec(c, IMAGE, image_ref="shop/api:1", env_file=BackupPath("secrets/env/api.env"))
    pairs = _pairs(spec.args)
    assert ("--label", "version=2") in pairs and ("--label", "org.team=platform") not in pairs
    assert ("--workdir", "/srv") in pairs and ("--user", "0") in pairs
    assert ("--expose", "9090/tcp") in pairs and ("--expose", "8080/tcp") not in pairs
    assert ("--stop-signal", "SIGINT") in pairs
    assert ("--health-interval", "5s") in pairs and ("--health-start-period", "1500ms") in pairs
    assert not any(f in spec.args for f in ("--health-cmd", "--health-retries", "--entrypoint"))
    assert ("--env-file", BackupPath("secrets/env/api.env")) in pairs
    assert spec.env_names == ("LANG", "TOKEN")
    assert spec.args[-1] == "shop/api:1"  # Cmd equals the image's: not repeated


@pytest.mark.parametrize(
    ("entrypoint", "cmd", "flags", "tail", "lost"),
    [
        # a new entrypoint: the engine drops the image's Cmd, so even an unchanged Cmd is spelled out
        (("/other",), ("serve",), ["--entrypoint", "/other"], ["serve"], False),
        # `--entrypoint ""` left Entrypoint empty: reset it, keep the command
        (None, ("sh", "-c", "x"), ["--entrypoint="], ["sh", "-c", "x"], False),
        # same entrypoint, no command: only an explicit --entrypoint keeps the image's Cmd out
        (("/entry.sh",), None, ["--entrypoint", "/entry.sh"], [], False),
        # same entrypoint, other command: the command alone
        (("/entry.sh",), ("migrate", "--fast"), [], ["migrate", "--fast"], False),
        # several words: --entrypoint takes one, the rest go in front of the command, and it is reported
        (("python", "-m", "app"), ("--port", "1"), ["--entrypoint", "python"], ["-m", "app", "--port", "1"], True),
    ],
)
def test_entrypoint_and_cmd(entrypoint, cmd, flags, tail, lost):
    spec = create_spec(_from_image(entrypoint=entrypoint, cmd=cmd), IMAGE, image_ref="shop/api:1")
    args = list(spec.args)
    i = args.index("shop/api:1")
    assert args[i + 1:] == tail
    got = [a for a in args[:i] if a.startswith("--entrypoint")]
    assert got == [f for f in flags if f.startswith("--entrypoint")]
    if len(flags) == 2:
        assert args[args.index("--entrypoint") + 1] == flags[1]
    assert (("entrypoint" in not_carried_fields(spec)) is lost)


def test_env_file_rules():
    image_env = ["PATH=/usr/bin:/bin", "LANG=C.UTF-8"]
    env = ["PATH=/usr/bin:/bin", "LANG=C.UTF-8x", "B=two words", "EMPTY=", "Q=it's \"q\" $(x)", "ML=a\nb",
           "CR=a\r", "bad name=1", "=v", "NOEQ", "#C=1", "Ü=ü", "A=b=c"]
    assert env_file_text(env, image_env) == (
        "LANG=C.UTF-8x\nB=two words\nEMPTY=\nQ=it's \"q\" $(x)\nÜ=ü\nA=b=c\n")
    assert env_problem("ML=a\nb") and env_problem("bad name=1") and env_problem("=v") and env_problem("NOEQ")
    assert env_problem("#C=1") and env_problem("CR=a\r") and not env_problem("A=b=c")
    spec = create_spec(_from_image(env=tuple(env)), IMAGE, image_ref="shop/api:1", env_file="api.env")
    assert spec.env_names == ("LANG", "B", "EMPTY", "Q", "Ü", "A")
    lost = [s for s, _ in spec.not_carried if s.startswith("env")]
    assert lost == sorted(f"env entry {i}" for i in (6, 7, 8, 9, 10, 11))
    assert "--env" not in spec.args and not any("two words" in str(a) for a in spec.args)


def test_env_without_a_file_and_unsettable_image_variables_are_reported():
    spec = create_spec(_from_image(env=("PATH=/usr/bin:/bin", "X=1")), IMAGE, image_ref="shop/api:1")
    lost = dict(spec.not_carried)
    assert "env" in lost and "env LANG" in lost  # the image's LANG is gone and cannot be unset
    assert "--env-file" not in spec.args


def test_not_carried_lists_every_setting_without_a_flag_sorted():
    c = _from_image(
        shell=("/bin/bash", "-c"), kernel_memory=1 << 20, isolation="hyperv", onbuild=("RUN x",),
        labels={"version": "1", "desktop.docker.io/binds/0/Source": "C:\\src"},
        device_requests=({"Driver": "cdi", "Count": 0, "DeviceIDs": ["vendor.com/x=1"], "Capabilities": []},),
        healthcheck={"Test": ["CMD", "curl", "-f", "localhost"], "Interval": 30_000_000_000, "Retries": 3},
        mounts=(Mount(type="npipe", source="\\\\.\\pipe\\docker_engine", destination="\\\\.\\pipe\\d"),),
    )
    spec = create_spec(c, IMAGE, image_ref="shop/api:1")
    settings = [s for s, _ in spec.not_carried]
    assert settings == sorted(settings)
    assert set(settings) == {"shell", "kernel_memory", "isolation", "onbuild", "labels org.team",
                             "labels desktop.docker.io/*", "device_requests 1", "healthcheck test",
                             "mounts \\\\.\\pipe\\d"}
    assert not_carried_fields(spec) - {"shell", "onbuild", "kernel_memory"} <= set(CARRIED_FIELDS)
    assert not any(a.startswith("desktop.docker.io") for a in spec.args)
    assert "--isolation" not in spec.args and "--gpus" not in spec.args


def test_bind_sources_are_translated_or_reported():
    seen = []

    def translate(path: str) -> str | None:
        seen.append(path)
        return {"/host_mnt/c/src": "C:\\src"}.get(path)

    c = _from_image(mounts=(
        Mount(type="bind", source="/host_mnt/c/src", destination="/src", mode="ro", read_only=True,
              spec="/host_mnt/c/src:/src:ro,cached"),
        Mount(type="bind", source="/host_mnt/d/gone", destination="/gone"),
        Mount(type="bind", source="/host_mnt/c/Users/me/x", destination="/x", propagation="rslave",
              desktop_source="C:\\Users\\me\\x, y"),
    ))
    spec = create_spec(c, IMAGE, image_ref="shop/api:1", translate_bind=translate)
    pairs = _pairs(spec.args)
    assert ("--volume", "C:\\src:/src:ro,cached") in pairs
    assert ("--mount", 'type=bind,"source=C:\\Users\\me\\x, y",target=/x,bind-propagation=rslave') in pairs
    assert "/host_mnt/c/Users/me/x" not in seen  # the typed path wins, no translation asked
    assert dict(spec.not_carried) == {"mounts /gone": "the bind source cannot be translated to a path the WSL2 "
                                                      "engine accepts"}
    assert not any("/gone" in str(a) for a in spec.args)


def test_container_network_mode_uses_the_name_and_drops_what_it_cannot_set():
    db = Container(id="d" * 64, name="db", image="pg")
    c = _from_image(network_mode="container:" + "d" * 64, hostname="dbhost", mac_address="02:42:ac:11:00:02",
                    pid_mode="container:" + "d" * 64, port_bindings=(PortBinding("80/tcp", "", "8080"),))
    spec = create_spec(c, IMAGE, image_ref="shop/api:1", peers=[db, c])
    pairs = _pairs(spec.args)
    assert ("--network", "container:db") in pairs and ("--pid", "container:db") in pairs
    assert not any(f in spec.args for f in ("--hostname", "--mac-address", "--publish"))
    assert "port_bindings" in dict(spec.not_carried)
    assert spec.connect == ()


def test_first_network_in_create_the_others_connected_in_name_order():
    c = _from_image(
        network_mode="front", mac_address="02:42:ac:11:00:09", links=(),
        networks=(
            Attachment("zeta", network_id="z1", aliases=("z",), ipv6_address="fd00::7", driver_opts={"k": "v"}),
            Attachment("front", network_id="f1", aliases=("web", "www"), ipv4_address="172.30.0.9",
                       link_local_ips=("169.254.0.9",), links=("db:database",), ip_address="172.30.0.9"),
            Attachment("back", network_id="b1", ipv4_address="10.1.0.5", links=("cache:c",), ip_address="10.1.0.5"),
        ))
    spec = create_spec(c, IMAGE, image_ref="shop/api:1")
    pairs = _pairs(spec.args)
    for pair in [("--network", "front"), ("--network-alias", "web"), ("--network-alias", "www"),
                 ("--ip", "172.30.0.9"), ("--link-local-ip", "169.254.0.9"), ("--link", "db:database"),
                 ("--mac-address", "02:42:ac:11:00:09")]:
        assert pair in pairs
    assert spec.connect == (
        ("network", "connect", "--ip", "10.1.0.5", "--link", "cache:c", "--", "back", "api"),
        ("network", "connect", "--alias", "z", "--ip6", "fd00::7", "--driver-opt", "k=v", "--", "zeta", "api"),
    )


def test_legacy_links_and_default_bridge():
    c = _from_image(links=("/db:/api/database", "/cache:/api/cache"),
                    networks=(Attachment("bridge", network_id="b", ip_address="172.17.0.3"),))
    spec = create_spec(c, IMAGE, image_ref="shop/api:1")
    pairs = _pairs(spec.args)
    assert ("--link", "db:database") in pairs and ("--link", "cache:cache") in pairs
    assert "--network" not in spec.args and spec.connect == ()


def test_hostile_values_are_single_unchanged_elements():
    evil = "a'b\"c $(rm -rf /) `x`\n; & ünï€ode"
    c = _from_image(labels={"org.team": "platform", "version": "1", "k": evil}, hostname=evil,
                    cmd=("--rm", evil, ""), extra_hosts=(f"h:{evil}",), log_opts={"tag": evil})
    spec = create_spec(c, IMAGE, image_ref="shop/api:1")
    pairs = _pairs(spec.args)
    assert ("--label", f"k={evil}") in pairs and ("--hostname", evil) in pairs
    assert ("--log-opt", f"tag={evil}") in pairs and ("--add-host", f"h:{evil}") in pairs
    assert spec.args[-3:] == ("--rm", evil, "")


def test_resources_limits_and_modes():
    c = _from_image(
        memory=64 << 20, memory_swap=-1, memory_swappiness=-1, nano_cpus=1_250_000_000, cpu_shares=512,
        pids_limit=-1, oom_kill_disable=True, shm_size=64 << 20, init=False, restart_policy="on-failure",
        restart_max_retries=5, cgroupns_mode="host", runtime="runc", uts_mode="host", hostname="myhost",
        ulimits=({"Name": "nofile", "Soft": 1024, "Hard": 2048},), sysctls={"b": "2", "a": "1"},
        devices=({"PathOnHost": "/dev/fuse", "PathInContainer": "/dev/fuse", "CgroupPermissions": "rwm"},),
        device_requests=({"Driver": "", "Count": -1, "DeviceIDs": None, "Capabilities": [["gpu"]], "Options": {}},
                         {"Driver": "nvidia", "Count": 0, "DeviceIDs": ["0", "1"],
                          "Capabilities": [["compute", "utility", "gpu"]], "Options": {}}),
    )
    spec = create_spec(c, IMAGE, image_ref="shop/api:1")
    pairs = _pairs(spec.args)
    for pair in [("--memory", str(64 << 20)), ("--memory-swap", "-1"), ("--cpus", "1.25"), ("--cpu-shares", "512"),
                 ("--oom-kill-disable", ""), ("--init=false", ""), ("--restart", "on-failure:5"),
                 ("--cgroupns", "host"), ("--uts", "host"), ("--ulimit", "nofile=1024:2048"),
                 ("--device", "/dev/fuse:/dev/fuse:rwm"), ("--gpus", "count=all"),
                 ("--gpus", '"device=0,1",driver=nvidia,"capabilities=compute,utility"')]:
        assert pair in pairs, pair
    assert [v for f, v in pairs if f == "--sysctl"] == ["a=1", "b=2"]
    # engine defaults and unlimited values are not written out; the host's UTS name is not the container's
    assert not any(f in spec.args for f in ("--memory-swappiness", "--pids-limit", "--shm-size", "--runtime",
                                            "--hostname"))


# `docker inspect` of a container that dockerd 20.10.24 (API 1.41) made from
#   docker create --volume-driver local --blkio-weight-device /dev/vda:200 --device-read-bps /dev/vda:1048576
#     --device-write-bps /dev/vda:2mb --device-read-iops /dev/vda:100 --device-write-iops /dev/vda:200
#     --mount type=volume,source=v1,target=/v1,volume-nocopy,volume-opt=type=tmpfs,volume-opt=device=tmpfs,\
#             volume-label=l1=x
#     --mount type=volume,source=pre,target=/v2,volume-nocopy=true
#     --mount type=tmpfs,target=/t,tmpfs-size=1048577,tmpfs-mode=1770
#     --mount type=bind,source=/tmp/xp,target=/b,bind-recursive=disabled
#     --mount type=bind,source=/tmp/xp,target=/b2,readonly,bind-recursive=writable bb:1 sleep 100
# (the kernel had no blkio weight_device: the engine discarded that one, with a warning).
REAL_INSPECT = {
    "Id": "d290dc6a1d795134ef5dc0297f650e50e1a6f38b01d1aa85ce91441e6749d4a0", "Name": "/t1",
    "Config": {"Image": "bb:1", "Cmd": ["sleep", "100"]},
    "HostConfig": {
        "VolumeDriver": "local", "BlkioWeightDevice": [], "BlkioDeviceReadBps": [{"Path": "/dev/vda", "Rate": 1048576}],
        "BlkioDeviceWriteBps": [{"Path": "/dev/vda", "Rate": 2097152}],
        "BlkioDeviceReadIOps": [{"Path": "/dev/vda", "Rate": 100}],
        "BlkioDeviceWriteIOps": [{"Path": "/dev/vda", "Rate": 200}],
        "Mounts": [
            {"Type": "volume", "Source": "v1", "Target": "/v1",
             "VolumeOptions": {"NoCopy": True, "Labels": {"l1": "x"},
                               "DriverConfig": {"Options": {"device": "tmpfs", "type": "tmpfs"}}}},
            {"Type": "volume", "Source": "pre", "Target": "/v2", "VolumeOptions": {"NoCopy": True, "DriverConfig": {}}},
            {"Type": "tmpfs", "Target": "/t", "TmpfsOptions": {"SizeBytes": 1048577, "Mode": 1016}},
            {"Type": "bind", "Source": "/tmp/xp", "Target": "/b", "BindOptions": {"NonRecursive": True}},
            {"Type": "bind", "Source": "/tmp/xp", "Target": "/b2", "ReadOnly": True, "BindOptions": {}}],
        "Binds": None, "Tmpfs": None, "Annotations": None, "KernelMemoryTCP": 0, "Cgroup": ""},
    "Mounts": [
        {"Type": "volume", "Name": "v1", "Source": "/tmp/xp/e/data/volumes/v1/_data", "Destination": "/v1",
         "Driver": "local", "Mode": "z", "RW": True, "Propagation": ""},
        {"Type": "volume", "Name": "pre", "Source": "/tmp/xp/e/data/volumes/pre/_data", "Destination": "/v2",
         "Driver": "local", "Mode": "z", "RW": True, "Propagation": ""},
        {"Type": "tmpfs", "Source": "", "Destination": "/t", "Mode": "", "RW": True, "Propagation": ""},
        {"Type": "bind", "Source": "/tmp/xp", "Destination": "/b", "Mode": "", "RW": True, "Propagation": "rslave"},
        {"Type": "bind", "Source": "/tmp/xp", "Destination": "/b2", "Mode": "", "RW": False,
         "Propagation": "rslave"}],
}


def test_mount_options_and_blkio_limits_of_a_real_inspect_are_read_and_written_back():
    c = container_from_inspect(REAL_INSPECT)
    m = {x.destination: x for x in c.mounts}
    assert m["/v1"].nocopy and m["/v1"].volume_options == {"device": "tmpfs", "type": "tmpfs"}
    assert m["/v1"].volume_labels == {"l1": "x"} and m["/v2"].nocopy and not m["/v2"].volume_labels
    assert (m["/t"].tmpfs_size, m["/t"].tmpfs_mode) == (1048577, 0o1770)
    assert m["/b"].non_recursive and not m["/b2"].non_recursive and m["/b2"].read_only
    assert c.volume_driver == "local" and c.blkio_weight_device == ()
    assert c.blkio_device_write_bps == ({"Path": "/dev/vda", "Rate": 2097152},)
    spec = create_spec(c, None, image_ref="bb:1")
    pairs = _pairs(spec.args)
    for pair in [("--volume-driver", "local"),
                 ("--device-read-bps", "/dev/vda:1048576"), ("--device-write-bps", "/dev/vda:2097152"),
                 ("--device-read-iops", "/dev/vda:100"), ("--device-write-iops", "/dev/vda:200"),
                 ("--mount", "type=volume,source=v1,target=/v1,volume-nocopy,volume-opt=device=tmpfs,"
                             "volume-opt=type=tmpfs,volume-label=l1=x"),
                 ("--mount", "type=volume,source=pre,target=/v2,volume-nocopy"),
                 ("--mount", "type=tmpfs,target=/t,tmpfs-size=1048577,tmpfs-mode=1770"),
                 ("--mount", "type=bind,source=/tmp/xp,target=/b,bind-propagation=rslave,bind-recursive=disabled"),
                 ("--mount", "type=bind,source=/tmp/xp,target=/b2,readonly,bind-propagation=rslave")]:
        assert pair in pairs, pair
    assert "--blkio-weight-device" not in spec.args and spec.not_carried == ()
    assert spec.args[-3:] == ("bb:1", "sleep", "100")


def test_newer_api_options_are_emitted_or_reported():
    # API 1.43+ annotations, 1.44+ read-only recursion, 1.45+ subpath, 1.46+ tmpfs options (the Engine API's shapes)
    raw = {
        "Id": ID, "Name": "/api", "Config": {"Image": "shop/api:1"},
        "HostConfig": {
            "Annotations": {"io.katacontainers.config.hypervisor.default_memory": "512", "b": "x,y"},
            "BlkioWeightDevice": [{"Path": "/dev/sda", "Weight": 300}], "Cgroup": "container:abc",
            "KernelMemoryTCP": 1 << 20,
            "Mounts": [
                {"Type": "volume", "Source": "data", "Target": "/d", "VolumeOptions": {"Subpath": "app/logs"}},
                {"Type": "bind", "Source": "/srv", "Target": "/r", "ReadOnly": True,
                 "BindOptions": {"ReadOnlyNonRecursive": True, "CreateMountpoint": True}},
                {"Type": "bind", "Source": "/srv", "Target": "/f", "ReadOnly": True,
                 "BindOptions": {"ReadOnlyForceRecursive": True}},
                {"Type": "tmpfs", "Target": "/x", "TmpfsOptions": {"Options": [["exec"], ["nr_inodes", "10"]]}}]},
        "Mounts": [
            {"Type": "volume", "Name": "data", "Source": "/var/lib/docker/volumes/data/_data", "Destination": "/d",
             "Driver": "local", "Mode": "z", "RW": True},
            {"Type": "bind", "Source": "/srv", "Destination": "/r", "RW": False, "Propagation": "rprivate"},
            {"Type": "bind", "Source": "/srv", "Destination": "/f", "RW": False, "Propagation": "rprivate"}],
    }
    c = container_from_inspect(raw)
    m = {x.destination: x for x in c.mounts}
    assert m["/d"].subpath == "app/logs" and m["/x"].tmpfs_options == ("exec", "nr_inodes=10")
    assert m["/r"].readonly_non_recursive and m["/r"].create_mountpoint and m["/f"].readonly_force_recursive
    assert c.cgroup == "container:abc" and c.kernel_memory_tcp == 1 << 20
    spec = create_spec(c, None, image_ref="shop/api:1")
    pairs = _pairs(spec.args)
    for pair in [("--annotation", "b=x,y"), ("--annotation", "io.katacontainers.config.hypervisor.default_memory=512"),
                 ("--blkio-weight-device", "/dev/sda:300"),
                 ("--mount", "type=volume,source=data,target=/d,volume-subpath=app/logs"),
                 ("--mount", "type=bind,source=/srv,target=/r,readonly,bind-recursive=writable"),
                 ("--mount", "type=bind,source=/srv,target=/f,readonly,bind-recursive=readonly"),
                 ("--mount", "type=tmpfs,target=/x")]:
        assert pair in pairs, pair
    assert set(dict(spec.not_carried)) == {"mounts /r create_mountpoint", "mounts /x tmpfs_options", "cgroup",
                                           "kernel_memory_tcp"}
    assert not_carried_fields(spec) - {"cgroup", "kernel_memory_tcp"} <= set(CARRIED_FIELDS)


def test_values_the_cli_cannot_split_are_reported_not_written():
    c = _from_image(
        annotations={"k=1": "v"}, blkio_device_read_bps=({"Path": "/dev/disk/by-id/a:b", "Rate": 1},
                                                         {"Path": "/var/x", "Rate": 2}),
        blkio_weight_device=({"Path": "/dev/sdb", "Weight": 20},),
        mounts=(Mount(type="volume", source="", destination="/v", name="v", volume_labels={"a=b": "1", "ok": "a,b"}),
                Mount(type="bind", source="/s", destination="/s", non_recursive=True, readonly_non_recursive=True,
                      read_only=True)))
    spec = create_spec(c, IMAGE, image_ref="shop/api:1")
    assert set(dict(spec.not_carried)) == {"annotations k=1", "blkio_device_read_bps /dev/disk/by-id/a:b",
                                           "blkio_device_read_bps /var/x", "mounts /v volume_labels a=b",
                                           "mounts /s recursion"}
    pairs = _pairs(spec.args)
    assert ("--mount", 'type=volume,source=v,target=/v,"volume-label=ok=a,b"') in pairs
    assert ("--mount", "type=bind,source=/s,target=/s,readonly") in pairs
    assert ("--blkio-weight-device", "/dev/sdb:20") in pairs
    assert not any(f in spec.args for f in ("--annotation", "--device-read-bps"))


def test_an_inventory_written_before_these_fields_still_loads():
    old = {"id": ID, "name": "api", "image": "shop/api:1", "blkio_weight": 300,
           "mounts": [{"type": "tmpfs", "source": "", "destination": "/t", "read_only": False, "mode": ""},
                      {"type": "volume", "source": "/v/_data", "destination": "/v", "name": "v", "driver": "local"}]}
    c = from_data(Container, old)
    assert c.blkio_weight == 300 and c.annotations == {} and c.volume_driver == "" and c.blkio_device_read_bps == ()
    assert c.mounts[0].tmpfs_size == 0 and not c.mounts[1].nocopy and c.mounts[1].volume_options == {}
    spec = create_spec(c, None, image_ref="shop/api:1")
    assert ("--mount", "type=tmpfs,target=/t") in _pairs(spec.args)
    assert ("--mount", "type=volume,source=v,target=/v") in _pairs(spec.args)
