"""The rehearsal's backup and restore against the raw floor for the same data, side by side in one run.

    python bench/rehearse.py [--derived 8] [--base-mib 100] [--layer-mib 4] [--volumes 3] [--volume-mib 100]
                             [--small-files 50000] [--warm] [--steps]

Starts a source engine and, for each measurement, a fresh empty target engine in its own network namespace
(Debian's docker.io, as the tests do). The source gets a base image with `--base-mib` of random data and
`--derived` images committed on top of it (half stacked on each other, `--layer-mib` each, so they share layers),
a small busybox helper image, `--volumes` volumes of `--volume-mib` in 200 files each, and one volume of
`--small-files` files of 0-2 KB in 100-file package folders (a node_modules).

Measured, in one run and in this order, each in two phases, backup and restore:
  floor        backup: one `docker save` of every image on the source and, for each volume, a helper `tar -c` out
               of the source; restore: `docker load` of it into an empty target and, for each volume, a new volume
               and a helper `tar -x` into it;
  rehearsal    the real CLI: `wsl2-migrate plan`, then `wsl2-migrate rehearse PLAN --source --target --workdir`
               into another empty target, stopped (`--stop-after`) before the first backup step, after the last
               one, before the first restore step and after the last one, and resumed (`--resume`) each time;
               a phase is the sum of its steps' seconds, read from the CLI's stderr (every backup and restore step:
               saves, volume copies with their digests, the re-check of the backups, loads, tags, volume creation,
               restores with the digest of what was restored, helper checks);
  floor again  as the first, into a third empty target.
The same for every measured phase, floor and rehearsal alike: before it, `sync` and (unless --warm) the page cache
dropped (`/proc/sys/vm/drop_caches`, the dentries and inodes with it), not counted; at its end a `sync`, counted
in it, so a phase is done when its data is on disk. Every phase thus starts from the same state: nothing of an
earlier phase left to write back or cached. Why: without it the later floor's `tar -x` of the same data took
3.1 s in one floor and 11.2 s in the next. The writeback is not what differs (the closing syncs take under 0.1 s
on this disk): with --warm (sync only) the second floor's restore still took 13.7-14.4 s against 4.6-11.2 s for
the first, while with the cache dropped every floor's restore takes 4.9-5.2 s; creating 50,000 files is what
slows down when the page cache is full of what the earlier phases read and wrote.
Prints each phase of both against the mean floor, the ratio (target <= 1.3x), where the difference goes (per
volume and per kind of step), and the load average before and after (the page cache needs root to drop).
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
STEP = re.compile(r"^(\w+)\s+(\d+(?:\.\d+)?)\s*s\s+((?:preflight|freeze|backup|switch|restore|verify|cleanup)/\S+)")
"""A step line of the rehearse CLI: its status, seconds and id."""
PHASES = ("backup", "restore")


def settle(cold: bool) -> None:
    """Where every measured phase starts: nothing left to write back and (cold) nothing in the page cache."""
    os.sync()
    if cold:
        try:
            Path("/proc/sys/vm/drop_caches").write_text("3\n")
        except OSError as exc:
            raise SystemExit(f"/proc/sys/vm/drop_caches: {exc.strerror}: run as root, or with --warm") from None


def flushed() -> float:
    """The seconds of a phase's closing `sync`: its data on disk."""
    t0 = time.perf_counter()
    os.sync()
    return time.perf_counter() - t0


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


