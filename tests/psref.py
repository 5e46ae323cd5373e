"""Check PowerShell scripts against the cmdlet reference of Windows PowerShell 5.1 and PowerShell 7.4.

For every command whose name is a cmdlet of the reference table (tests/data/ps-reference/cmdlets.tsv) or a Verb-Noun
name, each named parameter must exist, by name, alias or unambiguous prefix (PowerShell's own binding rules), in
every version the call can run on; a Verb-Noun name that is neither a cmdlet nor a function of the same script fails.
A call runs on both versions unless an enclosing `if`/`elseif`/`else` tests `$PSVersionTable.PSVersion.Major` or
`$PSVersionTable.PSEdition` / `$PSEdition` against a literal (for example `if ($PSVersionTable.PSVersion.Major -ge
7) { 7-only code } else { 5.1 code }`): then only the versions that branch can run on are checked. Also flagged: .NET
members that Windows PowerShell 5.1 (.NET Framework 4.x) lacks, from a small hand-kept list, and `&&`/`||`.

Run `python -m tests.psref FILE...` to print the findings of any script.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tree_sitter import Node

from tests.psbranch import VERSIONS, branch_versions
from tests.psdotnet import dotnet_problems
from tests.pslint import text, walk
from tests.pslit import parse_powershell, syntax_problems
from tests.pstree import literal, unwrap

TABLE = Path(__file__).resolve().parent / "data" / "ps-reference" / "cmdlets.tsv"

MODULE_CAVEATS = {
    "DISM": "the DISM module fails in PowerShell 7 installed from the Store and in a 32-bit host "
            "(PowerShell/PowerShell#13866); dism.exe does not",
}
"""Modules documented for both versions that still do not load everywhere: their calls are reported as notes."""

_VERB_NOUN = re.compile(r"^[A-Za-z]+-[A-Za-z][A-Za-z0-9]*$")
_COMMON = "<commonparameters>"
_RISK = "<riskmitigationparameters>"


@dataclass(frozen=True)
class Command:
    """A cmdlet or function: what its parameters are called."""

    name: str
    module: str
    names: dict[str, str]
    """lower-case parameter name or alias -> the parameter's canonical name."""


@dataclass
class Reference:
    """The reference table: version -> lower-case cmdlet name -> Command (common parameters already merged in)."""

    cmdlets: dict[str, dict[str, Command]] = field(default_factory=dict)
    source: list[str] = field(default_factory=list)
    """The table's '#' header lines: where it came from."""


@dataclass(frozen=True)
class Finding:
    """One problem (severity 'error') or one thing a reviewer should know (severity 'note')."""

    line: int
    severity: str
    message: str

    def __str__(self) -> str:
        return f"{self.line}: {self.severity}: {self.message}"


