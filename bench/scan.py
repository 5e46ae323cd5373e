"""Scan speed against the raw Engine API floor and the docker CLI route, side by side on one real engine.

    python bench/scan.py [--n 200 1000] [--repeat 5]

Starts its own dockerd (Debian's docker.io, as the tests do), creates N images (one `docker load` of a generated
archive), N volumes and N containers, then times, in one run:
  scan      wsl2-migrate's engine scan (SDK, bulk endpoints + bounded-concurrency inspects), normalized to the model;
  raw-seq   the fewest raw Engine API requests that return the same data, one after another, JSON decoded;
  raw-par   the same requests with the scan's concurrency;
  cli       `docker info`, `docker system df -v` and `docker ... inspect $(docker ... ls -q)` for every kind.
Prints the medians, the load average beside them, and the ratios against the targets: scan <= 1.0x raw-seq, and
the CLI route >= 2x the scan's time.
"""
from __future__ import annotations

import argparse
import hashlib
import http.client
import io
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from migrate.inventory.engine import INSPECT_WORKERS
from migrate.inventory.scan import ScanOptions, scan
from tests.engines import busybox_rootfs, start_engine


def image_archive(path: Path, n: int, work: Path) -> None:
    """A `docker save` archive of n distinct images (distinct configs) sharing one busybox layer."""
    layer = busybox_rootfs(work / "layer.tar")
    layer_bytes = layer.read_bytes()
    diff_id = "sha256:" + hashlib.sha256(layer_bytes).hexdigest()
    manifest = []
    with tarfile.open(path, "w") as tar:
        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

        add("layer/layer.tar", layer_bytes)
        for i in range(n):
            config = json.dumps({
                "architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
                "config": {"Cmd": ["sleep", "3600"], "Labels": {"bench.index": str(i)}, "Env": [f"N={i}"]},
                "rootfs": {"type": "layers", "diff_ids": [diff_id]},
                "history": [{"created": "2024-01-01T00:00:00Z", "created_by": f"bench {i}"}],
            }, sort_keys=True).encode()
            name = hashlib.sha256(config).hexdigest() + ".json"
            add(name, config)
            manifest.append({"Config": name, "RepoTags": [f"bench/img{i}:1"], "Layers": ["layer/layer.tar"]})
        add("manifest.json", json.dumps(manifest).encode())


class UnixHTTP(http.client.HTTPConnection):
    """HTTP over the engine's unix socket."""

    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=120)
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


def raw_floor(sock: str, parallel: int) -> int:
    """The fewest raw API requests returning what the scan returns; returns the number of requests made."""
    import threading

    local = threading.local()

    def get(path: str):
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = UnixHTTP(sock)
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        return json.loads(body)

    get("/version")
    get("/info")
    images = get("/images/json?all=1")
    containers = get("/containers/json?all=1")
    get("/volumes")
    get("/networks")
    get("/system/df")
    paths = [f"/images/{i['Id']}/json" for i in images] + [f"/containers/{c['Id']}/json" for c in containers]
    if parallel <= 1:
        for p in paths:
            get(p)
    else:
        with ThreadPoolExecutor(max_workers=parallel) as pool:
            list(pool.map(get, paths))
    return 7 + len(paths)


def cli_route(url: str) -> None:
    """What a person would script with the docker CLI."""
    env = dict(os.environ, DOCKER_HOST=url)

    def sh(cmd: str) -> None:
        subprocess.run(["sh", "-c", cmd], env=env, check=True, stdout=subprocess.DEVNULL)

    sh("docker info --format '{{json .}}'")
    sh("docker version --format '{{json .}}'")
    sh("docker system df -v --format '{{json .}}'")
    sh("docker image inspect $(docker image ls -aq --no-trunc)")
    sh("docker container inspect --size $(docker ps -aq --no-trunc)")
    sh("docker volume inspect $(docker volume ls -q)")
    sh("docker network inspect $(docker network ls -q --no-trunc)")


def timed(fn, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def populate(e, n: int, work: Path) -> None:
    import docker

    archive = work / "images.tar"
    image_archive(archive, n, work)
    e.docker("load", "-i", str(archive))
    client = docker.APIClient(base_url=e.url, version="auto")

    def make(i: int) -> None:
        client.create_volume(name=f"vol{i}", labels={"bench": str(i)})
        host_config = client.create_host_config(binds=[f"vol{i}:/data"], restart_policy={"Name": "no"})
        client.create_container(f"bench/img{i}:1", name=f"c{i}", host_config=host_config,
                                environment={"INDEX": str(i)}, labels={"bench": str(i)})

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(make, range(n)))
    client.close()


def measure(n: int, repeat: int) -> None:
    """Start an engine, populate it with n of each object, time the four routes side by side, print the ratios."""
    work = Path(tempfile.mkdtemp(prefix="w2m-bench-", dir="/tmp"))
    e = start_engine(work / "e")
    try:
        t = time.perf_counter()
        populate(e, n, work)
        print(f"populated N={n} images, volumes and containers in {time.perf_counter() - t:.1f} s")
        sock = e.url[len("unix://"):]
        inv = scan(ScanOptions(host=e.url), "bench")  # warm-up, and a check that the scan sees everything
        assert len(inv.containers) == n and len(inv.volumes) >= n, "scan missed objects"
        requests = raw_floor(sock, 1)
        load_before = os.getloadavg()
        results = {
            "scan": timed(lambda: scan(ScanOptions(host=e.url), "bench"), repeat),
            "raw-seq": timed(lambda: raw_floor(sock, 1), repeat),
            "raw-par": timed(lambda: raw_floor(sock, INSPECT_WORKERS), repeat),
            "cli": timed(lambda: cli_route(e.url), repeat),
        }
        load_after = os.getloadavg()
        print(f"\nN={n}, {requests} raw requests, median of {repeat} runs, {INSPECT_WORKERS} workers, "
              f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after ({os.cpu_count()} CPUs)\n")
        print(f"{'route':<10}{'seconds':>10}")
        for name, secs in results.items():
            print(f"{name:<10}{secs:>10.3f}")
        print(f"\nscan / raw-seq = {results['scan'] / results['raw-seq']:.2f}x (target <= 1.0x)")
        print(f"scan / raw-par = {results['scan'] / results['raw-par']:.2f}x")
        print(f"cli / scan     = {results['cli'] / results['scan']:.2f}x faster (target >= 2x)\n")
    finally:
        e.stop()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[200, 1000],
                    help="images, volumes and containers to create, one run per value (default 200 1000)")
    ap.add_argument("--repeat", type=int, default=5, help="runs of each route; the median is reported")
    args = ap.parse_args()
    for n in args.n:
        measure(n, args.repeat)


if __name__ == "__main__":
    main()
