"""The scan's lean HTTP/1.1 client for per-object inspects, against a real socket server sending what an engine
may: chunked bodies cut anywhere, sized bodies, a closed keep-alive connection, errors."""
from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from migrate.errors import EngineError
from migrate.inventory.engine import Vanished, _LocalGetter


def _chunked(body: bytes, sizes: list[int]) -> bytes:
    out, at = b"", 0
    for n in sizes:
        out += f"{n:x}\r\n".encode() + body[at:at + n] + b"\r\n"
        at += n
    if at < len(body):
        out += f"{len(body) - at:x};ext=1\r\n".encode() + body[at:] + b"\r\n"
    return out + b"0\r\n\r\n"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, list]]:
    """A unix-socket server answering each request with the next canned response; 'close' ends the connection."""
    path = str(tmp_path / "s.sock")
    responses: list = []
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(4)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                buf = b""
                while responses:
                    while b"\r\n\r\n" not in buf:
                        data = conn.recv(4096)
                        if not data:
                            break
                        buf += data
                    if b"\r\n\r\n" not in buf:
                        break
                    _, _, buf = buf.partition(b"\r\n\r\n")
                    reply = responses.pop(0)
                    if reply == "close":
                        break
                    for i in range(0, len(reply), 7):  # dribbled: every parse step meets a cut
                        conn.sendall(reply[i:i + 7])

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"unix://{path}", responses
    stop.set()
    listener.close()


def test_chunked_and_sized_bodies_on_one_kept_alive_connection(server) -> None:
    url, responses = server
    a = json.dumps({"Id": "a", "Config": {"Env": ["X=" + "y" * 3000]}}).encode()
    b = json.dumps({"Id": "b"}).encode()
    responses += [
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        + _chunked(a, [10, 1000, 1]),
        b"HTTP/1.1 200 OK\r\nContent-Length: " + str(len(b)).encode() + b"\r\n\r\n" + b,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + _chunked(b"[]", []),
    ]
    getter = _LocalGetter(url, "1.41")
    assert getter.get("/containers/a/json") == json.loads(a)
    assert getter.get("/containers/b/json") == {"Id": "b"}
    assert getter.get("/images/json") == []


def test_a_connection_the_engine_closed_is_reopened_once(server) -> None:
    url, responses = server
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
    responses += [ok, "close", ok]
    getter = _LocalGetter(url, "1.41")
    assert getter.get("/a") == {}
    assert getter.get("/b") == {}  # the first try meets the closed connection, the retry a new one


def test_404_is_vanished_and_other_errors_name_the_status(server) -> None:
    url, responses = server
    responses += [b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
                  b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\noops"]
    getter = _LocalGetter(url, "1.41")
    with pytest.raises(Vanished):
        getter.get("/containers/gone/json")
    with pytest.raises(EngineError, match="answered 500 \\(oops\\)"):
        getter.get("/containers/x/json")
