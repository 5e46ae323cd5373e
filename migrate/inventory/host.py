"""Read the Windows host's facts (host/facts.json of a bundle, or --host-facts) into HostFacts."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from migrate.errors import InputError
from migrate.inventory import textfile
from migrate.model import Drive, HostFacts

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
        hyperv_vms=r.objects(data, "hyperv_vms"),
        windows_users=r.integer(data, "windows_users"),
    )


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
