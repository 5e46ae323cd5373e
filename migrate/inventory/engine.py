"""Read a live Docker Engine through the docker SDK: the one module that imports it.

Bulk endpoints first (/images/json, /containers/json, /volumes, /networks, /system/df), then the per-object
inspects the API has no bulk form for (image and container inspect), with bounded concurrency. Everything is
returned as raw API payloads, so a live scan and a bundle go through the same normalizer.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from migrate.errors import EngineError, InputError
from migrate.model import Note

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total): called as inspects complete."""

WINDOWS_PIPES = (
    "npipe:////./pipe/docker_engine",
    "npipe:////./pipe/dockerDesktopLinuxEngine",
    "npipe:////./pipe/docker_engine_windows",
)
"""Docker Desktop's named pipes, in the order the scan tries them on Windows."""

INSPECT_WORKERS = 8
"""Concurrent inspects: enough to hide per-request latency, few enough not to load the engine."""


@dataclass
class RawEngine:
    """Raw Engine API payloads of one engine, as the API returned them."""

    url: str
    info: dict[str, Any] = field(default_factory=dict)
    version: dict[str, Any] = field(default_factory=dict)
    client: dict[str, Any] = field(default_factory=dict)
    """The client part of a `docker version` capture (Os, Arch): where the capturing CLI ran."""
    images: list[dict[str, Any]] = field(default_factory=list)
    """Image inspect payloads."""
    containers: list[dict[str, Any]] = field(default_factory=list)
    """Container inspect payloads, with SizeRw/SizeRootFs merged in from /system/df."""
    volumes: list[dict[str, Any]] = field(default_factory=list)
    networks: list[dict[str, Any]] = field(default_factory=list)
    df: dict[str, Any] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)


def resolve_host(host: str | None, context: str | None) -> tuple[str, Any]:
    """Pick the engine URL: --host, then --context, DOCKER_HOST, the current docker context, Windows pipes.

    Returns the URL and the TLS configuration (None for plain connections).
    """
    if host:
        return host, None
    from docker.context import ContextAPI

    if context:
        try:
            ctx = ContextAPI.get_context(context)
        except Exception as exc:  # the SDK raises several types for a broken context store
            raise InputError(f"docker context {context!r}: cannot be read ({exc})") from None
        if ctx is None:
            raise InputError(f"docker context {context!r}: no such context (see `docker context ls`)")
        return str(ctx.Host), ctx.TLSConfig
    env_host = os.environ.get("DOCKER_HOST")
    if env_host:
        return env_host, None
    try:
        current = ContextAPI.get_current_context()
    except Exception:
        current = None
    if current is not None and current.Host and current.name != "default":
        return str(current.Host), current.TLSConfig
    if sys.platform == "win32":
        return WINDOWS_PIPES[0], None
    return "unix:///var/run/docker.sock", None


def connect(url: str, tls: Any = None, timeout: int = 60) -> Any:
    """An APIClient for url that has answered /version; EngineError (exit 3) when it cannot be reached."""
    import docker

    try:
        client = docker.APIClient(base_url=url, version="auto", timeout=timeout, tls=tls or False)
    except Exception as exc:  # DockerException, or requests/urllib3 errors when version="auto" probes the engine
        raise EngineError(_unreachable(url, exc)) from None
    return client


def _unreachable(url: str, exc: BaseException) -> str:
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    hint = "is Docker Desktop running, and is the URL right?"
    if url.startswith("unix://"):
        hint = "is the engine running, and may this user open its socket?"
    elif url.startswith("tcp://"):
        hint = "is the engine listening there (Docker Desktop: 'Expose daemon on tcp://localhost:2375')?"
    return f"engine {url}: unreachable ({reason[:200]}); {hint}"


class Vanished(Exception):
    """The object was removed between listing and inspecting it (HTTP 404)."""


