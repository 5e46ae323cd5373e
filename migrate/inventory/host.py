"""Read the Windows host's facts (host/facts.json of a bundle, or --host-facts) into HostFacts."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from migrate.errors import InputError
from migrate.inventory import textfile
from migrate.model import Drive, Engine, HostFacts, NetworkAdapter, PortRange
from migrate.winbuilds import edition_family

HOST_FORMAT = "wsl2-migrate-host/1"


def read_host_facts(path: Path) -> HostFacts:
    """Read a host facts file in the wsl2-migrate-host/1 format (see docs/bundle.md)."""
    data, _ = textfile.read_json(path, "host-facts")
    return host_facts_from_data(data, str(path))


def host_facts_from_data(data: Any, name: str) -> HostFacts:
    """Build HostFacts from parsed facts JSON; unknown keys are ignored, wrong types are an InputError."""
    if not isinstance(data, dict):
        raise InputError(f"{name}: expected a JSON object of host facts")
    r = _Reader(name)
    fmt = r.string(data, "format")
    if fmt and fmt != HOST_FORMAT:
        raise InputError(f"{name}: key format: unsupported {fmt!r}, expected {HOST_FORMAT!r}")
    os_ = r.obj(data, "os")
    wsl = r.obj(data, "wsl")
    edition_id = r.string(os_, "edition_id", "os.")
    product_type = r.integer(os_, "product_type", "os.")
    server: bool | None = None
    if product_type is not None:
        # Win32_OperatingSystem.ProductType: 1 workstation, 2 domain controller, 3 server.
        server = product_type != 1
    if edition_id.lower().startswith("server"):
        server = True
    features = r.obj(data, "features")
    for key, value in features.items():
        if not isinstance(value, str):
            raise InputError(f"{name}: key features.{key}: expected a string such as Enabled or Disabled")
    return HostFacts(
        file=name,
        computer_name=r.string(data, "computer_name"),
        user=r.string(data, "user"),
        edition=r.string(os_, "caption", "os."),
        edition_id=edition_id,
        server=server,
        build=r.integer(os_, "build", "os."),
        revision=r.integer(os_, "ubr", "os."),
        display_version=r.string(os_, "display_version", "os."),
        architecture=r.string(os_, "architecture", "os."),
        features=dict(sorted(features.items())),
        wsl_installed=r.boolean(wsl, "installed", "wsl."),
        wsl_version=r.string(wsl, "version", "wsl."),
        wsl_default_version=r.integer(wsl, "default_version", "wsl."),
        wsl_distros=r.objects(wsl, "distros", "wsl."),
        virtualization_firmware_enabled=r.boolean(data, "virtualization_firmware_enabled"),
        hypervisor_present=r.boolean(data, "hypervisor_present"),
        memory_bytes=r.integer(data, "memory_bytes"),
        cpus=r.integer(data, "cpus"),
        drives=tuple(sorted((r.drive(d, i) for i, d in enumerate(r.objects(data, "drives"))),
                            key=lambda d: d.name.upper())),
        desktop_version=r.string(data, "desktop_version"),
        hyperv_vms=tuple(r.vm(d, i) for i, d in enumerate(r.objects(data, "hyperv_vms"))),
        windows_users=r.integer(data, "windows_users"),
        manufacturer=r.string(data, "manufacturer"),
        model=r.string(data, "model"),
        vm_monitor_mode_extensions=r.boolean(data, "vm_monitor_mode_extensions"),
        excluded_port_ranges=tuple(sorted((r.port_range(d, i) for i, d in
                                           enumerate(r.objects(data, "excluded_port_ranges"))),
                                          key=lambda p: (p.start, p.end))),
        network_adapters=tuple(sorted((r.adapter(d, i) for i, d in enumerate(r.objects(data, "network_adapters"))),
                                      key=lambda a: (a.name, a.description))),
        wsl_policies=r.policies(data, "wsl_policies"),
        desktop_policies=r.policies(data, "desktop_policies"),
    )


_OS_BUILD = re.compile(r"\(OS Build (\d{5})\.(\d+)\)")
_KERNEL_BUILD = re.compile(r"^10\.0 (\d{5})\b")
_EDITIONS = {"home": "Core", "pro": "Professional", "enterprise": "Enterprise", "education": "Education"}


def host_facts_from_engine(engine: Engine | None) -> HostFacts | None:
    """What a Windows engine's `docker info` says about the host, when no host facts were given: the build from
    KernelVersion ('10.0 18363 (18362.1.amd64fre...)'), the update revision and the edition from OperatingSystem
    ('Windows 10 Pro Version 1909 (OS Build 18363.1556)'). None for a Linux engine or when neither says."""
    if engine is None or engine.os_type.lower() != "windows":
        return None
    caption = engine.operating_system.strip()
    found = _OS_BUILD.search(caption)
    kernel = _KERNEL_BUILD.match(engine.kernel_version.strip())
    build = int(found.group(1)) if found else int(kernel.group(1)) if kernel else None
    if build is None:
        return None
    edition = re.sub(r"\s+Version\s+.*$", "", caption).strip()
    family = edition_family("", edition)
    return HostFacts(file="docker info", edition=edition, edition_id=_EDITIONS.get(family, ""),
                     server=True if family == "server" else None, build=build,
                     revision=int(found.group(2)) if found else None)


class _Reader:
    """Typed lookups that name the file and the dotted key when a value has the wrong type."""

    def __init__(self, name: str) -> None:
        self.name = name

    def _fail(self, key: str, expected: str, value: Any) -> InputError:
        return InputError(f"{self.name}: key {key}: expected {expected}, found {value!r}")

    def obj(self, data: dict[str, Any], key: str, prefix: str = "") -> dict[str, Any]:
        """A nested object; absent or null is an empty one."""
        value = data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self._fail(prefix + key, "an object", value)
        return value

    def objects(self, data: dict[str, Any], key: str, prefix: str = "") -> tuple[dict[str, Any], ...]:
        """A list of objects; PowerShell's ConvertTo-Json writes a one-element list as a bare object."""
        value = data.get(key)
        if value is None:
            return ()
        if isinstance(value, dict):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self._fail(prefix + key, "a list of objects", value)
        return tuple(value)

    def string(self, data: dict[str, Any], key: str, prefix: str = "") -> str:
        """A string; absent or null is ''."""
        value = data.get(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self._fail(prefix + key, "a string", value)
        return value

    def integer(self, data: dict[str, Any], key: str, prefix: str = "") -> int | None:
        """An integer; digits in a string are accepted because the registry stores CurrentBuild as text."""
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, str) and value.strip().isdigit():
            return int(value.strip())
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fail(prefix + key, "an integer", value)
        return value

    def boolean(self, data: dict[str, Any], key: str, prefix: str = "") -> bool | None:
        """A JSON boolean; absent or null is None."""
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, bool):
            raise self._fail(prefix + key, "true or false", value)
        return value

    def port_range(self, data: dict[str, Any], index: int) -> PortRange:
        """One entry of excluded_port_ranges: start and end, 1 to 65535, start first."""
        prefix = f"excluded_port_ranges[{index}]."
        start, end = self.integer(data, "start", prefix), self.integer(data, "end", prefix)
        if start is None or end is None or not 1 <= start <= end <= 65535:
            raise InputError(f"{self.name}: key {prefix[:-1]}: expected start and end ports, 1 to 65535, start first")
        return PortRange(start, end)

    def vm(self, data: dict[str, Any], index: int) -> dict[str, Any]:
        """One entry of hyperv_vms: name and state strings, disks a list of paths (ConvertTo-Json writes a
        one-element list as a bare string)."""
        prefix = f"hyperv_vms[{index}]."
        out = {**data, "name": self.string(data, "name", prefix), "state": self.string(data, "state", prefix)}
        disks = data.get("disks")
        if isinstance(disks, str):
            disks = [disks]
        if disks is not None and not (isinstance(disks, list) and all(isinstance(d, str) for d in disks)):
            raise self._fail(prefix + "disks", "a list of paths", disks)
        out["disks"] = list(disks or [])
        return out

    def adapter(self, data: dict[str, Any], index: int) -> NetworkAdapter:
        """One entry of network_adapters."""
        prefix = f"network_adapters[{index}]."
        name = self.string(data, "name", prefix)
        if not name:
            raise InputError(f"{self.name}: key {prefix}name: an adapter needs a name")
        return NetworkAdapter(name=name, description=self.string(data, "description", prefix))

    def policies(self, data: dict[str, Any], key: str) -> dict[str, Any]:
        """Registry values of a policy key: numbers (DWORD), strings, or lists of strings (multi-string)."""
        values = self.obj(data, key)
        for name, value in values.items():
            ok = isinstance(value, (int, str)) and not isinstance(value, bool) or \
                isinstance(value, list) and all(isinstance(v, str) for v in value)
            if not ok:
                raise self._fail(f"{key}.{name}", "a number, a string or a list of strings", value)
        return dict(sorted(values.items()))

    def drive(self, data: dict[str, Any], index: int) -> Drive:
        """One entry of drives."""
        prefix = f"drives[{index}]."
        name = self.string(data, "name", prefix)
        if not name:
            raise InputError(f"{self.name}: key {prefix}name: a drive needs a name")
        return Drive(
            name=name,
            free_bytes=self.integer(data, "free_bytes", prefix),
            size_bytes=self.integer(data, "size_bytes", prefix),
            filesystem=self.string(data, "filesystem", prefix),
        )
