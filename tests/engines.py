"""Real Docker Engines and a real registry for the tests: started here, on loopback, torn down after.

dockerd is Debian's docker.io, the registry Debian's docker-registry; scripts/test.sh installs both.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tarfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

BUSYBOX = Path("/bin/busybox")
APPLETS = ("sh", "ls", "cat", "tar", "sha256sum", "sleep", "find", "stat", "echo", "mkdir", "chmod", "chown",
           "ln", "rm", "true", "touch", "readlink", "xargs", "sort", "wc", "dd", "id", "cp", "mv", "head", "env")


@dataclass
class Engine:
    """A dockerd started for the tests."""

    root: Path
    url: str
    proc: subprocess.Popen

    def docker(self, *args: str, check: bool = True, input: bytes | None = None) -> str:
        """Run the docker CLI against this engine and return its stdout."""
        env = dict(os.environ, DOCKER_HOST=self.url, DOCKER_CONFIG=str(self.root / "cli"))
        res = subprocess.run(["docker", *args], env=env, capture_output=True, input=input, timeout=300)
        if check and res.returncode != 0:
            raise RuntimeError(f"docker {' '.join(args)}: {res.stderr.decode(errors='replace')}")
        return res.stdout.decode(errors="replace")

    def inspect(self, *ids: str) -> list[dict]:
        """`docker inspect` of the given objects."""
        return json.loads(self.docker("inspect", *ids))

    def stop(self) -> None:
        """Stop the daemon and remove its state."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        subprocess.run(["umount", "-R", str(self.root / "exec")], capture_output=True)
        subprocess.run(["sh", "-c", f"grep -o ' {self.root}[^ ]*' /proc/mounts | xargs -r -n1 umount -l"],
                       capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise RuntimeError(f"timed out waiting for {what}")


def start_engine(root: Path) -> Engine:
    """Start dockerd with its own data root, exec root and socket under root (a short path: sockets are limited)."""
    root.mkdir(parents=True, exist_ok=True)
    sock = root / "d.sock"
    log = open(root / "dockerd.log", "wb")
    proc = subprocess.Popen(
        ["dockerd", "--data-root", str(root / "data"), "--exec-root", str(root / "exec"),
         "-H", f"unix://{sock}", "--pidfile", str(root / "pid"), "--iptables=false", "--ip6tables=false",
         "--bridge=none", "--storage-driver=overlay2", "--containerd-namespace", f"t{root.name}",
         "--containerd-plugins-namespace", f"p{root.name}"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    engine = Engine(root=root, url=f"unix://{sock}", proc=proc)

    def up() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"dockerd exited: {(root / 'dockerd.log').read_text()[-2000:]}")
        return sock.exists() and subprocess.run(
            ["docker", "-H", engine.url, "version"], capture_output=True).returncode == 0

    _wait(up, 90, f"dockerd at {engine.url}")
    return engine


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Registry:
    """A docker-registry on 127.0.0.1."""

    addr: str
    proc: subprocess.Popen
    root: Path

    def stop(self) -> None:
        """Stop the registry and remove its storage."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.root, ignore_errors=True)


def start_registry(root: Path) -> Registry:
    """Start Debian's docker-registry on a free loopback port (127.0.0.0/8 is an insecure registry by default)."""
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = root / "config.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: "
        f"{root / 'data'}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n"
    )
    exe = shutil.which("docker-registry") or "/usr/bin/docker-registry"
    proc = subprocess.Popen([exe, "serve", str(config)], stdout=open(root / "registry.log", "wb"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    addr = f"127.0.0.1:{port}"

    def up() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"docker-registry exited: {(root / 'registry.log').read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://{addr}/v2/", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    _wait(up, 30, f"docker-registry at {addr}")
    return Registry(addr=addr, proc=proc, root=root)


def busybox_rootfs(dest: Path, extra: dict[str, bytes] | None = None, tmp: bool = True) -> Path:
    """A tar of a minimal root filesystem: static busybox and its applets, plus extra files (tmp=False: no /tmp)."""
    tar_path = dest
    with tarfile.open(tar_path, "w") as tar:
        for d in ("bin", "etc", *(("tmp",) if tmp else ()), "data"):
            info = tarfile.TarInfo(d)
            info.type = tarfile.DIRTYPE
            info.mode = 0o1777 if d == "tmp" else 0o755
            tar.addfile(info)
        tar.add(str(BUSYBOX), arcname="bin/busybox")
        for applet in APPLETS:
            info = tarfile.TarInfo(f"bin/{applet}")
            info.type = tarfile.SYMTYPE
            info.linkname = "busybox"
            tar.addfile(info)
        for name, data in (extra or {}).items():
            import io

            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return tar_path


@dataclass
class IsolatedEngine(Engine):
    """A dockerd in its own network namespace (so its networks and bridges cannot clash with another engine's),
    with a mirror of the test registry serving the same storage at the same loopback address inside it."""

    netns: str = ""
    mirror: subprocess.Popen | None = None

    def stop(self) -> None:
        """Stop the daemon and the mirror, and delete the namespace."""
        super().stop()
        if self.mirror is not None and self.mirror.poll() is None:
            self.mirror.terminate()
            try:
                self.mirror.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.mirror.kill()
        subprocess.run(["ip", "netns", "delete", self.netns], capture_output=True)


def start_isolated_engine(root: Path, registry: Registry | None = None) -> IsolatedEngine:
    """Like start_engine, but in a new network namespace; registry (if given) is reachable at the same address."""
    root.mkdir(parents=True, exist_ok=True)
    netns = f"w2m-{root.name}-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", netns], check=True, capture_output=True)
    # nsenter joins only the network namespace; `ip netns exec` would also remount /sys and hide the cgroups.
    enter = ["nsenter", f"--net=/run/netns/{netns}"]
    subprocess.run([*enter, "ip", "link", "set", "lo", "up"], check=True, capture_output=True)
    mirror = None
    if registry is not None:
        exe = shutil.which("docker-registry") or "/usr/bin/docker-registry"
        mirror = subprocess.Popen([*enter, exe, "serve", str(registry.root / "config.yml")],
                                  stdout=open(root / "mirror.log", "wb"), stderr=subprocess.STDOUT,
                                  start_new_session=True)
    sock = root / "d.sock"
    log = open(root / "dockerd.log", "wb")
    # Its own /etc/docker (a private mount namespace): its own key.json, hence its own engine ID, as two
    # engines of two backends have (every dockerd of one machine shares /etc/docker/key.json by default).
    etc = root / "etc-docker"
    etc.mkdir(exist_ok=True)
    own_etc = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
               'mount --bind "$0" /etc/docker && exec "$@"', str(etc)]
    proc = subprocess.Popen(
        [*enter, *own_etc, "dockerd", "--data-root", str(root / "data"), "--exec-root",
         str(root / "exec"), "-H", f"unix://{sock}", "--pidfile", str(root / "pid"), "--iptables=false",
         "--ip6tables=false", "--bridge=none", "--storage-driver=overlay2", "--containerd-namespace",
         f"t{root.name}", "--containerd-plugins-namespace", f"p{root.name}"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    engine = IsolatedEngine(root=root, url=f"unix://{sock}", proc=proc, netns=netns, mirror=mirror)

    def up() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"dockerd exited: {(root / 'dockerd.log').read_text()[-2000:]}")
        return sock.exists() and subprocess.run(
            ["docker", "-H", engine.url, "version"], capture_output=True).returncode == 0

    try:
        _wait(up, 90, f"dockerd at {engine.url}")
        if registry is not None:
            probe = [*enter, "bash", "-c",
                     f"exec 3<>/dev/tcp/{registry.addr.replace(':', '/')}"]
            _wait(lambda: subprocess.run(probe, capture_output=True).returncode == 0, 30,
                  f"registry mirror in {netns}")
    except Exception:
        engine.stop()
        raise
    return engine
