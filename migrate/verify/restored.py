"""A copied volume compared as the run restored it: by the digest taken after the restore and before any container
started (a database writes to its volume when it starts, so its live content differs from then on)."""
from __future__ import annotations

import dataclasses
from pathlib import Path

from migrate.model import Inventory
from migrate.plan.layout import target_digest, volume_digest
from migrate.plan.model import Plan


def digest_token(path: Path) -> str:
    """The first token of a digest file when it is sha256:<64 lower-case hex>, else ''."""
    try:
        token = path.read_bytes().decode("utf-8", "replace").split()[0]
    except (OSError, IndexError):
        return ""
    hexpart = token.removeprefix("sha256:")
    ok = token.startswith("sha256:") and len(hexpart) == 64 and all(c in "0123456789abcdef" for c in hexpart)
    return token if ok else ""


def restored_digests(backup: Path, plan: Plan) -> dict[str, tuple[str, str]]:
    """volume -> (its digest before the switch, its digest after the restore), read from the backup folder ('' for
    a file that is missing or malformed)."""
    return {v.name: (digest_token(backup.joinpath(*volume_digest(v.name).split("/"))),
                     digest_token(backup.joinpath(*target_digest(v.name).split("/"))))
            for v in (*plan.volumes, *(plan.hyperv.volumes if plan.hyperv is not None else ())) if v.strategy == "copy"}


def as_restored(after: Inventory, digests: dict[str, tuple[str, str]]) -> Inventory:
    """after with each copied volume's digest replaced by the one taken right after its restore."""
    return dataclasses.replace(after, volumes=tuple(
        dataclasses.replace(v, digest=digests[v.name][1]) if digests.get(v.name, ("", ""))[1] else v
        for v in after.volumes))
