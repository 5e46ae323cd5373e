"""A recording stand-in for docker engines (the source, the target, and the LCOW host's second source engine), for
sweeps that run a whole program hundreds of times.

It keeps the state a program changes (images by reference, containers, volumes with content, networks), writes
what docker would write into the backup folder (image archives list their references and ids, volume archives
hold the volume's bytes, digests hash them), and records every command. Its property is the journal's and the
host's, not the engine's: the real engines run the same programs in tests/test_rehearse_engine.py.
A fault can be injected: the n-th command raises Crash before or after its effect (a power cut mid-step).
An engine may use the containerd image store: it then shows every image by a manifest digest of its own instead of
the config digest it keeps inside, as Docker does (moby/moby#48401), and finds images only by that id or a tag.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from migrate.model import Inventory
from migrate.plan.build import COPY_IN, COPY_OUT
from migrate.helpertools import END as PROBE_END
from migrate.helpertools import probe_command
from migrate.plan.actions import secret_inspect_format
from tests.runbook_check import ENV_PAIRS
from migrate.plan.checks import CONTAINER_FORMAT, IMAGE_FORMAT, IMAGE_ID, INSECURE, MIRRORS, NETWORK_FORMAT
from migrate.rehearse.docker import Completed


class Crash(Exception):
    """The machine lost power in the middle of a command."""


@dataclass
class Ctr:
    id: str
    name: str
    image: str
    env: list[str]
    running: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    log_opts: dict[str, str] = field(default_factory=dict)


@dataclass
class EngineState:
    """One engine's objects."""

    id: str
    os: str
    kernel: str
    images: dict[str, str] = field(default_factory=dict)
    """reference (tag, id or digest reference) -> image id."""
    containers: dict[str, Ctr] = field(default_factory=dict)
    """name -> container."""
    volumes: dict[str, bytes] = field(default_factory=dict)
    networks: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    mirrors: tuple[str, ...] = ()
    insecure: tuple[str, ...] = ()
    meta: dict[tuple[str, str], dict[str, dict[str, str]]] = field(default_factory=dict)
    """(volume|network, name) -> {"labels": ..., "options": ...}."""
    network_ids: dict[str, str] = field(default_factory=dict)
    """network id -> name."""
    layers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """image id -> its RootFS diff ids."""
    parents: dict[str, str] = field(default_factory=dict)
    """image id -> its parent image's id (an image other images build on stays when its last tag goes)."""
    store: str = "classic"
    """classic, or containerd: images shown by manifest digest (manifest_id)."""

    def snapshot(self) -> dict:
        return {"images": dict(sorted(self.images.items())),
                "containers": {n: (c.image, c.running, tuple(c.env), tuple(sorted(c.labels.items())),
                                   tuple(sorted(c.log_opts.items()))) for n, c in sorted(self.containers.items())},
                "volumes": {n: hashlib.sha256(v).hexdigest() for n, v in sorted(self.volumes.items())},
                "networks": dict(sorted(self.networks.items())),
                "meta": {f"{k[0]} {k[1]}": v for k, v in sorted(self.meta.items())}}

    def container(self, ref: str) -> Ctr | None:
        return self.containers.get(ref) or next((c for c in self.containers.values() if c.id == ref), None)

    def shown(self, image_id: str) -> str:
        """The id docker shows for an image: the config digest, or on a containerd store the manifest digest."""
        return manifest_id(image_id) if self.store == "containerd" else image_id

    def image(self, ref: str) -> str | None:
        """The image (config digest) a reference names; a containerd store knows no config digest as a name."""
        if self.store == "containerd":
            if ref.startswith("sha256:"):
                return next((i for i in set(self.images.values()) if manifest_id(i) == ref), None)
            return self.images.get(ref) if ref not in self.images.values() else None
        if ref not in self.images and "@" not in ref and ":" not in ref.rsplit("/", 1)[-1]:
            ref += ":latest"  # as docker reads a reference without a tag (`docker create hello-world`)
        return self.images.get(ref)


def manifest_id(config_id: str) -> str:
    """The manifest digest a containerd store shows for an image (made up, but fixed per image)."""
    return "sha256:" + hashlib.sha256(f"manifest|{config_id}".encode()).hexdigest()


