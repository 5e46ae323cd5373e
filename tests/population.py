"""A rich population on a real engine: what a developer's Docker Desktop holds after years of use."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from tests.engines import Engine, Registry, busybox_rootfs


@dataclass
class Population:
    """Names of what populate() created, for the tests to look up."""

    base: str = "local/base:1"
    """Imported busybox image, also tagged local/base:latest."""
    pulled: str = ""
    """registry/shop/base@sha256:... : an image with a real registry digest."""
    pulled_repo: str = ""
    derived: str = "local/app:2"
    """Committed from a container of base: shares base's layer."""
    dangling_id: str = ""
    containers: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    network: str = "shopnet"
    bind_dir: Path = Path()


def populate(e: Engine, reg: Registry, work: Path) -> Population:
    """Create images, volumes, a network and containers with many options on engine e."""
    work.mkdir(parents=True, exist_ok=True)
    p = Population()
    rootfs = busybox_rootfs(work / "rootfs.tar", {"etc/motd": b"hello\n"})
    e.docker("import", "--change", 'CMD ["sh"]', "--change", "LABEL org.example.team=platform",
             str(rootfs), p.base)
    e.docker("tag", p.base, "local/base:latest")

    # A real registry digest: push, drop the local copy, pull back by digest.
    p.pulled_repo = f"{reg.addr}/shop/base"
    e.docker("tag", p.base, f"{p.pulled_repo}:1")
    e.docker("push", f"{p.pulled_repo}:1")
    digest = json.loads(e.docker("image", "inspect", f"{p.pulled_repo}:1"))[0]["RepoDigests"][0]
    p.pulled = digest

    # A dangling image: import twice under the same tag.
    rootfs2 = busybox_rootfs(work / "rootfs2.tar", {"etc/motd": b"old\n"})
    first = e.docker("import", str(rootfs2), "local/tmp:1").strip()
    rootfs3 = busybox_rootfs(work / "rootfs3.tar", {"etc/motd": b"new\n"})
    e.docker("import", str(rootfs3), "local/tmp:1")
    p.dangling_id = first

    # A derived image sharing the base layer.
    e.docker("run", "--name", "builder", p.base, "sh", "-c", "echo built > /etc/build-info")
    e.docker("commit", "--change", 'CMD ["sleep", "3600"]', "builder", p.derived)
    e.docker("rm", "builder")

    # Volumes with awkward content.
    e.docker("volume", "create", "--label", "com.example.backup=daily", "pgdata")
    e.docker("volume", "create", "empty-vol")
    e.docker("run", "--rm", "-v", "pgdata:/v", p.base, "sh", "-c",
             "mkdir -p '/v/dir with space/empty' && echo data > /v/file.txt && "
             "printf 'x' > \"/v/it's odd\" && ln -s file.txt /v/link && chmod 600 /v/file.txt && "
             "chown 999:999 /v/file.txt")
    p.volumes = ["pgdata", "empty-vol"]

    e.docker("network", "create", "--driver", "bridge", "--subnet", "172.30.0.0/16", "--gateway", "172.30.0.1",
             "--ip-range", "172.30.5.0/24", "--label", "com.example.net=shop", "--opt",
             "com.docker.network.bridge.name=br-shop", "shopnet")

    p.bind_dir = work / "bind src"
    p.bind_dir.mkdir(exist_ok=True)
    (p.bind_dir / "index.html").write_text("<h1>hi</h1>")

    # db: running, with most options.
    e.docker(
        "run", "-d", "--name", "db", "--hostname", "dbhost", "--domainname", "example.internal",
        "-e", "PASSWORD=s3cret", "-e", "MODE=primary", "--label", "com.example.role=database",
        "--label", "DB_PASSWORD=labelsecret",
        "-v", "pgdata:/var/lib/data", "--restart", "unless-stopped", "--memory", "64m", "--memory-swap", "128m",
        "--memory-reservation", "32m", "--cpus", "0.5", "--cpu-shares", "512", "--cpuset-cpus", "0",
        "--ulimit", "nofile=1024:2048", "--cap-add", "NET_ADMIN", "--cap-drop", "MKNOD",
        "--user", "0:0", "--workdir", "/data", "--health-cmd", "true", "--health-interval", "30s",
        "--health-retries", "3", "--stop-signal", "SIGINT", "--stop-timeout", "20",
        "--tmpfs", "/run/cache:rw,size=1m", "--shm-size", "16m", "--init", "--sysctl", "net.ipv4.ip_forward=1",
        "--dns", "10.9.9.9", "--dns-search", "corp.example", "--dns-option", "ndots:2",
        "--add-host", "legacy.local:10.0.75.2", "--log-driver", "json-file", "--log-opt", "max-size=10m",
        "--network", "shopnet", "--ip", "172.30.0.10", "--network-alias", "database",
        "--expose", "5432", "--group-add", "29", "--oom-score-adj", "100", "--pids-limit", "200",
        p.derived,
    )
    # sidecar: shares db's network namespace.
    e.docker("run", "-d", "--name", "sidecar", "--network", "container:db", p.base, "sleep", "3600")
    # app: created only; volumes-from db, a link, a bind mount with options, a published port.
    e.docker(
        "create", "--name", "app", "--volumes-from", "db:ro", "--network", "shopnet", "--link", "db:database",
        "-v", f"{p.bind_dir}:/srv/www:ro", "--mount", f"type=bind,source={work},target=/work,bind-propagation=rslave",
        "-p", "127.0.0.1:8080:80/tcp", "--entrypoint", "sh", "--read-only", "--privileged",
        "--device", "/dev/null:/dev/mynull:rw", "--security-opt", "no-new-privileges",
        "-t", "-i", "--env", "EMPTY=", p.base, "-c", "sleep 3600",
    )
    # stopped: wrote data into its writable layer, then exited.
    e.docker("run", "--name", "stopped", p.base, "sh", "-c", "dd if=/dev/zero of=/data/blob bs=1k count=64")
    # a compose-managed container (labels as docker compose writes them).
    e.docker(
        "run", "-d", "--name", "shop-web-1", "--network", "shopnet",
        "--label", "com.docker.compose.project=shop", "--label", "com.docker.compose.service=web",
        "--label", "com.docker.compose.project.working_dir=C:\\Users\\jdoe\\src\\shop",
        "--label", "com.docker.compose.project.config_files=C:\\Users\\jdoe\\src\\shop\\docker-compose.yml",
        "--label", "com.docker.compose.depends_on=db:service_started:false",
        "--label", "com.docker.compose.container-number=1", "--label", "com.docker.compose.oneoff=False",
        "-v", "/anon", p.pulled, "sleep", "3600",
    )
    # a Kubernetes-managed container.
    e.docker("run", "-d", "--name", "k8s_POD_coredns-abc_kube-system_1", "--label",
             "io.kubernetes.pod.name=coredns-abc", "--label", "io.kubernetes.pod.namespace=kube-system",
             p.base, "sleep", "3600")
    p.containers = ["db", "sidecar", "app", "stopped", "shop-web-1", "k8s_POD_coredns-abc_kube-system_1"]
    return p
