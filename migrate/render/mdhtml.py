"""The Markdown the assessment renderer writes, as HTML: headings, paragraphs, lists, tables, code, quotes.

Only the subset `render/markdown.py` produces is understood: every value in that Markdown is already escaped
there, so the converter's job is to undo those escapes into text and build elements around it. Nothing in the
input can become an element or attribute this module does not create itself: all text goes through `escape`.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from migrate.render.markup import Markup, Template, escape, html_id, join

_HEADING = re.compile(r"^(#{1,6}) (.*)$")
_FENCE = re.compile(r"^(`{3,})([A-Za-z0-9_+-]*)$")
_SEPARATOR = re.compile(r"^\|(?:\s*:?-{3,}:?\s*\|)+$")
_AUTOLINK = re.compile(r"<(https?://[^\s<>`]+)>")
_PUNCT = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")

_LINK = Template('<a href="{url}">{text}</a>')
_CODE = Template("<code>{text}</code>")


_SPECIAL = re.compile(r"[\\`<*]")


def inline(text: str) -> Markup:
    """One line of inline Markdown: backslash escapes, `code`, **strong**, *emphasis* and <https://...> links."""
    out: list[str] = []
    plain: list[str] = []
    open_tags: list[str] = []

    def flush() -> None:
        if plain:
            out.append(escape("".join(plain)))
            plain.clear()

    i, n = 0, len(text)
    while i < n:
        m = _SPECIAL.search(text, i)
        if m is None:
            plain.append(text[i:])
            break
        j = m.start()
        if j > i:
            plain.append(text[i:j])
        ch = text[j]
        if ch == "\\":
            if j + 1 < n and text[j + 1] in _PUNCT:
                plain.append(text[j + 1])
                i = j + 2
            else:
                plain.append(ch)
                i = j + 1
        elif ch == "`":
            run = len(text[j:]) - len(text[j:].lstrip("`"))
            end = _closing_backticks(text, j + run, run)
            if end < 0:
                plain.append("`" * run)
                i = j + run
                continue
            body = text[j + run:end]
            if len(body) >= 2 and body[0] == " " and body[-1] == " " and body.strip(" "):
                body = body[1:-1]
            flush()
            out.append(_CODE(text=body))
            i = end + run
        elif ch == "<":
            link = _AUTOLINK.match(text, j)
            if link is None:
                plain.append(ch)
                i = j + 1
                continue
            flush()
            out.append(_LINK(url=link.group(1), text=link.group(1)))
            i = link.end()
        else:  # "*"
            tag = "strong" if text.startswith("**", j) else "em"
            flush()
            if open_tags and open_tags[-1] == tag:
                out.append(f"</{open_tags.pop()}>")
            else:
                open_tags.append(tag)
                out.append(f"<{tag}>")
            i = j + (2 if tag == "strong" else 1)
    flush()
    out += [f"</{tag}>" for tag in reversed(open_tags)]
    return Markup("".join(out))


def _closing_backticks(text: str, start: int, run: int) -> int:
    """The index of the next backtick run of exactly `run` characters at or after start, or -1."""
    for m in re.finditer(r"`+", text[start:]):
        if len(m.group()) == run:
            return start + m.start()
    return -1


