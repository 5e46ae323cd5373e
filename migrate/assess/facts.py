"""Derived facts: what a rule cannot say with a comparison, computed once per inventory in Python."""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from migrate.assess.space import WSL_DEFAULT_FOLDER, drive_needs, folder_drive, shortfall_text
from migrate.inventory.names import duplicate_names
from migrate.model import (
    ConfigFile,
    Container,
    Engine,
    Estimate,
    FileFact,
    HostFacts,
    Image,
    Inventory,
    Mount,
    Network,
    Settings,
    Volume,
)
from migrate.winbuilds import desktop_wsl2_floor, edition_family

_K8S_TAG = re.compile(r"^(k8s\.gcr\.io|registry\.k8s\.io)/|^docker/desktop-(kubernetes|storage-provisioner|vpnkit)")
"""Kubernetes system images (Docker Desktop pulls its own set when Kubernetes is turned on after the switch)."""
DEFAULT_DESKTOP_SUBNET = "192.168.65.0/24"
"""Docker Desktop's VM network (settings key vpnkitCIDR), used by both the Hyper-V VM and WSL 2."""

MIB = 1024 * 1024


@dataclass(frozen=True)
class DerivedFact:
    """One registered derived fact: read in predicates as `derived.NAME` on an object of type `owner`."""

    owner: type
    name: str
    type: Any
    doc: str
    compute: Callable[[Any, Facts], Any]


REGISTRY: dict[type, dict[str, DerivedFact]] = {}


_Compute = Callable[[Any, "Facts"], Any]


def _fact(owner: type, name: str, tp: Any, doc: str) -> Callable[[_Compute], _Compute]:
    def register(fn: Callable[[Any, Facts], Any]) -> Callable[[Any, Facts], Any]:
        REGISTRY.setdefault(owner, {})[name] = DerivedFact(owner, name, tp, doc, fn)
        return fn

    return register


class Facts:
    """The derived facts of one inventory, each computed at most once per object."""

    def __init__(self, inv: Inventory, backup_dir: str = "", estimate: Estimate | None = None) -> None:
        self.inv = inv
        self.backup_dir = backup_dir
        self.estimate = estimate
        """The plan's estimate (sizes, backup folder): the size facts are unknown without it."""
        self._cache: dict[tuple[int, str], Any] = {}
        self._images = {img.id: img for img in inv.images}
        self._containers: dict[str, Container] = {}
        for c in inv.containers:
            self._containers.setdefault(c.name.lstrip("/"), c)
        self._file_platforms: dict[str, frozenset[str]] | None = None
        self.duplicates = duplicate_names(inv)
        """Subject kind -> names more than one object shares (shown with their ids)."""
        self.read_files = {p.file.lower() for p in inv.project_files}
        """The project files the scan read, lowercased."""

    def get(self, obj: Any, name: str) -> Any:
        """The derived fact `name` of obj (the inventory or one of its objects)."""
        key = (id(obj), name)
        if key not in self._cache:
            self._cache[key] = REGISTRY[type(obj)][name].compute(obj, self)
        return self._cache[key]

    def file_kinds(self, file: str) -> frozenset[str]:
        """linux / windows: which platforms a project file's facts ask for (images by name, platform flags)."""
        if self._file_platforms is None:
            found: dict[str, set[str]] = {}
            for f in self.inv.files:
                text = f.text.lower()
                if f.kind == "windows-image" or (f.kind in ("platform-flag", "platform-key") and "windows" in text):
                    found.setdefault(f.file, set()).add("windows")
                elif f.kind in ("platform-flag", "platform-key") and "linux" in text:
                    found.setdefault(f.file, set()).add("linux")
            self._file_platforms = {k: frozenset(v) for k, v in found.items()}
        return self._file_platforms.get(file, frozenset())

    def image_of(self, c: Container) -> Image | None:
        """The image a container was created from, when the inventory holds it."""
        return self._images.get(c.image_id)

    def container(self, name: str) -> Container | None:
        """A container by name (with or without the engine's leading slash)."""
        return self._containers.get(name.lstrip("/"))


# ---------------------------------------------------------------------------------------------------
# Helpers


