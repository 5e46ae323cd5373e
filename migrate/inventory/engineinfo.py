"""Read `docker info` and `docker version` captures (JSON, or the text people paste) into /info and /version dicts.

A paste is taken as people make it: `docker version` then `docker info` (the order Docker's issue template asks
for), the other way round, either alone, with shell prompts, blank lines, markdown fences or quotes, bold
prompts, or with the indentation flattened. Each block is found by its own heading and keys wherever it stands.
A JSON document is recognised by its shape; the wrong kind (a container inspect, an inspect array, `docker
system df`) is refused with what it looks like. A value cut off by truncation is left out, never defaulted.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from migrate.errors import InputError
from migrate.inventory.payload import check_objects
from migrate.inventory.textfile import parse_json

# Keys the CLI adds around /info in `docker info --format '{{json .}}'` (docker/cli 19.03 and later).
_CLI_WRAPPER_KEYS = ("ClientInfo", "ClientErrors", "ServerErrors")
# Keys that only a real /info object carries; two of them must be present.
_INFO_KEYS = ("ServerVersion", "OSType", "KernelVersion", "OperatingSystem", "DockerRootDir", "NCPU", "MemTotal",
              "IndexServerAddress", "RegistryConfig", "ContainersRunning", "DriverStatus", "Images")

_UNREACHABLE = re.compile(
    r"cannot connect to the docker daemon|error during connect|is the docker daemon running", re.I
)


@dataclass
class Capture:
    """What one or more captures say about an engine, shaped like the Engine API."""

    info: dict[str, Any] = field(default_factory=dict)
    """GET /info."""
    version: dict[str, Any] = field(default_factory=dict)
    """GET /version (the server part of `docker version`)."""
    client: dict[str, Any] = field(default_factory=dict)
    """The client part of `docker version` (Os, Arch): where the docker CLI that made the capture runs."""

    def merge(self, other: Capture, name: str) -> None:
        """Add what another capture says; two captures of different engines are refused."""
        for mine, theirs, what in ((self.info, other.info, "docker info"),
                                   (self.version, other.version, "docker version")):
            if mine and theirs and _identity(mine) != _identity(theirs):
                raise InputError(f"{name}: a second `{what}` of another engine ({_identity(theirs)[0]} beside "
                                 f"{_identity(mine)[0]}); give one engine's captures")
            for k, v in theirs.items():
                mine.setdefault(k, v)
        for k, v in other.client.items():
            self.client.setdefault(k, v)


def _identity(d: Mapping[str, Any]) -> tuple[str, str]:
    return (str(d.get("ServerVersion") or d.get("Version") or "?"), str(d.get("ID") or d.get("GitCommit") or ""))


def read_capture(text: str, name: str) -> Capture:
    """A capture of `docker info` and/or `docker version`, JSON or text; InputError when it is neither."""
    stripped = text.strip().lstrip("\ufeff")
    if not stripped:
        raise InputError(f"{name}: empty file, expected the output of `docker info` or `docker version`")
    if stripped[0] in "{[":
        return _read_json(stripped, name)
    return _read_text(stripped, name)


# ------------------------------------------------------------------------------------------------------ JSON


def json_kind(data: Any) -> str:
    """What a JSON document is, by its shape: info, version, version-cli, container, image, volume, network,
    df, array of one of those, or '' when unknown."""
    if isinstance(data, list):
        kinds = {json_kind(x) for x in data[:50]}
        one = kinds.pop() if len(kinds) == 1 else ""
        return f"array of {one}" if one else ("empty array" if not data else "array")
    if not isinstance(data, dict):
        return ""
    keys = set(data)
    if {"State", "HostConfig"} <= keys or ({"Config", "Id", "Created", "Path"} <= keys):
        return "container"
    if "RootFS" in keys or "RepoTags" in keys or {"Id", "Architecture", "Os", "Size"} <= keys:
        return "image"
    if {"Mountpoint", "Driver", "Name"} <= keys:
        return "volume"
    if "IPAM" in keys or {"EnableIPv6", "Driver", "Name"} <= keys:
        return "network"
    if "LayersSize" in keys or "BuildCache" in keys:
        return "df"
    if ("Client" in keys or "Server" in keys) and keys <= {"Client", "Server"}:
        return "version-cli"
    if {"ApiVersion", "Version"} <= keys and not keys & {"ServerVersion", "OSType"}:
        return "version"
    if sum(1 for k in _INFO_KEYS if k in keys) >= 2 or "ClientInfo" in keys:
        return "info"
    return ""


_KIND_WORDS = {"container": "a container inspect", "image": "an image inspect", "volume": "a volume inspect",
               "network": "a network inspect", "df": "`docker system df` output"}


def _looks_like(data: Any, kind: str) -> str:
    if kind.startswith("array of "):
        inner = kind.removeprefix("array of ")
        first = data[0] if data else {}
        label = first.get("Name") or first.get("RepoTags") or first.get("Id") or "" if isinstance(first, dict) else ""
        label = label[0] if isinstance(label, list) and label else label
        shown = f" (first: {str(label)[:80]})" if label else ""
        return f"an inspect array of {len(data)} {inner}{'s' if len(data) != 1 else ''}{shown}"
    word = _KIND_WORDS.get(kind, "")
    if word and isinstance(data, dict) and data.get("Name"):
        return f"{word} ({str(data['Name'])[:80]})"
    return word or "an unknown JSON document"


def _read_json(text: str, name: str) -> Capture:
    data = parse_json(text, name)
    kind = json_kind(data)
    if kind == "info":
        info = _info_from_json(data, name)
        check_objects([info], "info", name)
        return Capture(info=info)
    if kind == "version":
        return Capture(version=_checked_version(data, name))
    if kind == "version-cli":
        server = data.get("Server")
        client = data.get("Client") if isinstance(data.get("Client"), dict) else {}
        if not isinstance(server, dict) or not server:
            raise InputError(f"{name}: `docker version` holds no server part; the daemon was not reachable")
        cap = Capture(version=_checked_version(server, name))
        cap.client = {k: client[k] for k in ("Os", "Arch", "Version") if isinstance(client.get(k), str)}
        return cap
    if kind and kind not in ("array", "empty array"):
        raise InputError(f"{name}: not `docker info` or `docker version` output: it looks like "
                         f"{_looks_like(data, kind)}")
    raise InputError(f"{name}: not `docker info` or `docker version` output (a JSON "
                     f"{'array' if isinstance(data, list) else 'document'} of neither shape)")


def _info_from_json(data: dict[str, Any], name: str) -> dict[str, Any]:
    errors = [str(e) for e in data.get("ServerErrors") or [] if str(e).strip()] \
        if isinstance(data.get("ServerErrors"), list) else []
    info = {k: v for k, v in data.items() if k not in _CLI_WRAPPER_KEYS}
    if errors and not info.get("ServerVersion"):
        raise InputError(f"{name}: `docker info` could not reach the daemon: {_one_line(errors[0])}")
    if not any(info.get(k) for k in ("ServerVersion", "OSType", "KernelVersion", "OperatingSystem", "Driver")):
        # Newer CLIs (seen with 28.2) print an all-empty server object, the error on stderr only.
        raise InputError(f"{name}: `docker info` holds no server data; the daemon was not reachable")
    return info


def _checked_version(server: dict[str, Any], name: str) -> dict[str, Any]:
    if not any(isinstance(server.get(k), str) and server[k] for k in ("Version", "ApiVersion", "Os")):
        raise InputError(f"{name}: `docker version` holds no server version; the daemon was not reachable")
    check_objects([server], "version", name)
    return dict(server)


def _one_line(message: str) -> str:
    return " ".join(message.split())


# ------------------------------------------------------------------------------------------------------ text

# One `Key: value` line. The key holds no colon, so `Registry: https://...` splits right; the colon must be
# followed by a space or the line end, so a `PS C:\> docker info` prompt is not a key.
_KEY_LINE = re.compile(r"^([A-Za-z][A-Za-z0-9 ()/._-]{0,60}?):(?:[ \t]+(.*))?$")
_HEADING = re.compile(r"^(Client|Server)(?::[ \t]*(.*))?$")
_PROMPT = re.compile(r"\bdocker(?:\.exe)?\*{0,2}[ \t]+(?:system[ \t]+)?(?:version|info)\b")
_JOINED = re.compile(r"[ \t]{2,}((?:Client|Server)(?::.*)?|Containers:[ \t].*)$")
_FENCE = re.compile(r"^[ \t]*(?:```|~~~)")
_QUOTE = re.compile(r"^(?:[ \t]*>)+[ \t]?")

# Keys that only the server part of `docker info` prints (the version blocks never do).
_INFO_SERVER_KEYS = frozenset({"Containers", "Images", "Server Version", "Storage Driver", "Kernel Version",
                               "Operating System", "OSType", "Docker Root Dir", "Total Memory", "CPUs",
                               "Logging Driver", "Default Isolation", "Live Restore Enabled", "Swarm"})
_VERSION_KEYS = frozenset({"Version", "API version", "Go version", "Git commit", "Built", "OS/Arch", "Engine"})
_COMPONENTS = ("Engine", "containerd", "runc", "docker-init", "Kubernetes")


def _clean_lines(text: str) -> list[str]:
    """The paste's lines with fences, quote markers, prompts glued to a heading and trailing blanks undone."""
    raw = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    quoted = sum(1 for ln in raw if _QUOTE.match(ln)) > len(raw) // 2
    out: list[str] = []
    for ln in raw:
        if quoted:
            ln = _QUOTE.sub("", ln, count=1)
            ln = re.sub(r"(?:[ \t]*>)+[ \t]*$", "", ln)  # a quote of a quote leaves '> ' at the line ends
        ln = ln.rstrip().replace("\t", "    ")
        if _FENCE.match(ln):
            continue
        prompt = _PROMPT.search(ln)
        if prompt:
            # `PS C:\> docker version    Client: Docker Engine - Community` (the paste lost its line break)
            joined = _JOINED.search(ln, prompt.end())
            out.append("")
            if joined:
                out.append(joined.group(1))
            continue
        out.append(ln)
    return out


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


