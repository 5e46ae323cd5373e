"""Tests for migrate.inventory.desktop: Docker Desktop settings, daemon.json and .wslconfig readers."""
from __future__ import annotations

import codecs
import json
import re
from pathlib import Path

import pytest

from migrate.errors import InputError
from migrate.inventory.desktop import read_daemon_config, read_desktop_settings, read_wslconfig

DATA = Path(__file__).parent / "data" / "settings"

ENCODINGS = [
    ("utf-8", b""),
    ("utf-8", codecs.BOM_UTF8),
    ("utf-16-le", codecs.BOM_UTF16_LE),
    ("utf-16-be", codecs.BOM_UTF16_BE),
]


def _raw(name: str) -> dict:
    """The fixture as plain JSON, read independently of the code under test."""
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def _write(path: Path, text: str, codec: str = "utf-8", bom: bytes = b"") -> Path:
    path.write_bytes(bom + text.encode(codec))
    return path


# ---------------------------------------------------------------------------------------------------
# Desktop settings, era by era


def test_settings_3_5_2_camel_case_maps_to_typed_fields() -> None:
    raw = _raw("settings-3.5.2.json")
    s = read_desktop_settings(DATA / "settings-3.5.2.json", None)
    assert s is not None
    assert s.format == "settings.json"
    assert s.file == str(DATA / "settings-3.5.2.json")
    assert s.wsl_engine_enabled is raw["wslEngineEnabled"] is True
    assert s.use_windows_containers is raw["useWindowsContainers"] is False
    assert s.kubernetes_enabled is raw["kubernetesEnabled"]
    assert s.memory_mib == raw["memoryMiB"] == 2048
    assert s.cpus == raw["cpus"] == 3
    assert s.swap_mib == raw["swapMiB"]
    assert s.disk_size_mib == raw["diskSizeMiB"]
    assert s.data_folder == raw["dataFolder"] == "C:\\ProgramData\\DockerDesktop\\vm-data"
    assert s.custom_wsl_distro_dir == raw["customWslDistroDir"]
    assert s.expose_tcp_2375 is raw["exposeDockerAPIOnTCP2375"]
    assert s.proxy_http_mode == raw["proxyHttpMode"] == "system"
    assert s.proxy_http == raw["overrideProxyHttp"]
    assert s.settings_version == raw["settingsVersion"] == 13
    assert s.credential_helper == raw["credentialHelper"]
    assert s.desktop_version == ""
    assert s.stale_file == "" and s.stale_differs == ()


def test_settings_4_9_keeps_absent_keys_none() -> None:
    raw = _raw("settings-4.9.json")
    s = read_desktop_settings(DATA / "settings-4.9.json", None)
    assert s is not None
    assert "wslEngineEnabled" not in raw and s.wsl_engine_enabled is None
    assert "swapMiB" not in raw and s.swap_mib is None
    assert s.cpus == raw["cpus"] == 2
    assert s.settings_version == raw["settingsVersion"] == 17
    assert s.values["firstlaunchtime"] == raw["firstLaunchTime"]


def test_docker_for_windows_17_pascal_case_and_shared_drives() -> None:
    raw = _raw("settings-d4w-17.json")
    s = read_desktop_settings(DATA / "settings-d4w-17.json", None)
    assert s is not None
    assert s.memory_mib == raw["VmMemory"] == 2048
    assert s.cpus == raw["VmCpus"] == 2
    # E is listed but not shared in the capture.
    assert raw["SharedDrives"]["E"] is False
    assert s.file_sharing == ("C:", "D:")
    # Nested objects are kept as written.
    assert s.values["shareddrives"] == raw["SharedDrives"]


def test_settings_store_pascal_case_alone_is_live() -> None:
    raw = _raw("settings-store-pascal.json")
    s = read_desktop_settings(None, DATA / "settings-store-pascal.json")
    assert s is not None
    assert s.format == "settings-store.json"
    assert s.file == str(DATA / "settings-store-pascal.json")
    assert s.stale_file == ""
    assert s.wsl_engine_enabled is raw["WslEngineEnabled"]
    assert s.expose_tcp_2375 is raw["ExposeDockerAPIOnTCP2375"]
    assert s.proxy_http_mode == raw["ProxyHTTPMode"]
    assert s.proxy_https == raw["OverrideProxyHTTPS"]
    assert s.kubernetes_enabled is raw["KubernetesEnabled"]
    assert s.memory_mib == raw["MemoryMiB"]
    assert s.data_folder == raw["DataFolder"]
    assert set(s.values) == {k.lower() for k in raw}


def test_values_hold_every_key_lower_cased() -> None:
    raw = _raw("settings-3.5.2.json")
    s = read_desktop_settings(DATA / "settings-3.5.2.json", None)
    assert s is not None
    assert s.values == {k.lower(): v for k, v in raw.items()}