def parse_size(text: Any) -> int | None:
    """Bytes from a .wslconfig size ('8GB', '4096MB', '512m', '1TB', '1073741824'); None when unreadable."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    if not isinstance(text, str):
        return None
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*", text.lower())
    if not m:
        return None
    scale = {"": 1, "k": 1024, "m": MIB, "g": 1024 * MIB, "t": 1024 * 1024 * MIB}[m.group(2)]
    return int(float(m.group(1)) * scale)


def drive_letter(path: str) -> str:
    """The drive letter of a Windows path ('D:\\backup' -> 'D'), '' when it has none."""
    m = re.match(r"^([A-Za-z]):", path.strip())
    return m.group(1).upper() if m else ""


def _engine_os(facts: Facts) -> str:
    return facts.inv.engine.os_type.lower() if facts.inv.engine else ""


# ---------------------------------------------------------------------------------------------------
# Images


@_fact(Image, "os", str, "linux / windows: the image's os, else the engine's when it is a Linux engine.")
def _image_os(img: Image, facts: Facts) -> str:
    if img.os:
        return img.os.lower()
    return "linux" if _engine_os(facts) == "linux" else ""


@_fact(Image, "repullable", bool, "The image has a registry digest, so it can be pulled again.")
def _image_repullable(img: Image, facts: Facts) -> bool:
    return bool(img.repo_digests)


@_fact(Image, "used", bool, "A container was created from it.")
def _image_used(img: Image, facts: Facts) -> bool:
    return bool(img.containers)


# ---------------------------------------------------------------------------------------------------
# Containers


@_fact(Container, "os", str, "linux / windows: platform, else its image's os, else the engine's os_type.")
def _container_os(c: Container, facts: Facts) -> str:
    if c.platform:
        return c.platform.lower()
    img = facts.image_of(c)
    if img is not None and img.os:
        return img.os.lower()
    engine_os = _engine_os(facts)
    if engine_os == "linux":
        return "linux"
    # A Windows engine runs Windows containers unless LCOW is on, when only evidence above can tell.
    if engine_os == "windows" and not facts.get(facts.inv, "lcow_in_use"):
        return "windows"
    return ""


@_fact(Container, "excluded_host_ports", tuple[str, ...],
       "Published host ports inside a TCP range Windows reserved (host facts' excluded_port_ranges).")
def _container_excluded(c: Container, facts: Facts) -> tuple[str, ...]:
    host = facts.inv.host
    if host is None or not host.excluded_port_ranges:
        return ()
    out = []
    for b in c.port_bindings:
        if b.container_port.endswith("/udp") or not b.host_port:
            continue
        low, _, high = b.host_port.partition("-")
        try:
            ports = range(int(low), int(high or low) + 1)
        except ValueError:
            continue
        hit = [p for p in ports if any(r.start <= p <= r.end for r in host.excluded_port_ranges)]
        if hit:
            out.append(str(hit[0]) if len(hit) == 1 else f"{hit[0]}-{hit[-1]}")
    return tuple(dict.fromkeys(out))


_SENSITIVE = re.compile(r"(?i)(^|/)([^/]*\.cnf|\.pgpass|\.netrc|authorized_keys|id_(rsa|dsa|ecdsa|ed25519)|"
                        r"[^/]*\.(key|pem|p12|pfx|keytab)|\.ssh|ssl/private|mysql/conf\.d)/?$")
"""Files (and folders of them) that programs refuse when others may write or read them: MySQL ignores a
world-writable my.cnf, ssh and PostgreSQL refuse private keys open to others."""


@_fact(Container, "permission_sensitive_binds", tuple[str, ...],
       "Windows-path binds onto files whose permissions matter (my.cnf, keys, .ssh), as 'source -> destination'.")
def _container_sensitive(c: Container, facts: Facts) -> tuple[str, ...]:
    return tuple(f"{m.desktop_source or m.source} -> {m.destination}" for m in c.mounts
                 if m.type == "bind" and facts.get(m, "host_path_style") in ("windows", "host_mnt", "desktop_mnt")
                 and _SENSITIVE.search(m.destination.rstrip("/")))


@_fact(Container, "writable_layer_has_data", bool, "size_rw > 0: data written into the container layer.")
def _container_rw(c: Container, facts: Facts) -> bool:
    return bool(c.size_rw and c.size_rw > 0)


@_fact(Container, "dependents", tuple[str, ...], "Names of the containers whose depends_on names this one.")
def _container_dependents(c: Container, facts: Facts) -> tuple[str, ...]:
    me = c.name.lstrip("/")
    return tuple(sorted(d.name.lstrip("/") for d in facts.inv.containers
                        if me in {n.lstrip("/") for n in d.depends_on}))


def compose_route(c: Container, read_files: set[str]) -> str:
    """How the plan re-creates a compose-managed container: `compose` (docker compose, from its files), `commit`
    (its writable layer holds data compose would not carry), `oneoff` (a `compose run` container, which `up` does
    not create), `files-unread` (its compose files are not among the project files the scan read); '' when it is
    not compose-managed. read_files are the read project files' paths, lowercased (Windows paths ignore case)."""
    comp = c.compose
    if comp is None or not comp.project:
        return ""
    if c.size_rw:
        return "commit"
    if comp.oneoff:
        return "oneoff"
    if not comp.working_dir or not comp.config_files or any(f.lower() not in read_files for f in comp.config_files):
        return "files-unread"
    return "compose"


