"""Human units for sizes and durations, shared by every renderer."""
from __future__ import annotations


def human_bytes(n: int | None) -> str:
    """1234567 -> '1.2 MB' (decimal units, as the docker CLI prints sizes); None -> 'unknown'."""
    if n is None:
        return "unknown"
    value = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(value) < 1000 or unit == "TB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"


def human_duration(seconds: int) -> str:
    """75 -> 'about 1 minute'; rounded the way a person would say it."""
    if seconds < 60:
        return "under a minute"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"about {minutes} minute{'s' if minutes != 1 else ''}"
    hours = seconds / 3600
    return f"about {hours:.1f} hours"
