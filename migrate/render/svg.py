"""Inline SVG charts for the HTML reports: horizontal bars and a column histogram, text escaped, no script."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from migrate.render.markup import Markup, Template, join

WIDTH = 640
"""The drawing's width in user units; it scales to its container (viewBox)."""
ROW = 24
LABEL_WIDTH = 220
VALUE_WIDTH = 110


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar: its label, its value, the text shown beside it and a CSS class for its colour."""

    label: str
    value: int
    text: str
    cls: str = "bar"


_SVG = Template('<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
                'aria-label="{title}" xmlns="http://www.w3.org/2000/svg"><title>{title}</title>{body}</svg>')
_ROW = Template('<g class="{cls}"><text x="{lx}" y="{ty}" text-anchor="end">{label}</text>'
                '<rect x="{bx}" y="{by}" width="{bw}" height="{bh}" rx="2"></rect>'
                '<text x="{vx}" y="{ty}" class="value">{text}</text></g>')
_COLUMN = Template('<g class="{cls}"><rect x="{x}" y="{y}" width="{w}" height="{h}" rx="2"></rect>'
                   '<text x="{cx}" y="{vy}" text-anchor="middle" class="value">{text}</text>'
                   '<text x="{cx}" y="{ly}" text-anchor="middle">{label}</text></g>')


def _num(value: float) -> str:
    """A coordinate with at most one decimal, written the same way on every platform."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _label(text: str, limit: int = 30) -> str:
    """A label short enough for its column; the full text stays in the table beside the chart."""
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


def bars(title: str, items: Sequence[Bar]) -> Markup:
    """A horizontal bar chart: one row per item, bar lengths proportional to the values."""
    if not items:
        return Markup("")
    top = max(max(item.value for item in items), 1)
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH - 16
    rows = []
    for k, item in enumerate(items):
        y = k * ROW
        length = span * item.value / top
        rows.append(_ROW(cls=item.cls, lx=LABEL_WIDTH - 8, ty=_num(y + ROW * 0.68), label=_label(item.label),
                         bx=LABEL_WIDTH, by=_num(y + 4), bw=_num(max(length, 0)), bh=ROW - 8,
                         vx=_num(LABEL_WIDTH + length + 6), text=item.text))
    return _SVG(width=WIDTH, height=len(items) * ROW, title=title, body=join(rows))


def columns(title: str, items: Sequence[Bar], height: int = 180) -> Markup:
    """A column chart (a histogram when the items are buckets in order): labels under, values over each column."""
    if not items:
        return Markup("")
    top = max(max(item.value for item in items), 1)
    slot = WIDTH / len(items)
    plot = height - 44
    cols = []
    for k, item in enumerate(items):
        h = plot * item.value / top
        x = k * slot + slot * 0.15
        cols.append(_COLUMN(cls=item.cls, x=_num(x), y=_num(18 + plot - h), w=_num(slot * 0.7), h=_num(h),
                            cx=_num(k * slot + slot / 2), vy=_num(14 + plot - h), ly=height - 8,
                            text=item.text, label=_label(item.label, 18)))
    return _SVG(width=WIDTH, height=height, title=title, body=join(cols))
