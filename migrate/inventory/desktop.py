"""Read Docker Desktop's settings files, both engines' daemon.json and the user's .wslconfig."""
from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from migrate.errors import InputError
from migrate.inventory import textfile
from migrate.model import ConfigFile, DesktopSettings

SETTINGS_JSON = "settings.json"
SETTINGS_STORE_JSON = "settings-store.json"

# Lower-cased key spellings of each typed field, in order of preference. The eras differ: camelCase in
# settings.json (2.x-4.34), PascalCase in Docker for Windows 17/18 and in settings-store.json (4.35+), and
# the proxy keys were renamed (Go struct ProxyHTTPMode/OverrideProxyHTTP, admin ProxyHTTPServer,
# Docker for Windows ProxyHttp).
_ALIASES: dict[str, tuple[str, ...]] = {
    "wsl_engine_enabled": ("wslengineenabled",),
    "use_windows_containers": ("usewindowscontainers",),
    "kubernetes_enabled": ("kubernetesenabled",),
    "memory_mib": ("memorymib", "vmmemory"),
    "cpus": ("cpus", "vmcpus"),
    "swap_mib": ("swapmib", "vmswap", "vmswapmib"),
    "disk_size_mib": ("disksizemib",),
    "data_folder": ("datafolder",),
    "custom_wsl_distro_dir": ("customwsldistrodir",),
    "expose_tcp_2375": ("exposedockerapiontcp2375",),
    "proxy_http_mode": ("proxyhttpmode",),
    "proxy_http": ("overrideproxyhttp", "proxyhttpserver", "proxyhttp"),
    "proxy_https": ("overrideproxyhttps", "proxyhttpsserver", "proxyhttps"),
    "proxy_exclude": ("overrideproxyexclude", "proxyhttpexclude", "proxyexclude"),
    "settings_version": ("settingsversion",),
    "desktop_version": ("desktopversion",),
    "credential_helper": ("credentialhelper",),
}
_BOOLS = ("wsl_engine_enabled", "use_windows_containers", "kubernetes_enabled", "expose_tcp_2375")
_INTS = ("memory_mib", "cpus", "swap_mib", "disk_size_mib", "settings_version")


def read_desktop_settings(
    settings_json: Path | None, settings_store_json: Path | None
) -> DesktopSettings | None:
    """Read settings.json and/or settings-store.json; the store is the live file when both exist."""
    if settings_json is None and settings_store_json is None:
        return None
    stale: dict[str, Any] | None = None
    if settings_store_json is not None:
        live_path, fmt = settings_store_json, SETTINGS_STORE_JSON
        if settings_json is not None:
            stale = _lowered(_read_object(settings_json))
    else:
        assert settings_json is not None
        live_path, fmt = settings_json, SETTINGS_JSON
    name = str(live_path)
    values = _lowered(_read_object(live_path))
    typed: dict[str, Any] = {}
    for fld, aliases in _ALIASES.items():
        key = next((k for k in aliases if values.get(k) is not None), None)
        if key is None:
            continue
        if fld in _BOOLS:
            typed[fld] = _as_bool(values[key], name, key)
        elif fld in _INTS:
            typed[fld] = _as_int(values[key], name, key)
        else:
            typed[fld] = _as_str(values[key], name, key)
    if "proxy_http_mode" not in typed and values.get("usehttpproxy") is True:
        # Docker for Windows 17/18 had a manual-proxy checkbox instead of a mode.
        typed["proxy_http_mode"] = "manual"
    differs: tuple[str, ...] = ()
    if stale is not None:
        differs = tuple(sorted(k for k in stale.keys() & values.keys() if stale[k] != values[k]))
    return DesktopSettings(
        file=name,
        format=fmt,
        values=values,
        stale_file=str(settings_json) if stale is not None else "",
        stale_differs=differs,
        file_sharing=_file_sharing(values, name),
        **typed,
    )


def _read_object(path: Path) -> dict[str, Any]:
    """Read a JSON file that must hold an object."""
    data, _ = textfile.read_json(path, "settings")
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object, found {_json_type(data)}")
    return data


