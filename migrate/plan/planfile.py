"""plan.toml: write a plan with its reasons as comments, read it back strictly, and re-plan keeping user edits."""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
import tomllib
from collections.abc import Mapping
from typing import Any

import tomlkit
import tomlkit.exceptions
from tomlkit.items import Comment, Item, Table

from migrate.plan.gcpause import gc_paused
from migrate.errors import InputError, InternalError
from migrate.plan import tomlfast
from migrate.plan.model import (
    CONTAINER_STRATEGIES,
    IMAGE_STRATEGIES,
    NETWORK_STRATEGIES,
    PLAN_SCHEMA,
    VOLUME_STRATEGIES,
    ComposePlan,
    ContainerPlan,
    HypervPlan,
    ImagePlan,
    NetworkPlan,
    Plan,
    SwitchPlan,
    VolumePlan,
)

HEADER = """\
wsl2-migrate plan. Review and edit the decisions, then: wsl2-migrate runbook plan.toml -o migrate.ps1
Strategies: images repull|save|skip; volumes copy|recreate|skip; networks recreate|skip;
containers recreate|compose|skip (commit = true commits the writable layer first).
Comments starting with 'why:' are rewritten when you re-plan; your own comments and edited values stay."""

HYPERV_HEADER = """\
The second source engine: Docker Desktop's Linux engine in the Hyper-V VM, beside the Windows engine. Its Linux
objects move to the WSL 2 engine too; the tables [hyperv.images.*], [hyperv.volumes.*], ... are its decisions.
url is where the runbook reaches it (its -HyperVEngine default); desktop_cli switches Desktop to Linux containers
when that engine does not answer."""

_WHY = "why: "
SECTIONS = {"images": ImagePlan, "volumes": VolumePlan, "networks": NetworkPlan, "containers": ContainerPlan}
_KEY = {"images": "id", "volumes": "name", "networks": "name", "containers": "name"}
EDITABLE = {
    "plan": ("backup_path", "helper_image", "helper_pull"),
    "switch": ("wsl_engine_enabled", "linux_containers", "remove_daemon_keys", "linux_daemon_remove",
               "linux_daemon_set", "expect_registry_mirrors", "expect_insecure_registries", "wslconfig",
               "enable_features", "hold_autostart", "file_sharing", "desktop_user", "old_vms", "desktop_exe",
               "min_windows_build", "min_windows_ubr", "desktop_upgrade", "desktop_installer", "wsl_install",
               "wsl_web_download", "wsl_msi", "wsl_min_version", "wsl_set_default_version", "wsl_data_dir"),
    "hyperv": ("url", "desktop_cli", "helper_image", "helper_pull"),
    "images": ("strategy", "reference", "platform", "archive"),
    "volumes": ("strategy", "options", "labels"),
    "networks": ("strategy", "args"),
    "containers": ("strategy", "commit", "start", "image", "create", "connect", "stop_timeout"),
}
"""Keys a user may edit; re-planning keeps their values for objects that still exist."""
_STRATEGIES = {"images": IMAGE_STRATEGIES, "volumes": VOLUME_STRATEGIES, "networks": NETWORK_STRATEGIES,
               "containers": CONTAINER_STRATEGIES}
_SKIP_FIELDS = {"why"}
_OMIT_EMPTY = {"source_tags", "plan_tag", "source_name", "findings", "kind_findings"}
"""Written only when set: an object renamed on the new engine, an image the run tags (most have neither), the
findings that shaped an object or a switch step."""


