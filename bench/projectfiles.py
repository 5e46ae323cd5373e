"""Benchmark: scan_projects on a 20,000-file tree (mostly node_modules and .git) against an os.walk count."""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from migrate.inventory.projectfiles import scan_projects

TOTAL = 20_000


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


def main() -> None:
    """Print the scan time, the os.walk time and their ratio."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        own = build(root)
        t0 = time.perf_counter()
        count = sum(len(files) for _, _, files in os.walk(root))
        t_walk = time.perf_counter() - t0
        t0 = time.perf_counter()
        files, facts, notes = scan_projects([root])
        t_scan = time.perf_counter() - t0
    assert count == TOTAL and len(files) == own, (count, len(files), own)
    print(f"tree: {count} files, {own} project files, {len(facts)} facts, {len(notes)} notes")
    print(f"os.walk count:  {t_walk * 1000:8.1f} ms")
    print(f"scan_projects:  {t_scan * 1000:8.1f} ms  ({t_scan / t_walk:.2f}x os.walk)")


if __name__ == "__main__":
    main()
