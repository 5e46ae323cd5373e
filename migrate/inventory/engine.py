"""Read a live Docker Engine through the docker SDK: the one module that imports it.

Bulk endpoints first (/images/json, /containers/json, /volumes, /networks, /system/df), then the per-object
inspects the API has no bulk form for (image and container inspect), with bounded concurrency. Everything is
returned as raw API payloads, so a live scan and a bundle go through the same normalizer.
"""
from __future__ import annotations

import dataclasses
import io
import os
import re
import sys
import tarfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from migrate.errors import ArchiveError, EngineError, InputError
from migrate.model import Note, Volume
from migrate.volumedigest import HELPER_LABEL, MOUNT_POINT, READ_SIZE, ChunkReader, VolumeDigest, digest_tar_stream

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
    images: Iterable[dict[str, Any]] = field(default_factory=list)
    """Image inspect payloads (a bundle's are read as they are consumed: iterate each once)."""
    containers: Iterable[dict[str, Any]] = field(default_factory=list)
    """Container inspect payloads, with SizeRw/SizeRootFs merged in from /system/df."""
    volumes: Iterable[dict[str, Any]] = field(default_factory=list)
    networks: Iterable[dict[str, Any]] = field(default_factory=list)
    df: dict[str, Any] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)
    close: Callable[[], None] = lambda: None
    """Ends what still reads the engine (a live scan's inspect workers); call it once the payloads are consumed."""


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

    check_url(url, tls)
    try:
        client = docker.APIClient(base_url=url, version="auto", timeout=timeout, tls=tls or False)
    except Exception as exc:  # DockerException, or requests/urllib3 errors when version="auto" probes the engine
        raise EngineError(_unreachable(url, exc)) from None
    return client


_PLAIN_URL = re.compile(r"^(unix://(?P<path>/.+)|(tcp|http)://(?P<host>[^/:\s]+|\[[0-9A-Fa-f:.]+\]):(?P<port>\d{1,5})/?)$")


def check_url(url: str, tls: Any = None) -> None:
    """InputError (a usage error, exit 2) when url is not an engine URL the SDK can use, before any connection."""
    m = _PLAIN_URL.match(url)
    if m and (m.group("path") or 0 < int(m.group("port")) < 65536):
        return  # the common forms, checked without loading the SDK
    from docker.utils import parse_host

    try:
        parse_host(url, sys.platform == "win32", bool(tls))
    except Exception as exc:  # DockerException or ValueError, depending on what is wrong
        reason = str(exc).split(":")[0] if str(exc) else type(exc).__name__
        raise InputError(f"engine URL {url!r}: {reason.lower()} (expected unix:///PATH, tcp://HOST:PORT, "
                         "npipe:////./pipe/NAME or ssh://USER@HOST)") from None


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
    """GET + JSON decode over plain HTTP/1.1 on a unix socket or TCP, one keep-alive connection per thread.

    The SDK's requests/urllib3 stack costs about a millisecond of Python per request, and http.client's header
    parsing a good part of one; for the thousands of inspects a big engine needs, that was most of the scan's own
    time. This reads only what the engine sends (a status line, headers, a chunked or sized body). The SDK still
    resolves the engine, negotiates the API version and serves TLS and named pipes; this only carries the
    inspects where the transport is plain.
    """

    def __init__(self, url: str, api_version: str) -> None:
        import threading

        self.url = url
        self.prefix = f"/v{api_version}" if api_version else ""  # unversioned: the engine's own API version
        self.local = threading.local()

    @staticmethod
    def supports(url: str, tls: Any) -> bool:
        return not tls and (url.startswith("unix://") or url.startswith(("tcp://", "http://")))

    def _connect(self) -> Any:
        import socket

        if self.url.startswith("unix://"):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(60)
            sock.connect(self.url[len("unix://"):])
        else:
            host, _, port = self.url.split("://", 1)[1].rstrip("/").rpartition(":")
            sock = socket.create_connection((host.strip("[]"), int(port)), timeout=60)
        self.local.sock, self.local.buf = sock, b""
        return sock

    def get(self, path: str) -> Any:
        import json

        fresh = getattr(self.local, "sock", None) is None
        for attempt in (1, 2):
            sock = self._connect() if fresh else self.local.sock
            try:
                sock.sendall(f"GET {self.prefix}{path} HTTP/1.1\r\nHost: docker\r\n\r\n".encode("ascii"))
                status, body = self._response(sock)
                break
            except (OSError, ValueError):
                sock.close()
                self.local.sock = None
                if fresh or attempt == 2:
                    raise
                fresh = True  # a kept-alive connection the engine closed meanwhile: one retry on a new one
        if status == 404:
            raise Vanished(path)
        if status >= 400:
            raise EngineError(f"engine {self.url}: GET {path} answered {status} "
                              f"({body[:200].decode(errors='replace').strip()})")
        return json.loads(body)

    def _recv(self, sock: Any) -> None:
        data = sock.recv(1 << 18)
        if not data:
            raise ConnectionResetError("the engine closed the connection")
        self.local.buf += data

    def _response(self, sock: Any) -> tuple[int, bytes]:
        while b"\r\n\r\n" not in self.local.buf:
            self._recv(sock)
        head, _, self.local.buf = self.local.buf.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(b":") for line in lines[1:])}
        if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
            parts: list[bytes] = []
            while True:
                while b"\r\n" not in self.local.buf:
                    self._recv(sock)
                size_line, _, self.local.buf = self.local.buf.partition(b"\r\n")
                size = int(size_line.split(b";", 1)[0], 16)
                if size == 0:
                    while True:  # the last chunk: trailer lines (none from the engine) up to an empty one
                        while b"\r\n" not in self.local.buf:
                            self._recv(sock)
                        line, _, self.local.buf = self.local.buf.partition(b"\r\n")
                        if not line:
                            return status, b"".join(parts)
                while len(self.local.buf) < size + 2:
                    self._recv(sock)
                parts.append(self.local.buf[:size])
                self.local.buf = self.local.buf[size + 2:]
        length = int(headers.get(b"content-length", b"0"))
        while len(self.local.buf) < length:
            self._recv(sock)
        body, self.local.buf = self.local.buf[:length], self.local.buf[length:]
        if headers.get(b"connection", b"").lower() == b"close":
            sock.close()
            self.local.sock = None
        return status, body


