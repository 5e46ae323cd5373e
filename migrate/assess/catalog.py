"""Load and validate rule files (TOML) into a Catalog; every problem is one InputError naming file and rule."""
from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migrate.assess.kinds import kind_of
from migrate.assess.messages import TemplateError, compile_template
from migrate.assess.paths import PathError, check_path, parse_path
from migrate.assess.predicates import Pred, PredicateError, compile_predicate
from migrate.assess.tomlread import parse_toml
from migrate.datafiles import data_root
from migrate.errors import InputError, RuleError
from migrate.inventory.textfile import decode_bytes
from migrate.model import (
    BACKENDS,
    SEVERITIES,
    Container,
    DecodeError,
    Engine,
    FileFact,
    HostFacts,
    Image,
    Inventory,
    Network,
    Settings,
    Volume,
    from_data,
)

AREAS = ("HOST", "DESK", "LCOW", "CTR", "IMG", "VOL", "NET", "ENG", "FILE")
ID_PATTERN = re.compile(r"^(?:[A-Z][A-Z0-9]*-)?(" + "|".join(AREAS) + r")[0-9]{3}$")

SUBJECTS: dict[str, tuple[str, type]] = {
    "images": ("image", Image),
    "containers": ("container", Container),
    "volumes": ("volume", Volume),
    "networks": ("network", Network),
    "files": ("file", FileFact),
    "settings": ("settings", Settings),
    "host": ("host", HostFacts),
    "engine": ("engine", Engine),
    "inventory": ("inventory", Inventory),
}
"""Rule subject -> (Finding.subject_kind, the model type its field paths start at)."""

REQUIRED_KEYS = ("id", "title", "severity", "backends", "subject", "when", "message", "why", "fix", "plan",
                 "references", "example")
OPTIONAL_KEYS = ("file",)
EXAMPLE_KEYS = ("expect", "inventory", "note")


@dataclass(frozen=True)
class Example:
    """A pass or fail case of a rule: a partial inventory expanded with defaults."""

    expect: str
    inventory: Inventory
    data: dict[str, Any]
    """The partial inventory as written."""
    note: str = ""


@dataclass(frozen=True)
class Rule:
    """One rule of the catalog."""

    id: str
    title: str
    severity: str
    backends: tuple[str, ...]
    subject: str
    when: Pred
    message: str
    why: str
    fix: str
    plan: str
    references: tuple[str, ...]
    examples: tuple[Example, ...]
    source: str
    """The rule file it came from."""
    file: str = ""
    """Field path of the file a finding points at, '' when none."""

    @property
    def area(self) -> str:
        """The area prefix (HOST, DESK, ...)."""
        m = ID_PATTERN.match(self.id)
        return m.group(1) if m else ""

    @property
    def subject_kind(self) -> str:
        """Finding.subject_kind for this rule's subjects."""
        return SUBJECTS[self.subject][0]


@dataclass(frozen=True)
class Catalog:
    """The loaded rules, ordered by id."""

    rules: tuple[Rule, ...]

    def get(self, rule_id: str) -> Rule | None:
        """The rule with this id (case-insensitive), or None."""
        wanted = rule_id.strip().upper()
        return next((r for r in self.rules if r.id.upper() == wanted), None)

    @property
    def ids(self) -> tuple[str, ...]:
        """Every rule id, in order."""
        return tuple(r.id for r in self.rules)


# ---------------------------------------------------------------------------------------------------


def builtin_rule_files() -> list[tuple[str, bytes]]:
    """(name, bytes) of the built-in rule files: package migrate._rules, else the repository's rules/ folder."""
    root = data_root("migrate._rules", "rules")
    files = sorted((e for e in root.iterdir() if e.name.endswith(".toml")), key=lambda e: e.name)
    return [(str(e), e.read_bytes()) for e in files]


def load_catalog(extra_dirs: Sequence[Path] = ()) -> Catalog:
    """The built-in rules plus every *.toml in extra_dirs; InputError on any invalid rule or duplicate id."""
    files = builtin_rule_files()
    for d in extra_dirs:
        d = Path(d)
        if not d.is_dir():
            raise InputError(f"{d}: rules directory not found")
        for p in sorted(d.glob("*.toml")):
            try:
                files.append((str(p), p.read_bytes()))
            except OSError as exc:
                raise InputError(f"{p}: cannot read ({exc.strerror or exc})") from None
    rules: dict[str, Rule] = {}
    for name, raw in files:
        for rule in load_rule_file(name, raw):
            if rule.id in rules:
                raise InputError(f"{name}: rule {rule.id}: duplicate id (already defined in {rules[rule.id].source})")
            rules[rule.id] = rule
    return Catalog(tuple(rules[k] for k in sorted(rules)))


def load_rule_file(name: str, raw: bytes) -> list[Rule]:
    """Parse and validate one rule file's bytes."""
    text, _ = decode_bytes(raw, name)
    data = parse_toml(text, name)
    extra = sorted(set(data) - {"rule"})
    if extra:
        raise InputError(f"{name}: unknown top-level key {extra[0]!r} (a rule file holds [[rule]] tables)")
    entries = data.get("rule", [])
    if not isinstance(entries, list):
        raise InputError(f"{name}: 'rule' must be an array of tables ([[rule]])")
    rules = []
    seen: set[str] = set()
    for i, entry in enumerate(entries, 1):
        label = f"rule #{i}"
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            label = f"rule {entry['id']}"
        try:
            rule = _build_rule(entry, name)
        except RuleError as exc:
            raise RuleError(f"{name}: {label}: {exc}") from None
        if rule.id in seen:
            raise InputError(f"{name}: rule {rule.id}: duplicate id in the same file")
        seen.add(rule.id)
        rules.append(rule)
    return rules


