"""Turn raw Engine API payloads (as the API returns them, or as `docker inspect` prints them) into model values.

The engine scanner and the bundle reader both end here, so a bundle assembled by hand from `docker inspect`
gives the same inventory as a live scan of the same engine.
"""
from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from migrate.model import (
    Attachment,
    Compose,
    Container,
    Engine,
    Image,
    IpamConfig,
    Mount,
    Network,
    Note,
    PortBinding,
    Reported,
    Volume,
)
from migrate.secrets import digest_entry, digest_labels

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
BUILTIN_NETWORKS = frozenset({"bridge", "host", "none", "nat", "ingress", "docker_gwbridge"})


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    """value when it is a list, else empty: a payload of the wrong shape never stops the normalizer."""
    return value if isinstance(value, list) else []


def _strs(value: Any) -> tuple[str, ...]:
    if not value:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in _list(value))


IMAGE_LIST_KEYS = frozenset({"Env", "Cmd", "Entrypoint", "Shell", "OnBuild"})
"""Image config keys that are lists of strings in the inventory (migrate/inventory/sanity.py holds it to that)."""


def _opt_strs(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    return _strs(value)


def _strmap(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): "" if v is None else str(v) for k, v in sorted(value.items())}


def _int(value: Any, default: int = 0) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else default
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return default
    return default


def _dicts(value: Any) -> tuple[dict[str, Any], ...]:
    return tuple(dict(v) for v in _list(value) if isinstance(v, dict))


def _opt_count(value: Any) -> int | None:
    """A non-negative count or size; None when absent, negative (the API's -1) or not a number."""
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63 else None


def _opt_int(value: Any) -> int | None:
    if value is None:
        return None
    return _int(value)


def engine_from_info(info: Mapping[str, Any], version: Mapping[str, Any] | None, reachable: bool,
                     client: Mapping[str, Any] | None = None) -> Engine:
    """Engine facts from /info (and /version and the capturing CLI's client part when available)."""
    version = version or {}
    registry = _d(info.get("RegistryConfig"))
    insecure = [c for c in _strs(registry.get("InsecureRegistryCIDRs")) if c not in ("127.0.0.0/8", "::1/128")]
    for name, cfg in sorted(_d(registry.get("IndexConfigs")).items()):
        if isinstance(cfg, dict) and cfg.get("Secure") is False and name not in insecure:
            insecure.append(name)
    plugins = {k: _strs(v) for k, v in sorted(_d(info.get("Plugins")).items()) if v}
    runtimes = tuple(sorted(_d(info.get("Runtimes")).keys()))
    platform = _d(version.get("Platform")).get("Name", "")
    driver_status = tuple(
        (str(pair[0]), str(pair[1]))
        for pair in _list(info.get("DriverStatus"))
        if isinstance(pair, list) and len(pair) == 2
    )
    return Engine(
        reachable=reachable,
        server_version=str(info.get("ServerVersion") or version.get("Version") or ""),
        api_version=str(version.get("ApiVersion") or ""),
        os_type=str(info.get("OSType") or version.get("Os") or ""),
        operating_system=str(info.get("OperatingSystem") or ""),
        kernel_version=str(info.get("KernelVersion") or version.get("KernelVersion") or ""),
        architecture=str(info.get("Architecture") or version.get("Arch") or ""),
        name=str(info.get("Name") or ""),
        docker_root_dir=str(info.get("DockerRootDir") or ""),
        storage_driver=str(info.get("Driver") or ""),
        driver_status=driver_status,
        experimental=_experimental(info, version),
        ncpu=_int(info.get("NCPU")),
        mem_total=_int(info.get("MemTotal")),
        registry_mirrors=_strs(registry.get("Mirrors")),
        insecure_registries=tuple(insecure),
        plugins=plugins,
        swarm_state=str(_d(info.get("Swarm")).get("LocalNodeState") or ""),
        default_runtime=str(info.get("DefaultRuntime") or ""),
        runtimes=runtimes,
        platform_name=str(platform or ""),
        http_proxy=str(info.get("HttpProxy") or ""),
        https_proxy=str(info.get("HttpsProxy") or ""),
        no_proxy=str(info.get("NoProxy") or ""),
        labels=_strs(info.get("Labels")),
        security_options=_strs(info.get("SecurityOptions")),
        reported=reported(info, version, client),
    )


