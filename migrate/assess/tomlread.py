"""Parse TOML text into plain Python data with one-line errors naming the file."""
from __future__ import annotations

import tomllib
from typing import Any

from migrate.errors import InputError


def parse_toml(text: str, name: str) -> dict[str, Any]:
    """The TOML document as dicts, lists and scalars; InputError naming the file and the position when malformed."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{name}: malformed TOML: {exc}") from None
    except RecursionError:
        raise InputError(f"{name}: nested too deeply (no file the tool reads nests that far)") from None
