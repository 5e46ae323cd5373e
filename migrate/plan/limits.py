"""Resource limits, devices and security options of a container as `docker create` flags."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from migrate.model import Container
from migrate.plan.mounts import Collector, csv_field

DEFAULT_SHM_SIZE = 64 * 1024 * 1024
"""The engine's default /dev/shm size: the engine fills it in, so it is not a user setting."""


def _cpus(nano: int) -> str:
    """NanoCpus as the decimal --cpus takes, exactly."""
    whole, frac = divmod(nano, 10**9)
    return f"{whole}.{frac:09d}".rstrip("0").rstrip(".")


def kv(mapping: Mapping[str, str]) -> list[str]:
    return [f"{k}={v}" for k, v in sorted(mapping.items())]


def _gpus(req: Mapping[str, Any]) -> str | None:
    """A DeviceRequest as a --gpus value, or None when --gpus cannot produce it."""
    caps = req.get("Capabilities") or []
    if len(caps) != 1 or not caps[0] or caps[0][-1] != "gpu" or "gpu" in caps[0][:-1]:
        return None
    fields = []
    ids = req.get("DeviceIDs") or []
    count = int(req.get("Count") or 0)
    if ids:
        if count:
            return None
        fields.append("device=" + ",".join(str(i) for i in ids))
    else:
        fields.append("count=" + ("all" if count == -1 else str(count)))
    if req.get("Driver"):
        fields.append(f"driver={req['Driver']}")
    if caps[0][:-1]:
        fields.append("capabilities=" + ",".join(caps[0][:-1]))
    if req.get("Options"):
        fields.append("options=" + ",".join(csv_field(kv) for kv in kv(req["Options"])))
    return ",".join(csv_field(f) for f in fields)


def security(c: Container, s: Collector) -> None:
    if c.privileged:
        s.args.append("--privileged")
    s.each("--cap-add", c.cap_add)
    s.each("--cap-drop", c.cap_drop)
    s.each("--security-opt", c.security_opt)
    for d in c.devices:
        host, inside, perms = d.get("PathOnHost", ""), d.get("PathInContainer", ""), d.get("CgroupPermissions", "")
        if ":" in host or ":" in inside:
            s.lose(f"devices {host}", "a device path holding ':' cannot be written for --device")
            continue
        s.flag("--device", ":".join(x for x in (host, inside or host, perms) if x))
    s.each("--device-cgroup-rule", c.device_cgroup_rules)
    for i, req in enumerate(c.device_requests, 1):
        value = _gpus(req)
        if value is None:
            s.lose(f"device_requests {i}", "only GPU requests have a docker create flag (--gpus)")
        else:
            s.flag("--gpus", value)
    s.each("--group-add", c.group_add)
    if c.readonly_rootfs:
        s.args.append("--read-only")


def resources(c: Container, s: Collector) -> None:
    for flag, value in (("--memory", c.memory), ("--memory-swap", c.memory_swap),
                        ("--memory-reservation", c.memory_reservation), ("--cpu-shares", c.cpu_shares),
                        ("--cpu-period", c.cpu_period), ("--cpu-quota", c.cpu_quota),
                        ("--cpu-rt-period", c.cpu_realtime_period), ("--cpu-rt-runtime", c.cpu_realtime_runtime),
                        ("--blkio-weight", c.blkio_weight), ("--oom-score-adj", c.oom_score_adj)):
        if value:
            s.flag(flag, str(value))
    if c.memory_swappiness is not None and c.memory_swappiness >= 0:
        s.flag("--memory-swappiness", str(c.memory_swappiness))
    if c.nano_cpus:
        s.flag("--cpus", _cpus(c.nano_cpus))
    if c.cpuset_cpus:
        s.flag("--cpuset-cpus", c.cpuset_cpus)
    if c.cpuset_mems:
        s.flag("--cpuset-mems", c.cpuset_mems)
    if c.kernel_memory:
        s.lose("kernel_memory", "kernel memory limits are deprecated and ignored by current engines (cgroup v2)")
    if c.kernel_memory_tcp:
        s.lose("kernel_memory_tcp", "docker create has no flag for it, and current engines (cgroup v2) ignore it")
    if c.pids_limit is not None and c.pids_limit > 0:
        s.flag("--pids-limit", str(c.pids_limit))
    if c.oom_kill_disable:
        s.args.append("--oom-kill-disable")
    for u in c.ulimits:
        s.flag("--ulimit", f"{u.get('Name')}={u.get('Soft')}:{u.get('Hard')}")
    if c.shm_size and c.shm_size != DEFAULT_SHM_SIZE:
        s.flag("--shm-size", str(c.shm_size))
    s.each("--storage-opt", kv(c.storage_opt))
    s.each("--sysctl", kv(c.sysctls))
    blkio(c, s)


def blkio(c: Container, s: Collector) -> None:
    """Per-device block IO weights and limits, as PATH:NUMBER (the CLI splits at the first ':', wants /dev/)."""
    for field, flag, key in (("blkio_weight_device", "--blkio-weight-device", "Weight"),
                             ("blkio_device_read_bps", "--device-read-bps", "Rate"),
                             ("blkio_device_write_bps", "--device-write-bps", "Rate"),
                             ("blkio_device_read_iops", "--device-read-iops", "Rate"),
                             ("blkio_device_write_iops", "--device-write-iops", "Rate")):
        for d in getattr(c, field):
            path, value = str(d.get("Path") or ""), d.get(key)
            if ":" in path or not path.startswith("/dev/") or not isinstance(value, int) or value < 0:
                s.lose(f"{field} {path}", f"{flag} takes /dev/PATH:NUMBER, and this entry cannot be written so")
            else:
                s.flag(flag, f"{path}:{value}")
