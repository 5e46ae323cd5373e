"""Decide which backend an engine runs on from what `docker info` / `docker version` say, and the settings."""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from migrate.errors import InputError
from migrate.inventory.engineinfo import parse_size, read_capture
from migrate.model import Backend, DesktopSettings

__all__ = ["detect_backend", "parse_info", "parse_size"]

_LINUX_DRIVERS = frozenset({"overlay2", "overlay", "overlayfs", "aufs", "devicemapper", "btrfs", "zfs", "vfs",
                            "fuse-overlayfs"})
_WINDOWS_KERNEL = re.compile(r"^\d+\.\d+ \d+ \(")
# linuxkit-<MAC without colons>: 00:15:5d is the OUI of Hyper-V's virtual network adapters.
_HYPERV_LINUXKIT_NAME = re.compile(r"^linuxkit-00155d[0-9a-f]{6}$", re.I)


# ---------------------------------------------------------------------------------------------------
# parse_info


def parse_info(text: str, name: str) -> dict[str, Any]:
    """The /info part of a `docker info` capture (JSON or text); InputError when the file holds none."""
    cap = read_capture(text, name)
    if not cap.info:
        raise InputError(f"{name}: holds `docker version` only, not `docker info` output")
    return cap.info


# ---------------------------------------------------------------------------------------------------
# detect_backend


