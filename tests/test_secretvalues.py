"""Secret labels and options carried at run time (migrate/plan/secretvalues.py): the plan keeps the digest as a
marker, the program reads the value from the old engine in the backup phase and each docker command takes it from
the secrets file when it runs. Real engines: tests/test_rehearse_engine.py; here the planner, the step model, the
encoder and the rehearsal's interpreter over the docker double."""
from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from migrate.emit.cmdline import encode_command_line, encode_quoted, resolve_command_line
from migrate.errors import PlanError
from migrate.plan.actions import SecretRef, WriteSecretValues
from migrate.plan.build import build_program
from migrate.plan.decide import decide
from migrate.plan.planfile import render_plan
from migrate.plan.redact import display
from migrate.plan.secretvalues import CREATE_FLAGS, OPTION_FLAGS, secret_refs, with_secret_values
from migrate.plan.steps import SecretValue, resolve_arg
from migrate.rehearse.interpreter import run_program
from migrate.secrets import digest_value
from tests.simworld import cleanup_place, inventory, report, world
from tests.winsplit import SPLITTERS

ROOT = Path(__file__).resolve().parent.parent
D1, D2 = digest_value("hunter2", b"k"), digest_value("a\nb", b"k")
RAW = {"dpl_9fK2'q\"$x`y,z", "Vpn'Pa55\"\\", "bkp-2021-03-02T09:14:19Z"}
"""The hyperv-2x sample's secret label values as its bundle holds them (samples/README.md)."""


@pytest.fixture(autouse=True)
def _cleanup():
    yield
    cleanup_place()


# ------------------------------------------------------------------------------------------ the plan's arguments


def test_digested_values_become_secret_values_read_from_the_file() -> None:
    args = ("create", "--name", "web", "--label", f"db.password={D1}", "--label", "team=shop", "-l", f"x={D2}",
            "--log-opt", f"splunk-token={D1}", "--label=url=https://u:" + D1 + "@h", "--label", f"db.password={D1}",
            "--", "img:1", f"--label={D1}")
    refs = secret_refs(args, CREATE_FLAGS)
    assert refs == (SecretRef("labels", "db.password"), SecretRef("labels", "x"), SecretRef("log_opts", "splunk-token"),
                    SecretRef("labels", "url"))
    with pytest.raises(PlanError, match="argument 17 holds a digest"):
        with_secret_values(args, CREATE_FLAGS, "secrets/values/c.json", "containers.web.create")
    out = with_secret_values(args[:-1], CREATE_FLAGS, "secrets/values/c.json", "containers.web.create")
    f = "secrets/values/c.json"
    assert out == ("create", "--name", "web", "--label", SecretValue(f, 0, "db.password="), "--label", "team=shop",
                   "-l", SecretValue(f, 1, "x="), "--log-opt", SecretValue(f, 2, "splunk-token="),
                   SecretValue(f, 3, "--label=url="), "--label", SecretValue(f, 0, "db.password="), "--", "img:1")
    shown = display(out)
    assert "hmac" not in shown and shown.count("<redacted>") == 5 and "--label team=shop" in shown
    assert resolve_arg(out[4], "/b", secret=lambda a: "V" + str(a.index)) == "db.password=V0"


def test_volume_and_network_options_and_labels_are_read_and_nothing_else() -> None:
    args = ("volume", "create", "--driver", "local", "--opt", f"o=addr=nas,username=u,password={D1}", "-o",
            "type=cifs", "--label", f"k={D2}", "--", "v")
    out = with_secret_values(args, OPTION_FLAGS, "secrets/values/v.json", "volumes.v")
    assert out[5] == SecretValue("secrets/values/v.json", 0, "o=") and out[7] == "type=cifs"
    assert out[9] == SecretValue("secrets/values/v.json", 1, "k=")
    with pytest.raises(PlanError):  # --ipam-opt is not read from the old engine: the digest would be passed on
        with_secret_values(("network", "create", "--ipam-opt", f"a={D1}", "--", "n"), OPTION_FLAGS,
                           "secrets/values/n.json", "networks.n.args")


