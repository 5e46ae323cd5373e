"""On Windows: gather host facts with one PowerShell call (the collector's own host-facts part); a failure is a
blind spot with its reason, never silence."""
from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

from migrate import __version__
from migrate.errors import InputError
from migrate.model import HostFacts, Note

TIMEOUT = 300
"""Seconds PowerShell may take (WMI and Get-WindowsOptionalFeature can be slow on a loaded machine)."""


def _blind(message: str) -> Note:
    return Note(area="host", subject="powershell.exe", message=f"no host facts: {message}")


def _first_line(data: bytes) -> str:
    # Windows PowerShell 5.1 writes its errors in the console code page: keep what decodes, one line of it.
    lines = [line.strip() for line in data.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[0][:200] if lines else ""


def gather_host_facts() -> tuple[HostFacts | None, list[Note]]:
    """Run the collector with -HostFactsOnly in Windows PowerShell and read the facts.json it writes; what went
    wrong (PowerShell missing, timing out, failing, facts the collector could not read) comes back as notes."""
    from migrate.collector import render_collector
    from migrate.inventory.host import read_host_facts

    with tempfile.TemporaryDirectory(prefix="wsl2-migrate-") as tmp:
        script = Path(tmp) / "collect.ps1"
        # A BOM makes Windows PowerShell 5.1 read the script as UTF-8 rather than the ANSI code page.
        script.write_text(render_collector(__version__), encoding="utf-8-sig")
        out = Path(tmp) / "bundle"
        try:
            res = subprocess.run(
                ["powershell.exe", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass",
                 "-File", str(script), "-OutputDir", str(out), "-HostFactsOnly"],
                check=False, capture_output=True, timeout=TIMEOUT,
            )
        except FileNotFoundError:
            return None, [_blind("powershell.exe was not found on PATH")]
        except subprocess.TimeoutExpired:
            return None, [_blind(f"PowerShell did not finish within {TIMEOUT} seconds")]
        except OSError as exc:
            return None, [_blind(f"powershell.exe could not start ({exc.strerror or exc})")]
        notes = _collector_errors(out / "manifest.json")
        facts = out / "host" / "facts.json"
        if not facts.is_file():
            why = _first_line(res.stderr) or f"exit code {res.returncode}"
            return None, [*notes, _blind(f"PowerShell wrote none ({why})")]
        try:
            return read_host_facts(facts), notes
        except InputError as exc:
            return None, [*notes, _blind(f"what PowerShell wrote is unreadable ({exc.message})")]


def _collector_errors(manifest: Path) -> list[Note]:
    """The parts of the host facts the collector could not read (its manifest's errors), as notes."""
    try:
        data = json.loads(manifest.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return []
    errors = data.get("errors") if isinstance(data, dict) else None
    return [Note(area="host", subject=str(e.get("file") or "host/facts.json"),
                 message=f"the collector could not read it: {e.get('message', '')}")
            for e in errors or [] if isinstance(e, dict)]
