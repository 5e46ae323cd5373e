"""Hostile inventories through the whole pipeline: inventory -> plan.toml -> parse -> program -> runbook.

Generated names, labels, commands and env values (every PowerShell quote kind, `$(...)`, backticks, newlines,
double quotes, trailing backslashes, empty strings, non-ASCII) must come out of the runbook as inert literals: the
runbook's program decodes to exactly the planned program, and every command line in it (docker commands, recovery
commands, checks) splits back to exactly the planned arguments; env values must not appear in the plan or the
runbook at all.
"""
from __future__ import annotations

import dataclasses
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migrate.pipeline import runbook_for
from migrate.model import Attachment, Backend, Container, Image, Inventory, Network, Volume
from migrate.plan.build import build_program
from migrate.plan.decide import decide
from migrate.plan.planfile import parse_plan, render_plan
from migrate.plan.steps import Docker
from tests.psdata import program_data
from tests.pslit import parse_powershell, syntax_problems
from tests.runbook_check import ROOTS, planned, step_mismatches

NASTY = ["'", "\u2018", "\u2019", "\u201a", "\u201b", '"', "`", "$(Remove-Item C:\\)", "\\", "\n", "\r", "\t", " ",
         "@'", "'@", "%PATH%", "^&|<>", "\u00e9", "\U0001F600", ";", "#", "{{json .}}", "--%"]
hostile = st.lists(st.sampled_from(NASTY) | st.text(alphabet="abcXYZ019_.-", min_size=1, max_size=4),
                   min_size=1, max_size=5).map("".join)
ident = st.text(alphabet="abcdefghij", min_size=3, max_size=8)


@st.composite
def inventories(draw: st.DrawFn) -> tuple[Inventory, list[str], list[str]]:
    """A Hyper-V inventory with hostile values; returns it, the hostile strings, and the secret env values."""
    images, containers, volumes, networks = [], [], [], []
    values: list[str] = []
    secrets: list[str] = []
    base = Image("sha256:" + "b" * 64, tags=("busybox:1.36",), os="linux", layers=("l0",), size=1000)
    images.append(base)
    for i in range(draw(st.integers(1, 3))):
        name = draw(hostile)
        label_key, label_value, cmd = draw(hostile), draw(hostile), draw(st.lists(hostile | st.just(""), max_size=3))
        secret = f"S3CR3T{i}" + draw(st.text(alphabet="qwxz", min_size=8, max_size=12))
        secrets.append(secret)
        net, vol = f"net-{draw(ident)}{i}", draw(hostile | ident) + str(i)
        iid = f"sha256:{i:064x}"
        tag = f"local/app{i}:{draw(ident)}"
        images.append(Image(iid, tags=(tag,), os="linux", layers=("l0", f"l{i + 1}"), size=2000 + i))
        networks.append(Network(net, id=f"{i:064x}", driver="bridge", labels={label_key: label_value}))
        # Names as the scan normalizes them (no leading '/'); the volume's user is the container.
        volumes.append(Volume(vol, labels={"k": label_value}, users=(name + str(i),)))
        containers.append(Container(
            f"{i + 1:064x}", name + str(i), tag, image_id=iid, running=bool(i % 2),
            env=(f"TOKEN={secret}", f"OTHER={secret}x"), labels={label_key: label_value},
            cmd=tuple(cmd) or None, networks=(Attachment(net),),
            working_dir="/" + draw(hostile).replace("\n", "").replace("\r", "") or "/w"))
        values += [name + str(i), label_key, label_value, *[c for c in cmd if c]]
    inv = Inventory(backend=Backend(kind="hyperv"), images=tuple(images), containers=tuple(containers),
                    volumes=tuple(volumes), networks=tuple(networks))
    return inv, values, secrets


@given(inventories())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_hostile_inventory_gives_a_clean_runbook_with_exact_arguments(case) -> None:
    inv, values, secrets = case
    plan_text, _ = render_plan(decide(inv, None, "test"))
    plan = parse_plan(plan_text)
    # A volume name Docker would refuse (the local driver's [a-zA-Z0-9][a-zA-Z0-9_.-]+; ':' or '\\' cannot even be
    # given to -v) fails validate's offline checks, so `runbook` needs --force for it; any other fresh plan passes.
    result = runbook_for(plan_text, "plan.toml", "test", force=True)
    if all(re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9_.-]+", v.name) for v in inv.volumes):
        assert result.problems == ()
    script = result.text
    assert script.isascii()
    assert syntax_problems(parse_powershell(script)) == []
    for secret in secrets:
        assert secret not in plan_text and secret not in script
    program = build_program(plan)
    data = program_data(script)
    assert step_mismatches(data["$script:Steps"], program.steps) == []
    assert step_mismatches(data["$script:RollbackSteps"], program.rollback) == []
    seen = [planned(a, ROOTS[0]) for s in program.steps if isinstance(s.op, Docker) for a in s.op.argv]
    # Every hostile value reached some docker argument intact (as a whole argument or inside one).
    for v in values:
        assert any(v in arg for arg in seen), repr(v)


@given(inventories())
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_hostile_plan_round_trips_through_toml(case) -> None:
    inv, _, _ = case
    from migrate.plan.planfile import strip_reasons

    plan = decide(inv, None, "test")
    text, _ = render_plan(plan)
    assert parse_plan(text) == strip_reasons(plan)
    assert render_plan(plan, text)[0] == text
    assert dataclasses.replace(plan) == plan
