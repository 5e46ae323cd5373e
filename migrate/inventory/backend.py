"""Read `docker info` output (JSON or pasted text) and decide which backend the engine runs on."""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from migrate.errors import InputError
from migrate.inventory.textfile import parse_json
from migrate.model import Backend, DesktopSettings

# Keys the CLI adds around /info in `docker info --format '{{json .}}'` (docker/cli 19.03 and later).
_CLI_WRAPPER_KEYS = ("ClientInfo", "ClientErrors", "ServerErrors")

# Keys that only a real /info object (or its text form) carries; one of them must be present.
_SERVER_KEYS = ("ServerVersion", "OSType", "KernelVersion", "Driver", "OperatingSystem", "DockerRootDir")

_UNREACHABLE = re.compile(
    r"cannot connect to the docker daemon|error during connect|is the docker daemon running", re.I
)

# One `Key: value` line of the human format. The key holds no colon, so `Registry: https://...` splits right;
# the colon must be followed by a space or the line end, so a `PS C:\> docker info` prompt is not a key.
_KEY_LINE = re.compile(r"^([A-Za-z][A-Za-z0-9 ()/._-]*?):(?:\s+(.*))?$")

_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGTPE]?i?B)\s*$", re.I)
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4, "P": 1024**5, "E": 1024**6}

