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
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tree_sitter import Node

from tests.pslit import decode_powershell_single_quoted, parse_powershell, syntax_problems

TABLE = Path(__file__).resolve().parent / "data" / "ps-reference" / "cmdlets.tsv"
VERSIONS = {"5.1": (5, "desktop"), "7.4": (7, "core")}
"""Each checked version with what `$PSVersionTable.PSVersion.Major` and `.PSEdition` (lower-case) say there."""

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


def walk(node: Node) -> Iterator[Node]:
    """node and its descendants, depth first, in source order."""
    stack = [node]
    while stack:
        cur = stack.pop()
        yield cur
        stack.extend(reversed(cur.children))


def _text(node: Node) -> str:
    return (node.text or b"").decode("utf-8")


def _literal(node: Node) -> str | None:
    """The value of a simple string literal or bare word, else None."""
    raw = _text(node).strip()
    if raw[:1] in "'\u2018\u2019\u201a\u201b":
        try:
            return decode_powershell_single_quoted(raw)
        except ValueError:
            return None
    if len(raw) >= 2 and raw[0] == raw[-1] == '"' and not re.search(r'[`$"]', raw[1:-1]):
        return raw[1:-1]
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", raw):
        return raw
    return None


# ---------------------------------------------------------------------------------------------------------------
# Functions of the script


def _attribute_name(attr: Node) -> str:
    name = next((c for c in attr.children if c.type == "attribute_name"), None)
    return _text(name).lower() if name is not None else ""


def script_functions(root: Node, ref: Reference) -> dict[str, Command | None]:
    """lower-case function name -> its parameters (None: no param block, anything binds to $args)."""
    out: dict[str, Command | None] = {}
    for node in walk(root):
        if node.type != "function_statement":
            continue
        name = _text(next(c for c in node.children if c.type == "function_name"))
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
                    risk = risk or "supportsshouldprocess" in _text(item).lower()
        plist = next((c for c in block.children if c.type == "parameter_list"), None)
        for param in (p for p in (plist.children if plist else []) if p.type == "script_parameter"):
            var = next(c for c in param.children if c.type == "variable")
            pname = _text(var).lstrip("$")
            if ":" in pname:
                pname = pname.split(":", 1)[1]
            names[pname.lower()] = pname
            for attr in (n for n in walk(param) if n.type == "attribute"):
                attr_name = _attribute_name(attr)
                if attr_name == "parameter":
                    advanced = True
                elif attr_name == "alias":
                    for arg in (n for n in walk(attr) if n.type == "string_literal"):
                        alias = _literal(arg)
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
# Version branches

_OPERATORS = {
    "eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "ge": lambda a, b: a >= b,
    "gt": lambda a, b: a > b, "le": lambda a, b: a <= b, "lt": lambda a, b: a < b,
}
_VERSION_WORDS = ("$psversiontable", "$psedition", "$iscoreclr")


def _unwrap(node: Node) -> Node:
    """The single meaningful node below the expression chain tree-sitter builds around a value."""
    while node.type not in ("string_literal", "type_literal", "variable", "hash_literal_expression"):
        named = [c for c in node.children if c.is_named]
        if node.type == "parenthesized_expression":
            inner = [c for c in node.children if c.type not in ("(", ")")]
            if len(inner) == 1:
                node = inner[0]
                continue
        if len(node.children) == 1 and len(named) == 1:
            node = named[0]
            continue
        return node
    return node


def _operand(node: Node, version: str) -> object:
    node = _unwrap(node)
    key = re.sub(r"\s+", "", _text(node)).lower()
    major, edition = VERSIONS[version]
    if key == "$psversiontable.psversion.major":
        return major
    if key in ("$psversiontable.psedition", "$psedition"):
        return edition
    if node.type in ("integer_literal", "decimal_integer_literal"):
        return int(_text(node))
    literal = _literal(node)
    return literal.lower() if literal is not None and node.type == "string_literal" else None


def _condition(node: Node, version: str) -> bool | None:
    """What a condition is on version: True, False, or None when it does not depend on the version alone."""
    node = _unwrap(node)
    kids = node.children
    if node.type == "logical_expression" and len(kids) == 3:
        left, right = _condition(kids[0], version), _condition(kids[2], version)
        op = _text(kids[1]).lower()
        if op == "-and":
            return False if False in (left, right) else (True if left is right is True else None)
        if op == "-or":
            return True if True in (left, right) else (False if left is right is False else None)
        return None
    if node.type == "expression_with_unary_operator" and len(kids) == 2 and _text(kids[0]).lower() in ("-not", "!"):
        inner = _condition(kids[1], version)
        return None if inner is None else not inner
    if node.type == "comparison_expression" and len(kids) == 3:
        op = _text(kids[1]).lower().lstrip("-")
        op = op[1:] if op[:1] in ("i", "c") and op[1:] in _OPERATORS else op
        left, right = _operand(kids[0], version), _operand(kids[2], version)
        if op in _OPERATORS and left is not None and right is not None and type(left) is type(right):
            return bool(_OPERATORS[op](left, right))
    return None