@dataclass
class _Block:
    heading: str = ""
    """Client, Server or '' (a `docker info` of before 19.03 has no headings)."""
    title: str = ""
    """What follows the heading's colon: `Docker Desktop 4.25.2 (129061)`, `Docker Engine - Community`."""
    lines: list[str] = field(default_factory=list)

    def keys(self) -> set[str]:
        found = set()
        for ln in self.lines:
            m = _KEY_LINE.match(ln.strip())
            if m:
                found.add(m.group(1).strip())
        return found


def _blocks(lines: list[str]) -> list[_Block]:
    """Split at each unindented Client/Server heading, and where an old-style `docker info` starts anew."""
    blocks = [_Block()]
    for ln in lines:
        stripped = ln.strip()
        heading = _HEADING.match(ln) if ln and not ln[0].isspace() else None
        if heading:
            blocks.append(_Block(heading.group(1), (heading.group(2) or "").strip()))
            continue
        if ln and not ln[0].isspace() and stripped.startswith("Containers:") and blocks[-1].heading:
            # A `docker info` of before 19.03 after a version block: it has no heading of its own.
            blocks.append(_Block())
        blocks[-1].lines.append(ln)
    return [b for b in blocks if b.lines or b.heading]


def _read_text(text: str, name: str) -> Capture:
    lines = _clean_lines(text)
    cap = Capture()
    for block in _blocks(lines):
        keys = block.keys()
        if keys & _INFO_SERVER_KEYS:
            info = _info_from_text(block.lines)
            if cap.info and info.get("ServerVersion") not in (None, cap.info.get("ServerVersion")):
                raise InputError(f"{name}: two `docker info` outputs of different engines; give one")
            for k, v in info.items():
                cap.info.setdefault(k, v)
        elif block.heading == "Server" and (keys & _VERSION_KEYS or block.title):
            for k, v in _version_from_text(block).items():
                cap.version.setdefault(k, v)
        elif block.heading == "Client" and "OS/Arch" in keys:
            parts = _component_values(block.lines).get("Engine", {})
            os_arch = parts.get("OS/Arch", "")
            if "/" in os_arch:
                cap.client.setdefault("Os", os_arch.split("/", 1)[0])
                cap.client.setdefault("Arch", os_arch.split("/", 1)[1])
            if parts.get("Version"):
                cap.client.setdefault("Version", parts["Version"])
    if not cap.info and not cap.version:
        for ln in lines:
            if _UNREACHABLE.search(ln):
                error = _one_line(ln.strip().removeprefix("ERROR:"))
                raise InputError(f"{name}: the daemon was not reachable when this was captured: {error}")
        raise InputError(f"{name}: not `docker info` or `docker version` output (no Server Version, OSType, "
                         "Kernel Version or server Version found)")
    title = cap.version.get("Platform", {}).get("Name", "")
    if not cap.info and set(cap.version) == {"Platform"} and not title.startswith("Docker Desktop"):
        # `Server: Docker Engine - Community` and nothing under it: a paste cut at the heading says nothing
        # about the engine (a Docker Desktop heading at least gives the Desktop version).
        raise InputError(f"{name}: not `docker info` or `docker version` output: the server part "
                         f"('Server: {title}') ends at its heading, with no version, OS/Arch or kernel "
                         "(was the paste cut?)")
    return cap