class _LocalGetter:
    """GET + JSON decode over plain HTTP on a unix socket or TCP, one keep-alive connection per thread.

    The SDK's requests/urllib3 stack costs about a millisecond of Python per request; for the thousands of
    inspects a big engine needs that tripled the scan against the raw API floor. The SDK still resolves the
    engine, negotiates the API version and serves TLS and named pipes; this only carries the inspects where the
    transport is plain.
    """

    def __init__(self, url: str, api_version: str) -> None:
        import threading

        self.url = url
        self.prefix = f"/v{api_version}"
        self.local = threading.local()

    @staticmethod
    def supports(url: str, tls: Any) -> bool:
        return not tls and (url.startswith("unix://") or url.startswith(("tcp://", "http://")))

    def _conn(self) -> Any:
        import http.client
        import socket

        conn = getattr(self.local, "conn", None)
        if conn is None:
            if self.url.startswith("unix://"):
                path = self.url[len("unix://"):]

                class UnixConnection(http.client.HTTPConnection):
                    def connect(self) -> None:
                        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                        self.sock.settimeout(self.timeout)
                        self.sock.connect(path)

                conn = UnixConnection("localhost", timeout=60)
            else:
                hostport = self.url.split("://", 1)[1].rstrip("/")
                conn = http.client.HTTPConnection(hostport, timeout=60)
            self.local.conn = conn
        return conn

    def get(self, path: str) -> Any:
        import json

        conn = self._conn()
        try:
            conn.request("GET", self.prefix + path)
            resp = conn.getresponse()
            body = resp.read()
        except OSError:
            conn.close()
            self.local.conn = None
            raise
        if resp.status == 404:
            raise Vanished(path)
        if resp.status >= 400:
            raise EngineError(f"engine {self.url}: GET {path} answered {resp.status} "
                              f"({body[:200].decode(errors='replace').strip()})")
        return json.loads(body)


def _inspect_all(fetch: Callable[[str], Any], ids: list[str], stage: str, notes: list[Note],
                 progress: Progress | None) -> list[dict[str, Any]]:
    from docker.errors import NotFound

    def one(ident: str) -> dict[str, Any] | None:
        try:
            return fetch(ident)
        except (NotFound, Vanished):
            notes.append(Note(area=stage, subject=ident[:12] if len(ident) == 64 else ident,
                              message="disappeared during the scan (removed while it was read)"))
            return None

    out: list[dict[str, Any]] = []
    total = len(ids)
    if progress:
        progress(stage, 0, total)
    with ThreadPoolExecutor(max_workers=INSPECT_WORKERS) as pool:
        for done, result in enumerate(pool.map(one, ids), start=1):
            if result is not None:
                out.append(result)
            if progress and (done == total or done % 25 == 0):
                progress(stage, done, total)
    return out


def read_engine(url: str, tls: Any = None, progress: Progress | None = None) -> RawEngine:
    """Read everything the inventory needs from the engine at url."""
    from docker.errors import APIError, DockerException
    from requests.exceptions import RequestException

    client = connect(url, tls)
    raw = RawEngine(url=url)
    try:
        raw.version = client.version()
        raw.info = client.info()
        image_list = client.images(all=True)
        container_list = client.containers(all=True)
        raw.volumes = list((client.volumes() or {}).get("Volumes") or [])
        raw.networks = list(client.networks() or [])
        try:
            raw.df = client.df()
        except APIError as exc:  # a df racing with a removal fails as a whole; sizes then stay unknown
            raw.notes.append(Note(area="engine", subject=url, message=f"/system/df failed: {exc.explanation}"))
        inspect_image, inspect_container = client.inspect_image, client.inspect_container
        if _LocalGetter.supports(url, tls):
            getter = _LocalGetter(url, client.api_version)
            inspect_image = lambda i: getter.get(f"/images/{i}/json")  # noqa: E731
            inspect_container = lambda i: getter.get(f"/containers/{i}/json")  # noqa: E731
        image_ids = sorted({i["Id"] for i in image_list})
        raw.images = _inspect_all(inspect_image, image_ids, "images", raw.notes, progress)
        container_ids = sorted({c["Id"] for c in container_list})
        raw.containers = _inspect_all(inspect_container, container_ids, "containers", raw.notes, progress)
    except (RequestException, DockerException, OSError) as exc:
        if isinstance(exc, APIError) and exc.status_code and exc.status_code < 500:
            raise EngineError(f"engine {url}: refused a request ({exc.explanation})") from None
        raise EngineError(_unreachable(url, exc)) from None
    finally:
        client.close()
    sizes = {c["Id"]: c for c in (raw.df.get("Containers") or []) if isinstance(c, dict) and "Id" in c}
    for c in raw.containers:
        s = sizes.get(c.get("Id"))
        if s is not None:
            # The API omits zero sizes (omitempty): a container df lists without SizeRw wrote nothing.
            c.setdefault("SizeRw", s.get("SizeRw", 0))
            c.setdefault("SizeRootFs", s.get("SizeRootFs", 0))
    return raw
