"""The planned inspect formats, run by a real docker CLI against a real engine: what both interpreters parse."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from migrate.plan.actions import WriteEnvFile
from tests.engines import Engine, busybox_rootfs

pytestmark = pytest.mark.engine

VALUES = ["plain", "", "a=b=c", "sp ace", "2020-01-01T00:00:00Z", "caf\u00e9 \u2019q\u2019", "'\"$x`\\"]


def test_the_env_format_prints_each_variable_as_its_name_and_whole_entry(engine: Engine, tmp_path: Path) -> None:
    engine.docker("import", str(busybox_rootfs(tmp_path / "rootfs.tar")), "local/envformat:1")
    env = [f"V{i}={v}" for i, v in enumerate(VALUES)] + ["lower_case=1", "Lower_Case=2"]
    created = engine.docker("create", *[a for e in env for a in ("-e", e)], "--", "local/envformat:1", "true").strip()
    argv = WriteEnvFile(container=created, path="secrets/env/x.env", names=("V1",)).inspect_argv()
    printed = json.loads(engine.docker(*argv))
    pairs = printed["env"]
    assert pairs[-1] is None
    # Each pair is ["=NAME", "=NAME=value"]: the '=' prefix keeps PowerShell 7 from reading a date.
    found = {p[0]: p[1] for p in pairs[:-1]}
    for entry in env:
        assert found["=" + entry.split("=", 1)[0]] == "=" + entry
    engine.docker("rm", "--", created)
