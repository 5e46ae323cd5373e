"""The pre-migration assessment a team lead reads: verdict, evidence, findings and fixes, inventory, gaps.

Every value from the inventory or a finding is escaped, because names, labels and paths may be hostile.
A finding's `fix` is prose; lines indented by four spaces (or a tab), and ``` fenced blocks, are commands
and are shown as fenced code.
"""
from __future__ import annotations

import json
import re
import textwrap

from migrate.assess.kinds import spec
from migrate.model import SEVERITIES, Finding, Inventory, Report
from migrate.render._common import (
    TOOL_NAME,
    active,
    clean,
    human_bytes,
    human_duration,
    machine_name,
    severity_counts,
    verdict_words,
)
from migrate.render.mdinventory import inventory_sections, md, prose, table
from migrate.secrets import redact, redact_text
from migrate.units import count

_URL = re.compile(r"^https?://[^\s<>`]+$")

BACKEND_WORDS = {
    "hyperv": "Hyper-V VM (MobyLinuxVM / DockerDesktopVM)",
    "lcow": "LCOW (Linux containers on the Windows engine)",
    "wsl2": "WSL 2",
    "windows": "Windows containers engine",
    "linux": "Linux engine (not Docker Desktop)",
    "unknown": "unknown",
}

SEVERITY_HEADINGS = {"blocker": "Blockers", "error": "Errors", "warning": "Warnings", "info": "Information"}

COUNT_WORDS = {"images": ("image", "images"), "containers": ("container", "containers"),
               "volumes": ("volume", "volumes"), "networks": ("network", "networks"),
               "project_files": ("project file", "project files")}


def _fence(body: list[str], lang: str = "") -> list[str]:
    """A fenced code block longer than any backtick run inside, so the body cannot close it early."""
    text = "\n".join(clean(line) for line in body)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    lang = re.sub(r"[^A-Za-z0-9_+-]", "", lang)
    return [fence + lang, *text.split("\n"), fence]


def _indented(line: str) -> bool:
    """Whether a fix line is a command by the catalog's convention (four spaces or a tab)."""
    return line.startswith(("    ", "\t"))


def fix_blocks(fix: str) -> list[str]:
    """A finding's fix as Markdown: escaped prose paragraphs and fenced code blocks, a blank line between."""
    lines = fix.strip("\n").split("\n")
    blocks: list[list[str]] = []
    paragraph: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip() and not line.strip().startswith("```") and not _indented(line):
            paragraph.append(prose(line.rstrip()))
            i += 1
            continue
        if paragraph:
            blocks.append(paragraph)
            paragraph = []
        if line.strip().startswith("```"):
            lang, body = line.strip().strip("`").strip(), []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                body.append(lines[i])
                i += 1
            blocks.append(_fence(textwrap.dedent("\n".join(body)).split("\n"), lang))
            i += 1  # the closing fence
        elif _indented(line):
            body = []
            # A blank line between two indented lines belongs to the same block of commands.
            while i < len(lines) and (_indented(lines[i]) or (not lines[i].strip() and i + 1 < len(lines)
                                                             and _indented(lines[i + 1]))):
                body.append(lines[i])
                i += 1
            blocks.append(_fence(textwrap.dedent("\n".join(body)).split("\n")))
        else:
            i += 1  # a blank line ends the paragraph
    if paragraph:
        blocks.append(paragraph)
    return [line for k, block in enumerate(blocks) for line in ([""] if k else []) + block]


def _link(url: str) -> str:
    """A reference as an autolink when it is a plain http(s) URL, else as escaped text."""
    return f"<{url}>" if _URL.match(url) else md(url)


def _title(report: Report, inv: Inventory) -> str:
    """The machine the report is about: the host's computer name, else the engine's name."""
    return machine_name(inv)


def _subject(f: Finding) -> str:
    """Where a finding is: its subject kind and name."""
    if not f.subject or f.subject == f.subject_kind:
        return md(f.subject_kind)
    return f"{md(f.subject_kind)} {md(f.subject)}".strip()


def _subjects(found: list[Finding]) -> str:
    """The subjects of one rule's findings, named once each."""
    names = [_subject(f) for f in found]
    return ", ".join(dict.fromkeys(names))


_OBJECTS = ("image", "container", "volume", "network", "file")
"""Subject kinds worth naming in the verdict (a host, the settings or the engine is the one there is)."""


def groups(findings: list[Finding]) -> list[list[Finding]]:
    """One group per rule (its findings over every subject), in the findings' order: severity, then rule id."""
    by_rule: dict[str, list[Finding]] = {}
    for f in findings:
        by_rule.setdefault(f.rule, []).append(f)
    return list(by_rule.values())


def _plan_does(live: list[Finding]) -> list[str]:
    """What the plan does about the live findings, one line per kind with the rules and subjects it is for."""
    by_kind: dict[str, list[list[Finding]]] = {}
    for group in groups(live):
        s = spec(group[0].plan)
        if not s.manual and s.does and group[0].plan not in ("", "none"):
            by_kind.setdefault(group[0].plan, []).append(group)
    lines = []
    for kind in sorted(by_kind, key=lambda k: min(g[0].rule for g in by_kind[k])):
        what = "; ".join(md(g[0].rule) + (f" ({_subjects(g)})" if g[0].subject_kind in _OBJECTS else "")
                         for g in by_kind[kind])
        lines.append(f"- The plan {prose(spec(kind).does)}: {what}")
    return lines