def _lowered(data: dict[str, Any]) -> dict[str, Any]:
    """Lower-case the top-level keys; of keys differing only in case the last wins, as in Go's decoder."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        out[key.lower()] = value
    return dict(sorted(out.items()))


def _file_sharing(values: dict[str, Any], name: str) -> tuple[str, ...]:
    """Shared folders (filesharingDirectories) or, before 2.2, shared drive letters (SharedDrives)."""
    dirs = values.get("filesharingdirectories")
    if dirs is not None:
        if not isinstance(dirs, list) or not all(isinstance(d, str) for d in dirs):
            raise InputError(f"{name}: key filesharingdirectories: expected a list of strings")
        return tuple(dirs)
    drives = values.get("shareddrives")
    if drives is None:
        return ()
    if not isinstance(drives, dict) or not all(isinstance(v, bool) for v in drives.values()):
        raise InputError(f"{name}: key shareddrives: expected an object of drive letter -> true/false")
    return tuple(sorted(f"{letter.upper()}:" for letter, shared in drives.items() if shared))


def _as_bool(value: Any, name: str, key: str) -> bool:
    """A JSON boolean, or an InputError naming the key."""
    if not isinstance(value, bool):
        raise InputError(f"{name}: key {key}: expected true or false, found {_json_type(value)}")
    return value


def _as_int(value: Any, name: str, key: str) -> int:
    """A JSON integer (an integral float, as some editors write, is accepted)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{name}: key {key}: expected an integer, found {_json_type(value)}")
    return value


def _as_str(value: Any, name: str, key: str) -> str:
    """A JSON string, or an InputError naming the key."""
    if not isinstance(value, str):
        raise InputError(f"{name}: key {key}: expected a string, found {_json_type(value)}")
    return value


