""".NET members and types PowerShell 7 has and Windows PowerShell 5.1 (.NET Framework 4.x) lacks, hand-listed."""
from __future__ import annotations

import re
from collections.abc import Iterator

from tree_sitter import Node

from tests.pslint import text, walk
from tests.pstree import literal, unwrap

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
            if value is not None and "processstartinfo" in text(value).lower():
                out.add(re.sub(r"\s+", "", text(unwrap(node.children[0]))).lower())
    return out


def dotnet_problems(root: Node) -> Iterator[tuple[Node, str]]:
    """(node, why) for each use of a .NET member or type from DOTNET_DENY / DOTNET_DENY_TYPES."""
    start_infos = _start_info_variables(root)
    for node in walk(root):
        if node.type == "type_literal" or (node.type == "command_name" and text(node).lower() == "new-object"):
            subject = text(node)
            if node.type == "command_name":
                elements = node.next_named_sibling
                words = [literal(c) for c in (elements.children if elements else []) if c.is_named]
                subject = next((w for w in words if w and "." in w), "")
            why = _deny_type(subject) if subject else None
            if why:
                yield node, why
        if node.type not in ("invokation_expression", "member_access") or len(node.children) < 3:
            continue
        target, op, member = node.children[0], node.children[1], node.children[2]
        static = op.type == "::" and target.type == "type_literal"
        type_key = _type_key(text(target)) if static else ""
        member_key = text(member).lower()
        argc = _argument_count(node) if node.type == "invokation_expression" else None
        for key in ((type_key, member_key, argc), (type_key, member_key, None)):
            if key in DOTNET_DENY and (static or key[0] == ""):
                yield node, DOTNET_DENY[key]
                break
        if node.type == "invokation_expression" and member_key == "split" and argc == 1:
            args = next(c for c in node.children if c.type == "argument_list")
            exprs = next(c for c in args.children if c.type == "argument_expression_list")
            arg = unwrap(next(c for c in exprs.children if c.type == "argument_expression"))
            value = literal(arg) if arg.type == "string_literal" else None
            if value is not None and len(value) > 1:
                yield node, ("String.Split(string) is .NET Core 2.0+ (7 splits on the whole string, 5.1 on each "
                             "of its characters)")
        if member_key == "argumentlist" and not static:
            owner = re.sub(r"\s+", "", text(target)).lower()
            if owner in start_infos or owner.endswith(".startinfo"):
                yield node, "ProcessStartInfo.ArgumentList is .NET Core 2.1+"
