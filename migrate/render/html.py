"""One machine's assessment as an HTML page: the Markdown report's content, with its charts, no script.

The page is built from the Markdown report itself (render/markdown.py), converted element by element, so the
two always say the same; the charts sit after the summary. `assess --format html` and the fleet's
machines/NAME.html are this page.
"""
from __future__ import annotations

from migrate.model import Inventory, Report
from migrate.render import markdown
from migrate.render._common import TOOL_NAME, human_bytes, machine_name, severity_counts
from migrate.render.markup import Markup, Template, join
from migrate.render.mdhtml import sections
from migrate.render.page import page
from migrate.render.svg import Bar, bars

_SECTION = Template('<section id="{ident}">\n{body}\n</section>')
_CHARTS = Template('<section id="charts" class="grid">\n<div><h3>Findings by severity</h3>\n{severity}</div>\n'
                   '<div><h3>Sizes in the inventory</h3>\n{sizes}</div>\n</section>')


def _charts(report: Report, inv: Inventory) -> Markup:
    """Findings by severity and the sizes of what the inventory holds."""
    counts = severity_counts(report)
    severity = bars("Active findings by severity",
                    [Bar(name, n, str(n), name) for name, n in counts.items()])
    sizes = [
        ("images", sum(i.size for i in inv.images)),
        ("volumes", sum(v.size or 0 for v in inv.volumes)),
        ("container layers", sum(c.size_rw or 0 for c in inv.containers)),
    ]
    size_chart = bars("Bytes held by kind of object", [Bar(label, n, human_bytes(n)) for label, n in sizes])
    return _CHARTS(severity=severity, sizes=size_chart)


def body(report: Report, inv: Inventory, show_secrets: bool = False) -> Markup:
    """The page's main content: every section of the Markdown report, charts after the summary."""
    parts = []
    for title, html in sections(markdown.render(report, inv, show_secrets)):
        ident = "top" if not title else title.lower().replace(" ", "-")
        parts.append(_SECTION(ident=ident, body=html))
        if title == "Summary":
            parts.append(_charts(report, inv))
    return Markup("<main>\n" + join(parts, "\n") + "\n</main>")


def render(report: Report, inv: Inventory, show_secrets: bool = False) -> str:
    """The assessment as a self-contained HTML page."""
    title = machine_name(inv)
    return page(f"Pre-migration assessment: {title}", body(report, inv, show_secrets),
                f"{TOOL_NAME} {report.tool_version}")
