"""The fleet's index.html: readiness, top blockers, data and time, platform distributions, waves, machines."""
from __future__ import annotations

from collections.abc import Sequence

from migrate.fleet.machine import LEVELS, VERDICT_LABELS, VERDICTS, Machine
from migrate.fleet.rollup import Distribution, Fleet, RuleHits
from migrate.fleet.waves import Wave
from migrate.render._common import TOOL_NAME
from migrate.render.markup import Markup, Template, escape, href, html_id, join
from migrate.render.page import asset, page
from migrate.render.svg import Bar, bars, columns
from migrate.units import human_bytes, human_duration

_CARD = Template('<div class="card {cls}"><span class="n" id="count-{cls}" data-v="{n}">{n}</span>'
                 '<span class="what">{label}</span> <span class="muted">{share}</span></div>')
_STAT = Template('<div class="card"><span class="n" id="{ident}" data-v="{value}">{text}</span>'
                 '<span class="what">{label}</span></div>')
_LINK = Template('<a href="{url}">{text}</a>')
_LI = Template("<li>{item}</li>")
_RULE_ROW = Template('<tr id="{ident}"><td>{rule}</td><td>{title}</td><td class="num" data-v="{n}">{n}</td>'
                     '<td><details><summary>{n} machine{s}</summary><ul class="machines">{items}</ul></details>'
                     '<a class="no-print" href="#machines" data-filter="{rule}">show in the table</a></td></tr>')
_WAVE_ROW = Template('<tr id="wave-{number}"><td class="num">{number}</td><td>{label}</td>'
                     '<td class="num">{count}</td><td class="num" data-v="{bytes}">{size}</td>'
                     '<td class="num" data-v="{seconds}">{hours}</td>'
                     '<td><details><summary>machines</summary><ul class="machines">{items}</ul></details></td></tr>')
_MACHINE_ROW = Template(
    '<tr data-verdict="{verdict}" data-i="{i}"><td>{name}</td>'
    '<td data-v="{order}"><span class="verdict {verdict}">{verdict_label}</span></td>'
    '<td class="num" data-v="{blocker}">{blocker}</td><td class="num" data-v="{error}">{error}</td>'
    '<td class="num" data-v="{warning}">{warning}</td>'
    '<td class="num" data-v="{bytes}">{size}</td><td class="num" data-v="{seconds}">{duration}</td>'
    '<td>{desktop}</td><td>{build}</td><td>{wsl}</td><td>{backend}</td><td class="num" data-v="{wave}">{wave}</td>'
    '<td>{rules}</td></tr>')
_TH = Template("<th>{text}</th>")
_TH_NUM = Template('<th class="num">{text}</th>')
_SECTION = Template('<section id="{ident}">\n<h2>{title}</h2>\n{body}\n</section>')


def _hours(seconds: int) -> str:
    return f"{seconds / 3600:.1f} h"


def _machine_link(m: Machine) -> Markup:
    """A machine's name, linked to its page when there is one."""
    return _LINK(url=href("machines", f"{m.ident}.html"), text=m.name) if m.pages else escape(m.name)


def _machine_list(machines: Sequence[Machine]) -> Markup:
    return join(_LI(item=_machine_link(m)) for m in machines)


def _readiness(fleet: Fleet) -> Markup:
    total = max(len(fleet.machines), 1)
    cards = [_CARD(cls=v, n=fleet.verdicts[v], label=VERDICT_LABELS[v],
                   share=f"{100 * fleet.verdicts[v] / total:.0f}%") for v in VERDICTS]
    chart = bars("Machines by verdict", [Bar(VERDICT_LABELS[v], fleet.verdicts[v], str(fleet.verdicts[v]), v)
                                         for v in VERDICTS])
    return Markup(f'<div class="cards">{join(cards)}</div>\n{chart}')