_ROUTE_REASONS = {
    "commit": "its writable layer holds data, which compose would not carry, so the plan re-creates it with docker "
              "create from the commit of its filesystem, keeping its compose labels",
    "oneoff": "a one-off container (`docker compose run`), which `compose up` does not create: the plan re-creates "
              "it with docker create from the recorded settings, keeping its compose labels",
    "files-unread": "its compose files were not read (give the project folder with --project), so the plan "
                    "re-creates it with docker create from the recorded settings, keeping its compose labels",
}


@_fact(Container, "compose_route", str,
       "compose, commit, oneoff or files-unread: how the plan re-creates a compose service's container; '' if none.")
def _container_compose_route(c: Container, facts: Facts) -> str:
    return compose_route(c, facts.read_files)


@_fact(Container, "compose_route_reason", str, "Why a compose service's container is not re-created by compose.")
def _container_compose_reason(c: Container, facts: Facts) -> str:
    return _ROUTE_REASONS.get(compose_route(c, facts.read_files), "")


# ---------------------------------------------------------------------------------------------------
# Volumes, networks, mounts


@_fact(Volume, "used", bool, "A container mounts it.")
def _volume_used(v: Volume, facts: Facts) -> bool:
    return bool(v.users)


def _network_container_oses(n: Network, facts: Facts) -> set[str]:
    names = {x.lstrip("/") for x in n.containers}
    names |= {c.name.lstrip("/") for c in facts.inv.containers if any(a.network == n.name for a in c.networks)}
    oses = set()
    for name in names:
        c = facts.container(name)
        if c is not None:
            oses.add(facts.get(c, "os"))
    return oses


@_fact(Network, "mixes_linux_and_windows", bool, "Both Linux and Windows containers are attached to it.")
def _network_mixed(n: Network, facts: Facts) -> bool:
    return {"linux", "windows"} <= _network_container_oses(n, facts)


@_fact(Network, "collides_with", str, "The Docker Desktop / WSL range one of its subnets overlaps, '' if none.")
def _network_collides(n: Network, facts: Facts) -> str:
    ranges = sorted({facts.get(facts.inv, "desktop_subnet"), DEFAULT_DESKTOP_SUBNET})
    for pool in n.ipam:
        try:
            net = ipaddress.ip_network(pool.subnet, strict=False)
        except ValueError:
            continue
        for r in ranges:
            try:
                other = ipaddress.ip_network(r, strict=False)
            except ValueError:
                continue
            if net.version == other.version and net.overlaps(other):
                return r
    return ""


@_fact(Mount, "host_path_style", str,
       "windows, host_mnt (Hyper-V era /host_mnt/c/), desktop_mnt (/run/desktop/mnt/host/), unc, linux, or ''.")
