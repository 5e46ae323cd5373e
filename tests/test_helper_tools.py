"""The helper capability probe, run on real images: it names exactly what an image lacks, and the list it checks is
what the copies and digests need (an image of exactly those tools digests; without any one of them it cannot)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from migrate.volumedigest import digest_script
from migrate.helpertools import END, REQUIRED_TOOLS, ProbeError, missing_tools, probe_command
from tests.engines import Engine
from tests.helper_images import GNU_TOOLS, busybox_rootfs_without_tmp, gnu_rootfs, import_image
from tests.population import Population

pytestmark = pytest.mark.engine

NAMES = tuple(t.name for t in REQUIRED_TOOLS)


def _probe(e: Engine, image: str) -> tuple[str, ...]:
    # As a preflight would run it: no network, nothing mounted, and here a read-only root filesystem on top.
    return missing_tools(e.docker("run", "--rm", "--read-only", "--network", "none", image, "sh", "-c",
                                  probe_command()))


@pytest.fixture(scope="module")
def images(engine: Engine, scratch: Path):
    made: list[str] = []

    def build(name: str, rootfs: Path) -> str:
        made.append(import_image(engine, rootfs, f"w2m-test/probe-{name}:1"))
        return made[-1]

    yield build
    if made:
        engine.docker("image", "rm", *made)


def test_the_gnu_test_image_holds_exactly_the_required_tools_and_sh() -> None:
    # What makes the GNU-image tests below prove the list is enough: that image has nothing else to fall back on.
    assert set(GNU_TOOLS) == {"sh", *NAMES}


def test_busybox_images_pass(engine: Engine, rich: Population, images, scratch: Path) -> None:
    assert _probe(engine, rich.base) == ()
    assert _probe(engine, images("busybox-no-tmp", busybox_rootfs_without_tmp(scratch / "probe-bb.tar"))) == ()


def test_gnu_image_passes_and_one_without_od_and_awk_says_exactly_that(engine: Engine, images,
                                                                       scratch: Path) -> None:
    assert _probe(engine, images("gnu", gnu_rootfs(scratch / "probe-gnu.tar"))) == ()
    lacking = images("gnu-no-od-awk", gnu_rootfs(scratch / "probe-gnu-2.tar", omit=("od", "awk")))
    assert _probe(engine, lacking) == ("od", "awk")


def test_a_tool_present_without_the_options_the_plan_uses_is_reported(engine: Engine, images,
                                                                      scratch: Path) -> None:
    # A tar that refuses --numeric-owner and a stat that prints only the name: on PATH, but of no use.
    fake = {"tar": "#!/bin/sh\ncase \"$*\" in *--numeric-owner*) exit 2;; esac\nexit 0\n",
            "stat": "#!/bin/sh\nfor a do last=$a; done\necho \"$last\"\n"}
    image = images("gnu-fake", gnu_rootfs(scratch / "probe-gnu-fake.tar", scripts=fake))
    assert _probe(engine, image) == ("tar", "stat")


def test_each_digest_tool_is_needed(engine: Engine, images, scratch: Path, tmp_path: Path) -> None:
    """Without any one of the tools the list names for digests, the digest script fails (and writes nothing)."""
    engine.docker("volume", "create", "probe-needed")
    try:
        root = Path(engine.inspect("probe-needed")[0]["Mountpoint"])
        (root / "d").mkdir()
        (root / "d" / "f").write_text("a")
        (root / "link").symlink_to("d/f")
        for tool in (t.name for t in REQUIRED_TOOLS if t.used_by == "digest"):
            image = images(f"gnu-no-{tool}", gnu_rootfs(scratch / f"no-{tool}.tar", omit=(tool,)))
            out = tmp_path / tool
            out.mkdir()
            res = subprocess.run(["docker", "--host", engine.url, "run", "--rm", "--read-only", "--network", "none",
                                  "-v", "probe-needed:/data:ro", "-v", f"{out}:/out", image, "sh", "-c",
                                  digest_script(), "sh", "/data", "/out/d"], capture_output=True, timeout=120)
            assert res.returncode != 0, tool
            assert list(out.iterdir()) == [], tool
    finally:
        engine.docker("volume", "rm", "probe-needed")


@pytest.mark.parametrize("output", ["", "\n", "missing od\n", f"missing nosuchtool\n{END}\n",
                                    f"sh: 1: od: not found\n{END}\n", f"{END}\nmissing od\n"])
def test_output_the_probe_does_not_print_is_an_error(output: str) -> None:
    with pytest.raises(ProbeError):
        missing_tools(output)


def test_output_is_read_whatever_the_line_ends() -> None:
    assert missing_tools(f"missing awk\r\nmissing sort\r\n{END}\r\n") == ("awk", "sort")
    assert missing_tools(f"{END}") == ()
