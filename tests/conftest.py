"""Session fixtures: a real Docker Engine and a real registry on loopback, and a rich population on the engine."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.engines import Engine, Registry, start_engine, start_registry
from tests.population import Population, populate

ROOT = Path(__file__).resolve().parent.parent
TEST_DIGEST_KEY = "wsl2-migrate test digest key"


@pytest.fixture(scope="session")
def scratch() -> Path:
    """A short-named scratch directory (unix socket paths must stay under 108 bytes)."""
    d = Path(tempfile.mkdtemp(prefix="w2m-", dir="/tmp"))
    yield d
    # The engines (torn down first: they depend on this fixture) unmounted their data; what is left is files.
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def registry(scratch: Path) -> Registry:
    """A real docker-registry on 127.0.0.1."""
    reg = start_registry(scratch / "reg")
    yield reg
    reg.stop()


@pytest.fixture(scope="session")
def engine(scratch: Path) -> Engine:
    """A real dockerd (Debian's docker.io) with its own data root and socket."""
    eng = start_engine(scratch / "e1")
    yield eng
    eng.stop()


@pytest.fixture(scope="session")
def rich(engine: Engine, registry: Registry, scratch: Path) -> Population:
    """The engine populated with a rich set of images, volumes, networks and containers."""
    return populate(engine, registry, scratch / "pop")


@pytest.fixture(autouse=True)
def _no_ambient_docker_host(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's DOCKER_HOST must not leak into CLI tests that expect no engine.
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", os.path.join(tempfile.gettempdir(), "w2m-empty-docker-config"))


@pytest.fixture(autouse=True, scope="session")
def _one_digest_key() -> None:
    # One known digest key (docs/secrets.md) for the whole session, module fixtures and child processes included:
    # golden inventories and plans are then the same on every machine, and every scan compares with every other.
    before = os.environ.get("WSL2_MIGRATE_DIGEST_KEY")
    os.environ["WSL2_MIGRATE_DIGEST_KEY"] = TEST_DIGEST_KEY
    yield
    if before is None:
        os.environ.pop("WSL2_MIGRATE_DIGEST_KEY", None)
    else:
        os.environ["WSL2_MIGRATE_DIGEST_KEY"] = before
