"""`wsl2-migrate scan` through the CLI: exit codes and one-line messages for bad input, never a traceback."""
from __future__ import annotations

import codecs
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.engine

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = '{\n  "wslEngineEnabled": false,\n  "memoryMiB": 4096,\n  "cpus": 4\n}\n'


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "migrate", *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd or ROOT, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})


def one_line_error(res: subprocess.CompletedProcess) -> str:
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, res.stderr
    assert "Traceback" not in res.stderr
    assert lines[0].startswith("wsl2-migrate: error: ")
    return lines[0]


@pytest.mark.parametrize("encoding,bom", [
    ("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE),
])
def test_settings_in_every_windows_encoding(tmp_path: Path, encoding: str, bom: bytes):
    f = tmp_path / "settings.json"
    f.write_bytes(bom + SETTINGS.encode(encoding))
    out = tmp_path / "inv.json"
    res = run("scan", "--settings", str(f), "-o", str(out), "-q")
    assert res.returncode == 0, res.stderr
    desktop = json.loads(out.read_text())["settings"]["desktop"]
    assert desktop["wsl_engine_enabled"] is False and desktop["memory_mib"] == 4096 and desktop["cpus"] == 4


def test_malformed_json_names_file_and_position_and_writes_nothing(tmp_path: Path):
    f = tmp_path / "settings.json"
    f.write_text('{\n  "wslEngineEnabled": false,\n  "memoryMiB": 4096,,\n}\n')
    out = tmp_path / "inv.json"
    res = run("scan", "--settings", str(f), "-o", str(out))
    assert res.returncode == 2
    line = one_line_error(res)
    assert str(f) in line and "line 3" in line and "column" in line
    assert not out.exists() and not list(tmp_path.glob(".inv.json*"))


def test_malformed_daemon_config(tmp_path: Path):
    f = tmp_path / "daemon.json"
    f.write_text('{"registry-mirrors": ["https://mirror.example"]')
    res = run("scan", "--daemon-config", str(f))
    assert res.returncode == 2 and str(f) in one_line_error(res)


def test_missing_file(tmp_path: Path):
    res = run("scan", "--host-facts", str(tmp_path / "nope.json"))
    assert res.returncode == 2 and "nope.json" in one_line_error(res)


def test_unreachable_engine_exit_3_names_host(tmp_path: Path):
    sock = tmp_path / "no.sock"
    out = tmp_path / "inv.json"
    res = run("scan", "--host", f"unix://{sock}", "-o", str(out))
    assert res.returncode == 3
    line = one_line_error(res)
    assert f"unix://{sock}" in line and "unreachable" in line
    assert not out.exists()


def test_unreachable_tcp_engine(tmp_path: Path):
    from tests.engines import free_port

    res = run("scan", "--host", f"tcp://127.0.0.1:{free_port()}")
    assert res.returncode == 3 and "127.0.0.1" in one_line_error(res)


def test_bad_bundle_manifest(tmp_path: Path):
    (tmp_path / "manifest.json").write_text('{"format": "something-else/9"}')
    res = run("scan", "--bundle", str(tmp_path))
    assert res.returncode == 2 and "manifest.json" in one_line_error(res)


def test_bundle_assembled_by_hand_from_docker_inspect(engine, rich, tmp_path: Path):
    """A bundle made from `docker ... inspect` output gives the same objects as the live scan."""
    (tmp_path / "engine").mkdir()
    e = engine
    (tmp_path / "engine" / "info.json").write_text(e.docker("info", "--format", "{{json .}}"))
    ids = e.docker("image", "ls", "-aq", "--no-trunc").split()
    (tmp_path / "engine" / "images.json").write_text(e.docker("image", "inspect", *ids))
    cids = e.docker("ps", "-aq", "--no-trunc").split()
    (tmp_path / "engine" / "containers.json").write_text(e.docker("container", "inspect", "--size", *cids))
    vols = e.docker("volume", "ls", "-q").split()
    (tmp_path / "engine" / "volumes.json").write_text(e.docker("volume", "inspect", *vols))
    nets = e.docker("network", "ls", "-q", "--no-trunc").split()
    (tmp_path / "engine" / "networks.json").write_text(e.docker("network", "inspect", *nets))
    (tmp_path / "engine" / "df.json").write_text(e.docker("system", "df", "-v", "--format", "{{json .}}"))
    out_b, out_l = tmp_path / "b.json", tmp_path / "l.json"
    refused = run("scan", "--bundle", str(tmp_path), "-o", str(out_b), "-q")
    assert refused.returncode == 2 and "not a bundle (no manifest.json)" in one_line_error(refused)
    assert not out_b.exists()
    res = run("scan", "--bundle", str(tmp_path), "--bundle-partial", "-o", str(out_b), "-q")
    assert res.returncode == 0, res.stderr
    res = run("scan", "--host", e.url, "-o", str(out_l), "-q")
    assert res.returncode == 0, res.stderr
    b, live = json.loads(out_b.read_text()), json.loads(out_l.read_text())
    for kind in ("images", "networks"):
        assert b[kind] == live[kind], kind
    strip = lambda cs: [{k: v for k, v in c.items() if k not in ("size_rw", "size_root_fs")} for c in cs]  # noqa
    assert strip(b["containers"]) == strip(live["containers"])
    assert [v["name"] for v in b["volumes"]] == [v["name"] for v in live["volumes"]]
    assert b["backend"]["kind"] == live["backend"]["kind"] == "linux"
    sizes_b = {c["name"]: c["size_rw"] for c in b["containers"]}
    assert sizes_b["stopped"] and sizes_b["stopped"] >= 64 * 1024


def test_collector_command_writes_the_script_byte_for_byte(tmp_path: Path):
    from migrate import __version__
    from migrate.collector import render_collector

    out = tmp_path / "collect.ps1"
    res = run("collector", "-o", str(out))
    assert res.returncode == 0, res.stderr
    raw = out.read_bytes()
    assert not raw.startswith(codecs.BOM_UTF8)
    assert raw.decode("ascii") == render_collector(__version__)
    assert "HostFactsOnly" in raw.decode("ascii") and __version__ in raw.decode("ascii")


def test_scan_of_a_sample_bundle_with_project_dir(tmp_path: Path):
    proj = tmp_path / "shop"
    proj.mkdir()
    (proj / "docker-compose.yml").write_text("services:\n  web:\n    platform: linux\n    volumes:\n"
                                            "      - C:\\src\\web:/app\n")
    out = tmp_path / "inv.json"
    res = run("scan", "--bundle", str(ROOT / "samples" / "hyperv-2x"), "--project", str(proj), "-o", str(out))
    assert res.returncode == 0, res.stderr
    data = json.loads(out.read_text())
    kinds = {(f["line"], f["kind"]) for f in data["files"]}
    assert (3, "platform-key") in kinds and (5, "windows-bind") in kinds
    assert data["backend"]["kind"] == "hyperv" and data["containers"]
