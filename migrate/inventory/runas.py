"""Who ran the collector (manifest.json `identity`): a note when per-user facts are missing or another user's."""
from __future__ import annotations

from typing import Any

from migrate.errors import InputError
from migrate.model import Note

RUN_AS = ("system", "desktop-user", "other-user", "unknown")
"""SYSTEM, the user of the desktop session, another account, or nobody could tell (no desktop user found)."""
PER_USER_FILES_FROM = ("desktop-user", "current-user", "none")
"""Whose profile the per-user files were read from: the desktop user's, the account's that ran it, nobody's."""
PER_USER_FACTS = "Docker Desktop settings, .wslconfig, .docker and WSL distributions"


def _string(data: dict[str, Any], key: str, manifest: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InputError(f"{manifest}: key identity.{key}: expected a string, found {value!r}")
    return value


def _choice(data: dict[str, Any], key: str, allowed: tuple[str, ...], manifest: str) -> str:
    value = _string(data, key, manifest)
    if value not in allowed:
        raise InputError(f"{manifest}: key identity.{key}: expected one of {', '.join(allowed)}, found {value!r}")
    return value


def identity_notes(data: Any, manifest: str) -> list[Note]:
    """The note for the manifest's identity object; none when the desktop user ran it or an older collector did."""
    if data is None:
        return []
    if not isinstance(data, dict):
        raise InputError(f"{manifest}: key identity: expected an object, found {data!r}")
    run_as = _choice(data, "run_as", RUN_AS, manifest)
    files_from = _choice(data, "per_user_files_from", PER_USER_FILES_FROM, manifest)
    user = _string(data, "user", manifest) or "an unnamed account"
    desktop = _string(data, "desktop_user", manifest)
    problem = _string(data, "problem", manifest)
    profile = _string(data, "profile", manifest)
    if run_as == "desktop-user":
        return []
    ran = f"the collector ran as SYSTEM ({user})" if run_as == "system" else f"the collector ran as {user}"
    if files_from == "none":
        why = f" ({problem})" if problem else ""
        message = f"{ran} and found no desktop user's profile{why}: {PER_USER_FACTS} were not collected"
    elif files_from == "desktop-user":
        message = (f"{ran}, not as the desktop user {desktop or '(unnamed)'}: per-user files were read from "
                   f"{profile or 'their profile'}, WSL distributions from that user's registry (their state is "
                   f"not known), and the engine was asked as {user}")
    elif run_as == "unknown":
        why = f" ({problem})" if problem else ""
        message = (f"{ran} and could not tell who uses this desktop{why}: {PER_USER_FACTS} are those of {user}, "
                   "which may not be the Docker Desktop user")
    else:
        message = f"{ran}, not as the desktop user {desktop or '(unnamed)'}: {PER_USER_FACTS} are those of {user}"
    return [Note(area="identity", subject=manifest, message=message)]
