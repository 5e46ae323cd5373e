"""Markdown escaping and tables, and the assessment's inventory overview: names, sizes and counts only."""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from migrate.model import Container, Image, Inventory, Network, Volume
from migrate.render._common import human_bytes, one_line
from migrate.secrets import redact_text

# The backslash is escaped too: otherwise a value ending in one would cancel the escape that follows it.
_MD_SPECIAL = re.compile(r"([\\`*_<>\[\]|&~#])")
_ANONYMOUS = re.compile(r"^[0-9a-f]{64}$")
_CODE_SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)")


def md(text: str) -> str:
    """A value as inline Markdown: one line, control characters visible, significant characters escaped."""
    return _MD_SPECIAL.sub(r"\\\1", one_line(text))


def code(text: str) -> str:
    """Text as an inline code span whose delimiter is longer than any backtick run inside it."""
    text = one_line(text)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    # CommonMark drops one space at each end when both ends have one (and one next to a backtick delimiter
    # that the pad separates): pad then, so the span shows exactly the text.
    pad = " " if text.startswith("`") or text.endswith("`") or (
        text.startswith(" ") and text.endswith(" ") and text.strip(" ")) else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def prose(text: str) -> str:
    """Catalog prose (why, fix) as inline Markdown: its `code spans` kept as code, everything else escaped."""
    out, pos = [], 0
    for m in _CODE_SPAN.finditer(text):
        out += [md(text[pos:m.start()]), code(m.group(2))]
        pos = m.end()
    out.append(md(text[pos:]))
    return "".join(out)


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """A pipe table; cells must already be escaped, empty ones show as "-"."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell or "-" for cell in row) + " |" for row in rows]
    return lines


def _v(text: str, show_secrets: bool) -> str:
    """An inventory value: credentials in URLs redacted, then escaped."""
    return md(redact_text(text, show_secrets))


def _names(values: Iterable[str], show_secrets: bool, none: str = "-") -> str:
    """A sorted, comma-separated list of escaped names."""
    items = sorted(values)
    return ", ".join(_v(x, show_secrets) for x in items) if items else none


def _short_id(image_id: str) -> str:
    """An image id as docker shows it: 12 hex characters without the algorithm."""
    return image_id.split(":", 1)[-1][:12]


def _image_name(image: Image) -> str:
    """What people call an image: its tags, else its short id."""
    return ", ".join(sorted(image.tags)) if image.tags else _short_id(image.id)


def _images(images: Sequence[Image], show: bool) -> list[str]:
    """Images: tags or id, os/arch, size, pullable by digest, used by."""
    rows = []
    for image in sorted(images, key=lambda i: (_image_name(i), i.id)):
        platform = "/".join(p for p in (image.os, image.architecture, image.variant) if p)
        rows.append((
            _v(_image_name(image), show) + (" (dangling)" if image.dangling else ""),
            _v(platform, show),
            human_bytes(image.size),
            "yes" if image.repo_digests else "no",
            _names(image.containers, show),
        ))
    return table(["Image", "OS/arch", "Size", "Pullable by digest", "Used by"], rows)


def _container_networks(c: Container, names: dict[str, str]) -> list[str]:
    """The networks a container is on, or its network mode when it has no endpoint of its own (another
    container's network shown by that container's name, as people know it)."""
    nets = [a.network for a in c.networks]
    mode = c.network_mode
    if mode.startswith("container:"):
        ref = mode.split(":", 1)[1]
        mode = "container:" + names.get(ref, next((n for i, n in names.items() if len(ref) >= 12
                                                   and i.startswith(ref)), ref))
    return nets or ([mode] if mode else [])


def _containers(containers: Sequence[Container], show: bool) -> list[str]:
    """Containers: name, image, state, mounts count, networks (never env or labels: they hold secrets)."""
    names = {c.id: c.name.lstrip("/") for c in containers}
    rows = [
        (_v(c.name, show), _v(c.image, show), _v(c.state, show), str(len(c.mounts)),
         _names(_container_networks(c, names), show))
        for c in sorted(containers, key=lambda c: (c.name, c.id))
    ]
    return table(["Container", "Image", "State", "Mounts", "Networks"], rows)


def _volume_name(v: Volume) -> str:
    """A volume's name, anonymous ones shortened as docker does."""
    return f"{v.name[:12]} (anonymous)" if v.anonymous or _ANONYMOUS.match(v.name) else v.name


def _volumes(volumes: Sequence[Volume], show: bool) -> list[str]:
    """Volumes: name, driver, size, used by (an unused volume still holds data)."""
    rows = [
        (_v(_volume_name(v), show), _v(v.driver, show), human_bytes(v.size), _names(v.users, show, "none"))
        for v in sorted(volumes, key=lambda v: v.name)
    ]
    return table(["Volume", "Driver", "Size", "Used by"], rows)


def _networks(networks: Sequence[Network], show: bool) -> list[str]:
    """Networks: name, driver, subnets, user-defined."""
    rows = [
        (_v(n.name, show), _v(n.driver, show), _names((p.subnet for p in n.ipam if p.subnet), show),
         "no" if n.builtin else "yes")
        for n in sorted(networks, key=lambda n: (n.name, n.id))
    ]
    return table(["Network", "Driver", "Subnets", "User-defined"], rows)


def inventory_sections(inv: Inventory, show_secrets: bool = False) -> list[str]:
    """The "Inventory overview" section: one table per kind of object, "None." when there are none."""
    lines = ["## Inventory overview"]
    parts = (
        ("Images", len(inv.images), _images(inv.images, show_secrets)),
        ("Containers", len(inv.containers), _containers(inv.containers, show_secrets)),
        ("Volumes", len(inv.volumes), _volumes(inv.volumes, show_secrets)),
        ("Networks", len(inv.networks), _networks(inv.networks, show_secrets)),
    )
    for heading, count, rows in parts:
        lines += ["", f"### {heading} ({count})", ""]
        lines += rows if count else ["None."]
    return lines