def _mount_style(m: Mount, facts: Facts) -> str:
    if m.type != "bind":
        return ""
    for path in (m.desktop_source, m.source):
        if not path:
            continue
        if re.match(r"^[A-Za-z]:[\\/]", path):
            return "windows"
        if path.startswith(("\\\\", "//")):
            return "unc"
        if re.match(r"^/host_mnt/[A-Za-z]/", path) or re.match(r"^/[A-Za-z]/", path):
            return "host_mnt"
        if path.startswith("/run/desktop/mnt/host/"):
            return "desktop_mnt"
        if path.startswith("/"):
            return "linux"
    return ""


# ---------------------------------------------------------------------------------------------------
# Host


@_fact(HostFacts, "is_server", bool, "A Windows Server edition.")
def _host_server(h: HostFacts, facts: Facts) -> bool:
    return bool(h.server) or "server" in h.edition_id.lower() or "server" in h.edition.lower()


@_fact(HostFacts, "is_windows11", bool | None, "build >= 22000; null when the build is unknown.")
def _host_win11(h: HostFacts, facts: Facts) -> bool | None:
    return None if h.build is None else h.build >= 22000


@_fact(HostFacts, "desktop_min_build", int | None,
       "Build current Docker Desktop needs: 22631 (Win 11), 19045 (Win 10).")
def _host_min_build(h: HostFacts, facts: Facts) -> int | None:
    if h.build is None:
        return None
    return 22631 if h.build >= 22000 else 19045


@_fact(HostFacts, "edition_family", str, "home, pro, enterprise, education, server, or '' (EditionID, else caption).")
def _host_family(h: HostFacts, facts: Facts) -> str:
    return edition_family(h.edition_id, h.edition)


@_fact(HostFacts, "desktop_wsl2_min_build", int,
       "Build Docker Desktop's WSL 2 backend needs on this edition: 19041 (Home, Pro, unknown), 18362 (Enterprise, "
       "Education).")
def _host_wsl2_build(h: HostFacts, facts: Facts) -> int:
    return desktop_wsl2_floor(facts.get(h, "edition_family"))[0]


@_fact(HostFacts, "inbox_wsl", bool | None, "WSL installed but reporting no version: the inbox WSL; null if unknown.")
def _host_inbox(h: HostFacts, facts: Facts) -> bool | None:
    return None if h.wsl_installed is None else bool(h.wsl_installed and not h.wsl_version)


@_fact(HostFacts, "wsl_described", str, "The WSL version, 'the inbox WSL (no version)', or '' (not installed).")
def _host_wsl_described(h: HostFacts, facts: Facts) -> str:
    if h.wsl_version:
        return h.wsl_version
    return "the inbox WSL (no version)" if h.wsl_installed else ""


_VM_MODELS = re.compile(r"(?i)virtual machine|vmware|virtualbox|\bkvm\b|qemu|standard pc \(|hvm domu|\bxen\b|"
                        r"parallels|google compute engine|amazon ec2|openstack|bochs|cloud pc")
"""Win32_ComputerSystem Model / Manufacturer of hypervisors' virtual machines (Hyper-V and Azure 'Virtual Machine',
'VMware7,1', 'VirtualBox', QEMU/KVM 'Standard PC (Q35 + ICH9, 2009)', Xen 'HVM domU', Windows 365 'Cloud PC')."""


@_fact(HostFacts, "is_vm", bool | None, "Manufacturer or model names a virtual machine; null when neither is known.")
def _host_vm(h: HostFacts, facts: Facts) -> bool | None:
    if not (h.manufacturer or h.model):
        return None
    return bool(_VM_MODELS.search(f"{h.manufacturer} {h.model}"))


@_fact(HostFacts, "nested_virtualization", bool | None,
       "In a VM: virtualization reaches this Windows (a hypervisor runs, or the CPU or firmware flag shows it); "
       "false when all three say no; null otherwise.")
def _host_nested(h: HostFacts, facts: Facts) -> bool | None:
    flags = (h.hypervisor_present, h.vm_monitor_mode_extensions, h.virtualization_firmware_enabled)
    if any(f is True for f in flags):
        return True
    return False if all(f is False for f in flags) else None


