"""Turn an inventoried container into the `docker create` arguments that re-create it on another engine.

Every value is its own argv element (never shell text); image defaults are left to the image; what docker create
cannot express is listed in `not_carried` instead of being dropped silently.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from migrate.model import Attachment, Container, Image
from migrate.plan.limits import kv, resources, security
from migrate.plan.mounts import mount_args
from migrate.plan.steps import Arg
from migrate.secrets import holds_digest, unsafe_reason

SECRET_NOT_KEPT = ("a secret: the inventory keeps a digest of it, not the value; set it by hand after the move, or "
                   "plan from `scan --with-secrets`")

# CARRIED_FIELDS (model.py) lists the fields the arguments below reproduce; verify compares exactly those.

_HEX = re.compile(r"^[0-9a-f]{12,64}$")
_DESKTOP_LABEL = "desktop.docker.io/"


@dataclass(frozen=True, slots=True)
class CreateSpec:
    """The docker commands that re-create one container, and what they cannot carry."""

    args: tuple[Arg, ...]
    """Arguments after `docker`: `create --name NAME ... IMAGE CMD...`."""
    connect: tuple[tuple[Arg, ...], ...] = ()
    """`network connect ... NETWORK NAME` argument lists for the networks after the first, in name order."""
    not_carried: tuple[tuple[str, str], ...] = ()
    """(setting, reason) for each configured setting the commands cannot reproduce, sorted; a setting's first word
    is the Container field it belongs to (`env entry 3`, `mounts /data`)."""
    env_names: tuple[str, ...] = ()
    """Names of the environment entries the env file carries, in the container's order."""


def not_carried_fields(spec: CreateSpec) -> frozenset[str]:
    """The Container fields a re-created container may differ in because of spec's not_carried settings."""
    return frozenset(setting.split(" ", 1)[0] for setting, _ in spec.not_carried)


# ------------------------------------------------------------------------------------------------ environment


def env_problem(entry: str) -> str:
    """Why a docker env file cannot hold this KEY=VALUE entry, or '' when it can."""
    name, sep, value = entry.partition("=")
    if not sep:
        return "the entry has no '=': an env file line without one is read from the docker client's environment"
    if not name:
        return "the name is empty"
    if any(ch.isspace() for ch in name):
        return "the name holds whitespace, which docker rejects in an env file"
    if name[0] in "#\ufeff":
        return "the name starts with '#' or a byte order mark, which an env file line cannot start with"
    if "\n" in value or "\r" in value or unsafe_reason(value) == "a line break":
        return "the value holds a line break, and an env file holds one entry per line"
    if "\x00" in entry or unsafe_reason(value) == "a NUL character":
        return "the entry holds a NUL character"
    try:
        entry.encode("utf-8")
    except UnicodeEncodeError:
        return "the entry is not valid UTF-8"
    return ""


def _carried_env(env: Sequence[str], image_env: Sequence[str]) -> list[str]:
    defaults = set(image_env)
    return [e for e in env if e not in defaults and not env_problem(e)]


def env_file_text(env: Sequence[str], image_env: Sequence[str]) -> str:
    """The docker env file for a container: its entries that are not image defaults and that a line can hold."""
    return "".join(e + "\n" for e in _carried_env(env, image_env))


# ------------------------------------------------------------------------------------------------ helpers


def _tup(value: Any) -> tuple[str, ...] | None:
    """A command-like value with None and [] made equal (the engine treats both as unset)."""
    return tuple(str(v) for v in value) if value else None


def _duration(ns: int) -> str:
    """Nanoseconds as a Go duration, exactly (no rounding)."""
    for unit, size in (("h", 3600 * 10**9), ("m", 60 * 10**9), ("s", 10**9), ("ms", 10**6), ("us", 10**3)):
        if ns % size == 0:
            return f"{ns // size}{unit}"
    return f"{ns}ns"


