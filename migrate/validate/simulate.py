"""Run the plan's steps over a model of both engines and the backup folder: each step's inputs must exist."""
from __future__ import annotations

from collections.abc import Callable

from migrate.plan.actions import CheckHost, SwitchContainers, WriteEnvFile, WriteSecretValues
from migrate.plan.build import COPY_IN, COPY_OUT
from migrate.plan.model import Plan
from migrate.plan.steps import Arg, BackupPath, Step, Word
from migrate.validate.dockerargs import (
    ArgsError,
    MountRef,
    Parsed,
    flag_value,
    is_id_ref,
    mount_spec,
    normalize_ref,
    parse_create,
    parse_network,
    parse_options,
    parse_volume,
    text,
    volume_spec,
)
from migrate.validate.result import Problem
from migrate.validate.state import Ctr, Engine, File, Img, Net, Vol, World

_SAVE = (frozenset({"-o", "--output", "--platform"}), frozenset[str]())
_LOAD = (frozenset({"-i", "--input", "--platform"}), frozenset({"-q", "--quiet"}))
_PULL = (frozenset({"--platform"}), frozenset({"-a", "--all-tags", "-q", "--quiet", "--disable-content-trust"}))
_STOP = (frozenset({"-t", "--time", "-s", "--signal", "--timeout"}), frozenset[str]())
_START = (frozenset({"--detach-keys", "--checkpoint", "--checkpoint-dir"}),
          frozenset({"-a", "--attach", "-i", "--interactive"}))
_PULLS = "docker would pull it from a registry (another image than the source's, or none)"
_COMMIT = (frozenset({"-a", "--author", "-c", "--change", "-m", "--message"}), frozenset({"-p", "--pause"}))