# `docker version` text -> /version keys.
_VERSION_TEXT = {"Version": "Version", "API version": "ApiVersion", "Go version": "GoVersion",
                 "Git commit": "GitCommit", "Built": "BuildTime", "Kernel Version": "KernelVersion"}


def _component_values(lines: list[str]) -> dict[str, dict[str, str]]:
    """Each component's key/value lines (Engine first); works with or without the indentation."""
    out: dict[str, dict[str, str]] = {"Engine": {}}
    current = "Engine"
    for ln in lines:
        m = _KEY_LINE.match(ln.strip())
        if not m:
            continue
        key, value = m.group(1).strip(), (m.group(2) or "").strip()
        if not value and key in _COMPONENTS:
            current = key
            out.setdefault(current, {})
            continue
        out.setdefault(current, {}).setdefault(key, value)
    return out


def _version_from_text(block: _Block) -> dict[str, Any]:
    comps = _component_values(block.lines)
    engine = comps.get("Engine", {})
    version: dict[str, Any] = {}
    if block.title:
        version["Platform"] = {"Name": block.title}
    for key, api in _VERSION_TEXT.items():
        if engine.get(key):
            version[api] = engine[key].split(" (")[0] if key == "API version" else engine[key]
    os_arch = engine.get("OS/Arch", "")
    if re.fullmatch(r"(linux|windows)/[a-z0-9_]+", os_arch):
        version["Os"], version["Arch"] = os_arch.split("/", 1)
    experimental = engine.get("Experimental", "").lower()
    if experimental in ("true", "false"):
        version["Experimental"] = experimental == "true"
    components = [{"Name": "Engine", "Version": version.get("Version", "")}] if version.get("Version") else []
    for comp in _COMPONENTS[1:]:
        if comp in comps and comps[comp].get("Version"):
            components.append({"Name": comp, "Version": comps[comp]["Version"]})
    if components:
        version["Components"] = components
    return version