def _experimental(info: Mapping[str, Any], version: Mapping[str, Any]) -> bool | None:
    for value in (info.get("ExperimentalBuild"), version.get("Experimental")):
        if isinstance(value, bool):
            return value
    return None


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**53 else None


_WIN_KERNEL = re.compile(r"^10\.0 (\d{5}) \(")
_WIN_OS = re.compile(r"^(Windows[^()]*?)(?: Version \S+)? \(OS Build (\d{5})(?:\.\d+)?\)")


def reported(info: Mapping[str, Any], version: Mapping[str, Any], client: Mapping[str, Any] | None = None) -> Reported:
    """What /info and /version say about objects and the host: counts, a Windows engine's build, Kubernetes."""
    kernel = str(info.get("KernelVersion") or "")
    os_name = str(info.get("OperatingSystem") or "")
    build: int | None = None
    edition = ""
    m = _WIN_OS.match(os_name)
    if m:
        edition, build = m.group(1).strip(), int(m.group(2))
    elif os_name.startswith("Windows"):
        edition = os_name
    k = _WIN_KERNEL.match(kernel)
    if k and build is None:
        build = int(k.group(1))
    kubernetes = ""
    for comp in version.get("Components") or [] if isinstance(version.get("Components"), list) else []:
        if isinstance(comp, dict) and str(comp.get("Name") or "").lower() == "kubernetes":
            kubernetes = str(comp.get("Version") or "")
    client_os = str((client or {}).get("Os") or "").lower()
    return Reported(images=_count(info.get("Images")), containers=_count(info.get("Containers")),
                    containers_running=_count(info.get("ContainersRunning")),
                    containers_paused=_count(info.get("ContainersPaused")),
                    containers_stopped=_count(info.get("ContainersStopped")),
                    windows_build=build, windows_edition=edition, kubernetes_version=kubernetes,
                    client_os=client_os)


# ---------------------------------------------------------------------------------------------------- images


def _tags(raw: Any) -> tuple[str, ...]:
    return tuple(sorted(t for t in _strs(raw) if t != "<none>:<none>"))


def images_from_inspect(inspects: Iterable[Mapping[str, Any]]) -> list[Image]:
    """Images from `docker image inspect` payloads (one dict each); containers are linked later."""
    # `docker image ls -aq` lists an image once per tag, so a hand-made bundle may inspect it several times.
    unique = {str(i["Id"]): i for i in inspects if isinstance(i, Mapping) and i.get("Id")}
    raws = list(unique.values())
    parents = {str(i.get("Parent") or "") for i in raws}
    out = []
    for raw in raws:
        cfg = _d(raw.get("Config"))
        tags = _tags(raw.get("RepoTags"))
        digests = tuple(sorted(d for d in _strs(raw.get("RepoDigests")) if "<none>@" not in d))
        defaults = {
            # A lone string is how old engines wrote Cmd and Entrypoint: one argument, a list as containers have.
            k: list(_strs(cfg[k])) if k in IMAGE_LIST_KEYS else cfg[k]
            for k in ("Env", "Cmd", "Entrypoint", "User", "WorkingDir", "ExposedPorts", "Volumes", "Healthcheck",
                      "StopSignal", "Shell", "OnBuild")
            if cfg.get(k) not in (None, "", [], {})
        }
        out.append(
            Image(
                id=str(raw["Id"]),
                tags=tags,
                repo_digests=digests,
                os=str(raw.get("Os") or ""),
                architecture=str(raw.get("Architecture") or ""),
                variant=str(raw.get("Variant") or ""),
                size=_int(raw.get("Size")),
                created=str(raw.get("Created") or ""),
                layers=_strs(_d(raw.get("RootFS")).get("Layers")),
                labels=_strmap(cfg.get("Labels")),
                dangling=not tags and str(raw["Id"]) not in parents,
                parent=str(raw.get("Parent") or ""),
                config=defaults,
            )
        )
    return out