def _mentions_version(node: Node) -> bool:
    return any(word in _text(node).lower() for word in _VERSION_WORDS)


def _clause_condition(clause: Node) -> Node | None:
    return next((c for c in clause.children if c.type == "pipeline"), None)


def branch_versions(node: Node) -> tuple[set[str], list[str]]:
    """The versions node can run on, from enclosing version tests; and notes on tests not understood."""
    versions = set(VERSIONS)
    notes: list[str] = []
    child, cur = node, node.parent
    while cur is not None:
        if child.type == "statement_block" and cur.type in ("if_statement", "elseif_clause", "else_clause"):
            statement = cur if cur.type == "if_statement" else cur.parent
            if statement is not None and statement.type == "elseif_clauses":
                statement = statement.parent
            if statement is None or statement.type != "if_statement":
                break
            clauses = [statement] + [c for e in statement.children if e.type == "elseif_clauses"
                                     for c in e.children if c.type == "elseif_clause"]
            # Versions reach this branch when every earlier condition may be false and this one may be true.
            for version in list(versions):
                for clause in clauses:
                    cond = _clause_condition(clause)
                    value = _condition(cond, version) if cond is not None else None
                    if cond is not None and value is None and _mentions_version(cond):
                        notes.append(f"version test not understood: {_text(cond)[:60]!r}")
                    if clause is cur:
                        if value is False:
                            versions.discard(version)
                        break
                    if value is True:
                        versions.discard(version)
                        break
        child, cur = cur, cur.parent
    return versions, sorted(set(notes))


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
        target = _unwrap(node.children[0])
        value = node.child_by_field_name("value")
        target_text = re.sub(r"\s+", "", _text(target)).lower()
        if target_text == f"${name}" and value is not None:
            hashes = [n for n in walk(value) if n.type == "hash_literal_expression"]
            if not hashes or _text(_unwrap(value)).lstrip()[:2] != "@{":
                return None  # an array (positional splat) or something computed
            found = True
            keys = []
            body = next((c for c in hashes[0].children if c.type == "hash_literal_body"), None)
            for entry in (e for e in (body.children if body else []) if e.type == "hash_entry"):
                key = _literal(entry.children[0])
                if key is None:
                    return None
                keys.append(key)
        elif target.type == "element_access" and re.sub(r"\s+", "", _text(target.children[0])).lower() == f"${name}":
            key = _literal(_unwrap(target.children[2])) if len(target.children) > 2 else None
            if key is None:
                return None
            keys.append(key)
        elif target.type == "member_access" and re.sub(r"\s+", "", _text(target.children[0])).lower() == f"${name}":
            keys.append(_text(target.children[-1]))
    return keys if found else None


# ---------------------------------------------------------------------------------------------------------------
# .NET members Windows PowerShell 5.1 (.NET Framework 4.x) lacks

DOTNET_DENY: dict[tuple[str, str, int | None], str] = {
    # (lower-case type without 'system.' or '' for any instance, lower-case member, argument count or None)
    ("io.file", "move", 3): "File.Move(source, dest, overwrite) is .NET Core 3.0+",
    ("", "kill", 1): "Process.Kill(entireProcessTree) is .NET Core 3.0+",
    ("", "waitforexitasync", None): "Process.WaitForExitAsync is .NET 5+",
    ("", "replace", 3): "String.Replace(old, new, comparison) is .NET Core 2.0+",
    ("", "contains", 2): "String.Contains(value, comparison) is .NET Core 2.1+",
    ("io.path", "join", None): "Path.Join is .NET Core 2.1+",
    ("io.path", "getrelativepath", None): "Path.GetRelativePath is .NET Core 2.0+",
    ("io.path", "getfullpath", 2): "Path.GetFullPath(path, basePath) is .NET Core 2.1+",
    ("io.path", "trimendingdirectoryseparator", None): "Path.TrimEndingDirectorySeparator is .NET Core 3.0+",
    ("io.path", "endsindirectoryseparator", None): "Path.EndsInDirectorySeparator is .NET Core 3.0+",
    ("io.path", "exists", None): "Path.Exists is .NET 7+",
    ("io.file", "readalltextasync", None): "File.ReadAllTextAsync is .NET Core 2.0+",
    ("io.file", "writealltextasync", None): "File.WriteAllTextAsync is .NET Core 2.0+",
    ("io.file", "readallbytesasync", None): "File.ReadAllBytesAsync is .NET Core 2.0+",
    ("io.file", "writeallbytesasync", None): "File.WriteAllBytesAsync is .NET Core 2.0+",
    ("io.file", "createsymboliclink", None): "File.CreateSymbolicLink is .NET 6+",
    ("io.directory", "createsymboliclink", None): "Directory.CreateSymbolicLink is .NET 6+",
    ("io.directory", "createtempsubdirectory", None): "Directory.CreateTempSubdirectory is .NET 7+",
    ("convert", "tohexstring", None): "Convert.ToHexString is .NET 5+",
    ("convert", "fromhexstring", None): "Convert.FromHexString is .NET 5+",
    ("security.cryptography.sha256", "hashdata", None): "SHA256.HashData is .NET 5+",
    ("math", "clamp", None): "Math.Clamp is .NET Core 2.0+",
    ("operatingsystem", "iswindows", None): "OperatingSystem.IsWindows is .NET 5+",
    ("environment", "processid", None): "Environment.ProcessId is .NET 5+",
    ("environment", "processpath", None): "Environment.ProcessPath is .NET 6+",
    ("text.encoding", "latin1", None): "Encoding.Latin1 is .NET 5+",
}
"""Hand-listed .NET members PowerShell 7 has and Windows PowerShell 5.1 lacks (learn.microsoft.com 'Applies to')."""