def _data(fleet: Fleet) -> Markup:
    n = len(fleet.assessed)
    stats = join([
        _STAT(ident="total-bytes", value=fleet.bytes_to_move, text=human_bytes(fleet.bytes_to_move),
              label="data to move, all machines"),
        _STAT(ident="total-seconds", value=fleet.estimated_seconds, text=_hours(fleet.estimated_seconds),
              label="estimated machine-hours of backup and restore"),
        _STAT(ident="assessed", value=n, text=str(n), label="machines assessed"),
    ])
    rows = []
    for p in fleet.percentiles["bytes_to_move"]:
        b = fleet.percentiles["bytes_to_move"][p]
        s = fleet.percentiles["estimated_seconds"][p]
        label = "maximum" if p == 100 else f"{p}th percentile"
        rows.append(Template('<tr><td>{label}</td><td class="num" data-v="{b}">{bh}</td>'
                             '<td class="num" data-v="{s}">{sh}</td></tr>')(label=label, b=b, bh=human_bytes(b),
                                                                             s=s, sh=human_duration(s)))
    table = Markup('<table id="percentiles"><thead><tr><th>Per machine</th><th class="num">Data to move</th>'
                   f'<th class="num">Duration</th></tr></thead><tbody>{join(rows)}</tbody></table>')
    hist_bytes = columns("Machines by data to move", [Bar(label, k, str(k)) for label, k in fleet.bytes_histogram])
    hist_secs = columns("Machines by estimated duration",
                        [Bar(label, k, str(k)) for label, k in fleet.seconds_histogram])
    return Markup(f'<div class="cards">{stats}</div>\n{table}\n<div class="grid"><div><h3>Data to move</h3>'
                  f'{hist_bytes}</div><div><h3>Estimated duration</h3>{hist_secs}</div></div>')


def _rules(fleet: Fleet, hits: Sequence[RuleHits], heading: str) -> Markup:
    if not hits:
        return Markup(f"<h3>{escape(heading)}</h3><p>None.</p>")
    rows = [_RULE_ROW(ident=html_id(f"rule-{h.rule}"), rule=h.rule, title=h.title, n=len(h.machines),
                      s="" if len(h.machines) == 1 else "s",
                      items=_machine_list([fleet.machines[k] for k in h.machines])) for h in hits]
    return Markup(f'<h3>{escape(heading)}</h3><table class="rules"><thead><tr><th>Rule</th><th>Title</th>'
                  f'<th class="num">Machines</th><th>Which</th></tr></thead><tbody>{join(rows)}</tbody></table>')


def _top(fleet: Fleet) -> Markup:
    blockers = [h for h in fleet.top_rules if h.severity == "blocker"]
    errors = [h for h in fleet.top_rules if h.severity == "error"]
    unread = [m for m in fleet.machines if m.report is None]
    parts = [_rules(fleet, blockers, "Blockers"), _rules(fleet, errors, "Errors")]
    if unread:
        rows = join(Template("<tr><td>{bundle}</td><td class=\"error-text\">{error}</td></tr>")(
            bundle=m.bundle, error=m.error) for m in unread)
        parts.append(Markup(f'<h3 id="unreadable">Bundles that could not be read ({len(unread)})</h3>'
                            f"<table><thead><tr><th>Bundle</th><th>Why</th></tr></thead><tbody>{rows}"
                            "</tbody></table>"))
    return join(parts, "\n")


def _distribution(d: Distribution) -> Markup:
    return Markup(f"<div><h3>{escape(d.title)}</h3>"
                  f"{bars(d.title, [Bar(label, n, str(n)) for label, n in d.items])}</div>")


def _known(figure: str, wave: Wave) -> str:
    """A wave's figure, or 'unknown' (with how many machines it leaves out) when bundles could not be read."""
    if not wave.unknown:
        return figure
    if wave.unknown == len(wave.machines):
        return "unknown"
    return f"{figure} + {wave.unknown} unknown"


def _waves(fleet: Fleet) -> Markup:
    by_ident = {m.ident: m for m in fleet.machines}
    rows = [_WAVE_ROW(number=w.number, label=w.label, count=len(w.machines), bytes=w.bytes_to_move,
                      size=_known(human_bytes(w.bytes_to_move), w), seconds=w.estimated_seconds,
                      hours=_known(_hours(w.estimated_seconds), w),
                      items=_machine_list([by_ident[i] for i in w.machines]))
            for w in fleet.waves]
    return Markup('<p class="lede">A suggested order: ready machines first, then those ready after actions, then '
                  "blocked machines grouped by what blocks them. Edit <code>waves.csv</code> (the wave column) "
                  "and run <code>wsl2-migrate fleet</code> again: machines keep the waves you gave them.</p>"
                  '<table id="waves"><thead><tr><th class="num">Wave</th><th>Label</th>'
                  '<th class="num">Machines</th><th class="num">Data to move</th><th class="num">Hours</th>'
                  f"<th>Which</th></tr></thead><tbody>{join(rows)}</tbody></table>")


