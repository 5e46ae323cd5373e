"""Check Engine API payloads (from a bundle, or `docker ... inspect` output) against the types the API gives.

The normalizer reads these payloads field by field. A bundle may have been edited by hand or be hostile: a `true`
where the API gives a list, a number too large for a float, a negative size, an image reference that docker
would read as an option. Each is refused here, before normalizing, with the file, the object and the field
named, so nothing later fails on a wrong type.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from migrate.errors import InputError
from migrate.reference import image_or_reference_problem, reference_problem

# Leaf types. Every field may also be null (the API writes null for an empty list or map).
S = "a string"
B = "true or false"
I = "an integer"  # noqa: E741  (a schema letter, as S and B)
N = "a non-negative integer"
L = "a list of strings"
M = "an object of strings"
D = "an object"
LI = "a list of integers"
SN = "a string or a non-negative integer"

INT_MAX = 2**63 - 1
"""Engine API integers are Go int64; anything larger (or a float such as 1e400) is not from an engine."""

_HEALTHCHECK = {"Test": L, "Interval": I, "Timeout": I, "StartPeriod": I, "StartInterval": I, "Retries": I}
_MOUNT_SPEC = {
    "Target": S, "Source": S, "Type": S, "ReadOnly": B, "Consistency": S,
    "VolumeOptions": {"NoCopy": B, "Labels": M, "Subpath": S, "DriverConfig": {"Name": S, "Options": M}},
    "TmpfsOptions": {"SizeBytes": N, "Mode": N, "Options": [[S]]},
    "BindOptions": {"Propagation": S, "NonRecursive": B, "CreateMountpoint": B, "ReadOnlyNonRecursive": B,
                    "ReadOnlyForceRecursive": B},
}
_BLKIO_RATE = [{"Path": S, "Rate": N}]
_CONFIG = {
    "Hostname": S, "Domainname": S, "User": S, "AttachStdin": B, "AttachStdout": B, "AttachStderr": B,
    "ExposedPorts": D, "Tty": B, "OpenStdin": B, "StdinOnce": B, "Env": L, "Cmd": L, "Healthcheck": _HEALTHCHECK,
    "Image": S, "Volumes": D, "WorkingDir": S, "Entrypoint": L, "NetworkDisabled": B, "MacAddress": S,
    "OnBuild": L, "Labels": M, "StopSignal": S, "StopTimeout": I, "Shell": L,
}
_HOST_CONFIG = {
    "Binds": L, "Mounts": [_MOUNT_SPEC], "PortBindings": {"*": [{"HostIp": S, "HostPort": S}]},
    "PublishAllPorts": B, "RestartPolicy": {"Name": S, "MaximumRetryCount": I}, "AutoRemove": B,
    "NetworkMode": S, "VolumesFrom": L, "Links": L, "CapAdd": L, "CapDrop": L, "Privileged": B,
    "Devices": [{"PathOnHost": S, "PathInContainer": S, "CgroupPermissions": S}], "DeviceCgroupRules": L,
    "DeviceRequests": [{"Driver": S, "Count": I, "DeviceIDs": L, "Capabilities": [L], "Options": M}],
    "SecurityOpt": L, "Ulimits": [{"Name": S, "Soft": I, "Hard": I}], "LogConfig": {"Type": S, "Config": M},
    "ExtraHosts": L, "Dns": L, "DnsSearch": L, "DnsOptions": L, "Memory": N, "MemorySwap": I,
    "MemoryReservation": N, "MemorySwappiness": I, "KernelMemory": N, "NanoCpus": N, "CpuShares": N,
    "CpuPeriod": N, "CpuQuota": I, "CpuRealtimePeriod": N, "CpuRealtimeRuntime": N, "CpusetCpus": S,
    "CpusetMems": S, "BlkioWeight": N, "BlkioWeightDevice": [{"Path": S, "Weight": N}],
    "BlkioDeviceReadBps": _BLKIO_RATE, "BlkioDeviceWriteBps": _BLKIO_RATE, "BlkioDeviceReadIOps": _BLKIO_RATE,
    "BlkioDeviceWriteIOps": _BLKIO_RATE, "PidsLimit": I, "OomKillDisable": B, "OomScoreAdj": I, "Tmpfs": M,
    "ShmSize": N, "Init": B, "ReadonlyRootfs": B, "Runtime": S, "Isolation": S, "PidMode": S, "IpcMode": S,
    "UTSMode": S, "UsernsMode": S, "CgroupnsMode": S, "CgroupParent": S, "Sysctls": M, "GroupAdd": L,
    "StorageOpt": M, "MaskedPaths": L, "ReadonlyPaths": L, "ConsoleSize": LI, "VolumeDriver": S,
    "Annotations": M, "Cgroup": S, "KernelMemoryTCP": N,
}
_ENDPOINT = {"NetworkID": S, "Aliases": L, "IPAMConfig": {"IPv4Address": S, "IPv6Address": S, "LinkLocalIPs": L},
             "MacAddress": S, "IPAddress": S, "Links": L, "DriverOpts": M}
CONTAINER = {
    "Id": S, "Name": S, "Image": S, "Created": S, "Platform": S, "Driver": S, "SizeRw": N, "SizeRootFs": N,
    "State": {"Status": S, "Running": B, "ExitCode": I},
    "Config": _CONFIG, "HostConfig": _HOST_CONFIG,
    "Mounts": [{"Type": S, "Name": S, "Source": S, "Destination": S, "Driver": S, "Mode": S, "RW": B,
                "Propagation": S}],
    "NetworkSettings": {"Networks": {"*": _ENDPOINT}},
}
IMAGE = {
    "Id": S, "RepoTags": L, "RepoDigests": L, "Parent": S, "Created": S, "Os": S, "Architecture": S,
    "Variant": S, "Size": N, "RootFS": {"Type": S, "Layers": L},
    "Config": {k: _CONFIG[k] for k in ("Env", "Cmd", "Entrypoint", "User", "WorkingDir", "ExposedPorts",
                                       "Volumes", "Healthcheck", "StopSignal", "Shell", "OnBuild", "Labels")},
}
VOLUME = {"Name": S, "Driver": S, "Mountpoint": S, "Options": M, "Labels": M, "Scope": S, "CreatedAt": S,
          "UsageData": {"Size": I, "RefCount": I}}
NETWORK = {
    "Name": S, "Id": S, "ID": S, "Driver": S, "Scope": S, "Internal": B, "Attachable": B, "Ingress": B,
    "EnableIPv6": B, "IPAM": {"Driver": S, "Options": M, "Config": [{"Subnet": S, "Gateway": S, "IPRange": S,
                                                                     "AuxiliaryAddresses": M}]},
    "Options": M, "Labels": M, "ConfigFrom": {"Network": S}, "ConfigOnly": B, "Containers": {"*": {"Name": S}},
}
DF = {
    "Volumes": [{"Name": S, "UsageData": {"Size": I, "RefCount": I}, "Size": SN, "Links": SN}],
    "Containers": [{"Id": S, "SizeRw": N, "SizeRootFs": N}],
}
INFO = {
    "ID": S, "Name": S, "ServerVersion": S, "OSType": S, "KernelVersion": S, "OperatingSystem": S,
    "Architecture": S, "DockerRootDir": S, "Driver": S, "DriverStatus": [[S]], "ExperimentalBuild": B, "NCPU": N,
    "MemTotal": N, "Images": N, "Containers": N, "ContainersRunning": N, "ContainersPaused": N,
    "ContainersStopped": N, "Isolation": S, "LoggingDriver": S, "DefaultRuntime": S, "Runtimes": {"*": D},
    "Plugins": {"*": L}, "Swarm": {"LocalNodeState": S}, "HttpProxy": S, "HttpsProxy": S, "NoProxy": S,
    "Labels": L, "SecurityOptions": L, "IndexServerAddress": S,
    "RegistryConfig": {"Mirrors": L, "InsecureRegistryCIDRs": L,
                       "IndexConfigs": {"*": {"Name": S, "Mirrors": L, "Secure": B, "Official": B}}},
}
VERSION = {"Version": S, "ApiVersion": S, "Os": S, "Arch": S, "KernelVersion": S, "Experimental": B,
           "Platform": {"Name": S}, "Components": [{"Name": S, "Version": S}]}
SCHEMAS: dict[str, Any] = {"containers": CONTAINER, "images": IMAGE, "volumes": VOLUME, "networks": NETWORK,
                           "df": DF, "info": INFO, "version": VERSION}
_SINGULAR = {"containers": "container", "images": "image", "volumes": "volume", "networks": "network", "df": "df",
             "info": "docker info", "version": "docker version"}


_IDENTITY = {"containers": "Id", "images": "Id", "volumes": "Name", "networks": "Name"}
"""The key that makes an inspect object one object; an item without it is not an inspect of that kind."""


class _Bad(Exception):
    """A value of the wrong type at a path inside one object."""

    def __init__(self, where: str, expected: str, value: Any, shown: str = "") -> None:
        super().__init__(where)
        self.where, self.expected, self.value = where, expected, value
        self.shown = shown or _shown(value)


def _shown(value: Any) -> str:
    if value is None:
        return "null"
    if value is True or value is False:
        return str(value).lower()
    if isinstance(value, (int, float)):
        text = repr(value)
        return text if len(text) <= 24 else text[:20] + "..."
    if isinstance(value, str):
        return repr(value[:60] + ("..." if len(value) > 60 else ""))
    return "a list" if isinstance(value, list) else "an object"


def _int_ok(value: Any, non_negative: bool) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool) and -INT_MAX - 1 <= value <= INT_MAX
            and (value >= 0 or not non_negative))


def _check(value: Any, schema: Any, where: str) -> None:
    if value is None:
        return
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            raise _Bad(where, D, value)
        if "*" in schema:
            for k, v in value.items():
                _check(v, schema["*"], f"{where}.{k}")
            return
        for key, sub in schema.items():
            if key in value:
                _check(value[key], sub, f"{where}.{key}" if where else key)
        return
    if isinstance(schema, list):
        if not isinstance(value, list):
            raise _Bad(where, "a list", value)
        for i, item in enumerate(value):
            _check(item, schema[0], f"{where}[{i}]")
        return
    if schema == S:
        ok = isinstance(value, str)
    elif schema == B:
        ok = isinstance(value, bool)
    elif schema in (I, N):
        ok = _int_ok(value, schema == N)
    elif schema == SN:
        ok = isinstance(value, str) or _int_ok(value, True)
    elif schema == D:
        ok = isinstance(value, dict)
    elif schema == L:
        # A lone string where a list is expected is how old engines wrote Cmd and Entrypoint.
        ok = isinstance(value, str) or (isinstance(value, list) and all(isinstance(x, str) for x in value))
    elif schema == LI:
        ok = isinstance(value, list) and all(_int_ok(x, True) for x in value)
    else:  # M
        ok = isinstance(value, dict) and all(v is None or isinstance(v, str) for v in value.values())
    if not ok:
        if isinstance(value, list) and schema in (L, LI):
            bad = next((x for x in value if not (isinstance(x, str) if schema == L else _int_ok(x, True))), None)
            raise _Bad(where, schema, value, f"a list holding {_shown(bad)}")
        raise _Bad(where, schema, value)


def _label(obj: Mapping[str, Any], area: str, index: int) -> str:
    if area in ("info", "version", "df"):
        return _SINGULAR[area]
    for key in ("Name", "Id", "ID"):
        value = obj.get(key)
        if isinstance(value, str) and value:
            return f"{_SINGULAR[area]} {value[:80]}" if key == "Name" else f"{_SINGULAR[area]} {value[:19]}"
    return f"item {index}"


def _references(obj: Mapping[str, Any], area: str) -> None:
    """Image references that become docker operands: tags, digests, a container's image."""
    if area == "images":
        for field in ("RepoTags", "RepoDigests"):
            values = obj.get(field)
            for i, ref in enumerate([values] if isinstance(values, str) else values or []):
                if ref in ("<none>:<none>", "<none>@<none>"):
                    continue
                why = reference_problem(ref)
                if why:
                    raise _Bad(f"{field}[{i}]", "an image reference", ref) from _Why(why)
    elif area == "containers":
        ref = (obj.get("Config") or {}).get("Image")
        if isinstance(ref, str) and ref:
            why = image_or_reference_problem(ref)
            if why:
                raise _Bad("Config.Image", "an image reference", ref) from _Why(why)


class _Why(Exception):
    """The grammar's reason, carried as the cause of a reference _Bad."""


def check_objects(items: list[Any], area: str, name: str, start: int = 0) -> None:
    """InputError naming the file, the object and the field when an item of a payload array is malformed (start:
    the index of items[0] in its array, for the message)."""
    schema = SCHEMAS[area]
    for index, obj in enumerate(items, start):
        if not isinstance(obj, dict):
            raise InputError(f"{name}: item {index} is {_shown(obj)}, expected an object as `docker inspect` "
                             "prints it")
        key = _IDENTITY.get(area)
        if key and not (isinstance(obj.get(key), str) and obj[key]):
            raise InputError(f"{name}: item {index} has no {key}, so it is not what `docker {_SINGULAR[area]} "
                             "inspect` prints")
        try:
            _check(obj, schema, "")
            _references(obj, area)
        except _Bad as bad:
            why = str(bad.__cause__) if isinstance(bad.__cause__, _Why) else ""
            found = f"{bad.shown} {why}" if why else f"expected {bad.expected}, found {bad.shown}"
            raise InputError(f"{name}: {_label(obj, area, index)}: {bad.where}: {found}") from None