DOTNET_DENY_TYPES = {
    "text.json": "System.Text.Json is .NET Core 3.0+",
    "range": "System.Range is .NET Core 3.0+",
    "index": "System.Index is .NET Core 3.0+",
    "hashcode": "System.HashCode is .NET Core 2.1+",
}
"""Type (or namespace) names that do not exist on .NET Framework 4.x."""


def _type_key(type_text: str) -> str:
    key = type_text.strip().strip("[]").strip().strip("'\"").lower()
    return key[len("system."):] if key.startswith("system.") else key


def _deny_type(type_text: str) -> str | None:
    key = _type_key(type_text)
    for prefix, why in DOTNET_DENY_TYPES.items():
        if key == prefix or key.startswith(prefix + "."):
            return why
    return None


def _argument_count(invocation: Node) -> int:
    args = next((c for c in invocation.children if c.type == "argument_list"), None)
    if args is None:
        return 0
    exprs = next((c for c in args.children if c.type == "argument_expression_list"), None)
    return 0 if exprs is None else sum(1 for c in exprs.children if c.type == "argument_expression")


def _start_info_variables(root: Node) -> set[str]:
    """Variables assigned a new System.Diagnostics.ProcessStartInfo."""
    out = set()
    for node in walk(root):
        if node.type == "assignment_expression":
            value = node.child_by_field_name("value")
            if value is not None and "processstartinfo" in _text(value).lower():
                out.add(re.sub(r"\s+", "", _text(_unwrap(node.children[0]))).lower())
    return out


def dotnet_problems(root: Node) -> Iterator[tuple[Node, str]]:
    """(node, why) for each use of a .NET member or type from DOTNET_DENY / DOTNET_DENY_TYPES."""
    start_infos = _start_info_variables(root)
    for node in walk(root):
        if node.type == "type_literal" or (node.type == "command_name" and _text(node).lower() == "new-object"):
            subject = _text(node)
            if node.type == "command_name":
                elements = node.next_named_sibling
                words = [_literal(c) for c in (elements.children if elements else []) if c.is_named]
                subject = next((w for w in words if w and "." in w), "")
            why = _deny_type(subject) if subject else None
            if why:
                yield node, why
        if node.type not in ("invokation_expression", "member_access") or len(node.children) < 3:
            continue
        target, op, member = node.children[0], node.children[1], node.children[2]
        static = op.type == "::" and target.type == "type_literal"
        type_key = _type_key(_text(target)) if static else ""
        member_key = _text(member).lower()
        argc = _argument_count(node) if node.type == "invokation_expression" else None
        for key in ((type_key, member_key, argc), (type_key, member_key, None)):
            if key in DOTNET_DENY and (static or key[0] == ""):
                yield node, DOTNET_DENY[key]
                break
        if node.type == "invokation_expression" and member_key == "split" and argc == 1:
            args = next(c for c in node.children if c.type == "argument_list")
            exprs = next(c for c in args.children if c.type == "argument_expression_list")
            arg = _unwrap(next(c for c in exprs.children if c.type == "argument_expression"))
            literal = _literal(arg) if arg.type == "string_literal" else None
            if literal is not None and len(literal) > 1:
                yield node, ("String.Split(string) is .NET Core 2.0+ (7 splits on the whole string, 5.1 on each "
                             "of its characters)")
        if member_key == "argumentlist" and not static:
            owner = re.sub(r"\s+", "", _text(target)).lower()
            if owner in start_infos or owner.endswith(".startinfo"):
                yield node, "ProcessStartInfo.ArgumentList is .NET Core 2.1+"


# ---------------------------------------------------------------------------------------------------------------
# The check


def _command_name(command: Node) -> str | None:
    name = next((c for c in command.children if c.type == "command_name"), None)
    if name is None:
        return None
    text = _text(name)
    if "\\" in text:
        module, _, text = text.rpartition("\\")
        if "." not in module and not module.isalpha():
            return None  # a path, not a module-qualified name
    return text


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
            add(node, "error", f"{_text(node.children[0])} between pipelines is PowerShell 7+ syntax")
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
                token = _text(element).lstrip("-\u2013\u2014\u2015").rstrip(":")
                if token[:1].isalpha():
                    params.append((token, element))
            elif _text(element).startswith("@") and element.type != "command_argument_sep":
                variable = _text(_unwrap(element))
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
            add(node, "error", f"{_text(node)[:60]!r}: {why}; Windows PowerShell 5.1 reaches it")
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
