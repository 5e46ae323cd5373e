"""Human units for sizes and durations, shared by the assessment messages, the reports and the CLI."""
from __future__ import annotations


def human_bytes(n: int | None) -> str:
    """A byte count in decimal units, as in "3.2 GB" (Docker's own commands use decimal units too)."""
    if n is None:
        return "unknown"
    if n < 1000:
        return f"{n} B"
    value = float(n)
    for unit in ("kB", "MB", "GB", "TB", "PB"):
        value /= 1000
        if value < 999.95 or unit == "PB":
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def human_duration(seconds: int) -> str:
    """A duration for people, as in "about 12 minutes" or "about 1 hour 40 minutes"."""
    if seconds < 60:
        return "less than a minute"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"about {minutes} minute{'s' if minutes != 1 else ''}"
    # Over an hour and a half, five-minute steps are all the estimate is worth.
    minutes = 5 * round(minutes / 5)
    hours, rest = divmod(minutes, 60)
    text = f"about {hours} hour{'s' if hours != 1 else ''}"
    return f"{text} {rest} minutes" if rest else text


def count(n: int, singular: str, plural: str = "") -> str:
    """n with the noun in the right number, as in "1 volume", "3 volumes", "0 project files"."""
    return f"{n} {singular if n == 1 else plural or singular + 's'}"
