"""What is secret, for every report, message and file: the one definition, how values are hidden on screen, and the
keyed digest that stands in for a secret value at rest (docs/secrets.md)."""
from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import json
import os
import re
import secrets as _random
import sys
from pathlib import Path
from typing import Any

from migrate.errors import InputError

REDACTED = "<redacted>"
"""What a secret value is shown as in reports and messages."""

DIGEST_PREFIX = "hmac-sha256:"
"""A secret value at rest is `hmac-sha256:` and 32 hex digits (docs/secrets.md); the collector writes the same."""

UNSAFE_SUFFIXES = {":line-break": "a line break", ":nul": "a NUL character"}
"""Appended to a digest whose value an env file line cannot hold, so the plan can still say so."""

KEY_ENV = "WSL2_MIGRATE_DIGEST_KEY"
"""A digest key given in the environment (tests; a fleet that wants one key on every machine) instead of the file."""

KEY_FILE = "digest.key"

_DIGEST = re.compile(r"hmac-sha256:[0-9a-f]{32}(?::line-break|:nul)?")

# A name is split into words at anything but a letter or digit and at lower-to-upper case changes
# (AWS_SECRET_ACCESS_KEY, splunk-token, dbPassword); a word on this list makes the name secret.
_SECRET_WORDS = frozenset({
    "password", "passwd", "pwd", "pass", "passphrase", "secret", "secrets", "token", "tokens", "apikey", "key",
    "keys", "privatekey", "credentials", "auth", "auths", "session", "sessionid", "cookie",
    "cookies", "signature", "jwt", "bearer", "otp", "dsn",
})
# Written together with no separator (DBPASSWORD, apitoken, x-secretkey), these still make a name secret.
_SECRET_PARTS = ("password", "passwd", "secret", "token", "apikey", "privatekey", "passphrase", "cookie",
                 "credentials")
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")