class Simulator:
    """Interprets steps one by one; problems name the step whose input is missing."""

    def __init__(self, plan: Plan, world: World) -> None:
        self.plan = plan
        self.w: World = world
        self.problems: list[Problem] = []
        self.step: Step = Step("validate/start", "preflight", "", CheckHost())
        self.seen: set[str] = set()
        self.plans = {c.name: c for c in plan.containers}
        self.digest_ids: dict[str, str] = {}
        for eng in (world.source, *((world.hyperv,) if world.hyperv is not None else ())):
            for im in eng.images.values():
                for d in im.digests:
                    self.digest_ids[normalize_ref(d)] = im.id
        for ip in (*plan.images, *(plan.hyperv.images if plan.hyperv is not None else ())):
            if ip.reference:
                self.digest_ids[normalize_ref(ip.reference)] = ip.id
        self.handlers: dict[str, Callable[[Engine, tuple[Arg, ...]], None]] = {
            "save": self._save, "load": self._load, "pull": self._pull, "tag": self._tag, "commit": self._commit,
            "stop": self._stop, "start": self._start, "run": self._run, "create": self._create,
            "compose": self._compose}
        self.object_handlers: dict[str, Callable[[Engine, tuple[Arg, ...]], None]] = {
            "network create": self._network_create, "network connect": self._network_connect,
            "volume create": self._volume_create}

    # -------------------------------------------------------------------------------------------- reporting

    def fail(self, message: str, severity: str = "fail") -> None:
        """Record a problem of the current step."""
        sid = self.step.id
        self.problems.append(Problem("order", severity, sid, message, step=sid))

    # -------------------------------------------------------------------------------------------- driver

    def run(self, steps: list[Step]) -> World:
        """Interpret every step in order and return the final world."""
        for step in steps:
            self.step = step
            for dep in step.depends_on:
                if dep not in self.seen:
                    self.fail(f"depends on {dep}, which does not run before it")
            for path in step.consumes:
                if path not in self.w.files:
                    self.fail(f"reads {path} from the backup folder, which no earlier step writes")
            self._args_need_folder(step.argv)
            engine = self._engine(step)
            if step.argv:
                self._docker(step, engine)
            else:
                self._action(step, engine)
            self.seen.add(step.id)
        return self.w

    def _engine(self, step: Step) -> Engine | None:
        if step.engine not in ("source", "target", "hyperv"):
            return None
        if step.action in ("wait-engine", "switch-containers"):
            return None  # it is what makes its engine available
        eng = self.w.source if step.engine == "source" else self.w.target if step.engine == "target" else self.w.hyperv
        if eng is None:
            self.fail("runs on the Hyper-V VM's Linux engine, which the inventory does not hold")
            eng = self.w.hyperv = Engine("hyperv", up=False)
        if not eng.up:
            if step.engine == "source" and self.w.desktop_stopped:
                self.fail(f"runs on the source engine, which is gone since {self.w.desktop_stopped} stopped "
                          "Docker Desktop")
            elif step.engine == "source":
                self.fail(f"runs on the source engine after {self.w.switched} switched Docker Desktop to Linux "
                          "containers (the default pipe leads to the other engine then)")
            elif step.engine == "hyperv":
                self.fail("runs on the Hyper-V VM's Linux engine before a switch-containers step reached it")
            else:
                self.fail("runs on the target engine before a wait-engine step made it available")
        return eng

    def _args_need_folder(self, argv: tuple[Arg, ...]) -> None:
        if self.w.folder:
            return
        uses = any(isinstance(a, BackupPath) or (isinstance(a, Word) and any(isinstance(p, BackupPath)
                                                                               for p in a.parts)) for a in argv)
        if uses and not self.w.folder:
            self.fail("uses the backup folder before a prepare-backup-folder step creates it")

    # -------------------------------------------------------------------------------------------- host actions

    def _action(self, step: Step, eng: Engine | None) -> None:
        w = self.w
        act = step.action
        if act == "prepare-backup-folder":
            w.folder = True
        elif isinstance(step.op, WriteEnvFile):
            ref = step.op.container
            if eng is not None and eng.container(ref) is None:
                self.fail(f"reads the environment of container {ref[:12]}, which is not on the {eng.label} engine")
            if not w.folder:
                self.fail("writes an env file before the backup folder exists")
            w.files[step.op.path] = File("env-file", step.id, content=ref)
        elif isinstance(step.op, WriteSecretValues):
            op = step.op
            if eng is not None and ((op.kind == "container" and eng.container(op.object) is None)
                                    or (op.kind == "volume" and op.object not in eng.volumes)):
                self.fail(f"reads the secret values of {op.kind} {op.object[:12]}, which is not on the {eng.label} "
                          "engine")
            if not w.folder:
                self.fail("writes secret values before the backup folder exists")
        elif act == "verify-backups":
            w.backups_verified = step.id
        elif act == "stop-desktop":
            if not w.backups_verified:
                self.fail("stops Docker Desktop before a verify-backups step checked the backups")
            w.desktop_stopped = step.id
            w.source.up = False
            w.target.up = False
            if w.hyperv is not None:
                w.hyperv.up = False
        elif act == "wait-engine":
            w.target.up = True
        elif isinstance(step.op, SwitchContainers) and step.op.to == "linux":
            # The engine is reached, maybe by switching Docker Desktop to Linux containers: the default pipe
            # (the source's) may lead to the Linux engine from here on.
            if w.hyperv is not None:
                w.hyperv.up = True
            w.source.up = False
            w.switched = step.id
        for art in step.produces:
            w.files.setdefault(art.path, File(art.kind, step.id))

    # -------------------------------------------------------------------------------------------- docker steps

    def _docker(self, step: Step, eng: Engine | None) -> None:
        assert eng is not None
        argv = step.argv
        head = argv[0] if isinstance(argv[0], str) else ""
        sub = argv[1] if len(argv) > 1 and isinstance(argv[1], str) else ""
        handlers = self.handlers
        try:
            if head in ("network", "volume") and sub in ("create", "connect"):
                self.object_handlers.get(f"{head} {sub}", self._unknown)(eng, argv[2:])
            elif head == "image" and sub == "inspect":
                self._inspect(eng, argv[2:])
            elif head in handlers:
                handlers[head](eng, argv[1:])
            else:
                self._unknown(eng, argv)
        except ArgsError as e:
            self.fail(f"docker {head} would reject its arguments: {e}")

    def _inspect(self, eng: Engine, args: tuple[Arg, ...]) -> None:
        """A read-only look at an image (a commit's content, recorded): the image must be there."""
        p = parse_options(args, frozenset({"-f", "--format", "--platform"}), frozenset(), interspersed=True)
        if len(p.positionals) != 1:
            raise ArgsError("docker image inspect takes one IMAGE here")
        self._image(eng, p.positionals[0], "docker image inspect would fail")

    def _unknown(self, eng: Engine, args: tuple[Arg, ...]) -> None:
        self.fail(f"docker {' '.join(text(a) for a in self.step.argv[:2])}: not a command validate can check",
                  "warn")

    def _image(self, eng: Engine, ref: Arg, doing: str) -> Img | None:
        img = eng.resolve(text(ref))
        if img is None:
            self.fail(f"image {text(ref)} is not on the {eng.label} engine: {doing}")
        return img

    def _save(self, eng: Engine, args: tuple[Arg, ...]) -> None:
        p = parse_options(args, *_SAVE, interspersed=True)
        out = p.last("-o") or p.last("--output")
        if not isinstance(out, BackupPath):
            self.fail(f"docker save writes {text(out) if out else 'to stdout'}, not into the backup folder")
            return
        saved: dict[str, Img] = {}
        for ref in p.positionals:
            img = self._image(eng, ref, "docker save would fail")
            if img is None:
                continue
            copy = saved.setdefault(img.id, Img(img.id, committed_from=img.committed_from))
            r = text(ref)
            # A save keeps the tags it was asked for; ids and digest references give no tag, digests are dropped.
            if not is_id_ref(r) and "@" not in r:
                copy.tags.add(r)
        self.w.files[out.rel] = File("image-archive", self.step.id, tuple(saved.values()))

    def _load(self, eng: Engine, args: tuple[Arg, ...]) -> None:
        p = parse_options(args, *_LOAD, interspersed=True)
        src = p.last("-i") or p.last("--input")
        f = self.w.files.get(src.rel) if isinstance(src, BackupPath) else None
        if f is None or f.kind != "image-archive":
            self.fail(f"loads {text(src) if src else 'stdin'}, which no earlier docker save wrote")
            return
        for img in f.images:
            eng.add_image(Img(img.id, set(img.tags), set(), img.committed_from))

    def _pull(self, eng: Engine, args: tuple[Arg, ...]) -> None:
        p = parse_options(args, *_PULL, interspersed=True)
        ref = text(p.positionals[0]) if p.positionals else ""
        if "@" in ref:
            iid = self.digest_ids.get(normalize_ref(ref), f"pulled:{normalize_ref(ref)}")
            eng.add_image(Img(iid, set(), {ref}))
        else:
            eng.add_image(Img(f"pulled:{normalize_ref(ref)}", {ref}))

    def _tag(self, eng: Engine, args: tuple[Arg, ...]) -> None:
        p = parse_options(args, frozenset(), frozenset(), interspersed=True)
        if len(p.positionals) != 2:
            raise ArgsError("docker tag takes SOURCE and TARGET")
        img = self._image(eng, p.positionals[0], "docker tag would fail")
        if img is not None:
            eng.tag(img, text(p.positionals[1]))

    def _commit(self, eng: Engine, args: tuple[Arg, ...]) -> None:
        p = parse_options(args, *_COMMIT, interspersed=True)
        if len(p.positionals) != 2:
            raise ArgsError("docker commit takes CONTAINER and REPOSITORY:TAG")
        ctr = eng.container(text(p.positionals[0]))
        if ctr is None:
            self.fail(f"commits container {text(p.positionals[0])[:12]}, which is not on the {eng.label} engine")
            return
        eng.add_image(Img(f"commit:{ctr.id}", {text(p.positionals[1])}, set(), ctr.id))

    def _stop(self, eng: Engine, args: tuple[Arg, ...]) -> None:
        for ref in parse_options(args, *_STOP, interspersed=True).positionals:
            ctr = eng.container(text(ref))
            if ctr is None:
                self.fail(f"stops container {text(ref)[:12]}, which is not on the {eng.label} engine")
            else:
                ctr.running = False

    def _start(self, eng: Engine, args: tuple[Arg, ...]) -> None:
        for ref in parse_options(args, *_START, interspersed=True).positionals:
            ctr = eng.container(text(ref))
            if ctr is None:
                self.fail(f"starts container {text(ref)}, which is not on the {eng.label} engine")
                continue
            for what, other in ctr.needs_running:
                dep = eng.container(other)
                if dep is None or not dep.running:
                    self.fail(f"starts {ctr.name}, whose {what} comes from container {other}, which is not running "
                              "then: docker start would fail")
            ctr.running = True

    def _network_create(self, eng: Engine, args: tuple[Arg, ...]) -> None:
        p = parse_network(args)
        if len(p.positionals) != 1:
            raise ArgsError("docker network create takes one NAME")
        name = text(p.positionals[0])
        if name in eng.networks:
            self.fail(f"network {name} already exists on the {eng.label} engine: docker network create would fail")
            return
        eng.networks[name] = Net(name, text(p.last("--driver") or "bridge"),
                                 tuple(sorted(text(s) for s in p.values("--subnet"))))

    def _network_connect(self, eng: Engine, args: tuple[Arg, ...]) -> None:
        p = parse_network(args)
        if len(p.positionals) != 2:
            raise ArgsError("docker network connect takes NETWORK and CONTAINER")
        net, ctr = (text(x) for x in p.positionals)
        if net not in eng.networks:
            self.fail(f"connects {ctr} to network {net}, which is not on the {eng.label} engine")
        if eng.container(ctr) is None:
            self.fail(f"connects container {ctr}, which is not on the {eng.label} engine")

    def _volume_create(self, eng: Engine, args: tuple[Arg, ...]) -> None:
        p = parse_volume(args)
        name = text(p.positionals[0]) if p.positionals else text(p.last("--name") or "")
        opts = dict(text(o).partition("=")[::2] for o in p.values("--opt"))
        labels = dict(text(o).partition("=")[::2] for o in p.values("--label"))
        have = eng.volumes.get(name)
        if have is not None and have.created_by.startswith("auto:"):
            return  # already reported where docker created it empty
        eng.volumes[name] = Vol(name, text(p.last("--driver") or "local"), opts, labels, "", self.step.id)

    # -------------------------------------------------------------------------------------------- containers

    def _mounts(self, eng: Engine, p: Parsed) -> list[MountRef]:
        refs = [volume_spec(v) for v in p.values("--volume")] + [mount_spec(m) for m in p.values("--mount")]
        for m in refs:
            if m.kind == "volume" and m.source not in eng.volumes:
                when = "yet" if eng.label == "target" else "(removed since the scan?)"
                self.fail(f"mounts volume {m.source}, which is not on the {eng.label} engine {when}: docker would "
                          "create it empty")
                eng.volumes[m.source] = Vol(m.source, content="", created_by=f"auto:{self.step.id}")
        return refs

    def _run(self, eng: Engine, args: tuple[Arg, ...]) -> None:
        p = parse_create(args)
        self._image(eng, p.positionals[0], _PULLS)
        net = p.last("--network")
        if net is not None and text(net) not in eng.networks and not text(net).startswith("container:"):
            self.fail(f"runs on network {text(net)}, which is not on the {eng.label} engine")
        mounts = self._mounts(eng, p)
        cmd = [text(a) for a in p.positionals[1:]]
        if cmd[:3] in (["sh", "-c", COPY_OUT], ["sh", "-c", COPY_IN]) and len(cmd) == 7:
            # A volume out or in (tar of /data to or from $1), then its digest to $2 (a file the step produces).
            cmd = ["tar", "-c" if cmd[2] == COPY_OUT else "-x", "-f", cmd[4], "-C", "/data"]
        if not cmd or cmd[0] != "tar":
            return
        archive, data = flag_value(cmd, "-f"), flag_value(cmd, "-C")
        backup = next((m for m in mounts if m.kind == "backup" and archive.startswith(m.target + "/")), None)
        vol = next((m for m in mounts if m.kind == "volume" and m.target == data), None)
        if backup is None or vol is None:
            self.fail("runs tar without a backup-folder mount for its archive and a volume mount for its data", "warn")
            return
        rel = "/".join(x for x in (backup.source, archive[len(backup.target) + 1:]) if x)
        volume = eng.volumes[vol.source]
        if "-c" in cmd:
            for ctr in (eng.containers[n] for n in sorted(eng.users.get(vol.source, ()))):
                if ctr.running:
                    cp = self.plans.get(ctr.name)
                    kept = cp is not None and cp.strategy != "skip"
                    self.fail(f"copies volume {vol.source} while container {ctr.name}, which writes to it, is "
                              f"running{'' if kept else ' (the plan skips it, so never stops it)'}: the copy may "
                              "be inconsistent", "fail" if kept else "warn")
            self.w.files[rel] = File("volume-archive", self.step.id, content=volume.content)
        elif "-x" in cmd:
            f = self.w.files.get(rel)
            if f is None or f.kind != "volume-archive":
                self.fail(f"restores {rel}, which no earlier step wrote")
                return
            if vol.read_only:
                self.fail(f"extracts into volume {vol.source} mounted read-only")
            volume.content = f.content

    def _create(self, eng: Engine, args: tuple[Arg, ...]) -> None:
        p = parse_create(args)
        name = text(p.last("--name") or "").lstrip("/")  # docker takes /NAME as NAME
        if not name:
            self.fail("creates a container without --name: nothing later can refer to it", "warn")
        elif eng.container(name) is not None:
            self.fail(f"a container named {name} already exists on the {eng.label} engine: docker create would fail")
            return
        ref = text(p.positionals[0])
        img = self._image(eng, ref, _PULLS)
        needs: list[tuple[str, str]] = []
        for what in ("network", "pid", "ipc"):
            mode = text(p.last("--" + what) or "")
            if mode.startswith("container:"):
                other = mode.split(":", 1)[1]
                needs.append((what, other))
                if eng.container(other) is None:
                    self.fail(f"shares the {what} namespace of container {other}, which is not on the "
                              f"{eng.label} engine yet")
        for net in p.values("--network"):
            n = text(net)
            if not n.startswith("container:") and n != "default" and n not in eng.networks:
                self.fail(f"joins network {n}, which is not on the {eng.label} engine yet")
        for vf in p.values("--volumes-from"):
            other = text(vf).split(":", 1)[0]
            if eng.container(other) is None:
                self.fail(f"takes volumes from container {other}, which is not on the {eng.label} engine yet")
        for link in p.values("--link"):
            other = text(link).split(":", 1)[0]
            needs.append(("link", other))
            if eng.container(other) is None:
                self.fail(f"links to container {other}, which is not on the {eng.label} engine yet")
        for env in p.values("--env-file"):
            if isinstance(env, BackupPath) and env.rel not in self.w.files:
                self.fail(f"reads env file {env.rel}, which no earlier step writes")
        vols = {m.source for m in self._mounts(eng, p) if m.kind == "volume"}
        image_id = img.id if img is not None else f"missing:{ref}"
        eng.add_container(Ctr(name, f"new:{name}", image_id, False, vols, tuple(needs)))
        self._check_image(name, ref, img)

    def _check_image(self, name: str, ref: str, img: Img | None) -> None:
        cp = self.plans.get(name)
        if cp is None or img is None:
            return
        if cp.commit and img.committed_from != cp.id:
            self.fail(f"creates {name} from {ref}, which is not the commit of its changed filesystem")
        elif not cp.commit and cp.image_id and img.id != cp.image_id:
            self.fail(f"creates {name} from {ref}, which is image {img.id[:19]} on the target, not the image "
                      f"{cp.image_id[:19]} the source container runs")

    def _compose(self, eng: Engine, args: tuple[Arg, ...]) -> None:
        words = [text(a) for a in args]
        project = flag_value(words, "--project-name") or flag_value(words, "-p")
        if "up" not in words:
            self.fail("runs a docker compose command other than up: not checked", "warn")
            return
        rest = words[words.index("up") + 1:]
        # Services follow `--`; before it are up's options and their values (--scale web=2).
        services = rest[rest.index("--") + 1:] if "--" in rest else [w for w in rest if not w.startswith("-")]
        members = [c for c in self.plan.containers if c.strategy == "compose" and c.compose is not None
                   and c.compose.project == project and (not services or c.compose.service in services)]
        names = {c.name for c in members}
        for c in members:
            img = eng.resolve(c.image) or eng.images.get(c.image_id)
            if img is None:
                self.fail(f"compose creates {c.name} from {c.image}, which is not on the {eng.label} engine: "
                          "compose would pull or build it")
            for v in c.volumes:
                if v not in eng.volumes:
                    self.fail(f"compose creates {c.name} mounting volume {v}, which is not on the {eng.label} "
                              "engine yet: compose would create it empty")
            for d in c.depends_on:
                if d not in names and eng.container(d) is None:
                    self.fail(f"compose creates {c.name}, which needs container {d}, not on the {eng.label} engine")
            eng.add_container(Ctr(c.name, f"new:{c.name}", img.id if img else f"missing:{c.image}", False,
                                  set(c.volumes)))


def simulate(plan: Plan, world: World, steps: list[Step]) -> tuple[World, list[Problem]]:
    """The world after the steps ran over its source engine (a fresh inventory's, or the plan's own), and the step
    problems found on the way."""
    sim = Simulator(plan, world)
    world = sim.run(steps)
    return world, sim.problems
