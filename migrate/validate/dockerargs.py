"""Read docker command lines the way the docker CLI does: options, positionals, volume specs and image references."""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass

from migrate.plan.steps import Arg, BackupPath, SecretValue, Word

# `docker container create` / `run` options that take a value (long and short names), from the docker CLI reference.
_CREATE_VALUED = frozenset("""
--add-host --annotation --attach -a --blkio-weight --blkio-weight-device --cap-add --cap-drop --cgroup-parent
--cgroupns --cidfile --cpu-count --cpu-percent --cpu-period --cpu-quota --cpu-rt-period --cpu-rt-runtime
--cpu-shares -c --cpus --cpuset-cpus --cpuset-mems --device --device-cgroup-rule --device-read-bps
--device-read-iops --device-write-bps --device-write-iops --dns --dns-opt --dns-option --dns-search --domainname
--entrypoint --env -e --env-file --expose --gpus --group-add --health-cmd --health-interval --health-retries
--health-start-interval --health-start-period --health-timeout --hostname -h --io-maxbandwidth --io-maxiops --ip
--ip6 --ipc --isolation --kernel-memory --label -l --label-file --link --link-local-ip --log-driver --log-opt
--mac-address --memory -m --memory-reservation --memory-swap --memory-swappiness --mount --name --network --net
--network-alias --net-alias --oom-score-adj --pid --pids-limit --platform --publish -p --pull --restart --runtime
--security-opt --shm-size --stop-signal --stop-timeout --storage-opt --sysctl --tmpfs --ulimit --user -u --userns
--uts --volume -v --volume-driver --volumes-from --workdir -w --detach-keys
""".split())
_CREATE_FLAGS = frozenset("""
--disable-content-trust --init --interactive -i --no-healthcheck --oom-kill-disable --privileged --publish-all -P
--quiet -q --read-only --rm --tty -t --detach -d --sig-proxy --use-api-socket
""".split())
CREATE_ALIASES = {"-a": "--attach", "-c": "--cpu-shares", "-e": "--env", "-h": "--hostname", "-l": "--label",
              "-m": "--memory", "-p": "--publish", "-u": "--user", "-v": "--volume", "-w": "--workdir",
              "--net": "--network", "--net-alias": "--network-alias", "-i": "--interactive", "-P": "--publish-all",
              "-q": "--quiet", "-t": "--tty", "-d": "--detach", "--dns-opt": "--dns-option"}

_VOLUME_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_WINDOWS_PATH = re.compile(r"^[A-Za-z]:[\\/]")
_HEX_ID = re.compile(r"^(sha256:)?[0-9a-f]{12,64}$")


class ArgsError(ValueError):
    """A command line the docker CLI would reject."""


@dataclass(frozen=True, slots=True)
class Parsed:
    """A command line split into options (canonical long names, in order) and positionals."""

    options: tuple[tuple[str, Arg], ...]
    positionals: tuple[Arg, ...]
    """For create/run: the image first, then the command."""

    def values(self, name: str) -> list[Arg]:
        """Every value given for an option (booleans give 'true'/'false')."""
        return [v for k, v in self.options if k == name]

    def last(self, name: str) -> Arg | None:
        """The value that wins for a single-valued option."""
        vals = self.values(name)
        return vals[-1] if vals else None


def text(arg: Arg) -> str:
    """An argument as text, backup paths shown as <backup>/rel, a secret value read at run time as <secret> (for
    messages and pattern checks)."""
    if isinstance(arg, str):
        return arg
    if isinstance(arg, BackupPath):
        return "<backup>" + ("/" + arg.rel if arg.rel else "")
    if isinstance(arg, SecretValue):
        return arg.prefix + "<secret>"
    return "".join(text(p) for p in arg.parts)


def parse_options(args: tuple[Arg, ...], valued: frozenset[str] = _CREATE_VALUED,
                  flags: frozenset[str] = _CREATE_FLAGS, interspersed: bool = False,
                  canonical: dict[str, str] | None = None) -> Parsed:
    """Split args as the docker CLI does; options stop at the first positional unless interspersed.

    canonical maps alias names to the name options are recorded under (for create/run: -v -> --volume).
    """
    aliases = canonical or {}
    options: list[tuple[str, Arg]] = []
    positionals: list[Arg] = []
    i = 0
    while i < len(args):
        a = args[i]
        s = a if isinstance(a, str) else ""
        if s == "--":
            positionals += args[i + 1:]
            break
        if not s.startswith("-") or s == "-":
            positionals.append(a)
            if not interspersed:
                positionals += args[i + 1:]
                break
            i += 1
            continue
        name, eq, value = s.partition("=") if s.startswith("--") else (s, "", "")
        if name in valued:
            if eq:
                options.append((aliases.get(name, name), value))
            elif i + 1 < len(args):
                options.append((aliases.get(name, name), args[i + 1]))
                i += 1
            else:
                raise ArgsError(f"option {name} needs a value")
        elif name in flags:
            options.append((aliases.get(name, name), value if eq else "true"))
        elif not s.startswith("--") and len(s) > 2:
            # A cluster of short options (-it), the last of which may take the rest as its value (-vNAME:/x).
            for j, ch in enumerate(s[1:], 1):
                short = "-" + ch
                if short in flags:
                    options.append((aliases.get(short, short), "true"))
                elif short in valued:
                    rest = s[j + 1:]
                    if rest:
                        options.append((aliases.get(short, short), rest))
                    elif i + 1 < len(args):
                        options.append((aliases.get(short, short), args[i + 1]))
                        i += 1
                    else:
                        raise ArgsError(f"option {short} needs a value")
                    break
                else:
                    raise ArgsError(f"unknown option {short}")
        else:
            raise ArgsError(f"unknown option {name}")
        i += 1
    return Parsed(tuple(options), tuple(positionals))


