"""Volume digests and `verify` against the real engine: stability, sensitivity, helper hygiene, the CLI."""
from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from migrate.errors import ArchiveError
from migrate.inventory.engine import connect
from migrate.inventory.scan import ScanOptions, scan
from migrate.inventory.engine import digest_volume, digest_volumes
from migrate.volumedigest import HELPER_LABEL
from tests.engines import Engine, busybox_rootfs
from tests.population import Population
from tests.test_verify_digest import _line, build_tree, reference_digest, tar_of

pytestmark = pytest.mark.engine


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "migrate", *args], capture_output=True, text=True, timeout=300)


@pytest.fixture
def volumes(engine: Engine) -> Iterator[list[str]]:
    """Names appended here are created by the test and removed after it."""
    names: list[str] = []
    yield names
    for n in names:
        engine.docker("volume", "rm", "-f", n, check=False)


def _helpers_left(engine: Engine) -> str:
    return engine.docker("ps", "-a", "-q", "--filter", f"label={HELPER_LABEL}").strip()


def _fill(engine: Engine, image: str, volume: str, script: str) -> None:
    engine.docker("run", "--rm", "--network", "none", "-v", f"{volume}:/v", image, "sh", "-c", script)


def _digest(engine: Engine, volume: str) -> str:
    digests, notes = digest_volumes(engine.url, [volume])
    assert notes == []
    return digests[volume].digest


def test_engine_digest_equals_the_reference_of_the_directory_it_was_filled_from(
        engine: Engine, rich: Population, volumes: list[str], tmp_path: Path):
    tree = build_tree(tmp_path / "tree")
    volumes.append("w2m-verify-tree")
    engine.docker("volume", "create", "w2m-verify-tree")
    data = tar_of(tree, arcname=".", fmt=tarfile.GNU_FORMAT)
    engine.docker("run", "--rm", "-i", "--network", "none", "-v", "w2m-verify-tree:/v", rich.base,
                  "tar", "-x", "-p", "-f", "-", "-C", "/v", input=data)
    digests, notes = digest_volumes(engine.url, ["w2m-verify-tree"])
    assert notes == []
    got = digests["w2m-verify-tree"]
    assert (got.digest, got.entries, got.bytes) == reference_digest(tree)
    assert _helpers_left(engine) == ""


def test_digest_is_stable_and_changes_with_each_attribute(engine: Engine, rich: Population, volumes: list[str]):
    vol = "w2m-verify-mut"
    volumes.append(vol)
    engine.docker("volume", "create", vol)
    _fill(engine, rich.base, vol, "mkdir -p /v/d && printf 'abcdef' > /v/f && chmod 644 /v/f && "
                                  "ln -s f /v/l && mkdir /v/d/sub")
    d0 = _digest(engine, vol)
    assert _digest(engine, vol) == d0  # read twice, same digest
    cases = [
        ("one byte", "printf 'X' | dd of=/v/f bs=1 seek=3 conv=notrunc 2>/dev/null",
         "printf 'd' | dd of=/v/f bs=1 seek=3 conv=notrunc 2>/dev/null"),
        ("one mode bit", "chmod 645 /v/f", "chmod 644 /v/f"),
        ("setuid bit", "chmod 4644 /v/f", "chmod 644 /v/f"),
        ("owner", "chown 1:0 /v/f", "chown 0:0 /v/f"),
        ("group", "chown 0:1 /v/d", "chown 0:0 /v/d"),
        ("symlink target", "ln -sfn d /v/l", "ln -sfn f /v/l"),
        ("empty dir", "mkdir /v/d/new", "rm -r /v/d/new"),
        ("empty file", "touch /v/d/e", "rm /v/d/e"),
        ("root mode", "chmod 700 /v", "chmod 755 /v"),
    ]
    seen = {d0}
    for what, change, revert in cases:
        _fill(engine, rich.base, vol, change)
        changed = _digest(engine, vol)
        assert changed not in seen, what
        seen.add(changed)
        _fill(engine, rich.base, vol, revert)
        # Reverting restores the digest although every mtime it touched has moved on.
        assert _digest(engine, vol) == d0, what
    assert _helpers_left(engine) == ""