@pytest.mark.parametrize("file, index", [("env/x.json", 0), ("secrets/../x.json", 0), ("secrets/x.json", -1)])
def test_a_secret_value_lives_under_secrets(file: str, index: int) -> None:
    with pytest.raises(PlanError):
        SecretValue(file, index)


def test_write_secret_values_refuses_what_it_cannot_read() -> None:
    ok = {"kind": "volume", "object": "v", "path": "secrets/values/v.json", "entries": (SecretRef("options", "o"),)}
    WriteSecretValues(**ok)  # type: ignore[arg-type]
    for bad in ({"kind": "image"}, {"object": "-v"}, {"path": "volumes/v.json"}, {"entries": ()},
                {"entries": (SecretRef("log_opts", "x"),)}, {"entries": (SecretRef("options", "o"),) * 2}):
        with pytest.raises(PlanError):
            WriteSecretValues(**{**ok, **bad})  # type: ignore[arg-type]


def test_the_encoded_argument_splits_back_whole() -> None:
    value = "p@ss'\"$x`y,\n\\\"\\"
    segments = encode_command_line(("create", "--label", SecretValue("secrets/values/c.json", 2, "k="), "--", "i"))
    line = resolve_command_line(segments, "C:\\B", secret=lambda a: value)
    for name in ("go", "msvcrt"):
        assert SPLITTERS[name](line) == ["create", "--label", "k=" + value, "--", "i"]
    assert encode_quoted("") == '""'


# ------------------------------------------------------------------------------------------ the sample's program


def test_the_sample_program_reads_its_secrets_before_the_switch_and_uses_them_in_the_restore() -> None:
    plan = decide(inventory("hyperv-2x"), report("hyperv-2x"), "test")
    program = build_program(plan)
    ids = [s.id for s in program.steps]
    writers = {s.op.path: s for s in program.steps if isinstance(s.op, WriteSecretValues)}
    assert {(w.op.kind, w.target) for w in writers.values()} == {
        ("container", "shop-web.debug-2"), ("volume", "shop_pgdata"), ("network", "shop_default")}
    verify = program.step("backup/verify")
    for path, w in writers.items():
        assert w.phase == "backup" and ids.index(w.id) < ids.index("backup/verify") and w.id in verify.depends_on
        assert [(a.path, a.kind, a.secret) for a in w.produces] == [(path, "secret-values", True)]
    readers = [s for s in program.steps if s.docker is not None and any(
        isinstance(a, SecretValue) for cmd in (s.docker.argv, *s.docker.recover) for a in cmd)]
    assert {s.id for s in readers} == {"restore/create/shop-web.debug-2", "restore/volume/shop_pgdata",
                                       "restore/volume-data/shop_pgdata", "restore/network/shop_default"}
    for s in readers:
        files = {a.file for cmd in (s.docker.argv, *s.docker.recover) for a in cmd if isinstance(a, SecretValue)}
        assert files <= set(s.consumes) and all(writers[f].id in s.depends_on for f in files), s.id
        assert "hmac-sha256" not in s.docker.display
        assert ("<redacted>" in s.docker.display) == any(isinstance(a, SecretValue) for a in s.docker.argv), s.id
    network = next(w for w in writers.values() if w.op.kind == "network")
    assert network.op.object == next(n.id for n in inventory("hyperv-2x").networks if n.name == "shop_default")
    text, _ = render_plan(plan)
    assert text.count("the runbook reads the value from the old engine before the switch") == 3
    assert not any(raw in text for raw in RAW)


# ------------------------------------------------------------------------------------------ the rehearsal (double)


