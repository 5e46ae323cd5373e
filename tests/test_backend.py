"""Tests for migrate.inventory.backend over real `docker info` captures (see tests/data/info/README.md)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from migrate.errors import InputError
from migrate.inventory.backend import detect_backend, parse_info, parse_size
from migrate.inventory.textfile import read_text
from migrate.model import BACKENDS, DesktopSettings

DATA = Path(__file__).parent / "data" / "info"


def info(name: str) -> dict[str, Any]:
    path = DATA / name
    text, _ = read_text(path)
    return parse_info(text, str(path))


def version(name: str) -> dict[str, Any]:
    import json

    return json.loads((DATA / name).read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------------------
# Backend detection over every capture


@pytest.mark.parametrize(
    ("capture", "kind"),
    [
        ("dfw-18.03-hyperv.txt", "hyperv"),
        ("dd-wsl2-edge-2.2.3-19.03.8.txt", "wsl2"),
        ("dd-wsl2-20.10.21-5.15.79.1-partial.txt", "wsl2"),
        ("dd-wsl2-28.3.2-6.6.87.2.json", "wsl2"),
        ("windows-1.12.2-server2016.txt", "windows"),
        ("lcow-18.09.1-server1803.txt", "lcow"),
        ("lcow-18.09.1-server1803.reconstructed.json", "lcow"),
        ("lcow-19.03.5-server2019-partial.txt", "lcow"),
        ("linux-debian12-20.10.txt", "linux"),
        ("linux-debian12-20.10-cli20.10.txt", "linux"),
        ("linux-debian12-20.10.json", "linux"),
        ("centos7-18.09.0-mirrors.txt", "linux"),
        ("wsl1-ubuntu-18.09.5.txt", "linux"),
        # Docker Desktop's LinuxKit VM with nothing saying the host is Windows (Mac captures, and a Windows
        # capture read alone): not called Hyper-V without Windows evidence.
        ("ddmac-5.10.104-linuxkit.txt", "linux"),
        ("ddmac-2.3-19.03.12.json", "linux"),
        ("dd-win-2.3-hyperv-19.03.12.json", "linux"),
    ],
)
def test_detect_backend_on_real_captures(capture: str, kind: str) -> None:
    backend = detect_backend(info(capture))
    assert backend.kind == kind
    assert backend.kind in BACKENDS
    assert backend.reasons, "every decision explains itself"
    assert all(isinstance(r, str) and r.endswith(".") for r in backend.reasons)


def test_evidence_keys_and_values_from_text_capture() -> None:
    backend = detect_backend(info("dfw-18.03-hyperv.txt"))
    assert backend.evidence == {
        "os_type": "linux",
        "operating_system": "Docker for Windows",
        "kernel_version": "4.9.87-linuxkit-aufs",
        "storage_driver": "overlay2",
        "experimental": True,
        "server_version": "18.03.0-ce",
        "platform_name": "",
        "name": "linuxkit-00155d077017",
    }
    assert any("Docker for Windows" in r for r in backend.reasons)


def test_hyperv_when_desktop_settings_show_a_windows_host() -> None:
    settings = DesktopSettings(
        file=r"C:\Users\u\AppData\Roaming\Docker\settings.json", wsl_engine_enabled=False
    )
    backend = detect_backend(info("dd-win-2.3-hyperv-19.03.12.json"), desktop=settings)
    assert backend.kind == "hyperv"
    assert backend.evidence["settings_wsl_engine_enabled"] is False
    assert any("settings.json" in r for r in backend.reasons)


def test_linuxkit_without_windows_evidence_states_the_mac_ambiguity() -> None:
    backend = detect_backend(info("ddmac-2.3-19.03.12.json"))
    assert backend.kind == "linux"
    assert "settings_wsl_engine_enabled" not in backend.evidence
    assert any("Mac" in r for r in backend.reasons)


def test_settings_contradicting_a_linuxkit_engine_trust_the_engine() -> None:
    settings = DesktopSettings(file="settings.json", wsl_engine_enabled=True)
    backend = detect_backend(info("dd-win-2.3-hyperv-19.03.12.json"), desktop=settings)
    assert backend.kind == "hyperv"
    assert backend.evidence["settings_wsl_engine_enabled"] is True
    assert any("wslEngineEnabled is true" in r and "trusting the engine" in r for r in backend.reasons)


def test_settings_contradicting_a_wsl2_engine_trust_the_engine() -> None:
    settings = DesktopSettings(file="settings.json", wsl_engine_enabled=False)
    backend = detect_backend(info("dd-wsl2-28.3.2-6.6.87.2.json"), desktop=settings)
    assert backend.kind == "wsl2"
    assert any("trusting the engine" in r for r in backend.reasons)


def test_early_wsl2_kernel_without_wsl2_suffix() -> None:
    backend = detect_backend(info("dd-wsl2-edge-2.2.3-19.03.8.txt"))
    assert backend.evidence["kernel_version"] == "4.19.84-microsoft-standard"
    assert backend.evidence["experimental"] is True


def test_wsl1_microsoft_kernel_is_not_wsl2() -> None:
    # WSL 1 reports 4.4.0-<build>-Microsoft: a Linux engine in a distro, not Docker Desktop's WSL 2 backend.
    backend = detect_backend(info("wsl1-ubuntu-18.09.5.txt"))
    assert backend.kind == "linux"
    assert backend.evidence["operating_system"] == "Ubuntu 18.04.1 LTS"


def test_lcow_in_either_driver_order_and_experimental() -> None:
    first = detect_backend(info("lcow-18.09.1-server1803.txt"))
    assert first.evidence["storage_driver"] == "lcow (linux) windowsfilter (windows)"
    assert first.evidence["experimental"] is True
    second = detect_backend(info("lcow-19.03.5-server2019-partial.txt"))
    assert second.evidence["storage_driver"] == "windowsfilter (windows) lcow (linux)"
    # That capture was cut before OSType and Experimental: the Windows kernel and driver stand in for OSType.
    assert second.evidence["os_type"] == ""
    assert second.evidence["experimental"] is None
    assert any("OSType is missing" in r for r in second.reasons)


def test_lcow_detected_from_driver_status_alone() -> None:
    data = info("lcow-18.09.1-server1803.reconstructed.json")
    data["Driver"] = "windowsfilter"
    assert detect_backend(data).kind == "lcow"
    data["DriverStatus"] = [["Windows", ""]]
    assert detect_backend(data).kind == "windows"


def test_windows_engine_with_experimental_but_no_lcow_driver() -> None:
    data = info("windows-1.12.2-server2016.txt")
    data["ExperimentalBuild"] = True
    backend = detect_backend(data)
    assert backend.kind == "windows"
    assert any("LCOW is not active" in r for r in backend.reasons)


def test_platform_name_from_cli_version_json() -> None:
    desktop_version = version("dd-4.27.2-version.reconstructed.json")
    backend = detect_backend(info("dd-wsl2-28.3.2-6.6.87.2.json"), desktop_version)
    assert backend.evidence["platform_name"] == "Docker Desktop 4.27.2 (137060)"
    plain = detect_backend(info("linux-debian12-20.10.json"), version("linux-debian12-20.10.version.json"))
    assert plain.evidence["platform_name"] == ""
    # The Engine API /version shape (no Client/Server wrapper) is accepted too.
    server = desktop_version["Server"]
    api_shape = detect_backend(info("dd-wsl2-28.3.2-6.6.87.2.json"), server)
    assert api_shape.evidence["platform_name"].startswith("Docker Desktop")


@pytest.mark.parametrize("empty", [{}, {"OSType": "", "KernelVersion": ""}])
def test_empty_info_is_unknown(empty: dict[str, Any]) -> None:
    backend = detect_backend(empty)
    assert backend.kind == "unknown"
    assert backend.reasons


# ---------------------------------------------------------------------------------------------------
# parse_info field by field


def test_text_and_json_of_the_same_daemon_agree() -> None:
    text = info("linux-debian12-20.10.txt")
    old_cli = info("linux-debian12-20.10-cli20.10.txt")
    js = info("linux-debian12-20.10.json")
    assert "ClientInfo" not in js
    for key in ("ServerVersion", "OSType", "KernelVersion", "OperatingSystem", "Architecture", "Name", "ID",
                "DockerRootDir", "Driver", "DriverStatus", "NCPU", "DefaultRuntime", "ExperimentalBuild",
                "SecurityOptions", "Containers", "Images", "LoggingDriver", "CgroupDriver", "CgroupVersion"):
        assert text[key] == js[key], key
        assert old_cli[key] == js[key], key
    assert text["Plugins"] == {k: v for k, v in js["Plugins"].items() if v is not None}
    assert set(text["Runtimes"]) == set(js["Runtimes"])
    assert text["Swarm"]["LocalNodeState"] == js["Swarm"]["LocalNodeState"]
    assert text["RegistryConfig"]["InsecureRegistryCIDRs"] == js["RegistryConfig"]["InsecureRegistryCIDRs"]
    # The text shows 23.54GiB (4 significant digits); the JSON has the exact byte count.
    assert abs(text["MemTotal"] - js["MemTotal"]) / js["MemTotal"] < 0.0005


def test_memtotal_bytes() -> None:
    assert info("dfw-18.03-hyperv.txt")["MemTotal"] == round(1.934 * 1024**3)
    assert info("windows-1.12.2-server2016.txt")["MemTotal"] == 4 * 1024**3  # "4 GiB", with a space
    assert info("lcow-18.09.1-server1803.txt")["MemTotal"] == 8 * 1024**3
    assert info("dd-wsl2-28.3.2-6.6.87.2.json")["MemTotal"] == 1995177984
    assert parse_size("1023MiB") == 1023 * 1024**2
    assert parse_size("not a size") == 0


def test_mirrors_and_insecure_registries() -> None:
    centos = info("centos7-18.09.0-mirrors.txt")
    assert centos["RegistryConfig"]["Mirrors"] == ["https://5cs233bb.mirror.aliyuncs.com/"]
    assert centos["RegistryConfig"]["InsecureRegistryCIDRs"] == ["127.0.0.0/8"]
    mac = info("ddmac-5.10.104-linuxkit.txt")
    # A hostname under Insecure Registries is an index config with Secure false in /info, not a CIDR.
    assert mac["RegistryConfig"]["InsecureRegistryCIDRs"] == ["127.0.0.0/8"]
    assert mac["RegistryConfig"]["IndexConfigs"]["hubproxy.docker.internal:5000"]["Secure"] is False
    assert mac["RegistryConfig"]["Mirrors"] == []
    assert mac["HttpProxy"] == "http.docker.internal:3128"
    assert mac["NoProxy"] == "hubproxy.docker.internal"


def test_plugins_driver_status_and_security_options() -> None:
    win = info("windows-1.12.2-server2016.txt")
    assert win["Plugins"] == {"Volume": ["local"], "Network": ["nat", "null", "overlay", "transparent"]}
    assert win["DriverStatus"] == [["Windows", ""]]
    assert win["DockerRootDir"] == r"C:\ProgramData\docker"
    assert win["Isolation"] == "process"
    assert win["KernelVersion"] == "10.0 14393 (14393.447.amd64fre.rs1_release_inmarket.161102-0100)"
    mac = info("ddmac-5.10.104-linuxkit.txt")
    assert mac["SecurityOptions"] == ["name=seccomp,profile=default", "name=cgroupns"]
    assert mac["Runtimes"] == {"io.containerd.runc.v2": {}, "io.containerd.runtime.v1.linux": {}, "runc": {}}
    dfw = info("dfw-18.03-hyperv.txt")
    assert dfw["Debug"] is True  # "Debug Mode (server): true", old format with nested debug lines
    assert dfw["ContainersRunning"] == 4
    assert dfw["IndexServerAddress"] == "https://index.docker.io/v1/"
    assert dfw["Labels"] == []
    assert dfw["Swarm"] == {"LocalNodeState": "inactive"}


def test_client_section_is_not_read_as_server() -> None:
    wsl2 = info("dd-wsl2-edge-2.2.3-19.03.8.txt")
    # The Client section's "Debug Mode: false" and plugin lines must not leak into the server's fields.
    assert wsl2["Debug"] is True
    assert set(wsl2["Plugins"]) == {"Volume", "Network", "Log"}
    assert wsl2["ProductLicense"] == "Community Engine"


def test_utf16_capture_as_powershell_writes_it(tmp_path: Path) -> None:
    src = (DATA / "lcow-18.09.1-server1803.txt").read_text(encoding="utf-8")
    path = tmp_path / "info.txt"
    path.write_bytes(b"\xff\xfe" + src.replace("\n", "\r\n").encode("utf-16-le"))
    text, encoding = read_text(path)
    assert encoding == "utf-16-le"
    assert detect_backend(parse_info(text, str(path))).kind == "lcow"


# ---------------------------------------------------------------------------------------------------
# Errors


@pytest.mark.parametrize(
    "capture",
    [
        "daemon-down-cli20.10.json",
        "daemon-down-cli20.10.txt",
        "daemon-down-cli28.json",
        "daemon-down-cli28.txt",
    ],
)
def test_daemon_down_captures_are_input_errors(capture: str) -> None:
    with pytest.raises(InputError) as exc:
        info(capture)
    message = exc.value.message
    assert message.startswith(str(DATA / capture) + ": ")
    assert "\n" not in message
    assert "daemon" in message


def test_server_errors_message_is_quoted() -> None:
    expected = "Cannot connect to the Docker daemon at unix:///tmp/nonexistent-dk.sock"
    with pytest.raises(InputError, match=expected):
        info("daemon-down-cli20.10.json")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("hello world\nthis is not docker\n", "not `docker info`"),
        ('{"ServerVersion": "20.10.24", "OSType":', "malformed JSON at line 1"),
        ('["not", "an", "object"]', "not `docker info`"),
        ('{"hello": "world"}', "not `docker info`"),
    ],
)
def test_garbage_is_an_input_error(text: str, fragment: str) -> None:
    with pytest.raises(InputError) as exc:
        parse_info(text, "capture.txt")
    assert exc.value.message.startswith("capture.txt: ")
    assert fragment in exc.value.message
    assert "\n" not in exc.value.message
