"""Scan memory at scale: `scan --bundle` of an N-container bundle, peak memory beside the inventory's size.

    python bench/scan_memory.py [--n 100000]

Writes a bundle whose engine/containers.json holds N containers (docker inspect output of the hyperv-2x sample's
containers, each copy with its own id, name, env values, labels and mounts), runs `wsl2-migrate scan --bundle DIR -o
inventory.json` in a child process, and prints the child's peak resident memory (ru_maxrss), the size of the
inventory it wrote, and their ratio (target <= 2x).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "hyperv-2x"


def write_bundle(root: Path, n: int) -> None:
    """A bundle of the sample's files with n containers, written one container at a time."""
    shutil.copytree(SAMPLE, root)
    templates = json.loads((SAMPLE / "engine" / "containers.json").read_text(encoding="utf-8-sig"))
    with open(root / "engine" / "containers.json", "w", encoding="utf-8") as fh:
        fh.write("[\n")
        for i in range(n):
            c = json.loads(json.dumps(templates[i % len(templates)]))
            cid = hashlib.sha256(f"container {i}".encode()).hexdigest()
            c["Id"], c["Name"] = cid, f"/bench_{i}"
            c["Config"]["Hostname"] = cid[:12]
            c["Config"]["Env"] = [*(c["Config"].get("Env") or []), f"BENCH_TOKEN=secret-{i}", f"INDEX={i}"]
            c["Config"]["Labels"] = {**(c["Config"].get("Labels") or {}), "bench.index": str(i)}
            # Links and container: modes name other containers of the template set; keep them self-contained.
            c["HostConfig"]["NetworkMode"] = "bridge"
            c["HostConfig"]["Links"] = None
            c["HostConfig"]["VolumesFrom"] = None
            fh.write(("," if i else "") + json.dumps(c, indent=4) + "\n")
        fh.write("]\n")
    (root / "engine" / "df.json").write_text("{}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="containers in the bundle (default 100000)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="w2m-scanmem-", dir="/tmp"))
    try:
        bundle = work / "bundle"
        t = time.perf_counter()
        write_bundle(bundle, args.n)
        size_in = (bundle / "engine" / "containers.json").stat().st_size
        print(f"bundle: {args.n} containers, containers.json {size_in / 1e6:.0f} MB, written in "
              f"{time.perf_counter() - t:.1f} s")
        out = work / "inventory.json"
        env = dict(os.environ, PYTHONPATH=str(ROOT), WSL2_MIGRATE_DIGEST_KEY="bench")
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "migrate", "scan", "--bundle", str(bundle), "-q", "-o", str(out)],
                       check=True, env=env)
        seconds = time.perf_counter() - t
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        size = out.stat().st_size
        print(f"scan: {seconds:.1f} s, peak memory {peak / 1e6:.0f} MB, inventory {size / 1e6:.0f} MB: "
              f"peak / inventory = {peak / size:.2f}x (target <= 2x); load average {os.getloadavg()[0]:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