def _cells(row: str) -> list[str]:
    """The cells of a pipe-table row, split on pipes that are not escaped."""
    body = row.strip()
    body = body[1:] if body.startswith("|") else body
    cells, cell, i = [], [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            cell.append(body[i:i + 2])
            i += 2
            continue
        if ch == "|":
            cells.append("".join(cell).strip())
            cell = []
        else:
            cell.append(ch)
        i += 1
    if "".join(cell).strip():
        cells.append("".join(cell).strip())
    return cells


def _table(lines: list[str]) -> Markup:
    head = _cells(lines[0])
    rows = [_cells(line) for line in lines[2:]]
    parts = ["<table>\n<thead><tr>", *(f"<th>{inline(c)}</th>" for c in head), "</tr></thead>\n<tbody>\n"]
    for row in rows:
        parts += ["<tr>", *(f"<td>{inline(c)}</td>" for c in row), "</tr>\n"]
    parts.append("</tbody>\n</table>")
    return Markup("".join(parts))


class _Ids:
    """Unique element ids for headings, so a finding can be linked to."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def __call__(self, text: str) -> str:
        base = html_id(text.split(":", 1)[0] if ":" in text else text)
        count = self.seen.get(base, 0) + 1
        self.seen[base] = count
        return base if count == 1 else f"{base}-{count}"


def _blocks(lines: list[str], ids: _Ids) -> Iterator[Markup]:
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        if not line.strip():
            i += 1
        elif m := _FENCE.match(line):
            fence, lang, body = m.group(1), m.group(2), []
            i += 1
            while i < n and lines[i] != fence:
                body.append(lines[i])
                i += 1
            i += 1
            cls = Markup(f' class="language-{escape(lang)}"') if lang else Markup("")
            yield Markup(f"<pre><code{cls}>{escape(chr(10).join(body))}</code></pre>")
        elif m := _HEADING.match(line):
            level = len(m.group(1))
            plain = re.sub(r"\\(.)", r"\1", m.group(2))
            yield Markup(f'<h{level} id="{escape(ids(plain))}">{inline(m.group(2))}</h{level}>')
            i += 1
        elif line.startswith("|") and i + 1 < n and _SEPARATOR.match(lines[i + 1].replace(" ", "")):
            start = i
            i += 2
            while i < n and lines[i].startswith("|"):
                i += 1
            yield _table(lines[start:i])
        elif line.startswith("- "):
            items = []
            while i < n and lines[i].startswith("- "):
                items.append(Markup(f"<li>{inline(lines[i][2:])}</li>"))
                i += 1
            yield Markup("<ul>\n" + join(items, "\n") + "\n</ul>")
        elif line.startswith(">"):
            quoted = []
            while i < n and lines[i].startswith(">"):
                quoted.append(lines[i][1:].lstrip(" "))
                i += 1
            yield Markup(f"<blockquote><p>{join((inline(q) for q in quoted), chr(10))}</p></blockquote>")
        elif line.strip() == "---":
            yield Markup("<hr>")
            i += 1
        else:
            para = []
            while i < n and lines[i].strip() and not _starts_block(lines, i):
                para.append(inline(lines[i]))
                i += 1
            yield Markup(f"<p>{join(para, chr(10))}</p>")


def _starts_block(lines: list[str], i: int) -> bool:
    line = lines[i]
    if _FENCE.match(line) or _HEADING.match(line) or line.startswith(("- ", ">")) or line.strip() == "---":
        return True
    return line.startswith("|") and i + 1 < len(lines) and bool(_SEPARATOR.match(lines[i + 1].replace(" ", "")))


def to_html(markdown: str) -> Markup:
    """The Markdown document as a sequence of HTML blocks, one per line."""
    return join(_blocks(markdown.split("\n"), _Ids()), "\n")


def sections(markdown: str) -> list[tuple[str, Markup]]:
    """The document split at its level-2 headings: (heading text, HTML of the section), in order.

    The part before the first level-2 heading comes first with an empty heading. Ids stay unique across the
    sections, as if the document were converted whole.
    """
    ids = _Ids()
    parts: list[tuple[str, list[str]]] = [("", [])]
    fence = ""
    for line in markdown.split("\n"):
        m = _FENCE.match(line)
        if fence:
            fence = "" if line == fence else fence
        elif m:
            fence = m.group(1)
        elif line.startswith("## "):
            parts.append((re.sub(r"\\(.)", r"\1", line[3:]), []))
        parts[-1][1].append(line)
    return [(title, join(_blocks(body, ids), "\n")) for title, body in parts]