def _inspect_all(fetch: Callable[[str], Any], ids: list[str], stage: str, notes: list[Note],
                 progress: Progress | None, pool: ThreadPoolExecutor, url: str) -> Iterator[dict[str, Any]]:
    """The inspect payloads of ids, in id order, yielded as they arrive while the pool fetches the rest: the scan
    normalizes each while later ones are still on the wire. Submitted at once (the pool starts them now)."""
    gone = _gone_errors()

    def one(ident: str) -> dict[str, Any] | None:
        try:
            return fetch(ident)  # type: ignore[no-any-return]
        except gone:
            notes.append(Note(area=stage, subject=ident[:12] if len(ident) == 64 else ident,
                              message="disappeared during the scan (removed while it was read)"))
            return None

    futures = [pool.submit(one, ident) for ident in ids]

    def results() -> Iterator[dict[str, Any]]:
        total = len(ids)
        if progress:
            progress(stage, 0, total)
        for done, future in enumerate(futures, start=1):
            try:
                result = future.result()
            except EngineError:
                raise
            except Exception as exc:  # OSError, a malformed answer, or the SDK's own errors (TLS, named pipes)
                raise _engine_error(url, exc) from None
            if result is not None:
                yield result
            if progress and (done == total or done % 25 == 0):
                progress(stage, done, total)

    return results()


def _gone_errors() -> tuple[type[BaseException], ...]:
    """What an inspect of a removed object raises: Vanished from the plain client, NotFound from the SDK."""
    sdk = sys.modules.get("docker.errors")
    return (Vanished, sdk.NotFound) if sdk is not None else (Vanished,)


def _engine_error(url: str, exc: BaseException) -> EngineError:
    """An SDK or transport failure as the one-line engine error (a refusal names the engine's explanation)."""
    status = getattr(exc, "status_code", None)
    if status and status < 500 and hasattr(exc, "explanation"):
        return EngineError(f"engine {url}: refused a request ({exc.explanation})")
    return EngineError(_unreachable(url, exc))


