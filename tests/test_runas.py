"""Who ran the collector: manifest.json `identity` read into notes, and the assessment's blind spot about it."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from migrate.errors import InputError
from migrate.inventory.bundle import read_bundle
from migrate.inventory.runas import identity_notes

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "hyperv-2x"
PER_USER_FILES = ("desktop/settings.json", "desktop/settings-store.json", "desktop/daemon.json", "host/wslconfig")

AS_SYSTEM_FOUND = {
    "run_as": "system", "user": "NT AUTHORITY\\SYSTEM", "elevated": True, "desktop_user": "CORP\\jdoe",
    "desktop_user_source": "Win32_ComputerSystem.UserName", "per_user_files_from": "desktop-user",
    "profile": "C:\\Users\\jdoe", "problem": "",
}
AS_SYSTEM_NOBODY = {
    "run_as": "system", "user": "NT AUTHORITY\\SYSTEM", "elevated": True, "desktop_user": "",
    "desktop_user_source": "", "per_user_files_from": "none", "profile": "",
    "problem": "no user is logged on to a desktop session",
}


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "migrate", *args], capture_output=True, text=True, timeout=120,
                          cwd=ROOT, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})


def _bundle(tmp_path: Path, identity: object, drop_per_user: bool = False) -> Path:
    """The hyperv-2x sample as the collector would have written it with this identity."""
    bundle = tmp_path / "bundle"
    shutil.copytree(SAMPLE, bundle)
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    manifest["identity"] = identity
    if drop_per_user:
        for rel in PER_USER_FILES:
            (bundle / rel).unlink(missing_ok=True)
        manifest["errors"] = [{"file": rel, "message": "not collected: the collector ran as NT AUTHORITY\\SYSTEM "
                               "and found no desktop user profile: no user is logged on to a desktop session"}
                              for rel in PER_USER_FILES]
    (bundle / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return bundle


def test_the_desktop_user_and_older_collectors_give_no_note() -> None:
    assert identity_notes(None, "m.json") == []
    assert identity_notes({**AS_SYSTEM_FOUND, "run_as": "desktop-user", "user": "CORP\\jdoe"}, "m.json") == []


def test_system_with_the_desktop_users_profile_says_whose_files_were_read() -> None:
    [note] = identity_notes(AS_SYSTEM_FOUND, "m.json")
    assert note.area == "identity" and note.subject == "m.json"
    assert "ran as SYSTEM (NT AUTHORITY\\SYSTEM), not as the desktop user CORP\\jdoe" in note.message
    assert "read from C:\\Users\\jdoe" in note.message and "engine was asked as NT AUTHORITY\\SYSTEM" in note.message


def test_system_without_a_desktop_user_says_what_was_not_collected() -> None:
    [note] = identity_notes(AS_SYSTEM_NOBODY, "m.json")
    assert note.message == (
        "the collector ran as SYSTEM (NT AUTHORITY\\SYSTEM) and found no desktop user's profile (no user is logged "
        "on to a desktop session): Docker Desktop settings, .wslconfig, .docker and WSL distributions were not "
        "collected")


def test_another_account_and_an_unknown_desktop_user_are_noted() -> None:
    other = {**AS_SYSTEM_FOUND, "run_as": "other-user", "user": "CORP\\admin-jdoe"}
    [note] = identity_notes(other, "m.json")
    assert note.message.startswith("the collector ran as CORP\\admin-jdoe, not as the desktop user CORP\\jdoe")
    unknown = {"run_as": "unknown", "user": "CORP\\svc", "per_user_files_from": "current-user",
               "problem": "several users have a desktop session (CORP\\a, CORP\\b)"}
    [note] = identity_notes(unknown, "m.json")
    assert "could not tell who uses this desktop (several users have a desktop session (CORP\\a, CORP\\b))" in \
        note.message and "are those of CORP\\svc" in note.message


@pytest.mark.parametrize(("identity", "needle"), [
    (["system"], "key identity: expected an object"),
    ({**AS_SYSTEM_FOUND, "run_as": "root"}, "key identity.run_as: expected one of system, desktop-user"),
    ({**AS_SYSTEM_FOUND, "per_user_files_from": None}, "key identity.per_user_files_from: expected one of"),
    ({**AS_SYSTEM_FOUND, "user": 18}, "key identity.user: expected a string, found 18"),
])
def test_a_malformed_identity_is_a_one_line_input_error(identity: object, needle: str, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=needle.replace(".", r"\.")):
        identity_notes(identity, "m.json")
    bundle = _bundle(tmp_path, identity)
    res = run("scan", "--bundle", str(bundle), "-o", str(tmp_path / "inv.json"))
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert res.returncode == 2 and len(lines) == 1 and "Traceback" not in res.stderr
    assert str(bundle / "manifest.json") in lines[0] and needle in lines[0]
    assert not (tmp_path / "inv.json").exists()


def test_read_bundle_adds_the_note(tmp_path: Path) -> None:
    bundle = read_bundle(_bundle(tmp_path, AS_SYSTEM_FOUND))
    assert [n.area for n in bundle.notes if n.area == "identity"] == ["identity"]
    assert bundle.settings_json is not None  # the desktop user's files were read: they are in the bundle


def test_assessment_reports_missing_per_user_facts_as_a_blind_spot(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path, AS_SYSTEM_NOBODY, drop_per_user=True)
    out = tmp_path / "report.json"
    res = run("assess", "--bundle", str(bundle), "--format", "json", "-o", str(out))
    assert res.returncode == 0, res.stderr
    spots = json.loads(out.read_text(encoding="utf-8"))["blind_spots"]
    identity = [s for s in spots if s["area"] == "identity"]
    assert len(identity) == 1
    assert "found no desktop user's profile (no user is logged on to a desktop session)" in identity[0]["message"]
    assert identity[0]["message"].endswith(
        "per-user findings (DESK settings, .wslconfig, WSL distributions) may be missing or be about another user")
    # Each file the collector could not read is a blind spot of its own, and the settings are known to be missing.
    assert {s["subject"] for s in spots if s["area"] == "bundle"} == set(PER_USER_FILES)
    assert any(s["area"] == "settings" and "no Docker Desktop settings file" in s["message"] for s in spots)