def test_keys_are_case_insensitive(tmp_path: Path) -> None:
    f = _write(tmp_path / "settings.json", json.dumps({
        "WSLENGINEENABLED": False, "memorymib": 4096, "CPUs": 6, "UseWindowsContainers": True,
        "KubernetesEnabled": True, "CustomWSLDistroDir": "D:\\docker", "exposedockerapiontcp2375": True,
    }))
    s = read_desktop_settings(f, None)
    assert s is not None
    assert (s.wsl_engine_enabled, s.memory_mib, s.cpus) == (False, 4096, 6)
    assert s.use_windows_containers is True and s.kubernetes_enabled is True
    assert s.custom_wsl_distro_dir == "D:\\docker"
    assert s.expose_tcp_2375 is True


@pytest.mark.parametrize("spelling", [
    {"overrideProxyHttp": "http://proxy:3128", "overrideProxyHttps": "http://proxy:3129",
     "overrideProxyExclude": "*.corp"},
    {"OverrideProxyHTTP": "http://proxy:3128", "OverrideProxyHTTPS": "http://proxy:3129",
     "OverrideProxyExclude": "*.corp"},
    {"ProxyHTTPServer": "http://proxy:3128", "ProxyHTTPSServer": "http://proxy:3129",
     "ProxyHTTPExclude": "*.corp"},
    {"ProxyHttp": "http://proxy:3128", "ProxyHttps": "http://proxy:3129", "ProxyExclude": "*.corp"},
])
def test_proxy_keys_of_every_era(tmp_path: Path, spelling: dict) -> None:
    f = _write(tmp_path / "settings.json", json.dumps({"proxyHttpMode": "manual", **spelling}))
    s = read_desktop_settings(f, None)
    assert s is not None
    assert (s.proxy_http_mode, s.proxy_http, s.proxy_https, s.proxy_exclude) == (
        "manual", "http://proxy:3128", "http://proxy:3129", "*.corp")


def test_docker_for_windows_manual_proxy_checkbox(tmp_path: Path) -> None:
    f = _write(tmp_path / "settings.json", '{"UseHttpProxy": true, "ProxyHttp": "http://p:8080"}')
    s = read_desktop_settings(f, None)
    assert s is not None
    assert s.proxy_http_mode == "manual" and s.proxy_http == "http://p:8080"


def test_stale_settings_json_beside_settings_store(tmp_path: Path) -> None:
    store = _raw("settings-store-pascal.json")
    # The user switched to Hyper-V and raised the CPUs after the 4.35 upgrade; the old file says otherwise.
    store["WslEngineEnabled"] = False
    store["Cpus"] = 6
    live = _write(tmp_path / "settings-store.json", json.dumps(store))
    s = read_desktop_settings(DATA / "settings-3.5.2.json", live)
    assert s is not None
    assert s.file == str(live) and s.format == "settings-store.json"
    assert s.stale_file == str(DATA / "settings-3.5.2.json")
    assert s.stale_differs == ("cpus", "wslengineenabled")
    assert s.wsl_engine_enabled is False and s.cpus == 6


def test_no_files_gives_none() -> None:
    assert read_desktop_settings(None, None) is None


@pytest.mark.parametrize(("codec", "bom"), ENCODINGS)
def test_settings_in_every_encoding(tmp_path: Path, codec: str, bom: bytes) -> None:
    text = (DATA / "settings-3.5.2.json").read_text(encoding="utf-8")
    f = _write(tmp_path / "settings.json", text, codec, bom)
    s = read_desktop_settings(f, None)
    assert s is not None
    assert s.wsl_engine_enabled is True and s.memory_mib == 2048
    assert s.data_folder == "C:\\ProgramData\\DockerDesktop\\vm-data"


def test_malformed_settings_names_file_line_and_column(tmp_path: Path) -> None:
    f = _write(tmp_path / "settings.json", '{\n  "cpus": 2,\n  "memoryMiB": \n}')
    with pytest.raises(InputError) as exc:
        read_desktop_settings(f, None)
    assert re.match(rf"{re.escape(str(f))}: malformed JSON at line 4 column 1: ", exc.value.message)


def test_wrong_type_names_file_and_key(tmp_path: Path) -> None:
    f = _write(tmp_path / "settings.json", '{"memoryMiB": "2048"}')
    with pytest.raises(InputError, match=r"settings\.json: key memorymib: expected an integer"):
        read_desktop_settings(f, None)


def test_settings_not_an_object(tmp_path: Path) -> None:
    f = _write(tmp_path / "settings-store.json", "[1, 2]")
    with pytest.raises(InputError, match="expected a JSON object"):
        read_desktop_settings(None, f)