def _verdict(report: Report) -> list[str]:
    """The verdict: what blocks, what a person must do, then what the plan does for them."""
    live = active(report.findings)
    blockers = groups([f for f in live if f.severity == "blocker"])
    acting = groups([f for f in live if f.needs_action])
    lines = ["## Verdict", ""]
    if report.verdict == "blocked":
        lines.append(f"**Blocked.** The migration must not start until {len(blockers)} blocker"
                     f"{'s are' if len(blockers) != 1 else ' is'} resolved:")
        lines.append("")
        lines += [f"- {md(g[0].rule)}: {md(g[0].title)} ({_subjects(g)})" for g in blockers]
    elif report.verdict == "ready-after-actions":
        lines.append(f"**Ready after the listed actions.** Nothing blocks the move, but {len(acting)} finding"
                     f"{'s need' if len(acting) != 1 else ' needs'} a person (below, each one's fix is under "
                     "Findings); the plan does the rest.")
    elif report.verdict == "ready":
        lines.append("**Ready.** No finding blocks the move or needs a person: the plan does what the findings ask.")
    else:
        lines.append(f"**{md(report.verdict)}.**")
    if report.actions:
        lines += ["", "### What you must do", "", "The runbook lists these and asks before it changes anything:", ""]
        lines += [f"- {md(item)}" for item in report.actions]
    others = [g for g in acting if g[0].severity != "blocker" and not any(
        item.startswith(f"{g[0].rule}: ") for item in report.actions)]
    if others:
        lines += ["", "Also needing a person (no step of the plan covers them):", ""]
        lines += [f"- {md(g[0].rule)}: {md(g[0].title)} ({_subjects(g)})" for g in others]
    does = _plan_does(live)
    if does:
        lines += ["", "### What the plan does for you", "", *does]
    if report.blind_spots:
        n = len(report.blind_spots)
        lines += ["", (f"> **Limited verdict:** {n} thing{'s' if n != 1 else ''} could not be seen (listed "
                       "under *What this assessment could not see*); the verdict covers only what the scan "
                       "could read.")]
    return lines


def _sizes(report: Report) -> tuple[str, str]:
    """Data to move and the duration, as the plan's estimate states them (unknown sizes named, never 0)."""
    est = report.estimate
    if est is None:
        return "unknown (not planned)", "unknown (not planned)"
    unknown = ""
    if est.unknown:
        shown = ", ".join(est.unknown[:3]) + (f" and {len(est.unknown) - 3} more" if len(est.unknown) > 3 else "")
        unknown = f" + unknown sizes ({shown})"
    data = (f"{human_bytes(est.backup_bytes)}{unknown} written to the backups ({est.backup_folder}); the new WSL "
            f"disk grows by {human_bytes(est.wsl_disk_bytes)} ({est.wsl_disk_folder})")
    restarts = est.restarts_text()
    duration = f"{'at least ' if est.unknown else ''}{human_duration(est.seconds)}{restarts}"
    return md(data), md(duration)


def _summary(report: Report, inv: Inventory) -> list[str]:
    """The numbers at a glance."""
    sev = severity_counts(report)
    waived = sum(1 for f in report.findings if f.waived)
    acting = len(groups([f for f in active(report.findings) if f.needs_action]))
    findings = ", ".join(f"{n} {name}" for name, n in sev.items()) + (f"; {waived} waived" if waived else "") + \
        f"; {acting} need{'s' if acting == 1 else ''} a person"
    known = [k for k in COUNT_WORDS if k in report.counts]
    objects = ", ".join(count(report.counts[k], *COUNT_WORDS.get(k, (k, k)))
                        for k in known + sorted(set(report.counts) - set(known)))
    rows = [
        ("Machine", md(_title(report, inv))),
        ("Backend detected", md(BACKEND_WORDS.get(report.backend.kind, report.backend.kind))),
        ("Verdict", md(verdict_words(report.verdict))),
        ("Findings", findings),
        ("Rules checked", str(report.rules_checked)),
        ("Inventory", md(objects)),
        ("Data to move", _sizes(report)[0]),
        ("Estimated duration", _sizes(report)[1]),
    ]
    return ["## Summary", "", *table(["Item", "Value"], rows)]


def _flat(value: object) -> str:
    """A JSON value as compact readable text: objects as "key: value; ...", sorted; lists comma-separated."""
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_flat(v)}" for k, v in sorted(value.items()))
    if isinstance(value, (list, tuple)):
        return ", ".join(_flat(v) for v in value)
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _evidence_value(value: object, show_secrets: bool) -> str:
    """One evidence value, redacted, on one line."""
    return md(_flat(redact(value, show_secrets))) or "-"