class _Spec:
    """Collects arguments and omissions while create_spec walks the container."""

    def __init__(self) -> None:
        self.args: list[Arg] = []
        self.lost: set[tuple[str, str]] = set()

    def flag(self, name: str, value: Arg) -> None:
        # An empty value is joined to its flag: some shells drop an empty argument.
        if value == "":
            self.args.append(name + "=")
        else:
            self.args += [name, value]

    def each(self, name: str, values: Sequence[str]) -> None:
        for v in values:
            self.flag(name, v)

    def lose(self, setting: str, reason: str) -> None:
        self.lost.add((setting, reason))


def _ref(ref: str, c: Container, names: Mapping[str, str] | None) -> tuple[str, bool]:
    """A container reference (name or id) as a name; False when an id could not be turned into one."""
    if names:
        if ref in names.values():
            return ref, True
        hits = sorted({n for cid, n in names.items() if ref and cid.startswith(ref)})
        if len(hits) == 1:
            return hits[0], True
    if not _HEX.match(ref):
        return ref, True
    # The scanner resolved the reference into depends_on; with a single dependency it can only be that one.
    if len(c.depends_on) == 1 and not _HEX.match(c.depends_on[0]):
        return c.depends_on[0], True
    return ref, False


def _mode(value: str, setting: str, c: Container, names: Mapping[str, str] | None, s: _Spec) -> str:
    """A namespace mode with a container: reference turned into a name."""
    if not value.startswith("container:"):
        return value
    name, ok = _ref(value.split(":", 1)[1], c, names)
    if not ok:
        s.lose(setting, "refers to a container id that is not in the inventory, so it cannot be named")
    return "container:" + name


# ------------------------------------------------------------------------------------------------ parts


def _command(c: Container, cfg: Mapping[str, Any], s: _Spec) -> tuple[str, ...]:
    """Emit --entrypoint when needed and return the command to put after the image."""
    ent, cmd = _tup(c.entrypoint), _tup(c.cmd)
    img_ent, img_cmd = _tup(cfg.get("Entrypoint")), _tup(cfg.get("Cmd"))
    # With an entrypoint given, the engine does not take the image's Cmd, so the command must be spelled out.
    if ent == img_ent and not (cmd is None and img_cmd is not None):
        return cmd if cmd is not None and cmd != img_cmd else ()
    if ent is None:
        s.flag("--entrypoint", "")
        return cmd or ()
    s.flag("--entrypoint", ent[0])
    if len(ent) > 1:
        s.lose("entrypoint", "docker create --entrypoint takes one word: the other words are put in front of the "
                             "command, so the same command line runs but Entrypoint and Cmd are split differently")
    return ent[1:] + (cmd or ())


def _env(c: Container, cfg: Mapping[str, Any], env_file: Arg | None, s: _Spec) -> tuple[str, ...]:
    image_env = [str(e) for e in cfg.get("Env") or []]
    have = {e.partition("=")[0] for e in c.env}
    for e in image_env:
        name = e.partition("=")[0]
        if name not in have:
            s.lose(f"env {name}", "the image sets it and docker create cannot unset an image variable")
    for i, e in enumerate(c.env, 1):
        why = env_problem(e)
        if why:
            s.lose(f"env entry {i}", why)
    names = tuple(e.partition("=")[0] for e in _carried_env(c.env, image_env))
    if env_file is not None:
        s.flag("--env-file", env_file)
    elif names:
        s.lose("env", "no env file was given for the variables that differ from the image")
    return names


def _labels(c: Container, image: Image | None, cfg: Mapping[str, Any], s: _Spec) -> None:
    image_labels = dict(image.labels) if image and image.labels else dict(cfg.get("Labels") or {})
    for key in sorted(set(image_labels) - set(c.labels)):
        s.lose(f"labels {key}", "the image sets it and docker create cannot remove an image label")
    desktop = False
    for key, value in sorted(c.labels.items()):
        if key.startswith(_DESKTOP_LABEL):
            desktop = True
        elif image_labels.get(key) != value:
            if holds_digest(value):
                s.lose(f"labels {key}", SECRET_NOT_KEPT)
            else:
                s.flag("--label", f"{key}={value}")
    if desktop:
        s.lose("labels desktop.docker.io/*", "Docker Desktop writes these itself when it creates the container")