# ------------------------------------------------------------------------------------------------ containers

_DESKTOP_BIND = re.compile(r"^desktop\.docker\.io/(?:binds|mounts)/(\d+)/(Source|Target|SourceKind)$")


def _desktop_binds(labels: Mapping[str, str]) -> dict[str, str]:
    """Map target -> source as the user typed it, from Docker Desktop's bind labels."""
    groups: dict[str, dict[str, str]] = {}
    for key, value in labels.items():
        m = _DESKTOP_BIND.match(key)
        if m:
            groups.setdefault(m.group(1), {})[m.group(2)] = value
    return {g["Target"]: g["Source"] for g in groups.values() if "Target" in g and "Source" in g}


def _bind_destination(spec: str) -> str:
    """The container path of a HostConfig.Binds entry (source:dest[:mode]); Windows sources may hold a colon."""
    m = re.match(r"^(?:[A-Za-z]:[\\/][^:]*|[^:]+):([^:]+)(?::[^:]*)?$", spec)
    return m.group(1) if m else ""


def _tmpfs_options(value: Any) -> tuple[str, ...]:
    """TmpfsOptions.Options ([["nr_inodes", "10"], ["exec"]]) as 'key=value' / 'key' strings."""
    out = []
    for pair in _list(value):
        if isinstance(pair, list) and pair:
            out.append("=".join(str(x) for x in pair[:2]))
    return tuple(out)


def _mount_options(spec: Mapping[str, Any], mode: str) -> dict[str, Any]:
    """The Mount fields that only a HostConfig.Mounts entry (or a -v mode) holds."""
    vol = _d(spec.get("VolumeOptions"))
    tmpfs = _d(spec.get("TmpfsOptions"))
    bind = _d(spec.get("BindOptions"))
    return dict(
        nocopy=bool(vol.get("NoCopy")) or "nocopy" in mode.split(","),
        volume_options=_strmap(_d(vol.get("DriverConfig")).get("Options")),
        volume_labels=_strmap(vol.get("Labels")),
        subpath=str(vol.get("Subpath") or ""),
        tmpfs_size=_int(tmpfs.get("SizeBytes")),
        tmpfs_mode=_int(tmpfs.get("Mode")),
        tmpfs_options=_tmpfs_options(tmpfs.get("Options")),
        non_recursive=bool(bind.get("NonRecursive")),
        readonly_non_recursive=bool(bind.get("ReadOnlyNonRecursive")),
        readonly_force_recursive=bool(bind.get("ReadOnlyForceRecursive")),
        create_mountpoint=bool(bind.get("CreateMountpoint")),
    )


def _mounts(raw: Mapping[str, Any], labels: Mapping[str, str]) -> tuple[Mount, ...]:
    host = _d(raw.get("HostConfig"))
    binds = {_bind_destination(b): b for b in _strs(host.get("Binds"))}
    specs = {str(m.get("Target") or ""): m for m in _list(host.get("Mounts")) if isinstance(m, dict)}
    typed = _desktop_binds(labels)
    out = []
    seen = set()
    for m in _list(raw.get("Mounts")):
        if not isinstance(m, dict):
            continue
        dest = str(m.get("Destination") or "")
        seen.add(dest)
        name = str(m.get("Name") or "")
        mtype = str(m.get("Type") or ("volume" if name else "bind"))
        mode = str(m.get("Mode") or "")
        out.append(
            Mount(
                type=mtype,
                source=str(m.get("Source") or ""),
                destination=dest,
                mode=mode,
                read_only=not bool(m.get("RW", True)),
                propagation=str(m.get("Propagation") or ""),
                name=name,
                driver=str(m.get("Driver") or ""),
                anonymous=mtype == "volume" and bool(_HEX64.match(name)),
                spec=binds.get(dest, ""),
                desktop_source=typed.get(dest, ""),
                **_mount_options(specs.get(dest, {}), mode),
            )
        )
    # HostConfig.Mounts entries of type tmpfs do not always show in Mounts on older engines.
    for target, m in specs.items():
        if m.get("Type") == "tmpfs" and target not in seen:
            out.append(Mount(type="tmpfs", source="", destination=target, read_only=bool(m.get("ReadOnly")),
                             **_mount_options(m, "")))
    return tuple(sorted(out, key=lambda x: (x.destination, x.type, x.name, x.source)))


