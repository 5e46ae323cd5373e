"""Tests for the escaping template helper, the Markdown-to-HTML converter and the SVG charts."""
from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest

from migrate.errors import InternalError
from hypothesis import given
from hypothesis import strategies as st

from migrate.render._common import clean, one_line
from migrate.render.markdown import fix_blocks
from migrate.render.markup import Markup, Template, escape, href, html_id, join
from migrate.render.mdhtml import inline, sections, to_html
from migrate.render.mdinventory import code, md, table
from migrate.render.svg import Bar, bars, columns

HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' onmouseover='alert(1)",
    "&lt;already escaped&gt; &amp;",
    "javascript:alert(1)",
    "</textarea></style></script><!--",
    "a\x00b\x1b[31mred\u202etxt\ud800",
    "**bold** `code` _em_ [link](http://x) <https://evil.example>",
]


class _Tree(HTMLParser):
    """Elements and the text a browser's parser would see."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(markup: str) -> _Tree:
    tree = _Tree()
    tree.feed(markup)
    tree.close()
    return tree


@pytest.mark.parametrize("value", HOSTILE)
def test_escape_makes_any_value_one_text_node(value: str) -> None:
    tree = _parse(f"<p>{escape(value)}</p>")
    assert tree.tags == ["p"]
    assert "".join(tree.text) == clean(value)


@pytest.mark.parametrize("value", HOSTILE)
def test_template_keeps_values_inside_their_attribute_and_element(value: str) -> None:
    t = Template('<a href="{url}" title="{title}">{text}</a>')
    tree = _parse(t(url="x.html", title=value, text=value))
    assert tree.tags == ["a"]
    assert dict(tree.attrs) == {"href": "x.html", "title": clean(value)}
    assert "".join(tree.text) == clean(value)


def test_markup_values_pass_through_and_join_escapes_the_rest() -> None:
    t = Template("<li>{item}</li>")
    assert t(item=Markup("<b>x</b>")) == "<li><b>x</b></li>"
    assert t(item="<b>x</b>") == "<li>&lt;b&gt;x&lt;/b&gt;</li>"
    assert join(["<a>", Markup("<br>")], Markup("|")) == "&lt;a&gt;|<br>"
    assert escape(None) == ""
    assert isinstance(t(item="x"), Markup)


def test_template_refuses_attribute_access_and_missing_values() -> None:
    with pytest.raises(InternalError):
        Template("{value.__class__}")
    with pytest.raises(InternalError):
        Template("{value[0]}")
    with pytest.raises(InternalError, match="missing: b"):
        Template("{a}{b}")(a=1)
    with pytest.raises(InternalError):
        Template("{a!r}")(a="x")


def test_href_encodes_each_part_so_no_value_becomes_a_scheme_or_a_parent() -> None:
    assert href("machines", "DEV-1.html") == "machines/DEV-1.html"
    assert href("machines", "../x.html") == "machines/..%2Fx.html"
    assert href("javascript:alert(1)") == "javascript%3Aalert%281%29"
    assert href("m", "a b\"<.html") == "m/a%20b%22%3C.html"
    assert html_id("rule-HOST001") == "rule-HOST001"
    assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_.-]*", html_id("<script>"))


@given(st.text())
def test_escape_never_lets_markup_through(value: str) -> None:
    out = escape(value)
    assert not set("<>\"'") & set(out)
    assert html.unescape(out) == clean(value)


@given(st.text())
def test_markdown_escaped_value_converts_back_to_the_same_text(value: str) -> None:
    """What markdown.py escapes with md() comes out of the converter as exactly that text, and no element."""
    converted = inline(md(value))
    assert "<" not in converted.replace("&lt;", "")
    assert html.unescape(converted) == one_line(value)


@given(st.text(min_size=1))
def test_code_span_converts_back_to_its_text(value: str) -> None:
    converted = inline(code(value))
    tree = _parse(converted)
    assert tree.tags == ["code"]
    assert "".join(tree.text) == one_line(value)


def test_markdown_blocks_become_their_elements() -> None:
    doc = "\n".join([
        "# Title \\<x\\>",
        "",
        "Some **bold** and *em* text with `co|de` and <https://example.com/a?b=1&c=2>.",
        "",
        "- one \\*item\\*",
        "- two",
        "",
        *table(["Name", "Value"], [(md("a|b"), md("<c>")), ("", "x")]),
        "",
        "> **Note:** quoted",
        "",
        *fix_blocks("Run this:\n\n    docker ps --format '{{.Names}}' | grep `x`\n\nthen reboot."),
        "",
        "---",
    ])
    out = to_html(doc)
    tree = _parse(out)
    assert tree.tags == ["h1", "p", "strong", "em", "code", "a", "ul", "li", "li", "table", "thead", "tr", "th",
                         "th", "tbody", "tr", "td", "td", "tr", "td", "td", "blockquote", "p", "strong", "p", "pre",
                         "code", "p", "hr"]
    assert ('href', "https://example.com/a?b=1&c=2") in tree.attrs
    text = "".join(tree.text)
    assert "Title <x>" in text and "a|b" in text and "<c>" in text and "one *item*" in text
    assert "docker ps --format '{{.Names}}' | grep `x`" in text
    assert '<h1 id="Title-x">' in out


def test_sections_split_at_level_two_headings_outside_code() -> None:
    doc = "# T\n\n## One\n\ntext\n\n```\n## not a heading\n```\n\n## Two\n\n### Sub\n\nmore"
    parts = sections(doc)
    assert [title for title, _ in parts] == ["", "One", "Two"]
    assert "## not a heading" in parts[1][1]
    assert '<h3 id="Sub">' in parts[2][1]


def test_repeated_headings_get_unique_ids() -> None:
    out = to_html("#### CTR003: a\n\n#### CTR003: a\n\n#### CTR003: b")
    assert re.findall(r'id="([^"]+)"', out) == ["CTR003", "CTR003-2", "CTR003-3"]


def test_charts_are_inert_svg_with_escaped_labels() -> None:
    hostile = "<script>alert(1)</script>"
    for chart in (bars("t <x>", [Bar(hostile, 3, "3"), Bar("b", 0, "0")]),
                  columns("t", [Bar(hostile[:10], 1, "1"), Bar("b", 2, "2")])):
        tree = _parse(chart)
        assert "script" not in tree.tags
        assert set(tree.tags) <= {"svg", "title", "g", "rect", "text"}
    assert bars("t", []) == "" and columns("t", []) == ""
    big = bars("t", [Bar("a", 10, "10"), Bar("b", 5, "5")])
    widths = [float(w) for w in re.findall(r'<rect [^>]*width="([0-9.]+)"', big)]
    assert widths[0] == pytest.approx(2 * widths[1])