# `docker info` text key -> /info key, for plain string values.
_TEXT_STRINGS = {
    "Server Version": "ServerVersion",
    "Kernel Version": "KernelVersion",
    "Operating System": "OperatingSystem",
    "OSType": "OSType",
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

_WINDOWS_KERNEL = re.compile(r"^\d+\.\d+ \d+ \(")
# linuxkit-<MAC without colons>: 00:15:5d is the OUI of Hyper-V's virtual network adapters.
_HYPERV_LINUXKIT_NAME = re.compile(r"^linuxkit-00155d[0-9a-f]{6}$", re.I)


# ---------------------------------------------------------------------------------------------------
# parse_info


def parse_info(text: str, name: str) -> dict[str, Any]:
    """Parse `docker info` output, JSON or human text, into a dict shaped like the Engine API's GET /info."""
    stripped = text.strip()
    if not stripped:
        raise InputError(f"{name}: empty file, expected the output of `docker info`")
    if stripped.startswith("{"):
        return _parse_json_info(stripped, name)
    return _parse_text_info(stripped, name)


def _parse_json_info(text: str, name: str) -> dict[str, Any]:
    data = parse_json(text, name)
    if not isinstance(data, dict):
        raise InputError(f"{name}: not `docker info` output (expected the JSON object it prints)")
    errors = [str(e) for e in data.get("ServerErrors") or [] if str(e).strip()]
    info = {k: v for k, v in data.items() if k not in _CLI_WRAPPER_KEYS}
    if errors and not info.get("ServerVersion"):
        raise InputError(f"{name}: `docker info` could not reach the daemon: {_one_line(errors[0])}")
    if not any(info.get(k) for k in _SERVER_KEYS):
        if "ClientInfo" in data:
            # Newer CLIs (seen with 28.2) print an all-empty server object, the error on stderr only.
            raise InputError(f"{name}: `docker info` holds no server data; the daemon was not reachable")
        raise InputError(f"{name}: not `docker info` output (none of {', '.join(_SERVER_KEYS)} is set)")
    return info


def _one_line(message: str) -> str:
    return " ".join(message.split())


def _parse_text_info(text: str, name: str) -> dict[str, Any]:
    lines = [ln.rstrip() for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    section = _server_section(lines)
    entries = _entries(section)
    keys = {key for key, _, _ in entries}
    if not keys & {"Server Version", "OSType", "Kernel Version", "Storage Driver", "Operating System"}:
        for ln in section or lines:
            if _UNREACHABLE.search(ln):
                error = _one_line(ln.removeprefix("ERROR:"))
                raise InputError(f"{name}: `docker info` could not reach the daemon: {error}")
        raise InputError(f"{name}: not `docker info` output (no Server Version, OSType or Kernel Version)")
    info: dict[str, Any] = {}
    for key, value, children in entries:
        _apply_text_entry(info, key, value, children)
    return info


def _server_section(lines: list[str]) -> list[str]:
    """The lines after a top-level `Server:` header (19.03+ CLIs), or every line (older CLIs have none)."""
    for i, ln in enumerate(lines):
        if ln.strip() == "Server:" and not ln[:1].isspace():
            rest = lines[i + 1 :]
            # The section ends at the first unindented line after it (WARNING: lines, a prompt, prose).
            for j, nxt in enumerate(rest):
                if nxt and not nxt[:1].isspace() and j > 0:
                    return rest[:j] if not _UNREACHABLE.search(nxt) else rest[: j + 1]
            return rest
    return lines


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _entries(lines: list[str]) -> list[tuple[str, str, list[tuple[int, str]]]]:
    """Top-level `Key: value` entries with their indented child lines (relative depth, stripped text)."""
    key_indents = [_indent(ln) for ln in lines if ln.strip() and _KEY_LINE.match(ln.strip())]
    if not key_indents:
        return []
    base = min(key_indents)
    entries: list[tuple[str, str, list[tuple[int, str]]]] = []
    for ln in lines:
        if not ln.strip():
            continue
        depth = _indent(ln) - base
        match = _KEY_LINE.match(ln.strip())
        if depth == 0 and match:
            entries.append((match.group(1).strip(), (match.group(2) or "").strip(), []))
        elif depth > 0 and entries:
            entries[-1][2].append((depth, ln.strip()))
    return entries


def _kv(line: str) -> tuple[str, str]:
    key, _, value = line.partition(":")
    return key.strip(), value.strip()


def _apply_text_entry(info: dict[str, Any], key: str, value: str, children: list[tuple[int, str]]) -> None:
    if key in _TEXT_STRINGS:
        info[_TEXT_STRINGS[key]] = value
    elif key in _TEXT_BOOLS:
        info[_TEXT_BOOLS[key]] = value.lower() == "true"
    elif key in _TEXT_COMMITS:
        info[_TEXT_COMMITS[key]] = {"ID": value.split(" ")[0] if value else ""}
    elif key == "Containers":
        info["Containers"] = _int(value)
        for _, child in children:
            k, v = _kv(child)
            if k in ("Running", "Paused", "Stopped"):
                info[f"Containers{k}"] = _int(v)
    elif key == "Images":
        info["Images"] = _int(value)
    elif key == "CPUs":
        info["NCPU"] = _int(value)
    elif key == "Total Memory":
        info["MemTotal"] = parse_size(value)
    elif key == "Storage Driver":
        info["Driver"] = value
        info["DriverStatus"] = [list(_kv(child)) for depth, child in children if depth == 1]
    elif key == "Plugins":
        plugins: dict[str, list[str]] = {}
        for depth, child in children:
            k, v = _kv(child)
            if depth == 1 and k in ("Volume", "Network", "Log", "Authorization"):
                plugins[k] = v.split()
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


def _int(value: str) -> int:
    try:
        return int(value.split()[0]) if value else 0
    except ValueError:
        return 0


def parse_size(value: str) -> int:
    """Bytes from a size as `docker info` prints it ('1.934GiB', '4 GiB', '1023MiB'); 0 when unreadable."""
    match = _SIZE.match(value)
    if not match:
        return 0
    unit = match.group(2).upper().rstrip("B").rstrip("I")
    return int(round(float(match.group(1)) * _UNITS.get(unit, 1)))


# ---------------------------------------------------------------------------------------------------
# detect_backend


def _platform_name(version: Mapping[str, Any] | None) -> str:
    if not version:
        return ""
    server = version.get("Server") if isinstance(version.get("Server"), Mapping) else None
    source = server if server is not None else version
    platform = source.get("Platform")
    return str(platform.get("Name") or "") if isinstance(platform, Mapping) else ""


def _experimental(info: Mapping[str, Any]) -> bool | None:
    value = info.get("ExperimentalBuild")
    return value if isinstance(value, bool) else None


def _has_lcow(info: Mapping[str, Any]) -> bool:
    if "lcow" in str(info.get("Driver") or "").lower():
        return True
    status = info.get("DriverStatus") or []
    return any(isinstance(row, (list, tuple)) and row and str(row[0]).upper() == "LCOW" for row in status)


def detect_backend(
    info: Mapping[str, Any], version: Mapping[str, Any] | None = None, desktop: DesktopSettings | None = None
) -> Backend:
    """Decide the backend (hyperv, lcow, wsl2, windows, linux, unknown) from /info, /version and settings."""
    info = info or {}
    server = version.get("Server") if version and isinstance(version.get("Server"), Mapping) else version
    os_type = str(info.get("OSType") or (server or {}).get("Os") or "").lower()
    kernel = str(info.get("KernelVersion") or (server or {}).get("KernelVersion") or "")
    operating_system = str(info.get("OperatingSystem") or "")
    driver = str(info.get("Driver") or "")
    evidence: dict[str, Any] = {
        "os_type": os_type,
        "operating_system": operating_system,
        "kernel_version": kernel,
        "storage_driver": driver,
        "experimental": _experimental(info),
        "server_version": str(info.get("ServerVersion") or (server or {}).get("Version") or ""),
        "platform_name": _platform_name(version),
        "name": str(info.get("Name") or ""),
    }
    wsl_setting = desktop.wsl_engine_enabled if desktop is not None else None
    if desktop is not None:
        evidence["settings_wsl_engine_enabled"] = wsl_setting
    kind, reasons = _decide(info, evidence, desktop, wsl_setting)
    return Backend(kind=kind, evidence=evidence, reasons=tuple(reasons))


def _decide(
    info: Mapping[str, Any], ev: dict[str, Any], desktop: DesktopSettings | None, wsl_setting: bool | None
) -> tuple[str, list[str]]:
    reasons: list[str] = []
    os_type, kernel, driver = ev["os_type"], ev["kernel_version"], ev["storage_driver"]
    if not os_type and not kernel and not driver and not ev["operating_system"]:
        return "unknown", [
            "The engine information is empty: no OSType, kernel version, storage driver or operating system."
        ]
    if not os_type:
        if _WINDOWS_KERNEL.match(kernel) or driver.lower().startswith(("windowsfilter", "lcow")):
            os_type = "windows"
            reasons.append(
                f"OSType is missing; the kernel '{kernel}' and storage driver '{driver}' "
                "are the Windows engine's."
            )
        elif kernel:
            os_type = "linux"
            reasons.append(f"OSType is missing; the kernel '{kernel}' is a Linux kernel.")
    if os_type == "windows":
        return _decide_windows(info, ev, reasons)
    if os_type != "linux":
        return "unknown", reasons + [f"OSType '{os_type}' is neither linux nor windows."]

    kernel_l = kernel.lower()
    if "microsoft-standard" in kernel_l:
        reasons.append(
            f"OSType is linux and the kernel '{kernel}' is Microsoft's WSL 2 kernel (microsoft-standard)."
        )
        if wsl_setting is False:
            reasons.append(
                "Desktop settings say wslEngineEnabled is false, but the running engine is on WSL 2; "
                "trusting the engine."
            )
        return "wsl2", reasons
    vm_kernel = kernel_l.endswith("-linuxkit") or "-linuxkit-" in kernel_l or kernel_l.endswith("-moby")
    if not vm_kernel:
        reasons.append(
            f"OSType is linux and the kernel '{kernel}' is neither a Docker Desktop VM kernel (linuxkit) "
            "nor a WSL 2 kernel, "
            f"so this is a plain Linux engine ({ev['operating_system'] or 'operating system not reported'})."
        )
        return "linux", reasons
    reasons.append(f"OSType is linux and the kernel '{kernel}' is the LinuxKit kernel of Docker's own VM.")
    windows = _windows_evidence(info, ev, desktop)
    if windows:
        reasons.extend(windows)
        if wsl_setting is True:
            reasons.append(
                "Desktop settings say wslEngineEnabled is true, but the running engine is the Hyper-V VM; "
                "trusting the engine."
            )
        reasons.append("A LinuxKit VM on Windows is the Hyper-V backend (MobyLinuxVM or DockerDesktopVM).")
        return "hyperv", reasons
    reasons.append(
        "Nothing says the host is Windows: Docker Desktop for Mac runs the same LinuxKit kernel and reports "
        "the same 'Docker Desktop' operating system, so this is treated as a Linux VM engine, "
        "not the Hyper-V backend. "
        "Give the Desktop settings file to confirm a Windows host."
    )
    return "linux", reasons


def _windows_evidence(
    info: Mapping[str, Any], ev: dict[str, Any], desktop: DesktopSettings | None
) -> list[str]:
    """Sentences naming what shows the LinuxKit VM runs on a Windows host; empty when nothing does."""
    found: list[str] = []
    if ev["operating_system"] == "Docker for Windows":
        found.append("The operating system is 'Docker for Windows' (Docker for Windows 17.x/18.x).")
    if _HYPERV_LINUXKIT_NAME.match(ev["name"]):
        found.append(f"The engine name '{ev['name']}' carries a Hyper-V virtual adapter MAC (00:15:5d).")
    labels = [str(x) for x in info.get("Labels") or []]
    if any("npipe://" in label for label in labels):
        found.append("An engine label points at a Windows named pipe (npipe://).")
    if desktop is not None:
        where = f" ({desktop.file})" if desktop.file else ""
        found.append(f"Docker Desktop for Windows settings were read{where}.")
    if ev["operating_system"] == "Docker Desktop" and found:
        found.insert(0, "The operating system is 'Docker Desktop'.")
    return found


def _decide_windows(info: Mapping[str, Any], ev: dict[str, Any], reasons: list[str]) -> tuple[str, list[str]]:
    experimental = ev["experimental"]
    if ev["os_type"] == "windows":
        reasons.append("OSType is windows: this is the Windows engine (dockerd.exe), not a Linux VM.")
    if _has_lcow(info):
        reasons.append(
            f"The storage drivers '{ev['storage_driver']}' include lcow, "
            "so the Windows engine stores Linux images (LCOW)."
        )
        if experimental is True:
            reasons.append("Experimental is true, which LCOW on Engine 18.02 and later requires.")
        elif experimental is False:
            reasons.append(
                "Experimental is false, yet the lcow driver is loaded (early 17.10/17.11 builds enabled "
                "LCOW with "
                "LCOW_SUPPORTED=1); treating it as LCOW because Linux images may be stored."
            )
        else:
            reasons.append(
                "The capture does not say whether experimental features are on; the lcow driver decides it."
            )
        return "lcow", reasons
    if experimental is True:
        reasons.append("Experimental is true but no lcow storage driver is loaded, so LCOW is not active.")
    return "windows", reasons
