"""Default decisions: a strategy for every image, volume, network and container, with the reasons."""
from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable, Iterable
from typing import TypeVar

from migrate.plan.gcpause import gc_paused
from migrate.assess.evaluate import subject_name
from migrate.assess.facts import Facts, compose_route, planned_wsl_data_dir
from migrate.assess.kinds import PlanKind, manual_kinds
from migrate.assess.predicates import version_key
from migrate.assess.space import roomiest_drive
from migrate.inventory.names import duplicate_names, target_names, unique_names
from migrate.model import Container, Finding, Image, Inventory, Network, Report, Volume, fingerprint
from migrate.plan import archives
from migrate.plan.model import (
    ComposePlan,
    ContainerPlan,
    ImagePlan,
    NetworkPlan,
    Plan,
    SwitchPlan,
    VolumePlan,
)
from migrate.plan.estimate import estimate
from migrate.plan.paths import translator
from migrate.plan.recreate import create_spec
from migrate.plan.actions import SecretRef
from migrate.plan.secretvalues import CARRIED, CREATE_FLAGS, carried_note, secret_refs
from migrate.plan.second import second_plan
from migrate.plan.steps import BackupPath
from migrate.secrets import holds_digest
from migrate.winbuilds import desktop_wsl2_floor, edition_family

DEFAULT_BACKUP_PATH = "C:\\wsl2-migrate-backup"
HELPER_FALLBACK = "busybox:latest"
_HELPER_REPOS = ("busybox", "alpine", "debian", "ubuntu")
"""Linux images with a tar that keeps owners, modes, symlinks and odd names (busybox and GNU tar both do)."""
_K8S_IMAGE = re.compile(r"^(k8s\.gcr\.io|registry\.k8s\.io|gcr\.io/k8s-minikube)/|^docker/desktop-(kubernetes|storage"
                        r"-provisioner|vpnkit-controller)|^docker/(kube-compose|desktop-kubernetes)")
_SWITCH_KINDS = (PlanKind.SWITCH_BACKEND, PlanKind.WRITE_WSLCONFIG, PlanKind.DROP_LCOW_EXPERIMENTAL,
                 PlanKind.ENABLE_WINDOWS_FEATURES, PlanKind.CARRY_DAEMON_CONFIG, PlanKind.CHECK_REGISTRIES,
                 PlanKind.DROP_DAEMON_KEY, PlanKind.SET_WSL_DATA_LOCATION, PlanKind.IGNORE_STALE_SETTINGS,
                 PlanKind.CHECK_FREE_SPACE, PlanKind.UPGRADE_DESKTOP, PlanKind.UPDATE_WSL,
                 PlanKind.SET_WSL_DEFAULT_VERSION, PlanKind.MOVE_HYPERV_ENGINE)
"""Kinds whose steps belong to the machine (preflight and switch), not to one object."""
_OBJECT_KINDS = ("image", "container", "volume", "network", "file")
"""Subjects a manual item names (a host or settings file needs no naming: there is one)."""
WSL_MIN_VERSION = "2.1.5"
"""The WSL current Docker Desktop needs (docs.docker.com/desktop/features/wsl/best-practices/)."""
DESKTOP_WSL2_VERSION = "2.3.0.2"
"""The first Docker Desktop with the WSL 2 backend in its stable release."""
_P = TypeVar("_P", NetworkPlan, ContainerPlan)
_FEATURES = ("Microsoft-Windows-Subsystem-Linux", "VirtualMachinePlatform")