def _machine_row(k: int, m: Machine, wave: int) -> Markup:
    r = m.report
    rules = (" ".join(m.rules("blocker") + m.rules("error")) if r is not None else "")
    return _MACHINE_ROW(
        verdict=m.verdict, i=k, name=_machine_link(m), order=VERDICTS.index(m.verdict),
        verdict_label=VERDICT_LABELS[m.verdict],
        blocker=r.findings["blocker"] if r else 0, error=r.findings["error"] if r else 0,
        warning=r.findings["warning"] if r else 0,
        bytes=r.bytes_to_move if r else -1, size=human_bytes(r.bytes_to_move) if r else "-",
        seconds=r.estimated_seconds if r else -1, duration=human_duration(r.estimated_seconds) if r else "-",
        desktop=m.host.desktop_version, build=m.host.windows_build, wsl=m.host.wsl if r else "",
        backend=r.backend if r else "", wave=wave,
        rules=rules if r is not None else Markup(f'<span class="error-text">{escape(m.error)}</span>'),
    )


def _machines(fleet: Fleet) -> Markup:
    waves = {ident: w.number for w in fleet.waves for ident in w.machines}
    rows = [_machine_row(k, m, waves.get(m.ident, 0)) for k, m in enumerate(fleet.machines)]
    head = ["Machine", "Verdict", "Blockers", "Errors", "Warnings", "Data to move", "Duration", "Desktop",
            "Windows build", "WSL", "Backend", "Wave", "Blocker and error rules, or why unread"]
    numeric = {"Blockers", "Errors", "Warnings", "Data to move", "Duration", "Wave"}
    ths = join(_TH_NUM(text=h) if h in numeric else _TH(text=h) for h in head)
    return Markup('<div class="controls" id="machine-controls" hidden></div>\n'
                  f'<div class="scroll"><table id="machine-table"><thead><tr>{ths}</tr></thead>\n<tbody>\n'
                  f"{join(rows, chr(10))}\n</tbody></table></div>")


def render(fleet: Fleet) -> str:
    """The fleet index page: self-contained, readable without script, sortable and filterable with it."""
    n = len(fleet.machines)
    totals = ", ".join(f"{fleet.findings[level]} {level}" for level in LEVELS)
    header = Markup(f'<header class="page"><h1>Fleet assessment: {n} machine{"s" if n != 1 else ""}</h1>'
                    f'<p class="lede">Active findings across the fleet: {escape(totals)}. Each machine links to '
                    "its own assessment.</p></header>")
    sections = [
        _SECTION(ident="readiness", title="Readiness", body=_readiness(fleet)),
        _SECTION(ident="top", title="What blocks the move", body=_top(fleet)),
        _SECTION(ident="data", title="Data to move and time", body=_data(fleet)),
        _SECTION(ident="platform", title="Platforms",
                 body=Markup(f'<div class="grid">{join(_distribution(d) for d in fleet.distributions)}</div>')),
        _SECTION(ident="waves", title="Waves", body=_waves(fleet)),
        _SECTION(ident="machines", title="Machines", body=_machines(fleet)),
    ]
    footer = Markup(f'<footer class="page"><p>Generated by {escape(TOOL_NAME)} {escape(fleet.tool_version)} from '
                    f"{n} bundle{'s' if n != 1 else ''}. Every number is a sum over the per-machine reports in "
                    "<code>machines/*.json</code>; <code>fleet.csv</code> and <code>fleet.json</code> hold the "
                    "same rows.</p></footer>")
    body = Markup(f"{header}\n<main>\n{join(sections, chr(10))}\n</main>\n{footer}")
    return page(f"Fleet assessment: {n} machines", body, f"{TOOL_NAME} {fleet.tool_version}",
                script=asset("fleet.js"))
