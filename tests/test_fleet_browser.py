"""The fleet's pages in a real headless Chromium: no console error, the numbers in the DOM, hostile names as text,
sorting and filtering working, screenshots kept as test artifacts (build/test-artifacts/)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from migrate.cli import app
from migrate.units import human_bytes
from tests.browser import CHROMIUM, Browser
from tests.fleetgen import HOSTILE_CONTAINER, HOSTILE_NAMES, generate

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(os.environ.get("W2M_ARTIFACTS", ROOT / "build" / "test-artifacts"))
MACHINES = 80


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fleet-browser")
    generate(root / "share", MACHINES, seed=11, broken_every=25, hostile_every=20)
    out = root / "report"
    result = CliRunner().invoke(app, ["fleet", str(root / "share"), "-o", str(out), "--wave-size", "15"])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def browser():
    assert Path(CHROMIUM).exists(), "scripts/test.sh installs Debian's chromium"
    with Browser() as b:
        yield b


def test_the_console_watch_catches_errors(browser: Browser, tmp_path: Path) -> None:
    """The detector the other tests rely on: a page with a script error, a console error and a CSP refusal."""
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><meta http-equiv=\"Content-Security-Policy\" content=\"script-src 'none'\">"
                    "<p>x</p><img src=\"missing.png\"><script>nosuchfunction()</script>", encoding="utf-8")
    browser.open(page.as_uri())
    problems = browser.problems()
    assert any("script" in p.lower() and "content security policy" in p.lower() for p in problems), problems
    assert any("missing.png" in p for p in problems), problems


def test_index_renders_without_errors_and_shows_the_fleet_numbers(browser: Browser, site: Path) -> None:
    browser.open((site / "index.html").as_uri())
    assert browser.problems() == []
    fleet = json.loads((site / "fleet.json").read_text(encoding="utf-8"))
    reports = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((site / "machines").glob("*.json"))]
    # The numbers shown equal the sums over the per-machine JSON reports, read here on their own.
    total_bytes = sum(r["bytes_to_move"] for r in reports)
    shown = browser.evaluate("""({
        ready: document.getElementById('count-ready').textContent,
        after: document.getElementById('count-ready-after-actions').textContent,
        blocked: document.getElementById('count-blocked').textContent,
        unread: document.getElementById('count-could-not-read').textContent,
        bytes: document.getElementById('total-bytes').dataset.v,
        bytesText: document.getElementById('total-bytes').innerText,
        rows: document.querySelectorAll('#machine-table tbody tr').length,
        text: document.body.innerText})""")
    assert int(shown["ready"]) == sum(r["verdict"] == "ready" for r in reports)
    assert int(shown["after"]) == sum(r["verdict"] == "ready-after-actions" for r in reports)
    assert int(shown["blocked"]) == sum(r["verdict"] == "blocked" for r in reports)
    assert int(shown["unread"]) == MACHINES - len(reports) == 3
    assert int(shown["bytes"]) == total_bytes == fleet["totals"]["bytes_to_move"]
    assert shown["bytesText"] == human_bytes(total_bytes)
    assert shown["rows"] == MACHINES
    assert "HOST001" in shown["text"] and "Waves" in shown["text"]
    browser.screenshot(ARTIFACTS / "fleet-index.png")
    assert (ARTIFACTS / "fleet-index.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_figure_on_the_index_is_the_sum_of_the_machine_reports(browser: Browser, site: Path) -> None:
    """The duration card, each blocker/error row (machine count and the machines it links to) and each wave row
    (machines, bytes, seconds), as the browser shows them, against the per-machine JSON reports read here."""
    browser.open((site / "index.html").as_uri())
    assert browser.problems() == []
    reports = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in (site / "machines").glob("*.json")}
    shown = browser.evaluate("""(() => {
        const links = el => Array.from(el.querySelectorAll('ul.machines a'))
            .map(a => a.getAttribute('href').replace(/^machines\\//, '').replace(/\\.html$/, ''));
        const rules = {};
        for (const h3 of document.querySelectorAll('h3')) {
            const table = h3.nextElementSibling;
            if (!table || !table.classList.contains('rules')) continue;
            for (const tr of table.tBodies[0].rows)
                rules[h3.textContent + ' ' + tr.cells[0].textContent] = {n: Number(tr.cells[2].dataset.v),
                                                                          machines: links(tr)};
        }
        const waves = Array.from(document.querySelectorAll('#waves tbody tr')).map(tr => ({
            n: Number(tr.cells[2].textContent), bytes: Number(tr.cells[3].dataset.v),
            seconds: Number(tr.cells[4].dataset.v), machines: links(tr),
            listed: tr.querySelectorAll('ul.machines li').length}));
        return {seconds: Number(document.getElementById('total-seconds').dataset.v), rules, waves};
    })()""")
    assert shown["seconds"] == sum(r["estimated_seconds"] for r in reports.values())
    want: dict[str, set[str]] = {}
    for stem, doc in reports.items():
        for f in doc["findings"]:
            if not f["waived"] and f["severity"] in ("blocker", "error"):
                want.setdefault(f"{f['severity'].capitalize()}s {f['rule']}", set()).add(stem)
    assert set(shown["rules"]) == set(want) and any(k.startswith("Blockers ") for k in want)
    for key, row in shown["rules"].items():
        assert row["n"] == len(row["machines"]) == len(want[key]) and set(row["machines"]) == want[key], key
    placed = [m for w in shown["waves"] for m in w["machines"]]
    assert sorted(placed) == sorted(reports) and len(shown["waves"]) > 1
    # A bundle that could not be read is listed in its wave without a page to link to.
    assert sum(w["listed"] - len(w["machines"]) for w in shown["waves"]) == MACHINES - len(reports)
    for w in shown["waves"]:
        assert w["n"] == w["listed"]
        assert w["bytes"] == sum(reports[m]["bytes_to_move"] for m in w["machines"])
        assert w["seconds"] == sum(reports[m]["estimated_seconds"] for m in w["machines"])


def test_hostile_names_are_text_in_the_page(browser: Browser, site: Path) -> None:
    browser.open((site / "index.html").as_uri())
    found = browser.evaluate("""({
        scripts: document.scripts.length,
        dialogs: 0,
        names: Array.from(document.querySelectorAll('#machine-table tbody tr td:first-child'))
                    .map(td => td.textContent),
        bold: document.querySelectorAll('#machine-table b').length})""")
    assert found["scripts"] == 1
    assert found["bold"] == 0
    for name in HOSTILE_NAMES[1:4]:
        assert name in found["names"]
    assert browser.problems() == []


def test_sorting_and_filtering_work(browser: Browser, site: Path) -> None:
    browser.open((site / "index.html").as_uri())
    result = browser.evaluate("""(() => {
        const table = document.getElementById('machine-table');
        const header = Array.from(table.tHead.rows[0].cells).findIndex(th => th.textContent === 'Data to move');
        table.tHead.rows[0].cells[header].querySelector('button').click();
        const values = () => Array.from(table.tBodies[0].rows).map(r => Number(r.cells[header].dataset.v));
        const ascending = values();
        table.tHead.rows[0].cells[header].querySelector('button').click();
        const descending = values();
        const select = document.querySelector('#machine-controls select');
        select.value = 'blocked';
        select.dispatchEvent(new Event('change'));
        const blocked = Array.from(table.tBodies[0].rows).filter(r => !r.hidden).map(r => r.dataset.verdict);
        select.value = '';
        select.dispatchEvent(new Event('change'));
        const input = document.querySelector('#machine-controls input');
        input.value = 'WS-0001';
        input.dispatchEvent(new Event('input'));
        const named = Array.from(table.tBodies[0].rows).filter(r => !r.hidden).length;
        return {ascending, descending, blocked, named, count: document.getElementById('machine-count').textContent};
    })()""")
    assert result["ascending"] == sorted(result["ascending"])
    assert result["descending"] == sorted(result["descending"], reverse=True)
    fleet = json.loads((site / "fleet.json").read_text(encoding="utf-8"))
    assert len(result["blocked"]) == fleet["totals"]["verdicts"]["blocked"] > 0
    assert set(result["blocked"]) == {"blocked"}
    assert result["named"] == 10  # WS-00010 .. WS-00019
    assert result["count"] == f"10 of {MACHINES} machines shown"
    assert browser.problems() == []


def test_machine_page_renders_with_the_hostile_container_as_text(browser: Browser, site: Path) -> None:
    fleet = json.loads((site / "fleet.json").read_text(encoding="utf-8"))
    hostile = next(m for m in fleet["machines"] if m["name"] == HOSTILE_NAMES[0])
    browser.open((site / hostile["page"]).as_uri())
    assert browser.problems() == []
    page = browser.evaluate("""({
        title: document.querySelector('h1').textContent,
        scripts: document.scripts.length,
        cells: Array.from(document.querySelectorAll('td')).map(td => td.textContent),
        charts: document.querySelectorAll('svg.chart').length,
        verdict: document.getElementById('Verdict') && document.getElementById('Verdict').textContent})""")
    assert page["title"] == f"Pre-migration assessment: {HOSTILE_NAMES[0]}"
    assert page["scripts"] == 0
    assert HOSTILE_CONTAINER in page["cells"]
    assert page["charts"] == 2 and page["verdict"] == "Verdict"
    browser.screenshot(ARTIFACTS / "fleet-machine.png")


def test_index_reads_without_javascript(browser: Browser, site: Path) -> None:
    """With scripts off, every machine is in the table and no dead filter controls are shown."""
    browser.call("Emulation.setScriptExecutionDisabled", {"value": True}, session=True)
    try:
        browser.open((site / "index.html").as_uri())
        browser.call("Emulation.setScriptExecutionDisabled", {"value": False}, session=True)
        state = browser.evaluate("""({
            rows: Array.from(document.querySelectorAll('#machine-table tbody tr')).filter(r => !r.hidden).length,
            controls: document.getElementById('machine-controls').children.length,
            hidden: document.getElementById('machine-controls').hidden,
            buttons: document.querySelectorAll('#machine-table th button').length})""")
    finally:
        browser.call("Emulation.setScriptExecutionDisabled", {"value": False}, session=True)
    assert state == {"rows": MACHINES, "controls": 0, "hidden": True, "buttons": 0}
    assert browser.problems() == []


def test_index_prints_readably(browser: Browser, site: Path) -> None:
    """The print stylesheet hides the controls; a PDF of the page is made without errors."""
    browser.open((site / "index.html").as_uri())
    browser.call("Emulation.setEmulatedMedia", {"media": "print"}, session=True)
    hidden = browser.evaluate("getComputedStyle(document.getElementById('machine-controls')).display")
    pdf = browser.call("Page.printToPDF", {"printBackground": False}, session=True)["data"]
    browser.call("Emulation.setEmulatedMedia", {"media": ""}, session=True)
    assert hidden == "none"
    assert len(pdf) > 10_000
    assert browser.problems() == []
