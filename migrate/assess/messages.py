"""Message templates: `{path}` placeholders checked at load time, filled from the subject with secrets redacted."""
from __future__ import annotations

import dataclasses
import re
from typing import Any

from migrate.assess.facts import Facts
from migrate.assess.paths import MISSING, Path, PathError, check_path, parse_path, resolve
from migrate.units import human_bytes

REDACTED = "<redacted>"

SECRET_KEY = re.compile(r"(?i)(passw(or)?d|passwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|\bkey\b|"
                        r"_key\b|credential|auth|session|cookie|signature|pwd)")
"""Label or variable names whose values are treated as secrets."""

_ASSIGNMENT = re.compile(r"(?i)\b([\w.-]*(?:passw(?:or)?d|secret|token|key|credential|auth|pwd)[\w.-]*)\s*([=:])\s*"
                         r"([^\s,;'\"]+)")
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]+):[^@\s/]+@")
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")


class TemplateError(ValueError):
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
    for i, seg in enumerate(segs[:-1]):
        if seg == "labels" and SECRET_KEY.search(path.segments[i + 1]):
            return True
    return False


def _show(value: Any, secret: bool, show_secrets: bool) -> str:
    if value is None or value is MISSING:
        return "(unknown)"
    if value in ("", (), [], {}):
        return "(none)"
    if secret and not show_secrets:
        if isinstance(value, (list, tuple)):
            return ", ".join(_redact_assignment(str(v)) for v in value)
        return _redact_assignment(str(value)) if isinstance(value, str) and "=" in value else REDACTED
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        items = []
        for k in sorted(value):
            hide = not show_secrets and SECRET_KEY.search(str(k))
            items.append(f"{k}={REDACTED if hide else _show(value[k], False, show_secrets)}")
        return ", ".join(items)
    if isinstance(value, (list, tuple)):
        return ", ".join(_show(v, False, show_secrets) for v in value)
    if dataclasses.is_dataclass(value):
        return getattr(value, "name", "") or getattr(value, "id", "") or type(value).__name__
    return str(value)


def _redact_assignment(text: str) -> str:
    key, _, _ = text.partition("=")
    return f"{key}={REDACTED}"


def scrub(text: str) -> str:
    """Redact secret-looking KEY=VALUE pairs and URL passwords left in a finished message."""
    text = _ASSIGNMENT.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    return _USERINFO.sub(lambda m: f"{m.group(1)}:{REDACTED}@", text)


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
        shown = _show(value, _is_secret_path(path), show_secrets)
        # Only what comes from the inventory is scrubbed: the rule's own words are never a secret.
        return shown if show_secrets else scrub(shown)

    return _PLACEHOLDER.sub(replace, template)