_VPN = re.compile(r"(?i)anyconnect|globalprotect|pangp|fortinet|forticlient|juniper|pulse secure|ivanti|zscaler|"
                  r"wireguard|openvpn|tap-windows|check ?point|sonicwall|netextender|nordlynx|wintun|f5 (vpn|networks)|"
                  r"array networks|cisco.*vpn|\bvpn\b")
"""Adapter descriptions (and names) of VPN clients known to disturb WSL 2 networking (routes, DNS, MTU)."""


@_fact(HostFacts, "vpn_adapters", tuple[str, ...], "Adapters whose name or description is a VPN client's.")
def _host_vpn(h: HostFacts, facts: Facts) -> tuple[str, ...]:
    return tuple(f"{a.name} ({a.description})" if a.description else a.name for a in h.network_adapters
                 if _VPN.search(f"{a.name} {a.description}"))


# ---------------------------------------------------------------------------------------------------
# Docker Desktop's admin settings


def _flatten_admin(values: dict[str, Any]) -> dict[str, Any]:
    """{key or parent.key: {locked, value}} of admin-settings.json, the older top-level wslEngineEnabled spelled as
    the newer linuxVM.wslEngineEnabled."""
    out: dict[str, Any] = {}
    for key, item in values.items():
        if not isinstance(item, dict):
            continue
        if "locked" in item or "value" in item:
            out["linuxVM.wslEngineEnabled" if key == "wslEngineEnabled" else key] = item
        else:
            for sub, inner in item.items():
                if isinstance(inner, dict) and ("locked" in inner or "value" in inner):
                    out.setdefault(f"{key}.{sub}", inner)
    return out


@_fact(Settings, "admin_values", dict[str, Any],
       "admin-settings.json's value of every setting, locked or not ('linuxVM.wslEngineEnabled', 'blockDockerLoad').")
def _admin_values(st: Settings, facts: Facts) -> dict[str, Any]:
    values = st.admin_settings.values if st.admin_settings is not None else {}
    return {k: v.get("value") for k, v in sorted(_flatten_admin(values).items()) if "value" in v}


@_fact(Settings, "admin_locked", dict[str, Any], "The values admin-settings.json locks (locked: true).")
def _admin_locked(st: Settings, facts: Facts) -> dict[str, Any]:
    values = st.admin_settings.values if st.admin_settings is not None else {}
    return {k: v.get("value") for k, v in sorted(_flatten_admin(values).items()) if v.get("locked") is True}


@_fact(Settings, "admin_blocks_switch", tuple[str, ...],
       "Locked settings that keep Docker Desktop off the WSL 2 Linux engine, as 'key = value'.")
def _admin_blocks(st: Settings, facts: Facts) -> tuple[str, ...]:
    locked = facts.get(st, "admin_locked")
    out = []
    if "linuxVM.wslEngineEnabled" in locked and locked["linuxVM.wslEngineEnabled"] is not True:
        out.append(f"linuxVM.wslEngineEnabled = {str(locked['linuxVM.wslEngineEnabled']).lower()}")
    if locked.get("useWindowsContainers") is True:
        out.append("useWindowsContainers = true")
    return tuple(out)


# ---------------------------------------------------------------------------------------------------
# Inventory-wide


@_fact(Inventory, "lcow_in_use", bool,
       "Backend lcow, an lcow storage driver, or Linux images/containers on a Windows engine.")
def _lcow(inv: Inventory, facts: Facts) -> bool:
    if inv.backend.kind == "lcow":
        return True
    eng = inv.engine
    if eng is None:
        return False
    if "lcow" in eng.storage_driver.lower() or any("lcow" in f"{k} {v}".lower() for k, v in eng.driver_status):
        return True
    if eng.os_type.lower() == "windows":
        return any(i.os.lower() == "linux" for i in inv.images) or any(
            c.platform.lower() == "linux" for c in inv.containers)
    return False


@_fact(Inventory, "experimental_only_for_lcow", bool,
       "LCOW in use, the Windows engine runs experimental, and the Linux daemon.json does not ask for it.")
def _experimental_lcow(inv: Inventory, facts: Facts) -> bool:
    if not facts.get(inv, "lcow_in_use"):
        return False
    win = inv.settings.daemon_windows
    on = (win is not None and win.values.get("experimental") is True) or (
        inv.engine is not None and inv.engine.os_type.lower() == "windows" and inv.engine.experimental is True)
    lin = inv.settings.daemon_linux
    return on and not (lin is not None and lin.values.get("experimental") is True)