def _ports(host: Mapping[str, Any]) -> tuple[PortBinding, ...]:
    out = []
    for port, bindings in sorted(_d(host.get("PortBindings")).items()):
        if not bindings:
            out.append(PortBinding(container_port=port))
            continue
        for b in _list(bindings):
            b = _d(b)
            out.append(PortBinding(container_port=port, host_ip=str(b.get("HostIp") or ""),
                                   host_port=str(b.get("HostPort") or "")))
    return tuple(out)


def _protected_mounts(mounts: tuple[Mount, ...], key: bytes) -> tuple[Mount, ...]:
    """Mounts with the labels and driver options of the volumes they create digested where secret."""
    if not any(m.volume_labels or m.volume_options for m in mounts):
        return mounts
    return tuple(dataclasses.replace(m, volume_labels=digest_labels(m.volume_labels, key),
                                     volume_options=digest_labels(m.volume_options, key)) for m in mounts)


def _compose(labels: Mapping[str, str]) -> Compose | None:
    project = labels.get("com.docker.compose.project")
    if not project:
        return None
    depends = []
    for item in (labels.get("com.docker.compose.depends_on") or "").split(","):
        item = item.strip()
        if item:
            depends.append(item.split(":", 1)[0])
    files = [f for f in (labels.get("com.docker.compose.project.config_files") or "").split(",") if f]
    return Compose(
        project=project,
        service=labels.get("com.docker.compose.service", ""),
        working_dir=labels.get("com.docker.compose.project.working_dir", ""),
        config_files=tuple(files),
        environment_file=labels.get("com.docker.compose.project.environment_file", ""),
        depends_on=tuple(sorted(set(depends))),
        oneoff=labels.get("com.docker.compose.oneoff", "").lower() == "true",
        container_number=labels.get("com.docker.compose.container-number", ""),
    )


def _attachments(raw: Mapping[str, Any], short_id: str, requested_mac: str) -> tuple[Attachment, ...]:
    out = []
    for name, ep in sorted(_d(_d(raw.get("NetworkSettings")).get("Networks")).items()):
        ep = _d(ep)
        ipam = _d(ep.get("IPAMConfig"))
        aliases = tuple(a for a in _strs(ep.get("Aliases")) if not (len(a) >= 12 and short_id.startswith(a)))
        mac = str(ep.get("MacAddress") or "")
        out.append(
            Attachment(
                network=str(name),
                network_id=str(ep.get("NetworkID") or ""),
                aliases=aliases,
                ipv4_address=str(ipam.get("IPv4Address") or ""),
                ipv6_address=str(ipam.get("IPv6Address") or ""),
                link_local_ips=_strs(ipam.get("LinkLocalIPs")),
                mac_address=mac if requested_mac and mac == requested_mac else "",
                ip_address=str(ep.get("IPAddress") or ""),
                links=_strs(ep.get("Links")),
                driver_opts=_strmap(ep.get("DriverOpts")),
            )
        )
    return tuple(out)


def _is_kubernetes(name: str, labels: Mapping[str, str]) -> bool:
    return name.startswith("k8s_") or any(k.startswith("io.kubernetes.") for k in labels)


