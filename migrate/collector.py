"""The PowerShell collector script (migrate/emit/collector.ps1) with its version filled in: written by
`wsl2-migrate collector`, and run by the scan itself on Windows to gather host facts."""
from __future__ import annotations

from importlib import resources

from migrate.errors import InternalError
from migrate.pwsh import powershell_string_expr

VERSION_MARKER = "'__WSL2_MIGRATE_VERSION__'"
"""The single-quoted placeholder in collector.ps1; the template stays runnable as it is."""


def collector_template() -> str:
    """The collector script as shipped in the package, with its version marker."""
    return resources.files("migrate.emit").joinpath("collector.ps1").read_text(encoding="ascii")


def render_collector(tool_version: str) -> str:
    """The collector script with tool_version as its collector_version; no other text changes."""
    template = collector_template()
    count = template.count(VERSION_MARKER)
    if count != 1:
        raise InternalError(f"collector.ps1: expected one version marker {VERSION_MARKER}, found {count}")
    return template.replace(VERSION_MARKER, powershell_string_expr(tool_version))
