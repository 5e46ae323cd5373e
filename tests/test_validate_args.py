"""validate's reading of docker command lines: options, volume and mount specs, image references, the model."""
from __future__ import annotations

import pytest

from migrate.model import Image, Inventory
from migrate.plan.steps import BackupPath, Word
from migrate.validate.dockerargs import (
    ArgsError,
    MountRef,
    mount_spec,
    normalize_ref,
    parse_create,
    volume_spec,
)
from migrate.validate.state import initial_world


def test_create_options_stop_at_the_image() -> None:
    p = parse_create(("--name", "db", "-it", "-v", "data:/var/lib", "--init=false", "-p8080:80", "--rm",
                      "postgres:12", "postgres", "-c", "fsync=off"))
    assert p.positionals == ("postgres:12", "postgres", "-c", "fsync=off")
    assert p.last("--name") == "db"
    assert p.values("--volume") == ["data:/var/lib"]
    assert p.values("--publish") == ["8080:80"]
    assert (p.last("--interactive"), p.last("--tty"), p.last("--init")) == ("true", "true", "false")


def test_create_rejects_what_docker_rejects() -> None:
    with pytest.raises(ArgsError, match="--frobnicate"):
        parse_create(("--frobnicate", "x", "busybox"))
    with pytest.raises(ArgsError, match="no image"):
        parse_create(("--name", "x"))
    with pytest.raises(ArgsError, match="needs a value"):
        parse_create(("--name",))


@pytest.mark.parametrize("spec, want", [
    ("data:/data", MountRef("volume", "data", "/data")),
    ("data:/data:ro", MountRef("volume", "data", "/data", True)),
    ("/data", MountRef("anonymous", "", "/data")),
    ("/host/dir:/data:rw", MountRef("bind", "/host/dir", "/data")),
    ("C:\\Users\\jdoe\\src:/app::rw", MountRef("bind", "C:\\Users\\jdoe\\src", "/app")),
    ("C:/x:/app:ro", MountRef("bind", "C:/x", "/app", True)),
    ("./rel:/app", MountRef("bind", "./rel", "/app")),
])
def test_volume_specs(spec: str, want: MountRef) -> None:
    assert volume_spec(spec) == want


def test_a_backup_folder_mount() -> None:
    assert volume_spec(Word((BackupPath("volumes"), ":/backup:ro"))) == MountRef("backup", "volumes", "/backup", True)


@pytest.mark.parametrize("spec, want", [
    ("type=volume,source=data,target=/data,readonly", MountRef("volume", "data", "/data", True)),
    ("src=data,dst=/data", MountRef("volume", "data", "/data")),
    ("target=/cache", MountRef("anonymous", "", "/cache")),
    ('type=bind,"source=C:\\a,b",target=/x', MountRef("bind", "C:\\a,b", "/x")),
])
def test_mount_specs(spec: str, want: MountRef) -> None:
    assert mount_spec(spec) == want


@pytest.mark.parametrize("ref, want", [
    ("busybox", "busybox:latest"),
    ("docker.io/library/busybox:1.32", "busybox:1.32"),
    ("library/redis:6", "redis:6"),
    ("docker.io/bitnami/redis", "bitnami/redis:latest"),
    ("localhost:5000/app", "localhost:5000/app:latest"),
    ("busybox@sha256:abc", "busybox@sha256:abc"),
])
def test_normalize_ref(ref: str, want: str) -> None:
    assert normalize_ref(ref) == want


def test_reference_resolution_on_the_source() -> None:
    iid = "sha256:" + "ab" * 32
    inv = Inventory(images=(Image(id=iid, tags=("redis:6",), repo_digests=("redis@sha256:" + "cd" * 32,)),))
    src = initial_world(inv).source
    for ref in ("redis:6", "docker.io/library/redis:6", iid, "abababababab", "redis@sha256:" + "cd" * 32):
        assert src.resolve(ref) is not None, ref
    for ref in ("redis", "redis:7", "redis@sha256:" + "ef" * 32, "cdcdcdcdcdcd"):
        assert src.resolve(ref) is None, ref
    assert set(initial_world(inv).target.networks) == {"bridge", "host", "none"}
