"""Message templates: `{path}` placeholders checked at load time, filled from the subject with secrets redacted.

Each value is redacted as it is put in (migrate.secrets decides what is secret); the template's own words are
never scrubbed, so a rule that says "token=" or "password" in its message keeps it."""
from __future__ import annotations

import dataclasses
import re
from typing import Any

from migrate.assess.facts import Facts
from migrate.errors import RuleError
from migrate.assess.paths import MISSING, Path, PathError, check_path, parse_path, resolve
from migrate.secrets import REDACTED, is_secret_name, redact_entry, redact_text
from migrate.units import human_bytes

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")


class TemplateError(RuleError):
    """A message template with a malformed placeholder or an unknown field."""


def compile_template(template: str, root: Any) -> tuple[Path, ...]:
    """The placeholder paths of a template, each checked against the subject type."""
    paths = []
    for m in _PLACEHOLDER.finditer(template):
        if m.group(0) in ("{{", "}}"):
            continue
        text, _, fmt = m.group(1).partition(":")
        if fmt and fmt not in FORMATS:
            raise TemplateError(f"message placeholder {{{m.group(1)}}}: unknown format {fmt!r} (known: bytes)")
        try:
            path = parse_path(text)
            check_path(path, root)
        except PathError as exc:
            raise TemplateError(f"message placeholder {{{m.group(1)}}}: {exc}") from None
        paths.append(path)
    rest = _PLACEHOLDER.sub("", template)
    if "{" in rest or "}" in rest:
        raise TemplateError("message has an unmatched brace (write {{ or }} for a literal one)")
    return tuple(paths)


FORMATS = ("bytes",)


def _is_secret_path(path: Path) -> bool:
    segs = [s.lower() for s in path.segments]
    if "env" in segs or "environment" in segs:
        return True
    return any(is_secret_name(seg) for seg in path.segments[1:])


def _show(value: Any, secret: bool, show_secrets: bool) -> str:
    if value is None or value is MISSING:
        return "(unknown)"
    if value in ("", (), [], {}):
        return "(none)"
    if secret and not show_secrets:
        if isinstance(value, (list, tuple)):
            return ", ".join(redact_entry(str(v)) for v in value)
        return redact_entry(str(value)) if isinstance(value, str) and "=" in value else REDACTED
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        items = []
        for k in sorted(value):
            hide = not show_secrets and is_secret_name(str(k))
            items.append(f"{k}={REDACTED if hide else _show(value[k], False, show_secrets)}")
        return ", ".join(items)
    if isinstance(value, (list, tuple)):
        return ", ".join(_show(v, False, show_secrets) for v in value)
    if dataclasses.is_dataclass(value):
        return getattr(value, "name", "") or getattr(value, "id", "") or type(value).__name__
    return str(value)


def fill(template: str, subject: Any, facts: Facts, show_secrets: bool = False) -> str:
    """The template with each {path} replaced by its value; secrets redacted unless show_secrets."""
    def replace(m: re.Match[str]) -> str:
        if m.group(0) == "{{":
            return "{"
        if m.group(0) == "}}":
            return "}"
        text, _, fmt = m.group(1).partition(":")
        path = parse_path(text)
        value = resolve(path, subject, facts)
        if fmt == "bytes" and isinstance(value, int) and not isinstance(value, bool):
            return human_bytes(value)
        return redact_text(_show(value, _is_secret_path(path), show_secrets), show_secrets)

    return _PLACEHOLDER.sub(replace, template)