def _backend(report: Report, show_secrets: bool) -> list[str]:
    """The backend detected, the evidence and the reasons that decided it."""
    b = report.backend
    lines = ["## Backend", "", f"Detected: **{md(BACKEND_WORDS.get(b.kind, b.kind))}** ({md(b.kind)}).", ""]
    if b.evidence:
        rows = [(md(k), _evidence_value(v, show_secrets)) for k, v in sorted(b.evidence.items())]
        lines += [*table(["Evidence", "Value"], rows), ""]
    if b.reasons:
        lines += ["Why:", ""] + [f"- {md(redact_text(r, show_secrets))}" for r in b.reasons] + [""]
    return lines[:-1] if lines[-1] == "" else lines


def _finding(group: list[Finding]) -> list[str]:
    """One rule's findings: its subjects, what the plan does, the message (once, or per subject), why and fix."""
    f = group[0]
    count = f" ({len(group)} subjects)" if len(group) > 1 else ""
    lines = [f"#### {md(f.rule)}: {md(f.title)}{count}", "", f"- **Subject{'s' if len(group) > 1 else ''}:** "
             f"{_subjects(group)}"]
    files = [g for g in group if g.file and g.file not in g.subject]
    for g in files:
        lines.append(f"- **File:** {md(g.file)}" + (f", line {g.line}" if g.line > 0 else ""))
    if f.plan and f.plan != "none":
        lines.append(f"- **Plan:** {prose(spec(f.plan).does)} ({md(f.plan)})")
    if f.needs_action:
        lines.append("- **Needs a person:** yes")
    messages = list(dict.fromkeys(g.message for g in group))
    if len(messages) == 1:
        lines += ["", md(messages[0])]
    else:
        lines += ["", *(f"- {_subject(g)}: {md(g.message)}" for g in group)]
    if f.why:
        lines += ["", f"**Why.** {prose(f.why)}"]
    if f.fix:
        lines += ["", "**Fix.**", "", *fix_blocks(f.fix)]
    if f.references:
        lines += ["", "References: " + ", ".join(_link(r) for r in f.references)]
    return lines


def _findings(report: Report) -> list[str]:
    """Active findings, one entry per rule with its subjects, grouped by severity, highest first."""
    lines = ["## Findings"]
    live = active(report.findings)
    if not live:
        return lines + ["", "No findings."]
    for severity in reversed(SEVERITIES):
        found = groups([f for f in live if f.severity == severity])
        if found:
            n = sum(len(g) for g in found)
            rules = f"{len(found)} rule{'s' if len(found) != 1 else ''}"
            lines += ["", f"### {SEVERITY_HEADINGS[severity]} ({n}; {rules})" if n != len(found)
                      else f"### {SEVERITY_HEADINGS[severity]} ({n})"]
            for group in found:
                lines += ["", *_finding(group)]
    return lines


def _waived(report: Report) -> list[str]:
    """Waived findings, with the reason and expiry of each waiver."""
    waived = [f for f in report.findings if f.waived]
    if not waived:
        return []
    rows = [(md(f.rule), md(f.severity), _subject(f), md(f.waiver_reason), md(f.waiver_expires) or "never")
            for f in waived]
    return ["## Waived findings", "", *table(["Rule", "Severity", "Subject", "Reason", "Expires"], rows)]


def _notices(report: Report) -> list[str]:
    """Configuration notices: expired waivers, disabled rules."""
    if not report.notices:
        return []
    return ["## Configuration notices", "", *[f"- {md(n)}" for n in report.notices]]


def _blind_spots(report: Report, show_secrets: bool) -> list[str]:
    """What the assessment could not see, and how that limits the verdict."""
    lines = ["## What this assessment could not see", ""]
    if not report.blind_spots:
        return lines + ["The scan reported nothing it could not read."]
    rows = [(md(n.area), md(redact_text(n.subject, show_secrets)), md(redact_text(n.message, show_secrets)))
            for n in report.blind_spots]
    lines += [*table(["Area", "Subject", "What happened, and what it limits"], rows), ""]
    if report.verdict == "blocked":
        lines.append("The verdict is already *blocked*; these gaps may hide further findings to resolve "
                     "before the move.")
    else:
        lines.append(f"So the verdict, *{md(verdict_words(report.verdict).lower())}*, holds only as far as "
                     "the scan could see: a finding that depends on what is missing cannot appear in this "
                     "report. Scan again where the missing input can be read before relying on it.")
    return lines


def render(report: Report, inv: Inventory, show_secrets: bool = False) -> str:
    """The assessment as a Markdown document."""
    sections = [
        [f"# Pre-migration assessment: {md(_title(report, inv))}"],
        _verdict(report),
        _summary(report, inv),
        _backend(report, show_secrets),
        _findings(report),
        _waived(report),
        _notices(report),
        inventory_sections(inv, show_secrets),
        _blind_spots(report, show_secrets),
        ["---", "", (f"Generated by {TOOL_NAME} {md(report.tool_version)} from inventory "
                     f"{md(report.inventory_fingerprint)}.")],
    ]
    return "\n\n".join("\n".join(s) for s in sections if s) + "\n"
