"""Lint checks for generated PowerShell, on the tree-sitter tree: what PSScriptAnalyzer would say, where we can say it.

PowerShell (and so PSScriptAnalyzer) is not available on Linux; these checks follow runbook-style §9 and the PSSA
rules it names: AvoidUsingCmdletAliases, AvoidUsingWriteHost, AvoidUsingInvokeExpression, UseApprovedVerbs,
PossibleIncorrectComparisonWithNull, UseShouldProcessForStateChangingFunctions, ShouldProcess, plus our own: no
backtick outside string literals, no `cmd`, no call operator (`& $exe`), no redirection, no Out-File/Set-Content.
"""
from __future__ import annotations

from collections.abc import Iterator

from tree_sitter import Node

from tests.pslit import parse_powershell, syntax_problems

APPROVED_VERBS = frozenset(v.lower() for v in (
    # Get-Verb on Windows PowerShell 5.1 (common, communications, data, diagnostic, lifecycle, security, other).
    "Add", "Clear", "Close", "Copy", "Enter", "Exit", "Find", "Format", "Get", "Hide", "Join", "Lock", "Move", "New",
    "Open", "Optimize", "Pop", "Push", "Redo", "Remove", "Rename", "Reset", "Resize", "Search", "Select", "Set",
    "Show", "Skip", "Split", "Step", "Switch", "Undo", "Unlock", "Watch",
    "Connect", "Disconnect", "Read", "Receive", "Send", "Write",
    "Backup", "Checkpoint", "Compare", "Compress", "Convert", "ConvertFrom", "ConvertTo", "Dismount", "Edit",
    "Expand", "Export", "Group", "Import", "Initialize", "Limit", "Merge", "Mount", "Out", "Publish", "Restore",
    "Save", "Sync", "Unpublish", "Update",
    "Debug", "Measure", "Ping", "Repair", "Resolve", "Test", "Trace",
    "Approve", "Assert", "Complete", "Confirm", "Deny", "Disable", "Enable", "Install", "Invoke", "Register",
    "Request", "Restart", "Resume", "Start", "Stop", "Submit", "Suspend", "Uninstall", "Unregister", "Wait",
    "Block", "Grant", "Protect", "Revoke", "Unblock", "Unprotect",
    "Use",
))

STATE_CHANGING_VERBS = frozenset({"new", "set", "remove", "start", "stop", "restart", "reset", "update"})
"""PSSA UseShouldProcessForStateChangingFunctions: these verbs need SupportsShouldProcess."""

ALIASES = frozenset({
    "%", "?", "ac", "asnp", "cat", "cd", "chdir", "clc", "clear", "clhy", "cli", "clp", "cls", "clv", "cnsn",
    "compare", "copy", "cp", "cpi", "cpp", "curl", "cvpa", "dbp", "del", "diff", "dir", "dnsn", "ebp", "echo",
    "epal", "epcsv", "epsn", "erase", "etsn", "exsn", "fc", "fhx", "fl", "foreach", "ft", "fw", "gal", "gbp", "gc",
    "gcb", "gci", "gcm", "gcs", "gdr", "ghy", "gi", "gjb", "gl", "gm", "gmo", "gp", "gps", "gpv", "group", "gsn",
    "gsnp", "gsv", "gu", "gv", "gwmi", "h", "history", "icm", "iex", "ihy", "ii", "ipal", "ipcsv", "ipmo", "ipsn",
    "irm", "ise", "iwmi", "iwr", "kill", "lp", "ls", "man", "md", "measure", "mi", "mount", "move", "mp", "mv",
    "nal", "ndr", "ni", "nmo", "npssc", "nsn", "nv", "ogv", "oh", "popd", "ps", "pushd", "pwd", "r", "rbp",
    "rcjb", "rcsn", "rd", "rdr", "ren", "ri", "rjb", "rm", "rmdir", "rmo", "rni", "rnp", "rp", "rsn", "rsnp",
    "rujb", "rv", "rvpa", "rwmi", "sajb", "sal", "saps", "sasv", "sbp", "sc", "scb", "select", "set", "shcm", "si",
    "sl", "sleep", "sls", "sort", "sp", "spjb", "spps", "spsv", "start", "stz", "sujb", "sv", "swmi", "tee",
    "trcm", "type", "wget", "where", "wjb", "write",
})
"""Built-in aliases of Windows PowerShell 5.1 (Get-Alias), lower-case."""