def plan_hash(text: str) -> str:
    """The plan's identity in the runbook and its journal."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


_BARE = re.compile(r"[A-Za-z0-9_-]+\Z")  # \Z: "$" would take a key ending in a newline as bare
_TO_ESCAPE = re.compile(r'[\x00-\x1f\x7f"\\]')
"""What toml_string escapes (most values have none of it)."""
_ESC = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def toml_string(s: str) -> str:
    """A TOML basic string: backslash, quote and every control character escaped; other text as is (UTF-8)."""
    if not _TO_ESCAPE.search(s):
        return '"' + s + '"'
    out = []
    for ch in s:
        if ch in _ESC:
            out.append(_ESC[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_key(k: str) -> str:
    """A bare key when it can be one, else a quoted key."""
    return k if _BARE.match(k) else toml_string(k)


def toml_value(v: Any, indent: str = "") -> str:
    """One TOML value: strings, booleans, integers, lists (one per line past four items or 100 characters), tables
    inline."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return toml_string(v)
    if isinstance(v, dict):
        if not v:
            return "{}"
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, (list, tuple)):
        items = [toml_string(x) if type(x) is str else toml_value(x, indent + "    ") for x in v]
        nested = any(isinstance(x, (list, tuple)) for x in v)
        if not items:
            return "[]"
        if len(items) <= 4 and not nested and sum(len(x) + 2 for x in items) <= 100:
            return "[" + ", ".join(items) + "]"
        inner = indent + "    "
        return "[\n" + "".join(f"{inner}{x},\n" for x in items) + indent + "]"
    raise InternalError(f"cannot write {type(v).__name__} to TOML")


def _lines(obj: Any, skip: set[str]) -> list[tuple[str | None, str]]:
    """(key, rendered line) pairs of an object's table; key None for comment lines."""
    out: list[tuple[str | None, str]] = [(None, "# " + _WHY + why) for why in getattr(obj, "why", ())]
    for name, key in _written_fields(type(obj)):
        if name in skip:
            continue
        v = getattr(obj, name)
        if v is None or (name in _OMIT_EMPTY and not v):
            continue
        if type(v) is str:
            out.append((name, f"{key} = {toml_string(v)}"))
            continue
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            v = {k: list(x) if isinstance(x, tuple) else x for k, x in dataclasses.asdict(v).items()}
        out.append((name, f"{key} = {toml_value(v)}"))
    return out


_WRITTEN: dict[type, tuple[tuple[str, str], ...]] = {}


def _written_fields(cls: type) -> tuple[tuple[str, str], ...]:
    """(field name, its TOML key) of a plan class, in order, without the fields written as comments (worked out
    once a class)."""
    fields = _WRITTEN.get(cls)
    if fields is None:
        fields = _WRITTEN[cls] = tuple((f.name, toml_key(f.name)) for f in dataclasses.fields(cls)
                                       if f.name not in _SKIP_FIELDS)
    return fields


def _carry_lines(lines: list[tuple[str | None, str]], old: Table | None, keys: tuple[str, ...], where: str,
                 notices: list[str]) -> list[str]:
    """The table's lines with the previous plan's own comments first and its values for the editable keys."""
    if old is None:
        return [line for _, line in lines]
    out = [c.as_string().rstrip("\r\n") for c in _user_comments(old)]
    for key, line in lines:
        if key is not None and key in keys and key in old:
            item = old.item(key)
            assert isinstance(item, Item)  # a key of a table is a value, never a table proxy
            kept = f"{toml_key(key)} = {item.as_string()}{item.trivia.comment_ws}{item.trivia.comment}".rstrip()
            if kept != line:
                if item.unwrap() != tomllib.loads(line)[key]:
                    notices.append(f"{where}.{key}: kept your value")
                line = kept
        out.append(line)
    return out


