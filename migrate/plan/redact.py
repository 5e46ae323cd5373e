"""How a docker command is shown in logs and the runbook: credentials and secret values replaced."""
from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence

from migrate.plan.steps import Arg, arg_text
from migrate.secrets import REDACTED, is_secret_name, redact_text

_KV_FLAGS = frozenset({"-e", "--env", "--label", "-l", "--log-opt", "--opt", "-o", "--build-arg", "--driver-opt",
                       "--ipam-opt", "--annotation", "--storage-opt", "--sysctl"})
"""Flags whose value is KEY=VALUE: the value is hidden when the key names a secret (migrate.secrets decides)."""


def redact_arg(arg: str, flag: str = "") -> str:
    """One argument with URL passwords hidden; a KEY=VALUE value after a known flag hidden when KEY is secret."""
    if flag in _KV_FLAGS and "=" in arg:
        key, _, value = arg.partition("=")
        if is_secret_name(key):
            return f"{key}={REDACTED}"
        # Mount and driver options pack several pairs: o=addr=x,username=u,password=p.
        return key + "=" + redact_text(value)
    return redact_text(arg)


LONG = 200
"""An argument longer than this (a script given to sh -c) is shown by its length and hash, not its text."""


@functools.lru_cache(maxsize=256)
def _long(text: str) -> str:
    """A long argument by its length and hash (the same script is shown for every volume: hashed once)."""
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"<{len(text)}-character script sha256:{digest}>"


def display(argv: Sequence[Arg]) -> str:
    """The command line as logs show it (one space between arguments; no quoting: it is for people)."""
    if all(type(a) is str and len(a) <= LONG for a in argv) and _KV_FLAGS.isdisjoint(argv):
        # Most commands: short literals, no KEY=VALUE flag; only a URL could hold a credential. (The joining space
        # keeps a "://" from spanning two arguments.)
        joined = " ".join(argv)  # type: ignore[arg-type]  # every one is a str, checked above
        if "://" not in joined:
            return joined
    out: list[str] = []
    prev = ""
    for arg in argv:
        text = arg if isinstance(arg, str) else arg_text(arg)
        if len(text) > LONG:
            out.append(_long(text))
        elif prev in _KV_FLAGS or "://" in text:
            out.append(redact_arg(text, prev))
        else:
            out.append(text)
        prev = text if text.startswith("-") else ""
    return " ".join(out)