class _Findings:
    """Findings by subject, for the reasons written next to each decision."""

    def __init__(self, report: Report | None, inv: Inventory | None = None) -> None:
        self.by: dict[tuple[str, str], list[Finding]] = {}
        # Objects sharing a name are renamed for the new engine (names.unique_names); their findings carry the
        # source name with the id, so they are found by id.
        self.shown: dict[tuple[str, str], str] = {}
        if inv is not None:
            dups = duplicate_names(inv)
            for kind, objs in (("network", inv.networks), ("container", inv.containers)):
                for o in objs:
                    if o.name.lstrip("/") in dups[kind]:
                        self.shown[(kind, o.id)] = subject_name(kind, o, dups)
        self.all: tuple[Finding, ...] = report.findings if report else ()
        for f in self.all:
            if not f.waived:
                self.by.setdefault((f.subject_kind, f.subject), []).append(f)

    def of(self, kind: str, obj: Image | Container | Volume | Network) -> list[Finding]:
        shown = self.shown.get((kind, getattr(obj, "id", ""))) or subject_name(kind, obj)
        return self.by.get((kind, shown), [])

    def ids(self, kind: str, obj: Image | Container | Volume | Network) -> tuple[str, ...]:
        return tuple(sorted({f.rule for f in self.of(kind, obj)}))

    def with_plan(self, *kinds: str) -> list[Finding]:
        return [f for f in self.all if not f.waived and f.plan in kinds]

    def rules(self, *kinds: str) -> tuple[str, ...]:
        """Rule ids of the live findings of these kinds."""
        return tuple(sorted({f.rule for f in self.with_plan(*kinds)}))

    def manual_items(self) -> tuple[str, ...]:
        """What a person must do: one item per rule of a manual kind, `RULE: title (subjects)`."""
        by_rule: dict[str, list[Finding]] = {}
        for f in self.with_plan(*manual_kinds()):
            by_rule.setdefault(f.rule, []).append(f)
        out = []
        for rule, found in sorted(by_rule.items()):
            names = sorted({f.subject for f in found if f.subject_kind in _OBJECT_KINDS})
            shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
            out.append(f"{rule}: {found[0].title}" + (f" ({shown})" if names else ""))
        return tuple(out)


def _is_k8s(image: Image) -> bool:
    return any(_K8S_IMAGE.search(t) for t in image.tags)


def _image_plan(im: Image, used: bool, fs: _Findings) -> ImagePlan:
    why: list[str] = []
    reference = platform = ""
    if im.os == "windows":
        strategy = "skip"
        why.append("a Windows image: it stays with the Windows engine")
    elif _is_k8s(im):
        strategy = "skip"
        why.append("a Kubernetes system image: Docker Desktop pulls its own after the switch")
    elif im.dangling and not used:
        strategy = "skip"
        why.append("dangling and unused")
    elif im.repo_digests:
        strategy = "repull"
        reference = _digest_reference(im)
        why.append("has a registry digest: pulled by digest on the new engine (identical content, no archive)")
        if im.os and im.architecture:
            platform = "/".join(p for p in (im.os, im.architecture, im.variant) if p)
    else:
        strategy = "save"
        why.append("local only (no registry digest): saved to an archive and loaded")
    return ImagePlan(id=im.id, strategy=strategy, tags=im.tags, reference=reference, platform=platform,
                     diff_ids=im.layers, size=im.size, layers=len(im.layers), why=tuple(why),
                     findings=fs.ids("image", im))


def _digest_reference(im: Image) -> str:
    """The repo digest whose repository matches one of the tags (the one it was pulled as), else the first."""
    repos = {t.rsplit(":", 1)[0] if ":" in t.rsplit("/", 1)[-1] else t for t in im.tags}
    for d in sorted(im.repo_digests):
        if d.split("@", 1)[0] in repos:
            return d
    return sorted(im.repo_digests)[0]


def _helper(inv: Inventory) -> tuple[str, bool, list[str]]:
    """A Linux image with tar, present on the source engine: (reference, must pull, problems)."""
    for repo in _HELPER_REPOS:
        for im in sorted(inv.images, key=lambda i: i.id):
            if im.os == "windows":
                continue
            for t in sorted(im.tags):
                name = t.rsplit("/", 1)[-1].split(":", 1)[0]
                if name == repo:
                    return t, False, []
    return HELPER_FALLBACK, True, [
        f"no busybox/alpine/debian/ubuntu image in the inventory to copy volumes with: the runbook pulls "
        f"{HELPER_FALLBACK} on both engines (needs registry access; set [plan] helper_image to an image you have)"]


def _volume_plan(v: Volume, fs: _Findings, translate: Callable[[str], str | None],
                 user_rules: tuple[str, ...] = ()) -> VolumePlan:
    why: list[str] = []
    options = dict(v.options)
    if v.driver != "local":
        strategy = "skip"
        why.append(f"volume driver {v.driver!r}: install the plugin on the new engine and move the data with it")
    elif options.get("o", "") == "bind" or "bind" in options.get("o", "").split(","):
        device = options.get("device", "")
        new = translate(device) if device else None
        if new is None:
            strategy = "copy"
            why.append(f"backed by a folder inside the old VM ({device}): its content is copied")
            options = {}
        else:
            strategy = "recreate"
            options["device"] = new
            why.append(f"backed by a host folder: re-created pointing at {new}; the data stays where it is")
    else:
        strategy = "copy"
        why.append("copied through a helper container (owners, modes, symlinks, empty directories kept)")
    options, labels = _public(options, "options", why), _public(dict(v.labels), "labels", why)
    findings = tuple(sorted({*fs.ids("volume", v), *(user_rules if strategy == "copy" else ())}))
    return VolumePlan(name=v.name, strategy=strategy, driver=v.driver, options=options, labels=labels,
                      size=v.size, users=v.users, why=tuple(why), findings=findings)


