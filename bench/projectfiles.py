"""Benchmark: scan_projects against bare reads, on a 20,000-file tree and on a tree of pathological long lines.

Two trees, each timed in the same run as the baseline it is compared with:
- a 20,000-file project tree (mostly node_modules and .git): scan_projects against an os.walk count;
- a tree of 2 MB one-line files built to make backtracking patterns slow (`:/ +/a/+/a/...`, `--context x
  docker docker ...`, a long minified line holding a Windows path and image names): scan_projects against a bare
  read of every file's bytes (target <= 1.5x).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from migrate.inventory.projectfiles import MAX_BYTES, scan_projects

TOTAL = 20_000
LONG_FILES = 24
LONG_SIZE = MAX_BYTES - 1024


def build(root: Path) -> int:
    """Write a project tree of TOTAL files; return how many are project files the scan must read."""
    own = 0
    body = "docker run --platform linux -v C:\\data:/data img\n" + "echo build step\n" * 40
    for i in range(TOTAL):
        if i % 10 < 6:
            rel = f"web/node_modules/pkg{i % 700}/lib/f{i}.js"
        elif i % 10 < 9:
            rel = f".git/objects/{i % 256:02x}/{i:038x}"
        elif i % 50 == 9:
            rel = f"scripts/s{i}.ps1"
            own += 1
        else:
            rel = f"src/mod{i % 40}/f{i}.py"
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
    return own


_PATHOLOGICAL = (
    ("run.sh", ":/ " + "+/a/" * (LONG_SIZE // 4)),
    ("ctx.sh", "--context x " + "docker " * (LONG_SIZE // 7)),
    ("mounts.ps1", "-v " + "C:\\a" * (LONG_SIZE // 4)),
    ("compose.yml", "x: " + "\"/c/a " * (LONG_SIZE // 6)),
    ("images.ps1", "docker run " + "nanoserver/" * (LONG_SIZE // 11)),
    ("Dockerfile", "RUN " + "cp ./a:/b && " * (LONG_SIZE // 13)),
)


def build_long(root: Path) -> int:
    """Write LONG_FILES pathological files of about 2 MB each; return their total size."""
    total = 0
    for i in range(LONG_FILES):
        name, text = _PATHOLOGICAL[i % len(_PATHOLOGICAL)]
        path = root / f"p{i:02d}" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
        total += path.stat().st_size
    return total


def bare_read(root: Path) -> int:
    """Read every file's bytes (the floor any scan pays)."""
    n = 0
    for dirpath, _, files in os.walk(root):
        for f in files:
            with open(os.path.join(dirpath, f), "rb") as fh:
                n += len(fh.read())
    return n


def main() -> None:
    """Print both comparisons; medians of --repeat runs, measured side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "tree"
        own = build(root)
        walks, scans = [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            count = sum(len(files) for _, _, files in os.walk(root))
            walks.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            files, facts, notes = scan_projects([root])
            scans.append(time.perf_counter() - t0)
        assert count == TOTAL and len(files) == own, (count, len(files), own)
        t_walk, t_scan = statistics.median(walks), statistics.median(scans)
        print(f"tree: {count} files, {own} project files, {len(facts)} facts, {len(notes)} notes")
        print(f"os.walk count:  {t_walk * 1000:8.1f} ms")
        print(f"scan_projects:  {t_scan * 1000:8.1f} ms  ({t_scan / t_walk:.2f}x os.walk)")

        long_root = Path(tmp) / "long"
        size = build_long(long_root)
        reads, scans = [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            assert bare_read(long_root) == size
            reads.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            files, facts, notes = scan_projects([long_root])
            scans.append(time.perf_counter() - t0)
        t_read, t_scan = statistics.median(reads), statistics.median(scans)
        print(f"long lines: {len(files)} files, {size / 1e6:.1f} MB, {len(facts)} facts, {len(notes)} notes")
        print(f"bare read:      {t_read * 1000:8.1f} ms")
        print(f"scan_projects:  {t_scan * 1000:8.1f} ms  ({t_scan / t_read:.2f}x a bare read; target <= 1.5x)")


if __name__ == "__main__":
    main()
