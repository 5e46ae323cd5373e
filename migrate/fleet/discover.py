"""Find the bundles under the paths given to `fleet`: bundle folders and zip files, at any depth, in a stable order."""
from __future__ import annotations

import os
from pathlib import Path

from migrate.errors import InputError

MARKERS = ("manifest.json", "engine/info.json", "host/facts.json")
"""A folder holding any of these is a bundle (docs/bundle.md); its subfolders are not searched further."""


def is_bundle_dir(path: Path) -> bool:
    """Whether a folder is a bundle by its layout."""
    return any((path / marker).is_file() for marker in MARKERS)


def _is_zip(path: Path) -> bool:
    return path.suffix.lower() == ".zip"


def find_bundles(paths: list[Path]) -> list[Path]:
    """Every bundle under paths: a zip or bundle folder given directly, or found by walking a folder.

    Folders are walked without following symbolic links (a link loop or a link out of the share must not make
    the run endless or read elsewhere); names are sorted so the same tree always gives the same order. A path
    found twice is listed once. A given path that does not exist is an error; a folder without bundles is not.
    """
    found: list[Path] = []
    seen: set[str] = set()

    def add(p: Path) -> None:
        key = os.path.normcase(os.path.abspath(p))
        if key not in seen:
            seen.add(key)
            found.append(p)

    for given in paths:
        if given.is_file():
            if not _is_zip(given):
                raise InputError(f"{given}: not a bundle (expected a bundle folder or a .zip file)")
            add(given)
            continue
        if not given.is_dir():
            raise InputError(f"{given}: no such file or folder")
        if is_bundle_dir(given):
            add(given)
            continue
        for root, dirs, files in os.walk(given, followlinks=False):
            dirs.sort()
            here = Path(root)
            bundles = [d for d in dirs if not (here / d).is_symlink() and is_bundle_dir(here / d)]
            for d in bundles:
                add(here / d)
            dirs[:] = [d for d in dirs if d not in bundles and not d.startswith(".")]
            for name in sorted(files):
                p = here / name
                if _is_zip(p) and not p.is_symlink():
                    add(p)
    return found
