"""fleet.csv and fleet.json: one row per machine for Excel, Power BI or a script (docs/fleet.md)."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from migrate.fleet.machine import LEVELS, Machine, csv_cell
from migrate.fleet.rollup import Fleet

SCHEMA = "wsl2-migrate/fleet/1"
"""Bumped only for incompatible changes; adding a key is compatible."""

COUNT_KINDS = ("images", "containers", "volumes", "networks")

CSV_COLUMNS = ("machine", "name", "bundle", "verdict", *LEVELS, "waived", "rules", "bytes_to_move",
               "estimated_seconds", "desktop_version", "windows_build", "windows_version", "wsl", "backend",
               *COUNT_KINDS, "blind_spots", "wave", "read_error")


def _percentiles(values: dict[int, int]) -> dict[str, int]:
    return {("max" if p == 100 else f"p{p}"): v for p, v in values.items()}


def machine_data(m: Machine, wave: int) -> dict[str, Any]:
    """One machine as fleet.json writes it; numbers of a bundle that was not read are null."""
    r = m.report
    return {
        "machine": m.ident,
        "name": m.name,
        "bundle": m.bundle,
        "verdict": m.verdict,
        "read_error": m.error,
        "findings": dict(r.findings) if r is not None else {level: 0 for level in LEVELS},
        "waived": r.waived if r is not None else 0,
        "rules": {level: list(m.rules(level)) for level in LEVELS},
        "bytes_to_move": r.bytes_to_move if r is not None else None,
        "estimated_seconds": r.estimated_seconds if r is not None else None,
        "desktop_version": m.host.desktop_version,
        "windows_build": m.host.windows_build,
        "windows_version": m.host.windows_version,
        "wsl": m.host.wsl,
        "backend": r.backend if r is not None else None,
        "counts": dict(r.counts) if r is not None else {},
        "blind_spots": r.blind_spots if r is not None else 0,
        "inventory_fingerprint": r.fingerprint if r is not None else "",
        "wave": wave,
        "report": f"machines/{m.ident}.json" if m.pages else None,
        "page": f"machines/{m.ident}.html" if m.pages else None,
    }


def wave_of(fleet: Fleet) -> dict[str, int]:
    """Machine ident -> its wave number."""
    return {ident: w.number for w in fleet.waves for ident in w.machines}


def render_json(fleet: Fleet) -> str:
    """fleet.json: totals, one object per machine, the waves; sorted keys, two-space indent, final newline."""
    return "".join(json_chunks(fleet))


def json_chunks(fleet: Fleet) -> Iterator[str]:
    """fleet.json's text in pieces, for writing a large fleet without holding the whole text."""
    waves = wave_of(fleet)
    doc = {
        "schema": SCHEMA,
        "tool_version": fleet.tool_version,
        "totals": {
            "machines": len(fleet.machines),
            "verdicts": dict(fleet.verdicts),
            "bytes_to_move": fleet.bytes_to_move,
            "estimated_seconds": fleet.estimated_seconds,
            "findings": dict(fleet.findings),
            "percentiles": {key: _percentiles(values) for key, values in fleet.percentiles.items()},
        },
        "machines": [machine_data(m, waves.get(m.ident, 0)) for m in fleet.machines],
        "waves": [{"wave": w.number, "label": w.label, "machines": list(w.machines),
                   "bytes_to_move": w.bytes_to_move, "estimated_seconds": w.estimated_seconds}
                  for w in fleet.waves],
    }
    encoder = json.JSONEncoder(indent=2, sort_keys=True, ensure_ascii=False)
    yield from encoder.iterencode(doc)
    yield "\n"


def render_csv(fleet: Fleet) -> str:
    """fleet.csv: the columns of CSV_COLUMNS, UTF-8 with a byte-order mark so Excel reads names right."""
    waves = wave_of(fleet)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for m in fleet.machines:
        d = machine_data(m, waves.get(m.ident, 0))
        rules = sorted({rule for level in LEVELS for rule in m.rules(level)})
        counts = d["counts"]
        writer.writerow([
            m.ident, csv_cell(m.name), csv_cell(m.bundle), m.verdict, *(d["findings"][level] for level in LEVELS),
            d["waived"], " ".join(rules), _blank(d["bytes_to_move"]), _blank(d["estimated_seconds"]),
            csv_cell(m.host.desktop_version), m.host.windows_build, csv_cell(m.host.windows_version),
            csv_cell(m.host.wsl),
            _blank(d["backend"]), *(_blank(counts.get(k)) for k in COUNT_KINDS), d["blind_spots"], d["wave"],
            csv_cell(m.error),
        ])
    return "\ufeff" + buf.getvalue()


def _blank(value: object) -> object:
    """None as an empty cell."""
    return "" if value is None else value