def _carried(w) -> dict[str, tuple[list[str], list[str]]]:
    """Each carried object's secret values on the source and on the target, as the double holds them."""
    src, dst = w.docker.engines["source"], w.docker.engines["target"]
    out = {}
    for s in w.program.steps:
        if isinstance(s.op, WriteSecretValues):
            if s.op.kind == "container":
                a, b = src.container(s.op.object), dst.containers[s.target]
                before, after = ({"labels": x.labels, "log_opts": x.log_opts} for x in (a, b))
            else:
                before = src.meta[(s.op.kind, src.network_ids.get(s.op.object, s.op.object))]
                after = dst.meta[(s.op.kind, s.target)]
            out[s.target] = ([before[r.field][r.key] for r in s.op.entries],
                             [after[r.field].get(r.key, "(missing)") for r in s.op.entries])
    return out


HOSTILE = "p@ss'\"$x`y,z\n\\\"2021-03-02T09:14:19Z\\"


def _seed(w, value: str) -> None:
    """Give the source's secret-named values this value (the double serves what the engine would)."""
    src = w.docker.engines["source"]
    src.container("shop-web.debug-2").labels["com.example.deploy-token"] = value
    src.meta[("volume", "shop_pgdata")]["labels"]["com.example.backup-token"] = value + "v"
    src.meta[("network", "shop_default")]["labels"]["com.example.vpn-password"] = value + "n"


def test_the_rehearsal_carries_each_value_exactly_and_writes_it_nowhere_else(tmp_path: Path) -> None:
    w = world(tmp_path, "hyperv-2x")
    _seed(w, HOSTILE)
    outcome = w.run()
    assert outcome.status == "finished", outcome.message
    carried = _carried(w)
    assert set(carried) == {"shop-web.debug-2", "shop_pgdata", "shop_default"}
    for name, (before, after) in carried.items():
        assert after == before, name
    assert w.docker.engines["target"].containers["shop-web.debug-2"].labels["com.example.deploy-token"] == HOSTILE
    secret_dir = w.work / "secrets" / "values"
    for f in secret_dir.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
        assert json.loads(f.read_text())["format"] == "wsl2-migrate-secret-values/1"
    needles = [HOSTILE.encode(), json.dumps(HOSTILE)[1:-1].encode(), b"p@ss'"]
    for root in (w.work, w.host_root):
        for p in root.rglob("*"):
            if p.is_file() and secret_dir not in p.parents:
                data = p.read_bytes()
                assert not any(n in data for n in needles), p


def test_a_value_no_command_line_can_carry_fails_its_step_naming_the_key(tmp_path: Path) -> None:
    w = world(tmp_path, "hyperv-2x")
    _seed(w, "x\x00y")
    outcome = w.run()
    assert outcome.status == "failed"
    assert "backup/secrets/container/shop-web.debug-2" in outcome.message
    assert "label com.example.deploy-token holds a NUL character" in outcome.message and "x\x00y" not in \
        outcome.message


def test_a_value_gone_from_the_old_engine_fails_its_step(tmp_path: Path) -> None:
    w = world(tmp_path, "hyperv-2x")
    del w.docker.engines["source"].meta[("network", "shop_default")]["labels"]["com.example.vpn-password"]
    outcome = w.run()
    assert outcome.status == "failed" and "no longer has the label com.example.vpn-password" in outcome.message


def test_a_changed_secrets_file_is_refused_before_the_restore_reads_it(tmp_path: Path) -> None:
    w = world(tmp_path, "hyperv-2x")
    first = run_program(w.ctx(), stop_after="switch/wait-engine")
    while first.status == "reboot":
        from migrate.rehearse.host import SimulatedHost

        SimulatedHost(w.host_root).restart()
        first = run_program(w.ctx(), resume=True, stop_after="switch/wait-engine")
    assert first.status == "stopped", first.message
    f = w.work / "secrets/values/container-shop-web.debug-2.json"
    f.write_text(f.read_text().replace('"=', '"=x'))
    outcome = w.run(resume=True)
    assert outcome.status == "failed" and "secrets/values/container-shop-web.debug-2.json changed" in \
        outcome.message