# `docker info` text key -> /info key, for plain string values.
_TEXT_STRINGS = {
    "Server Version": "ServerVersion",
    "Kernel Version": "KernelVersion",
    "Operating System": "OperatingSystem",
    "Architecture": "Architecture",
    "Name": "Name",
    "ID": "ID",
    "Docker Root Dir": "DockerRootDir",
    "Logging Driver": "LoggingDriver",
    "Cgroup Driver": "CgroupDriver",
    "Cgroup Version": "CgroupVersion",
    "Default Runtime": "DefaultRuntime",
    "Init Binary": "InitBinary",
    "HTTP Proxy": "HttpProxy",
    "HTTPS Proxy": "HttpsProxy",
    "No Proxy": "NoProxy",
    "Default Isolation": "Isolation",
    "Product License": "ProductLicense",
}
_TEXT_BOOLS = {
    "Experimental": "ExperimentalBuild",
    "Live Restore Enabled": "LiveRestoreEnabled",
    "Debug Mode": "Debug",
    "Debug Mode (server)": "Debug",
}
_TEXT_COMMITS = {
    "containerd version": "ContainerdCommit",
    "runc version": "RuncCommit",
    "init version": "InitCommit",
}
# Child keys that a flattened paste shows at the top level; they still belong to their parent.
_CHILD_KEYS = {"Running": "Containers", "Paused": "Containers", "Stopped": "Containers"}


def _entries(lines: list[str]) -> list[tuple[str, str, list[tuple[int, str]]]]:
    """Top-level `Key: value` entries with their indented child lines (relative depth, stripped text)."""
    key_indents = [_indent(ln) for ln in lines if ln.strip() and _KEY_LINE.match(ln.strip())]
    if not key_indents:
        return []
    # The first key sets the level: WARNING lines after the block are less indented than its keys.
    base = key_indents[0]
    entries: list[tuple[str, str, list[tuple[int, str]]]] = []
    for ln in lines:
        if not ln.strip():
            continue
        depth = _indent(ln) - base
        match = _KEY_LINE.match(ln.strip())
        if depth <= 0 and match:
            key = match.group(1).strip()
            value = (match.group(2) or "").strip()
            if key in _CHILD_KEYS and entries and entries[-1][0] in (_CHILD_KEYS[key], *_CHILD_KEYS):
                entries[-1][2].append((1, f"{key}: {value}"))  # flattened: `Running: 0` under `Containers:`
                continue
            entries.append((key, value, []))
        elif entries and (depth > 0 or not match):
            # Indented lines belong to the entry above; so do the list items of a flattened paste
            # (`127.0.0.0/8` under `Insecure Registries:`), which have no `Key:` of their own.
            entries[-1][2].append((max(depth, 1), ln.strip()))
    return entries


def _info_from_text(lines: list[str]) -> dict[str, Any]:
    info: dict[str, Any] = {}
    for key, value, children in _entries(lines):
        _apply_text_entry(info, key, value, children)
    return info