def _identity(c: Container, cfg: Mapping[str, Any], s: _Spec) -> None:
    shared_uts = c.network_mode.startswith("container:") or c.uts_mode == "host"
    # The engine names a container after its id, and host or shared namespaces lend their own name.
    if c.hostname and c.hostname != c.id[:12] and not shared_uts and c.network_mode != "host":
        s.flag("--hostname", c.hostname)
    if c.domainname and not shared_uts:
        s.flag("--domainname", c.domainname)
    for field, key, flag in (("user", "User", "--user"), ("working_dir", "WorkingDir", "--workdir")):
        mine, theirs = getattr(c, field), str(cfg.get(key) or "")
        if mine != theirs:
            if mine:
                s.flag(flag, mine)
            else:
                s.lose(field, "the image sets it and docker create cannot clear it")


def _ports(c: Container, cfg: Mapping[str, Any], s: _Spec) -> None:
    published = {p.container_port for p in c.port_bindings}
    image_ports = set(cfg.get("ExposedPorts") or {})
    for port in c.exposed_ports:
        if port not in image_ports and port not in published:
            s.flag("--expose", port)
    for p in c.port_bindings:
        ip = f"[{p.host_ip}]" if ":" in p.host_ip else p.host_ip
        if ip:
            s.flag("--publish", f"{ip}:{p.host_port}:{p.container_port}")
        elif p.host_port:
            s.flag("--publish", f"{p.host_port}:{p.container_port}")
        else:
            s.flag("--publish", p.container_port)
    if c.publish_all_ports:
        s.args.append("--publish-all")


def _link(link: str) -> str:
    """A HostConfig.Links entry (/target:/container/alias) as --link takes it (target:alias)."""
    target, _, alias = link.partition(":")
    return f"{target.lstrip('/')}:{alias.rsplit('/', 1)[-1]}" if alias else target.lstrip("/")


def _connect(a: Attachment, name: str) -> tuple[Arg, ...]:
    out: list[Arg] = ["network", "connect"]
    for alias in a.aliases:
        out += ["--alias", alias]
    if a.ipv4_address:
        out += ["--ip", a.ipv4_address]
    if a.ipv6_address:
        out += ["--ip6", a.ipv6_address]
    for ip in a.link_local_ips:
        out += ["--link-local-ip", ip]
    for link in a.links:
        out += ["--link", link]
    for opt in kv(a.driver_opts):
        out += ["--driver-opt", opt]
    return (*out, "--", a.network, name)


def _network(c: Container, names: Mapping[str, str] | None, s: _Spec) -> list[tuple[Arg, ...]]:
    mode = c.network_mode
    if mode.startswith("container:"):
        s.flag("--network", _mode(mode, "network_mode", c, names, s))
        for setting, value in (("dns", c.dns), ("dns_search", c.dns_search), ("dns_options", c.dns_options),
                               ("extra_hosts", c.extra_hosts), ("links", c.links)):
            if value:
                s.lose(setting, "a container sharing another container's network cannot set it")
        return []
    if mode in ("host", "none"):
        s.flag("--network", mode)
        return []
    primary: Attachment | None = None
    for a in c.networks:
        if a.network == mode or (mode in ("", "default") and a.network == "bridge") or (
                _HEX.match(mode) and a.network_id.startswith(mode)):
            primary = a
            break
    if mode not in ("", "default"):
        s.flag("--network", primary.network if primary else mode)
    links = [_link(x) for x in c.links]
    if primary:
        s.each("--network-alias", primary.aliases)
        if primary.ipv4_address:
            s.flag("--ip", primary.ipv4_address)
        if primary.ipv6_address:
            s.flag("--ip6", primary.ipv6_address)
        s.each("--link-local-ip", primary.link_local_ips)
        links += [x for x in primary.links if x not in links]
        if primary.driver_opts:
            s.lose(f"networks {primary.network} driver options",
                   "docker create has no flag for the first network's driver options")
    if c.mac_address:
        s.flag("--mac-address", c.mac_address)
    s.each("--link", links)
    out = []
    for a in sorted(c.networks, key=lambda x: x.network):
        if a is primary:
            continue
        if a.mac_address and a.mac_address != c.mac_address:
            s.lose(f"networks {a.network} mac address", "docker network connect has no flag for a MAC address")
        out.append(_connect(a, c.name.lstrip("/")))
    return out


