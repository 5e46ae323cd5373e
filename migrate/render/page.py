"""The HTML page around a report: one self-contained document with a strict Content-Security-Policy."""
from __future__ import annotations

import base64
import functools
import hashlib
from importlib import resources

from migrate.render.markup import Markup, Template

_PAGE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="{generator}">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
{body}
{script}</body>
</html>
""")


@functools.cache
def asset(name: str) -> str:
    """A stylesheet or script shipped beside this module."""
    return resources.files("migrate.render").joinpath(name).read_text(encoding="utf-8")


def _digest(text: str) -> str:
    """The CSP hash source of an inline element's exact text."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def page(title: str, body: Markup, generator: str, script: str = "") -> str:
    """A whole HTML document: nothing is loaded from anywhere, and only this page's own style and script run.

    The policy allows exactly the inline stylesheet and script by their hashes, so even markup that slipped
    through escaping could neither run a script nor load anything.
    """
    css = asset("report.css")
    policy = [
        "default-src 'none'",
        f"style-src {_digest(css)}",
        f"script-src {_digest(script)}" if script else "script-src 'none'",
        "img-src data:",
        "base-uri 'none'",
        "form-action 'none'",
    ]
    script_tag = Markup(f"<script>{script}</script>\n") if script else Markup("")
    return _PAGE(csp="; ".join(policy), generator=generator, title=title, css=Markup(css), body=body,
                 script=script_tag)