def source_from_inventory(inv: Inventory, os: str = "linux") -> EngineState:
    """The source engine as the inventory describes it; each volume gets content of its own."""
    e = EngineState(id="SRC:" + "A" * 8, os=os, kernel="4.19.76-linuxkit" if os == "linux" else "10.0 17763")
    for im in inv.images:
        e.images[im.id] = im.id
        e.layers[im.id] = im.layers
        if im.parent:
            e.parents[im.id] = im.parent
        for ref in (*im.tags, *im.repo_digests):
            e.images[ref] = im.id
    for c in inv.containers:
        e.containers[c.name.lstrip("/")] = Ctr(c.id, c.name.lstrip("/"), c.image_id, list(c.env or ()), c.running,
                                               dict(c.labels), dict(c.log_opts))
    for v in inv.volumes:
        e.volumes[v.name] = f"data of {v.name}\n".encode() * 3
        e.meta[("volume", v.name)] = {"labels": dict(v.labels), "options": dict(v.options)}
    for n in inv.networks:
        e.networks[n.name] = (n.driver, tuple(x.subnet for x in n.ipam if x.subnet))
        e.meta[("network", n.name)] = {"labels": dict(n.labels), "options": dict(n.options)}
        e.network_ids[n.id] = n.name
    return e


class FakeDocker:
    """Answers `docker --host <engine> args` from two EngineStates; records every command."""

    def __init__(self, source: EngineState, target: EngineState, registry: dict[str, str],
                 hyperv: EngineState | None = None, registry_layers: dict[str, tuple[str, ...]] | None = None) -> None:
        self.engines = {"source": source, "target": target, **({"hyperv": hyperv} if hyperv is not None else {})}
        self.registry = registry
        """digest reference -> image id: what a pull brings."""
        self.registry_layers = registry_layers or {}
        """image id -> diff ids of what a pull brings."""
        self.calls: list[tuple[str, tuple[str, ...]]] = []
        self.crash_at = -1
        self.crash_after_effect = False

    def run(self, engine: str, args: Sequence[str], timeout: int, cwd: str | None = None) -> Completed:
        self.calls.append((engine, tuple(args)))
        n = len(self.calls) - 1
        if n == self.crash_at and not self.crash_after_effect:
            raise Crash(f"power cut before command {n}")
        result = self._do(self.engines[engine], list(args))
        if n == self.crash_at:
            raise Crash(f"power cut after command {n}")
        return result

    # ------------------------------------------------------------------------------------------------

    def _do(self, e: EngineState, a: list[str]) -> Completed:
        ok = lambda out="": Completed(0, out, "")  # noqa: E731
        fail = lambda msg, code=1: Completed(code, "", msg)  # noqa: E731
        ops = _after_dashes(a)
        if a[:1] == ["info"]:
            fmt = a[a.index("--format") + 1]
            if fmt == "{{json .}}":
                status = [["driver-type", "io.containerd.snapshotter.v1"]] if e.store == "containerd" else []
                return ok(json.dumps({"ID": e.id, "OSType": e.os, "KernelVersion": e.kernel, "DriverStatus": status,
                                      "OperatingSystem": "Docker Desktop" if e.os == "linux" else "Windows Server"}))
            if fmt == MIRRORS:
                return ok("".join(m + " " for m in e.mirrors))
            if fmt == INSECURE:
                return ok("".join(m + " " for m in e.insecure))
            return fail("unknown info format")
        if a[:2] == ["image", "inspect"]:
            ref, fmt = ops[0], a[a.index("--format") + 1]
            iid = e.image(ref)
            if iid is None or fmt not in (IMAGE_ID, IMAGE_FORMAT):
                return fail(f"No such image: {ref}")
            shown, layers = e.shown(iid), "".join(x + " " for x in e.layers.get(iid, ()))
            return ok(f"{shown}\n" if fmt == IMAGE_ID else f"{shown}|{layers}\n")
        if a[:2] == ["image", "rm"]:
            ref = ops[0]
            if ref not in e.images:
                return fail(f"No such image: {ref}")
            iid = e.images[ref]
            last = not any(v == iid and k not in (iid, ref) for k, v in e.images.items())
            if last and any(c.image == iid for c in e.containers.values()):
                # As dockerd does without --force (checked on 20.10): a container still needs the image.
                return fail(f"conflict: unable to remove repository reference {ref!r} (must force) - container is "
                            "using its referenced image")
            e.images.pop(ref)
            if last and iid not in e.parents.values():
                e.images.pop(iid, None)  # its last reference gone: docker deletes an image no other image builds on
            return ok(f"Untagged: {ref}\n")
        if a[:2] == ["volume", "inspect"]:
            if ops[0] not in e.volumes:
                return fail(f"No such volume: {ops[0]}")
            if "--format" in a and a[a.index("--format") + 1] == secret_inspect_format("volume"):
                return ok(_pairs(e.meta.get(("volume", ops[0]), {})))
            return ok("[{}]")
        if a[:2] == ["container", "inspect"]:
            c = e.container(ops[0])
            if c is None:
                return fail(f"No such container: {ops[0]}")
            if "--format" not in a:
                return ok("[{}]")
            fmt = a[a.index("--format") + 1]
            if fmt == ENV_PAIRS:
                return ok(json.dumps({"env": [["=" + v.split("=", 1)[0], "=" + v] for v in c.env] + [None]}))
            if fmt == CONTAINER_FORMAT:
                return ok(f"{e.shown(c.image)}|{'true' if c.running else 'false'}\n")
            if fmt == "{{json .HostConfig.PortBindings}}":
                return ok("{}")
            if fmt == secret_inspect_format("container"):
                return ok(_pairs({"labels": c.labels, "log_opts": c.log_opts}))
            return fail("unknown format")
        if a[:2] == ["network", "inspect"]:
            name = e.network_ids.get(ops[0], ops[0])
            if name not in e.networks:
                return fail(f"network {ops[0]} not found")
            if "--format" not in a:
                return ok("[{}]")
            if a[a.index("--format") + 1] == secret_inspect_format("network"):
                return ok(_pairs(e.meta.get(("network", name), {})))
            driver, subnets = e.networks[ops[0]]
            fmt = a[a.index("--format") + 1]
            return ok(f"{driver}|{''.join(s + ',' for s in subnets)}\n" if fmt == NETWORK_FORMAT else driver + "\n")
        if a[:2] == ["network", "create"]:
            name = ops[0]
            if name in e.networks:
                return fail(f"network with name {name} already exists")
            driver = a[a.index("--driver") + 1] if "--driver" in a else "bridge"
            e.networks[name] = (driver, tuple(a[i + 1] for i, x in enumerate(a) if x == "--subnet"))
            e.meta[("network", name)] = {"labels": _kv(a, ("--label",)), "options": _kv(a, ("--opt", "-o"))}
            return ok(name)
        if a[:2] == ["network", "rm"]:
            e.meta.pop(("network", ops[0]), None)
            return ok() if e.networks.pop(ops[0], None) else fail("no such network")
        if a[:2] in (["network", "connect"], ["network", "disconnect"]):
            return ok() if ops[0] in e.networks and e.container(ops[1]) else fail("no such network or container")
        if a[:2] == ["volume", "create"]:
            e.volumes.setdefault(ops[0], b"")
            e.meta[("volume", ops[0])] = {"labels": _kv(a, ("--label",)), "options": _kv(a, ("--opt", "-o"))}
            return ok(ops[0])
        if a[:2] == ["volume", "rm"]:
            if any(ops[0] in str(c) for c in ()):
                return fail("in use")
            e.meta.pop(("volume", ops[0]), None)
            return ok() if e.volumes.pop(ops[0], None) is not None else fail("no such volume")
        if a[0] == "ps":
            return ok("".join(c.id + "\n" for c in e.containers.values() if c.running))
        if a[0] in ("stop", "start"):
            c = e.container(ops[0])
            if c is None:
                return fail(f"No such container: {ops[0]}")
            c.running = a[0] == "start"
            return ok(ops[0])
        if a[0] == "commit":
            c = e.container(ops[0])
            if c is None:
                return fail(f"No such container: {ops[0]}")
            new = "sha256:" + hashlib.sha256(f"{c.id}|{ops[1]}".encode()).hexdigest()
            e.images[ops[1]] = new
            e.images[new] = new
            e.layers[new] = (*e.layers.get(c.image, ()), "sha256:" + hashlib.sha256(f"rw|{c.id}".encode()).hexdigest())
            return ok(e.shown(new) + "\n")
        if a[0] == "save":
            out = a[a.index("-o") + 1]
            missing = [r for r in ops if e.image(r) is None]
            if missing:
                return fail(f"reference does not exist: {missing[0]}")
            refs = {r: e.image(r) for r in ops}
            Path(out).write_text(json.dumps({"refs": refs, "layers": {i: e.layers.get(i, ()) for i in refs.values()}},
                                            sort_keys=True))
            return ok()
        if a[0] == "load":
            archive = json.loads(Path(a[a.index("-i") + 1]).read_text())
            for ref, iid in archive["refs"].items():
                if not ref.startswith("sha256:") or e.store == "classic":
                    e.images[ref] = iid
                e.images[iid] = iid
                e.layers[iid] = tuple(archive["layers"][iid])
            return ok()
        if a[0] == "pull":
            ref = ops[0]
            if ref not in self.registry:
                return fail(f"manifest for {ref} not found")
            e.images[ref] = self.registry[ref]
            e.images[self.registry[ref]] = self.registry[ref]
            e.layers[self.registry[ref]] = self.registry_layers.get(self.registry[ref], ())
            return ok()
        if a[0] == "tag":
            iid = e.image(ops[0])
            if iid is None:
                return fail(f"No such image: {ops[0]}")
            e.images[ops[1]] = iid
            return ok()
        if a[0] == "create":
            name = a[a.index("--name") + 1]
            if name in e.containers:
                return fail(f"Conflict. The container name /{name} is already in use")
            image = ops[0]
            if e.image(image) is None:
                return fail(f"Unable to find image '{image}' locally")
            env = []
            if "--env-file" in a:
                env = Path(a[a.index("--env-file") + 1]).read_text().splitlines()
            new = hashlib.sha256(f"new|{name}".encode()).hexdigest()
            e.containers[name] = Ctr(new, name, e.image(image) or "", env, labels=_kv(a, ("--label", "-l")),
                                     log_opts=_kv(a, ("--log-opt",)))
            return ok(new + "\n")
        if a[0] == "rm":
            return ok() if e.containers.pop(ops[0], None) else fail("No such container")
        if a[0] == "run":
            return self._run(e, a, ops)
        return fail(f"the double does not know docker {' '.join(a[:2])}")

    def _run(self, e: EngineState, a: list[str], ops: list[str]) -> Completed:
        mounts = {}
        for i, x in enumerate(a):
            if x == "-v":
                src, dst = a[i + 1].split(":")[:2]
                mounts[dst] = src
        helper, cmd = ops[0], ops[1:]
        if e.image(helper) is None:
            return Completed(125, "", f"Unable to find image '{helper}' locally")
        if cmd == ["sh", "-c", probe_command()]:
            return Completed(0, PROBE_END + "\n", "")
        volume = mounts.get("/data", "")

        def host(path: str) -> Path:
            where, _, rel = path.lstrip("/").partition("/")
            return Path(mounts["/" + where]) / rel

        if cmd[:3] == ["sh", "-c", COPY_OUT]:
            host(cmd[4]).write_bytes(e.volumes[volume])
        elif cmd[:3] == ["sh", "-c", COPY_IN]:
            if e.volumes.get(volume):
                return Completed(65, "", "wsl2-migrate: the volume is not empty: not restoring into it")
            e.volumes[volume] = host(cmd[4]).read_bytes()
        else:
            return Completed(127, "", f"the double does not know the command {cmd[:2]}")
        host(cmd[5]).write_text(f"sha256:{hashlib.sha256(e.volumes[volume]).hexdigest()} 3\n")
        return Completed(0, "", "")


def _kv(a: list[str], flags: tuple[str, ...]) -> dict[str, str]:
    """KEY=VALUE values of these flags among the options (before `--`), as docker reads them."""
    end = a.index("--") if "--" in a else len(a)
    return dict(a[i + 1].split("=", 1) for i in range(end - 1) if a[i] in flags and "=" in a[i + 1])


def _pairs(fields: dict[str, dict[str, str]]) -> str:
    """What the secret-values inspect format prints: each field's [=key, =value] pairs, then null."""
    return json.dumps({f: [["=" + k, "=" + v] for k, v in m.items()] + [None] for f, m in fields.items()})


def _after_dashes(a: list[str]) -> list[str]:
    return a[a.index("--") + 1:] if "--" in a else []
