"""Tests for migrate.inventory.host: the host facts reader."""
from __future__ import annotations

import codecs
import copy
import json
from pathlib import Path
from typing import Any

import pytest

from migrate.errors import InputError
from migrate.inventory.host import host_facts_from_data, read_host_facts
from migrate.model import Drive

FACTS = Path(__file__).parent / "data" / "settings" / "host-facts.json"


def _raw() -> dict[str, Any]:
    """The fixture as plain JSON, read independently of the code under test."""
    return json.loads(FACTS.read_text(encoding="utf-8"))


def test_happy_path_maps_every_key() -> None:
    raw = _raw()
    h = read_host_facts(FACTS)
    assert h.file == str(FACTS)
    assert h.computer_name == raw["computer_name"] == "DEV-042"
    assert h.user == raw["user"] == "CORP\\jdoe"
    assert h.edition == raw["os"]["caption"] == "Microsoft Windows 10 Pro"
    assert h.edition_id == raw["os"]["edition_id"]
    assert raw["os"]["product_type"] == 1 and h.server is False
    assert h.build == raw["os"]["build"] == 19045
    assert h.revision == raw["os"]["ubr"] == 3803
    assert h.display_version == raw["os"]["display_version"]
    assert h.architecture == raw["os"]["architecture"]
    assert h.features == raw["features"]
    assert h.wsl_installed is raw["wsl"]["installed"] is True
    assert h.wsl_version == raw["wsl"]["version"]
    assert h.wsl_default_version == raw["wsl"]["default_version"]
    assert h.wsl_distros == tuple(raw["wsl"]["distros"])
    assert h.virtualization_firmware_enabled is raw["virtualization_firmware_enabled"]
    assert h.hypervisor_present is raw["hypervisor_present"]
    assert h.memory_bytes == raw["memory_bytes"]
    assert h.cpus == raw["cpus"]
    assert h.desktop_version == raw["desktop_version"]
    assert h.hyperv_vms == tuple(raw["hyperv_vms"])
    assert h.windows_users == raw["windows_users"]


def test_drives_are_sorted_by_name() -> None:
    raw = _raw()
    assert [d["name"] for d in raw["drives"]] == ["D", "C"]
    h = read_host_facts(FACTS)
    c, d = raw["drives"][1], raw["drives"][0]
    assert h.drives == (
        Drive(name="C", free_bytes=c["free_bytes"], size_bytes=c["size_bytes"], filesystem="NTFS"),
        Drive(name="D", free_bytes=d["free_bytes"], size_bytes=d["size_bytes"], filesystem="NTFS"),
    )


def test_empty_facts_give_unknowns() -> None:
    h = host_facts_from_data({}, "facts")
    assert h.file == "facts"
    assert h.server is None and h.build is None and h.wsl_installed is None and h.drives == ()


@pytest.mark.parametrize(("os_", "server"), [
    ({"product_type": 3, "edition_id": "ServerStandard"}, True),
    ({"product_type": 2}, True),
    ({"edition_id": "ServerDatacenter"}, True),
    ({"product_type": 1, "edition_id": "Core"}, False),
    ({"edition_id": "Professional"}, None),
])
def test_server_detection(os_: dict[str, Any], server: bool | None) -> None:
    assert host_facts_from_data({"os": os_}, "facts").server is server


def test_unknown_keys_are_ignored() -> None:
    data = _raw()
    data["secure_boot"] = True
    data["os"]["install_date"] = "2021-01-01"
    assert host_facts_from_data(data, "x").build == 19045


def test_registry_build_as_text_is_accepted() -> None:
    # HKLM\...\CurrentVersion\CurrentBuild is a REG_SZ, so a collector may write it as a string.
    assert host_facts_from_data({"os": {"build": "19045"}}, "x").build == 19045


def test_single_drive_written_as_object_by_powershell() -> None:
    h = host_facts_from_data({"drives": {"name": "C", "free_bytes": 1, "size_bytes": 2}}, "x")
    assert h.drives == (Drive(name="C", free_bytes=1, size_bytes=2),)


@pytest.mark.parametrize(("path", "value", "key"), [
    (("os", "build"), "abc", "os.build"),
    (("os", "product_type"), True, "os.product_type"),
    (("memory_bytes",), "32GB", "memory_bytes"),
    (("cpus",), 8.5, "cpus"),
    (("wsl", "installed"), "yes", "wsl.installed"),
    (("wsl", "distros"), "Ubuntu", "wsl.distros"),
    (("features", "Containers"), 1, "features.Containers"),
    (("hypervisor_present",), 1, "hypervisor_present"),
    (("os",), "Windows 10", "os"),
    (("drives",), [{"name": "C", "free_bytes": "lots"}], "drives[0].free_bytes"),
    (("computer_name",), 42, "computer_name"),
])
def test_wrong_types_name_file_and_key(tmp_path: Path, path: tuple[str, ...], value: Any, key: str) -> None:
    data = copy.deepcopy(_raw())
    target = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    f = tmp_path / "facts.json"
    f.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_host_facts(f)
    assert exc.value.message.startswith(f"{f}: key {key}: ")


def test_unsupported_format() -> None:
    with pytest.raises(InputError, match="unsupported 'wsl2-migrate-host/9'"):
        host_facts_from_data({"format": "wsl2-migrate-host/9"}, "x")


def test_not_an_object() -> None:
    with pytest.raises(InputError, match="^x: expected a JSON object"):
        host_facts_from_data([1], "x")


@pytest.mark.parametrize(("codec", "bom"), [
    ("utf-8", b""), ("utf-8", codecs.BOM_UTF8),
    ("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE),
])
def test_every_encoding(tmp_path: Path, codec: str, bom: bytes) -> None:
    f = tmp_path / "facts.json"
    f.write_bytes(bom + FACTS.read_text(encoding="utf-8").encode(codec))
    h = read_host_facts(f)
    assert h.user == "CORP\\jdoe" and h.build == 19045 and [d.name for d in h.drives] == ["C", "D"]


def test_malformed_json_names_file_line_and_column(tmp_path: Path) -> None:
    f = tmp_path / "facts.json"
    f.write_text('{\n  "cpus": 8,\n}', encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_host_facts(f)
    assert exc.value.message.startswith(f"{f}: malformed JSON at line 3 column 1: ")