def _names(field_text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in field_text.split():
        name, _, aliases = item.partition("=")
        out[name.lower()] = name
        for alias in filter(None, aliases.split(",")):
            out.setdefault(alias.lower(), name)
    return out


def load_reference(path: Path = TABLE) -> Reference:
    """Read the table written by tests/data/ps-reference/extract.py."""
    ref = Reference()
    rows: list[tuple[list[str], str, str, bool, dict[str, str]]] = []
    specials: dict[tuple[str, str], dict[str, str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            ref.source.append(line)
            continue
        versions, module, name, common, params = line.split("\t")
        names = _names(params)
        if name.startswith("<"):
            for version in versions.split(","):
                specials[(version, name.lower())] = names
            continue
        rows.append((versions.split(","), module, name, common == "1", names))
    for versions, module, name, common, names in rows:
        for version in versions:
            merged = dict(names)
            if common:
                for key, value in specials[(version, _COMMON)].items():
                    merged.setdefault(key, value)
            ref.cmdlets.setdefault(version, {})[name.lower()] = Command(name, module, merged)
    for version in VERSIONS:
        if version not in ref.cmdlets or (version, _COMMON) not in specials:
            raise ValueError(f"{path}: no rows for PowerShell {version}")
    ref.cmdlets["*common"] = {v: Command("<CommonParameters>", "*", specials[(v, _COMMON)]) for v in VERSIONS}
    ref.cmdlets["*risk"] = {v: Command("<RiskMitigationParameters>", "*", specials[(v, _RISK)]) for v in VERSIONS}
    return ref


# ---------------------------------------------------------------------------------------------------------------
# Functions of the script


def _attribute_name(attr: Node) -> str:
    name = next((c for c in attr.children if c.type == "attribute_name"), None)
    return text(name).lower() if name is not None else ""


def script_functions(root: Node, ref: Reference) -> dict[str, Command | None]:
    """lower-case function name -> its parameters (None: no param block, anything binds to $args)."""
    out: dict[str, Command | None] = {}
    for node in walk(root):
        if node.type != "function_statement":
            continue
        name = text(next(c for c in node.children if c.type == "function_name"))
        block = next((n for n in walk(node) if n.type == "param_block"), None)
        if block is None:
            out[name.lower()] = None
            continue
        names: dict[str, str] = {}
        advanced = False
        risk = False
        for attr in (a for a in block.children if a.type == "attribute_list"):
            for item in (a for a in attr.children if a.type == "attribute"):
                if _attribute_name(item) == "cmdletbinding":
                    advanced = True
                    risk = risk or "supportsshouldprocess" in text(item).lower()
        plist = next((c for c in block.children if c.type == "parameter_list"), None)
        for param in (p for p in (plist.children if plist else []) if p.type == "script_parameter"):
            var = next(c for c in param.children if c.type == "variable")
            pname = text(var).lstrip("$")
            if ":" in pname:
                pname = pname.split(":", 1)[1]
            names[pname.lower()] = pname
            for attr in (n for n in walk(param) if n.type == "attribute"):
                attr_name = _attribute_name(attr)
                if attr_name == "parameter":
                    advanced = True
                elif attr_name == "alias":
                    for arg in (n for n in walk(attr) if n.type == "string_literal"):
                        alias = literal(arg)
                        if alias:
                            names.setdefault(alias.lower(), pname)
        if advanced:
            for version in VERSIONS:
                extra = dict(ref.cmdlets["*common"][version].names)
                if risk:
                    extra.update(ref.cmdlets["*risk"][version].names)
                for key, value in extra.items():
                    names.setdefault(key, value)
        out[name.lower()] = Command(name, "script", names)
    return out


# ---------------------------------------------------------------------------------------------------------------
# Parameters


def resolve(token: str, names: dict[str, str]) -> tuple[str, str]:
    """How PowerShell binds -token: ('exact'|'prefix', name), ('ambiguous', 'A, B') or ('unknown', '')."""
    key = token.lower()
    if key in names:
        return "exact", names[key]
    found = sorted({value for name, value in names.items() if name.startswith(key)})
    if len(found) == 1:
        return "prefix", found[0]
    if found:
        return "ambiguous", ", ".join(found)
    return "unknown", ""


def _enclosing_scope(node: Node) -> Node:
    cur = node.parent
    while cur is not None and cur.type not in ("function_statement", "script_block_expression"):
        cur = cur.parent
    return cur if cur is not None else _root(node)


def _root(node: Node) -> Node:
    while node.parent is not None:
        node = node.parent
    return node


def splat_keys(variable: str, call: Node) -> list[str] | None:
    """The keys a hashtable splatted as @variable holds at call, from literal assignments before it in its scope."""
    scope = _enclosing_scope(call)
    name = variable.lower()
    keys: list[str] = []
    found = False
    for node in walk(scope):
        if node.start_byte >= call.start_byte:
            break
        if node.type != "assignment_expression":
            continue
        target = unwrap(node.children[0])
        value = node.child_by_field_name("value")
        target_text = re.sub(r"\s+", "", text(target)).lower()
        if target_text == f"${name}" and value is not None:
            hashes = [n for n in walk(value) if n.type == "hash_literal_expression"]
            if not hashes or text(unwrap(value)).lstrip()[:2] != "@{":
                return None  # an array (positional splat) or something computed
            found = True
            keys = []
            body = next((c for c in hashes[0].children if c.type == "hash_literal_body"), None)
            for entry in (e for e in (body.children if body else []) if e.type == "hash_entry"):
                key = literal(entry.children[0])
                if key is None:
                    return None
                keys.append(key)
        elif target.type == "element_access" and re.sub(r"\s+", "", text(target.children[0])).lower() == f"${name}":
            key = literal(unwrap(target.children[2])) if len(target.children) > 2 else None
            if key is None:
                return None
            keys.append(key)
        elif target.type == "member_access" and re.sub(r"\s+", "", text(target.children[0])).lower() == f"${name}":
            keys.append(text(target.children[-1]))
    return keys if found else None


# ---------------------------------------------------------------------------------------------------------------
# The check


def _command_name(command: Node) -> str | None:
    name = next((c for c in command.children if c.type == "command_name"), None)
    if name is None:
        return None
    value = text(name)
    if "\\" in value:
        module, _, value = value.rpartition("\\")
        if "." not in module and not module.isalpha():
            return None  # a path, not a module-qualified name
    return value


def check(source: str, ref: Reference) -> list[Finding]:
    """Every finding for one script, in source order."""
    tree = parse_powershell(source)
    root = tree.root_node
    functions = script_functions(root, ref)
    findings: list[Finding] = []

    def add(node: Node, severity: str, message: str) -> None:
        findings.append(Finding(node.start_point[0] + 1, severity, message))

    # Commands inside a part that does not parse are not seen: such a script is never clean.
    for problem in syntax_problems(tree):
        findings.append(Finding(0, "error", f"syntax: {problem}"))

    for node in walk(root):
        if node.type == "pipeline_chain_tail":
            add(node, "error", f"{text(node.children[0])} between pipelines is PowerShell 7+ syntax")
        if node.type != "command":
            continue
        name = _command_name(node)
        if name is None:
            continue
        versions, notes = branch_versions(node)
        for note in notes:
            add(node, "note", f"{name}: {note}")
        elements = next((c for c in node.children if c.type == "command_elements"), None)
        params: list[tuple[str, Node]] = []
        for element in elements.children if elements else []:
            if element.type == "command_parameter":
                token = text(element).lstrip("-\u2013\u2014\u2015").rstrip(":")
                if token[:1].isalpha():
                    params.append((token, element))
            elif text(element).startswith("@") and element.type != "command_argument_sep":
                variable = text(unwrap(element))
                if not re.fullmatch(r"@[A-Za-z_][A-Za-z0-9_]*", variable):
                    continue
                keys = splat_keys(variable[1:], node)
                if keys is None:
                    add(element, "note", f"{name}: the keys of {variable} are not known here; not checked")
                else:
                    params += [(key, element) for key in keys]
        if name.lower() in functions:
            spec = functions[name.lower()]
            if spec is None:
                continue
            for token, where in params:
                how, found = resolve(token, spec.names)
                if how in ("unknown", "ambiguous"):
                    add(where, "error", f"{name} -{token}: {how} parameter of the function in this script"
                        + (f" ({found})" if found else ""))
                elif how == "prefix":
                    add(where, "note", f"{name} -{token}: prefix of -{found}")
            continue
        known = {v: ref.cmdlets[v].get(name.lower()) for v in sorted(versions)}
        if not any(known.values()) and not _VERB_NOUN.match(name):
            continue  # a native program or an external script
        missing = [v for v, c in known.items() if c is None]
        if missing:
            add(node, "error", f"{name} is not a cmdlet of PowerShell {', '.join(missing)} in the reference "
                "nor a function of this script")
        modules = {c.module for c in known.values() if c is not None}
        for module in sorted(modules & set(MODULE_CAVEATS)):
            add(node, "note", f"{name}: {MODULE_CAVEATS[module]}")
        results: dict[tuple[str, str, str, int], list[str]] = {}
        for version, cmdlet in known.items():
            if cmdlet is None:
                continue
            for token, where in params:
                how, found = resolve(token, cmdlet.names)
                results.setdefault((token, how, found, where.start_byte), []).append(version)
        where_by_byte = {w.start_byte: w for _, w in params}
        for (token, how, found, byte), in_versions in results.items():
            where = where_by_byte[byte]
            label = ", ".join(in_versions)
            if how == "unknown":
                add(where, "error", f"{name} -{token}: no such parameter in PowerShell {label}")
            elif how == "ambiguous":
                add(where, "error", f"{name} -{token}: ambiguous in PowerShell {label} ({found})")
            elif how == "prefix":
                add(where, "note", f"{name} -{token}: prefix of -{found} in PowerShell {label}")
    for node, why in dotnet_problems(root):
        versions, _ = branch_versions(node)
        if "5.1" in versions:
            add(node, "error", f"{text(node)[:60]!r}: {why}; Windows PowerShell 5.1 reaches it")
    findings.sort(key=lambda f: (f.line, f.severity, f.message))
    return findings


def main(argv: list[str]) -> int:
    ref = load_reference()
    errors = 0
    for name in argv:
        for finding in check(Path(name).read_text(encoding="utf-8-sig"), ref):
            errors += finding.severity == "error"
            print(f"{name}:{finding}")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