def container_from_inspect(raw: Mapping[str, Any], size: Mapping[str, Any] | None = None,
                           key: bytes | None = None) -> Container:
    """One container from its inspect payload; size holds SizeRw/SizeRootFs when they came separately.

    With a digest key, env values, secret-named labels and log options and mount credentials are digested as the
    container is made (docs/secrets.md): no copy of it ever holds them, and no second Container is built."""
    cfg = _d(raw.get("Config"))
    host = _d(raw.get("HostConfig"))
    state = _d(raw.get("State"))
    labels = _strmap(cfg.get("Labels"))
    name = str(raw.get("Name") or "").lstrip("/")
    cid = str(raw.get("Id") or "")
    size = size or raw
    log = _d(host.get("LogConfig"))
    restart = _d(host.get("RestartPolicy"))
    requested_mac = str(cfg.get("MacAddress") or "")
    status = str(state.get("Status") or "")
    return Container(
        id=cid,
        name=name,
        image=str(cfg.get("Image") or ""),
        image_id=str(raw.get("Image") or ""),
        state=status,
        running=bool(state.get("Running")),
        exit_code=_int(state.get("ExitCode")),
        created=str(raw.get("Created") or ""),
        platform=str(raw.get("Platform") or ""),
        driver=str(raw.get("Driver") or ""),
        env=_strs(cfg.get("Env")) if key is None else tuple(digest_entry(e, key) for e in _strs(cfg.get("Env"))),
        cmd=_opt_strs(cfg.get("Cmd")),
        entrypoint=_opt_strs(cfg.get("Entrypoint")),
        user=str(cfg.get("User") or ""),
        working_dir=str(cfg.get("WorkingDir") or ""),
        hostname=str(cfg.get("Hostname") or ""),
        domainname=str(cfg.get("Domainname") or ""),
        labels=labels if key is None else digest_labels(labels, key),
        exposed_ports=tuple(sorted(_d(cfg.get("ExposedPorts")).keys())),
        healthcheck=_d(cfg.get("Healthcheck")) or None,
        stop_signal=str(cfg.get("StopSignal") or ""),
        stop_timeout=_opt_int(cfg.get("StopTimeout")),
        tty=bool(cfg.get("Tty")),
        open_stdin=bool(cfg.get("OpenStdin")),
        stdin_once=bool(cfg.get("StdinOnce")),
        attach_stdin=bool(cfg.get("AttachStdin")),
        attach_stdout=bool(cfg.get("AttachStdout")),
        attach_stderr=bool(cfg.get("AttachStderr")),
        mac_address=requested_mac,
        network_disabled=bool(cfg.get("NetworkDisabled")),
        shell=_opt_strs(cfg.get("Shell")),
        onbuild=_strs(cfg.get("OnBuild")),
        config_volumes=tuple(sorted(_d(cfg.get("Volumes")).keys())),
        binds=_strs(host.get("Binds")),
        mounts=_mounts(raw, labels) if key is None else _protected_mounts(_mounts(raw, labels), key),
        port_bindings=_ports(host),
        publish_all_ports=bool(host.get("PublishAllPorts")),
        restart_policy=str(restart.get("Name") or ""),
        restart_max_retries=_int(restart.get("MaximumRetryCount")),
        auto_remove=bool(host.get("AutoRemove")),
        network_mode=str(host.get("NetworkMode") or ""),
        volumes_from=_strs(host.get("VolumesFrom")),
        links=_strs(host.get("Links")),
        cap_add=_strs(host.get("CapAdd")),
        cap_drop=_strs(host.get("CapDrop")),
        privileged=bool(host.get("Privileged")),
        devices=tuple(_strmap(d) for d in _list(host.get("Devices")) if isinstance(d, dict)),
        device_cgroup_rules=_strs(host.get("DeviceCgroupRules")),
        device_requests=tuple(_d(d) for d in _list(host.get("DeviceRequests")) if isinstance(d, dict)),
        security_opt=_strs(host.get("SecurityOpt")),
        ulimits=tuple(_d(u) for u in _list(host.get("Ulimits")) if isinstance(u, dict)),
        log_driver=str(log.get("Type") or ""),
        log_opts=_strmap(log.get("Config")) if key is None else digest_labels(_strmap(log.get("Config")), key),
        extra_hosts=_strs(host.get("ExtraHosts")),
        dns=_strs(host.get("Dns")),
        dns_search=_strs(host.get("DnsSearch")),
        dns_options=_strs(host.get("DnsOptions")),
        memory=_int(host.get("Memory")),
        memory_swap=_int(host.get("MemorySwap")),
        memory_reservation=_int(host.get("MemoryReservation")),
        memory_swappiness=_opt_int(host.get("MemorySwappiness")),
        kernel_memory=_int(host.get("KernelMemory")),
        nano_cpus=_int(host.get("NanoCpus")),
        cpu_shares=_int(host.get("CpuShares")),
        cpu_period=_int(host.get("CpuPeriod")),
        cpu_quota=_int(host.get("CpuQuota")),
        cpu_realtime_period=_int(host.get("CpuRealtimePeriod")),
        cpu_realtime_runtime=_int(host.get("CpuRealtimeRuntime")),
        cpuset_cpus=str(host.get("CpusetCpus") or ""),
        cpuset_mems=str(host.get("CpusetMems") or ""),
        blkio_weight=_int(host.get("BlkioWeight")),
        blkio_weight_device=_dicts(host.get("BlkioWeightDevice")),
        blkio_device_read_bps=_dicts(host.get("BlkioDeviceReadBps")),
        blkio_device_write_bps=_dicts(host.get("BlkioDeviceWriteBps")),
        blkio_device_read_iops=_dicts(host.get("BlkioDeviceReadIOps")),
        blkio_device_write_iops=_dicts(host.get("BlkioDeviceWriteIOps")),
        pids_limit=_opt_int(host.get("PidsLimit")) or None,
        oom_kill_disable=host.get("OomKillDisable") if isinstance(host.get("OomKillDisable"), bool) else None,
        oom_score_adj=_int(host.get("OomScoreAdj")),
        tmpfs=_strmap(host.get("Tmpfs")),
        shm_size=_int(host.get("ShmSize")),
        init=host.get("Init") if isinstance(host.get("Init"), bool) else None,
        readonly_rootfs=bool(host.get("ReadonlyRootfs")),
        runtime=str(host.get("Runtime") or ""),
        isolation=str(host.get("Isolation") or ""),
        pid_mode=str(host.get("PidMode") or ""),
        ipc_mode=str(host.get("IpcMode") or ""),
        uts_mode=str(host.get("UTSMode") or ""),
        userns_mode=str(host.get("UsernsMode") or ""),
        cgroupns_mode=str(host.get("CgroupnsMode") or ""),
        cgroup_parent=str(host.get("CgroupParent") or ""),
        sysctls=_strmap(host.get("Sysctls")),
        group_add=_strs(host.get("GroupAdd")),
        storage_opt=_strmap(host.get("StorageOpt")),
        masked_paths=_opt_strs(host.get("MaskedPaths")),
        readonly_paths=_opt_strs(host.get("ReadonlyPaths")),
        console_size=tuple(_int(x) for x in _list(host.get("ConsoleSize")) if x),
        volume_driver=str(host.get("VolumeDriver") or ""),
        annotations=_strmap(host.get("Annotations")),
        cgroup=str(host.get("Cgroup") or ""),
        kernel_memory_tcp=_int(host.get("KernelMemoryTCP")),
        networks=_attachments(raw, cid[:12], requested_mac),
        size_rw=_opt_int(size.get("SizeRw")),
        size_root_fs=_opt_int(size.get("SizeRootFs")),
        compose=_compose(labels),
        kubernetes=_is_kubernetes(name, labels),
    )


