"""Where the data folders shipped with the tool (rules/, samples/) are, installed or in a checkout."""
from __future__ import annotations

import importlib.resources
from pathlib import Path
from typing import Any


def data_root(package: str, folder: str) -> Any:
    """The data package (migrate._rules, migrate._samples) when installed, else the repository's folder.

    pyproject.toml maps the top-level folders to those packages; a checkout that is not installed has only the
    folders.
    """
    try:
        return importlib.resources.files(package)
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / folder