def test_empty_volume_stays_empty_under_an_image_with_content_at_data(
        engine: Engine, volumes: list[str], tmp_path: Path):
    rootfs = busybox_rootfs(tmp_path / "seeded.tar", {"data/seed": b"image content\n"})
    image = engine.docker("import", "--change", 'CMD ["sh"]', str(rootfs), "w2m-verify/seeded:1").strip()
    vol = "w2m-verify-empty"
    volumes.append(vol)
    engine.docker("volume", "create", vol)
    client = connect(engine.url)
    try:
        d = digest_volume(client, vol, image)
    finally:
        client.close()
        listing = engine.docker("run", "--rm", "-v", f"{vol}:/v", "--entrypoint", "ls", image, "-A", "/v")
        engine.docker("rmi", "-f", "w2m-verify/seeded:1")
    assert d.entries == 1 and d.bytes == 0  # the root only: nothing was copied up from the image
    assert listing.strip() == ""


def test_helper_is_removed_when_reading_fails(engine: Engine, rich: Population, volumes: list[str]):
    vol = "w2m-verify-fail"
    volumes.append(vol)
    engine.docker("volume", "create", vol)
    _fill(engine, rich.base, vol, "printf 'abc' > /v/f")
    client = connect(engine.url)
    real = client.get_archive

    def truncated(cid: str, path: str):
        chunks, st = real(cid, path)
        return iter([b"".join(chunks)[:700]]), st

    client.get_archive = truncated
    try:
        with pytest.raises((ArchiveError, tarfile.TarError)):
            digest_volume(client, vol, rich.base)
    finally:
        client.close()
    assert _helpers_left(engine) == ""


def test_a_missing_volume_is_a_note_and_is_not_created(engine: Engine, rich: Population):
    digests, notes = digest_volumes(engine.url, ["w2m-verify-never-existed"])
    assert digests == {} and [n.subject for n in notes] == ["w2m-verify-never-existed"]
    assert "disappeared" in notes[0].message
    assert "w2m-verify-never-existed" not in engine.docker("volume", "ls", "-q").split()


def _pgdata_reference() -> str:
    # What population.py wrote into pgdata, as docs/verify.md records it (busybox: umask 022, root-owned).
    entries = [
        (b".", b"dir", b"0755", b"0", b"0", b"0", b"", b""),
        (b"dir with space", b"dir", b"0755", b"0", b"0", b"0", b"", b""),
        (b"dir with space/empty", b"dir", b"0755", b"0", b"0", b"0", b"", b""),
        (b"file.txt", b"file", b"0600", b"999", b"999", b"5", b"", b"data\n"),
        (b"it's odd", b"file", b"0644", b"0", b"0", b"1", b"", b"x"),
        (b"link", b"symlink", b"0777", b"0", b"0", b"0", b"file.txt", b""),
    ]
    import hashlib

    h = hashlib.sha256(b"wsl2-migrate/volume-digest/2\n")
    for path, kind, mode, uid, gid, size, link, content in sorted(entries):
        sha = hashlib.sha256(content).hexdigest().encode() if kind == b"file" else b""
        h.update(_line((path, kind, mode, uid, gid, size, link, sha, b"")))
    return "sha256:" + h.hexdigest()


def test_cli_scan_with_volume_digests(engine: Engine, rich: Population, tmp_path: Path):
    out = tmp_path / "inv.json"
    res = _cli("scan", "--volume-digests", "-q", "--host", engine.url, "-o", str(out))
    assert res.returncode == 0, res.stderr
    vols = {v["name"]: v for v in json.loads(out.read_text())["volumes"]}
    assert all(v["digest"].startswith("sha256:") and len(v["digest"]) == 71 for v in vols.values())
    assert vols["pgdata"]["digest"] == _pgdata_reference()
    empty_root = _line((b".", b"dir", b"0755", b"0", b"0", b"0", b"", b"", b""))
    import hashlib

    assert vols["empty-vol"]["digest"] == "sha256:" + hashlib.sha256(
        b"wsl2-migrate/volume-digest/2\n" + empty_root).hexdigest()
    # Without the flag there are none.
    plain = scan(ScanOptions(host=engine.url), "test")
    assert {v.digest for v in plain.volumes} == {""}
    assert _helpers_left(engine) == ""