def _container_ref(ref: str, by_id: Mapping[str, str], names: set[str]) -> str:
    ref = ref.lstrip("/")
    if ref in names:
        return ref
    for cid, name in by_id.items():
        if ref and cid.startswith(ref):
            return name
    return ref


def link_containers(containers: list[Container]) -> list[Container]:
    """Fill depends_on for every container from container: modes, volumes-from and links; sort by name."""
    by_id = {c.id: c.name for c in containers}
    names = {c.name for c in containers}
    out = []
    for c in containers:
        deps: set[str] = set()
        for mode in (c.network_mode, c.pid_mode, c.ipc_mode):
            if mode.startswith("container:"):
                deps.add(_container_ref(mode.split(":", 1)[1], by_id, names))
        for vf in c.volumes_from:
            deps.add(_container_ref(vf.split(":", 1)[0], by_id, names))
        for link in c.links:
            deps.add(_container_ref(link.split(":", 1)[0], by_id, names))
        deps.discard(c.name)
        # replace() copies every field: only pay for it where there is something to record.
        out.append(dataclasses.replace(c, depends_on=tuple(sorted(deps))) if deps else c)
    return sorted(out, key=lambda c: (c.name, c.id))


def link_images(images: list[Image], containers: list[Container]) -> list[Image]:
    """Record on each image the containers created from it; sort images by first tag, then id."""
    users: dict[str, list[str]] = {}
    for c in containers:
        users.setdefault(c.image_id, []).append(c.name)
    out = [dataclasses.replace(i, containers=tuple(sorted(users[i.id]))) if i.id in users else i for i in images]
    return sorted(out, key=lambda i: (i.tags[0] if i.tags else "~", i.id))