# ---------------------------------------------------------------------------------------------------
# daemon.json


@pytest.mark.parametrize("name", ["daemon-linux-default.json", "daemon-windows-default.json"])
def test_daemon_defaults_read_as_is(name: str) -> None:
    c = read_daemon_config(DATA / name)
    assert c.values == _raw(name)
    assert c.problems == ()
    assert c.file == str(DATA / name) and c.encoding == "utf-8"


def test_daemon_empty_file(tmp_path: Path) -> None:
    c = read_daemon_config(_write(tmp_path / "daemon.json", "  \r\n"))
    assert c.values == {} and c.problems == ("empty file",)


def test_daemon_not_an_object(tmp_path: Path) -> None:
    c = read_daemon_config(_write(tmp_path / "daemon.json", '["experimental"]'))
    assert c.values == {}
    assert len(c.problems) == 1 and "not a JSON object" in c.problems[0]


def test_daemon_duplicate_key(tmp_path: Path) -> None:
    c = read_daemon_config(_write(tmp_path / "daemon.json", '{"experimental": true, "experimental": false}'))
    assert c.values == {"experimental": False}
    assert c.problems == ("key 'experimental' appears more than once; only the last value counts",)


def test_daemon_with_comment_is_malformed(tmp_path: Path) -> None:
    f = _write(tmp_path / "daemon.json", '{\n  // LCOW needs this\n  "experimental": true\n}')
    with pytest.raises(InputError) as exc:
        read_daemon_config(f)
    assert exc.value.message.startswith(f"{f}: malformed JSON at line 2 column 3: ")


@pytest.mark.parametrize(("codec", "bom"), ENCODINGS)
def test_daemon_in_every_encoding(tmp_path: Path, codec: str, bom: bytes) -> None:
    text = (DATA / "daemon-linux-default.json").read_text(encoding="utf-8")
    c = read_daemon_config(_write(tmp_path / "daemon.json", text, codec, bom))
    assert c.values == _raw("daemon-linux-default.json")
    utf16 = codec.startswith("utf-16")
    assert c.encoding == (codec if utf16 else "utf-8-sig" if bom else "utf-8")
    assert any("UTF-16" in p for p in c.problems) is utf16


# ---------------------------------------------------------------------------------------------------
# .wslconfig


def test_wslconfig_docs_sample() -> None:
    c = read_wslconfig(DATA / "wslconfig-docs")
    assert c.problems == ()
    assert c.encoding == "utf-8"
    wsl2 = c.values["wsl2"]
    assert wsl2["memory"] == "4GB" and wsl2["processors"] == "2" and wsl2["swap"] == "8GB"
    # Escaped backslashes are undone, as WSL does; keys written swapfile/localhostforwarding are found too.
    assert wsl2["kernel"] == "C:\\temp\\myCustomKernel"
    assert wsl2["swapfile"] == "C:\\temp\\wsl-swap.vhdx"
    assert wsl2["localhostforwarding"] == "true"
    assert wsl2["kernelcommandline"] == "vsyscall=emulate"
    assert c.values["experimental"] == {"sparsevhd": "true"}


def test_wslconfig_unknown_keys_from_issue_6890() -> None:
    c = read_wslconfig(DATA / "wslconfig-6890")
    assert c.values["wsl2"]["memory"] == "4GB"
    assert len(c.problems) == 2
    assert c.problems[0].startswith("line 3: unknown key localhostForwading in [wsl2]")
    assert "did you mean localhostforwarding" in c.problems[0]
    assert c.problems[1].startswith("line 5: unknown key idleThreshold in [wsl2]")


@pytest.mark.parametrize(("codec", "bom"), ENCODINGS[2:])
def test_wslconfig_utf16_is_ignored_by_wsl(tmp_path: Path, codec: str, bom: bytes) -> None:
    text = (DATA / "wslconfig-7851").read_text(encoding="utf-8").replace("\n", "\r\n")
    c = read_wslconfig(_write(tmp_path / ".wslconfig", text, codec, bom))
    assert c.encoding == codec
    assert len(c.problems) == 1 and "UTF-16" in c.problems[0] and "ignores the whole file" in c.problems[0]
    assert c.values == {"wsl2": {"memory": "6GB", "swap": "0", "localhostforwarding": "true"}}


def test_wslconfig_utf8_bom(tmp_path: Path) -> None:
    text = (DATA / "wslconfig-7851").read_text(encoding="utf-8")
    c = read_wslconfig(_write(tmp_path / ".wslconfig", text, "utf-8", codecs.BOM_UTF8))
    assert c.encoding == "utf-8-sig"
    assert len(c.problems) == 1 and "byte order mark" in c.problems[0]
    assert c.values["wsl2"]["memory"] == "6GB"