def _read_plain(url: str, progress: Progress | None) -> RawEngine:
    """read_engine over a plain unix or TCP socket: the bulk reads run side by side, and the inspects start as
    soon as the lists are in, on the same workers; the SDK is not needed (nor loaded)."""
    getter = _LocalGetter(url, "")
    raw = RawEngine(url=url)
    pool = ThreadPoolExecutor(max_workers=INSPECT_WORKERS)
    try:
        raw.version = getter.get("/version")  # unversioned: the engine says which API version it speaks
        api = str(raw.version.get("ApiVersion") or "")
        if not re.fullmatch(r"\d+\.\d+", api):
            raise EngineError(f"engine {url}: /version names no API version ({api!r})")
        getter.prefix = f"/v{api}"
        bulk = {name: pool.submit(getter.get, path) for name, path in (
            ("containers", "/containers/json?all=1"), ("images", "/images/json?all=1"), ("df", "/system/df"),
            ("info", "/info"), ("volumes", "/volumes"), ("networks", "/networks"))}
        container_list, image_list = bulk["containers"].result(), bulk["images"].result()
        inspect_container = lambda i: getter.get(f"/containers/{i}/json")  # noqa: E731
        inspect_image = lambda i: getter.get(f"/images/{i}/json")  # noqa: E731
        containers = _inspect_all(inspect_container, sorted({c["Id"] for c in container_list}), "containers",
                                  raw.notes, progress, pool, url)
        raw.images = _inspect_all(inspect_image, sorted({i["Id"] for i in image_list}), "images", raw.notes,
                                  progress, pool, url)
        raw.info = bulk["info"].result()
        raw.volumes = list((bulk["volumes"].result() or {}).get("Volumes") or [])
        raw.networks = list(bulk["networks"].result() or [])
        try:
            raw.df = bulk["df"].result()
        except EngineError as exc:  # a df racing with a removal fails as a whole; sizes then stay unknown
            raw.notes.append(Note(area="engine", subject=url, message=f"/system/df failed: {exc.message}"))
        raw.containers = _with_sizes(containers, raw.df)
    except EngineError:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    except Exception as exc:  # the socket, or an answer that is not the engine's
        pool.shutdown(wait=False, cancel_futures=True)
        raise _engine_error(url, exc) from None
    raw.close = lambda: pool.shutdown(wait=True, cancel_futures=True)
    return raw