def _kv(line: str) -> tuple[str, str]:
    key, _, value = line.partition(":")
    return key.strip(), value.strip()


def _count(value: str) -> int | None:
    """A count as printed; None when it is cut off or not a number (never a default)."""
    return int(value) if re.fullmatch(r"\d{1,12}", value) else None


def _apply_text_entry(info: dict[str, Any], key: str, value: str, children: list[tuple[int, str]]) -> None:
    if key in _TEXT_STRINGS:
        if value:
            info.setdefault(_TEXT_STRINGS[key], value)
    elif key == "OSType":
        if value in ("linux", "windows"):  # `OSType: window` is a cut-off paste: unknown, not a guess
            info["OSType"] = value
    elif key in _TEXT_BOOLS:
        if value.lower() in ("true", "false"):
            info[_TEXT_BOOLS[key]] = value.lower() == "true"
    elif key in _TEXT_COMMITS:
        info[_TEXT_COMMITS[key]] = {"ID": value.split(" ")[0] if value else ""}
    elif key in ("Containers", "Images"):
        n = _count(value)
        if n is not None:
            info[key] = n
        for _, child in children:
            k, v = _kv(child)
            c = _count(v)
            if key == "Containers" and k in ("Running", "Paused", "Stopped") and c is not None:
                info[f"Containers{k}"] = c
    elif key == "CPUs":
        n = _count(value)
        if n is not None:
            info["NCPU"] = n
    elif key == "Total Memory":
        size = parse_size(value)
        if size:
            info["MemTotal"] = size
    elif key == "Storage Driver":
        info["Driver"] = value
        info["DriverStatus"] = [list(_kv(child)) for depth, child in children if depth == 1]
    elif key in ("LCOW", "Windows") and not value and "Driver" in info:
        # A flattened paste puts the driver status lines of `windowsfilter (windows) lcow (linux)` at the top.
        info.setdefault("DriverStatus", []).append([key, ""])
    elif key == "Plugins":
        plugins: dict[str, list[str]] = {}
        for depth, child in children:
            k, v = _kv(child)
            if depth == 1 and k in ("Volume", "Network", "Log", "Authorization"):
                plugins[k] = v.split()
        if plugins or "Plugins" not in info:
            info["Plugins"] = plugins
    elif key == "Swarm":
        info["Swarm"] = {"LocalNodeState": value}
    elif key == "Runtimes":
        info["Runtimes"] = {r: {} for r in value.split()}
    elif key == "Registry":
        info["IndexServerAddress"] = value.strip("<>")
    elif key == "Labels":
        info["Labels"] = [child for depth, child in children if depth == 1]
    elif key == "Security Options":
        info["SecurityOptions"] = _security_options(children)
    elif key == "Insecure Registries":
        registry = _registry_config(info)
        for depth, child in children:
            if depth != 1:
                continue
            if "/" in child:
                registry["InsecureRegistryCIDRs"].append(child)
            else:
                # /info lists insecure hostnames as index configs with Secure false, not as CIDRs.
                registry["IndexConfigs"][child] = {
                    "Name": child, "Mirrors": [], "Secure": False, "Official": False
                }
    elif key == "Registry Mirrors":
        _registry_config(info)["Mirrors"] = [child for depth, child in children if depth == 1]
    elif key == "Firewall Backend":
        info["FirewallBackend"] = {"Driver": value}


def _registry_config(info: dict[str, Any]) -> dict[str, Any]:
    return info.setdefault("RegistryConfig", {"Mirrors": [], "InsecureRegistryCIDRs": [], "IndexConfigs": {}})


def _security_options(children: list[tuple[int, str]]) -> list[str]:
    """`seccomp` / `Profile: default` child lines back into /info's `name=seccomp,profile=default` form."""
    options: list[str] = []
    for depth, child in children:
        if depth == 1:
            options.append(f"name={child}")
        elif options:
            k, v = _kv(child)
            options[-1] += f",{k.lower()}={v}"
    return options


_SIZE = re.compile(r"^\s*([0-9]{1,15}(?:\.[0-9]{1,6})?)\s*([KMGTPE]?i?B)\s*$", re.I)
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4, "P": 1024**5, "E": 1024**6}


def parse_size(value: str) -> int:
    """Bytes from a size as `docker info` prints it ('1.934GiB', '4 GiB', '1023MiB'); 0 when unreadable."""
    match = _SIZE.match(value)
    if not match:
        return 0
    unit = match.group(2).upper().rstrip("B").rstrip("I")
    return int(round(float(match.group(1)) * _UNITS.get(unit, 1)))