def _verify(*args: str) -> tuple[int, dict]:
    res = _cli("verify", *args, "--format", "json")
    assert res.returncode in (0, 1), res.stderr
    return res.returncode, json.loads(res.stdout)


def _status(data: dict) -> dict[tuple[str, str], str]:
    return {(o["kind"], o["name"]): o["status"] for o in data["objects"]}


def test_verify_the_rich_engine_against_its_own_inventory(engine: Engine, rich: Population, tmp_path: Path):
    inv = tmp_path / "before.json"
    assert _cli("scan", "--volume-digests", "-q", "-H", engine.url, "-o", str(inv)).returncode == 0
    code, data = _verify(str(inv), engine.url)
    assert code == 0 and data["ok"] is True
    statuses = _status(data)
    assert set(statuses.values()) == {"equal"}
    # Every object of the engine was compared, counted independently through the docker CLI.
    n_images = len(set(engine.docker("image", "ls", "-aq", "--no-trunc").split()))
    n_volumes = len(engine.docker("volume", "ls", "-q").split())
    n_user_networks = len([n for n in engine.docker("network", "ls", "--format", "{{.Name}}").split()
                           if n not in ("bridge", "host", "none")])
    n_containers = len(engine.docker("ps", "-aq").split())
    assert sum(1 for k, _ in statuses if k == "image") == n_images
    assert sum(1 for k, _ in statuses if k == "volume") == n_volumes
    assert sum(1 for k, _ in statuses if k == "network") == n_user_networks
    assert sum(1 for k, _ in statuses if k == "container") == n_containers
    assert {("container", c) for c in rich.containers} <= set(statuses)


def test_verify_reports_missing_extra_and_changed(engine: Engine, rich: Population, volumes: list[str],
                                                  tmp_path: Path):
    vol = "w2m-verify-live"
    volumes.append(vol)
    engine.docker("volume", "create", vol)
    _fill(engine, rich.base, vol, "printf 'v1' > /v/f")
    engine.docker("create", "--name", "w2m-verify-ctr", "-e", "TOKEN=hunter2", rich.base, "true")
    try:
        full = tmp_path / "full.json"
        assert _cli("scan", "--volume-digests", "-q", "-H", engine.url, "-o", str(full)).returncode == 0
        data = json.loads(full.read_text())
        data["containers"] = [c for c in data["containers"] if c["name"] != "stopped"]
        data["volumes"] = [v for v in data["volumes"] if v["name"] != "empty-vol"]
        partial = tmp_path / "partial.json"
        partial.write_text(json.dumps(data))

        code, res = _verify(str(full), str(partial))
        st = _status(res)
        assert code == 1 and st[("container", "stopped")] == "missing" and st[("volume", "empty-vol")] == "missing"
        assert [k for k, s in st.items() if s != "equal"] == [("volume", "empty-vol"), ("container", "stopped")]

        code, res = _verify(str(partial), engine.url)
        st = _status(res)
        assert code == 0 and st[("container", "stopped")] == "extra" and st[("volume", "empty-vol")] == "extra"

        # Change the live side: one volume's content, remove a container, add a volume.
        _fill(engine, rich.base, vol, "printf 'v2' > /v/f")
        engine.docker("rm", "w2m-verify-ctr")
        engine.docker("volume", "create", "w2m-verify-new")
        volumes.append("w2m-verify-new")
        code, res = _verify(str(full), engine.url)
        st = _status(res)
        assert code == 1
        assert st[("container", "w2m-verify-ctr")] == "missing"
        assert st[("volume", "w2m-verify-new")] == "extra"
        assert st[("volume", vol)] == "different"
        diff = next(o for o in res["objects"] if o["name"] == vol)["diffs"]
        assert [d["field"] for d in diff] == ["digest"]
        assert {s for k, s in st.items() if k not in {("container", "w2m-verify-ctr"), ("volume", vol),
                                                        ("volume", "w2m-verify-new")}} == {"equal"}

        table = _cli("verify", str(full), engine.url)
        assert table.returncode == 1
        assert "w2m-verify-ctr" in table.stdout and "missing" in table.stdout and "FAIL" in table.stdout
    finally:
        engine.docker("rm", "-f", "w2m-verify-ctr", check=False)
    assert _helpers_left(engine) == ""
