"""Secret values replaced by keyed digests as objects enter the inventory (docs/secrets.md): env values,
secret-named labels and options, and credentials in URLs never reach a file unless `--with-secrets`. (Containers,
the many, are digested as normalize makes them.)"""
from __future__ import annotations

import dataclasses
from typing import Any

from migrate.model import (
    ConfigFile,
    DesktopSettings,
    Engine,
    FileFact,
    Image,
    Network,
    Note,
    Volume,
)
from migrate.secrets import (
    digest_data,
    digest_entry,
    digest_labels,
    digest_text,
    digest_url_credentials,
)


def image(im: Image, key: bytes) -> Image:
    """The image with its default env values and secret-named labels digested."""
    config = im.config
    if config.get("Env") or config.get("Labels"):
        config = dict(config)
        if isinstance(config.get("Env"), list):
            config["Env"] = [digest_entry(e, key) if isinstance(e, str) else e for e in config["Env"]]
        if isinstance(config.get("Labels"), dict):
            config["Labels"] = digest_labels({str(k): str(v) for k, v in config["Labels"].items()}, key)
    return dataclasses.replace(im, labels=digest_labels(im.labels, key), config=config)


def volume(v: Volume, key: bytes) -> Volume:
    """The volume with secret-named labels and driver options (a CIFS password) digested."""
    return dataclasses.replace(v, labels=digest_labels(v.labels, key), options=digest_labels(v.options, key))


def network(n: Network, key: bytes) -> Network:
    """The network with secret-named labels and driver options digested."""
    return dataclasses.replace(n, labels=digest_labels(n.labels, key), options=digest_labels(n.options, key))


def engine(e: Engine, key: bytes) -> Engine:
    """The engine facts with credentials in registry mirrors, proxies and engine labels digested."""
    return dataclasses.replace(
        e, registry_mirrors=tuple(digest_url_credentials(m, key) for m in e.registry_mirrors),
        insecure_registries=tuple(digest_url_credentials(m, key) for m in e.insecure_registries),
        http_proxy=digest_url_credentials(e.http_proxy, key), https_proxy=digest_url_credentials(e.https_proxy, key),
        labels=tuple(digest_text(x, key) for x in e.labels))


def desktop(d: DesktopSettings, key: bytes) -> DesktopSettings:
    """Docker Desktop's settings with secret-named keys and URL passwords (proxies) digested."""
    return dataclasses.replace(d, values=_dict(digest_data(d.values, key)),
                               proxy_http=digest_url_credentials(d.proxy_http, key),
                               proxy_https=digest_url_credentials(d.proxy_https, key))


def config_file(f: ConfigFile, key: bytes) -> ConfigFile:
    """A daemon.json or .wslconfig with secret-named keys and URL passwords (registry mirrors, proxies) digested."""
    return dataclasses.replace(f, values=_dict(digest_data(f.values, key)))


def file_fact(f: FileFact, key: bytes) -> FileFact:
    """A project file line with credentials in it digested."""
    return dataclasses.replace(f, text=digest_text(f.text, key))


def note(n: Note, key: bytes) -> Note:
    """A note whose subject or message quotes a value with credentials in it, digested."""
    return Note(n.area, digest_text(n.subject, key), digest_text(n.message, key))


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
