"""The corpus of real files (tests/data/real, sources in its README) through `scan` and `assess`.

Each file is read as a user would give it (`--engine-info`, `--daemon-config`, `--settings`, `--project`) and
must give the expected backend and findings, or exit 2 with the expected message and no output file.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from migrate.cli import app

REAL = Path(__file__).resolve().parent / "data" / "real"
ROOT_SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "hyperv-2x"

INFO = {
    "info-dd-wsl2-20.10.21-5.15.153.1.txt": "wsl2",
    "info-dd-20.10.21-quoted-partial.txt": "unknown",
    "info-lcow-19.03.5-truncated-ostype.txt": "lcow",
    "info-linux-ubuntu-24.0.7-conda-prompt.txt": "linux",
    "info-version-windows-1.12.2-server2016-partial.txt": "windows",
    "info-version-windows-17.06-ltsb-bold-prompts-partial.txt": "windows",
    "version-info-dd-4.25.2-partial.txt": "unknown",
    "version-info-lcow-17.11-rc2-partial.txt": "lcow",
    "version-info-lcow-18.03-rc1-partial.txt": "lcow",
    "version-info-linux-1.10-centos-partial.txt": "unknown",
    "version-linux-ce-18.09-tp3.txt": "linux",
    "version-windows-1.12-in-diagnostics.txt": "windows",
    "version-windows-18.09.1-experimental.txt": "unknown",
    "version-windows-19.03.5-prompt-joined.txt": "windows",
    "version-ddmac-19.03.8-docs.txt": "linux",
    "version-ddmac-19.03.8-docs.json": "linux",
    "info-dfw-18.03-hyperv-experimental.txt": "hyperv",
    "info-windows-server-1803-ellipsis-partial.txt": "unknown",
}
INFO_REFUSED = {
    "version-info-wsl-cli29-client-only-partial.txt": "not `docker info` or `docker version` output",
    "container-inspect-redis-not-engine.json": "it looks like a container inspect (/redis-docker-redis-1)",
    "compose-version-not-engine.json": "not `docker info` or `docker version` output (a JSON document",
    "version-dfw-18.09.2-one-line-title.txt": "not `docker info` or `docker version` output (no Server Version",
    "version-dd-2.0.4.1-lcow-cut-at-server.txt":
        "the server part ('Server: Docker Engine - Community') ends at its heading",
}


def test_every_file_is_listed_with_its_source() -> None:
    readme = (REAL / "README.md").read_text(encoding="utf-8")
    files = sorted(p.relative_to(REAL).as_posix() for p in REAL.rglob("*") if p.is_file() and p.name != "README.md")
    assert len(files) >= 50
    for rel in files:
        assert f"`{Path(rel).name}`" in readme, f"{rel} has no line in tests/data/real/README.md"
    assert set(INFO) | set(INFO_REFUSED) == {p.name for p in (REAL / "info").iterdir()}


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def _scan(tmp_path: Path, *args: str) -> dict[str, Any]:
    out = tmp_path / "inventory.json"
    res = _invoke("scan", *args, "-o", str(out), "-q")
    assert res.exit_code == 0, res.output
    return json.loads(out.read_text(encoding="utf-8"))


def _assess(tmp_path: Path, *args: str) -> dict[str, Any]:
    out = tmp_path / "report.json"
    res = _invoke("assess", *args, "-f", "json", "-o", str(out))
    assert res.exit_code == 0, res.output
    return json.loads(out.read_text(encoding="utf-8"))


@pytest.mark.parametrize(("name", "backend"), sorted(INFO.items()))
def test_pasted_capture_gives_its_backend(tmp_path: Path, name: str, backend: str) -> None:
    inv = _scan(tmp_path, "--engine-info", str(REAL / "info" / name))
    assert inv["backend"]["kind"] == backend, inv["backend"]["reasons"]
    assert all(r.endswith(".") for r in inv["backend"]["reasons"])


@pytest.mark.parametrize(("name", "fragment"), sorted(INFO_REFUSED.items()))
def test_what_is_not_a_capture_is_refused(tmp_path: Path, name: str, fragment: str) -> None:
    out = tmp_path / "inventory.json"
    path = REAL / "info" / name
    res = _invoke("scan", "--engine-info", str(path), "-o", str(out), "-q")
    assert res.exit_code == 2
    line = res.output.strip()
    assert line.startswith(f"wsl2-migrate: error: {path}: ") and "\n" not in line
    assert fragment in line
    assert not out.exists()


def test_truncated_paste_is_lcow_with_counts_and_unknown_experimental(tmp_path: Path) -> None:
    """`OSType: window` (cut off): LCOW from the kernel and drivers; what the paste does not say stays unknown."""
    inv = _scan(tmp_path, "--engine-info", str(REAL / "info" / "info-lcow-19.03.5-truncated-ostype.txt"))
    engine = inv["engine"]
    assert engine["experimental"] is None
    assert engine["reported"]["images"] == 13 and engine["reported"]["containers"] == 7
    assert engine["reported"]["containers_running"] == 1 and engine["reported"]["containers_stopped"] == 6
    assert engine["reported"]["windows_build"] == 17763
    assert engine["reported"]["windows_edition"] == "Windows Server 2019 Datacenter"
    assert any("Not in the capture: OSType, experimental." == r for r in inv["backend"]["reasons"])


def test_counts_of_a_paste_are_objects_not_read(tmp_path: Path) -> None:
    report = _assess(tmp_path, "--engine-info", str(REAL / "info" / "info-lcow-19.03.5-truncated-ostype.txt"))
    assert report["verdict"] != "ready"
    eng011 = [f for f in report["findings"] if f["rule"] == "ENG011"]
    assert [f["message"] for f in eng011] == [
        "13 images and 7 containers exist but were not read: the plan cannot move them."]
    assert any("13 images and 7 containers exist but were not read" in b["message"] for b in report["blind_spots"])


def test_version_and_info_of_one_engine_are_read_together(tmp_path: Path) -> None:
    inv = _scan(tmp_path, "--engine-info", str(REAL / "info" / "version-ddmac-19.03.8-docs.txt"),
                "--engine-info", str(REAL / "info" / "version-ddmac-19.03.8-docs.json"))
    assert inv["engine"]["server_version"] == "19.03.8"
    assert inv["engine"]["kernel_version"] == "4.19.76-linuxkit"
    assert inv["engine"]["reported"]["client_os"] == "darwin"
    assert [s["kind"] for s in inv["sources"]] == ["engine-info", "engine-info"]


def test_docker_desktop_version_from_a_version_paste(tmp_path: Path) -> None:
    inv = _scan(tmp_path, "--engine-info", str(REAL / "info" / "version-info-dd-4.25.2-partial.txt"))
    assert inv["engine"]["platform_name"] == "Docker Desktop 4.25.2 (129061)"
    assert inv["engine"]["reported"]["client_os"] == "windows"
    assert any("no kernel version" in r for r in inv["backend"]["reasons"])


DAEMON = {
    "dd-2.2.0.3-linux-hosts-tcp2375.json": ("linux", {"ENG009", "ENG010"}),
    "dfw-1.13-windows-hosts-tcp2376-npipe.json": ("windows", {"ENG010"}),
    "linux-centos-mirror-bip-hosts.json": ("linux", {"ENG009", "ENG010"}),
    "linux-tls-hosts-2376.json": ("linux", {"ENG009", "ENG010"}),
    "linux-19.03-hosts-live-restore.json": ("linux", {"ENG009", "ENG010"}),
}


@pytest.mark.parametrize(("name", "expected"), sorted(DAEMON.items()))
def test_daemon_json_hosts_and_open_listeners(tmp_path: Path, name: str, expected: tuple[str, set[str]]) -> None:
    kind, rules = expected
    report = _assess(tmp_path, "--daemon-config", f"{kind}={REAL / 'daemon' / name}")
    fired = {f["rule"] for f in report["findings"] if f["rule"] in ("ENG009", "ENG010")}
    assert fired == rules
    for f in report["findings"]:
        if f["rule"] == "ENG010":
            assert "tcp://" in f["message"] and name in f["message"]


@pytest.mark.parametrize(("name", "where"), [
    ("settings-3.6.0-post-truncated.json", "line 2 column "),
    ("settings-3.5.2-get-settings-truncated.json", "line 1 column "),
    ("settings-dfw-1.12-defaults-truncated.json", "line 1 column 1:"),
])
def test_truncated_settings_file_is_refused_with_the_position(tmp_path: Path, name: str, where: str) -> None:
    path = REAL / "settings" / name
    out = tmp_path / "inventory.json"
    res = _invoke("scan", "--settings", str(path), "-o", str(out), "-q")
    assert res.exit_code == 2 and not out.exists()
    assert res.output.startswith(f"wsl2-migrate: error: {path}: malformed JSON at {where}")
    assert "\n" not in res.output.strip()


# Each valid settings file: the format, the values read, and every finding `assess` must give on it alone.
# ENG008 (a credential helper) holds for any Windows settings file naming one; DESK017 (no .wslconfig
# autoMemoryReclaim) stays quiet, since nobody read the user's .wslconfig; DESK003-DESK008 are Hyper-V-only and must
# stay quiet while the backend is not known.
SETTINGS: dict[str, tuple[str, dict[str, Any], set[str]]] = {
    "settings-dd-4.2x-v29-wsl2-tcp2375.json": (
        "settings.json",
        {"settings_version": 29, "wsl_engine_enabled": True, "expose_tcp_2375": True, "memory_mib": 2048,
         "cpus": 12, "swap_mib": 1024, "disk_size_mib": 65536, "use_windows_containers": False,
         "kubernetes_enabled": False, "data_folder": "C:\\ProgramData\\DockerDesktop\\vm-data",
         "custom_wsl_distro_dir": "", "file_sharing": [], "proxy_http_mode": "system"},
        {"DESK001", "DESK009", "ENG008"},
    ),
    "settings-store-4.3x-v41-wsl2.json": (
        "settings-store.json",
        {"settings_version": 41, "wsl_engine_enabled": True, "expose_tcp_2375": False, "memory_mib": 2048,
         "cpus": 12, "swap_mib": 1024, "disk_size_mib": 65536, "use_windows_containers": False,
         "kubernetes_enabled": False, "proxy_http_mode": "system",
         "custom_wsl_distro_dir": "C:\\Users\\user\\AppData\\Local\\Docker\\wsl\\DockerDesktopWSL"},
        {"DESK001", "ENG008"},
    ),
    "settings-store-v43-minimal.json": (
        "settings-store.json",
        {"settings_version": 43, "wsl_engine_enabled": None, "memory_mib": None, "expose_tcp_2375": None},
        set(),
    ),
    "settings-store-v44-minimal.json": (
        "settings-store.json",
        {"settings_version": 44, "wsl_engine_enabled": None, "cpus": None, "kubernetes_enabled": None},
        set(),
    ),
}


def test_every_settings_file_has_a_case() -> None:
    names = {p.name for p in (REAL / "settings").iterdir()}
    refused = {"settings-3.6.0-post-truncated.json", "settings-3.5.2-get-settings-truncated.json",
               "settings-dfw-1.12-defaults-truncated.json"}
    assert set(SETTINGS) | refused == names


@pytest.mark.parametrize(("name", "expected"), sorted(SETTINGS.items()))
def test_real_settings_file_is_read_and_assessed(
    tmp_path: Path, name: str, expected: tuple[str, dict[str, Any], set[str]]
) -> None:
    fmt, values, rules = expected
    path = REAL / "settings" / name
    inv = _scan(tmp_path, "--settings", str(path))
    desktop = inv["settings"]["desktop"]
    assert desktop["format"] == fmt and desktop["file"] == str(path)
    for key, value in values.items():
        assert desktop[key] == value, key
    # Settings alone do not show the engine: the backend stays unknown, whatever wslEngineEnabled says.
    assert inv["backend"]["kind"] == "unknown"
    report = _assess(tmp_path, "--settings", str(path))
    assert {f["rule"] for f in report["findings"]} == rules
    assert any("no engine" in b["message"] for b in report["blind_spots"])


def test_settings_store_keys_are_pascal_case_and_still_read(tmp_path: Path) -> None:
    """settings-store.json (4.35+) spells every key in PascalCase; the lower-cased values keep them all."""
    path = REAL / "settings" / "settings-store-4.3x-v41-wsl2.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    inv = _scan(tmp_path, "--settings", str(path))
    values = inv["settings"]["desktop"]["values"]
    assert set(values) == {k.lower() for k in raw}
    assert values["integratedwsldistros"] == ["AlmaLinuxOS-9", "Debian", "Debian"]


def test_hyperv_era_paste_is_assessed_with_its_counts(tmp_path: Path) -> None:
    """Docker for Windows 18.03 (Hyper-V, experimental on): objects not read, and no LCOW or Windows-engine rule."""
    report = _assess(tmp_path, "--engine-info", str(REAL / "info" / "info-dfw-18.03-hyperv-experimental.txt"))
    assert report["backend"]["kind"] == "hyperv"
    assert {f["rule"] for f in report["findings"]} == {"ENG011"}
    assert [f["message"] for f in report["findings"] if f["rule"] == "ENG011"] == [
        "45 images and 4 containers exist but were not read: the plan cannot move them."]
    assert report["verdict"] != "ready"


def test_windows_server_paste_without_driver_or_experimental(tmp_path: Path) -> None:
    """An RS4 Windows Server snippet: LCOW can be neither ruled in nor out, and the host facts it shows count."""
    inv = _scan(tmp_path, "--engine-info", str(REAL / "info" / "info-windows-server-1803-ellipsis-partial.txt"))
    assert inv["engine"]["experimental"] is None
    assert inv["engine"]["reported"]["windows_build"] == 17111
    assert "Not in the capture: storage driver, experimental." in inv["backend"]["reasons"]
    report = _assess(tmp_path, "--engine-info", str(REAL / "info" / "info-windows-server-1803-ellipsis-partial.txt"))
    assert {f["rule"] for f in report["findings"]} == {"HOST001", "HOST003"}
    assert report["verdict"] == "blocked"


PROJECT_FACTS = {
    ("docker-hello.Dockerfile", 1, "windows-image", "windowsservercore"),
    ("engine-switch-npipe.ps1", 1, "context-switch", 'DOCKER_HOST="npipe:////./pipe/docker_engine_linux'),
    ("install-nanoserver.ps1", 20, "windows-image", "mcr.microsoft.com/windows/nanoserver:1809"),
    ("mixed-docker-compose.yml", 3, "windows-image", "microsoft/windowsservercore"),
    ("mixed-docker-compose.yml", 6, "platform-key", "platform: linux"),
    ("windows-bind-docker-compose.yml", 5, "windows-image", "microsoft/windowsservercore:1709"),
    ("windows-bind-docker-compose.yml", 8, "windows-bind", "source: C:\\Users\\stefan\\.ssh"),
    ("windows-hello-world.dockerfile", 1, "windows-image", "mcr.microsoft.com/windows/servercore:1809"),
    ("winlogo.Dockerfile", 2, "windows-image", "dtr.docker.ee/official/microsoft:iis-nanoserver"),
}


def test_project_files_facts(tmp_path: Path) -> None:
    inv = _scan(tmp_path, "--project", str(REAL / "project"))
    got = {(Path(f["file"]).name, f["line"], f["kind"], f["text"]) for f in inv["files"]}
    assert got == PROJECT_FACTS
    assert len(inv["project_files"]) == len(list((REAL / "project").iterdir()))


def test_project_files_assessed_on_an_lcow_host(tmp_path: Path) -> None:
    """Mixed compose: split the file (FILE002), not "the flag can go" (FILE001); a Windows container's bind is
    not slow under WSL 2 (no FILE005); a nanoserver run without --platform must go to the Windows engine."""
    report = _assess(tmp_path, "--project", str(REAL / "project"),
                     "--engine-info", str(REAL / "info" / "version-info-lcow-18.03-rc1-partial.txt"))
    assert report["backend"]["kind"] == "lcow"
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for f in report["findings"]:
        by_rule.setdefault(f["rule"], []).append(f)
    mixed = [f for f in by_rule["FILE002"] if f["file"].endswith("mixed-docker-compose.yml")]
    assert [f["line"] for f in mixed] == [3] and "split it" in mixed[0]["message"]
    assert not [f for f in by_rule.get("FILE001", []) if f["file"].endswith("mixed-docker-compose.yml")]
    assert not by_rule.get("FILE005")
    nano = [f for f in by_rule["FILE002"] if f["file"].endswith("install-nanoserver.ps1")]
    assert nano and "must run on the Windows engine" in nano[0]["message"]
    lines = [(f["file"], f["line"]) for f in report["findings"] if f["rule"] == "FILE002"]
    assert lines == sorted(lines)


def test_flattened_indentation_reads_the_same(tmp_path: Path) -> None:
    """A paste whose leading blanks were lost (a chat or web form) reads as the original."""
    original = (REAL / "info" / "info-dd-wsl2-20.10.21-5.15.153.1.txt").read_text(encoding="utf-8")
    flat = tmp_path / "flat.txt"
    flat.write_text("\n".join(line.lstrip() for line in original.splitlines()) + "\n", encoding="utf-8")
    a = _scan(tmp_path, "--engine-info", str(REAL / "info" / "info-dd-wsl2-20.10.21-5.15.153.1.txt"))
    b = _scan(tmp_path, "--engine-info", str(flat))
    assert b["backend"]["kind"] == "wsl2"
    for key in ("server_version", "kernel_version", "storage_driver", "ncpu", "mem_total", "insecure_registries",
                "reported"):
        assert a["engine"][key] == b["engine"][key], key


@pytest.mark.parametrize(("make", "fragment"), [
    (lambda p: f"[{p.read_text()}]", "an inspect array of 1 container (first: /redis-docker-redis-1)"),
    (lambda p: (ROOT_SAMPLE / "engine" / "df.json").read_text(), "`docker system df` output"),
    (lambda p: (ROOT_SAMPLE / "engine" / "images.json").read_text(), "an inspect array of"),
])
def test_json_of_another_kind_is_named(tmp_path: Path, make: Any, fragment: str) -> None:
    path = tmp_path / "capture.json"
    path.write_text(make(REAL / "info" / "container-inspect-redis-not-engine.json"), encoding="utf-8")
    res = _invoke("scan", "--engine-info", str(path), "-q")
    assert res.exit_code == 2 and fragment in res.output, res.output


def test_captures_of_two_engines_are_refused() -> None:
    res = _invoke("scan", "--engine-info", str(REAL / "info" / "version-windows-19.03.5-prompt-joined.txt"),
                  "--engine-info", str(REAL / "info" / "version-linux-ce-18.09-tp3.txt"), "-q")
    assert res.exit_code == 2 and "of another engine" in res.output, res.output
