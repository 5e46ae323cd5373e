"""The Windows side of a scan, with a stand-in powershell.exe (PowerShell cannot run here): failures are blind
spots with their reason, and the default locations do not change the caller's options."""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from migrate.inventory.scan import ScanOptions, scan, windows_defaults
from migrate.inventory.windows import gather_host_facts

FACTS = {"format": "wsl2-migrate-host/1", "computer_name": "DEV-042", "os": {"build": 19045}}


def _fake_powershell(folder: Path, body: str) -> None:
    """A powershell.exe on PATH that runs body (sh) with $OUT set to the -OutputDir it was given."""
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / "powershell.exe"
    exe.write_text("#!/bin/sh\nwhile [ $# -gt 0 ]; do [ \"$1\" = -OutputDir ] && OUT=$2; shift; done\n" + body)
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def path_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def use(body: str | None) -> None:
        folder = tmp_path / "bin"
        if body is not None:
            _fake_powershell(folder, body)
        monkeypatch.setenv("PATH", f"{folder}:/usr/bin:/bin" if body is not None else str(tmp_path / "empty"))
    return use


def test_no_powershell_is_a_blind_spot(path_with) -> None:
    path_with(None)
    host, notes = gather_host_facts()
    assert host is None and [n.message for n in notes] == ["no host facts: powershell.exe was not found on PATH"]


def test_a_failing_powershell_names_its_error(path_with) -> None:
    path_with("echo 'Set-StrictMode : Access to the path is denied.' >&2\nexit 1\n")
    host, notes = gather_host_facts()
    assert host is None and len(notes) == 1
    assert notes[0].area == "host" and "Access to the path is denied" in notes[0].message


def test_unreadable_facts_are_a_blind_spot_not_a_crash(path_with) -> None:
    path_with('mkdir -p "$OUT/host"; echo "{not json" > "$OUT/host/facts.json"\n')
    host, notes = gather_host_facts()
    assert host is None and "unreadable" in notes[0].message and "malformed JSON" in notes[0].message


def test_facts_with_the_collectors_own_errors(path_with) -> None:
    manifest = {"format": "wsl2-migrate-bundle/1", "errors": [{"file": "host/facts.json",
                                                               "message": "features: not elevated"}]}
    path_with(f"mkdir -p \"$OUT/host\"; echo '{json.dumps(FACTS)}' > \"$OUT/host/facts.json\"\n"
              f"echo '{json.dumps(manifest)}' > \"$OUT/manifest.json\"\n")
    host, notes = gather_host_facts()
    assert host is not None and host.computer_name == "DEV-042" and host.build == 19045
    assert [n.message for n in notes] == ["the collector could not read it: features: not elevated"]


def test_the_scan_reports_them_as_blind_spots(path_with, tmp_path: Path) -> None:
    path_with("echo 'powershell: policy forbids scripts' >&2\nexit 1\n")
    info = tmp_path / "info.txt"
    info.write_text("Server Version: 20.10.21\nOperating System: Docker Desktop\nOSType: linux\n"
                    "Kernel Version: 5.15.79.1-microsoft-standard-WSL2\n")
    inv = scan(ScanOptions(engine_info=info), "t", host_facts_reader=gather_host_facts)
    assert inv.host is None
    assert any(n.area == "host" and "policy forbids scripts" in n.message for n in inv.notes)


def test_windows_defaults_leave_the_callers_options_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    appdata, profile = tmp_path / "AppData" / "Roaming", tmp_path / "jdoe"
    (appdata / "Docker").mkdir(parents=True)
    (appdata / "Docker" / "settings.json").write_text("{}")
    (profile / ".docker").mkdir(parents=True)
    (profile / ".docker" / "daemon.json").write_text("{}")
    (profile / ".wslconfig").write_text("[wsl2]\n")
    monkeypatch.setenv("APPDATA", str(appdata))
    monkeypatch.setenv("USERPROFILE", str(profile))
    monkeypatch.setenv("ProgramData", str(tmp_path / "ProgramData"))
    opts = ScanOptions()
    found = windows_defaults(opts)
    assert opts == ScanOptions()  # unchanged
    assert found.settings == [appdata / "Docker" / "settings.json"]
    assert found.daemon_configs == [f"linux={profile / '.docker' / 'daemon.json'}"]
    assert found.wslconfig == profile / ".wslconfig"
    # No flag was given, so the engine is still read though files were found.
    assert found.wants_engine() and not opts.has_file_sources()
    assert os.environ["APPDATA"] == str(appdata)
