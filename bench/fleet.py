"""Fleet roll-up speed and memory, side by side with assessing the same bundles one `wsl2-migrate assess` at a time.

    python bench/fleet.py                          # N=100 and N=1000, every bundle also assessed one at a time
    python bench/fleet.py --machines 100 1000 --sequential 200   # time 200 single runs per N, scale to N
    python bench/fleet.py --machines 40 --demo out # make 40 varied bundles and their fleet report in out/
    python bench/fleet.py --machines 40 --demo out --screenshot docs/fleet-index.png   # the README's picture

For each N it generates N varied zipped bundles from the samples (tests/fleetgen.py: random backends, versions,
builds, WSL states, sizes, a few hostile names and broken bundles), then times in one run:
  fleet       `wsl2-migrate fleet SHARE -o OUT` (one process, a worker per CPU), wall time and the peak resident
              memory of any of its processes (the parent or a worker);
  one-by-one  `wsl2-migrate assess --bundle B --format json -o B.json` for every bundle, one process at a time
              (what a script looping over a share does today).
It checks that the fleet's totals equal the sums over the one-by-one reports, and (when Debian's chromium is
installed) that a real headless Chromium renders the largest index without a console error, showing every machine;
then prints both routes per N.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fleetgen import generate

TARGET_SECONDS = 30.0
"""1,000 bundles rolled up on this project's 2-core machine."""


def _cli() -> list[str]:
    script = Path(sys.executable).parent / "wsl2-migrate"
    return [str(script)] if script.exists() else [sys.executable, "-m", "migrate"]


def run_fleet(share: Path, out: Path, jobs: int) -> tuple[float, float]:
    """Seconds and peak RSS (MiB) of one `fleet` run, its workers included."""
    args = [*_cli(), "fleet", str(share), "-o", str(out)] + (["--jobs", str(jobs)] if jobs else [])
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    err = proc.stderr.read().decode() if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"fleet failed ({proc.returncode}): {err}")
    # ru_maxrss (KiB on Linux) of a waited child is the largest of it and the descendants it waited for.
    return seconds, usage.ru_maxrss / 1024


def run_one_by_one(bundles: list[Path], out: Path, limit: int) -> tuple[float, int, dict[str, int]]:
    """Seconds for `limit` single assess runs (all when limit is 0), how many ran, and the sums of their reports."""
    out.mkdir(parents=True, exist_ok=True)
    chosen = bundles if limit <= 0 else bundles[:limit]
    sums = {"bytes_to_move": 0, "estimated_seconds": 0, "assessed": 0}
    start = time.perf_counter()
    for k, bundle in enumerate(chosen):
        target = out / f"{k}.json"
        subprocess.run([*_cli(), "assess", "--bundle", str(bundle), "--format", "json", "-o", str(target)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    seconds = time.perf_counter() - start
    for target in out.glob("*.json"):
        doc = json.loads(target.read_text(encoding="utf-8"))
        sums["bytes_to_move"] += doc["bytes_to_move"]
        sums["estimated_seconds"] += doc["estimated_seconds"]
        sums["assessed"] += 1
    return seconds, len(chosen), sums


def browser_check(out: Path, totals: dict) -> None:
    """The index in a real headless Chromium: no console error, every machine in the table, the totals shown."""
    if shutil.which("chromium") is None:
        print("chromium is not installed: browser check skipped (scripts/test.sh installs it)")
        return
    from tests.browser import Browser

    with Browser() as browser:
        browser.open((out / "index.html").as_uri())
        shown = browser.evaluate("({rows: document.querySelectorAll('#machine-table tbody tr').length, "
                                 "bytes: Number(document.getElementById('total-bytes').dataset.v)})")
        problems = browser.problems()
    assert problems == [], problems
    assert shown == {"rows": totals["machines"], "bytes": totals["bytes_to_move"]}, shown
    size = (out / "index.html").stat().st_size
    print(f"chromium: index.html ({size / 1e6:.1f} MB) of {shown['rows']} machines rendered, no console error")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--machines", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--sequential", type=int, default=0,
                        help="single assess runs to time per N (0: all of them; fewer are scaled to N)")
    parser.add_argument("--jobs", type=int, default=0, help="fleet workers (default: one per CPU)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--demo", type=Path, help="write N bundles and their fleet report into this folder")
    parser.add_argument("--screenshot", type=Path, help="with --demo: a PNG of the top of the index page")
    args = parser.parse_args()

    if args.demo is not None:
        n = args.machines[0]
        made = generate(args.demo / "bundles", n, seed=args.seed, broken_every=20)
        seconds, _ = run_fleet(args.demo / "bundles", args.demo / "fleet", args.jobs)
        print(f"{len(made)} bundles in {args.demo / 'bundles'}; fleet report in {seconds:.1f} s: "
              f"open {(args.demo / 'fleet' / 'index.html').resolve().as_uri()}")
        if args.screenshot is not None:
            from tests.browser import Browser

            with Browser() as browser:
                browser.open((args.demo / "fleet" / "index.html").resolve().as_uri(), width=1280, height=1500)
                browser.screenshot(args.screenshot, full_page=False)
            print(f"screenshot in {args.screenshot}")
        return

    rows = []
    work = Path(tempfile.mkdtemp(prefix="w2m-bench-fleet-"))
    try:
        for n in args.machines:
            share = work / f"share-{n}"
            made = generate(share, n, seed=args.seed)
            fleet_s, rss = run_fleet(share, work / f"out-{n}", args.jobs)
            totals = json.loads((work / f"out-{n}" / "fleet.json").read_text(encoding="utf-8"))["totals"]
            seq_s, ran, sums = run_one_by_one([m.path for m in made], work / f"single-{n}", args.sequential)
            if ran == n:  # the same bundles, the same numbers
                assert sums["bytes_to_move"] == totals["bytes_to_move"], (sums, totals)
                assert sums["estimated_seconds"] == totals["estimated_seconds"], (sums, totals)
                assert sums["assessed"] == n - totals["verdicts"]["could-not-read"]
            seq_total = seq_s * n / ran
            rows.append((n, fleet_s, rss, seq_total, ran))
            if n == max(args.machines):
                browser_check(work / f"out-{n}", totals)
            shutil.rmtree(share)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"cpus {os.cpu_count()}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'machines':>8} | {'fleet s':>8} | {'ms/machine':>10} | {'peak RSS MiB':>12} | "
          f"{'one-by-one s':>12} | {'fleet speed-up':>14}")
    for n, fleet_s, rss, seq_total, ran in rows:
        note = "" if ran == n else f" (timed {ran}, scaled)"
        print(f"{n:>8} | {fleet_s:>8.2f} | {1000 * fleet_s / n:>10.1f} | {rss:>12.1f} | {seq_total:>12.1f} | "
              f"{seq_total / fleet_s:>13.1f}x{note}")
    big = max(rows)
    small = min(rows)
    if big[0] >= 1000:
        verdict = "met" if big[1] <= TARGET_SECONDS else "MISSED"
        print(f"target: {big[0]} bundles in <= {TARGET_SECONDS:.0f} s: {big[1]:.1f} s ({verdict})")
    if big[0] != small[0]:
        print(f"peak memory at N={big[0]} / N={small[0]}: {big[2] / small[2]:.2f}x (flat is 1.0x)")


if __name__ == "__main__":
    main()