@_fact(Inventory, "mixed_os_containers", bool, "One daemon holds both Linux and Windows containers.")
def _mixed(inv: Inventory, facts: Facts) -> bool:
    oses = {facts.get(c, "os") for c in inv.containers}
    return {"linux", "windows"} <= oses


@_fact(Inventory, "hyperv_engine", str,
       "The LCOW host's second engine (Docker Desktop's Linux engine in the Hyper-V VM): 'read' when its objects were "
       "read and it holds any, 'not read' when only its VM is known, '' otherwise.")
def _hyperv_engine(inv: Inventory, facts: Facts) -> str:
    he = inv.hyperv_engine
    if he is None:
        return ""
    if not he.read:
        return "not read"
    return "read" if he.images or he.containers or he.volumes else ""


@_fact(Inventory, "hyperv_engine_holds", str,
       "What the second engine holds, in words: counts of images (Kubernetes ones apart), containers, volumes.")
def _hyperv_holds(inv: Inventory, facts: Facts) -> str:
    he = inv.hyperv_engine
    if he is None or not he.read:
        return ""
    k8s = sum(1 for i in he.images if any(_K8S_TAG.search(t) for t in i.tags))
    parts = [f"{len(he.images) - k8s} image(s)" + (f" and {k8s} Kubernetes image(s)" if k8s else ""),
             f"{len(he.containers)} container(s) ({sum(1 for c in he.containers if c.running)} running)",
             f"{len(he.volumes)} volume(s)"]
    return ", ".join(parts)


@_fact(Inventory, "hyperv_engine_vm", str, "The Hyper-V VM of the second engine and its state, as the host facts "
       "give them ('DockerDesktopVM (Off)'), else 'the Hyper-V VM'.")
def _hyperv_vm(inv: Inventory, facts: Facts) -> str:
    he = inv.hyperv_engine
    if he is None or not he.vm:
        return "the Hyper-V VM"
    return he.vm + (f" ({he.vm_state})" if he.vm_state else "")


@_fact(Inventory, "windows_images", int, "How many Windows images the engine holds (they stay with its engine).")
def _windows_images(inv: Inventory, facts: Facts) -> int:
    return sum(1 for img in inv.images if facts.get(img, "os") == "windows")


@_fact(Inventory, "desktop_version", str,
       "Docker Desktop version: settings, else host facts, else docker info PlatformName.")
def _desktop_version(inv: Inventory, facts: Facts) -> str:
    desk = inv.settings.desktop
    if desk is not None and desk.desktop_version:
        return desk.desktop_version
    if inv.host is not None and inv.host.desktop_version:
        return inv.host.desktop_version
    if inv.engine is not None:
        m = re.search(r"Docker Desktop\s+(\d+(?:\.\d+)+)", inv.engine.platform_name)
        if m:
            return m.group(1)
    return ""


@_fact(Inventory, "desktop_subnet", str, "Docker Desktop's VM network: settings vpnkitcidr, default 192.168.65.0/24.")
def _desktop_subnet(inv: Inventory, facts: Facts) -> str:
    desk = inv.settings.desktop
    value = desk.values.get("vpnkitcidr") if desk is not None else None
    return value if isinstance(value, str) and value else DEFAULT_DESKTOP_SUBNET


def planned_wsl_data_dir(inv: Inventory) -> str:
    """Docker Desktop's WSL data folder after the switch (customWslDistroDir): the one it is set to, else a `wsl`
    folder beside a Hyper-V dataFolder on another drive than C: (the plan sets it, so the new disk lands where the
    old one is); '' for Desktop's default, %LOCALAPPDATA%\\Docker\\wsl."""
    desk = inv.settings.desktop
    if desk is not None and desk.custom_wsl_distro_dir:
        return desk.custom_wsl_distro_dir
    if desk is None or inv.backend.kind != "hyperv":
        return ""
    folder = desk.data_folder.strip().rstrip("\\/")
    if not re.match(r"^[A-Za-z]:", folder) or drive_letter(folder) == "C":
        return ""
    parent = folder.rsplit("\\", 1)[0] if "\\" in folder else folder
    return parent + "\\wsl"