@gc_paused
def render_plan(plan: Plan, previous: str | None = None,
                previous_name: str = "plan.toml") -> tuple[str, list[str]]:
    """plan.toml text; with the previous plan's text, user edits and comments are carried. Returns notices too."""
    old = None
    if previous is not None:
        try:
            old = tomlkit.parse(previous)
        except (tomlkit.exceptions.TOMLKitError, RecursionError, ValueError) as e:
            raise InputError(f"{previous_name}: the plan to re-plan into is not valid TOML ({_first_line(e)}); "
                             "fix it or re-plan with --fresh") from None
    notices: list[str] = []

    def prev(section: str, name: str | None) -> Table | None:
        if old is None:
            return None
        found = old.get(section) if name is None else (old.get(section) or {}).get(name)
        return found if isinstance(found, Table) else None

    head: list[tuple[str | None, str]] = [("schema", f"schema = {toml_string(PLAN_SCHEMA)}")]
    for f in dataclasses.fields(plan):
        if f.name not in ("switch", "hyperv", *SECTIONS):
            head.append((f.name, f"{f.name} = {toml_value(getattr(plan, f.name))}"))
    blocks = ["\n".join("# " + line for line in HEADER.splitlines()),
              "\n".join(["[plan]", *_carry_lines(head, prev("plan", None), EDITABLE["plan"], "plan", notices)]),
              "\n".join(["[switch]", *_carry_lines(_lines(plan.switch, set()), prev("switch", None),
                                                    EDITABLE["switch"], "switch", notices)])]
    blocks += _object_blocks(plan, "", prev, notices)
    if plan.hyperv is not None:
        old_hyperv = prev("hyperv", None)
        blocks.append("\n".join(["[hyperv]", *(f"# {line}" for line in HYPERV_HEADER.splitlines()), *_carry_lines(
            _lines(plan.hyperv, set(SECTIONS)), old_hyperv, EDITABLE["hyperv"], "hyperv", notices)]))

        def prev_hyperv(section: str, name: str | None) -> Table | None:
            tables: Any = old_hyperv.get(section) if old_hyperv is not None else None
            found = tables.get(name) if isinstance(tables, Table) and name is not None else None
            return found if isinstance(found, Table) else None

        blocks += _object_blocks(plan.hyperv, "hyperv.", prev_hyperv, notices)
    return "\n\n".join(blocks) + "\n", notices


def _object_blocks(owner: Any, prefix: str, prev: Any, notices: list[str]) -> list[str]:
    """The tables of one engine's images, volumes, networks and containers (prefix: '' or 'hyperv.')."""
    blocks = []
    for section, key in _KEY.items():
        for obj in getattr(owner, section):
            name = getattr(obj, key)
            where = f"{prefix}{section}.{name}"
            body = _carry_lines(_lines(obj, {key}), prev(section, name), EDITABLE[section], where, notices)
            blocks.append("\n".join([f"[{prefix}{section}.{toml_key(name)}]", *body]))
    return blocks


def _first_line(e: BaseException) -> str:
    return (str(e).splitlines() or [type(e).__name__])[0][:200]


def _user_comments(t: Table) -> list[Comment]:
    return [item for k, item in t.value.body if k is None and isinstance(item, Comment)
            and not item.as_string().strip().lstrip("#").strip().startswith(_WHY.strip())]


# Reading ----------------------------------------------------------------------------------------------------


def _fail(file: str, where: str, what: str) -> InputError:
    return InputError(f"{file}: {where}: {what}")


@functools.lru_cache(maxsize=None)
def _fields(cls: type) -> dict[str, str]:
    """A plan dataclass's fields and the kind of value each takes (from its type hint), worked out once a class."""
    out = {}
    for f in dataclasses.fields(cls):
        hint = str(f.type)
        out[f.name] = next((kind for prefix, kind in _KINDS if hint.startswith(prefix)), "") if hint not in (
            "bool", "str") else hint
    return out


_KINDS = (("tuple[tuple", "lists"), ("tuple", "list"), ("dict[str, tuple", "table of lists"), ("dict", "table"),
          ("int", "int"), ("ComposePlan", "compose"))
"""Type-hint prefixes, first match wins, and the kind of value they stand for."""


def _build(cls: type, data: Mapping[str, Any], file: str, where: str) -> Any:
    fields = _fields(cls)
    if not fields.keys() >= data.keys():
        raise _fail(file, where, f"unknown key {sorted(set(data) - set(fields))[0]!r}")
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        kind = fields[name]
        # The common cases inline (a plan of 10,000 containers has 100,000 values); _coerce checks the rest.
        if kind == "str" and type(value) is str:
            kwargs[name] = value
        elif kind == "list" and type(value) is list and all(type(x) is str for x in value):
            kwargs[name] = tuple(value)
        else:
            kwargs[name] = _coerce(value, kind, file, f"{where}.{name}")
    try:
        return cls(**kwargs)
    except TypeError as e:
        raise _fail(file, where, f"missing key ({e})") from None


