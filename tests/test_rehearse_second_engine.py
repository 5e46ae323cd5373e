"""Two source engines and a target, all real dockerds: an LCOW host's plan moves the Windows engine's Linux objects
and those of Docker Desktop's Linux engine in the Hyper-V VM (here: a second engine, `scan --host A --host B`).

The names both engines hold (a volume, a network, a container, an image tag) end on the target apart, each engine's
content under its own name; read here with docker itself, not through the scanner or verify. The simulated host
starts with the Hyper-V VM off, so the rehearsal switches Docker Desktop to reach that engine, as the runbook would.
A rollback from the restore phase starts both engines' containers again.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from migrate.plan.planfile import parse_plan
from tests.engines import Engine, IsolatedEngine, Registry, busybox_rootfs, start_engine, start_isolated_engine

pytestmark = pytest.mark.engine
ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "migrate", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=900)


def _populate(e: Engine, work: Path, mark: str, subnet: str) -> None:
    """One engine's objects; `mark` is what its files say, so the target shows which engine each came from."""
    work.mkdir(parents=True, exist_ok=True)
    e.docker("import", "--change", 'CMD ["sh"]', str(busybox_rootfs(work / "bb.tar")), "busybox:w2m")
    app = busybox_rootfs(work / "app.tar", {"etc/app": f"app of {mark}\n".encode()})
    e.docker("import", "--change", 'CMD ["sleep", "3600"]', str(app), "local/app:1")
    # Secret-named labels: the plan keeps digests, the runbook reads each value from its own engine at run time.
    e.docker("volume", "create", "--label", f"API_TOKEN=tok-{mark}", "shared")
    e.docker("run", "--rm", "-v", "shared:/v", "busybox:w2m", "sh", "-c", f"echo {mark} > /v/who")
    e.docker("volume", "create", f"only-{mark}")
    e.docker("network", "create", "--subnet", subnet, "appnet")
    e.docker("run", "-d", "--name", "app", "--label", f"DB_PASSWORD=pw-{mark}", "--network", "appnet", "-v",
             "shared:/data", "local/app:1")


@pytest.fixture(scope="module")
def engines(scratch: Path, registry: Registry) -> dict[str, Engine]:
    a = start_engine(scratch / "2a")
    started: list[Engine] = [a]
    try:
        b = start_isolated_engine(scratch / "2b", registry)
        started.append(b)
        t = start_isolated_engine(scratch / "2t", registry)
        started.append(t)
        _populate(a, scratch / "2a-work", "a", "10.213.11.0/24")
        _populate(b, scratch / "2b-work", "b", "10.213.12.0/24")
        # Only on the Hyper-V engine: a stopped container whose filesystem changed (committed, then moved).
        b.docker("run", "--name", "worker", "busybox:w2m", "sh", "-c", "echo report > /data/out")
        yield {"a": a, "b": b, "t": t}
    finally:
        for e in reversed(started):
            e.stop()