def _mounts(c: Container, translate: Callable[[str], str | None] | None, names: Mapping[str, str] | None,
            by_name: Mapping[str, Container], s: _Spec) -> None:
    inherited: set[tuple[str, str, str]] = set()
    for vf in c.volumes_from:
        ref, _, opt = vf.partition(":")
        name, ok = _ref(ref, c, names)
        if not ok:
            s.lose(f"volumes_from {ref}", "refers to a container id that is not in the inventory")
        s.flag("--volumes-from", f"{name}:{opt}" if opt else name)
        if name in by_name:
            inherited |= {(m.type, m.destination, m.name or m.source) for m in by_name[name].mounts}
    for m in c.mounts:
        # --volumes-from brings these again; an explicit -v (spec) is the user's own and is kept.
        if not m.spec and (m.type, m.destination, m.name or m.source) in inherited:
            continue
        mount_args(m, c.tmpfs, translate, s)
    for dest, opts in sorted(c.tmpfs.items()):
        s.flag("--tmpfs", f"{dest}:{opts}" if opts else dest)


def _namespaces(c: Container, names: Mapping[str, str] | None, s: _Spec) -> None:
    if c.pid_mode:
        s.flag("--pid", _mode(c.pid_mode, "pid_mode", c, names, s))
    # Kept even when it looks like a default: the engines' defaults differ (cgroup v1 vs v2, older engines).
    if c.ipc_mode:
        s.flag("--ipc", _mode(c.ipc_mode, "ipc_mode", c, names, s))
    if c.uts_mode:
        s.flag("--uts", c.uts_mode)
    if c.userns_mode:
        s.flag("--userns", c.userns_mode)
    if c.cgroupns_mode:
        s.flag("--cgroupns", c.cgroupns_mode)
    if c.cgroup_parent:
        s.flag("--cgroup-parent", c.cgroup_parent)
    if c.runtime and c.runtime != "runc":
        s.flag("--runtime", c.runtime)
    if c.init is not None:
        s.args.append("--init" if c.init else "--init=false")
    if c.isolation not in ("", "default"):
        s.lose("isolation", f"{c.isolation} isolation is a Windows engine setting; the WSL2 engine has none")
    if c.cgroup:
        s.lose("cgroup", "docker create has no flag for HostConfig.Cgroup (joining another container's cgroup)")


def _health(c: Container, cfg: Mapping[str, Any], s: _Spec) -> None:
    mine, theirs = c.healthcheck or {}, cfg.get("Healthcheck") or {}
    if mine == theirs:
        return
    test = list(mine.get("Test") or [])
    if test != list(theirs.get("Test") or []):
        if test == ["NONE"]:
            s.args.append("--no-healthcheck")
            return
        if len(test) == 2 and test[0] == "CMD-SHELL":
            s.flag("--health-cmd", test[1])
        else:
            s.lose("healthcheck test", "docker create --health-cmd writes only the CMD-SHELL form")
    for key, flag in (("Interval", "--health-interval"), ("Timeout", "--health-timeout"),
                      ("StartPeriod", "--health-start-period"), ("StartInterval", "--health-start-interval")):
        value = int(mine.get(key) or 0)
        if value != int(theirs.get(key) or 0):
            if value:
                s.flag(flag, _duration(value))
            else:
                s.lose(f"healthcheck {key}", "the image sets it and docker create cannot reset it")
    retries = int(mine.get("Retries") or 0)
    if retries != int(theirs.get("Retries") or 0):
        if retries:
            s.flag("--health-retries", str(retries))
        else:
            s.lose("healthcheck Retries", "the image sets it and docker create cannot reset it")


