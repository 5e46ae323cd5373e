"""The shell implementation of the volume digest (run by the runbook) equals the Python one (run by verify).

Both follow docs/verify.md; this is what makes the runbook's final verification and `wsl2-migrate verify` agree
on what an equal volume is. The shell runs in real busybox containers on the real test engine.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from migrate.inventory.engine import digest_volumes
from migrate.volumedigest import digest_script
from tests.engines import Engine
from tests.population import Population

pytestmark = pytest.mark.engine

AWKWARD = (
    "cd /v && mkdir -p 'd 1/empty' sub && printf 'a\\nb' > \"$(printf 'new\\nline')\" && printf x > 'q\"uote' && "
    "printf 'é' > 'caf\u00e9' && printf '10' > 10 && printf '9' > 9 && ln 10 sub/hard && ln -s 'd 1' sl && "
    "ln -s dangling broken && chmod 4755 9 && chmod 1777 'd 1' && chown 123:456 sub/hard && mkfifo pipe && "
    "mknod chr c 1 3 && : > empty && chmod 0 empty"
)


def _shell_digest(e: Engine, volume: str, image: str, out: Path) -> str:
    out.mkdir(parents=True, exist_ok=True)
    e.docker("run", "--rm", "--network", "none", "-v", f"{volume}:/data:ro", "-v", f"{out}:/out", image,
             "sh", "-c", digest_script(), "sh", "/data", "/out/d")
    return (out / "d").read_text().strip()


@pytest.fixture(scope="module")
def awkward(engine: Engine, rich: Population) -> str:
    engine.docker("volume", "create", "digest-awkward")
    engine.docker("run", "--rm", "-v", "digest-awkward:/v", rich.base, "sh", "-c", AWKWARD)
    yield "digest-awkward"
    engine.docker("volume", "rm", "digest-awkward")


def test_shell_and_python_digests_agree(engine: Engine, rich: Population, awkward: str, tmp_path: Path) -> None:
    names = [*rich.volumes, awkward]
    py, notes = digest_volumes(engine.url, names)
    assert notes == []
    for name in names:
        line = _shell_digest(engine, name, rich.base, tmp_path / name)
        digest, entries = line.split()
        assert digest == py[name].digest, name
        assert int(entries) == py[name].entries, name


def test_the_shell_digest_sees_a_one_byte_change(engine: Engine, rich: Population, tmp_path: Path) -> None:
    engine.docker("volume", "create", "digest-change")
    try:
        engine.docker("run", "--rm", "-v", "digest-change:/v", rich.base, "sh", "-c", "echo abc > /v/f")
        before = _shell_digest(engine, "digest-change", rich.base, tmp_path / "a")
        engine.docker("run", "--rm", "-v", "digest-change:/v", rich.base, "sh", "-c", "echo abd > /v/f")
        after = _shell_digest(engine, "digest-change", rich.base, tmp_path / "b")
        assert before.split()[1] == after.split()[1] and before.split()[0] != after.split()[0]
    finally:
        engine.docker("volume", "rm", "digest-change")
