"""Extract cmdlet parameter tables for Windows PowerShell 5.1 and PowerShell 7.4 from the public reference docs.

Reads two git clones (no work tree needed) and writes cmdlets.tsv beside this file:

    python tests/data/ps-reference/extract.py --powershell-docs GITDIR --windows-docs GITDIR

GITDIR of MicrosoftDocs/PowerShell-Docs (reference/5.1, reference/7.4) and of MicrosoftDocs/windows-powershell-docs
(docset/winserver*-ps: the Windows modules, the same in both PowerShell versions). The fetched docs are not
committed; only the table is. See README.md for the format.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
VERSIONS = ("5.1", "7.4")
"""The PowerShell versions every runbook and collector line must run on."""

PS_MODULES = (
    "CimCmdlets",
    "Microsoft.PowerShell.Archive",
    "Microsoft.PowerShell.Core",
    "Microsoft.PowerShell.Diagnostics",
    "Microsoft.PowerShell.Host",
    "Microsoft.PowerShell.Management",
    "Microsoft.PowerShell.Security",
    "Microsoft.PowerShell.Utility",
)
"""Modules of PowerShell-Docs reference/<version>/ our scripts may use (no ISE, PSReadLine, workflows, WSMan)."""

WINDOWS_MODULES = (
    "DISM", "Hyper-V", "NetAdapter", "NetNat", "NetSecurity", "NetTCPIP", "ScheduledTasks", "SmbShare", "Storage",
)
"""Windows modules (windows-powershell-docs folder names, case-insensitive) the runbook or collector may use."""

WINDOWS_DOCSETS = ("winserver2019-ps", "winserver2025-ps")
"""A Windows-module parameter counts only when both docsets document it: 2019 is the oldest docset matching a
Windows 10 release still in scope (1809 / LTSC 2019), 2025 the newest (Windows 11)."""

_ADDED = re.compile(r"\b(?:added|introduced)\s+in\s+PowerShell\s+(\d+(?:\.\d+)?)", re.I)
_HEADING = re.compile(r"^### -([A-Za-z][A-Za-z0-9_]*)\s*$", re.M)
_SYNTAX_PARAM = re.compile(r"(?:^|(?<=[\s\[]))-([A-Za-z][A-Za-z0-9_]*)\b", re.M)


@dataclass
class Cmdlet:
    """One cmdlet as one doc page describes it."""

    module: str
    name: str
    common: bool
    params: dict[str, list[str]] = field(default_factory=dict)
    """parameter name -> its aliases, as the page spells them."""


class GitTree:
    """Read files of one commit of a bare or normal git clone."""

    def __init__(self, gitdir: Path) -> None:
        self.gitdir = gitdir
        self.commit = self._git("rev-parse", "HEAD").strip()
        self.date = self._git("log", "-1", "--format=%cI", "HEAD").strip()
        self.url = self._git("config", "--get", "remote.origin.url", check=False).strip()

    def _git(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(["git", "--git-dir", str(self.gitdir), *args], capture_output=True, text=True,
                              check=False)
        if check and done.returncode != 0:
            raise SystemExit(f"{self.gitdir}: git {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def files(self, prefix: str) -> list[str]:
        """Paths under prefix at HEAD."""
        return self._git("ls-tree", "-r", "--name-only", "HEAD", "--", prefix).splitlines()

    def read(self, path: str) -> str:
        return self._git("show", f"HEAD:{path}")


def _section(text: str, title: str) -> str:
    """The body of the level-2 section `## title`, or ''."""
    match = re.search(rf"^## {re.escape(title)}\s*$(.*?)(?=^## |\Z)", text, re.M | re.S)
    return match.group(1) if match else ""


def _aliases(body: str) -> list[str]:
    match = re.search(r"^Aliases:[ \t]*(.*)$", body, re.M)
    if not match:
        return []
    return [a.strip() for a in match.group(1).split(",") if a.strip() and a.strip() != "None"]


def _too_new(body: str, version: str | None) -> bool:
    """True when the text says the parameter came after version (5.1's page lists 7.4's ProgressAction)."""
    if version is None:
        return False
    wanted = tuple(int(p) for p in version.split("."))
    for match in _ADDED.finditer(body):
        found = tuple(int(p) for p in match.group(1).split("."))
        if found > wanted:
            return True
    return False


def parse_parameters(text: str, version: str | None) -> dict[str, list[str]]:
    """`### -Name` sections (name -> aliases), dropping those the text dates after version."""
    out: dict[str, list[str]] = {}
    headings = list(_HEADING.finditer(text))
    for i, match in enumerate(headings):
        end = headings[i + 1].start() if i + 1 < len(headings) else len(text)
        body = text[match.end():end]
        body = re.split(r"^##+ (?!-)", body, maxsplit=1, flags=re.M)[0]
        if not _too_new(body, version):
            out[match.group(1)] = _aliases(body)
    return out


def parse_cmdlet(text: str, module: str, version: str | None) -> Cmdlet | None:
    """A cmdlet page into a Cmdlet; None for pages that document no cmdlet (module pages, about_ topics)."""
    title = re.search(r"^title:\s*(\S+)\s*$", text, re.M) or re.search(r"^# (\S+)\s*$", text, re.M)
    syntax = _section(text, "SYNTAX")
    if title is None or not syntax or "-" not in title.group(1):
        return None
    params = parse_parameters(_section(text, "PARAMETERS"), version)
    for block in re.findall(r"```[a-z]*\n(.*?)```", syntax, re.S):
        # The syntax lines name every parameter; a page now and then lacks the section of one of them.
        for name in _SYNTAX_PARAM.findall(block.replace("<CommonParameters>", "")):
            if name not in params and not name[0].isdigit():
                params[name] = []
    common = "<CommonParameters>" in syntax or "### CommonParameters" in text
    return Cmdlet(module=module, name=title.group(1), common=common, params=params)


def common_parameters(tree: GitTree, version: str, section: str) -> dict[str, list[str]]:
    """One section of version's about_CommonParameters: 'Common parameters' or 'Risk management parameters'."""
    path = f"reference/{version}/Microsoft.PowerShell.Core/About/about_CommonParameters.md"
    body = _section(tree.read(path), section)
    if not body:
        raise SystemExit(f"{tree.gitdir}: {path} has no section {section!r}")
    return parse_parameters(body, version)


