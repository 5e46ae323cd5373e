"""Bind sources as the old backend saw them, translated to what Docker Desktop on WSL2 accepts."""
from __future__ import annotations

import re
from collections.abc import Callable

_HOST_MNT = re.compile(r"^(?:/host_mnt|/run/desktop/mnt/host|/mnt/host)?/([A-Za-z])(/.*)?$")
_WINDOWS = re.compile(r"^[A-Za-z]:[\\/]|^\\\\|^//[^/]")
_KEEP = ("/var/run/docker.sock", "/run/docker.sock")
"""Docker Desktop provides the engine socket at the same path on every backend."""


def translate_bind(source: str, backend: str) -> str | None:
    """The Windows path for a Hyper-V/LCOW bind source; None when the path lived inside the old VM.

    /host_mnt/c/Users/x (Hyper-V's view of a shared drive), /c/Users/x (MSYS style) and
    /run/desktop/mnt/host/c/x become C:\\Users\\x; Windows and UNC paths stay as they are. Other backends
    keep every path.
    """
    if backend not in ("hyperv", "lcow"):
        return source
    if _WINDOWS.match(source) or source in _KEEP:
        return source
    m = _HOST_MNT.match(source)
    if m:
        rest = (m.group(2) or "/").replace("/", "\\")
        return f"{m.group(1).upper()}:{rest}"
    return None


def translator(backend: str) -> Callable[[str], str | None]:
    """translate_bind bound to a backend."""
    return lambda source: translate_bind(source, backend)
