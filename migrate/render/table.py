"""Terminal table of findings (severity, rule, subject, message), then notices, blind spots, a verdict."""
from __future__ import annotations

import textwrap

from tabulate import tabulate

from migrate.model import Finding, Inventory, Report
from migrate.render._common import one_line, summary_line
from migrate.secrets import redact_text

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
    if f.file and f.file not in text:
        text += f" ({f.file}:{f.line})" if f.line > 0 else f" ({f.file})"
    return _wrap(text, SUBJECT_WIDTH, 3)


def _row(f: Finding) -> list[str]:
    """One table row."""
    severity = f"{f.severity}\n(waived)" if f.waived else f.severity
    return [severity, one_line(f.rule), _subject(f), _wrap(f.message, MESSAGE_WIDTH, MAX_MESSAGE_LINES)]


def _indent(prefix: str, text: str) -> str:
    """A prefixed paragraph wrapped under the prefix."""
    body = _wrap(text, 100 - len(prefix), 3)
    return prefix + body.replace("\n", "\n" + " " * len(prefix))


def render(report: Report, inv: Inventory, show_secrets: bool = False) -> str:
    """The findings as a plain-text table followed by a one-line verdict summary."""
    del inv  # the table shows findings, whose messages arrive already filtered, and the run's gaps
    lines: list[str] = []
    if report.findings:
        rows = [_row(f) for f in report.findings]
        lines.append(tabulate(rows, headers=["severity", "rule", "subject", "message"], tablefmt="simple",
                              disable_numparse=True))
    else:
        lines.append("No findings.")
    lines.append("")
    for notice in report.notices:
        lines.append(_indent("note: ", notice))
    for n in report.blind_spots:
        lines.append(_indent("not seen: ", redact_text(f"{n.area}: {n.subject}: {n.message}", show_secrets)))
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"