def floor(src: Engine, dst: Engine, volumes: list[str], work: Path, cold: bool) -> dict[str, float]:
    """The raw floor: one save and a plain tar of each volume out (backup), one load and a tar of each in
    (restore); per part and per volume seconds, each phase with its closing sync."""
    work.mkdir(parents=True)
    refs = sorted(set(src.docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}}").split()))
    t: dict[str, float] = {}
    settle(cold)
    t0 = time.perf_counter()
    src.docker("save", "-o", str(work / "images.tar"), *refs)
    t["save"] = time.perf_counter() - t0
    for v in volumes:
        t1 = time.perf_counter()
        src.docker("run", "--rm", "--network", "none", "-v", f"{v}:/data:ro", "-v", f"{work}:/backup", HELPER,
                   "tar", "-c", "--numeric-owner", "-f", f"/backup/{v}.tar", "-C", "/data", ".")
        t[f"out/{v}"] = time.perf_counter() - t1
    t["backup_sync"] = flushed()
    t["backup"] = time.perf_counter() - t0
    settle(cold)
    t0 = time.perf_counter()
    dst.docker("load", "-i", str(work / "images.tar"))
    t["load"] = time.perf_counter() - t0
    for v in volumes:
        t1 = time.perf_counter()
        dst.docker("volume", "create", v)
        dst.docker("run", "--rm", "--network", "none", "-v", f"{v}:/data", "-v", f"{work}:/backup:ro", HELPER,
                   "tar", "-x", "--numeric-owner", "-f", f"/backup/{v}.tar", "-C", "/data")
        t[f"in/{v}"] = time.perf_counter() - t1
    t["restore_sync"] = flushed()
    t["restore"] = time.perf_counter() - t0
    t["tar_out"] = sum(t[f"out/{v}"] for v in volumes)
    t["tar_in"] = sum(t[f"in/{v}"] for v in volumes)
    t["total"] = t["backup"] + t["restore"]
    t["bytes"] = sum(p.stat().st_size for p in work.iterdir())
    return t


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "migrate", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=3600)


def phases(plan: Path) -> dict[str, tuple[str, str, set[str]]]:
    """For each measured phase: the step to stop after before it, its last step, and its steps' ids (each
    phase's steps follow each other in the program)."""
    from migrate.plan.build import build_program
    from migrate.plan.planfile import parse_plan

    steps = build_program(parse_plan(plan.read_text(encoding="utf-8"), str(plan))).steps
    out = {}
    for name in PHASES:
        at = [n for n, s in enumerate(steps) if s.phase == name]
        if not at or at[0] == 0 or at != list(range(at[0], at[-1] + 1)):
            raise SystemExit(f"the program's {name} steps do not follow each other after a first step")
        out[name] = (steps[at[0] - 1].id, steps[at[-1]].id, {steps[n].id for n in at})
    return out


def rehearsal(src: Engine, dst: Engine, work: Path, cold: bool) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """plan + rehearse through the CLI, stopped around each phase; by phase, the seconds of its steps by id and of
    its closing sync."""
    work.mkdir(parents=True)
    plan = work / "plan.toml"
    res = cli("plan", "--host", src.url, "-o", str(plan))
    if res.returncode != 0:
        raise SystemExit(f"plan failed: {res.stderr[-2000:]}")
    text = plan.read_text(encoding="utf-8")
    text = re.sub(r'(?m)^helper_image = ".*"$', f'helper_image = "{HELPER}"', text, count=1)
    text = re.sub(r"(?m)^helper_pull = true$", "helper_pull = false", text, count=1)
    plan.write_text(text, encoding="utf-8")
    bounds = phases(plan)
    steps: dict[str, dict[str, float]] = {}
    syncs: dict[str, float] = {}

    def run(*more: str) -> dict[str, float]:
        res = cli("rehearse", str(plan), "--source", src.url, "--target", dst.url, "--workdir", str(work / "backup"),
                  *more)
        if res.returncode != 0:
            raise SystemExit(f"rehearse {' '.join(more)} exited {res.returncode}: {res.stderr[-3000:]}")
        return {m.group(3): float(m.group(2)) for m in map(STEP.search, res.stderr.splitlines())
                if m and m.group(1) == "done"}

    run("--stop-after", bounds["backup"][0])
    for name, after in (("backup", bounds["restore"][0]), ("restore", "")):
        settle(cold)
        ran = run("--resume", "--stop-after", bounds[name][1])
        syncs[name] = flushed()
        if set(ran) != bounds[name][2]:
            raise SystemExit(f"the {name} run ran {sorted(ran)}, not its phase's steps {sorted(bounds[name][2])}")
        steps[name] = ran
        run("--resume", *(("--stop-after", after) if after else ()))  # switch, then verify and cleanup
    return steps, syncs


