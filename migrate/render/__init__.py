"""Render stage: an assessment Report (and the inventory it came from) as text in one of six formats."""
from __future__ import annotations

from enum import Enum
from typing import NoReturn

from migrate.errors import InputError
from migrate.model import Inventory, Report
from migrate.render import html, jsonout, junit, markdown, sarif, table


class Format(str, Enum):
    """The report formats `assess --format` offers."""

    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"
    SARIF = "sarif"
    JUNIT = "junit"
    HTML = "html"


def _never(value: NoReturn) -> NoReturn:
    """Exhaustiveness guard: mypy proves it unreachable; at run time it names the stray value."""
    raise AssertionError(f"unhandled report format: {value!r}")


def render(fmt: Format, report: Report, inv: Inventory, show_secrets: bool = False) -> str:
    """The report as text in the given format; pure and deterministic."""
    try:
        fmt = Format(fmt)  # accept the plain string value too ("json"), as typer or a caller may pass it
    except ValueError:
        raise InputError(f"unknown report format {fmt!r} (known: {', '.join(f.value for f in Format)})") from None
    if fmt is Format.TABLE:
        return table.render(report, inv, show_secrets)
    if fmt is Format.JSON:
        return jsonout.render(report, inv, show_secrets)
    if fmt is Format.MARKDOWN:
        return markdown.render(report, inv, show_secrets)
    if fmt is Format.SARIF:
        return sarif.render(report, inv, show_secrets)
    if fmt is Format.JUNIT:
        return junit.render(report, inv, show_secrets)
    if fmt is Format.HTML:
        return html.render(report, inv, show_secrets)
    _never(fmt)


__all__ = ["Format", "render"]
