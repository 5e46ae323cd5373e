"""Tests for `wsl2-migrate fleet`: the roll-up equals the per-machine reports, output is deterministic, waves
round-trip through the CSV, unreadable bundles become rows, hostile names stay text."""
from __future__ import annotations

import csv
import io
import json
import re
import shutil
import zipfile
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from migrate.cli import app
from migrate.fleet.machine import HostSummary, Machine, ReportSummary, assign_idents, file_name, summarize_report
from migrate.fleet.rollup import histogram, percentile, BYTE_BUCKETS
from migrate.fleet.waves import plan_waves, read_csv, render_csv
from migrate.errors import InputError
from tests.fleetgen import HOSTILE_CONTAINER, generate

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "docs" / "fleet.schema.json").read_text(encoding="utf-8"))
runner = CliRunner()
MACHINES = 60


def _fleet(*args: str):
    result = runner.invoke(app, ["fleet", *args])
    return result


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    root = tmp_path_factory.mktemp("fleet-bundles")
    made = generate(root / "share", MACHINES, seed=7, broken_every=20, hostile_every=15)
    return root / "share", made


@pytest.fixture(scope="module")
def report(bundles, tmp_path_factory: pytest.TempPathFactory) -> Path:
    share, _ = bundles
    out = tmp_path_factory.mktemp("fleet-out") / "report"
    result = _fleet(str(share), "-o", str(out), "--jobs", "2", "--wave-size", "10")
    assert result.exit_code == 0, result.output
    return out


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_writes_every_output_and_no_staging_left(report: Path, bundles) -> None:
    _, made = bundles
    names = sorted(p.name for p in report.iterdir())
    assert names == ["fleet.csv", "fleet.json", "index.html", "machines", "waves.csv"]
    readable = [m for m in made if not m.broken]
    assert len(list((report / "machines").glob("*.json"))) == len(readable)
    assert len(list((report / "machines").glob("*.html"))) == len(readable)


def test_fleet_json_follows_its_documented_schema(report: Path) -> None:
    doc = json.loads((report / "fleet.json").read_text(encoding="utf-8"))
    jsonschema.validate(doc, SCHEMA)
    assert doc["schema"] == "wsl2-migrate/fleet/1"


def test_totals_equal_the_sum_of_the_per_machine_reports(report: Path, bundles) -> None:
    """Each per-machine JSON report read on its own, summed here: the fleet's numbers must be those sums."""
    _, made = bundles
    fleet = json.loads((report / "fleet.json").read_text(encoding="utf-8"))
    reports = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in (report / "machines").glob("*.json")}
    verdicts = {"ready": 0, "ready-after-actions": 0, "blocked": 0}
    severities = {"blocker": 0, "error": 0, "warning": 0, "info": 0}
    for doc in reports.values():
        verdicts[doc["verdict"]] += 1
        for f in doc["findings"]:
            if not f["waived"]:
                severities[f["severity"]] += 1
    totals = fleet["totals"]
    assert totals["bytes_to_move"] == sum(d["bytes_to_move"] for d in reports.values())
    assert totals["estimated_seconds"] == sum(d["estimated_seconds"] for d in reports.values())
    assert totals["verdicts"] == {**verdicts, "could-not-read": sum(1 for m in made if m.broken)}
    assert totals["findings"] == severities
    assert totals["machines"] == MACHINES
    for row in fleet["machines"]:
        if row["report"] is None:
            continue
        doc = reports[row["machine"]]
        assert (row["verdict"], row["bytes_to_move"], row["estimated_seconds"]) == (
            doc["verdict"], doc["bytes_to_move"], doc["estimated_seconds"])
        assert row["inventory_fingerprint"] == doc["inventory_fingerprint"]
        assert set(row["rules"]["blocker"]) == {f["rule"] for f in doc["findings"]
                                               if f["severity"] == "blocker" and not f["waived"]}
    # Every verdict class is present in this generated fleet, so none of the sums above is trivially zero.
    assert all(totals["verdicts"].values()) and totals["bytes_to_move"] > 0


