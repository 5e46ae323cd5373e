"""Docker's image reference grammar (distribution/reference), to check names, tags and digests where they are read.

An image reference from a bundle ends up as an operand of `docker pull`, `save`, `tag` and `create`; a value such
as `--output=C:/x.tar:latest` would be read by docker as an option. Only what the grammar allows is accepted,
so such a value is refused where it is read, with the object named.

    reference  := name [ ":" tag ] [ "@" digest ]
    name       := [ domain "/" ] path-component [ "/" path-component ]*      (at most 255 characters)
    domain     := domain-component [ "." domain-component ]* [ ":" port ]  |  "[" IPv6 "]" [ ":" port ]
    path-component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
    tag        := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
    digest     := algorithm ":" hex{32,}      algorithm := [A-Za-z][A-Za-z0-9]* ( [+._-] [A-Za-z][A-Za-z0-9]* )*
"""
from __future__ import annotations

import re

NAME_MAX = 255

_ALNUM = r"[a-z0-9]+"
_SEP = r"(?:[._]|__|-+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEP}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"

_REFERENCE = re.compile(rf"({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?", re.ASCII)
_TAG_ONLY = re.compile(_TAG, re.ASCII)
_IMAGE_ID = re.compile(r"(?:sha256:)?[0-9a-f]{12,64}", re.ASCII)


def reference_problem(ref: str) -> str:
    """Why ref is not an image reference Docker accepts ('' when it is one)."""
    if not ref:
        return "is empty"
    if ref.startswith("-"):
        return "starts with '-', so docker would read it as an option"
    if len(ref) > NAME_MAX + 1 + 128 + 1 + 200:
        return "is longer than any image reference"
    m = _REFERENCE.fullmatch(ref)
    if m is None:
        return "is not an image reference (name[:tag][@digest], lower-case name)"
    if len(m.group(1)) > NAME_MAX:
        return f"has a repository name longer than {NAME_MAX} characters"
    return ""


def image_or_reference_problem(ref: str) -> str:
    """Why ref is neither an image reference nor an image id (sha256:<hex> or a hex prefix); '' when fine."""
    if _IMAGE_ID.fullmatch(ref):
        return ""
    return reference_problem(ref)


def tag_problem(tag: str) -> str:
    """Why tag is not a tag Docker accepts ('' when it is one)."""
    if tag.startswith("-"):
        return "starts with '-', so docker would read it as an option"
    return "" if _TAG_ONLY.fullmatch(tag) else "is not a tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})"