def _public(values: dict[str, str], field: str, why: list[str]) -> dict[str, str]:
    """values as they are; those the inventory keeps only as a digest (a secret) are named in why: the digest stays
    and the runbook reads the value from the old engine (migrate/plan/secretvalues.py)."""
    refs = [SecretRef(field, k) for k in sorted(values) if holds_digest(values[k])]
    if refs:
        why.append(carried_note(refs))
    return values


def network_args(n: Network, lcow: bool) -> tuple[tuple[str, ...], list[str]]:
    """`docker network create` arguments re-creating n, and notes on what changed."""
    why: list[str] = []
    args: list[str] = ["network", "create"]
    windows_driver = n.driver not in ("bridge", "macvlan", "ipvlan", "overlay")
    driver = "bridge" if (lcow and windows_driver) else n.driver
    args += ["--driver", driver]
    if n.internal:
        args.append("--internal")
    if n.attachable:
        args.append("--attachable")
    if lcow and windows_driver:
        why.append(f"Windows network driver {n.driver!r}: re-created as a bridge network of the same name "
                   "(its Windows subnet and options do not apply to Linux containers)")
    else:
        if n.ipam_driver and n.ipam_driver != "default":
            args += ["--ipam-driver", n.ipam_driver]
        for cfg in n.ipam:
            if cfg.subnet:
                args += ["--subnet", cfg.subnet]
            if cfg.gateway:
                args += ["--gateway", cfg.gateway]
            if cfg.ip_range:
                args += ["--ip-range", cfg.ip_range]
            for k in sorted(cfg.aux_addresses):
                args += ["--aux-address", f"{k}={cfg.aux_addresses[k]}"]
        for k in sorted(n.ipam_options):
            args += ["--ipam-opt", f"{k}={n.ipam_options[k]}"]
        options = _public(dict(n.options), "options", why)
        for k in sorted(options):
            args += ["--opt", f"{k}={options[k]}"]
    labels = _public(dict(n.labels), "labels", why)
    for k in sorted(labels):
        args += ["--label", f"{k}={labels[k]}"]
    args += ["--", n.name]
    return tuple(args), why


def _network_plan(n: Network, fs: _Findings, lcow: bool, used_by_linux: bool) -> NetworkPlan | None:
    if lcow and n.name == "nat" and used_by_linux:
        # Windows' default network: Linux containers attached to it keep the name on a user-defined bridge.
        args, why = network_args(dataclasses.replace(n, builtin=False), lcow)
        return NetworkPlan(n.name, "recreate", args=args, id=n.id, why=tuple(why), findings=fs.ids("network", n))
    if n.builtin or n.name in ("bridge", "host", "none", "nat"):
        return None
    if n.scope == "swarm" or n.ingress or n.config_only or n.config_from:
        return NetworkPlan(n.name, "skip", id=n.id, why=("a swarm or config-only network: re-create it with swarm",),
                           findings=fs.ids("network", n))
    if lcow and not used_by_linux and n.driver not in ("bridge",):
        return NetworkPlan(n.name, "skip", id=n.id, why=("used by no Linux container: stays with the Windows engine",),
                           findings=fs.ids("network", n))
    args, why = network_args(n, lcow)
    if all(CARRIED in w for w in why):  # nothing changes but where some values come from
        why.insert(0, "re-created with the same IPAM, options and labels")
    return NetworkPlan(n.name, "recreate", args=args, id=n.id, why=tuple(why),
                       findings=fs.ids("network", n))


def _renamed(p: _P, object_id: str, renamed: dict[str, str], kind: str) -> _P:
    """A decision for an object renamed because another one shares its name, with the reason first."""
    if object_id not in renamed:
        return p
    source = renamed[object_id].rsplit("-", 1)[0]
    why = (f"another {kind} is named {source!r} too (engines before 25.0 allowed it, the WSL 2 engine does not): "
           f"this one ({object_id.removeprefix('sha256:')[:12]}) becomes {renamed[object_id]!r}",)
    return dataclasses.replace(p, why=why + p.why)


def _safe(name: str) -> str:
    """A lowercase repository-name component from a container name."""
    out = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return out or "container"