def _text(entry: dict[str, Any], key: str) -> str:
    value = entry[key]
    if not isinstance(value, str) or not value.strip():
        raise RuleError(f"{key!r} must be a non-empty string")
    return value.strip()


def _build_rule(entry: Any, source: str) -> Rule:
    if not isinstance(entry, dict):
        raise RuleError("a rule is a table")
    unknown = sorted(set(entry) - set(REQUIRED_KEYS) - set(OPTIONAL_KEYS))
    if unknown:
        raise RuleError(f"unknown key {unknown[0]!r}")
    missing = [k for k in REQUIRED_KEYS if k not in entry]
    if missing:
        raise RuleError(f"missing key {missing[0]!r}")
    rule_id = _text(entry, "id")
    if not ID_PATTERN.match(rule_id):
        raise RuleError(f"id {rule_id!r} must be an area ({', '.join(AREAS)}) and three digits, as in CTR001")
    severity = entry["severity"]
    if severity not in SEVERITIES:
        raise RuleError(f"severity {severity!r} is not one of {', '.join(SEVERITIES)}")
    backends = entry["backends"]
    if not isinstance(backends, list) or not backends:
        raise RuleError("'backends' must be a non-empty list")
    for b in backends:
        if b not in BACKENDS:
            raise RuleError(f"unknown backend {b!r} (known: {', '.join(BACKENDS)})")
    subject = entry["subject"]
    if subject not in SUBJECTS:
        raise RuleError(f"subject {subject!r} is not one of {', '.join(SUBJECTS)}")
    root = SUBJECTS[subject][1]
    try:
        when = compile_predicate(entry["when"], root)
    except PredicateError as exc:
        raise RuleError(f"when: {exc}") from None
    message = _text(entry, "message")
    try:
        compile_template(message, root)
    except TemplateError as exc:
        raise RuleError(str(exc)) from None
    file_path = entry.get("file", "")
    if file_path:
        try:
            if check_path(parse_path(file_path), root) not in (str, Any):
                raise RuleError(f"'file' {file_path!r} must name a string field")
        except PathError as exc:
            raise RuleError(f"file: {exc}") from None
    plan = entry["plan"]
    if not isinstance(plan, str):
        raise RuleError("'plan' must be a string ('' when the planner does nothing)")
    # A typo would silently drop a step: the kind must be one the planner knows (migrate/assess/kinds.py).
    kind_of(plan.strip())
    refs = entry["references"]
    if not isinstance(refs, list) or not refs or not all(isinstance(r, str) and r.startswith("https://") for r in refs):
        raise RuleError("'references' must be a non-empty list of https:// URLs")
    examples = entry["example"]
    if not isinstance(examples, list) or not examples:
        raise RuleError("'example' must be an array of tables ([[rule.example]])")
    built = tuple(_build_example(e, n, backends[0]) for n, e in enumerate(examples, 1))
    return Rule(
        id=rule_id, title=_text(entry, "title"), severity=severity, backends=tuple(backends), subject=subject,
        when=when, message=message, why=_text(entry, "why"), fix=_text(entry, "fix"), plan=plan.strip(),
        references=tuple(refs), examples=built, source=source, file=file_path,
    )


def _build_example(entry: Any, n: int, backend: str) -> Example:
    if not isinstance(entry, dict):
        raise RuleError(f"example {n} is not a table")
    unknown = sorted(set(entry) - set(EXAMPLE_KEYS))
    if unknown:
        raise RuleError(f"example {n}: unknown key {unknown[0]!r}")
    if entry.get("expect") not in ("pass", "fail"):
        raise RuleError(f"example {n}: 'expect' must be \"pass\" or \"fail\"")
    data = entry.get("inventory", {})
    if not isinstance(data, dict):
        raise RuleError(f"example {n}: 'inventory' must be a table")
    try:
        inv = from_data(Inventory, expand_example(data, backend))
    except DecodeError as exc:
        raise RuleError(f"example {n}: inventory {exc}") from None
    return Example(entry["expect"], inv, data, str(entry.get("note", "")))


# ---------------------------------------------------------------------------------------------------
# Example expansion: fill in what a partial inventory leaves out.


def expand_example(data: dict[str, Any], backend: str) -> dict[str, Any]:
    """A partial inventory completed: default backend kind, placeholders for required fields of list items."""
    out = dict(data)
    bk = dict(out.get("backend", {})) if isinstance(out.get("backend"), dict) else out.get("backend")
    if isinstance(bk, dict) or bk is None:
        bk = bk or {}
        bk.setdefault("kind", backend)
        out["backend"] = bk
    counter = [0]
    return _fill(Inventory, out, counter)


def _fill(tp: Any, data: Any, counter: list[int]) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return _fill(args[0], data, counter) if len(args) == 1 and data is not None else data
    if isinstance(tp, type) and dataclasses.is_dataclass(tp) and isinstance(data, dict):
        hints = typing.get_type_hints(tp)
        out = {k: _fill(hints[k], v, counter) if k in hints else v for k, v in data.items()}
        for f in dataclasses.fields(tp):
            if f.name in out or f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING:
                continue
            counter[0] += 1
            hint = hints[f.name]
            if f.name == "id":
                out[f.name] = f"sha256:{counter[0]:064d}"
            elif f.name == "name":
                out[f.name] = f"{tp.__name__.lower()}-{counter[0]}"
            elif hint is int:
                out[f.name] = 0
            else:
                out[f.name] = ""
        return out
    if origin is tuple and isinstance(data, list):
        items = typing.get_args(tp)
        return [_fill(items[0], v, counter) for v in data] if items else data
    return data