def _coerce(value: Any, kind: str, file: str, where: str) -> Any:
    if kind == "lists":
        if not isinstance(value, list) or not all(isinstance(x, list) and all(isinstance(y, str) for y in x)
                                                  for x in value):
            raise _fail(file, where, "expected a list of lists of strings")
        return tuple(tuple(x) for x in value)
    if kind == "list":
        if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
            raise _fail(file, where, "expected a list of strings")
        return tuple(value)
    if kind == "table of lists":
        if not isinstance(value, dict) or not all(isinstance(x, list) and all(isinstance(y, str) for y in x)
                                                  for x in value.values()):
            raise _fail(file, where, "expected a table of lists of strings")
        return {k: tuple(v) for k, v in value.items()}
    if kind == "table":
        if not isinstance(value, dict) or not all(isinstance(x, str) for x in value.values()):
            raise _fail(file, where, "expected a table of strings")
        return dict(value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise _fail(file, where, "expected true or false")
        return value
    if kind == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            raise _fail(file, where, "expected an integer")
        return value
    if kind == "str":
        if not isinstance(value, str):
            raise _fail(file, where, "expected a string")
        return value
    if kind == "compose":
        if not isinstance(value, dict):
            raise _fail(file, where, "expected a table")
        return _build(ComposePlan, value, file, where)
    return value


def _other_kind(text: str, file: str) -> str:
    """For a file that is plainly another kind (an inventory, JSON, a runbook): what it is, and what takes it."""
    head = text.lstrip("\ufeff \t\r\n")[:2000]
    if head.startswith("{") and "wsl2-migrate/inventory/" in head:
        return (f"{file}: is an inventory, not a plan; make a plan from it with "
                f"`wsl2-migrate plan {file} -o plan.toml`")
    if head.startswith(("{", "[")) and not head.startswith("[plan"):
        return f"{file}: is JSON, not a plan (the plan.toml that `wsl2-migrate plan` writes)"
    if head.startswith(("#Requires", "<#")):
        return f"{file}: is a PowerShell script, not a plan (the plan.toml that `wsl2-migrate plan` writes)"
    return ""


MAX_TOML_DEPTH = 16
"""Nesting levels of plan.toml: the plan's own tables and lists go 4 deep; deeper input is not a plan."""


@gc_paused
def parse_plan(text: str, file: str = "plan.toml") -> Plan:
    """A Plan from plan.toml text; InputError naming the file and key on anything wrong."""
    from migrate.inventory.textfile import check_depth, check_strings

    try:
        data = tomlfast.loads(text)  # tomllib's result and errors, at C speed on the plan's own layout
    except tomllib.TOMLDecodeError as e:
        raise InputError(_other_kind(text, file) or f"{file}: not valid TOML: {e}") from None
    except RecursionError:
        raise InputError(f"{file}: nested deeper than any plan ({MAX_TOML_DEPTH} levels); not a plan") from None
    check_depth(data, file, MAX_TOML_DEPTH)
    if "\0" in text or "\\u0000" in text.lower():
        check_strings(data, file)  # a NUL cannot reach a command line or a file name
    head = data.get("plan")
    if not isinstance(head, dict):
        raise _fail(file, "plan", "missing [plan] table")
    if head.get("schema") != PLAN_SCHEMA:
        raise _fail(file, "plan.schema", f"expected {PLAN_SCHEMA!r}, found {head.get('schema')!r}")
    head = {k: v for k, v in head.items() if k != "schema"}
    extra = sorted(set(data) - {"plan", "switch", "hyperv", *SECTIONS})
    if extra:
        raise _fail(file, extra[0], "unknown table")
    sections = _sections(data, file, "")
    if not isinstance(data.get("switch", {}), dict):
        raise _fail(file, "switch", "expected a table")
    switch = _build(SwitchPlan, data.get("switch", {}), file, "switch")
    _check_findings(switch.findings, file, "switch.findings")
    for kind, ids in switch.kind_findings.items():
        _check_findings(ids, file, f"switch.kind_findings.{kind}")
    hyperv = None
    if "hyperv" in data:
        table = data["hyperv"]
        if not isinstance(table, dict):
            raise _fail(file, "hyperv", "expected a table")
        own = {k: v for k, v in table.items() if k not in SECTIONS}
        hyperv = dataclasses.replace(_build(HypervPlan, own, file, "hyperv"), **_sections(table, file, "hyperv."))
    plan = _build(Plan, {**head, "switch": switch}, file, "plan")
    return dataclasses.replace(plan, hyperv=hyperv, **sections)


def _sections(data: Mapping[str, Any], file: str, prefix: str) -> dict[str, Any]:
    """One engine's images, volumes, networks and containers from their tables (prefix: '' or 'hyperv.')."""
    sections: dict[str, Any] = {}
    for section, cls in SECTIONS.items():
        table = data.get(section, {})
        if not isinstance(table, dict):
            raise _fail(file, prefix + section, "expected a table")
        items = []
        for name, body in table.items():
            where = f"{prefix}{section}.{name}"
            if not isinstance(body, dict):
                raise _fail(file, where, "expected a table")
            obj = _build(cls, {_KEY[section]: name, **body}, file, where)
            _check_findings(obj.findings, file, f"{where}.findings")
            if obj.strategy not in _STRATEGIES[section]:
                raise _fail(file, f"{where}.strategy",
                            f"{obj.strategy!r} is not one of {', '.join(_STRATEGIES[section])}")
            items.append(obj)
        sections[section] = tuple(items)
    _check_containers(sections["containers"], file)
    return sections


_RULE_ID = re.compile(r"[A-Z][A-Z0-9-]{0,31}[0-9]")
"""What a finding in plan.toml looks like: a rule id (DESK017, or a team rule's ACME-CTR001)."""


def _check_findings(ids: tuple[str, ...], file: str, where: str) -> None:
    """The rule ids a step carries into the runbook and its log: nothing else may ride along."""
    bad = next((i for i in ids if not _RULE_ID.fullmatch(i)), None)
    if bad is not None:
        raise _fail(file, where, f"{bad!r} is not a rule id")


def _check_containers(items: tuple[ContainerPlan, ...], file: str) -> None:
    for c in items:
        where = f"containers.{c.name}"
        if c.strategy == "recreate" and (len(c.create) < 2 or c.create[0] != "create"):
            raise _fail(file, f"{where}.create", "a recreated container needs docker arguments starting with 'create'")
        if c.strategy == "compose" and c.compose is None:
            raise _fail(file, where, "strategy 'compose' needs a compose table (project, service, working_dir, files)")
        if c.commit and not c.commit_ref:
            raise _fail(file, f"{where}.commit_ref", "commit = true needs a commit_ref (the image tag to commit to)")


def strip_reasons(plan: Plan) -> Plan:
    """The plan without its reasons (they live in `# why:` comments of plan.toml, not in its values)."""
    def bare(x: Any) -> Any:
        return dataclasses.replace(x, why=()) if hasattr(x, "why") else x

    sections: dict[str, Any] = {s: tuple(bare(x) for x in getattr(plan, s)) for s in SECTIONS}
    hyperv = plan.hyperv
    if hyperv is not None:
        own: dict[str, Any] = {s: tuple(bare(x) for x in getattr(hyperv, s)) for s in SECTIONS}
        hyperv = dataclasses.replace(hyperv, **own)
    return dataclasses.replace(plan, switch=dataclasses.replace(plan.switch, why=()),
                               hyperv=hyperv, **sections)