def test_wslconfig_typo_section(tmp_path: Path) -> None:
    # The typo of microsoft/WSL#6890: [ws12] instead of [wsl2].
    c = read_wslconfig(_write(tmp_path / ".wslconfig", "[ws12]\nmemory=4GB\n"))
    assert c.problems == ("line 1: unknown section [ws12]; WSL ignores every key in it",)
    assert c.values == {"ws12": {"memory": "4GB"}}


def test_wslconfig_sections_and_keys_are_case_insensitive(tmp_path: Path) -> None:
    c = read_wslconfig(_write(tmp_path / ".wslconfig", "[WSL2]\nMEMORY = 8GB\nProcessors=4\n"))
    assert c.problems == ()
    assert c.values == {"wsl2": {"memory": "8GB", "processors": "4"}}


def test_wslconfig_inline_comment(tmp_path: Path) -> None:
    # As posted in microsoft/WSL#10442.
    c = read_wslconfig(_write(tmp_path / ".wslconfig", "[wsl2]\nmemory=26GB # Limits VM memory\n"))
    assert c.problems == () and c.values == {"wsl2": {"memory": "26GB"}}


@pytest.mark.parametrize(("line", "expected"), [
    ("memory=4096", "line 2: memory=4096 has no unit, so WSL reads it as 4096 bytes"),
    ("memory=4 gigs", "line 2: memory=4 gigs is not a size like 8GB or 512MB"),
    ("memory=128MB", "line 2: memory=128MB is below 256MB"),
    ("processors=two", "line 2: processors=two is not a whole number"),
    ("localhostForwarding=maybe", "line 2: localhostforwarding=maybe is not true or false"),
    ("networkingMode=mirrorred",
     "line 2: networkingmode=mirrorred is not one of none, nat, bridged, mirrored"),
    ("autoMemoryReclaim=gradual",
     "line 2: unknown key autoMemoryReclaim in [wsl2] (it belongs in [experimental])"),
    ("swapFile=C:\\temp\\swap.vhdx", "line 2: swapFile=C:\\temp\\swap.vhdx has single backslashes"),
    ("just some words", "line 2: 'just some words' is not a setting (name = value)"),
    ("[wsl2", "line 2: malformed section header [wsl2"),
])
def test_wslconfig_values_wsl_would_ignore(tmp_path: Path, line: str, expected: str) -> None:
    c = read_wslconfig(_write(tmp_path / ".wslconfig", f"[wsl2]\n{line}\n"))
    assert len(c.problems) == 1
    assert c.problems[0].startswith(expected)


@pytest.mark.parametrize("line", ["memory=0", "swap=0", "swap=512MB", "memory=8gb", "memory=2048MB",
                                  "networkingMode=mirrored", "guiApplications=false",
                                  "kernel=C:\\\\k\\\\bzImage"])
def test_wslconfig_valid_values(tmp_path: Path, line: str) -> None:
    text = f"[wsl2]\n{line}\n"
    c = read_wslconfig(_write(tmp_path / ".wslconfig", text))
    assert c.problems == ()


def test_wslconfig_key_outside_section_and_duplicates(tmp_path: Path) -> None:
    c = read_wslconfig(_write(tmp_path / ".wslconfig", "memory=4GB\n[wsl2]\nmemory=4GB\nmemory=6GB\n"))
    assert c.problems == (
        "line 1: memory=4GB is outside any section; WSL ignores it",
        "line 4: wsl2.memory is set again; the last value wins",
    )
    assert c.values == {"wsl2": {"memory": "6GB"}}


def test_wslconfig_experimental_section(tmp_path: Path) -> None:
    text = "[experimental]\nautoMemoryReclaim=dropCache\nsparseVhd=true\nnetworkingMode=mirrored\n"
    c = read_wslconfig(_write(tmp_path / ".wslconfig", text))
    assert c.problems == ()
    assert c.values == {"experimental": {"automemoryreclaim": "dropCache", "networkingmode": "mirrored",
                                         "sparsevhd": "true"}}


def test_wslconfig_not_utf8_is_a_problem_not_an_error(tmp_path: Path) -> None:
    f = tmp_path / ".wslconfig"
    f.write_bytes("# réglages\n[wsl2]\nmemory=4GB\n".encode("cp1252"))
    c = read_wslconfig(f)
    assert c.values == {"wsl2": {"memory": "4GB"}}
    assert len(c.problems) == 1 and c.problems[0].startswith("not valid UTF-8")


def test_wslconfig_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"\.wslconfig: no such file"):
        read_wslconfig(tmp_path / ".wslconfig")