@_fact(Inventory, "wsl_data_dir", str,
       "The WSL data folder the plan sets (customWslDistroDir) beside a dataFolder on another drive; '' if none.")
def _wsl_data_dir(inv: Inventory, facts: Facts) -> str:
    return planned_wsl_data_dir(inv)


def _estimate(facts: Facts) -> Estimate | None:
    return facts.estimate


@_fact(Inventory, "bytes_to_export", int | None,
       "Bytes the backups write (the plan's estimate, known sizes): image archives, volume copies, commits.")
def _bytes_to_export(inv: Inventory, facts: Facts) -> int | None:
    est = _estimate(facts)
    return est.backup_bytes if est is not None else None


@_fact(Inventory, "bytes_to_pull", int | None, "Bytes the plan pulls again by digest on the new engine.")
def _bytes_to_pull(inv: Inventory, facts: Facts) -> int | None:
    est = _estimate(facts)
    return est.pull_bytes if est is not None else None


@_fact(Inventory, "wsl_disk_bytes", int | None, "Bytes the new WSL disk grows by (the plan's estimate, known sizes).")
def _wsl_disk_bytes(inv: Inventory, facts: Facts) -> int | None:
    est = _estimate(facts)
    return est.wsl_disk_bytes if est is not None else None


@_fact(Inventory, "backup_drive", str, "Drive letter of the plan's backup folder (C unless C: is short of room).")
def _backup_drive(inv: Inventory, facts: Facts) -> str:
    est = _estimate(facts)
    return (folder_drive(est.backup_folder) if est is not None else "") or drive_letter(facts.backup_dir) or "C"


def _free_on(inv: Inventory, letter: str) -> int | None:
    if inv.host is None:
        return None
    for d in inv.host.drives:
        if d.name.strip().rstrip("\\:").upper() == letter:
            return d.free_bytes
    return None


@_fact(Inventory, "backup_drive_free_bytes", int | None, "Free bytes on the backup drive, from the host facts.")
def _backup_free(inv: Inventory, facts: Facts) -> int | None:
    return _free_on(inv, facts.get(inv, "backup_drive"))


@_fact(Inventory, "wsl_disk_drive", str, "Drive letter of the new WSL disk (Docker Desktop's WSL data folder).")
def _wsl_disk_drive(inv: Inventory, facts: Facts) -> str:
    est = _estimate(facts)
    return folder_drive(est.wsl_disk_folder if est is not None else planned_wsl_data_dir(inv) or WSL_DEFAULT_FOLDER)


@_fact(Inventory, "free_space_short", str,
       "The drives too small for the backups and the new WSL disk (summed per drive), in words; '' when none is.")
def _free_space_short(inv: Inventory, facts: Facts) -> str:
    est = _estimate(facts)
    if est is None or inv.host is None:
        return ""
    return shortfall_text(drive_needs(est, inv.host.drives))


def _planned_memory(inv: Inventory) -> tuple[int | None, str]:
    wsl = inv.settings.wslconfig
    section = wsl.values.get("wsl2") if wsl is not None else None
    if isinstance(section, dict) and "memory" in section:
        size = parse_size(section["memory"])
        if size:
            return size, "wslconfig"
    desk = inv.settings.desktop
    if desk is not None and desk.memory_mib:
        return desk.memory_mib * MIB, "desktop-settings"
    if inv.host is not None and inv.host.memory_bytes:
        return inv.host.memory_bytes // 2, "host-memory"
    return None, ""


@_fact(Inventory, "planned_wsl2_memory_bytes", int | None,
       ".wslconfig [wsl2] memory, else Docker Desktop memoryMiB, else 50% of host RAM.")
def _planned_mem(inv: Inventory, facts: Facts) -> int | None:
    return _planned_memory(inv)[0]


@_fact(Inventory, "planned_wsl2_memory_source", str, "wslconfig, desktop-settings, host-memory or ''.")
def _planned_mem_source(inv: Inventory, facts: Facts) -> str:
    return _planned_memory(inv)[1]


