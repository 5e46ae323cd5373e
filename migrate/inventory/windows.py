"""On Windows: gather host facts with one PowerShell call (the collector's own host-facts part)."""
from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from migrate import __version__
from migrate.model import HostFacts


def gather_host_facts() -> HostFacts | None:
    """Run the collector with -HostFactsOnly in Windows PowerShell and read the facts.json it writes."""
    from migrate.emit.collector import render_collector
    from migrate.inventory.host import read_host_facts

    with tempfile.TemporaryDirectory(prefix="wsl2-migrate-") as tmp:
        script = Path(tmp) / "collect.ps1"
        # A BOM makes Windows PowerShell 5.1 read the script as UTF-8 rather than the ANSI code page.
        script.write_text(render_collector(__version__), encoding="utf-8-sig")
        out = Path(tmp) / "bundle"
        try:
            subprocess.run(
                ["powershell.exe", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass",
                 "-File", str(script), "-OutputDir", str(out), "-HostFactsOnly"],
                check=False, capture_output=True, timeout=300,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        facts = out / "host" / "facts.json"
        return read_host_facts(facts) if facts.is_file() else None
