"""Terminal table of findings: severity, rule, subject and message, then configuration notices and a verdict line."""
from __future__ import annotations

import textwrap

from tabulate import tabulate

from migrate.model import Finding, Inventory, Report
from migrate.render._common import one_line, summary_line

# Column widths chosen so a row fits a 100-column terminal: 13 + 8 + 24 + 48 plus tabulate's gaps.
SUBJECT_WIDTH = 24
MESSAGE_WIDTH = 48
MAX_MESSAGE_LINES = 4


def _wrap(text: str, width: int, max_lines: int) -> str:
    """Text wrapped to width, cut to max_lines with an ellipsis; long words (paths) are broken too."""
    lines = textwrap.wrap(one_line(text), width=width, break_long_words=True, break_on_hyphens=False)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: width - 1] + "…"
    return "\n".join(lines) or "-"


def _subject(f: Finding) -> str:
    """The subject, with the line for findings in files."""
    text = f.subject or f.file or f.subject_kind
    if f.file and f.line > 0:
        text = f"{f.file}:{f.line}" if not f.subject or f.subject == f.file else f"{text} ({f.file}:{f.line})"
    return _wrap(text, SUBJECT_WIDTH, 3)


def _row(f: Finding) -> list[str]:
    """One table row."""
    severity = f"{f.severity}\n(waived)" if f.waived else f.severity
    return [severity, one_line(f.rule), _subject(f), _wrap(f.message, MESSAGE_WIDTH, MAX_MESSAGE_LINES)]


def render(report: Report, inv: Inventory, show_secrets: bool = False) -> str:
    """The findings as a plain-text table followed by a one-line verdict summary."""
    del inv, show_secrets  # the table shows findings only; their messages arrive already filtered
    lines: list[str] = []
    if report.findings:
        rows = [_row(f) for f in report.findings]
        lines.append(tabulate(rows, headers=["severity", "rule", "subject", "message"], tablefmt="simple"))
    else:
        lines.append("No findings.")
    lines.append("")
    for notice in report.notices:
        lines.append(f"note: {_wrap(notice, 100, 3)}".replace("\n", "\n      "))
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"