def _json_type(value: Any) -> str:
    """The JSON name of a Python value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


# ---------------------------------------------------------------------------------------------------
# admin-settings.json (Settings Management)


def read_admin_settings(path: Path) -> ConfigFile:
    """Read C:\\ProgramData\\DockerDesktop\\admin-settings.json: `{"key": {"locked": ..., "value": ...}, "linuxVM":
    {...}}` as it is; an unreadable file is an InputError, as for the other settings files."""
    return ConfigFile(file=str(path), values=_read_object(path))


# ---------------------------------------------------------------------------------------------------
# daemon.json


def read_daemon_config(path: Path) -> ConfigFile:
    """Read a daemon.json; structural risks become problems, malformed JSON an InputError."""
    name = str(path)
    text, encoding = textfile.read_text(path, "daemon.json")
    problems: list[str] = []
    if encoding.startswith("utf-16"):
        problems.append(f"written in {encoding.upper()}: dockerd reads daemon.json as UTF-8 "
                        "and will not start")
    if not text.strip():
        return ConfigFile(file=name, values={}, problems=(*problems, "empty file"), encoding=encoding)
    data = textfile.parse_json(text, name)
    if not isinstance(data, dict):
        problems.append(f"not a JSON object (found {_json_type(data)}): dockerd will not start")
        return ConfigFile(file=name, values={}, problems=tuple(problems), encoding=encoding)
    duplicates: list[str] = []

    def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                duplicates.append(key)
            seen.add(key)
        return dict(pairs)

    json.loads(text, object_pairs_hook=_pairs)
    for key in sorted(set(duplicates)):
        problems.append(f"key {key!r} appears more than once; only the last value counts")
    return ConfigFile(file=name, values=data, problems=tuple(problems), encoding=encoding)


# ---------------------------------------------------------------------------------------------------
# .wslconfig, as WSL's config parser (src/windows/common/WslCoreConfig.cpp) reads it: sections and keys are
# case-insensitive, '#' starts a comment, unknown sections, keys and values are skipped without a word.

_SIZE = re.compile(r"^(\d+)\s*([KMGT]?)B?$", re.IGNORECASE)
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_BOOL_WORDS = {"true", "false", "1", "0", "yes", "no", "on", "off"}


def _check_size(key: str, value: str) -> str:
    """Why WSL would misread a size ('' when fine); a bare number is bytes."""
    m = _SIZE.match(value)
    if m is None:
        return f"{key}={value} is not a size like 8GB or 512MB; WSL ignores it"
    number, unit = int(m.group(1)), m.group(2).upper()
    if not unit and number != 0 and not value.upper().endswith("B"):
        return (f"{key}={value} has no unit, so WSL reads it as {number} bytes; "
                f"write e.g. {value}MB or {value}GB")
    # memory=0 means the default (half the host's memory); other values are raised to 256MB.
    if key == "memory" and 0 < number * _UNITS[unit] < 256 << 20:
        return f"memory={value} is below 256MB; WSL raises it to 256MB"
    return ""


def _check_bool(key: str, value: str) -> str:
    """Why WSL would not read a boolean ('' when fine)."""
    return "" if value.lower() in _BOOL_WORDS else f"{key}={value} is not true or false; WSL ignores it"


def _check_count(key: str, value: str) -> str:
    """Why WSL would not read a whole number ('' when fine)."""
    return "" if re.fullmatch(r"-?\d+", value) else f"{key}={value} is not a whole number; WSL ignores it"


def _check_choice(choices: tuple[str, ...], fallback: str) -> Callable[[str, str], str]:
    """A checker for a value out of a fixed set; WSL uses a fallback for anything else."""

    def check(key: str, value: str) -> str:
        if value.lower() in choices:
            return ""
        return f"{key}={value} is not one of {', '.join(choices)}; WSL uses {fallback}"

    return check


_PATHS = ("kernel", "kernelmodules", "swapfile", "systemdistro", "crashdumpfolder", "distributioninstallpath")
_WSL2_KEYS: dict[str, Callable[[str, str], str] | None] = {
    **{k: _check_size for k in ("memory", "swap", "defaultvhdsize")},
    **{k: _check_count for k in ("processors", "vmidletimeout", "maxcrashdumpcount", "kerneldebugport",
                                  "kernelboottimeout", "distributionstarttimeout", "mountdevicetimeout",
                                  "dhcptimeout")},
    **{k: _check_bool for k in ("localhostforwarding", "nestedvirtualization", "guiapplications",
                                 "debugconsole", "earlybootlogging", "safemode", "dnsproxy", "firewall",
                                 "dnstunneling",
                                 "autoproxy", "pagereporting", "virtio9p", "virtiofs", "virtio", "gpusupport",
                                 "telemetry", "hostfilesystemaccess", "hardwareperformancecounters", "dhcp",
                                 "ipv6", "loaddefaultkernelmodules")},
    **{k: None for k in (*_PATHS, "kernelcommandline", "debugconsolelogfile", "vmswitch", "macaddress",
                         "loadkernelmodules")},
    "networkingmode": _check_choice(("none", "nat", "bridged", "mirrored", "virtioproxy"), "NAT"),
}
_EXPERIMENTAL_KEYS: dict[str, Callable[[str, str], str] | None] = {
    "automemoryreclaim": _check_choice(("disabled", "gradual", "dropcache"), "dropCache"),
    **{k: _check_bool for k in ("sparsevhd", "besteffortdnsparsing", "hostaddressloopback", "setversiondebug",
                                 "usewindowsdnscache", "dnstunneling", "firewall", "autoproxy")},
    "initialautoproxytimeout": _check_count,
    **{k: None for k in ("dnstunnelingipaddress", "ignoredports")},
    "networkingmode": _WSL2_KEYS["networkingmode"],
}
_SECTIONS: dict[str, dict[str, Callable[[str, str], str] | None]] = {
    "wsl2": _WSL2_KEYS,
    "experimental": _EXPERIMENTAL_KEYS,
    "general": {"instanceidletimeout": _check_count, "distributioninstallpath": None},
}


_PROBLEMS_MAX = 50
"""Problems listed one by one; a file with more is not a .wslconfig someone wrote, and the inventory should not
carry every line of it."""
_LINE_MAX = 1000
"""Characters of one line looked at: WSL's own lines are short."""