def _with_sizes(payloads: Iterable[dict[str, Any]], df: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The container payloads with SizeRw/SizeRootFs from /system/df (the API omits zero sizes: omitempty)."""
    sizes = {c["Id"]: c for c in (df.get("Containers") or []) if isinstance(c, dict) and "Id" in c}
    for payload in payloads:
        s = sizes.get(payload.get("Id", ""))
        if s is not None:
            payload.setdefault("SizeRw", s.get("SizeRw", 0))
            payload.setdefault("SizeRootFs", s.get("SizeRootFs", 0))
        yield payload


def read_engine(url: str, tls: Any = None, progress: Progress | None = None) -> RawEngine:
    """Read everything the inventory needs from the engine at url.

    The bulk lists are read here; the per-object inspects start here and are consumed through raw.containers and
    raw.images (each iterated once, containers first); raw.close() ends the workers."""
    check_url(url, tls)
    if _LocalGetter.supports(url, tls):
        return _read_plain(url, progress)
    from docker.errors import APIError, DockerException
    from requests.exceptions import RequestException

    client = connect(url, tls)
    raw = RawEngine(url=url)
    pool = ThreadPoolExecutor(max_workers=INSPECT_WORKERS)
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
        # Containers first: the scan normalizes them first, while the image inspects are fetched behind them.
        containers = _inspect_all(client.inspect_container, sorted({c["Id"] for c in container_list}),
                                  "containers", raw.notes, progress, pool, url)
        raw.containers = _with_sizes(containers, raw.df)
        raw.images = _inspect_all(client.inspect_image, sorted({i["Id"] for i in image_list}), "images", raw.notes,
                                  progress, pool, url)
    except (RequestException, DockerException, OSError) as exc:
        pool.shutdown(wait=False, cancel_futures=True)
        client.close()
        if isinstance(exc, APIError) and exc.status_code and exc.status_code < 500:
            raise EngineError(f"engine {url}: refused a request ({exc.explanation})") from None
        raise EngineError(_unreachable(url, exc)) from None

    def close() -> None:
        pool.shutdown(wait=True, cancel_futures=True)
        client.close()

    raw.close = close
    return raw


# ------------------------------------------------------------------------------------------------ volume digests
# The engine side of migrate.volumedigest: a helper container is created (never started) with the volume mounted
# read-only, and GET /containers/{id}/archive is streamed through digest_tar_stream: nothing is extracted, nothing
# written to the volume, memory flat whatever the volume's size.


def pick_helper_image(client: Any) -> str | None:
    """The id of the smallest image on the engine that suits a helper (engine's OS, no declared volumes)."""
    os_type = str((client.info() or {}).get("OSType") or "linux")
    fallback = None
    for summary in sorted(client.images(), key=lambda i: (i.get("Size") or 0, i.get("Id") or "")):
        try:
            img = client.inspect_image(summary["Id"])
        except Exception:  # removed since the listing; try the next one
            continue
        if (img.get("Os") or os_type) != os_type:
            continue
        if (img.get("Config") or {}).get("Volumes"):
            # It would work (anonymous volumes are removed with the helper), but creates volumes meanwhile.
            fallback = fallback or str(img["Id"])
            continue
        return str(img["Id"])
    return fallback


def digest_volume(client: Any, name: str, image: str) -> VolumeDigest:
    """Digest volume `name` through a created (never started) helper container of `image`, always removed."""
    from docker.types import Mount

    # Mounting a volume that does not exist would create it, empty: make sure it is there first.
    client.inspect_volume(name)
    host_config = client.create_host_config(
        mounts=[Mount(MOUNT_POINT, name, type="volume", read_only=True, no_copy=True)], network_mode="none")
    created = client.create_container(image, command=["true"], host_config=host_config, network_disabled=True,
                                      labels={HELPER_LABEL: "volume-digest"})
    cid = created["Id"]
    try:
        chunks, _ = client.get_archive(cid, MOUNT_POINT)
        reader = io.BufferedReader(ChunkReader(chunks), buffer_size=READ_SIZE)
        return digest_tar_stream(reader)
    finally:
        try:
            client.remove_container(cid, v=True, force=True)
        except Exception as exc:  # any failure here leaves a container behind: say which one
            raise EngineError(f"helper container {cid[:12]} (volume {name}) could not be removed "
                              f"({str(exc).splitlines()[0][:200]}); remove it with `docker rm -f {cid[:12]}`") from None



def digest_volumes(url: str, names: Sequence[str], tls: Any = None,
                   progress: Progress | None = None) -> tuple[dict[str, VolumeDigest], list[Note]]:
    """Digests of the named volumes on the engine at url; a volume that cannot be read becomes a Note."""
    from docker.errors import APIError, NotFound

    out: dict[str, VolumeDigest] = {}
    notes: list[Note] = []
    if not names:
        return out, notes
    client = connect(url, tls)
    try:
        image = pick_helper_image(client)
        if image is None:
            notes.append(Note(area="volumes", subject=url, message="no volume digests: the engine holds no image "
                              "to create a helper container from"))
            return out, notes
        total = len(names)
        if progress:
            progress("volume digests", 0, total)
        for done, name in enumerate(sorted(names), start=1):
            try:
                out[name] = digest_volume(client, name, image)
            except NotFound:
                notes.append(Note(area="volumes", subject=name, message="disappeared during the scan (removed "
                                  "while it was read)"))
            except APIError as exc:
                notes.append(Note(area="volumes", subject=name,
                                  message=f"no digest: the engine refused the helper container ({exc.explanation})"))
            except (ArchiveError, tarfile.TarError) as exc:
                notes.append(Note(area="volumes", subject=name, message=f"no digest: unreadable archive ({exc})"))
            if progress:
                progress("volume digests", done, total)
    except (OSError, APIError) as exc:
        raise EngineError(f"engine {url}: volume digests failed ({str(exc).splitlines()[0][:200]})") from None
    finally:
        client.close()
    return out, notes


def apply_digests(url: str, tls: Any, volumes: Sequence[Volume], os_type: str,
                  progress: Progress | None = None) -> tuple[list[Volume], list[Note]]:
    """The volumes with `digest` filled from the live engine at url, and notes for those left without one."""
    if os_type == "windows":
        return list(volumes), [Note(area="volumes", subject=url, message="no volume digests: computed for Linux "
                                    "engines only (the helper container mounts the volume at /data)")]
    digests, notes = digest_volumes(url, [v.name for v in volumes], tls, progress)
    out = [dataclasses.replace(v, digest=digests[v.name].digest) if v.name in digests else v for v in volumes]
    return out, notes


def probe_helper(url: str, tls: Any, image: str, platform: str | None = None, timeout: int = 120) -> str | None:
    """The helper probe's output (migrate.helpertools) run in `image` on the engine at url, or None when the engine
    does not have the image (the run pulls it first). Nothing is pulled; the container is always removed."""
    from docker.errors import ImageNotFound, NotFound

    from migrate.helpertools import probe_command

    client = connect(url, tls, timeout)
    try:
        client.inspect_image(image)
    except (ImageNotFound, NotFound):
        return None
    host_config = client.create_host_config(network_mode="none")
    created = client.create_container(image, command=["sh", "-c", probe_command()], entrypoint=[],
                                      host_config=host_config, network_disabled=True, platform=platform,
                                      labels={HELPER_LABEL: "helper-probe"})
    cid = created["Id"]
    try:
        client.start(cid)
        client.wait(cid, timeout=timeout)
        return bytes(client.logs(cid, stdout=True, stderr=False)).decode("utf-8", "replace")
    except Exception as exc:  # the engine failed the run: the probe says so rather than a traceback
        raise EngineError(f"helper image {image}: the probe could not run ({str(exc).splitlines()[0][:200]})") \
            from None
    finally:
        try:
            client.remove_container(cid, v=True, force=True)
        except Exception as exc:
            raise EngineError(f"helper container {cid[:12]} could not be removed ({str(exc).splitlines()[0][:200]}); "
                              f"remove it with `docker rm -f {cid[:12]}`") from None
