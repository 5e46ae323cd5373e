"""The --volume and --mount arguments that re-create a container's mounts, and what they cannot carry."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from migrate.model import Mount
from migrate.plan.steps import Arg
from migrate.secrets import holds_digest


class Collector(Protocol):
    """Where arguments and omissions go (recreate's argument list)."""

    args: list[Arg]

    def flag(self, name: str, value: Arg) -> None: ...

    def each(self, name: str, values: Sequence[str]) -> None: ...

    def lose(self, setting: str, reason: str) -> None: ...


def csv_field(text: str) -> str:
    """One field of a CSV-valued flag (--mount, --gpus), quoted the way Go's encoding/csv reads it."""
    if any(ch in text for ch in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text



def bind_options(spec: str, dest: str) -> str | None:
    """The ':opts' suffix of a HostConfig.Binds entry ('' when none), or None when the entry does not parse."""
    if spec.endswith(":" + dest):
        return ""
    i = spec.rfind(":" + dest + ":")
    return spec[i + len(dest) + 2:] if i >= 0 else None



def mount_args(m: Mount, tmpfs: Mapping[str, str], translate: Callable[[str], str | None] | None,
               s: Collector) -> None:
    """The --volume/--mount flag that re-creates one mount (tmpfs: the --tmpfs map, which carries those)."""
    setting = f"mounts {m.destination}"
    if m.type == "bind":
        source: str | None = m.source
        if m.desktop_source:
            source = m.desktop_source
        elif translate is not None:
            source = translate(m.source)
        if not source:
            s.lose(setting, "the bind source cannot be translated to a path the WSL2 engine accepts")
            return
        opts = bind_options(m.spec, m.destination) if m.spec else None
        if m.spec and source == m.source:
            s.flag("--volume", m.spec)
        elif opts is not None:
            s.flag("--volume", f"{source}:{m.destination}" + (f":{opts}" if opts else ""))
        else:
            fields = ["type=bind", f"source={source}", f"target={m.destination}"]
            fields += ["readonly"] if m.read_only else []
            fields += [f"bind-propagation={m.propagation}"] if m.propagation not in ("", "rprivate") else []
            fields += _bind_recursion(m, setting, s)
            s.flag("--mount", ",".join(csv_field(f) for f in fields))
        if m.create_mountpoint:
            s.lose(f"{setting} create_mountpoint", "docker CLI 28's --mount has no option for "
                                                   "BindOptions.CreateMountpoint (bind-create-src came later)")
    elif m.type == "volume":
        if m.spec:
            s.flag("--volume", m.spec)
            return
        # Anonymous volumes too are mounted by name, so the data restored into that volume stays attached.
        fields = ["type=volume", f"source={m.name}", f"target={m.destination}"]
        fields += ["readonly"] if m.read_only else []
        fields += [f"volume-driver={m.driver}"] if m.driver not in ("", "local") else []
        fields += ["volume-nocopy"] if m.nocopy else []
        fields += [f"volume-subpath={m.subpath}"] if m.subpath else []
        fields += _map_fields("volume-opt", m.volume_options, f"{setting} volume_options", s)
        fields += _map_fields("volume-label", m.volume_labels, f"{setting} volume_labels", s)
        s.flag("--mount", ",".join(csv_field(f) for f in fields))
    elif m.type == "tmpfs":
        if m.destination not in tmpfs:
            fields = ["type=tmpfs", f"target={m.destination}"] + (["readonly"] if m.read_only else [])
            fields += [f"tmpfs-size={m.tmpfs_size}"] if m.tmpfs_size else []
            fields += [f"tmpfs-mode={m.tmpfs_mode:o}"] if m.tmpfs_mode else []
            s.flag("--mount", ",".join(csv_field(f) for f in fields))
        if m.tmpfs_options:
            s.lose(f"{setting} tmpfs_options", "docker CLI 28's --mount has no option for TmpfsOptions.Options")
    else:
        s.lose(setting, f"a {m.type or 'untyped'} mount has no equivalent on the WSL2 engine")


def _bind_recursion(m: Mount, setting: str, s: Collector) -> list[str]:
    """The bind-recursive field of a bind --mount, which holds one of BindOptions' three recursion switches."""
    flags = [(m.non_recursive, "disabled"), (m.readonly_non_recursive, "writable"),
             (m.readonly_force_recursive, "readonly")]
    chosen = [value for on, value in flags if on]
    if not chosen:
        return []
    # The CLI takes one value, and writable/readonly only together with readonly.
    if len(chosen) > 1 or (chosen[0] != "disabled" and not m.read_only):
        s.lose(f"{setting} recursion", "docker create --mount bind-recursive takes one of disabled, writable "
                                       "(read-only mounts only) or readonly (read-only mounts only)")
        return []
    return [f"bind-recursive={chosen[0]}"]


def _map_fields(key: str, mapping: Mapping[str, str], setting: str, s: Collector) -> list[str]:
    """key=name=value fields of a --mount value; the CLI splits at the first '=', so a name cannot hold one."""
    out = []
    for name, value in sorted(mapping.items()):
        if not name or "=" in name:
            s.lose(f"{setting} {name}", f"a {key} name cannot be empty or hold '=' in docker create --mount")
        elif holds_digest(value):
            s.lose(f"{setting} {name}", "a secret: the inventory keeps a digest of it, not the value")
        else:
            out.append(f"{key}={name}={value}")
    return out
