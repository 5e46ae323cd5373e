"""Read a collector bundle (docs/bundle.md) into raw engine payloads and the paths of its settings files.

A bundle comes from another machine: nothing in it may lead outside it. A symbolic link is followed only when
it stays inside the bundle, every file must be a regular file within the size limit of its kind, and a folder
without the collector's manifest.json is refused unless the user says it is a hand-made one (--bundle-partial).
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrate.errors import InputError
from migrate.inventory.engine import RawEngine
from migrate.inventory.engineinfo import Capture, json_kind, read_capture
from migrate.inventory.payload import check_objects
from migrate.inventory.runas import identity_notes
from migrate.inventory.textfile import iter_json_array, parse_json, read_text
from migrate.model import Note

BUNDLE_FORMAT = "wsl2-migrate-bundle/1"
PIPE_URL = re.compile(r"^npipe:////\./pipe/[A-Za-z0-9_.-]{1,80}$")
"""A local named pipe's engine URL, as the collector records the one the second engine answered at."""
HYPERV_FOLDER = "engine-hyperv"
"""The second engine's folder: the same files as engine/ (docs/bundle.md)."""
ENGINE_ARRAYS = (("images", "engine/images.json"), ("containers", "engine/containers.json"),
                 ("volumes", "engine/volumes.json"), ("networks", "engine/networks.json"))


@dataclass
class Bundle:
    """What a bundle directory holds; absent files are None and noted."""

    path: Path
    manifest: dict[str, Any] = field(default_factory=dict)
    engine: RawEngine | None = None
    hyperv_engine: RawEngine | None = None
    """engine-hyperv/: the LCOW host's second engine (Docker Desktop's Linux engine in the Hyper-V VM)."""
    hyperv_url: str = ""
    """The pipe that engine answered at, as the collector recorded it (manifest key hyperv_engine)."""
    settings_json: Path | None = None
    settings_store_json: Path | None = None
    daemon_linux: Path | None = None
    daemon_windows: Path | None = None
    wslconfig: Path | None = None
    host_facts: Path | None = None
    admin_settings: Path | None = None
    notes: list[Note] = field(default_factory=list)


def bundle_file(root: Path, rel: str) -> Path | None:
    """root/rel when it is a regular file inside the bundle; None when absent; InputError when it leads out.

    Each component is looked at without following links: a link is accepted only when what it finally points
    at is inside the bundle (so `host/wslconfig -> /etc/shadow` is refused, not read into every report).
    """
    p = root / rel
    if not isinstance(p, os.PathLike):  # an entry of a zipped bundle: links were refused when it was opened
        return p if p.is_file() else None
    if not os.path.lexists(p):
        return None
    real_root = os.path.realpath(root)
    real = os.path.realpath(p)
    if os.path.commonpath([real_root, real]) != real_root:
        raise InputError(f"{p}: a link leading outside the bundle (to {real}); a bundle comes from another "
                         "machine, so nothing in it may point elsewhere")
    if not os.path.exists(real):
        raise InputError(f"{p}: a link to nothing ({real})")
    if not os.path.isfile(real):
        raise InputError(f"{p}: not a regular file")
    return p


def _json_array(root: Path, rel: str, area: str) -> Iterator[dict[str, Any]] | None:
    """The objects of a `docker ... inspect` array, each checked and yielded as the scan consumes it (a bundle of
    100,000 containers is never held whole); None when the file is absent."""
    p = bundle_file(root, rel)
    if p is None:
        return None
    return _checked_items(p, area)


def _checked_items(p: Path, area: str) -> Iterator[dict[str, Any]]:
    want = area.rstrip("s")
    seen: dict[str, dict[str, Any]] = {}
    for i, item in enumerate(iter_json_array(p, "engine-objects")):
        kind = json_kind(item) if i < 50 else ""
        if kind and kind != want:
            raise InputError(f"{p}: item {i} looks like a {kind} inspect, expected {want} inspects "
                             f"(`docker {want} inspect`)")
        check_objects([item], area, str(p), start=i)
        if area == "volumes":
            # Volume names are unique in an engine and mounts refer to volumes by name: a repeated identical
            # entry is dropped, two different volumes of one name are refused.
            key = str(item.get("Name") or "")
            if key and key in seen:
                if seen[key] != item:
                    raise InputError(f"{p}: volume {key!r} appears twice with different content; an engine has one "
                                     "volume of a name, so which one the containers mount cannot be told")
                continue
            seen[key] = item
        yield item