# scheme://user:password@host and scheme://token@host: proxies, registry mirrors and database URLs carry
# credentials this way.
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?P<user>[^/@\s:?#]*)(?::(?P<password>[^/@\s?#]*))?@")
# NAME= inside free text (`--log-opt splunk-token=abc`, `--password=x`, `?token=abc&x=1`, `o=addr=h,password=x`);
# the value runs to the next separator.
_NAME = re.compile(r"(?:(?<=^)|(?<=[\s,;'\"(=&?\-]))(?P<name>[A-Za-z_][\w.\-/]*)=")
_VALUE_END = re.compile(r"[\s,;'\"&)]")


def _replace_secret_values(text: str, replace: Any) -> str:
    """text with the value after each secret-named NAME= replaced by replace(value) (when the value is not empty)."""
    out: list[str] = []
    at = 0
    for m in _NAME.finditer(text):
        if m.start() < at or not is_secret_name(m.group("name")):
            continue
        start = m.end()
        end_m = _VALUE_END.search(text, start)
        end = end_m.start() if end_m else len(text)
        if end > start:
            out.append(text[at:start])
            out.append(replace(text[start:end]))
            at = end
    out.append(text[at:])
    return "".join(out)


def name_words(name: str) -> list[str]:
    """The lower-cased words of a name (label key, variable name, option name)."""
    return [w.lower() for w in _WORD.findall(name)]


@functools.lru_cache(maxsize=8192)
def is_secret_name(name: str) -> bool:
    """Whether a name (env variable, label key, setting, log option) says its value is a secret."""
    words = name_words(name)
    if any(w in _SECRET_WORDS for w in words):
        return True
    flat = "".join(words)
    return any(part in flat for part in _SECRET_PARTS)


# ------------------------------------------------------------------------------------------------ on screen


def redact_text(text: str, show_secrets: bool = False) -> str:
    """text with URL credentials and the values of secret-named NAME=VALUE pairs hidden, unless show_secrets.

    Only meant for values (a note, an evidence entry, an object's field): a rule's own words are never passed here.
    """
    if show_secrets or not text:
        return text

    def url(m: re.Match[str]) -> str:
        if m.group("password") is None:
            return f"{m.group('scheme')}{REDACTED}@" if m.group("user") else m.group(0)
        return f"{m.group('scheme')}{m.group('user')}:{REDACTED}@"

    text = _USERINFO.sub(url, text)
    return _replace_secret_values(text, lambda value: REDACTED) if "=" in text else text


def redact(data: Any, show_secrets: bool = False, key: str = "") -> Any:
    """JSON data with the values under secret names hidden and every string redacted, recursively."""
    if show_secrets:
        return data
    if key and is_secret_name(key) and data not in (None, "", [], {}) and not isinstance(data, bool):
        return REDACTED
    if isinstance(data, dict):
        return {str(k): redact(v, show_secrets, str(k)) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [redact(v, show_secrets) for v in data]
    if isinstance(data, str):
        return redact_text(data, show_secrets)
    return data


def redact_entry(entry: str, show_secrets: bool = False) -> str:
    """A NAME=VALUE entry (env) shown as NAME=<redacted>: every env value is treated as secret."""
    if show_secrets:
        return entry
    name, sep, _ = entry.partition("=")
    return f"{name}={REDACTED}" if sep else entry


# ------------------------------------------------------------------------------------------------ at rest


def is_digest(value: Any) -> bool:
    """Whether value is a digest token that stands in for a secret value."""
    return isinstance(value, str) and value.startswith(DIGEST_PREFIX) and _DIGEST.fullmatch(value) is not None


def holds_digest(value: str) -> bool:
    """Whether a digest token appears anywhere in value (a URL whose password was replaced, say)."""
    return DIGEST_PREFIX in value and _DIGEST.search(value) is not None


def unsafe_reason(value: str) -> str:
    """For a digest token: what its value held that an env file cannot ('' when nothing)."""
    for suffix, why in UNSAFE_SUFFIXES.items():
        if value.endswith(suffix) and is_digest(value):
            return why
    return ""


_SURROGATE = re.compile("[\ud800-\udfff]")


def _dotnet_utf8(text: str) -> bytes:
    # The collector hashes .NET strings, where a lone surrogate encodes as U+FFFD: the same here.
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text).encode("utf-8")


def digest_value(value: str, key: bytes) -> str:
    """The keyed digest of a secret value: HMAC-SHA256 under the machine's key, 128 bits in hex (docs/secrets.md)."""
    if is_digest(value):
        return value  # already a digest (a collector bundle): never digest a digest
    token = DIGEST_PREFIX + hmac.digest(key, _dotnet_utf8(value), "sha256").hex()[:32]
    if "\r" in value or "\n" in value:
        return token + ":line-break"
    if "\x00" in value:
        return token + ":nul"
    return token


def digest_entry(entry: str, key: bytes) -> str:
    """NAME=VALUE as NAME=<digest of VALUE>; an entry without '=' (a name only) stays as it is."""
    name, sep, value = entry.partition("=")
    return f"{name}={digest_value(value, key)}" if sep else entry


def digest_url_credentials(text: str, key: bytes) -> str:
    """text with the password (or the lone token) of every scheme://user:password@ replaced by its digest."""
    def url(m: re.Match[str]) -> str:
        if m.group("password") is None:
            user = m.group("user")
            return f"{m.group('scheme')}{digest_value(user, key)}@" if user and not is_digest(user) else m.group(0)
        return f"{m.group('scheme')}{m.group('user')}:{digest_value(m.group('password'), key)}@"

    return _USERINFO.sub(url, text) if "@" in text else text


def digest_data(data: Any, key: bytes, name: str = "") -> Any:
    """JSON data (a settings file, a daemon.json) with secret-named values and URL passwords digested."""
    if name and is_secret_name(name) and data not in (None, "", [], {}) and not isinstance(data, bool):
        if isinstance(data, str):
            return digest_value(data, key)
        return digest_value(json.dumps(data, sort_keys=True, ensure_ascii=False), key)
    if isinstance(data, dict):
        return {k: digest_data(v, key, str(k)) for k, v in data.items()}
    if isinstance(data, list):
        return [digest_data(v, key) for v in data]
    if isinstance(data, tuple):
        return tuple(digest_data(v, key) for v in data)
    if isinstance(data, str):
        return digest_url_credentials(data, key)
    return data


def digest_text(text: str, key: bytes) -> str:
    """Free text (a volume's `o` option, a project file line, a note) with URL passwords and the values of
    secret-named NAME=VALUE pairs in it digested."""
    if not text or ("@" not in text and "=" not in text):
        return text
    text = digest_url_credentials(text, key)
    return _replace_secret_values(text, lambda value: value if holds_digest(value) else digest_value(value, key))


def digest_labels(labels: dict[str, str], key: bytes) -> dict[str, str]:
    """Labels, log or driver options: the values of secret-named keys digested, credentials inside the others too."""
    if not labels:
        return labels
    return {k: digest_value(v, key) if is_secret_name(k) and v else digest_text(v, key) for k, v in labels.items()}


def key_id(key: bytes) -> str:
    """A name for a digest key that tells two keys apart and reveals nothing of it."""
    return "sha256:" + hashlib.sha256(b"wsl2-migrate/digest-key\n" + key).hexdigest()[:16]


def key_folder() -> Path:
    """Where this user's digest key lives: %LOCALAPPDATA%\\wsl2-migrate on Windows (the collector reads the same
    file), $XDG_CONFIG_HOME/wsl2-migrate or ~/.config/wsl2-migrate elsewhere."""
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "wsl2-migrate"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "wsl2-migrate"


def digest_key() -> bytes:
    """This machine's (this user's) digest key: from WSL2_MIGRATE_DIGEST_KEY, else the key file, created with 32
    random bytes on first use and readable by the user only. The key never leaves the machine: a bundle or an
    inventory carries digests and the key's id, so a reader elsewhere cannot try guesses against them."""
    given = os.environ.get(KEY_ENV)
    if given:
        return given.strip().encode("utf-8")
    path = key_folder() / KEY_FILE
    try:
        text = path.read_text(encoding="ascii").strip()
        if text:
            return text.encode("ascii")
    except FileNotFoundError:
        pass
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the digest key ({getattr(exc, 'strerror', None) or exc}); "
                         f"remove it to make a new one, or set {KEY_ENV}") from None
    return _create_key(path)


def _create_key(path: Path) -> bytes:
    text = _random.token_hex(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(text + "\n")
        try:
            os.link(tmp, path)  # never replaces a key another scan made meanwhile
        except FileExistsError:
            pass
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        return path.read_text(encoding="ascii").strip().encode("ascii")
    except OSError as exc:
        raise InputError(f"{path}: cannot create the digest key ({exc.strerror or exc}); set {KEY_ENV} to a "
                         "long random text instead") from None
