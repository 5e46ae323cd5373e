"""Parse TOML text into plain Python data with one-line errors naming the file."""
from __future__ import annotations

from typing import Any

from migrate.errors import InputError

try:
    import tomllib as _toml
except ModuleNotFoundError:  # Python 3.10: tomlkit is a dependency anyway
    _toml = None  # type: ignore[assignment]


def parse_toml(text: str, name: str) -> dict[str, Any]:
    """The TOML document as dicts, lists and scalars; InputError naming the file and the position when malformed."""
    if _toml is not None:
        try:
            return _toml.loads(text)
        except _toml.TOMLDecodeError as exc:
            raise InputError(f"{name}: malformed TOML: {exc}") from None
        except RecursionError:
            raise InputError(f"{name}: malformed TOML: nested too deep") from None
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        return tomlkit.parse(text).unwrap()
    except TOMLKitError as exc:
        raise InputError(f"{name}: malformed TOML: {exc}") from None
