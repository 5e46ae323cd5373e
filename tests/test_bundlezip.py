"""Tests for zipped bundles: read in place like a folder, hostile archives refused with the reason and exit 2."""
from __future__ import annotations

import dataclasses
import json
import stat
import struct
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from migrate.cli import app
from migrate.inventory import bundlezip
from migrate.inventory.scan import ScanOptions, scan

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "hyperv-2x"
runner = CliRunner()


def _files(sample: Path = SAMPLE) -> dict[str, bytes]:
    return {p.relative_to(sample).as_posix(): p.read_bytes() for p in sorted(sample.rglob("*")) if p.is_file()}


def _zip(path: Path, entries: dict[str, bytes], prefix: str = "", **info_attrs: object) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            info = zipfile.ZipInfo(prefix + name, (2025, 1, 31, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            for key, value in info_attrs.items():
                setattr(info, key, value)
            zf.writestr(info, data)
    return path


def _scan_cli(path: Path):
    return runner.invoke(app, ["scan", "--bundle", str(path), "-q"])


def _reads_the_same(zipped: Path) -> None:
    folder = scan(ScanOptions(bundle=SAMPLE, use_engine=False), "t")
    inside = scan(ScanOptions(bundle=zipped, use_engine=False), "t")
    assert [c.name for c in inside.containers] == [c.name for c in folder.containers]
    assert [i.id for i in inside.images] == [i.id for i in folder.images]
    assert [v.name for v in inside.volumes] == [v.name for v in folder.volumes]
    assert inside.host == dataclasses.replace(folder.host, file=inside.host.file)
    assert inside.backend.kind == folder.backend.kind == "hyperv"
    assert inside.settings.desktop is not None
    assert inside.settings.desktop.file == f"{zipped}/{'DEV-042/' if 'top' in zipped.name else ''}desktop/settings.json"


def test_zip_with_the_bundle_at_its_top_reads_as_the_folder(tmp_path: Path) -> None:
    _reads_the_same(_zip(tmp_path / "flat.zip", _files()))


def test_zip_with_one_top_folder_and_backslashes_reads_as_the_folder(tmp_path: Path) -> None:
    # Windows PowerShell 5.1's Compress-Archive writes '\' separators.
    entries = {name.replace("/", "\\"): data for name, data in _files().items()}
    _reads_the_same(_zip(tmp_path / "top.zip", entries, prefix="DEV-042\\"))


def test_scan_cli_reads_a_zip_and_names_it_in_the_sources(tmp_path: Path) -> None:
    path = _zip(tmp_path / "b.zip", _files())
    result = _scan_cli(path)
    assert result.exit_code == 0, result.output
    inv = json.loads(result.stdout)
    assert inv["sources"] == [{"kind": "bundle", "ref": str(path)}]
    assert len(inv["containers"]) == 5


@pytest.mark.parametrize("name,reason", [
    ("../evil.json", "climbs out with '..'"),
    ("engine/../../evil.json", "climbs out with '..'"),
    ("..\\evil.json", "climbs out with '..'"),
    ("/etc/passwd", "absolute path"),
    ("C:/Windows/evil.dll", "absolute path"),
    ("C:evil", "absolute path"),
    ("engine/info.json:stream", "alternate data stream"),
])
def test_entry_leaving_the_archive_is_refused(tmp_path: Path, name: str, reason: str) -> None:
    path = _zip(tmp_path / "bad.zip", {**_files(), name: b"x"})
    result = _scan_cli(path)
    assert result.exit_code == 2, result.output
    assert reason in result.stderr and str(path) in result.stderr
    assert "Traceback" not in result.output


def _one_entry_zip(path: Path, info: zipfile.ZipInfo, data: bytes = b"x") -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, content in _files().items():
            zf.writestr(name, content)
        zf.writestr(info, data)
    return path


def test_symlink_entry_is_refused(tmp_path: Path) -> None:
    info = zipfile.ZipInfo("host/wslconfig.link")
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    result = _scan_cli(_one_entry_zip(tmp_path / "link.zip", info, b"/etc/shadow"))
    assert result.exit_code == 2 and "symbolic link" in result.stderr


def test_windows_reparse_point_and_device_entries_are_refused(tmp_path: Path) -> None:
    info = zipfile.ZipInfo("desktop/junction")
    info.create_system = 0
    info.external_attr = 0x400
    result = _scan_cli(_one_entry_zip(tmp_path / "rp.zip", info))
    assert result.exit_code == 2 and "reparse point" in result.stderr
    info = zipfile.ZipInfo("desktop/fifo")
    info.create_system = 3
    info.external_attr = (stat.S_IFIFO | 0o644) << 16
    result = _scan_cli(_one_entry_zip(tmp_path / "fifo.zip", info))
    assert result.exit_code == 2 and "special file" in result.stderr


def test_encrypted_and_unsupported_compression_are_refused(tmp_path: Path) -> None:
    path = _one_entry_zip(tmp_path / "enc.zip", zipfile.ZipInfo("engine/secret.json"))
    _patch_central(path, "engine/secret.json", 8, "<H", 0x1)  # general purpose flags: encrypted
    result = _scan_cli(path)
    assert result.exit_code == 2 and "encrypted" in result.stderr
    info = zipfile.ZipInfo("engine/big.json")
    info.compress_type = zipfile.ZIP_BZIP2
    result = _scan_cli(_one_entry_zip(tmp_path / "bz.zip", info, b"[]" * 1000))
    assert result.exit_code == 2 and "compression method 12" in result.stderr


def test_duplicate_entries_and_file_folder_clashes_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "dup.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, content in _files().items():
            zf.writestr(name, content)
        zf.writestr("MANIFEST.json", b"{}")  # one file on Windows
    result = _scan_cli(path)
    assert result.exit_code == 2 and "twice" in result.stderr
    path = _zip(tmp_path / "clash.zip", {**_files(), "engine/info.json/x": b"{}"})
    result = _scan_cli(path)
    assert result.exit_code == 2 and "both a file and a folder" in result.stderr


def test_limits_on_entries_and_sizes_are_checked_before_reading(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    path = _zip(tmp_path / "b.zip", _files())
    monkeypatch.setattr(bundlezip, "MAX_ENTRIES", 5)
    result = _scan_cli(path)
    assert result.exit_code == 2 and "entries, more than the 5" in result.stderr
    monkeypatch.setattr(bundlezip, "MAX_ENTRIES", 10_000)
    monkeypatch.setattr(bundlezip, "MAX_ENTRY_BYTES", 30_000)
    result = _scan_cli(path)
    assert result.exit_code == 2 and "bytes uncompressed, more than the 30000" in result.stderr
    monkeypatch.setattr(bundlezip, "MAX_ENTRY_BYTES", 1 << 30)
    monkeypatch.setattr(bundlezip, "MAX_TOTAL_BYTES", 50_000)
    result = _scan_cli(path)
    assert result.exit_code == 2 and "more than 50000 bytes uncompressed in all" in result.stderr
    monkeypatch.setattr(bundlezip, "MAX_TOTAL_BYTES", 1 << 32)
    monkeypatch.setattr(bundlezip, "MAX_DIRECTORY_BYTES", 100)
    result = _scan_cli(path)
    assert result.exit_code == 2 and "list of entries" in result.stderr


def _patch_central(path: Path, name: str, offset: int, fmt: str, value: int) -> None:
    """Change one field of an entry's central directory record (what ZipFile reads to list entries)."""
    raw = bytearray(path.read_bytes())
    central = raw.find(b"PK\x01\x02")
    while central >= 0:
        name_len = struct.unpack_from("<H", raw, central + 28)[0]
        if raw[central + 46:central + 46 + name_len] == name.encode():
            struct.pack_into(fmt, raw, central + offset, value)
            path.write_bytes(bytes(raw))
            return
        central = raw.find(b"PK\x01\x02", central + 4)
    raise AssertionError(f"{name} not in {path}")


def test_a_lying_size_header_cannot_make_a_read_grow(tmp_path: Path) -> None:
    """An entry whose real data is larger than its header says is read only up to the header, then refused."""
    path = _zip(tmp_path / "b.zip", _files())
    _patch_central(path, "engine/containers.json", 24, "<I", 100)  # uncompressed size
    with zipfile.ZipFile(path) as zf:
        assert zf.getinfo("engine/containers.json").file_size == 100
    result = _scan_cli(path)
    assert result.exit_code == 2, result.output
    assert "engine/containers.json" in result.stderr and "damaged entry" in result.stderr


def test_not_a_zip_empty_zip_and_zip_without_bundle(tmp_path: Path) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip at all")
    result = _scan_cli(junk)
    assert result.exit_code == 2 and "not a zip archive" in result.stderr
    empty = _zip(tmp_path / "empty.zip", {})
    result = _scan_cli(empty)
    assert result.exit_code == 2 and "no bundle in the archive" in result.stderr
    other = _zip(tmp_path / "other.zip", {"a/readme.txt": b"x", "b/notes.txt": b"y"})
    result = _scan_cli(other)
    assert result.exit_code == 2 and "no bundle in the archive" in result.stderr
    truncated = tmp_path / "cut.zip"
    truncated.write_bytes(_zip(tmp_path / "whole.zip", _files()).read_bytes()[:-30])
    result = _scan_cli(truncated)
    assert result.exit_code == 2 and str(truncated) in result.stderr


def test_damaged_entry_names_the_archive_and_the_entry(tmp_path: Path) -> None:
    path = _zip(tmp_path / "b.zip", _files())
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("engine/images.json")
    start = info.header_offset + 30 + len(info.filename) + 10
    raw[start:start + 40] = bytes(40)  # compressed data overwritten
    path.write_bytes(bytes(raw))
    result = _scan_cli(path)
    assert result.exit_code == 2, result.output
    assert f"{path}/engine/images.json" in result.stderr
