"""Where each artifact lives in the backup folder, and the file- and id-safe form of object names."""
from __future__ import annotations

import hashlib
import re

_UNSAFE = re.compile(r"[^a-z0-9._-]+")
BACKUP_LAYOUT: dict[str, str] = {
    "Journal": "journal.json",
    "Artifacts": "artifacts.json",
    "Summary": "summary.json",
    "Logs": "logs",
    "Edits": "edits",
    "Rollback": "rollback",
}
"""What both interpreters keep in the backup folder besides the artifacts (docs/runbook.md): the journal, the artifact
record, the summary of a finished run, the run's logs and transcripts, the bytes of each host file before an edit,
the files a rollback moved aside. The runbook carries it ($script:Layout): the library names none of them itself."""


def safe_name(name: str) -> str:
    """A file- and id-safe form of an object name; a short hash keeps different names apart."""
    low = _UNSAFE.sub("-", name.lower()).strip("-.")[:48] or "x"
    if low == name:
        return low
    return f"{low}-{hashlib.sha256(name.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"


def volume_archive(name: str) -> str:
    """Where a volume's tar goes in the backup folder."""
    return f"volumes/{safe_name(name)}.tar"


def volume_digest(name: str) -> str:
    """Where the content digest of a volume taken before the switch goes (docs/verify.md)."""
    return f"volumes/{safe_name(name)}.digest"


def target_digest(name: str) -> str:
    """Where the content digest of the restored volume goes."""
    return f"verify/{safe_name(name)}.digest"


def env_file(container: str) -> str:
    """Where a container's env file goes (in the access-restricted secrets folder)."""
    return f"secrets/env/{safe_name(container)}.env"


def secret_values_file(kind: str, name: str) -> str:
    """Where the secret values of a container, volume or network go (in the access-restricted secrets folder)."""
    return f"secrets/values/{kind}-{safe_name(name)}.json"