def test_csv_rows_match_the_json_rows(report: Path) -> None:
    fleet = json.loads((report / "fleet.json").read_text(encoding="utf-8"))
    raw = (report / "fleet.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [r["machine"] for r in rows] == [m["machine"] for m in fleet["machines"]]
    for r, m in zip(rows, fleet["machines"], strict=True):
        assert r["verdict"] == m["verdict"]
        assert r["bytes_to_move"] == ("" if m["bytes_to_move"] is None else str(m["bytes_to_move"]))
        assert int(r["blocker"]) == m["findings"]["blocker"] and int(r["wave"]) == m["wave"]
        assert r["read_error"].lstrip("'") == m["read_error"]


def test_unreadable_bundles_are_rows_with_their_error(report: Path, bundles) -> None:
    _, made = bundles
    fleet = json.loads((report / "fleet.json").read_text(encoding="utf-8"))
    unread = {m["bundle"]: m for m in fleet["machines"] if m["verdict"] == "could-not-read"}
    broken = {str(m.path): m.broken for m in made if m.broken}
    assert set(unread) == set(broken)
    reasons = {"malformed": "malformed JSON", "escape": "climbs out with '..'", "not-zip": "not a zip archive"}
    for bundle, how in broken.items():
        assert reasons[how] in unread[bundle]["read_error"] and unread[bundle]["report"] is None
    index = (report / "index.html").read_text(encoding="utf-8")
    assert "Bundles that could not be read (3)" in index
    # Their wave's data and hours are unknown, never 0 B and 0.0 h.
    row = next(r for r in re.findall(r'<tr id="wave-\d+">.*?</tr>', index) if "could not read" in r)
    cells = re.findall(r'<td class="num"[^>]*>([^<]*)</td>', row)
    assert cells[1:] == ["3", "unknown", "unknown"], cells


def test_machine_page_and_report_are_what_assess_writes(report: Path, bundles, tmp_path: Path) -> None:
    fleet = json.loads((report / "fleet.json").read_text(encoding="utf-8"))
    for row in [m for m in fleet["machines"] if m["report"]][:3]:
        for fmt, ext in (("html", "html"), ("json", "json")):
            out = tmp_path / f"{row['machine']}.{ext}"
            result = runner.invoke(app, ["assess", "--bundle", row["bundle"], "--format", fmt, "-o", str(out)])
            assert result.exit_code == 0, result.output
            assert out.read_bytes() == (report / "machines" / f"{row['machine']}.{ext}").read_bytes()


def test_same_bundles_give_byte_identical_files_with_any_worker_count(report: Path, bundles,
                                                                      tmp_path: Path) -> None:
    share, _ = bundles
    again = tmp_path / "again"
    result = _fleet(str(share), "-o", str(again), "--jobs", "1", "--wave-size", "10")
    assert result.exit_code == 0, result.output
    assert _files(again) == _files(report)


def test_hostile_names_stay_text(report: Path) -> None:
    index = (report / "index.html").read_text(encoding="utf-8")
    assert index.count("<script") == 1  # the page's own sorting script, nothing from a bundle
    assert "&lt;script&gt;alert(&quot;fleet&quot;)&lt;/script&gt;" in index
    fleet = json.loads((report / "fleet.json").read_text(encoding="utf-8"))
    hostile = [m for m in fleet["machines"] if m["name"].startswith("<script>")]
    assert hostile and all(m["machine"].startswith("script") for m in hostile)
    page = (report / "machines" / f"{hostile[0]['machine']}.html").read_text(encoding="utf-8")
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # the hostile container name, as text
    assert HOSTILE_CONTAINER not in page
    rows = list(csv.DictReader(io.StringIO((report / "fleet.csv").read_text(encoding="utf-8-sig"))))
    formula = [r for r in rows if "HYPERLINK" in r["name"]]
    assert formula and all(r["name"].startswith("'=") for r in formula)


def test_folders_and_zips_in_any_mix_at_any_depth(tmp_path: Path) -> None:
    share = tmp_path / "share"
    generate(share / "site-a" / "floor-2", 3, seed=1, zips=True, broken_every=0, hostile_every=0)
    generate(share / "site-b", 2, seed=2, zips=False, broken_every=0, hostile_every=0)
    loose = generate(tmp_path / "loose", 1, seed=3, broken_every=0, hostile_every=0)[0].path
    (share / "site-b" / "notes.txt").write_text("not a bundle")
    out = tmp_path / "out"
    result = _fleet(str(share), str(loose), str(ROOT / "samples" / "lcow"), "-o", str(out))
    assert result.exit_code == 0, result.output
    fleet = json.loads((out / "fleet.json").read_text(encoding="utf-8"))
    bundles = [m["bundle"] for m in fleet["machines"]]
    assert len(bundles) == 7
    assert sum(b.endswith(".zip") for b in bundles) == 4
    assert str(ROOT / "samples" / "lcow") in bundles


def test_waves_round_trip_through_the_edited_csv(report: Path, tmp_path: Path, bundles) -> None:
    share, _ = bundles
    out = tmp_path / "out"
    shutil.copytree(report, out)
    first = (out / "waves.csv").read_bytes()
    # Unchanged, the CSV read back gives the same waves and the same file.
    assert _fleet(str(share), "-o", str(out), "--wave-size", "10").exit_code == 0
    assert (out / "waves.csv").read_bytes() == first
    # An IT lead moves two machines into a pilot wave and renumbers another.
    text = first.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    pilot = [rows[-1]["machine"], rows[5]["machine"]]
    for r in rows:
        if r["machine"] in pilot:
            r["wave"], r["label"] = "99", "pilot with the service desk"
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")  # as a text editor saves it
    writer.writeheader()
    writer.writerows(rows)
    (out / "waves.csv").write_text(buf.getvalue(), encoding="utf-8")
    result = _fleet(str(share), "-o", str(out), "--wave-size", "10")
    assert result.exit_code == 0, result.output
    fleet = json.loads((out / "fleet.json").read_text(encoding="utf-8"))
    waves = {w["wave"]: w for w in fleet["waves"]}
    assert waves[99]["label"] == "pilot with the service desk"
    assert sorted(waves[99]["machines"]) == sorted(pilot)
    by_machine = {m["machine"]: m for m in fleet["machines"]}
    assert all(by_machine[p]["wave"] == 99 for p in pilot)
    assert waves[99]["bytes_to_move"] == sum(by_machine[p]["bytes_to_move"] or 0 for p in pilot)
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "pilot with the service desk" in index
    # Written back, read again: stable.
    second = (out / "waves.csv").read_bytes()
    assert _fleet(str(share), "-o", str(out), "--wave-size", "10").exit_code == 0
    assert (out / "waves.csv").read_bytes() == second
    # --fresh-waves forgets the edit.
    assert _fleet(str(share), "-o", str(out), "--wave-size", "10", "--fresh-waves").exit_code == 0
    assert (out / "waves.csv").read_bytes() == first


def test_a_bad_waves_file_is_refused_with_the_line(tmp_path: Path, bundles) -> None:
    share, _ = bundles
    bad = tmp_path / "waves.csv"
    bad.write_text("wave,machine\n1,WS-00001\nfirst,WS-00002\n", encoding="utf-8")
    result = _fleet(str(share), "-o", str(tmp_path / "out"), "--waves", str(bad))
    assert result.exit_code == 2
    assert f"{bad}: line 3: wave 'first' of WS-00002 is not a whole number" in result.stderr
    assert not (tmp_path / "out").exists()
    bad.write_text("machine,label\nWS-00001,x\n", encoding="utf-8")
    result = _fleet(str(share), "-o", str(tmp_path / "out"), "--waves", str(bad))
    assert result.exit_code == 2 and "no 'wave' column" in result.stderr


def test_bad_paths_and_outputs_exit_2_and_leave_nothing(tmp_path: Path, bundles) -> None:
    share, _ = bundles
    result = _fleet(str(tmp_path / "nowhere"), "-o", str(tmp_path / "out"))
    assert result.exit_code == 2 and "no such file or folder" in result.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    result = _fleet(str(empty), "-o", str(tmp_path / "out"))
    assert result.exit_code == 2 and "no bundles under" in result.stderr
    afile = tmp_path / "afile"
    afile.write_text("x")
    result = _fleet(str(share), "-o", str(afile))
    assert result.exit_code == 2 and "is not a folder" in result.stderr
    result = _fleet(str(afile), "-o", str(tmp_path / "out"))
    assert result.exit_code == 2 and "not a bundle" in result.stderr
    out = tmp_path / "out"
    (out / "index.html").mkdir(parents=True)
    result = _fleet(str(share), "-o", str(out))
    assert result.exit_code == 2 and "is in the way" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["index.html"]
    result = _fleet(str(share), "-o", str(tmp_path / "missing" / "out"))
    assert result.exit_code == 2 and "does not exist" in result.stderr
    result = _fleet(str(share), "-o", str(tmp_path / "o2"), "--wave-size", "0")
    assert result.exit_code == 2 and "--wave-size" in result.stderr


def test_a_run_replaces_the_pages_of_machines_no_longer_there(tmp_path: Path) -> None:
    share = tmp_path / "share"
    made = generate(share, 4, seed=5, broken_every=0, hostile_every=0)
    out = tmp_path / "out"
    assert _fleet(str(share), "-o", str(out), "--jobs", "1").exit_code == 0
    assert len(list((out / "machines").glob("*.html"))) == 4
    made[0].path.unlink()
    assert _fleet(str(share), "-o", str(out), "--jobs", "1").exit_code == 0
    assert len(list((out / "machines").glob("*.html"))) == 3
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []


# ---------------------------------------------------------------------------------------------- units


def _doc(verdict: str, findings: list[tuple[str, str, bool]], size: int = 10, seconds: int = 5) -> dict:
    return {"verdict": verdict, "bytes_to_move": size, "estimated_seconds": seconds, "counts": {"images": 1},
            "backend": {"kind": "hyperv"}, "blind_spots": [], "inventory_fingerprint": "sha256:x",
            "findings": [{"rule": r, "severity": s, "waived": w, "title": f"title of {r}"} for r, s, w in findings]}


def test_adapter_counts_active_findings_and_reads_the_numbers() -> None:
    summary = summarize_report(_doc("blocked", [("HOST001", "blocker", False), ("CTR003", "warning", False),
                                                ("CTR003", "warning", False), ("NET002", "error", True)],
                                    size=123, seconds=45))
    assert summary.findings == {"blocker": 1, "error": 0, "warning": 2, "info": 0}
    assert summary.waived == 1
    assert summary.rules == {"blocker": ("HOST001",), "error": (), "warning": ("CTR003",), "info": ()}
    assert (summary.verdict, summary.bytes_to_move, summary.estimated_seconds) == ("blocked", 123, 45)
    assert summary.titles == {"HOST001": "title of HOST001"}  # the page lists blocker and error rules


def _machine(k: int, verdict: str, blockers: tuple[str, ...] = (), size: int = 0) -> Machine:
    if verdict == "could-not-read":
        return Machine(index=k, bundle=f"b{k}", host=HostSummary(name=f"M{k}"), error="bad", ident=f"M{k}")
    report = ReportSummary(verdict=verdict, findings={"blocker": len(blockers), "error": 0, "warning": 0,
                                                      "info": 0},
                           waived=0, rules={"blocker": blockers}, titles={}, bytes_to_move=size,
                           estimated_seconds=size // 10, counts={}, backend="hyperv", blind_spots=0, fingerprint="")
    return Machine(index=k, bundle=f"b{k}", host=HostSummary(name=f"M{k}"), report=report, pages=True,
                   ident=f"M{k}")


def test_suggested_waves_ready_first_then_actions_then_blockers_by_group_size() -> None:
    machines = [
        _machine(0, "blocked", ("HOST001",), 5), _machine(1, "ready", (), 30), _machine(2, "could-not-read"),
        _machine(3, "blocked", ("DESK002", "HOST001"), 1), _machine(4, "ready-after-actions", (), 7),
        _machine(5, "blocked", ("HOST001",), 2), _machine(6, "ready", (), 10), _machine(7, "ready", (), 20),
    ]
    waves = plan_waves(machines, wave_size=2)
    assert [(w.number, w.label, w.machines) for w in waves] == [
        (1, "ready (1/2)", ("M6", "M7")),
        (2, "ready (2/2)", ("M1",)),
        (3, "ready after actions", ("M4",)),
        (4, "blocked by HOST001", ("M5", "M0")),
        (5, "blocked by DESK002, HOST001", ("M3",)),
        (6, "could not read: collect again", ("M2",)),
    ]
    assert waves[0].bytes_to_move == 30 and waves[0].estimated_seconds == 3
    # Read back, the same assignment; a machine the file does not know goes after the file's last wave.
    edited = read_csv(render_csv(waves, machines), "waves.csv")
    extra = _machine(8, "ready", (), 1)
    again = plan_waves([*machines, extra], wave_size=2, edited=edited)
    assert again[:6] == waves and again[6].machines == ("M8",) and again[6].number == 7


def test_waves_csv_refuses_duplicates_and_blank_machines() -> None:
    with pytest.raises(InputError, match="listed twice"):
        read_csv("wave,machine\n1,A\n2,A\n", "w.csv")
    with pytest.raises(InputError, match="line 2: the machine column is empty"):
        read_csv("wave,machine\n1,\n", "w.csv")
    assert read_csv("\ufeffWave,Machine,Label\n\n3,A,'=x\n", "w.csv").labels == {3: "=x"}


def test_percentiles_and_histogram_boundaries() -> None:
    values = list(range(1, 101))
    assert [percentile(values, p) for p in (50, 90, 95, 100)] == [50, 90, 95, 100]
    assert percentile([], 50) == 0 and percentile([7], 95) == 7
    counts = dict(histogram([0, 99_999_999, 100_000_000, 10**9, 10**11, 10**12], BYTE_BUCKETS))
    assert counts == {"< 100 MB": 2, "100 MB - 1 GB": 1, "1 - 10 GB": 1, "10 - 50 GB": 0, "50 - 100 GB": 0,
                      ">= 100 GB": 2}


def test_machine_file_names_are_safe_and_unique() -> None:
    assert file_name("DEV-042") == "DEV-042"
    assert file_name("../../etc/passwd") == "etc_passwd"
    assert file_name("<script>") == "script"
    assert file_name("CON") == "CON_" and file_name("nul.txt") == "nul.txt_"
    assert file_name("") == "machine" and file_name("-x") == "x"
    assert assign_idents(["A", "a", "A", "b"]) == ["A", "a-2", "A-3", "b"]


def test_a_zip_from_the_collector_layout_is_found_and_named_by_its_machine(tmp_path: Path) -> None:
    path = tmp_path / "DEV-042_2025-01-31.zip"
    sample = ROOT / "samples" / "hyperv-2x"
    with zipfile.ZipFile(path, "w") as zf:
        for p in sorted(sample.rglob("*")):
            if p.is_file():
                zf.write(p, "DEV-042_2025-01-31/" + p.relative_to(sample).as_posix())
    out = tmp_path / "out"
    assert _fleet(str(tmp_path), "-o", str(out)).exit_code == 0
    assert (out / "machines" / "DEV-042.html").is_file()
