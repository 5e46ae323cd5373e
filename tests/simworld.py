"""A simulated machine for the interpreter's tests: the recording double of two engines (tests/dockerdouble.py),
a simulated Windows host and a backup folder, for a sample's default plan."""
from __future__ import annotations

import dataclasses
import datetime
import functools
import hashlib
import itertools
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from migrate.inventory.scan import ScanOptions, scan
from migrate.model import Inventory, Report
from migrate.pipeline import assess_inventory
from migrate.plan.build import build_program
from migrate.plan.decide import decide
from migrate.plan.model import Plan
from migrate.plan.steps import Program
from migrate.rehearse.host import SimulatedHost, seed_host
from migrate.rehearse.interpreter import Context, Outcome, StepResult, run_program
from migrate.rehearse.journal import load_journal
from tests.dockerdouble import EngineState, FakeDocker, source_from_inventory

ROOT = Path(__file__).resolve().parent.parent
PLAN_HASH = "c0ffee" * 10 + "abcd"


@functools.cache
def inventory(sample: str) -> Inventory:
    """A sample bundle's inventory (scanned once)."""
    return scan(ScanOptions(bundle=ROOT / "samples" / sample), "test")


class World:
    """One simulated machine: the double's engines, the host folder, the backup folder."""

    def __init__(self, tmp: Path, inv: Inventory, plan: Plan, program: Program) -> None:
        self.plan, self.program = plan, program
        self.work, self.host_root = tmp / "work", tmp / "host"
        lcow = plan.source_backend == "lcow"
        target = EngineState(id="TGT:" + "B" * 8, os="linux", kernel="5.15.153.1-microsoft-standard-WSL2",
                             mirrors=tuple(m.rstrip("/") + "/" for m in plan.switch.expect_registry_mirrors),
                             insecure=plan.switch.expect_insecure_registries)
        pulled = [im for im in (*plan.images, *(plan.hyperv.images if plan.hyperv else ())) if im.strategy == "repull"]
        registry = {im.reference: im.id for im in pulled}
        layers = {im.id: im.diff_ids for im in pulled}
        if plan.helper_pull or (plan.hyperv is not None and plan.hyperv.helper_pull):
            registry[plan.helper_image] = "sha256:" + "e" * 64  # the registry's helper image
        hyperv = None
        if inv.hyperv_engine is not None and inv.hyperv_engine.read:
            he = inv.hyperv_engine
            hyperv = source_from_inventory(dataclasses.replace(inv, images=he.images, containers=he.containers,
                                                               volumes=he.volumes, networks=he.networks), "linux")
            hyperv.id, hyperv.kernel = "HYP:" + "C" * 8, "5.10.102.1-linuxkit"
        self.docker = FakeDocker(source_from_inventory(inv, "windows" if lcow else "linux"), target, registry,
                                 hyperv, layers)
        seed_host(self.host_root, plan, inv, self.work)
        self.host = SimulatedHost(self.host_root)
        # The samples need GBs (the hyperv-2x backups and its new WSL disk: 11 GB on one drive): the simulated
        # drives have a terabyte free, whatever the test machine has.
        self.host.state["free_bytes"] = 10**12
        self.host.save()
        if self.host.state["windows"]["build"] < 19041:
            # The lcow sample's Windows is too old for WSL 2 (HOST001 blocks it): here it has been updated first.
            self.host.state["windows"] = {"build": 19045, "ubr": 3803}
            self.host.save()
        self.ticks = itertools.count()

    def clock(self) -> str:
        return f"2026-01-01 00:00:{next(self.ticks):02d}Z"

    def ctx(self) -> Context:
        return Context(self.program, PLAN_HASH, self.work, self.docker, SimulatedHost(self.host_root), self.clock)

    def run(self, *, resume: bool = False, stop_after: str = "",
            on_step: Callable[[StepResult], None] | None = None) -> Outcome:
        """Run (or resume) until finished, stopped or failed; restarts Windows as the logon task would."""
        host = SimulatedHost(self.host_root)
        if resume and host.state.get("pending_restart"):
            host.restart()
        outcome = run_program(self.ctx(), resume=resume, stop_after=stop_after, on_step=on_step)
        while outcome.status == "reboot" and not (stop_after and outcome.results[-1].id == stop_after):
            SimulatedHost(self.host_root).restart()
            outcome = run_program(self.ctx(), resume=True, stop_after=stop_after, on_step=on_step)
        return outcome

    def state(self) -> dict:
        """What a run leaves: engines, host files and state, artifacts, the journal without its times."""
        journal = load_journal(self.work, PLAN_HASH)
        files = {}
        for root in (self.work, self.host_root):
            for p in sorted(root.rglob("*")):
                rel = str(p.relative_to(root.parent))
                if p.is_file() and p.name not in ("journal.json", "journal.json.bak", ".wsl2-migrate.lock",
                                                   "artifacts.json.bak"):
                    files[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
        return {"engines": {k: e.snapshot() for k, e in self.docker.engines.items()}, "files": files,
                "steps": {k: (s.status, json.dumps(s.record, sort_keys=True)) for k, s in journal.steps.items()},
                "verified": journal.verified, "engines_seen": journal.engines, "finished": bool(journal.finished),
                "rolled_back": bool(journal.rolled_back)}


PLACE = Path("/dev/shm" if os.path.isdir("/dev/shm") else "/tmp") / f"w2m-sweep-{os.getpid()}"
"""Every world lives at this one path (emptied first): records name the files they copied by their path. In memory
where it can be: each journal write is flushed to disk, hundreds of times per run."""


@functools.cache
def report(sample: str) -> Report:
    """The sample's assessment (its findings shape the plan: features to enable, manual items)."""
    return assess_inventory(inventory(sample), [], None, "test", datetime.date(2026, 1, 1))[0]


VM_OFF = "-vm-off"
"""A sample name ending so: the LCOW host's Hyper-V VM does not run (Docker Desktop was started in Windows mode after
the collector ran), so the run must switch Desktop to Linux containers to reach its engine."""


def world(_unused: Path, sample: str) -> World:
    """A fresh world for a sample's default plan, at PLACE."""
    shutil.rmtree(PLACE, ignore_errors=True)
    PLACE.mkdir(parents=True)
    name = sample.removesuffix(VM_OFF)
    inv = inventory(name)
    plan = decide(inv, report(name), "test")
    w = World(PLACE, inv, plan, build_program(plan))
    if sample.endswith(VM_OFF):
        w.host.state["vms_running"] = False
        w.host.save()
    return w


def cleanup_place() -> None:
    """Remove the worlds' folder."""
    shutil.rmtree(PLACE, ignore_errors=True)
