"""Image archive bytes and planning time, measured side by side in one run.

    python bench/plan.py [--derived 8] [--layer-kib 512] [--objects 10000]

Part 1 (a real engine, Debian's docker.io started as the tests do): one imported base image and `--derived` images
committed from it, some on top of each other, each adding `--layer-kib` of random data, so they share base layers.
Scans the engine, plans, and runs the plan's own `docker save` steps; then saves one archive per image. Prints the
bytes of the planned archives, the plan's unique-layer lower bound (from image sizes alone), and the one-archive-per-
image bytes, with the ratios.

Part 2 (no engine): a synthetic inventory of `--objects` objects (a quarter each images, containers, volumes,
networks, with shared layers and dependencies). Times reading the inventory JSON, then decide + plan.toml + steps,
and prints planning time and its ratio to the time of reading the inventory.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
import time
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from migrate.inventory.scan import ScanOptions, scan
from migrate.model import Attachment, Container, Image, Inventory, Mount, Network, Volume, dumps, loads
from migrate.plan.build import build_steps
from migrate.plan.decide import decide
from migrate.plan import tomlfast
from migrate.plan.planfile import parse_plan, render_plan
from migrate.plan.steps import resolve_arg
from tests.engines import busybox_rootfs, start_engine


def archive_bytes(derived: int, layer_kib: int, work: Path) -> None:
    """Part 1: planned archives vs lower bound vs one archive per image, on a real engine."""
    e = start_engine(work / "engine")
    try:
        e.docker("import", str(busybox_rootfs(work / "rootfs.tar")), "bench/base:1")
        parent = "bench/base:1"
        for i in range(derived):
            base = parent if i % 2 else "bench/base:1"  # half stack on the previous image, half on the base
            e.docker("run", "--name", f"b{i}", base, "sh", "-c",
                     f"dd if=/dev/urandom of=/data{i} bs=1024 count={layer_kib} 2>/dev/null")
            e.docker("commit", f"b{i}", f"bench/app{i}:1")
            e.docker("rm", f"b{i}")
            parent = f"bench/app{i}:1"
        inv = scan(ScanOptions(host=e.url), "bench")
        inv = dataclasses.replace(inv, containers=())
        plan = decide(inv, None, "bench")
        plan = dataclasses.replace(plan, images=tuple(dataclasses.replace(p, strategy="save")
                                                      if p.strategy != "skip" else p for p in plan.images))
        text, _ = render_plan(plan)
        from migrate.plan import archives as arch
        saved = [arch.SavedImage(im.id, im.layers, im.size) for im in inv.images
                 if any(p.id == im.id and p.strategy == "save" for p in plan.images)]
        groups = arch.group(saved)
        planned_est, lower, per_image_est = arch.estimate(saved)
        backup = work / "backup"
        (backup / "images").mkdir(parents=True)
        by_id = {p.id: p for p in parse_plan(text).images}
        planned = 0
        for n, grp in enumerate(groups, 1):
            path = backup / "images" / f"images-{n:02d}.tar"
            refs = [t for i in grp for t in (by_id[i].tags or (i,))]
            e.docker("save", "-o", str(path), *refs)
            planned += path.stat().st_size
        steps = [s for s in build_steps(parse_plan(text)) if s.argv[:1] == ("save",)]
        assert len(steps) == len(groups), "the plan's save steps are the groups measured here"
        for s in steps:
            assert [resolve_arg(a, str(backup)) for a in s.argv][3:] == [
                t for i in groups[steps.index(s)] for t in (by_id[i].tags or (i,))]
        per_image = 0
        for i, im in enumerate(saved):
            path = work / f"one-{i}.tar"
            e.docker("save", "-o", str(path), *(by_id[im.id].tags or (im.id,)))
            per_image += path.stat().st_size
            path.unlink()
        mib = 1024 * 1024
        print(f"images: {len(saved)} ({derived} derived from one base, {layer_kib} KiB of new data each), "
              f"{len(groups)} planned archive(s)")
        print(f"  planned archives (measured)   {planned / mib:9.2f} MiB")
        print(f"  unique-layer lower bound      {lower / mib:9.2f} MiB (plan's estimate {planned_est / mib:.2f} MiB)")
        print(f"  one archive per image         {per_image / mib:9.2f} MiB (sizes sum {per_image_est / mib:.2f} MiB)")
        print(f"  planned / lower bound         {planned / lower:9.3f}x")
        print(f"  one-per-image / planned       {per_image / planned:9.3f}x")
    finally:
        e.stop()


def synthetic(objects: int) -> Inventory:
    """An inventory with objects/4 each of images, containers, volumes and networks."""
    q = max(1, objects // 4)
    images = tuple(Image(f"sha256:{i:064x}", tags=(f"team/app{i}:1",), os="linux", size=10_000_000 + i,
                         layers=("sha256:base", f"sha256:mid{i % 50}", f"sha256:top{i}"),
                         repo_digests=(f"team/app{i}@sha256:{i:064x}",) if i % 2 else ())
                   for i in range(q))
    networks = tuple(Network(f"net{i}", id=f"{i:064x}", driver="bridge") for i in range(q))
    volumes = tuple(Volume(f"vol{i}", size=1000 + i, users=(f"c{i}",)) for i in range(q))
    containers = tuple(Container(
        f"{i:064x}", f"/c{i}", f"team/app{i}:1", image_id=f"sha256:{i:064x}", running=bool(i % 3),
        env=(f"K{i}=v",), labels={"team": "x"}, networks=(Attachment(f"net{i}"),),
        mounts=(Mount("volume", f"/var/lib/docker/volumes/vol{i}/_data", "/data", name=f"vol{i}"),),
        # A link needs its peer running when the container starts (docker start fails otherwise).
        links=(f"/c{i - 1}:/c{i}/prev",) if i and (i - 1) % 3 else (),
        depends_on=(f"c{i - 1}",) if i and (i - 1) % 3 else ())
        for i in range(q))
    return Inventory(images=images, containers=containers, volumes=volumes, networks=networks)


def planning_time(objects: int, repeat: int) -> None:
    """Part 2: decide + plan.toml + steps for a large inventory, against reading the same inventory."""
    text = dumps(synthetic(objects))
    reads, plans, read_cpu, plan_cpu = [], [], [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        inv = loads(text)
        t1, c1 = time.perf_counter(), time.process_time()
        plan_text, _ = render_plan(decide(inv, None, "bench"))
        steps = build_steps(parse_plan(plan_text))
        t2, c2 = time.perf_counter(), time.process_time()
        reads.append(t1 - t0)
        plans.append(t2 - t1)
        read_cpu.append(c1 - c0)
        plan_cpu.append(c2 - c1)
    r, p = statistics.median(reads), statistics.median(plans)
    print(f"planning {objects} objects ({len(steps)} steps, {len(plan_text) // 1024} KiB plan.toml), "
          f"median of {repeat}:")
    print(f"  read inventory JSON   {r:7.3f} s")
    print(f"  plan (decide, toml, parse, steps) {p:7.3f} s  = {p / r:.2f}x reading the inventory (target <= 1.5x; "
          f"CPU time {statistics.median(plan_cpu) / statistics.median(read_cpu):.2f}x)")
    slow, quick = [], []
    for _ in range(repeat):  # the plan.toml reader against tomllib on the same text, side by side
        t0 = time.perf_counter()
        expected = tomllib.loads(plan_text)
        t1 = time.perf_counter()
        got = tomlfast.loads(plan_text)
        t2 = time.perf_counter()
        slow.append(t1 - t0)
        quick.append(t2 - t1)
    assert got == expected, "tomlfast read the plan differently from tomllib"
    s, q = statistics.median(slow), statistics.median(quick)
    print(f"  read plan.toml: tomllib {s:.3f} s, tomlfast {q:.3f} s = {s / q:.1f}x faster")


def scale(containers: int) -> None:
    """Part 3: plan, validate and runbook for an inventory of `containers` containers (and as many images,
    volumes and networks in all), each against the time of reading the same inventory JSON."""
    import datetime

    from migrate.assess import assess, load_catalog
    from migrate.assess.config import Config
    from migrate.pipeline import runbook_for
    from migrate.validate import validate

    text = dumps(synthetic(4 * containers))
    wall: list[float] = []
    cpu: list[float] = []

    def mark() -> None:
        wall.append(time.perf_counter())
        cpu.append(time.process_time())

    mark()
    inv = loads(text)
    mark()
    plan_text, _ = render_plan(decide(inv, None, "bench"))
    plan = parse_plan(plan_text)
    mark()
    report = assess(inv, load_catalog([]), Config(), datetime.date(2026, 1, 1), "bench")
    mark()
    result = validate(plan, inv, report, tool_version="bench")
    mark()
    runbook = runbook_for(plan_text, "plan.toml", "bench")
    mark()
    read, read_cpu = wall[1] - wall[0], cpu[1] - cpu[0]
    assert runbook.text and result.steps, "the synthetic plan validates and has a runbook"
    print(f"{containers} containers ({result.steps} steps, {len(plan_text) >> 20} MiB plan.toml, "
          f"{len(runbook.text) >> 20} MiB runbook):")
    print(f"  read inventory JSON {read:7.2f} s (CPU {read_cpu:.2f} s)")
    # CPU time beside the wall clock: on a shared machine the two sides of a ratio may see different load.
    for name, at in (("plan (decide, toml, parse)", 1), ("validate (without assess)", 3),
                     ("runbook (offline checks, render)", 4)):
        seconds, used = wall[at + 1] - wall[at], cpu[at + 1] - cpu[at]
        print(f"  {name:34} {seconds:7.2f} s = {seconds / read:.2f}x reading the inventory (target <= 2x; "
              f"CPU time {used / read_cpu:.2f}x)")
    print(f"  (assess {wall[3] - wall[2]:.2f} s, not part of the targets)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--derived", type=int, default=8)
    ap.add_argument("--layer-kib", type=int, default=512)
    ap.add_argument("--objects", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--scale", type=int, nargs="*", default=[10_000, 100_000],
                    help="container counts for part 3 (plan, validate, runbook against reading the inventory)")
    ap.add_argument("--skip-engine", action="store_true", help="leave out part 1 (it needs dockerd)")
    args = ap.parse_args()
    if not args.skip_engine:
        with tempfile.TemporaryDirectory(prefix="w2m-bench-", dir="/tmp") as d:
            archive_bytes(args.derived, args.layer_kib, Path(d))
    planning_time(args.objects, args.repeat)
    for n in args.scale:
        scale(n)
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