FORBIDDEN_COMMANDS = frozenset({
    "write-host", "invoke-expression", "cmd", "cmd.exe", "out-file", "set-content", "add-content", "tee-object",
})


def walk(node: Node) -> Iterator[Node]:
    """node and all its descendants, depth first, in source order."""
    yield node
    for child in node.children:
        yield from walk(child)


def text(node: Node) -> str:
    """The source text of node."""
    return node.text.decode("utf-8")


def functions(root: Node) -> dict[str, Node]:
    """function name (lower-case) -> function_statement node."""
    out = {}
    for node in walk(root):
        if node.type == "function_statement":
            name = next(c for c in node.children if c.type == "function_name")
            out[text(name).lower()] = node
    return out


def enclosing_function(node: Node) -> str:
    """The name of the function node sits in ('' at script level)."""
    cur = node.parent
    while cur is not None:
        if cur.type == "function_statement":
            return text(next(c for c in cur.children if c.type == "function_name"))
        cur = cur.parent
    return ""


def _cmdlet_binding(function: Node) -> str:
    """The [CmdletBinding(...)] attribute text of a function, or ''."""
    for node in walk(function):
        if node.type == "attribute" and text(node).lower().startswith("[cmdletbinding"):
            return text(node)
    return ""


def _calls_should_process(function: Node) -> bool:
    return any(node.type == "invokation_expression" and text(node).startswith("$PSCmdlet.ShouldProcess(")
               for node in walk(function))


def _strings_cover(root: Node, offset: int) -> bool:
    """True when byte offset lies inside a string literal or a comment (where a backtick is only text)."""
    node = root.descendant_for_byte_range(offset, offset + 1)
    while node is not None:
        if node.type in ("string_literal", "comment"):
            return True
        node = node.parent
    return False


def lint(source: str) -> list[str]:
    """Every finding for source, as 'rule: detail' strings (empty when clean)."""
    tree = parse_powershell(source)
    root = tree.root_node
    found = [f"syntax: {p}" for p in syntax_problems(tree)]
    raw = source.encode("utf-8")
    for i, byte in enumerate(raw):
        if byte == 0x60 and not _strings_cover(root, i):
            found.append(f"backtick: outside a string literal or comment at byte {i}")
    for node in walk(root):
        if node.type == "command_name":
            name = text(node).lower()
            if name in ALIASES:
                found.append(f"alias: {text(node)} at {node.start_point}")
            if name in FORBIDDEN_COMMANDS:
                found.append(f"forbidden command: {text(node)} at {node.start_point}")
        elif node.type == "command_invokation_operator":
            found.append(f"call operator: {text(node.parent)[:60]!r} at {node.start_point}")
        elif node.type == "redirection":
            found.append(f"redirection: {text(node)} at {node.start_point}")
        elif node.type == "comparison_expression" and len(node.children) == 3:
            op, right = node.children[1], node.children[2]
            if op.type == "comparison_operator" and text(right).strip().lower() == "$null":
                found.append(f"null on the right: {text(node)[:60]!r} at {node.start_point}")
    for name, function in functions(root).items():
        verb, dash, noun = name.partition("-")
        if not dash or not noun or verb not in APPROVED_VERBS:
            found.append(f"verb: {name} does not use an approved verb")
        binding = _cmdlet_binding(function).lower()
        supports = "supportsshouldprocess" in binding
        calls = _calls_should_process(function)
        if verb in STATE_CHANGING_VERBS and not supports:
            found.append(f"shouldprocess: {name} changes state but lacks SupportsShouldProcess")
        if supports != calls:
            found.append(f"shouldprocess: {name} declares SupportsShouldProcess={supports} but calls it={calls}")
        if not binding:
            found.append(f"cmdletbinding: {name} has no [CmdletBinding()]")
    return found
