"""Secret values the plan holds only as digests, carried from the old engine at run time (docs/secrets.md).

An inventory keeps a secret label, log option, volume or network option as a keyed digest. The plan keeps that
digest where the value goes (`--label DB_PASSWORD=hmac-sha256:...`, a volume's `options`): it marks "the value
comes from the old engine". The program then reads the values in the backup phase (a write-secret-values step,
one file per object under secrets/values/) and each docker command that needs one takes it from that file when it
runs (a SecretValue argument); the value itself is in no plan, runbook, journal or log.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from migrate.errors import PlanError
from migrate.plan.actions import SECRET_FIELD_WORDS, SecretRef
from migrate.plan.layout import secret_values_file
from migrate.plan.model import Plan
from migrate.plan.steps import Arg, SecretValue
from migrate.secrets import DIGEST_PREFIX, holds_digest

CREATE_FLAGS = {"--label": "labels", "-l": "labels", "--log-opt": "log_opts"}
"""`docker create` flags whose KEY=VALUE may hold a digest, and the field of the container the value lives in."""
OPTION_FLAGS = {"--label": "labels", "--opt": "options", "-o": "options"}
"""The same for `docker volume create` and `docker network create`."""


@dataclass(frozen=True, slots=True)
class Carried:
    """An object some of whose values the program reads from the old engine."""

    kind: str
    """container, volume or network."""
    name: str
    """Its name in the plan (on the new engine)."""
    source: str
    """How the old engine knows it: a container's or network's id, a volume's name."""
    path: str
    """Its secret-values file."""
    values: tuple[SecretRef, ...]


def _found(args: Sequence[Arg], flags: Mapping[str, str]) -> list[tuple[int, str, str, str]]:
    """(position, field, key, literal prefix) of each `FLAG KEY=VALUE` or `FLAG=KEY=VALUE` among the options
    (before `--`) whose VALUE holds a digest."""
    out = []
    end = args.index("--") if "--" in args else len(args)
    i = 0
    while i < end:
        a = args[i]
        if isinstance(a, str) and a in flags and i + 1 < end and isinstance(args[i + 1], str):
            key, eq, value = str(args[i + 1]).partition("=")
            if eq and holds_digest(value):
                out.append((i + 1, flags[a], key, key + "="))
            i += 2
            continue
        if isinstance(a, str) and a.startswith("--"):
            flag, eq, rest = a.partition("=")
            key, eq2, value = rest.partition("=")
            if eq and eq2 and flag in flags and holds_digest(value):
                out.append((i, flags[flag], key, f"{flag}={key}="))
        i += 1
    return out


def _any_digest(args: Sequence[Arg]) -> bool:
    """Whether any literal argument could hold a digest (most hold none: then there is nothing to look for)."""
    return any(isinstance(a, str) and DIGEST_PREFIX in a for a in args)


def secret_refs(args: Sequence[Arg], flags: Mapping[str, str]) -> tuple[SecretRef, ...]:
    """The values these arguments hold only as digests, once each, in order."""
    if not _any_digest(args):
        return ()
    return tuple(dict.fromkeys(SecretRef(field, key) for _, field, key, _ in _found(args, flags)))


def with_secret_values(args: Sequence[Arg], flags: Mapping[str, str], path: str, where: str) -> tuple[Arg, ...]:
    """args with each digested value replaced by the SecretValue that reads it from path at run time; a digest
    anywhere else is refused (docker would get the digest instead of the value)."""
    if not _any_digest(args):
        return tuple(args)
    refs = list(secret_refs(args, flags))
    out = list(args)
    for at, field, key, prefix in _found(args, flags):
        out[at] = SecretValue(path, refs.index(SecretRef(field, key)), prefix)
    for n, a in enumerate(out, 1):
        if isinstance(a, str) and holds_digest(a):
            raise PlanError(f"{where}: argument {n} holds a digest of a secret (hmac-sha256:...), and the runbook "
                            "reads such values from the old engine only for --label, --log-opt (containers) and "
                            "--opt values: put the value there, or move it to one of those")
    return tuple(out)


def volume_args(options: Mapping[str, str], labels: Mapping[str, str]) -> list[str]:
    """The `docker volume create` options that give a volume these driver options and labels."""
    out: list[str] = []
    for k in sorted(options):
        out += ["--opt", f"{k}={options[k]}"]
    for k in sorted(labels):
        out += ["--label", f"{k}={labels[k]}"]
    return out


def carried(plan: Plan) -> list[Carried]:
    """Every kept object whose planned docker command holds a digested value, with the values to read."""
    out = []
    for c in plan.containers:
        if c.strategy == "recreate":
            refs = secret_refs(c.create, CREATE_FLAGS)
            if refs:
                out.append(Carried("container", c.name, c.id, secret_values_file("container", c.name), refs))
    for v in plan.volumes:
        if v.strategy != "skip":
            refs = secret_refs(volume_args(v.options, v.labels), OPTION_FLAGS)
            if refs:
                out.append(Carried("volume", v.name, v.source_name or v.name, secret_values_file("volume", v.name),
                                   refs))
    for n in plan.networks:
        if n.strategy == "recreate":
            refs = secret_refs(n.args, OPTION_FLAGS)
            if refs:
                out.append(Carried("network", n.name, n.id or n.name, secret_values_file("network", n.name), refs))
    return out


CARRIED = "the runbook reads the value from the old engine before the switch"
"""Words of every note carried_note writes."""


def carried_note(refs: Sequence[SecretRef]) -> str:
    """The plan's reason for values it carries this way (a `why:` comment of plan.toml)."""
    names = ", ".join(f"{SECRET_FIELD_WORDS[r.field]} {r.key}" for r in refs)
    return (f"{names}: a secret the inventory keeps only as a digest (the digest stays in this plan): {CARRIED} "
            "into secrets\\values in the backup folder")
