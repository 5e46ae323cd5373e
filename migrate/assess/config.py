"""wsl2-migrate.toml: severity changes, disabled rules, waivers with reasons and expiry dates."""
from __future__ import annotations

import datetime
import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrate.assess.catalog import Catalog
from migrate.assess.tomlread import parse_toml
from migrate.errors import InputError
from migrate.inventory.textfile import read_text
from migrate.model import SEVERITIES

CONFIG_NAME = "wsl2-migrate.toml"


@dataclass(frozen=True)
class Waiver:
    """A finding accepted for one rule and the subjects matching a glob, with the reason why."""

    rule: str
    subject: str
    """An exact subject name or a glob (*, ?, [..])."""
    reason: str
    expires: datetime.date | None = None
    entry: int = 0
    """Its position among the [[waiver]] tables, from 1."""

    def matches(self, rule: str, subject: str) -> bool:
        """Whether this waiver covers a finding of rule on subject."""
        return self.rule == rule and fnmatch.fnmatchcase(subject, self.subject)

    def expired(self, today: datetime.date) -> bool:
        """Whether the expiry date has passed (a waiver is still valid on its expiry date)."""
        return self.expires is not None and today > self.expires


@dataclass(frozen=True)
class Config:
    """The assessment configuration; the default is no changes."""

    file: str = ""
    severities: dict[str, str] = field(default_factory=dict)
    disabled: frozenset[str] = frozenset()
    waivers: tuple[Waiver, ...] = ()
    backup_dir: str = ""
    """Where the plan writes backups; decides the drive whose free space HOST rules check (default C:)."""


def load_config(path: Path | None, catalog: Catalog) -> Config:
    """Read a wsl2-migrate.toml; None gives the default Config. InputError names the file and entry."""
    if path is None:
        return Config()
    name = str(path)
    text, _ = read_text(path)
    return parse_config(text, name, catalog)


def _table(data: dict[str, Any], key: str, name: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise InputError(f"{name}: [{key}] must be a table")
    return value


def _rule_id(value: Any, where: str, name: str, catalog: Catalog) -> str:
    if not isinstance(value, str) or catalog.get(value) is None:
        raise InputError(f"{name}: {where}: unknown rule id {value!r}")
    rule = catalog.get(value)
    assert rule is not None
    return rule.id


def parse_config(text: str, name: str, catalog: Catalog) -> Config:
    """Validate configuration text (see docs/config.md) against the catalog."""
    data = parse_toml(text, name)
    unknown = sorted(set(data) - {"rules", "waiver", "assess"})
    if unknown:
        raise InputError(f"{name}: unknown key {unknown[0]!r} (expected [rules], [[waiver]], [assess])")
    rules = _table(data, "rules", name)
    extra = sorted(set(rules) - {"disable", "severity"})
    if extra:
        raise InputError(f"{name}: [rules]: unknown key {extra[0]!r} (expected disable, severity)")
    disable = rules.get("disable", [])
    if not isinstance(disable, list):
        raise InputError(f"{name}: [rules] disable must be a list of rule ids")
    disabled = frozenset(_rule_id(r, "[rules] disable", name, catalog) for r in disable)
    sev_table = rules.get("severity", {})
    if not isinstance(sev_table, dict):
        raise InputError(f"{name}: [rules.severity] must be a table of RULE = \"severity\"")
    severities = {}
    for rid, sev in sev_table.items():
        canonical = _rule_id(rid, f"[rules.severity] {rid}", name, catalog)
        if sev not in SEVERITIES:
            raise InputError(f"{name}: [rules.severity] {rid}: {sev!r} is not one of {', '.join(SEVERITIES)}")
        severities[canonical] = sev
    assess = _table(data, "assess", name)
    extra = sorted(set(assess) - {"backup_dir"})
    if extra:
        raise InputError(f"{name}: [assess]: unknown key {extra[0]!r} (expected backup_dir)")
    backup_dir = assess.get("backup_dir", "")
    if not isinstance(backup_dir, str):
        raise InputError(f"{name}: [assess] backup_dir must be a string")
    waivers_data = data.get("waiver", [])
    if not isinstance(waivers_data, list):
        raise InputError(f"{name}: 'waiver' must be an array of tables ([[waiver]])")
    waivers = tuple(_waiver(w, i, name, catalog) for i, w in enumerate(waivers_data, 1))
    return Config(name, severities, disabled, waivers, backup_dir)


def _waiver(entry: Any, n: int, name: str, catalog: Catalog) -> Waiver:
    where = f"waiver #{n}"
    if not isinstance(entry, dict):
        raise InputError(f"{name}: {where}: must be a table")
    extra = sorted(set(entry) - {"rule", "subject", "reason", "expires"})
    if extra:
        raise InputError(f"{name}: {where}: unknown key {extra[0]!r} (expected rule, subject, reason, expires)")
    rule = _rule_id(entry.get("rule"), where, name, catalog)
    where = f"waiver #{n} ({rule})"
    subject = entry.get("subject")
    if not isinstance(subject, str) or not subject:
        raise InputError(f"{name}: {where}: 'subject' is required (a subject name or a glob such as \"*\")")
    reason = entry.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise InputError(f"{name}: {where}: 'reason' is required and must say why the finding is accepted")
    expires = entry.get("expires")
    if expires is not None:
        expires = _date(expires, f"{name}: {where}")
    return Waiver(rule, subject, reason.strip(), expires, n)


def _date(value: Any, where: str) -> datetime.date:
    if isinstance(value, datetime.datetime):
        raise InputError(f"{where}: 'expires' must be a date (YYYY-MM-DD), not a date-time")
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InputError(f"{where}: 'expires' {value!r} is not a date (YYYY-MM-DD)")