def _env_digest(env: Iterable[str]) -> str:
    """One digest over a container's env entries (each already a keyed digest), for drift to compare values."""
    if not env:
        return ""
    return "sha256:" + hashlib.sha256("\n".join(sorted(env)).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _container_plan(c: Container, projects: dict[str, dict[str, str]], images: dict[str, ImagePlan],
                    by_id: dict[str, Image], fs: _Findings, translate: Callable[[str], str | None],
                    readable: set[str], digested: bool, no_load: bool = False) -> ContainerPlan:
    name = c.name.lstrip("/")
    why: list[str] = []
    findings = fs.ids("container", c)
    image = by_id.get(c.image_id)
    if c.kubernetes:
        return ContainerPlan(name, c.id, "skip", image_id=c.image_id,
                             why=("managed by Kubernetes: Docker Desktop's Kubernetes re-creates it",),
                             findings=findings)
    if c.platform == "windows" or (image is not None and image.os == "windows"):
        return ContainerPlan(name, c.id, "skip", image_id=c.image_id,
                             why=("a Windows container: it stays with the Windows engine",), findings=findings)
    ip = images.get(c.image_id)
    commit = bool(c.size_rw) and not no_load
    if c.size_rw and no_load:
        why.append(f"its writable layer holds {c.size_rw} bytes, which a commit would carry, but Docker Desktop's "
                   "admin settings block docker load (blockDockerLoad): re-created from its image; copy what it "
                   "wrote out first (docker cp)")
    commit_ref = f"wsl2-migrate/{_safe(name)}:commit-{c.id[:12]}" if commit else ""
    if commit:
        why.append(f"its writable layer holds {c.size_rw} bytes: committed and re-created from the commit")
        ref = commit_ref
    elif ip is not None and ip.strategy == "save" and ("@sha256:" in c.image or c.image.startswith("sha256:")):
        ref = c.image_id
        why.append("created from a digest reference and its image is saved (a load drops registry digests): "
                   "re-created from the image id")
    elif image is not None and c.image not in image.tags and c.image != c.image_id and "@" not in c.image \
            and f"{c.image}:latest" not in image.tags:
        ref = c.image_id
        why.append(f"the tag {c.image} no longer points at its image: re-created from the image id")
    else:
        ref = c.image
    # The env file's path is the step builder's business (it adds --env-file); create_spec only needs to know
    # there is one, so the variables are carried and not reported as dropped.
    marker = BackupPath("env") if c.env else None
    spec = create_spec(c, image, image_ref=ref, translate_bind=translate, env_file=marker)
    args = list(spec.args)
    if marker is not None and marker in args:
        at = args.index(marker)
        del args[at - 1:at + 1]
    create = tuple(a for a in args if isinstance(a, str))
    strategy = "recreate"
    compose = None
    not_carried = list(spec.not_carried)
    route = compose_route(c, readable)
    if route and c.compose is not None:
        comp = c.compose
        if comp.working_dir and comp.config_files:
            # Written even when docker create re-creates it, so that strategy = "compose" is one edit away.
            compose = ComposePlan(comp.project, comp.service, comp.working_dir, tuple(comp.config_files),
                                  v1=c.labels.get("com.docker.compose.version", "").startswith("1."))
        service = f"service {comp.service!r} of compose project {comp.project!r}"
        if route == "compose":
            strategy = "compose"
            why.append(f"{service}: re-created by `docker compose up --no-start` from its files, which write the "
                       "compose labels themselves")
            # docker compose writes its own bookkeeping labels; create keeps the rest for a switch to recreate.
            create = _without_compose_labels(create)
            not_carried.append(("labels com.docker.compose.*", "docker compose writes them when it creates the "
                                "service"))
        elif route == "commit":
            why.append(f"{service}: committed, so it is re-created with docker create from the commit (docker "
                       "compose would create it from the compose file's image, without the data in its writable "
                       "layer); its compose labels, config hash included, are kept, so compose still lists it and "
                       "leaves it as it is while its files are unchanged")
        elif route == "oneoff":
            why.append(f"{service}: a one-off `docker compose run` container, which `compose up` does not create: "
                       "re-created with docker create, keeping its compose labels")
        else:
            why.append(f"{service}: its compose files were not read (scan with --project), so it is re-created "
                       "with docker create, keeping its compose labels")
    if not why:
        why.append("re-created with every captured setting")
    refs = secret_refs(create, CREATE_FLAGS)
    if refs and strategy == "recreate":
        why.append(carried_note(refs))
    deps = set(c.depends_on)
    if c.compose is not None and c.compose.depends_on:
        services = projects.get(c.compose.project, {})
        deps |= {services[s] for s in c.compose.depends_on if s in services}
    return ContainerPlan(
        env_digest=_env_digest(c.env) if digested else "",
        name=name, id=c.id, strategy=strategy, image=ref, image_id=c.image_id, commit=commit,
        commit_ref=commit_ref, size_rw=c.size_rw if commit else None, start=c.running,
        stop_timeout=c.stop_timeout if c.stop_timeout is not None else 10,
        depends_on=tuple(sorted(deps)), networks=tuple(sorted({a.network for a in c.networks})),
        volumes=tuple(sorted({m.name for m in c.mounts if m.type == "volume" and m.name})), create=create,
        connect=tuple(tuple(str(a) for a in x) for x in spec.connect),  # connect arguments are all text
        env=tuple(spec.env_names), not_carried=tuple(f"{k}: {v}" for k, v in not_carried), compose=compose,
        why=tuple(why), findings=findings)


PLAN_TAG_REPO = "wsl2-migrate/image"
"""The repository of the tags a run gives untagged images it saves (ImagePlan.plan_tag)."""


def _by_reference(cp: ContainerPlan, images: dict[str, ImagePlan]) -> ContainerPlan:
    """A container planned from its image's id, created from a reference that image has on the new engine instead:
    a tag (or the digest it is pulled by). The containerd image store knows an image by its manifest digest and
    tags only, so a classic id finds nothing there (moby/moby#48401)."""
    if cp.strategy == "skip" or cp.commit or "--" not in cp.create:
        return cp
    at = cp.create.index("--") + 1
    ip = images.get(cp.image_id)
    if at >= len(cp.create) or cp.create[at] != cp.image_id or ip is None or ip.strategy == "skip":
        return cp
    ref = ip.tags[0] if ip.tags else ip.reference
    if not ref:
        return cp
    create = (*cp.create[:at], ref, *cp.create[at + 1:])
    return dataclasses.replace(cp, image=ref, create=create, why=cp.why + (
        f"created from {ref}, a reference its image has on the new engine whatever its image store (the image id "
        "would find nothing on a containerd store)",))


def _without_compose_labels(create: tuple[str, ...]) -> tuple[str, ...]:
    """create arguments without the `--label com.docker.compose.*=...` pairs (options only, before `--`)."""
    out: list[str] = []
    i, end = 0, create.index("--") if "--" in create else len(create)
    while i < len(create):
        if i < end and create[i] == "--label" and i + 1 < end and create[i + 1].startswith("com.docker.compose."):
            i += 2
            continue
        out.append(create[i])
        i += 1
    return tuple(out)


def _no_secret_urls(urls: Iterable[str], what: str, problems: list[str]) -> list[str]:
    """urls without those holding a credential the inventory keeps only as a digest, each named in problems."""
    out = []
    for url in urls:
        if holds_digest(url):
            problems.append(f"{what}: {url} holds a credential the inventory keeps only as a digest: not carried; "
                            "set it in Docker Desktop after the switch, or plan from `scan --with-secrets`")
        else:
            out.append(url)
    return out


def _switch(inv: Inventory, fs: _Findings, problems: list[str]) -> SwitchPlan:
    backend = inv.backend.kind
    d = inv.settings.desktop
    wslconfig: dict[str, str] = {}
    if backend == "hyperv" and d is not None:
        if d.memory_mib:
            wslconfig["memory"] = f"{d.memory_mib}MB"
        if d.cpus:
            wslconfig["processors"] = str(d.cpus)
        if d.swap_mib is not None:
            wslconfig["swap"] = f"{d.swap_mib}MB"
    remove = ("experimental",) if fs.with_plan("drop-lcow-experimental") else ()
    linux = inv.settings.daemon_linux.values if inv.settings.daemon_linux is not None else {}
    windows = inv.settings.daemon_windows.values if inv.settings.daemon_windows is not None else {}
    drop = tuple(k for k in ("data-root", "graph", "storage-driver", "hosts") if k in linux)
    merged: dict[str, tuple[str, ...]] = {}
    for key in ("registry-mirrors", "insecure-registries"):
        have = [str(x) for x in linux.get(key) or [] if isinstance(x, str)]
        extra = [str(x) for x in windows.get(key) or [] if isinstance(x, str) and x not in have]
        if extra and backend == "lcow":
            merged[key] = tuple(have + extra)
    for key in list(merged):
        merged[key] = tuple(_no_secret_urls(merged[key], key, problems))
    engine = inv.engine
    # The Linux engine's daemon.json carries over to WSL 2: what it lists, the new engine must show too.
    own = {key: [str(x) for x in linux.get(key) or [] if isinstance(x, str)]
           for key in ("registry-mirrors", "insecure-registries")}
    mirrors = tuple(dict.fromkeys([*(engine.registry_mirrors if engine else ()), *own["registry-mirrors"],
                                   *merged.get("registry-mirrors", ())]))
    insecure = tuple(dict.fromkeys([*(x for x in (*(engine.insecure_registries if engine else ()),
                                                  *own["insecure-registries"])
                                      if x not in ("127.0.0.0/8", "::1/128")),
                                    *merged.get("insecure-registries", ())]))
    features = _FEATURES if fs.with_plan(PlanKind.ENABLE_WINDOWS_FEATURES) else ()
    manual = fs.manual_items()
    kind_findings = {k.value: fs.rules(k) for k in _SWITCH_KINDS if fs.rules(k)}
    kind_findings["manual"] = fs.rules(*manual_kinds())
    findings = tuple(sorted({r for rules in kind_findings.values() for r in rules}))
    if backend == "lcow":
        # The LCOW engine's own mirrors are the Windows engine's; the Linux engine gets them through `merged`.
        mirrors = tuple(m for m in mirrors if m in merged.get("registry-mirrors", ()) or m in linux.get(
            "registry-mirrors", []))
        insecure = tuple(m for m in insecure if m in merged.get("insecure-registries", ()) or m in linux.get(
            "insecure-registries", []))
    mirrors = tuple(_no_secret_urls(mirrors, "registry mirror", []))  # named once, below, if merged
    insecure = tuple(_no_secret_urls(insecure, "insecure registry", []))
    have = inv.settings.wslconfig.values.get("wsl2", {}) if inv.settings.wslconfig is not None else {}
    if isinstance(have, dict):
        # .wslconfig limits apply to every WSL distro: a value the user set is never replaced.
        wslconfig = {k: v for k, v in wslconfig.items() if k.lower() not in {str(x).lower() for x in have}}
    sharing = ""
    if backend == "hyperv" and d is not None:
        if "filesharingdirectories" in d.values:
            sharing = "filesharingDirectories"
        elif "shareddrives" in d.values:
            sharing = "sharedDrives"
    host = inv.host
    vms = tuple(sorted({str(vm.get("name")) for vm in (host.hyperv_vms if host else ()) if vm.get("name")})) or \
        ("DockerDesktopVM", "MobyLinuxVM")
    family = edition_family(host.edition_id, host.edition) if host else ""
    min_build, min_ubr = desktop_wsl2_floor(family)
    why = [f"Windows build {min_build}" + (f" (update revision {min_ubr})" if min_ubr else "")
           + " or later: what Docker Desktop's WSL 2 backend needs on "
           + (f"the {family} edition" if family else "an edition not known (the Home and Pro minimum)")]
    install = _wsl_install(inv)
    if install:
        why.append({"install": "WSL is not installed: `wsl --install --no-distribution` after the features",
                    "update": "WSL is the inbox one, older than " + WSL_MIN_VERSION + " or not known: `wsl --update` "
                    "(skipped when it already reports " + WSL_MIN_VERSION + " or later)"}[install])
    default_v2 = not (host is not None and host.wsl_default_version == 2)
    upgrade = bool(fs.with_plan("upgrade-desktop"))
    if upgrade:
        why.append(f"Docker Desktop is older than {DESKTOP_WSL2_VERSION}: upgraded after the backups, before the "
                   "switch (set desktop_installer to the installer's path, or the run asks you to upgrade)")
    if wslconfig:
        why.append(".wslconfig limits apply to every WSL distro, not only Docker Desktop's: only keys [wsl2] lacks "
                   "are added (" + ", ".join(sorted(wslconfig)) + "), a value you set is never replaced")
    return SwitchPlan(wsl_engine_enabled=True, linux_containers=backend == "lcow", remove_daemon_keys=remove,
                      linux_daemon_remove=drop, linux_daemon_set=merged, expect_registry_mirrors=mirrors,
                      expect_insecure_registries=insecure, wslconfig=wslconfig, enable_features=features,
                      manual=manual, file_sharing=sharing, desktop_user=host.user if host else "", old_vms=vms,
                      min_windows_build=min_build, min_windows_ubr=min_ubr, windows_edition=family,
                      desktop_upgrade=upgrade, desktop_min_version=DESKTOP_WSL2_VERSION, wsl_install=install,
                      wsl_min_version=WSL_MIN_VERSION, wsl_set_default_version=default_v2, why=tuple(why),
                      wsl_data_dir=planned_wsl_data_dir(inv), findings=findings,
                      kind_findings={k: v for k, v in kind_findings.items() if v})


def _wsl_install(inv: Inventory) -> str:
    """install when WSL is not there, update when it is the inbox one (no `wsl --version`), older than Docker
    Desktop needs or not known, '' when the host facts show a recent enough WSL."""
    host = inv.host
    if host is None or host.wsl_installed is None:
        return "update"
    if not host.wsl_installed:
        return "install"
    have, need = version_key(host.wsl_version), version_key(WSL_MIN_VERSION)
    if have is None or need is None or have < need:
        return "update"
    return ""


def _load_blocked(inv: Inventory) -> bool:
    """Docker Desktop's admin settings make `docker load` fail (blockDockerLoad)."""
    return Facts(inv).get(inv.settings, "admin_values").get("blockDockerLoad") is True


def _pull_instead_of_load(images: dict[str, ImagePlan], by_id: dict[str, Image]) -> tuple[dict[str, ImagePlan],
                                                                                           list[str]]:
    """With docker load blocked, every image the plan would save is pulled by its first tag instead (a pushed image
    keeps its id, which the restore checks); an untagged one is skipped. Returns the images and the skipped ids."""
    out, untagged = dict(images), []
    for iid, ip in images.items():
        if ip.strategy != "save":
            continue
        im = by_id.get(iid)
        tag = next((t for t in sorted(ip.tags) if "@" not in t), "")
        if not tag:
            out[iid] = dataclasses.replace(ip, strategy="skip", archive="", why=ip.why + (
                "Docker Desktop's admin settings block docker load (blockDockerLoad) and it has no tag to pull it "
                "by: tag and push it, then set strategy = repull with that reference",))
            untagged.append(iid)
            continue
        platform = "/".join(p for p in (im.os, im.architecture, im.variant) if p) if im is not None and im.os \
            and im.architecture else ""
        out[iid] = dataclasses.replace(ip, strategy="repull", reference=tag, platform=platform, archive="",
                                       why=ip.why + (f"Docker Desktop's admin settings block docker load "
                                                     f"(blockDockerLoad): pulled by its tag {tag} instead; push it "
                                                     "there first if it was built here (its id stays the same, which "
                                                     "the restore checks)",))
    return out, untagged


@gc_paused
def decide(inv: Inventory, report: Report | None, tool_version: str, backup_path: str = "") -> Plan:
    """The default plan for an inventory (findings, when given, become the reasons next to decisions)."""
    fs = _Findings(report, inv)
    renamed = target_names(n for n in inv.networks if not n.builtin) | target_names(inv.containers)
    source = inv
    inv = unique_names(inv)  # two networks (or containers) of one name become two names the new engine takes
    translate = translator(inv.backend.kind)
    used_ids = {c.image_id for c in inv.containers}
    images = {im.id: _image_plan(im, im.id in used_ids, fs) for im in inv.images}
    by_id = {im.id: im for im in inv.images}
    helper, pull, helper_problems = _helper(inv)
    problems: list[str] = []
    if not pull:
        hid = next(im.id for im in inv.images if helper in im.tags)
        if images[hid].strategy == "skip":
            images[hid] = dataclasses.replace(images[hid], strategy="save", why=images[hid].why + (
                "kept: it is the helper image the volume copies run in",))
    readable = {p.file.lower() for p in inv.project_files}
    projects: dict[str, dict[str, str]] = {}
    """compose project -> service -> container name, for compose depends_on."""
    for x in inv.containers:
        if x.compose is not None:
            projects.setdefault(x.compose.project, {})[x.compose.service] = x.name.lstrip("/")
    digested = inv.secrets.mode == "digest"
    no_load = _load_blocked(inv)
    containers = tuple(_renamed(_container_plan(c, projects, images, by_id, fs, translate, readable, digested,
                                                no_load), c.id, renamed, "container")
                       for c in sorted(inv.containers, key=lambda c: c.name))
    # An image is kept when a kept container needs it, even if dangling.
    needed = {cp.image_id for cp in containers if cp.strategy != "skip" and not cp.commit}
    for iid in sorted(needed):
        if iid in images and images[iid].strategy == "skip" and by_id[iid].os != "windows":
            images[iid] = dataclasses.replace(images[iid], strategy="save", why=("a kept container runs it",))
    switch = _switch(inv, fs, problems)
    if no_load:
        images, untagged = _pull_instead_of_load(images, by_id)
        problems += [f"blockDockerLoad: image {iid[:19]} has no tag to pull it by and is skipped; tag and push it, "
                     "then set its strategy to repull with that reference" for iid in untagged]
        lost = sorted(c.name for c, src in zip(containers, sorted(inv.containers, key=lambda c: c.name),
                                               strict=True) if src.size_rw and c.strategy != "skip")
        if lost and not any(m.startswith("DESK016: ") for m in switch.manual):
            switch = dataclasses.replace(switch, manual=tuple(sorted({*switch.manual, (
                "DESK016: copy out what these containers wrote (docker cp) before the move: blockDockerLoad keeps "
                "their commits from being loaded: " + ", ".join(lost))})))
    saved = [archives.SavedImage(iid, by_id[iid].layers, by_id[iid].size) for iid in sorted(images)
             if images[iid].strategy == "save"]
    for n, grp in enumerate(archives.group(saved), 1):
        for iid in grp:
            images[iid] = dataclasses.replace(images[iid], archive=f"images/images-{n:02d}.tar")
    for iid in sorted(images):
        im_plan = images[iid]
        if im_plan.strategy == "save" and not im_plan.tags:
            # Found by a tag on either image store (the containerd one would not know the classic id).
            tag = f"{PLAN_TAG_REPO}:{iid.removeprefix('sha256:')[:12]}"
            images[iid] = dataclasses.replace(im_plan, tags=(tag,), plan_tag=tag, why=im_plan.why + (
                f"untagged: tagged {tag} before it is saved, so the new engine finds it by that tag whatever its "
                "image store (the tag is removed from the source again by a rollback)",))
    containers = tuple(_by_reference(cp, images) for cp in containers)
    planned, lower, per_image = archives.estimate(saved)
    linux_users = {a.network for c in inv.containers if c.platform != "windows" for a in c.networks}
    lcow = inv.backend.kind == "lcow"
    networks = tuple(_renamed(p, n.id, renamed, "network") for n, p in (
        (n, _network_plan(n, fs, lcow, n.name in linux_users)) for n in sorted(inv.networks, key=lambda n: n.name))
        if p is not None)
    # A container rule that asks for its volumes to be copied (anonymous volumes) shapes those volumes' steps.
    copy_rules: dict[str, set[str]] = {}
    for c in inv.containers:
        rules = {f.rule for f in fs.of("container", c) if f.plan == PlanKind.COPY_VOLUME}
        for m in c.mounts:
            if rules and m.type == "volume" and m.name:
                copy_rules.setdefault(m.name, set()).update(rules)
    volumes = tuple(_volume_plan(v, fs, translate, tuple(sorted(copy_rules.get(v.name, ()))))
                    for v in sorted(inv.volumes, key=lambda v: v.name))
    if any(v.strategy == "copy" for v in volumes):
        problems[:0] = helper_problems  # the helper only copies volumes: with none to copy, a missing one is none
    plan = Plan(tool_version=tool_version, inventory_fingerprint=fingerprint(source), source_backend=inv.backend.kind,
                backup_path=backup_path or DEFAULT_BACKUP_PATH, helper_image=helper, helper_pull=pull,
                bytes_planned=planned, bytes_lower_bound=lower, bytes_one_per_image=per_image,
                switch=switch, images=tuple(images[i] for i in sorted(images)), volumes=volumes,
                networks=networks, containers=containers, problems=tuple(problems))
    # The LCOW host's second engine: its Linux objects move too, named apart from this engine's.
    plan = dataclasses.replace(plan, hyperv=second_plan(source, plan, tool_version, decide))
    est = estimate(plan)
    drives = inv.host.drives if inv.host is not None else ()
    roomy = "" if backup_path else roomiest_drive(est, drives)
    if roomy:
        # C: cannot hold both the backups and the new WSL disk: the backups go to the fixed drive with most room.
        plan = dataclasses.replace(plan, backup_path=f"{roomy}:\\wsl2-migrate-backup")
        est = estimate(plan)
    return dataclasses.replace(plan, backup_bytes=est.backup_bytes, wsl_disk_bytes=est.wsl_disk_bytes,
                               estimated_seconds=est.seconds, unknown_sizes=est.unknown)
