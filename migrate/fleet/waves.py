"""Waves: the order machines move in, suggested from their verdicts and blockers, kept as a CSV people edit.

Suggested order: ready machines first, then those ready after actions, then blocked machines grouped by the
exact set of rules blocking them (the largest group first: fixing its blockers frees the most machines), then
the bundles that could not be read. Groups larger than the wave size are split. An edited `waves.csv` read back
keeps every machine it names in the wave it gives; machines it does not name get suggested waves after it.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from migrate.errors import InputError
from migrate.fleet.machine import AFTER_ACTIONS, BLOCKED, READY, UNREADABLE, Machine, csv_cell

DEFAULT_WAVE_SIZE = 50

COLUMNS = ("wave", "label", "machine", "name", "verdict", "blockers", "bytes_to_move", "estimated_seconds")
"""waves.csv's header; on reading, only wave, machine and label count (other columns may be changed or removed)."""


@dataclass(frozen=True, slots=True)
class Wave:
    """A group of machines moved together."""

    number: int
    label: str
    machines: tuple[str, ...]
    """Machine idents, in the wave's order."""
    bytes_to_move: int
    estimated_seconds: int
    unknown: int = 0
    """Machines whose bundle could not be read: their data and time are unknown, not 0."""


@dataclass(frozen=True, slots=True)
class Assignment:
    """What an edited waves.csv says: each machine's wave, each wave's label, and the machines' order."""

    waves: dict[str, int]
    """Machine ident -> wave number."""
    labels: dict[int, str]
    order: tuple[str, ...]
    """Machine idents in the file's order."""


def _groups(machines: Sequence[Machine]) -> list[tuple[str, list[Machine]]]:
    """Machines grouped and ordered as the module docstring says; within a group, smallest data first."""
    ready = [m for m in machines if m.verdict == READY]
    after = [m for m in machines if m.verdict == AFTER_ACTIONS]
    unread = [m for m in machines if m.verdict == UNREADABLE]
    blocked: dict[tuple[str, ...], list[Machine]] = {}
    for m in machines:
        if m.verdict == BLOCKED:
            blocked.setdefault(m.rules("blocker"), []).append(m)
    groups: list[tuple[str, list[Machine]]] = []
    if ready:
        groups.append(("ready", ready))
    if after:
        groups.append(("ready after actions", after))
    for rules, members in sorted(blocked.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        groups.append(("blocked by " + (", ".join(rules) or "unknown rules"), members))
    if unread:
        groups.append(("could not read: collect again", unread))
    return [(label, sorted(ms, key=lambda m: (m.bytes_to_move, m.ident))) for label, ms in groups]


def suggest(machines: Sequence[Machine], wave_size: int, first: int = 1) -> list[tuple[int, str, list[Machine]]]:
    """Suggested waves numbered from first: (number, label, machines)."""
    waves = []
    number = first
    for label, members in _groups(machines):
        parts = [members[k:k + wave_size] for k in range(0, len(members), wave_size)]
        for k, part in enumerate(parts):
            waves.append((number, label if len(parts) == 1 else f"{label} ({k + 1}/{len(parts)})", part))
            number += 1
    return waves


def plan_waves(machines: Sequence[Machine], wave_size: int = DEFAULT_WAVE_SIZE,
               edited: Assignment | None = None) -> tuple[Wave, ...]:
    """Every machine in exactly one wave: as the edited file says, the rest suggested after its last wave."""
    if wave_size < 1:
        raise InputError(f"--wave-size: {wave_size} is not a positive number")
    by_ident = {m.ident: m for m in machines}
    members: dict[int, list[Machine]] = {}
    labels: dict[int, str] = {}
    placed: set[str] = set()
    if edited is not None:
        for ident in edited.order:
            if ident in by_ident:
                number = edited.waves[ident]
                members.setdefault(number, []).append(by_ident[ident])
                placed.add(ident)
        for number in members:
            labels[number] = edited.labels.get(number) or f"wave {number}"
    rest = [m for m in machines if m.ident not in placed]
    for number, label, part in suggest(rest, wave_size, max(members, default=0) + 1):
        members[number] = part
        labels[number] = label
    return tuple(
        Wave(number, labels[number], tuple(m.ident for m in ms), sum(m.bytes_to_move for m in ms),
             sum(m.estimated_seconds for m in ms), sum(1 for m in ms if m.report is None))
        for number, ms in sorted(members.items())
    )


def render_csv(waves: Sequence[Wave], machines: Sequence[Machine]) -> str:
    """waves.csv: one row per machine, in wave order, with the numbers a person deciding the order needs."""
    by_ident = {m.ident: m for m in machines}
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for wave in waves:
        for ident in wave.machines:
            m = by_ident[ident]
            writer.writerow([wave.number, csv_cell(wave.label), ident, csv_cell(m.name), m.verdict,
                             " ".join(m.rules("blocker")), m.bytes_to_move, m.estimated_seconds])
    return "\ufeff" + buf.getvalue()


def read_csv(text: str, name: str) -> Assignment:
    """An edited waves.csv; InputError naming the file and line for anything it cannot use."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    for needed in ("wave", "machine"):
        if needed not in header:
            raise InputError(f"{name}: no {needed!r} column (the header must name at least wave and machine)")
    reader.fieldnames = header
    waves: dict[str, int] = {}
    labels: dict[int, str] = {}
    order: list[str] = []
    for row in reader:
        line = reader.line_num
        ident = (row.get("machine") or "").strip()
        raw = (row.get("wave") or "").strip()
        if not ident and not raw:
            continue  # a blank line left by a spreadsheet
        if not ident:
            raise InputError(f"{name}: line {line}: the machine column is empty")
        try:
            number = int(raw)
        except ValueError:
            number = 0
        if number < 1:
            raise InputError(f"{name}: line {line}: wave {raw!r} of {ident} is not a whole number from 1 up")
        if ident in waves:
            raise InputError(f"{name}: line {line}: machine {ident} is listed twice")
        waves[ident] = number
        order.append(ident)
        label = (row.get("label") or "").strip()
        if label.startswith("'"):
            label = label[1:]
        if label and number not in labels:
            labels[number] = label
    return Assignment(waves, labels, tuple(order))
