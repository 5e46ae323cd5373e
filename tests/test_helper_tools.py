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


# ------------------------------------------------------------------------------------------ validate's probe


def _golden_plan(helper: str):
    import dataclasses

    from migrate.pipeline import read_plan_text

    root = Path(__file__).resolve().parent
    plan = read_plan_text((root / "golden" / "hyperv-2x.plan.toml").read_text(encoding="utf-8"), "golden")
    assert any(v.strategy == "copy" for v in plan.volumes)
    return dataclasses.replace(plan, helper_image=helper)


def _helper_leftovers(e: Engine) -> str:
    from migrate.volumedigest import HELPER_LABEL

    return e.docker("ps", "-a", "-q", "--filter", f"label={HELPER_LABEL}").strip()


def test_validate_names_the_tools_the_plans_helper_image_lacks_on_the_engine(engine: Engine, images,
                                                                              scratch: Path) -> None:
    from migrate.pipeline import validate_plan
    from tests.simworld import inventory, report

    lacking = images("gnu-no-od-awk-2", gnu_rootfs(scratch / "probe-gnu-3.tar", omit=("od", "awk")))
    result = validate_plan(_golden_plan(lacking), inventory("hyperv-2x"), report("hyperv-2x"), "test", "plan.toml",
                           None, (engine.url, None))
    helper = [p for p in result.problems if p.subject == f"helper image {lacking}"]
    assert [(p.check, p.severity) for p in helper] == [("resources", "fail")]
    assert "od (digest), awk (digest)" in helper[0].message and not result.passed
    assert _helper_leftovers(engine) == ""


def test_validate_passes_a_helper_image_with_every_tool(engine: Engine, rich: Population) -> None:
    from migrate.inventory.engine import probe_helper
    from migrate.validate.helper import helper_problems

    output = probe_helper(engine.url, None, rich.base)
    assert output is not None and missing_tools(output) == ()
    assert helper_problems(_golden_plan(rich.base), output, "") == []


def test_a_helper_image_the_engine_lacks_is_not_pulled_and_warns_not_checked(engine: Engine) -> None:
    from migrate.inventory.engine import probe_helper
    from migrate.validate.helper import helper_problems

    absent = "w2m-test/never-there:1"
    before = set(engine.docker("images", "-q", "--no-trunc").split())
    assert probe_helper(engine.url, None, absent) is None
    assert set(engine.docker("images", "-q", "--no-trunc").split()) == before and _helper_leftovers(engine) == ""
    (problem,) = helper_problems(_golden_plan(absent), None, "the engine does not have it yet; the run pulls it")
    assert problem.severity == "warn" and "not checked (the engine does not have it yet" in problem.message