# --------------------------------------------------------------------------------------------------- volumes


def volume_usage(df: Mapping[str, Any] | None) -> dict[str, tuple[int | None, int | None]]:
    """Volume name -> (size, ref count) from /system/df, or from `docker system df -v --format json`."""
    out: dict[str, tuple[int | None, int | None]] = {}
    for v in _list((df or {}).get("Volumes")):
        if not isinstance(v, dict) or not v.get("Name"):
            continue
        usage = v.get("UsageData")
        if isinstance(usage, dict):
            # -1 is the API's "not computed"; anything not a count is unknown as well.
            out[str(v["Name"])] = (_opt_count(usage.get("Size")), _opt_count(usage.get("RefCount")))
        else:  # the CLI's human form: {"Name": "x", "Size": "1.2kB", "Links": "1"}
            out[str(v["Name"])] = (parse_human_size(str(v.get("Size") or "")), _opt_count(v.get("Links")))
    return out


def container_sizes(df: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Container id -> {SizeRw, SizeRootFs} from /system/df, when the API form is given."""
    out = {}
    for c in _list((df or {}).get("Containers")):
        if isinstance(c, dict) and c.get("Id") and "SizeRw" in c:
            out[c["Id"]] = {"SizeRw": c.get("SizeRw"), "SizeRootFs": c.get("SizeRootFs")}
    return out


_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12, "pb": 10**15,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def parse_human_size(text: str) -> int | None:
    """'1.2kB' -> 1200, as the docker CLI prints sizes (decimal units); None when it is not a size."""
    m = re.match(r"^\s*([0-9]{1,15}(?:\.[0-9]{1,6})?)\s*([A-Za-z]{0,3})\s*$", text)
    if not m:
        return None
    unit = _UNITS.get(m.group(2).lower())
    if unit is None:
        return None
    return int(round(float(m.group(1)) * unit))


def volumes_from_inspect(raws: Iterable[Mapping[str, Any]], df: Mapping[str, Any] | None,
                         containers: list[Container]) -> list[Volume]:
    """Volumes from /volumes (or `docker volume inspect`), sizes from df, users from the containers."""
    usage = volume_usage(df)
    users: dict[str, set[str]] = {}
    for c in containers:
        for m in c.mounts:
            if m.type == "volume" and m.name:
                users.setdefault(m.name, set()).add(c.name)
    out = []
    for raw in raws:
        if not isinstance(raw, Mapping) or not raw.get("Name"):
            continue
        name = str(raw["Name"])
        labels = _strmap(raw.get("Labels"))
        options = _strmap(raw.get("Options"))
        size, refs = usage.get(name, (None, None))
        u = raw.get("UsageData")
        if isinstance(u, dict) and size is None:
            size, refs = _opt_count(u.get("Size")), _opt_count(u.get("RefCount"))
        bind = ""
        if "bind" in options.get("o", "").split(",") and options.get("device"):
            bind = options["device"]
        out.append(
            Volume(
                name=name,
                driver=str(raw.get("Driver") or "local"),
                mountpoint=str(raw.get("Mountpoint") or ""),
                options=options,
                labels=labels,
                scope=str(raw.get("Scope") or "local"),
                created=str(raw.get("CreatedAt") or ""),
                size=size,
                ref_count=refs if refs is not None else (len(users.get(name, ())) if df is None else None),
                anonymous=bool(_HEX64.match(name)) or "com.docker.volume.anonymous" in labels,
                users=tuple(sorted(users.get(name, ()))),
                bind_source=bind,
            )
        )
    return sorted(out, key=lambda v: v.name)


# -------------------------------------------------------------------------------------------------- networks


def networks_from_inspect(raws: Iterable[Mapping[str, Any]], containers: list[Container]) -> list[Network]:
    """Networks from /networks (or `docker network inspect`); attached containers from the containers."""
    # Engines before 25.0 allowed two networks of one name: an endpoint's network id says which one it is on.
    by_id: dict[str, set[str]] = {}
    by_name: dict[str, set[str]] = {}
    no_id: dict[str, set[str]] = {}
    for c in containers:
        for a in c.networks:
            by_name.setdefault(a.network, set()).add(c.name)
            if a.network_id:
                by_id.setdefault(a.network_id, set()).add(c.name)
            else:
                no_id.setdefault(a.network, set()).add(c.name)
    out = []
    for raw in raws:
        if not isinstance(raw, Mapping) or not raw.get("Name"):
            continue
        name = str(raw["Name"])
        net_id = str(raw.get("Id") or raw.get("ID") or "")
        ipam = _d(raw.get("IPAM"))
        pools = tuple(
            IpamConfig(subnet=str(p.get("Subnet") or ""), gateway=str(p.get("Gateway") or ""),
                       ip_range=str(p.get("IPRange") or ""), aux_addresses=_strmap(p.get("AuxiliaryAddresses")))
            for p in _list(ipam.get("Config")) if isinstance(p, dict)
        )
        # Matched by id where both sides have one; by name where either lacks it (a hand-made bundle).
        members = (by_id.get(net_id, set()) | no_id.get(name, set())) if net_id else set(by_name.get(name, ()))
        for ep in _d(raw.get("Containers")).values():
            if isinstance(ep, dict) and ep.get("Name"):
                members.add(str(ep["Name"]))
        out.append(
            Network(
                name=name,
                id=net_id,
                driver=str(raw.get("Driver") or ""),
                scope=str(raw.get("Scope") or ""),
                internal=bool(raw.get("Internal")),
                attachable=bool(raw.get("Attachable")),
                ingress=bool(raw.get("Ingress")),
                enable_ipv6=bool(raw.get("EnableIPv6")),
                ipam_driver=str(ipam.get("Driver") or ""),
                ipam_options=_strmap(ipam.get("Options")),
                ipam=pools,
                options=_strmap(raw.get("Options")),
                labels=_strmap(raw.get("Labels")),
                builtin=name in BUILTIN_NETWORKS,
                config_from=str(_d(raw.get("ConfigFrom")).get("Network") or ""),
                config_only=bool(raw.get("ConfigOnly")),
                containers=tuple(sorted(members)),
            )
        )
    return sorted(out, key=lambda n: (n.name, n.id))


def vanished(area: str, subject: str) -> Note:
    """The note for an object that disappeared between listing and inspecting it."""
    return Note(area=area, subject=subject, message="disappeared during the scan (removed while it was read)")