def kind(step_id: str) -> str:
    """A step's kind: its id up to the second '/' (backup/volume, restore/load, ...)."""
    return "/".join(step_id.split("/")[:2])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--derived", type=int, default=8)
    ap.add_argument("--base-mib", type=int, default=100)
    ap.add_argument("--layer-mib", type=int, default=4)
    ap.add_argument("--volumes", type=int, default=3)
    ap.add_argument("--volume-mib", type=int, default=100)
    ap.add_argument("--small-files", type=int, default=50_000)
    ap.add_argument("--warm", action="store_true", help="keep the page cache between phases (sync only)")
    ap.add_argument("--steps", action="store_true", help="also print every rehearsal step's seconds")
    args = ap.parse_args()
    cold = not args.warm
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="w2m-bench-", dir="/tmp") as d:
        work = Path(d)
        src = start_engine(work / "src")
        try:
            volumes = populate(src, work, args.derived, args.base_mib, args.layer_mib, args.volumes,
                               args.volume_mib, args.small_files)
            runs: list = []
            for n, what in enumerate(("floor", "rehearsal", "floor")):
                dst = start_isolated_engine(work / f"dst{n}")
                try:
                    runs.append(floor(src, dst, volumes, work / f"floor{n}", cold) if what == "floor"
                                else rehearsal(src, dst, work / "rehearsal", cold))
                finally:
                    dst.stop()
        finally:
            src.stop()
    load_after = os.getloadavg()
    floors = (runs[0], runs[2])
    by_phase, syncs = runs[1]
    steps = {i: s for ran in by_phase.values() for i, s in ran.items()}

    def mean(key: str) -> float:
        return sum(f[key] for f in floors) / 2

    moved = {name: sum(by_phase[name].values()) + syncs[name] for name in PHASES}
    total = sum(moved.values())
    base = mean("total")
    print(f"data: {args.derived + 2} images ({args.base_mib} MiB base, {args.derived} derived of {args.layer_mib} "
          f"MiB), {args.volumes} volumes of {args.volume_mib} MiB in 200 files, one of {args.small_files} small "
          f"files; floor archives {floors[0]['bytes'] / MIB:.0f} MiB; each phase starts after sync"
          f"{' and a dropped page cache' if cold else ' (page cache kept)'} and ends with its own sync, counted")
    print("seconds       backup (sync)   restore (sync)   total")
    rows = [("floor 1", floors[0]), ("rehearsal", {"backup": moved["backup"], "backup_sync": syncs["backup"],
                                                   "restore": moved["restore"], "restore_sync": syncs["restore"],
                                                   "total": total}), ("floor 2", floors[1])]
    for label, r in rows:
        print(f"{label:12} {r['backup']:6.1f} ({r['backup_sync']:4.1f})  {r['restore']:6.1f} ({r['restore_sync']:4.1f})"
              f"   {r['total']:6.1f}")
    print(f"ratio        {total / base:.2f}x the mean floor ({base:.1f} s); target <= 1.3x "
          f"(backup {moved['backup'] / mean('backup'):.2f}x, restore {moved['restore'] / mean('restore'):.2f}x)")
    print("where        rehearsal step (s) against the floor's same work (mean, s):")
    names = [k[4:] for k in floors[0] if k.startswith("out/")]
    twins = {f"backup/volume/{v}": ((f"backup/volume/{v}",), f"out/{v}") for v in names}
    # The floor's `tar -x` includes its `volume create`, the rehearsal has a step for each.
    twins |= {f"restore/volume(-data)/{v}": ((f"restore/volume/{v}", f"restore/volume-data/{v}"), f"in/{v}")
              for v in names}
    mine = {s for ids, _ in twins.values() for s in ids}
    for label, (ids, fk) in twins.items():
        sec = sum(steps.get(s, 0.0) for s in ids)
        print(f"  {label:38} {sec:5.1f}  vs {mean(fk):5.1f}  ({sec - mean(fk):+.1f})")
    others: dict[str, float] = {}
    for sid, sec in steps.items():
        if sid not in mine:
            others[kind(sid)] = others.get(kind(sid), 0.0) + sec
    floor_of = {"backup/save": mean("save"), "restore/load": mean("load")}
    for k, sec in sorted(others.items()):
        vs = f"  vs {floor_of[k]:5.1f}  ({sec - floor_of[k]:+.1f})" if k in floor_of else "  (no floor twin)"
        print(f"  {k + ' (all)':38} {sec:5.1f}{vs}")
    print(f"  {'closing syncs':38} {sum(syncs.values()):5.1f}  vs {mean('backup_sync') + mean('restore_sync'):5.1f}")
    if args.steps:
        for i, sec in steps.items():
            print(f"  {sec:6.1f} s  {i}")
    print(f"load avg     {load_before[0]:.2f} before, {load_after[0]:.2f} after (1 min; {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