def read_wslconfig(path: Path) -> ConfigFile:
    """Read %USERPROFILE%\\.wslconfig; what WSL would silently ignore becomes a problem, never an error."""
    name = str(path)
    raw = textfile.read_bytes(path, "wslconfig")  # unreadable or too big: the one InputError of .wslconfig
    problems: list[str] = []
    try:
        text, encoding = textfile.decode_bytes(raw, name)
    except InputError as exc:
        text, encoding = raw.decode("latin-1"), "unknown"
        problems.append(f"not valid UTF-8 ({exc.message.split(': ', 1)[-1]}): WSL may misread it")
    if encoding.startswith("utf-16"):
        problems.append(f"written in {encoding.upper()}: WSL reads .wslconfig as UTF-8 and ignores the whole "
                        "file (microsoft/WSL#7851); save it as UTF-8")
    elif encoding == "utf-8-sig":
        problems.append("starts with a UTF-8 byte order mark, which made WSL ignore the file "
                        "(microsoft/WSL#5383); save it as UTF-8 without BOM")
    values: dict[str, dict[str, str]] = {}
    section = ""
    more = 0
    for number, line in enumerate(text.splitlines(), start=1):
        problem = _parse_line(line.strip()[:_LINE_MAX], section, values)
        if isinstance(problem, tuple):
            section, problem = problem
        if problem and len(problems) < _PROBLEMS_MAX:
            problems.append(f"line {number}: {problem}")
        elif problem:
            more += 1
    if more:
        problems.append(f"and {more} more lines WSL would not read: is this a .wslconfig at all?")
    ordered = {s: dict(sorted(keys.items())) for s, keys in sorted(values.items())}
    return ConfigFile(file=name, values=ordered, problems=tuple(problems), encoding=encoding)


def _parse_line(line: str, section: str, values: dict[str, dict[str, str]]) -> str | tuple[str, str]:
    """Apply one stripped line; return a problem, or (new section, problem) for a section header."""
    if not line or line[0] in "#;":
        return ""
    if line.startswith("["):
        if not line.endswith("]"):
            return section, f"malformed section header {line}; WSL ignores it"
        new = line[1:-1].strip().lower()
        values.setdefault(new, {})
        if new not in _SECTIONS:
            return new, f"unknown section [{line[1:-1].strip()}]; WSL ignores every key in it"
        return new, ""
    if "=" not in line:
        return f"{line!r} is not a setting (name = value); WSL ignores it"
    key, _, rest = line.partition("=")
    written, key = key.strip(), key.strip().lower()
    value, escape_problem = _value(rest)
    if not section:
        return f"{written}={value} is outside any section; WSL ignores it"
    keys = values[section]
    problem = ""
    if key in keys:
        problem = f"{section}.{written} is set again; the last value wins"
    keys[key] = value
    known = _SECTIONS.get(section)
    if known is None:
        return problem
    if key not in known:
        home = next((s for s, ks in _SECTIONS.items() if key in ks), "")
        close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.85)
        hint = f" (it belongs in [{home}])" if home else f" (did you mean {close[0]}?)" if close else ""
        return f"unknown key {written} in [{section}]{hint}; WSL ignores it"
    check = known[key]
    found = check(key, value) if check else ""
    if not found and key in _PATHS and escape_problem:
        found = f"{written}={value} has single backslashes; WSL needs them doubled (C:\\\\path\\\\file)"
    return "; ".join(p for p in (problem, found) if p)


def _value(rest: str) -> tuple[str, bool]:
    """Strip a value's comment, whitespace and quotes and undo \\\\ escapes; flag other backslashes."""
    out: list[str] = []
    quoted = False
    lone_backslash = False
    i = 0
    while i < len(rest):
        ch = rest[i]
        if ch == '"':
            quoted = not quoted
        elif ch in "#;" and not quoted:
            break
        elif ch == "\\" and i + 1 < len(rest) and rest[i + 1] in '\\"':
            out.append(rest[i + 1])
            i += 1
        else:
            lone_backslash = lone_backslash or ch == "\\"
            out.append(ch)
        i += 1
    return "".join(out).strip(), lone_backslash