def powershell_cmdlets(tree: GitTree, version: str) -> list[Cmdlet]:
    out = []
    for module in PS_MODULES:
        for path in tree.files(f"reference/{version}/{module}/"):
            if path.count("/") != 3 or not path.endswith(".md"):
                continue  # About/ topics live one folder deeper
            cmdlet = parse_cmdlet(tree.read(path), module, version)
            if cmdlet is not None:
                out.append(cmdlet)
    return out


def windows_cmdlets(tree: GitTree) -> list[Cmdlet]:
    """Windows-module cmdlets documented in every docset of WINDOWS_DOCSETS, with the parameters all of them list."""
    per_docset: list[dict[str, Cmdlet]] = []
    for docset in WINDOWS_DOCSETS:
        folders = {p.split("/")[2] for p in tree.files(f"docset/{docset}/")}
        found: dict[str, Cmdlet] = {}
        for module in WINDOWS_MODULES:
            folder = next((f for f in folders if f.lower() == module.lower()), None)
            if folder is None:
                raise SystemExit(f"{tree.gitdir}: docset/{docset} has no module {module}")
            for path in tree.files(f"docset/{docset}/{folder}/"):
                if not path.endswith(".md"):
                    continue
                cmdlet = parse_cmdlet(tree.read(path), module, None)
                if cmdlet is not None:
                    found[cmdlet.name.lower()] = cmdlet
        per_docset.append(found)
    out = []
    first, *rest = per_docset
    for key, cmdlet in first.items():
        others = [d[key] for d in rest if key in d]
        if len(others) != len(rest):
            continue
        params = {}
        for name, aliases in cmdlet.params.items():
            matches = [next((a for n, a in o.params.items() if n.lower() == name.lower()), None) for o in others]
            if all(m is not None for m in matches):
                params[name] = sorted(set(aliases).intersection(*(set(m or []) for m in matches)), key=str.lower)
        out.append(Cmdlet(module=cmdlet.module, name=cmdlet.name, common=cmdlet.common, params=params))
    return out


def _params_field(params: dict[str, list[str]]) -> str:
    items = []
    for name in sorted(params, key=str.lower):
        aliases = sorted(dict.fromkeys(params[name]), key=str.lower)
        items.append(name + ("=" + ",".join(aliases) if aliases else ""))
    return " ".join(items)


def build_rows(ps: GitTree, win: GitTree) -> list[tuple[str, str, str, str, str]]:
    """(versions, module, cmdlet, common, parameters) rows; one row for both versions when they agree."""
    by_version: dict[str, dict[str, Cmdlet]] = {}
    windows = windows_cmdlets(win)
    for version in VERSIONS:
        cmdlets = {c.name.lower(): c for c in powershell_cmdlets(ps, version)}
        for c in windows:
            cmdlets.setdefault(c.name.lower(), c)
        # Every cmdlet takes the common parameters; WhatIf and Confirm only where its page lists them.
        for name, section in (("<CommonParameters>", "Common parameters"),
                              ("<RiskMitigationParameters>", "Risk management parameters")):
            cmdlets[name.lower()] = Cmdlet(module="*", name=name, common=False,
                                           params=common_parameters(ps, version, section))
        by_version[version] = cmdlets
    rows = []
    names = sorted({k for v in by_version.values() for k in v})
    for key in names:
        shapes: dict[tuple[str, str, str, str], list[str]] = {}
        for version in VERSIONS:
            cmdlet = by_version[version].get(key)
            if cmdlet is None:
                continue
            shape = (cmdlet.module, cmdlet.name, "1" if cmdlet.common else "0", _params_field(cmdlet.params))
            shapes.setdefault(shape, []).append(version)
        for shape, versions in shapes.items():
            rows.append((",".join(versions), *shape))
    return rows


def render(rows: list[tuple[str, str, str, str, str]], ps: GitTree, win: GitTree) -> str:
    lines = [
        "# PowerShell cmdlet parameters for Windows PowerShell 5.1 and PowerShell 7.4 (format: README.md)",
        f"# powershell-docs: MicrosoftDocs/PowerShell-Docs {ps.commit} {ps.date}",
        f"# windows-docs: MicrosoftDocs/windows-powershell-docs {win.commit} {win.date} "
        f"({' + '.join(WINDOWS_DOCSETS)})",
        "# versions\tmodule\tcmdlet\tcommon\tparameters",
    ]
    lines += ["\t".join(row) for row in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--powershell-docs", type=Path, required=True, help="git dir of MicrosoftDocs/PowerShell-Docs")
    parser.add_argument("--windows-docs", type=Path, required=True,
                        help="git dir of MicrosoftDocs/windows-powershell-docs")
    parser.add_argument("-o", "--output", type=Path, default=HERE / "cmdlets.tsv")
    args = parser.parse_args(argv)
    ps, win = GitTree(args.powershell_docs), GitTree(args.windows_docs)
    rows = build_rows(ps, win)
    args.output.write_text(render(rows, ps, win), encoding="utf-8")
    print(f"{args.output}: {len(rows)} rows", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
