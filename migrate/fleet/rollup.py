"""The fleet's numbers from its machines: verdict counts, totals, percentiles, histograms, distributions, top rules."""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from migrate.fleet.machine import LEVELS, UNREADABLE, VERDICTS, Machine
from migrate.fleet.waves import Wave

PERCENTILES = (50, 90, 95, 100)
"""Shown for data to move and duration; 100 is the maximum."""

GB = 1_000_000_000
BYTE_BUCKETS = ((100_000_000, "< 100 MB"), (GB, "100 MB - 1 GB"), (10 * GB, "1 - 10 GB"),
                (50 * GB, "10 - 50 GB"), (100 * GB, "50 - 100 GB"), (None, ">= 100 GB"))
"""Upper bounds (exclusive) and labels of the data-to-move histogram; None is open-ended."""
SECOND_BUCKETS = ((600, "< 10 min"), (1800, "10 - 30 min"), (3600, "30 min - 1 h"), (7200, "1 - 2 h"),
                  (14400, "2 - 4 h"), (None, ">= 4 h"))
"""Upper bounds (exclusive) and labels of the duration histogram."""

TOP_RULES = 10
"""Rules listed per severity in the top blockers and errors."""
DISTRIBUTION_ROWS = 12
"""Values shown per distribution; the rest are summed into one row."""


@dataclass(frozen=True, slots=True)
class RuleHits:
    """A rule and the machines whose assessment it hits (active findings only)."""

    rule: str
    title: str
    severity: str
    machines: tuple[int, ...]
    """Indexes into Fleet.machines, in order."""


@dataclass(frozen=True, slots=True)
class Distribution:
    """How many machines have each value of one property, most common first."""

    title: str
    items: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class Fleet:
    """Everything the fleet outputs show, computed once from the machines."""

    tool_version: str
    machines: tuple[Machine, ...]
    verdicts: dict[str, int]
    """Verdict class -> machines, every class present, in VERDICTS order."""
    bytes_to_move: int
    estimated_seconds: int
    findings: dict[str, int]
    """Active findings per severity, summed over the assessed machines."""
    percentiles: dict[str, dict[int, int]]
    """"bytes_to_move" and "estimated_seconds" -> percentile -> value (nearest rank, assessed machines only)."""
    bytes_histogram: tuple[tuple[str, int], ...]
    seconds_histogram: tuple[tuple[str, int], ...]
    distributions: tuple[Distribution, ...]
    top_rules: tuple[RuleHits, ...]
    """Blocker rules first, then error rules; within each, most machines first, then rule id."""
    waves: tuple[Wave, ...]

    @property
    def assessed(self) -> tuple[Machine, ...]:
        """The machines whose bundle was read and assessed."""
        return tuple(m for m in self.machines if m.report is not None)


def percentile(values: Sequence[int], p: int) -> int:
    """The p-th percentile by nearest rank (a value that occurs); 0 for no values."""
    if not values:
        return 0
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def histogram(values: Sequence[int], buckets: Sequence[tuple[int | None, str]]) -> tuple[tuple[str, int], ...]:
    """How many values fall in each bucket (every bucket present, in order)."""
    counts = [0] * len(buckets)
    for v in values:
        for k, (upper, _) in enumerate(buckets):
            if upper is None or v < upper:
                counts[k] += 1
                break
    return tuple((label, n) for (_, label), n in zip(buckets, counts, strict=True))


def distribution(title: str, values: Sequence[str]) -> Distribution:
    """Values counted, most common first (ties by value); past DISTRIBUTION_ROWS they are summed as 'other'."""
    counted = sorted(Counter(v or "unknown" for v in values).items(), key=lambda kv: (-kv[1], kv[0]))
    if len(counted) > DISTRIBUTION_ROWS:
        rest = counted[DISTRIBUTION_ROWS - 1:]
        counted = counted[:DISTRIBUTION_ROWS - 1] + [(f"{len(rest)} other values", sum(n for _, n in rest))]
    return Distribution(title, tuple(counted))


def _build_label(m: Machine) -> str:
    build = m.host.windows_build.split(".")[0]
    if not build:
        return ""
    return f"{build} ({m.host.windows_version})" if m.host.windows_version else build


def top_rules(machines: Sequence[Machine]) -> tuple[RuleHits, ...]:
    """Blocker and error rules by the number of machines they hit, TOP_RULES of each severity."""
    out: list[RuleHits] = []
    for level in ("blocker", "error"):
        hits: dict[str, list[int]] = {}
        titles: dict[str, str] = {}
        for k, m in enumerate(machines):
            for rule in m.rules(level):
                hits.setdefault(rule, []).append(k)
                if m.report is not None:
                    titles.setdefault(rule, m.report.titles.get(rule, ""))
        ranked = sorted(hits.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:TOP_RULES]
        out += [RuleHits(rule, titles.get(rule, ""), level, tuple(idx)) for rule, idx in ranked]
    return tuple(out)


def roll_up(machines: Sequence[Machine], waves: Sequence[Wave], tool_version: str) -> Fleet:
    """The fleet's numbers; every per-machine number comes from the machine's report summary."""
    assessed = [m for m in machines if m.report is not None]
    verdicts = {v: 0 for v in VERDICTS}
    for m in machines:
        verdicts[m.verdict] = verdicts.get(m.verdict, 0) + 1
    findings = {level: 0 for level in LEVELS}
    for m in assessed:
        assert m.report is not None
        for level, n in m.report.findings.items():
            findings[level] = findings.get(level, 0) + n
    sizes = [m.bytes_to_move for m in assessed]
    seconds = [m.estimated_seconds for m in assessed]
    return Fleet(
        tool_version=tool_version,
        machines=tuple(machines),
        verdicts=verdicts,
        bytes_to_move=sum(sizes),
        estimated_seconds=sum(seconds),
        findings=findings,
        percentiles={"bytes_to_move": {p: percentile(sizes, p) for p in PERCENTILES},
                     "estimated_seconds": {p: percentile(seconds, p) for p in PERCENTILES}},
        bytes_histogram=histogram(sizes, BYTE_BUCKETS),
        seconds_histogram=histogram(seconds, SECOND_BUCKETS),
        distributions=(
            distribution("Docker Desktop versions", [m.host.desktop_version for m in assessed]),
            distribution("Windows builds", [_build_label(m) for m in assessed]),
            distribution("WSL", [m.host.wsl for m in assessed]),
            distribution("Backends", [m.report.backend for m in assessed if m.report is not None]),
        ),
        top_rules=top_rules(machines),
        waves=tuple(waves),
    )


__all__ = ["Distribution", "Fleet", "RuleHits", "UNREADABLE", "percentile", "roll_up"]