def parse_create(args: tuple[Arg, ...]) -> Parsed:
    """`create`/`run` arguments (without the command word): options, then IMAGE [COMMAND...]."""
    parsed = parse_options(args, canonical=CREATE_ALIASES)
    if not parsed.positionals:
        raise ArgsError("no image given")
    return parsed


_NETWORK_VALUED = frozenset("""--driver -d --subnet --gateway --ip-range --aux-address --ipam-driver --ipam-opt
--opt -o --label --config-from --scope --alias --ip --ip6 --link --link-local-ip --driver-opt --gw-priority""".split())
_NETWORK_FLAGS = frozenset("--internal --attachable --ipv6 --ipv4 --ingress --config-only -f --force".split())


def parse_network(args: tuple[Arg, ...]) -> Parsed:
    """`network create|connect` arguments after the sub-command."""
    return parse_options(args, _NETWORK_VALUED, _NETWORK_FLAGS, interspersed=True, canonical={"-d": "--driver"})


_VOLUME_VALUED = frozenset("--driver -d --opt -o --label --name --scope --group --sharing --availability --type "
                           "--required-bytes --limit-bytes --secret --topology-preferred --topology-required".split())


def parse_volume(args: tuple[Arg, ...]) -> Parsed:
    """`volume create` arguments after the sub-command."""
    return parse_options(args, _VOLUME_VALUED, frozenset(), interspersed=True,
                         canonical={"-d": "--driver", "-o": "--opt"})


@dataclass(frozen=True, slots=True)
class MountRef:
    """What one -v/--mount argument needs: a named volume, a folder of the backup, or nothing checkable."""

    kind: str
    """volume (named), anonymous, bind, backup (a bind of a backup-folder path), tmpfs."""
    source: str
    """The volume name, bind path, or backup-relative path."""
    target: str
    read_only: bool = False


def volume_spec(arg: Arg) -> MountRef:
    """One -v/--volume value: SRC:DST[:OPTS] or DST alone (an anonymous volume)."""
    if isinstance(arg, BackupPath):
        raise ArgsError("-v needs SOURCE:TARGET, found a bare backup path")
    if isinstance(arg, Word):
        head = arg.parts[0] if arg.parts else ""
        rest = "".join(p if isinstance(p, str) else text(p) for p in arg.parts[1:])
        if isinstance(head, BackupPath) and rest.startswith(":"):
            target, _, opts = rest[1:].partition(":")
            return MountRef("backup", head.rel, target, "ro" in opts.split(","))
        return MountRef("bind", text(arg), "")
    spec = text(arg)
    if _WINDOWS_PATH.match(spec):
        # C:\path:/dst[:opts]: the drive colon is part of the source.
        src, _, rest = spec[2:].partition(":")
        target, _, opts = rest.partition(":")
        return MountRef("bind", spec[:2] + src, target, "ro" in opts.split(","))
    parts = spec.split(":")
    if len(parts) == 1:
        return MountRef("anonymous", "", spec)
    src, target, opts = parts[0], parts[1], ":".join(parts[2:])
    ro = "ro" in opts.split(",")
    if src.startswith(("/", "\\", ".", "~")) or not _VOLUME_NAME.match(src):
        return MountRef("bind", src, target, ro)
    return MountRef("volume", src, target, ro)


def mount_spec(arg: Arg) -> MountRef:
    """One --mount value (CSV of key=value; type defaults to volume)."""
    fields: dict[str, str] = {}
    for item in next(csv.reader([text(arg)])):
        k, eq, v = item.partition("=")
        fields[k.strip().lower()] = v if eq else "true"
    kind = fields.get("type", "volume")
    source = fields.get("source", fields.get("src", ""))
    target = fields.get("target", fields.get("destination", fields.get("dst", "")))
    ro = any(fields.get(k, "false").lower() in ("true", "1") for k in ("readonly", "ro"))
    if kind == "volume":
        return MountRef("volume" if source else "anonymous", source, target, ro)
    return MountRef(kind, source, target, ro)


def normalize_ref(ref: str) -> str:
    """An image reference in its familiar short form: docker.io/library/x -> x:latest; digests kept."""
    name, at, digest = ref.partition("@")
    tag = ""
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = name.rsplit(":", 1)
    for prefix in ("docker.io/", "index.docker.io/", "registry-1.docker.io/"):
        if name.startswith(prefix):
            name = name[len(prefix):]
            if "/" not in name:
                break
    if name.startswith("library/") and name.count("/") == 1:
        name = name[len("library/"):]
    if at:
        return f"{name}@{digest}"
    return f"{name}:{tag or 'latest'}"


def is_id_ref(ref: str) -> bool:
    """An image id (sha256:<hex>) or an id prefix of at least 12 hex digits."""
    return bool(_HEX_ID.match(ref))


def flag_value(words: list[str], flag: str) -> str:
    """The value after flag (or in flag=value) in a word list; '' when absent."""
    for i, w in enumerate(words):
        if w == flag and i + 1 < len(words):
            return words[i + 1]
        if w.startswith(flag + "="):
            return w.split("=", 1)[1]
    return ""