def _server(version: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """The server part of /version, whether given in the API shape or the CLI's {"Client", "Server"} shape."""
    if not version:
        return {}
    inner = version.get("Server")
    return inner if isinstance(inner, Mapping) else version


def _platform_name(version: Mapping[str, Any] | None) -> str:
    platform = _server(version).get("Platform")
    return str(platform.get("Name") or "") if isinstance(platform, Mapping) else ""


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _has_lcow(info: Mapping[str, Any]) -> bool:
    if "lcow" in str(info.get("Driver") or "").lower():
        return True
    status = info.get("DriverStatus") or []
    return isinstance(status, list) and any(
        isinstance(row, (list, tuple)) and row and str(row[0]).upper() == "LCOW" for row in status)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def detect_backend(
    info: Mapping[str, Any], version: Mapping[str, Any] | None = None, desktop: DesktopSettings | None = None,
    client: Mapping[str, Any] | None = None,
) -> Backend:
    """Decide the backend (hyperv, lcow, wsl2, windows, linux, unknown) from /info, /version and settings.

    Every piece of evidence counts (OSType, kernel, operating system, storage drivers, isolation, the server's
    OS/arch and platform name, experimental, where the CLI ran); the reasons say which pieces were missing.
    """
    info = info or {}
    server = _server(version)
    if not client and version and isinstance(version.get("Client"), Mapping):
        client = version["Client"]
    client = client or {}
    os_type = _text(info.get("OSType")).lower()
    server_os = _text(server.get("Os")).lower()
    experimental = _bool(info.get("ExperimentalBuild"))
    if experimental is None:
        experimental = _bool(server.get("Experimental"))
    evidence: dict[str, Any] = {
        "os_type": os_type,
        "operating_system": _text(info.get("OperatingSystem")),
        "kernel_version": _text(info.get("KernelVersion")) or _text(server.get("KernelVersion")),
        "storage_driver": _text(info.get("Driver")),
        "experimental": experimental,
        "server_version": _text(info.get("ServerVersion")) or _text(server.get("Version")),
        "platform_name": _platform_name(version),
        "name": _text(info.get("Name")),
    }
    for key, value in (("isolation", _text(info.get("Isolation"))), ("server_os", server_os),
                       ("server_arch", _text(server.get("Arch"))), ("client_os", _text(client.get("Os")).lower())):
        if value:
            evidence[key] = value
    wsl_setting = desktop.wsl_engine_enabled if desktop is not None else None
    if desktop is not None:
        evidence["settings_wsl_engine_enabled"] = wsl_setting
    kind, reasons = _decide(info, evidence, desktop, wsl_setting)
    missing = [label for key, label in (("os_type", "OSType"), ("kernel_version", "kernel version"),
                                        ("storage_driver", "storage driver"), ("experimental", "experimental"))
               if evidence.get(key) in ("", None)]
    if missing and len(missing) < 4:
        reasons.append(f"Not in the capture: {', '.join(missing)}.")
    return Backend(kind=kind, evidence=evidence, reasons=tuple(reasons))


def _windows_engine_signs(info: Mapping[str, Any], ev: dict[str, Any]) -> list[str]:
    """What says the engine itself is the Windows engine (dockerd.exe), besides OSType."""
    signs = []
    kernel, driver = ev["kernel_version"], ev["storage_driver"].lower()
    if _WINDOWS_KERNEL.match(kernel):
        signs.append(f"the kernel '{kernel}' is a Windows kernel")
    if driver.startswith(("windowsfilter", "lcow")):
        signs.append(f"the storage driver '{ev['storage_driver']}' is the Windows engine's")
    if ev.get("isolation") in ("process", "hyperv"):
        signs.append(f"default isolation '{ev['isolation']}' exists only on the Windows engine")
    if ev.get("server_os") == "windows":
        signs.append("`docker version` says the server runs on windows")
    if ev["operating_system"].startswith("Windows"):
        signs.append(f"the operating system is '{ev['operating_system']}'")
    if re.match(r"^[A-Za-z]:\\", _text(info.get("DockerRootDir"))):
        signs.append(f"the Docker root dir '{info.get('DockerRootDir')}' is a Windows path")
    return signs


def _decide(
    info: Mapping[str, Any], ev: dict[str, Any], desktop: DesktopSettings | None, wsl_setting: bool | None
) -> tuple[str, list[str]]:
    reasons: list[str] = []
    os_type, kernel = ev["os_type"], ev["kernel_version"]
    windows_signs = _windows_engine_signs(info, ev)
    if not os_type and not kernel and not ev["storage_driver"] and not ev["operating_system"] \
            and not ev.get("server_os"):
        return "unknown", [
            "The engine information is empty: no OSType, kernel version, storage driver or operating system."
        ]
    if os_type == "windows" or (not os_type and windows_signs):
        if os_type == "windows":
            reasons.append("OSType is windows: this is the Windows engine (dockerd.exe), not a Linux VM.")
        else:
            reasons.append(f"OSType is missing; {'; '.join(windows_signs)}: this is the Windows engine.")
        return _decide_windows(info, ev, reasons)
    if not os_type:
        linux_driver = ev["storage_driver"].split(" ")[0] in _LINUX_DRIVERS
        if ev.get("server_os") == "linux" or kernel or linux_driver:
            reasons.append("OSType is missing; " + ("`docker version` says the server runs on linux."
                                                     if ev.get("server_os") == "linux"
                                                     else f"the kernel '{kernel}' is a Linux kernel." if kernel
                                                     else f"the storage driver '{ev['storage_driver']}' exists "
                                                     "only on Linux engines."))
            os_type = "linux"
    if not os_type:
        return "unknown", reasons + ["Neither OSType, a kernel version nor a storage driver says which kind of "
                                     "engine this is."]
    if os_type != "linux":
        return "unknown", reasons + [f"OSType '{os_type}' is neither linux nor windows."]
    if windows_signs:
        reasons.append(f"OSType is linux although {'; '.join(windows_signs)}; trusting OSType.")

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
    if not kernel:
        return _decide_without_kernel(ev, desktop, reasons)
    vm_kernel = kernel_l.endswith("-linuxkit") or "-linuxkit-" in kernel_l or kernel_l.endswith("-moby")
    if not vm_kernel:
        reasons.append(
            f"OSType is linux and the kernel '{kernel}' is neither a Docker Desktop VM kernel (linuxkit) "
            "nor a WSL 2 kernel, "
            f"so this is a plain Linux engine ({ev['operating_system'] or 'operating system not reported'})."
        )
        return "linux", reasons
    reasons.append(f"OSType is linux and the kernel '{kernel}' is the LinuxKit kernel of Docker's own VM.")
    windows = _windows_host_evidence(info, ev, desktop)
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


def _decide_without_kernel(ev: dict[str, Any], desktop: DesktopSettings | None,
                           reasons: list[str]) -> tuple[str, list[str]]:
    """A Linux engine whose kernel the capture does not show (a `docker version` alone, a cut-off paste)."""
    platform = ev["platform_name"]
    client = ev.get("client_os", "")
    desktop_like = platform.startswith("Docker Desktop") or ev["operating_system"].startswith("Docker")
    if client == "windows" or desktop is not None or desktop_like:
        shown = platform or ev["operating_system"]
        where = ("the docker CLI ran on Windows" if client == "windows" else
                 "Docker Desktop settings were read" if desktop is not None else f"the platform is '{shown}'")
        if desktop is not None and desktop.wsl_engine_enabled is not None:
            reasons.append(f"The capture shows no kernel version; {where}, and the settings say "
                           f"wslEngineEnabled is {str(desktop.wsl_engine_enabled).lower()}.")
            return ("wsl2" if desktop.wsl_engine_enabled else "hyperv"), reasons
        reasons.append(f"The capture shows no kernel version, which is what tells Docker Desktop's Hyper-V VM "
                       f"(linuxkit) from WSL 2 (microsoft-standard); {where}. Give `docker info` or the Desktop "
                       "settings file to decide.")
        return "unknown", reasons
    if client in ("linux", "darwin") or platform:
        reasons.append(f"The capture shows no kernel version; a Linux server ({platform or 'no platform name'})"
                       f"{' queried from ' + client if client else ''} with nothing that points at Windows is "
                       "treated as a plain Linux engine.")
        return "linux", reasons
    reasons.append("The capture shows no kernel version and nothing about the host, so the backend cannot be "
                   "told; give `docker info` output.")
    return "unknown", reasons


def _windows_host_evidence(
    info: Mapping[str, Any], ev: dict[str, Any], desktop: DesktopSettings | None
) -> list[str]:
    """Sentences naming what shows the LinuxKit VM runs on a Windows host; empty when nothing does."""
    found: list[str] = []
    if ev["operating_system"] == "Docker for Windows":
        found.append("The operating system is 'Docker for Windows' (Docker for Windows 17.x/18.x).")
    if _HYPERV_LINUXKIT_NAME.match(ev["name"]):
        found.append(f"The engine name '{ev['name']}' carries a Hyper-V virtual adapter MAC (00:15:5d).")
    labels = info.get("Labels")
    if isinstance(labels, list) and any("npipe://" in str(label) for label in labels):
        found.append("An engine label points at a Windows named pipe (npipe://).")
    if ev.get("client_os") == "windows":
        found.append("`docker version` shows the docker CLI running on Windows.")
    if desktop is not None:
        where = f" ({desktop.file})" if desktop.file else ""
        found.append(f"Docker Desktop for Windows settings were read{where}.")
    if ev["operating_system"] == "Docker Desktop" and found:
        found.insert(0, "The operating system is 'Docker Desktop'.")
    return found


def _decide_windows(info: Mapping[str, Any], ev: dict[str, Any], reasons: list[str]) -> tuple[str, list[str]]:
    experimental = ev["experimental"]
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
    if not ev["storage_driver"] and not _lcow_era(ev["server_version"]):
        reasons.append(f"Engine {ev['server_version']} is outside the versions that had LCOW (17.10 to 20.10; "
                       "removed in 23.0), so it runs Windows containers only.")
        return "windows", reasons
    if not ev["storage_driver"]:
        reasons.append("The capture shows no storage driver, so LCOW (the lcow driver) cannot be ruled out; "
                       + ("experimental is on, which LCOW needs." if experimental else
                          "experimental is off, which LCOW on Engine 18.02 and later cannot run without."
                          if experimental is False else "nor does it say whether experimental is on."))
        # Only experimental: false rules LCOW out here; a capture that does not say is not a "no".
        return ("windows" if experimental is False else "unknown"), reasons
    if experimental is True:
        reasons.append("Experimental is true but no lcow storage driver is loaded, so LCOW is not active.")
    return "windows", reasons


def _lcow_era(version: str) -> bool:
    """Whether an engine version could have LCOW (17.10 up to 22.x); True when the version is unknown."""
    m = re.match(r"^(\d+)\.(\d+)", version)
    if not m:
        return True
    major, minor = int(m.group(1)), int(m.group(2))
    return (17, 10) <= (major, minor) < (23, 0)
