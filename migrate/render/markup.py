"""A tiny HTML template mechanism that escapes by default: values become text unless they are already Markup."""
from __future__ import annotations

import html
import re
import string
from collections.abc import Iterable, Mapping
from urllib.parse import quote

from migrate.errors import InternalError
from migrate.render._common import clean


class Markup(str):
    """HTML that is safe to insert as it is: made only by this module (templates, escape, join)."""

    __slots__ = ()

    def __html__(self) -> Markup:
        return self


def escape(value: object) -> Markup:
    """A value as HTML text: Markup stays as it is; anything else is stringified, cleaned and escaped.

    Control characters become visible escapes (as in the other reports) so a hostile value cannot hide text or
    break the page's encoding; `&`, `<`, `>`, `"` and `'` become character references, which makes the result
    safe both in element content and inside a quoted attribute value.
    """
    if isinstance(value, Markup):
        return value
    if value is None:
        return Markup("")
    return Markup(html.escape(clean(str(value)), quote=True))


def join(items: Iterable[object], sep: object = "") -> Markup:
    """Items escaped (unless Markup) and joined by sep (escaped unless Markup)."""
    return Markup(escape(sep).join(escape(item) for item in items))


_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class Template:
    """An HTML fragment with {name} fields: every value is escaped unless it is Markup.

    The template text is ours and trusted; only the values are inventory data. Attribute values must be quoted in
    the template (`href="{url}"`): escaping quotes then keeps a value inside its attribute. Fields are plain
    names with an optional format spec ({size:.1f}); `{{` and `}}` are literal braces.
    """

    __slots__ = ("text", "fields", "_parts")

    def __init__(self, text: str) -> None:
        self.text = text
        parts: list[tuple[str, str | None, str]] = []
        for literal, name, spec, conversion in string.Formatter().parse(text):
            if name is not None and not _FIELD.fullmatch(name):
                raise InternalError(f"template field {name!r}: only plain names are allowed")
            if conversion is not None:
                raise InternalError("template fields take no conversion (!r, !s)")
            parts.append((literal, name, spec or ""))
        self._parts = tuple(parts)
        self.fields = frozenset(name for _, name, _ in parts if name is not None)

    def __call__(self, **values: object) -> Markup:
        out = []
        for literal, name, spec in self._parts:
            out.append(literal)
            if name is not None:
                try:
                    value = values[name]
                except KeyError:
                    raise InternalError(f"template value missing: {name}") from None
                out.append(escape(format(value, spec) if spec else value))
        return Markup("".join(out))

    def render(self, values: Mapping[str, object]) -> Markup:
        """The template filled from a mapping."""
        return self(**values)


def href(*parts: str, fragment: str = "") -> Markup:
    """A relative URL from path parts, each percent-encoded, so no value can become a scheme or leave its folder."""
    path = "/".join(quote(part, safe="") for part in parts)
    if fragment:
        path += "#" + quote(fragment, safe="")
    return escape(path)


_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def html_id(text: str) -> str:
    """An element id from any text: letters, digits, '_', '.', '-' only, starting with a letter."""
    ident = _ID_UNSAFE.sub("-", text).strip("-")
    return ident if ident[:1].isalpha() else f"x-{ident}"
