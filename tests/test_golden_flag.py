"""The golden-file update flag: only UPDATE_GOLDEN=1 writes, and a run that writes never passes."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(golden: Path, flag: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "UPDATE_GOLDEN"}
    env["WSL2_MIGRATE_GOLDEN_DIR"] = str(golden)
    if flag is not None:
        env["UPDATE_GOLDEN"] = flag
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/test_golden_reports.py", "-k", "inventory_and_reports and near-wsl2"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_only_update_golden_1_writes_and_writing_never_passes(tmp_path: Path) -> None:
    golden = tmp_path / "golden"
    shutil.copytree(ROOT / "tests" / "golden", golden)
    target = golden / "near-wsl2.table"
    good = target.read_bytes()
    target.write_bytes(good + b"corrupted\n")

    res = _run(golden, "0")
    assert res.returncode != 0 and "UPDATE_GOLDEN='0'" in res.stdout, res.stdout[-2000:]
    assert target.read_bytes() == good + b"corrupted\n"  # "0" is not "yes": nothing written

    res = _run(golden, "1")
    assert res.returncode != 0 and "near-wsl2.table rewritten" in res.stdout, res.stdout[-2000:]
    assert target.read_bytes() == good

    res = _run(golden, None)
    assert res.returncode == 0, res.stdout[-2000:]