def _journal(work: Path) -> dict:
    return json.loads((work / "journal.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def rehearsal(engines: dict[str, Engine], scratch: Path) -> dict:
    a, b, t = engines["a"], engines["b"], engines["t"]
    plan_file = scratch / "two-plan.toml"
    made = cli("plan", "--host", a.url, "--host", b.url, "-o", str(plan_file))
    assert made.returncode == 0, made.stderr
    before = scratch / "two-before.json"
    scanned = cli("scan", "--volume-digests", "-q", "--host", a.url, "--host", b.url, "-o", str(before))
    assert scanned.returncode == 0, scanned.stderr
    work, host = scratch / "two-work", scratch / "two-host"
    base = ["rehearse", str(plan_file), "--source", a.url, "--hyperv", b.url, "--target", t.url, "--workdir",
            str(work), "--host-root", str(host)]
    first = cli(*base, "--stop-after", "preflight/check-host")
    assert first.returncode == 0, first.stderr[-3000:]
    # Docker Desktop was restarted in Windows mode since: the Hyper-V VM is off, its engine does not answer.
    state_file = host / "wsl2-migrate-host.json"
    state = json.loads(state_file.read_text(encoding="utf-8"))
    state["vms_running"] = False
    state_file.write_text(json.dumps(state), encoding="utf-8")
    second = cli(*base, "--resume", "--format", "json")
    return {"plan": parse_plan(plan_file.read_text(encoding="utf-8")), "plan_file": plan_file, "work": work,
            "host": host, "first": first, "run": second, "before": before}


def test_the_plan_holds_the_second_engine_with_names_apart(rehearsal) -> None:
    plan = rehearsal["plan"]
    assert plan.hyperv is not None
    assert {v.name: v.source_name for v in plan.hyperv.volumes} == {"shared-hyperv": "shared", "only-b": ""}
    assert {n.name for n in plan.hyperv.networks} == {"appnet-hyperv"}
    assert {c.name for c in plan.hyperv.containers} == {"app-hyperv", "worker"}
    app = next(im for im in plan.hyperv.images if im.source_tags == ("local/app:1",))
    assert app.tags == ("local/app:1-hyperv",)


def test_the_rehearsal_switches_to_reach_the_second_engine_and_verifies(rehearsal) -> None:
    res = rehearsal["run"]
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    data = json.loads(res.stdout)
    assert data["ok"] is True and data["counts"]["missing"] == 0 and data["counts"]["different"] == 0
    assert all(d["equal"] for d in data["volume_digests"]) and len(data["volume_digests"]) == 4
    journal = _journal(rehearsal["work"])
    steps = {s["id"]: s for s in journal["steps"]}
    assert "switched to linux containers" in steps["backup/hyperv/engine"]["notes"]
    assert journal["finished"] and {"source", "hyperv", "target"} <= set(journal["engines"])
    assert journal["engines"]["target"]["store"] == "classic"
    state = json.loads((rehearsal["host"] / "wsl2-migrate-host.json").read_text(encoding="utf-8"))
    assert state["vms_running"] is False  # the switch to WSL 2 stopped Desktop and its VM


def _read(e: Engine, image: str, *cmd: str, volume: str = "") -> str:
    mount = ["-v", f"{volume}:/v:ro"] if volume else []
    return e.docker("run", "--rm", "--network", "none", *mount, image, *cmd).strip()


def test_each_engine_arrives_under_its_own_names(rehearsal, engines) -> None:
    t = engines["t"]
    assert _read(t, "busybox:w2m", "cat", "/v/who", volume="shared") == "a"
    assert _read(t, "busybox:w2m", "cat", "/v/who", volume="shared-hyperv") == "b"
    assert {"only-a", "only-b"} <= set(t.docker("volume", "ls", "-q").split())
    assert _read(t, "local/app:1", "cat", "/etc/app") == "app of a"
    assert _read(t, "local/app:1-hyperv", "cat", "/etc/app") == "app of b"
    nets = {n: json.loads(t.docker("network", "inspect", n))[0]["IPAM"]["Config"][0]["Subnet"]
            for n in ("appnet", "appnet-hyperv")}
    assert nets == {"appnet": "10.213.11.0/24", "appnet-hyperv": "10.213.12.0/24"}
    app, moved = t.inspect("app")[0], t.inspect("app-hyperv")[0]
    assert app["State"]["Running"] and moved["State"]["Running"]
    assert moved["Config"]["Image"] == "local/app:1-hyperv" and "appnet-hyperv" in moved["NetworkSettings"]["Networks"]
    assert any(m.get("Name") == "shared-hyperv" for m in moved["Mounts"])
    # Each engine's secret values, read from that engine (the renamed volume by its old name there).
    assert app["Config"]["Labels"]["DB_PASSWORD"] == "pw-a" and moved["Config"]["Labels"]["DB_PASSWORD"] == "pw-b"
    labels = {v: json.loads(t.docker("volume", "inspect", v))[0]["Labels"] for v in ("shared", "shared-hyperv")}
    assert labels["shared"]["API_TOKEN"] == "tok-a" and labels["shared-hyperv"]["API_TOKEN"] == "tok-b"
    plan_text = rehearsal["plan_file"].read_text(encoding="utf-8")
    assert not any(v in plan_text for v in ("pw-a", "pw-b", "tok-a", "tok-b"))
    # The stopped container of the second engine came from its commit: its changed file is there.
    t.docker("commit", "worker", "check/worker:1")
    assert _read(t, "check/worker:1", "cat", "/data/out") == "report"


def test_both_sources_are_back_as_they_were(rehearsal, engines) -> None:
    for name in ("a", "b"):
        e = engines[name]
        assert e.inspect("app")[0]["State"]["Running"], name
        assert "wsl2-migrate/" not in e.docker("image", "ls", "--format", "{{.Repository}}"), name


def test_verify_compares_both_sources_with_the_target(rehearsal, engines) -> None:
    res = cli("verify", str(rehearsal["before"]), engines["t"].url, "--plan", str(rehearsal["plan_file"]),
              "--backup", str(rehearsal["work"]), "--format", "json")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr
    data = json.loads(res.stdout)
    names = {(o["kind"], o["name"]) for o in data["objects"] if o["status"] == "equal"}
    assert {("volume", "shared"), ("volume", "shared-hyperv"), ("container", "app"), ("container", "app-hyperv"),
            ("network", "appnet-hyperv")} <= names


def test_a_rollback_from_the_restore_phase_starts_both_engines_again(rehearsal, engines, scratch: Path,
                                                                     registry: Registry) -> None:
    a, b = engines["a"], engines["b"]
    t2: IsolatedEngine = start_isolated_engine(scratch / "2u", registry)
    try:
        work = scratch / "two-rollback"
        base = ["rehearse", str(rehearsal["plan_file"]), "--source", a.url, "--hyperv", b.url, "--target", t2.url,
                "--workdir", str(work)]
        first = cli(*base, "--stop-after", "restore/volume-data/shared-hyperv")
        assert first.returncode == 0, first.stderr[-3000:]
        frozen = (a.inspect("app")[0]["State"]["Running"], b.inspect("app")[0]["State"]["Running"])
        back = cli(*base, "--rollback")
        assert back.returncode == 0, back.stderr[-3000:]
        after = (a.inspect("app")[0]["State"]["Running"], b.inspect("app")[0]["State"]["Running"])
        resume = cli(*base, "--resume")
    finally:
        t2.stop()
    assert frozen == (False, False) and after == (True, True)
    assert "wsl2-migrate/" not in b.docker("image", "ls", "--format", "{{.Repository}}")
    assert resume.returncode == 2 and "rolled back" in resume.stderr
    rolled = {s["id"]: s for s in _journal(work)["steps"]}
    assert rolled["rollback/hyperv/engine"]["status"] == "done"
    assert rolled["rollback/hyperv/windows-containers"]["status"] == "done"
