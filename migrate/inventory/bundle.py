"""Read a collector bundle (docs/bundle.md) into raw engine payloads and the paths of its settings files."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrate.errors import InputError
from migrate.inventory.engine import RawEngine
from migrate.inventory.runas import identity_notes
from migrate.inventory.textfile import parse_json, read_text
from migrate.model import Note

BUNDLE_FORMAT = "wsl2-migrate-bundle/1"


@dataclass
class Bundle:
    """What a bundle directory holds; absent files are None and noted."""

    path: Path
    manifest: dict[str, Any] = field(default_factory=dict)
    engine: RawEngine | None = None
    settings_json: Path | None = None
    settings_store_json: Path | None = None
    daemon_linux: Path | None = None
    daemon_windows: Path | None = None
    wslconfig: Path | None = None
    host_facts: Path | None = None
    admin_settings: Path | None = None
    notes: list[Note] = field(default_factory=list)


def _file(root: Path, rel: str) -> Path | None:
    p = root / rel
    return p if p.is_file() else None


def _json_array(root: Path, rel: str) -> list[dict[str, Any]] | None:
    p = _file(root, rel)
    if p is None:
        return None
    text, _ = read_text(p)
    if not text.strip():
        return []
    data = parse_json(text, str(p))
    if isinstance(data, dict):  # a single object where a list was expected: one item was inspected
        data = [data]
    if not isinstance(data, list):
        raise InputError(f"{p}: expected a JSON array as `docker ... inspect` prints it")
    return [d for d in data if isinstance(d, dict)]


def read_bundle(path: Path) -> Bundle:
    """Read a bundle directory or zip; InputError when it is not one or a file in it is malformed."""
    from migrate.inventory.backend import parse_info

    if path.is_file():  # a zipped bundle, read in place through the same path operations
        from migrate.inventory.bundlezip import open_bundle_zip

        path = open_bundle_zip(path)  # type: ignore[assignment]
    elif not path.is_dir():
        raise InputError(f"{path}: no such bundle directory")
    b = Bundle(path=path)
    manifest = _file(path, "manifest.json")
    if manifest is not None:
        text, _ = read_text(manifest)
        data = parse_json(text, str(manifest))
        if not isinstance(data, dict) or data.get("format") != BUNDLE_FORMAT:
            found = data.get("format") if isinstance(data, dict) else type(data).__name__
            raise InputError(f"{manifest}: not a wsl2-migrate bundle manifest (format {found!r}, "
                             f"expected {BUNDLE_FORMAT!r})")
        b.manifest = data
        b.notes.extend(identity_notes(data.get("identity"), str(manifest)))
        for err in data.get("errors") or []:
            if isinstance(err, dict):
                b.notes.append(Note(area="bundle", subject=str(err.get("file") or path),
                                    message=f"the collector could not gather it: {err.get('message', '')}"))
    else:
        b.notes.append(Note(area="bundle", subject=str(path), message="no manifest.json: not written by the "
                            "collector; reading the files that are there"))

    info_file = _file(path, "engine/info.json")
    if info_file is not None:
        raw = RawEngine(url=f"bundle:{path}")
        text, _ = read_text(info_file)
        raw.info = parse_info(text, str(info_file))
        version_file = _file(path, "engine/version.json")
        if version_file is not None:
            vtext, _ = read_text(version_file)
            version = parse_json(vtext, str(version_file))
            if isinstance(version, dict) and isinstance(version.get("Server"), dict):
                version = version["Server"]  # `docker version --format '{{json .}}'` wraps the server part
            raw.version = version if isinstance(version, dict) else {}
        for attr, rel in (("images", "engine/images.json"), ("containers", "engine/containers.json"),
                          ("volumes", "engine/volumes.json"), ("networks", "engine/networks.json")):
            items = _json_array(path, rel)
            if items is None:
                raw.notes.append(Note(area=attr, subject=str(path / rel), message="not in the bundle"))
                items = []
            setattr(raw, attr, items)
        df_file = _file(path, "engine/df.json")
        if df_file is not None:
            dtext, _ = read_text(df_file)
            df = parse_json(dtext, str(df_file)) if dtext.strip() else {}
            raw.df = df if isinstance(df, dict) else {}
        b.engine = raw
    else:
        b.notes.append(Note(area="engine", subject=str(path / "engine/info.json"),
                            message="not in the bundle: no engine data (was the engine running?)"))

    b.settings_json = _file(path, "desktop/settings.json")
    b.settings_store_json = _file(path, "desktop/settings-store.json")
    b.daemon_linux = _file(path, "desktop/daemon.json")
    b.daemon_windows = _file(path, "desktop/windows-daemon.json")
    b.wslconfig = _file(path, "host/wslconfig")
    b.admin_settings = _file(path, "desktop/admin-settings.json")
    b.host_facts = _file(path, "host/facts.json")
    if b.host_facts is None:
        b.notes.append(Note(area="host", subject=str(path / "host/facts.json"), message="not in the bundle"))
    return b