# ---------------------------------------------------------------------------------------------------
# Engine configuration and what was not read

_LOOPBACK_CIDRS = ("127.0.0.0/8", "::1/128")


def _daemon_list(cfg: ConfigFile | None, key: str) -> list[str]:
    value = cfg.values.get(key) if cfg is not None else None
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


@_fact(Settings, "open_tcp_listeners", tuple[str, ...],
       "`file: host` for each daemon.json hosts entry listening on every interface without TLS client checks.")
def _open_tcp(s: Settings, facts: Facts) -> tuple[str, ...]:
    out = []
    for cfg in (s.daemon_linux, s.daemon_windows):
        if cfg is None or cfg.values.get("tlsverify") is True:
            continue
        for host in _daemon_list(cfg, "hosts"):
            m = re.fullmatch(r"(?i)tcp://(0\.0\.0\.0|\[::\]|::|)(?::(\d+))?/?", host.strip())
            if m:
                out.append(f"{cfg.file or 'daemon.json'}: {host}")
    return tuple(out)


@_fact(Settings, "wslconfig_read", bool,
       "The user's .wslconfig was read, or a collector bundle read the user's profile and it has none (the "
       "collector copies it when it exists and records an error when it could not look).")
def _wslconfig_read(s: Settings, facts: Facts) -> bool:
    if s.wslconfig is not None:
        return True
    inv = facts.inv
    if not any(src.kind == "bundle" for src in inv.sources):
        return False  # a paste or single files: nobody looked at the profile
    return not any(n.area == "bundle" and n.subject.replace("\\", "/").endswith("host/wslconfig") for n in inv.notes)


@_fact(Inventory, "insecure_registries", tuple[str, ...],
       "Insecure registries of the engine (docker info) and of the Linux engine's daemon.json, loopback left out.")
def _insecure(inv: Inventory, facts: Facts) -> tuple[str, ...]:
    found = list(inv.engine.insecure_registries) if inv.engine is not None else []
    found += _daemon_list(inv.settings.daemon_linux, "insecure-registries")
    return tuple(dict.fromkeys(r for r in found if r not in _LOOPBACK_CIDRS))


@_fact(Inventory, "linux_daemon_experimental", str,
       "What the Linux engine's daemon.json says about experimental, in words for messages.")
def _linux_experimental(inv: Inventory, facts: Facts) -> str:
    lin = inv.settings.daemon_linux
    if lin is None:
        return "was not given, so whether the Linux engine asks for them is not known"
    if lin.values.get("experimental") is True:
        return "asks for them too"
    return "does not ask for them"


@_fact(Engine, "unread_images", int, "Images the engine reports (docker info) beyond those the scan read.")
def _unread_images(e: Engine, facts: Facts) -> int:
    n = e.reported.images
    return max(0, n - len(facts.inv.images)) if n is not None else 0


@_fact(Engine, "unread_containers", int, "Containers the engine reports beyond those the scan read.")
def _unread_containers(e: Engine, facts: Facts) -> int:
    n = e.reported.containers
    return max(0, n - len(facts.inv.containers)) if n is not None else 0


@_fact(FileFact, "windows_only_file", bool,
       "The file names Windows images (or --platform windows) and never asks for Linux: Windows containers only.")
def _windows_only_file(f: FileFact, facts: Facts) -> bool:
    kinds = facts.file_kinds(f.file)
    return "windows" in kinds and "linux" not in kinds


@_fact(FileFact, "file_has_windows", bool, "The file names a Windows image or asks for --platform windows.")
def _file_has_windows(f: FileFact, facts: Facts) -> bool:
    return "windows" in facts.file_kinds(f.file)


@_fact(FileFact, "windows_advice", str, "What to do with a Windows image or service line, in words for messages.")
def _windows_advice(f: FileFact, facts: Facts) -> str:
    if "linux" in facts.file_kinds(f.file):
        what = "service" if f.file_kind == "compose" else "command"
        return (f"this file also asks for Linux: split it, the Windows {what} stays on the Windows engine and "
                "the Linux ones move to WSL 2")
    return "this command or service must run on the Windows engine"
