"""The rehearsal's backup and restore against the raw floor for the same data, side by side in one run.

    python bench/rehearse.py [--derived 8] [--base-mib 100] [--layer-mib 4] [--volumes 3] [--volume-mib 100]
                             [--small-files 50000]

Starts a source engine and, for each measurement, a fresh empty target engine in its own network namespace
(Debian's docker.io, as the tests do). The source gets a base image with `--base-mib` of random data and
`--derived` images committed on top of it (half stacked on each other, `--layer-mib` each, so they share layers),
a small busybox helper image, `--volumes` volumes of `--volume-mib` in 200 files each, and one volume of
`--small-files` files of 0-2 KB in 100-file package folders (a node_modules).

Measured, in one run and in this order:
  floor        one `docker save` of every image on the source, `docker load` of it into an empty target, and for
               each volume a helper `tar -c` out of the source and `tar -x` into a new volume on the target;
  rehearsal    the real CLI: `wsl2-migrate plan` then `wsl2-migrate rehearse PLAN --source --target --workdir`
               into another empty target; its per-step seconds are read from its stderr;
  floor again  as the first, into a third empty target (the page cache is warm for both floors and the rehearsal).
Prints the backup and restore phases (with the digest steps after the restore, which check what was restored)
against the mean floor, the ratio (target <= 1.3x), the digest steps' share, the whole rehearsal's wall time
(with its Python scans of both engines, which are not steps) and the load average before and after.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.engines import Engine, busybox_rootfs, start_engine, start_isolated_engine  # noqa: E402

HELPER = "bench/helper:1"
MIB = 1 << 20
STEP = re.compile(r"(\d+(?:\.\d+)?)\s*s\s+((?:preflight|freeze|backup|switch|restore|verify|cleanup)/\S+)")
"""A step line of the rehearse CLI: its seconds and its id (the status word before them is not needed)."""


def populate(e: Engine, work: Path, derived: int, base_mib: int, layer_mib: int, volumes: int, volume_mib: int,
             small_files: int) -> list[str]:
    """Images sharing layers and volumes of real data on the source; returns the volume names."""
    rnd = random.Random(9)
    e.docker("import", str(busybox_rootfs(work / "helper.tar")), HELPER)
    base = busybox_rootfs(work / "base.tar", {"opt/base.bin": rnd.randbytes(base_mib * MIB)})
    e.docker("import", "--change", 'CMD ["sh"]', str(base), "bench/base:1")
    base.unlink()
    parent = "bench/base:1"
    for i in range(derived):
        start = parent if i % 2 else "bench/base:1"  # half stack on the previous image, half on the base
        e.docker("run", "--name", f"b{i}", start, "sh", "-c",
                 f"dd if=/dev/urandom of=/opt/layer{i}.bin bs=1048576 count={layer_mib} 2>/dev/null")
        e.docker("commit", f"b{i}", f"bench/app{i}:1")
        e.docker("rm", f"b{i}")
        parent = f"bench/app{i}:1"
    names = []
    for v in range(volumes):
        name = f"data{v}"
        e.docker("volume", "create", name)
        root = Path(e.inspect(name)[0]["Mountpoint"])
        for f in range(200):
            (root / f"part{f:03d}.bin").write_bytes(rnd.randbytes(volume_mib * MIB // 200))
        names.append(name)
    e.docker("volume", "create", "node-modules")
    root = Path(e.inspect("node-modules")[0]["Mountpoint"])
    for i in range(small_files):
        d = root / f"pkg-{i // 100}" / "lib"
        if i % 100 == 0:
            d.mkdir(parents=True)
        (d / f"m{i % 100}.js").write_bytes(rnd.randbytes(rnd.randint(0, 2000)))
    return [*names, "node-modules"]


def floor(src: Engine, dst: Engine, volumes: list[str], work: Path) -> dict[str, float]:
    """The raw floor: one save, one load, a plain tar of each volume out and in."""
    work.mkdir(parents=True)
    refs = sorted(set(src.docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}}").split()))
    t = {}
    t0 = time.perf_counter()
    src.docker("save", "-o", str(work / "images.tar"), *refs)
    t1 = time.perf_counter()
    dst.docker("load", "-i", str(work / "images.tar"))
    t2 = time.perf_counter()
    for v in volumes:
        src.docker("run", "--rm", "--network", "none", "-v", f"{v}:/data:ro", "-v", f"{work}:/backup", HELPER,
                   "tar", "-c", "--numeric-owner", "-f", f"/backup/{v}.tar", "-C", "/data", ".")
    t3 = time.perf_counter()
    for v in volumes:
        dst.docker("volume", "create", v)
        dst.docker("run", "--rm", "--network", "none", "-v", f"{v}:/data", "-v", f"{work}:/backup:ro", HELPER,
                   "tar", "-x", "--numeric-owner", "-f", f"/backup/{v}.tar", "-C", "/data")
    t4 = time.perf_counter()
    t.update(save=t1 - t0, load=t2 - t1, tar_out=t3 - t2, tar_in=t4 - t3, total=t4 - t0)
    t["bytes"] = sum(p.stat().st_size for p in work.iterdir())
    return t


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "migrate", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=3600)


def rehearsal(src: Engine, dst: Engine, work: Path) -> tuple[dict[str, float], float]:
    """plan + rehearse through the CLI; the seconds of every step by id, and the rehearse command's wall time."""
    work.mkdir(parents=True)
    plan = work / "plan.toml"
    res = cli("plan", "--host", src.url, "-o", str(plan))
    if res.returncode != 0:
        raise SystemExit(f"plan failed: {res.stderr[-2000:]}")
    text = plan.read_text(encoding="utf-8")
    text = re.sub(r'(?m)^helper_image = ".*"$', f'helper_image = "{HELPER}"', text, count=1)
    text = re.sub(r"(?m)^helper_pull = true$", "helper_pull = false", text, count=1)
    plan.write_text(text, encoding="utf-8")
    t0 = time.perf_counter()
    res = cli("rehearse", str(plan), "--source", src.url, "--target", dst.url, "--workdir", str(work / "backup"))
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        raise SystemExit(f"rehearse exited {res.returncode}: {res.stderr[-3000:]}")
    steps = {m.group(2): float(m.group(1)) for m in map(STEP.search, res.stderr.splitlines()) if m}
    if not any(s.startswith("backup/volume/") for s in steps):
        raise SystemExit(f"no step timings found in the rehearse output:\n{res.stderr[-3000:]}")
    return steps, wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--derived", type=int, default=8)
    ap.add_argument("--base-mib", type=int, default=100)
    ap.add_argument("--layer-mib", type=int, default=4)
    ap.add_argument("--volumes", type=int, default=3)
    ap.add_argument("--volume-mib", type=int, default=100)
    ap.add_argument("--small-files", type=int, default=50_000)
    ap.add_argument("--steps", action="store_true", help="also print every rehearsal step's seconds")
    args = ap.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="w2m-bench-", dir="/tmp") as d:
        work = Path(d)
        src = start_engine(work / "src")
        try:
            volumes = populate(src, work, args.derived, args.base_mib, args.layer_mib, args.volumes,
                               args.volume_mib, args.small_files)
            runs = []
            for n, what in enumerate(("floor", "rehearsal", "floor")):
                dst = start_isolated_engine(work / f"dst{n}")
                try:
                    runs.append(floor(src, dst, volumes, work / f"floor{n}") if what == "floor"
                                else rehearsal(src, dst, work / "rehearsal"))
                finally:
                    dst.stop()
        finally:
            src.stop()
    load_after = os.getloadavg()
    floors = (runs[0], runs[2])
    steps, wall = runs[1]

    def phase(prefix: str) -> float:
        return sum(s for i, s in steps.items() if i.startswith(prefix))

    backup, restore = phase("backup/"), phase("restore/")
    volumes = phase("backup/volume/") + phase("restore/volume-data/")
    moved = backup + restore
    base = sum(f["total"] for f in floors) / 2
    print(f"data: {len(steps)} steps; {args.derived + 2} images ({args.base_mib} MiB base, {args.derived} derived "
          f"of {args.layer_mib} MiB), {args.volumes} volumes of {args.volume_mib} MiB in 200 files, one of "
          f"{args.small_files} small files; floor archives {floors[0]['bytes'] / MIB:.0f} MiB")
    print(f"rehearsal  backup {backup:6.1f} s (volume copies with their digests {phase('backup/volume/'):.1f}, "
          f"re-check of the backups {phase('backup/verify'):.1f})")
    print(f"           restore {restore:5.1f} s (volume copies with their digests {phase('restore/volume-data/'):.1f})")
    print(f"           backup + restore {moved:6.1f} s")
    for n, f in enumerate(floors, 1):
        print(f"floor {n}    save {f['save']:.1f} + load {f['load']:.1f} + tar out {f['tar_out']:.1f} + "
              f"tar in {f['tar_in']:.1f} = {f['total']:.1f} s")
    print(f"ratio      {moved / base:.2f}x the mean floor ({base:.1f} s); target <= 1.3x")
    print(f"volumes    {volumes:.1f} s = {100 * volumes / moved:.0f}% of backup + restore (each volume is copied and "
          "digested in one helper container per side)")
    print(f"whole      `rehearse` wall time {wall:.1f} s ({wall / base:.2f}x the floor), with its digest scans "
          f"of both engines and verify/target {phase('verify/target'):.1f} s")
    if args.steps:
        for i, sec in steps.items():
            print(f"  {sec:6.1f} s  {i}")
    print(f"load avg   {load_before[0]:.2f} before, {load_after[0]:.2f} after (1 min; {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
