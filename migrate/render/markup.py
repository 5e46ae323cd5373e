"""A tiny HTML template mechanism that escapes by default: values become text unless they are already Markup."""
from __future__ import annotations

import html
import re
import string
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

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


class _Escaping(string.Formatter):
    """str.format whose every substituted value is escaped; fields are plain names (no attribute or index)."""

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> Any:
        if not _FIELD.fullmatch(field_name):
            raise ValueError(f"template field {field_name!r}: only plain names are allowed")
        return super().get_field(field_name, args, kwargs)

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec:
            value = format(value, format_spec)
        return escape(value)

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        if conversion is not None:
            raise ValueError("template fields take no conversion (!r, !s)")
        return value


_FORMATTER = _Escaping()


class Template:
    """An HTML fragment with {name} fields: every value is escaped unless it is Markup.

    The template text is ours and trusted; only the values are inventory data. Attribute values must be quoted in
    the template (`href="{url}"`): escaping quotes then keeps a value inside its attribute.
    """

    __slots__ = ("text", "fields")

    def __init__(self, text: str) -> None:
        self.text = text
        self.fields = frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)
        for name in self.fields:
            if not _FIELD.fullmatch(name):
                raise ValueError(f"template field {name!r}: only plain names are allowed")

    def __call__(self, **values: object) -> Markup:
        missing = self.fields - set(values)
        if missing:
            raise KeyError(f"template value missing: {sorted(missing)[0]}")
        return Markup(_FORMATTER.vformat(self.text, (), values))

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