def _no_flag(c: Container, cfg: Mapping[str, Any], s: _Spec) -> None:
    if _tup(c.shell) != _tup(cfg.get("Shell")):
        s.lose("shell", "docker create has no flag for the shell (it comes from the image's SHELL)")
    if _tup(c.onbuild) != _tup(cfg.get("OnBuild")):
        s.lose("onbuild", "docker create has no flag for ONBUILD triggers")
    # An engine without a default bridge (--bridge=none) sets it itself on default-mode containers.
    if c.network_disabled and c.network_mode not in ("", "default"):
        s.lose("network_disabled", "docker create has no flag for Config.NetworkDisabled")


# ------------------------------------------------------------------------------------------------ entry point


def create_spec(c: Container, image: Image | None, *, image_ref: str,
                translate_bind: Callable[[str], str | None] | None = None, env_file: Arg | None = None,
                peers: Sequence[Container] = ()) -> CreateSpec:
    """The `docker create` (+ `network connect`) arguments that re-create c from image_ref.

    image: the container's image as inventoried (its config holds the defaults that are not repeated); None when
    unknown, and then every setting is spelled out. translate_bind maps a bind source to a path the target engine
    accepts (None from it: not translatable). peers: the other containers of the same inventory, to turn
    `container:<id>` references into names and to leave out the mounts that --volumes-from brings.
    """
    container_names = {p.id: p.name for p in peers}
    cfg: Mapping[str, Any] = image.config if image is not None else {}
    s = _Spec()
    s.args += ["create", "--name", c.name.lstrip("/")]
    _identity(c, cfg, s)
    cmd = _command(c, cfg, s)
    env_names = _env(c, cfg, env_file, s)
    _labels(c, image, cfg, s)
    if c.network_mode.startswith("container:"):
        if c.port_bindings or c.publish_all_ports:
            s.lose("port_bindings", "a container sharing another container's network cannot publish ports")
    else:
        _ports(c, cfg, s)
    connect = _network(c, container_names, s)
    s.each("--dns", c.dns if not c.network_mode.startswith("container:") else ())
    s.each("--dns-search", c.dns_search if not c.network_mode.startswith("container:") else ())
    s.each("--dns-option", c.dns_options if not c.network_mode.startswith("container:") else ())
    s.each("--add-host", c.extra_hosts if not c.network_mode.startswith("container:") else ())
    if c.restart_policy and c.restart_policy != "no":
        retries = c.restart_max_retries if c.restart_policy == "on-failure" else 0
        s.flag("--restart", c.restart_policy + (f":{retries}" if retries else ""))
    if c.auto_remove:
        s.args.append("--rm")
    if c.volume_driver:
        s.flag("--volume-driver", c.volume_driver)
    _mounts(c, translate_bind, container_names, {p.name: p for p in peers}, s)
    security(c, s)
    resources(c, s)
    _namespaces(c, container_names, s)
    if c.log_driver:
        s.flag("--log-driver", c.log_driver)
    for key in sorted(k for k, v in c.log_opts.items() if holds_digest(v)):
        s.lose(f"log_opts {key}", SECRET_NOT_KEPT)
    s.each("--log-opt", kv({k: v for k, v in c.log_opts.items() if not holds_digest(v)}))
    _health(c, cfg, s)
    if c.stop_signal and c.stop_signal != str(cfg.get("StopSignal") or ""):
        s.flag("--stop-signal", c.stop_signal)
    if c.stop_timeout is not None:
        s.flag("--stop-timeout", str(c.stop_timeout))
    if c.tty:
        s.args.append("--tty")
    if c.open_stdin:
        s.args.append("--interactive")
    for key, value in sorted(c.annotations.items()):
        if not key or "=" in key:
            s.lose(f"annotations {key}", "docker create --annotation splits at the first '=', so a key cannot hold one")
        else:
            s.flag("--annotation", f"{key}={value}")
    _no_flag(c, cfg, s)
    # `--` ends the options: an image reference or command word can never be read as a docker flag.
    s.args += ["--", image_ref]
    s.args += list(cmd)
    return CreateSpec(args=tuple(s.args), connect=tuple(connect), not_carried=tuple(sorted(s.lost)),
                      env_names=env_names)