def _manifest(root: Path, partial: bool, notes: list[Note]) -> dict[str, Any]:
    path = bundle_file(root, "manifest.json")
    if path is None:
        if not partial:
            raise InputError(f"{root}: not a bundle (no manifest.json); give --bundle-partial to read a folder "
                             "assembled by hand from `docker ... inspect` output")
        notes.append(Note(area="bundle", subject=str(root), message="no manifest.json: not written by the "
                          "collector (--bundle-partial); reading the files that are there"))
        return {}
    text, _ = read_text(path, "manifest")
    data = parse_json(text, str(path))
    if not isinstance(data, dict) or data.get("format") != BUNDLE_FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise InputError(f"{path}: not a wsl2-migrate bundle manifest (format {found!r}, "
                         f"expected {BUNDLE_FORMAT!r})")
    for key in ("collector_version", "collected_at", "computer", "user"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise InputError(f"{path}: key {key}: expected a string")
    errors = data.get("errors")
    if errors is None:
        errors = []
    if isinstance(errors, dict):  # PowerShell's ConvertTo-Json writes a one-element list as a bare object
        errors = [errors]
    if not isinstance(errors, list) or not all(
            isinstance(e, dict) and all(isinstance(e.get(k, ""), str) for k in ("file", "message"))
            for e in errors):
        raise InputError(f"{path}: key errors: expected a list of {{\"file\", \"message\"}} objects")
    notes.extend(identity_notes(data.get("identity"), str(path)))
    for err in errors:
        notes.append(Note(area="bundle", subject=str(err.get("file") or root),
                          message=f"the collector could not gather it: {err.get('message', '')}"))
    return data


def _capture(path: Path, want: str) -> Capture:
    text, _ = read_text(path, "engine-info")
    cap = read_capture(text, str(path))
    if want == "info" and not cap.info:
        raise InputError(f"{path}: holds `docker version` output, expected `docker info` (engine/info.json)")
    if want == "version" and not cap.version:
        raise InputError(f"{path}: holds `docker info` output, expected `docker version` (engine/version.json)")
    return cap


def _engine_folder(path: Path, folder: str) -> RawEngine | None:
    """One engine's files (info, version, the inspect arrays, df) from a folder of the bundle; None without info."""
    info_file = bundle_file(path, f"{folder}/info.json")
    if info_file is None:
        return None
    raw = RawEngine(url=f"bundle:{path}" + ("" if folder == "engine" else f"/{folder}"))
    cap = _capture(info_file, "info")
    version_file = bundle_file(path, f"{folder}/version.json")
    if version_file is not None:
        cap.merge(_capture(version_file, "version"), str(version_file))
    raw.info, raw.version, raw.client = cap.info, cap.version, cap.client
    for attr, rel in ENGINE_ARRAYS:
        rel = rel.replace("engine/", f"{folder}/", 1)
        items = _json_array(path, rel, attr)
        if items is None:
            raw.notes.append(Note(area=attr, subject=str(path / rel), message="not in the bundle"))
        setattr(raw, attr, items if items is not None else [])
    df_file = bundle_file(path, f"{folder}/df.json")
    if df_file is not None:
        dtext, _ = read_text(df_file, "engine-objects")
        df = parse_json(dtext, str(df_file)) if dtext.strip() else {}
        if not isinstance(df, dict) or (df and json_kind(df) not in ("df", "")):
            raise InputError(f"{df_file}: expected the JSON object of `docker system df -v --format json` "
                             "or the API's /system/df")
        check_objects([df], "df", str(df_file))
        raw.df = df
    return raw


def read_bundle(path: Path, partial: bool = False) -> Bundle:
    """Read a bundle directory or zip; InputError when it is not one, a file in it is malformed or leads outside."""
    if path.is_file():  # a zipped bundle, read in place through the same path operations
        from migrate.inventory.bundlezip import open_bundle_zip

        path = open_bundle_zip(path)  # type: ignore[assignment]
    elif not path.is_dir():
        raise InputError(f"{path}: no such bundle directory")
    b = Bundle(path=path)
    b.manifest = _manifest(path, partial, b.notes)

    b.engine = _engine_folder(path, "engine")
    if b.engine is None:
        b.notes.append(Note(area="engine", subject=str(path / "engine/info.json"),
                            message="not in the bundle: no engine data (was the engine running?)"))
    b.hyperv_engine = _engine_folder(path, HYPERV_FOLDER)
    url = b.manifest.get("hyperv_engine", "")
    if not isinstance(url, str) or (url and not PIPE_URL.match(url)):
        raise InputError(f"{path / 'manifest.json'}: key hyperv_engine: expected the pipe that answered, as "
                         "npipe:////./pipe/NAME")
    b.hyperv_url = url

    b.settings_json = bundle_file(path, "desktop/settings.json")
    b.settings_store_json = bundle_file(path, "desktop/settings-store.json")
    b.daemon_linux = bundle_file(path, "desktop/daemon.json")
    b.daemon_windows = bundle_file(path, "desktop/windows-daemon.json")
    b.wslconfig = bundle_file(path, "host/wslconfig")
    b.admin_settings = bundle_file(path, "desktop/admin-settings.json")
    b.host_facts = bundle_file(path, "host/facts.json")
    if b.host_facts is None:
        b.notes.append(Note(area="host", subject=str(path / "host/facts.json"), message="not in the bundle"))
    return b
