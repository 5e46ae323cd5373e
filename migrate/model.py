"""The inventory: frozen values that every later stage (assess, plan, verify) reads, and their JSON codec."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing
from dataclasses import dataclass, field
from collections.abc import Iterator
from typing import Any, Union

from migrate.errors import InputError

SCHEMA = "wsl2-migrate/inventory/1"

BACKENDS = ("hyperv", "lcow", "wsl2", "windows", "linux", "unknown")

JSON = Any  # a JSON value as json.loads returns it


@dataclass(frozen=True, slots=True)
class Source:
    """Where part of the inventory came from."""

    kind: str
    """engine, engine-hyperv (the LCOW host's second engine), bundle, engine-info, settings, daemon-config, wslconfig,
    host-facts, project, windows-defaults."""
    ref: str
    """The engine URL, file or directory."""


@dataclass(frozen=True, slots=True)
class Note:
    """Something the scan could not read, and why; the assessment reports these as blind spots."""

    area: str
    """engine, images, containers, volumes, networks, settings, host, files, bundle, identity."""
    subject: str
    """The object, file or host concerned."""
    message: str
    """What happened, in one line."""


@dataclass(frozen=True, slots=True)
class Backend:
    """The backend the engine runs on, and the evidence that decided it."""

    kind: str = "unknown"
    """One of BACKENDS."""
    evidence: dict[str, JSON] = field(default_factory=dict)
    """os_type, operating_system, kernel_version, storage_driver, experimental, server_version, platform_name, name,
    settings_wsl_engine_enabled."""
    reasons: tuple[str, ...] = ()
    """Human-readable reasons, in the order they were applied."""


@dataclass(frozen=True, slots=True)
class Reported:
    """What the engine says about itself in `docker info` / `docker version`: counts of objects (which the scan may
    not have read, as from a pasted capture) and host facts; None or empty when the capture does not say."""

    images: int | None = None
    containers: int | None = None
    containers_running: int | None = None
    containers_paused: int | None = None
    containers_stopped: int | None = None
    windows_build: int | None = None
    """A Windows engine's host build, from its kernel version (10.0 17763 (...)) or operating system."""
    windows_edition: str = ""
    """A Windows engine's host operating system, as in 'Windows Server 2019 Datacenter' or 'Windows 10 Pro'."""
    kubernetes_version: str = ""
    """The Kubernetes component `docker version` lists (Docker Desktop with Kubernetes on, CLI 18.x/19.03)."""
    client_os: str = ""
    """Where the docker CLI that made the capture ran (`docker version` Client OS/Arch): windows, linux, darwin."""


@dataclass(frozen=True, slots=True)
class Engine:
    """Facts about the engine itself, from /info and /version."""

    reachable: bool = False
    """Whether the scan talked to a live engine or read its captured output."""
    server_version: str = ""
    api_version: str = ""
    os_type: str = ""
    operating_system: str = ""
    kernel_version: str = ""
    architecture: str = ""
    name: str = ""
    docker_root_dir: str = ""
    storage_driver: str = ""
    driver_status: tuple[tuple[str, str], ...] = ()
    experimental: bool | None = None
    """None when the capture does not say (a truncated paste)."""
    ncpu: int = 0
    mem_total: int = 0
    registry_mirrors: tuple[str, ...] = ()
    insecure_registries: tuple[str, ...] = ()
    plugins: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Plugin kinds (Volume, Network, Log, Authorization) to names, as /info lists them."""
    swarm_state: str = ""
    default_runtime: str = ""
    runtimes: tuple[str, ...] = ()
    platform_name: str = ""
    http_proxy: str = ""
    https_proxy: str = ""
    no_proxy: str = ""
    labels: tuple[str, ...] = ()
    security_options: tuple[str, ...] = ()
    reported: Reported = field(default_factory=Reported)
    """Counts and host facts the engine reported about itself."""


@dataclass(frozen=True, slots=True)
class Image:
    """One image in the engine's store."""

    id: str
    tags: tuple[str, ...] = ()
    repo_digests: tuple[str, ...] = ()
    os: str = ""
    architecture: str = ""
    variant: str = ""
    size: int = 0
    created: str = ""
    layers: tuple[str, ...] = ()
    """RootFS diff ids, base first."""
    labels: dict[str, str] = field(default_factory=dict)
    dangling: bool = False
    parent: str = ""
    containers: tuple[str, ...] = ()
    """Names of the containers created from this image."""
    config: dict[str, JSON] = field(default_factory=dict)
    """The image's own defaults (Env, Cmd, Entrypoint, User, WorkingDir, ExposedPorts, Volumes, Healthcheck,
    StopSignal, Labels): what a re-creation must not emit as overrides."""


@dataclass(frozen=True, slots=True)
class Mount:
    """One mount of a container, merged from Mounts and HostConfig.Binds/Mounts."""

    type: str
    """bind, volume, tmpfs, npipe."""
    source: str
    """The host path (binds) or the volume's mountpoint (volumes), as the engine reports it."""
    destination: str
    mode: str = ""
    read_only: bool = False
    propagation: str = ""
    name: str = ""
    """The volume name, for volume mounts."""
    driver: str = ""
    anonymous: bool = False
    """A volume the engine named itself (64 hex characters)."""
    spec: str = ""
    """The entry of HostConfig.Binds this mount came from, verbatim, when there is one."""
    desktop_source: str = ""
    """The path as the user typed it, from Docker Desktop's desktop.docker.io/binds labels, when present."""
    # Options of HostConfig.Mounts entries (`--mount`); the runtime Mounts list does not repeat them.
    nocopy: bool = False
    """Volumes: do not copy the image's files at the destination into a new volume (VolumeOptions.NoCopy, or the
    nocopy mode of a -v entry)."""
    volume_options: dict[str, str] = field(default_factory=dict)
    """Volumes: driver options for a volume the mount creates (VolumeOptions.DriverConfig.Options)."""
    volume_labels: dict[str, str] = field(default_factory=dict)
    """Volumes: labels for a volume the mount creates (VolumeOptions.Labels)."""
    subpath: str = ""
    """Volumes: the path inside the volume that is mounted (VolumeOptions.Subpath, API 1.45+)."""
    tmpfs_size: int = 0
    """Tmpfs: size in bytes (TmpfsOptions.SizeBytes); 0 when unlimited."""
    tmpfs_mode: int = 0
    """Tmpfs: permission bits as a number (TmpfsOptions.Mode: octal 1770 is 1016); 0 when not set."""
    tmpfs_options: tuple[str, ...] = ()
    """Tmpfs: extra mount options as 'key' or 'key=value' (TmpfsOptions.Options, API 1.46+)."""
    non_recursive: bool = False
    """Binds: submounts of the source are not mounted (BindOptions.NonRecursive)."""
    readonly_non_recursive: bool = False
    """Binds: read-only, but submounts stay writable (BindOptions.ReadOnlyNonRecursive, API 1.44+)."""
    readonly_force_recursive: bool = False
    """Binds: fail unless the mount can be made read-only recursively (BindOptions.ReadOnlyForceRecursive)."""
    create_mountpoint: bool = False
    """Binds: the engine creates a missing source directory (BindOptions.CreateMountpoint, API 1.42+)."""


@dataclass(frozen=True, slots=True)
class PortBinding:
    """A published port."""

    container_port: str
    """Port and protocol, as in '80/tcp'."""
    host_ip: str = ""
    host_port: str = ""


@dataclass(frozen=True, slots=True)
class Attachment:
    """A container's endpoint on one network."""

    network: str
    network_id: str = ""
    aliases: tuple[str, ...] = ()
    """User-given aliases (the container's short id, which the engine adds itself, is left out)."""
    ipv4_address: str = ""
    """Static IPv4 address requested at creation (IPAMConfig), empty when the engine chose it."""
    ipv6_address: str = ""
    link_local_ips: tuple[str, ...] = ()
    mac_address: str = ""
    """The MAC address asked for at creation; empty when the engine generated it."""
    ip_address: str = ""
    """The address the endpoint has now, for information."""
    links: tuple[str, ...] = ()
    driver_opts: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Compose:
    """What the compose labels say about a compose-managed container."""

    project: str = ""
    service: str = ""
    working_dir: str = ""
    config_files: tuple[str, ...] = ()
    environment_file: str = ""
    depends_on: tuple[str, ...] = ()
    """Service names from com.docker.compose.depends_on (condition and restart flags dropped)."""
    oneoff: bool = False
    container_number: str = ""


@dataclass(frozen=True, slots=True)
class Container:
    """One container and every setting a faithful re-creation needs."""

    id: str
    name: str
    image: str
    """The image reference the container was created from, as given (Config.Image)."""
    image_id: str = ""
    state: str = ""
    """created, running, paused, restarting, exited, dead."""
    running: bool = False
    exit_code: int = 0
    created: str = ""
    platform: str = ""
    driver: str = ""
    # Config
    env: tuple[str, ...] = ()
    """KEY=VALUE entries, in engine order. Secret: never shown in reports."""
    cmd: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    user: str = ""
    working_dir: str = ""
    hostname: str = ""
    domainname: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    exposed_ports: tuple[str, ...] = ()
    healthcheck: dict[str, JSON] | None = None
    stop_signal: str = ""
    stop_timeout: int | None = None
    tty: bool = False
    open_stdin: bool = False
    stdin_once: bool = False
    attach_stdin: bool = False
    attach_stdout: bool = False
    attach_stderr: bool = False
    mac_address: str = ""
    network_disabled: bool = False
    shell: tuple[str, ...] | None = None
    onbuild: tuple[str, ...] = ()
    config_volumes: tuple[str, ...] = ()
    """Config.Volumes: the anonymous volume destinations declared at creation or by the image."""
    # HostConfig
    binds: tuple[str, ...] = ()
    mounts: tuple[Mount, ...] = ()
    port_bindings: tuple[PortBinding, ...] = ()
    publish_all_ports: bool = False
    restart_policy: str = ""
    restart_max_retries: int = 0
    auto_remove: bool = False
    network_mode: str = ""
    volumes_from: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    """Links as the engine stores them: /target:/container/alias."""
    cap_add: tuple[str, ...] = ()
    cap_drop: tuple[str, ...] = ()
    privileged: bool = False
    devices: tuple[dict[str, str], ...] = ()
    device_cgroup_rules: tuple[str, ...] = ()
    device_requests: tuple[dict[str, JSON], ...] = ()
    security_opt: tuple[str, ...] = ()
    ulimits: tuple[dict[str, JSON], ...] = ()
    log_driver: str = ""
    log_opts: dict[str, str] = field(default_factory=dict)
    extra_hosts: tuple[str, ...] = ()
    dns: tuple[str, ...] = ()
    dns_search: tuple[str, ...] = ()
    dns_options: tuple[str, ...] = ()
    memory: int = 0
    memory_swap: int = 0
    memory_reservation: int = 0
    memory_swappiness: int | None = None
    kernel_memory: int = 0
    nano_cpus: int = 0
    cpu_shares: int = 0
    cpu_period: int = 0
    cpu_quota: int = 0
    cpu_realtime_period: int = 0
    cpu_realtime_runtime: int = 0
    cpuset_cpus: str = ""
    cpuset_mems: str = ""
    blkio_weight: int = 0
    blkio_weight_device: tuple[dict[str, JSON], ...] = ()
    """HostConfig.BlkioWeightDevice entries: {"Path": "/dev/sda", "Weight": 100}."""
    blkio_device_read_bps: tuple[dict[str, JSON], ...] = ()
    """HostConfig.BlkioDeviceReadBps entries: {"Path": "/dev/sda", "Rate": 1048576}; the same form for the other
    three limits."""
    blkio_device_write_bps: tuple[dict[str, JSON], ...] = ()
    blkio_device_read_iops: tuple[dict[str, JSON], ...] = ()
    blkio_device_write_iops: tuple[dict[str, JSON], ...] = ()
    pids_limit: int | None = None
    oom_kill_disable: bool | None = None
    oom_score_adj: int = 0
    tmpfs: dict[str, str] = field(default_factory=dict)
    shm_size: int = 0
    init: bool | None = None
    readonly_rootfs: bool = False
    runtime: str = ""
    isolation: str = ""
    pid_mode: str = ""
    ipc_mode: str = ""
    uts_mode: str = ""
    userns_mode: str = ""
    cgroupns_mode: str = ""
    cgroup_parent: str = ""
    sysctls: dict[str, str] = field(default_factory=dict)
    group_add: tuple[str, ...] = ()
    storage_opt: dict[str, str] = field(default_factory=dict)
    masked_paths: tuple[str, ...] | None = None
    readonly_paths: tuple[str, ...] | None = None
    console_size: tuple[int, ...] = ()
    volume_driver: str = ""
    """HostConfig.VolumeDriver: the driver for volumes that -v entries create."""
    annotations: dict[str, str] = field(default_factory=dict)
    """HostConfig.Annotations (API 1.43+), passed to the OCI runtime."""
    cgroup: str = ""
    """HostConfig.Cgroup: another container's cgroup to join (container:<id>); docker create has no flag for it."""
    kernel_memory_tcp: int = 0
    """HostConfig.KernelMemoryTCP: deprecated, and docker create has no flag for it."""
    # Networking and state
    networks: tuple[Attachment, ...] = ()
    size_rw: int | None = None
    """Bytes written into the container's writable layer; None when the engine did not report it."""
    size_root_fs: int | None = None
    compose: Compose | None = None
    kubernetes: bool = False
    """Managed by Docker Desktop's Kubernetes (io.kubernetes.* labels or k8s_ names)."""
    depends_on: tuple[str, ...] = ()
    """Names of containers this one needs first: container: network/pid/ipc modes, volumes-from, links."""


CARRIED_FIELDS: tuple[str, ...] = (
    "name", "image_id", "platform", "env", "cmd", "entrypoint", "user", "working_dir", "hostname", "domainname",
    "labels", "exposed_ports", "healthcheck", "stop_signal", "stop_timeout", "tty", "open_stdin", "mac_address",
    "binds", "mounts", "port_bindings", "publish_all_ports", "restart_policy", "restart_max_retries", "auto_remove",
    "network_mode", "volumes_from", "links", "cap_add", "cap_drop", "privileged", "devices", "device_cgroup_rules",
    "device_requests", "security_opt", "ulimits", "log_driver", "log_opts", "extra_hosts", "dns", "dns_search",
    "dns_options", "memory", "memory_swap", "memory_reservation", "memory_swappiness", "nano_cpus", "cpu_shares",
    "cpu_period", "cpu_quota", "cpu_realtime_period", "cpu_realtime_runtime", "cpuset_cpus", "cpuset_mems",
    "blkio_weight", "pids_limit", "oom_kill_disable", "oom_score_adj", "tmpfs", "shm_size", "init",
    "readonly_rootfs", "runtime", "isolation", "pid_mode", "ipc_mode", "uts_mode", "userns_mode", "cgroupns_mode",
    "cgroup_parent", "sysctls", "group_add", "storage_opt", "networks", "blkio_weight_device",
    "blkio_device_read_bps", "blkio_device_write_bps", "blkio_device_read_iops", "blkio_device_write_iops",
    "volume_driver", "annotations",
)
"""Container fields a re-created container has equal to the original: migrate.plan.recreate's arguments carry
them, migrate.verify.compare compares them (`not_carried` names a container's exceptions). `image` is left out:
it is whatever image_ref the caller chose (the image id is what must match)."""


@dataclass(frozen=True, slots=True)
class Volume:
    """One volume."""

    name: str
    driver: str = "local"
    mountpoint: str = ""
    options: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    scope: str = "local"
    created: str = ""
    size: int | None = None
    """Bytes, from /system/df; None when unknown."""
    ref_count: int | None = None
    anonymous: bool = False
    users: tuple[str, ...] = ()
    """Names of the containers that mount it."""
    bind_source: str = ""
    """For a local volume with o=bind: the host directory it points at."""
    digest: str = ""
    """Content digest (scan --volume-digests), empty when not computed."""


@dataclass(frozen=True, slots=True)
class IpamConfig:
    """One IPAM pool of a network."""

    subnet: str = ""
    gateway: str = ""
    ip_range: str = ""
    aux_addresses: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Network:
    """One network."""

    name: str
    id: str = ""
    driver: str = ""
    scope: str = ""
    internal: bool = False
    attachable: bool = False
    ingress: bool = False
    enable_ipv6: bool = False
    ipam_driver: str = ""
    ipam_options: dict[str, str] = field(default_factory=dict)
    ipam: tuple[IpamConfig, ...] = ()
    options: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    builtin: bool = False
    """One of the networks the engine creates itself (bridge, host, none, nat, ...)."""
    config_from: str = ""
    config_only: bool = False
    containers: tuple[str, ...] = ()
    """Names of the attached containers."""


@dataclass(frozen=True, slots=True)
class DesktopSettings:
    """Docker Desktop's settings file, read case-insensitively."""

    file: str = ""
    """The file the values came from (the live one)."""
    format: str = ""
    """settings.json (4.34 and earlier) or settings-store.json (4.35 and later)."""
    values: dict[str, JSON] = field(default_factory=dict)
    """Every key, lower-cased, with its value as written."""
    stale_file: str = ""
    """A settings.json left beside a live settings-store.json, which Docker Desktop no longer reads."""
    stale_differs: tuple[str, ...] = ()
    """Lower-cased keys whose value differs between the stale and the live file."""
    # Typed views of the keys that matter for the migration (None when absent).
    wsl_engine_enabled: bool | None = None
    use_windows_containers: bool | None = None
    kubernetes_enabled: bool | None = None
    memory_mib: int | None = None
    cpus: int | None = None
    swap_mib: int | None = None
    disk_size_mib: int | None = None
    data_folder: str = ""
    custom_wsl_distro_dir: str = ""
    expose_tcp_2375: bool | None = None
    proxy_http_mode: str = ""
    proxy_http: str = ""
    proxy_https: str = ""
    proxy_exclude: str = ""
    file_sharing: tuple[str, ...] = ()
    """Shared directories or drives of the Hyper-V file sharing setting."""
    settings_version: int | None = None
    desktop_version: str = ""
    credential_helper: str = ""


@dataclass(frozen=True, slots=True)
class ConfigFile:
    """A daemon.json or .wslconfig as read."""

    file: str = ""
    values: dict[str, JSON] = field(default_factory=dict)
    """daemon.json: the JSON object. .wslconfig: section -> key -> value, lower-cased, as WSL reads them."""
    problems: tuple[str, ...] = ()
    """What the consumer would ignore or reject (unknown sections, a UTF-16 .wslconfig, ...)."""
    encoding: str = ""


@dataclass(frozen=True, slots=True)
class Settings:
    """Docker Desktop settings, both engines' daemon configs and .wslconfig."""

    desktop: DesktopSettings | None = None
    daemon_linux: ConfigFile | None = None
    daemon_windows: ConfigFile | None = None
    wslconfig: ConfigFile | None = None
    admin_settings: ConfigFile | None = None
    """C:\\ProgramData\\DockerDesktop\\admin-settings.json (Settings Management: locked values win over the user's)."""


@dataclass(frozen=True, slots=True)
class Drive:
    """A fixed drive of the host."""

    name: str
    free_bytes: int | None = None
    size_bytes: int | None = None
    filesystem: str = ""


@dataclass(frozen=True, slots=True)
class PortRange:
    """TCP ports Windows reserved (`netsh int ipv4 show excludedportrange protocol=tcp`), start and end included."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class NetworkAdapter:
    """A network adapter with a connection (Win32_NetworkAdapter NetConnectionID set)."""

    name: str
    """The connection's name, as in 'Ethernet 2'."""
    description: str = ""
    """The adapter's product, as in 'Cisco AnyConnect Secure Mobility Client Virtual Miniport Adapter'."""


@dataclass(frozen=True, slots=True)
class HostFacts:
    """The Windows host, from one PowerShell call, --host-facts or a bundle."""

    file: str = ""
    computer_name: str = ""
    user: str = ""
    edition: str = ""
    """Caption, as in 'Microsoft Windows 10 Pro'."""
    edition_id: str = ""
    """EditionID from the registry, as in 'Professional', 'ServerStandard', 'Core'."""
    server: bool | None = None
    build: int | None = None
    revision: int | None = None
    """Update build revision (UBR)."""
    display_version: str = ""
    architecture: str = ""
    features: dict[str, str] = field(default_factory=dict)
    """Optional feature name -> Enabled / Disabled / absent."""
    wsl_installed: bool | None = None
    wsl_version: str = ""
    wsl_default_version: int | None = None
    wsl_distros: tuple[dict[str, JSON], ...] = ()
    virtualization_firmware_enabled: bool | None = None
    hypervisor_present: bool | None = None
    memory_bytes: int | None = None
    cpus: int | None = None
    drives: tuple[Drive, ...] = ()
    desktop_version: str = ""
    hyperv_vms: tuple[dict[str, JSON], ...] = ()
    """Docker's Hyper-V VMs (MobyLinuxVM, DockerDesktopVM) with their disk paths."""
    windows_users: int | None = None
    """Local user profiles on the machine (images are per user under WSL2)."""
    manufacturer: str = ""
    model: str = ""
    """Win32_ComputerSystem: 'Virtual Machine' (Hyper-V), 'VMware7,1', 'VirtualBox' ... inside a VM."""
    vm_monitor_mode_extensions: bool | None = None
    """Win32_Processor.VMMonitorModeExtensions: the CPU shows VT-x/AMD-V to this Windows (in a VM: nested
    virtualization is exposed). Reads false while a hypervisor already runs, like the firmware flag."""
    excluded_port_ranges: tuple[PortRange, ...] = ()
    network_adapters: tuple[NetworkAdapter, ...] = ()
    wsl_policies: dict[str, JSON] = field(default_factory=dict)
    """Values under HKLM\\Software\\Policies\\WSL (AllowWSL, AllowInboxWSL, ...; 0 forbids), as stored."""
    desktop_policies: dict[str, JSON] = field(default_factory=dict)
    """Values under HKLM\\SOFTWARE\\Policies\\Docker\\Docker Desktop (allowedOrgs: sign-in is enforced)."""


@dataclass(frozen=True, slots=True)
class FileFact:
    """A migration-relevant line in one of the user's project files."""

    file: str
    line: int
    kind: str
    """platform-flag, platform-key, windows-bind, windows-image, backend-switch, context-switch, hyperv-address,
    hyperv-hostname."""
    text: str
    """The matched part of the line (trimmed to 200 characters)."""
    file_kind: str = ""
    """compose, dockerfile, powershell, cmd, shell, makefile, ci, other."""
    project: str = ""
    """The --project directory it was found under."""


@dataclass(frozen=True, slots=True)
class ProjectFile:
    """A project file the scan read."""

    file: str
    file_kind: str
    project: str = ""


@dataclass(frozen=True, slots=True)
class SecondEngine:
    """The LCOW host's second engine: Docker Desktop's Linux engine in its Hyper-V VM (DockerDesktopVM), left from
    when Desktop ran Linux containers, with its own images, containers, volumes and Kubernetes cluster. Desktop keeps
    it reachable at its own pipe while it runs Windows containers, as long as the VM runs (docs/bundle.md)."""

    read: bool = False
    """Its objects were read (live or from a bundle's engine-hyperv/); False: only the VM is known."""
    url: str = ""
    """Where it answered (npipe:////./pipe/dockerDesktopLinuxEngine, docker_engine_linux before Desktop 4); '' when
    it was not read, or read from a bundle whose collector did not record it."""
    vm: str = ""
    """The Hyper-V VM that holds it, from the host facts ('' when they do not list one)."""
    vm_state: str = ""
    """The VM's state as the host facts give it (Running, Off, ...)."""
    vm_disks: tuple[str, ...] = ()
    """The VM's disk files: the engine's data when it was not read."""
    engine: Engine | None = None
    images: tuple[Image, ...] = ()
    containers: tuple[Container, ...] = ()
    volumes: tuple[Volume, ...] = ()
    networks: tuple[Network, ...] = ()


@dataclass(frozen=True, slots=True)
class SecretValues:
    """How the inventory holds secret values: env values, secret-named labels, log options and settings, URL
    passwords (docs/secrets.md)."""

    mode: str = ""
    """digest: each is a keyed digest (`hmac-sha256:...`); clear: as read (`--with-secrets`); '' in an inventory
    written before digests existed, which holds them as read."""
    key_id: str = ""
    """The id of the key this scan digested with (migrate.secrets.key_id); two scans compare only with one key."""
    env_key_id: str = ""
    """The id of the key the env values were digested with: a collector bundle's own (it digests on the machine it
    runs on), else key_id."""


@dataclass(frozen=True, slots=True)
class Inventory:
    """Everything a migration must carry, from one machine."""

    schema: str = SCHEMA
    tool_version: str = ""
    sources: tuple[Source, ...] = ()
    secrets: SecretValues = field(default_factory=SecretValues)
    backend: Backend = field(default_factory=Backend)
    engine: Engine | None = None
    images: tuple[Image, ...] = ()
    containers: tuple[Container, ...] = ()
    volumes: tuple[Volume, ...] = ()
    networks: tuple[Network, ...] = ()
    settings: Settings = field(default_factory=Settings)
    host: HostFacts | None = None
    project_files: tuple[ProjectFile, ...] = ()
    files: tuple[FileFact, ...] = ()
    notes: tuple[Note, ...] = ()
    hyperv_engine: SecondEngine | None = None
    """The LCOW host's second engine (Docker Desktop's Linux engine in the Hyper-V VM), None when the host has none."""


# ---------------------------------------------------------------------------------------------------
# JSON codec. The JSON form is the stable interface: field names are the dataclass field names.


_SCALARS = (str, int, float, bool, type(None))
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}
"""Each model class's field names, read once (dataclasses.fields per value costs more than the conversion)."""


def _field_names(cls: type) -> tuple[str, ...] | None:
    names = _FIELD_NAMES.get(cls)
    if names is None and dataclasses.is_dataclass(cls):
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def _plain(value: Any, drop: frozenset[str]) -> JSON:
    """to_data, leaving out the dataclass fields named in drop."""
    cls = type(value)
    if cls in _SCALARS:
        return value
    if cls is tuple or cls is list:
        return [_plain(v, drop) for v in value]
    if cls is dict:
        return {str(k): _plain(v, drop) for k, v in value.items()}
    names = _field_names(cls)
    if names is not None:
        return {n: _plain(getattr(value, n), drop) for n in names if n not in drop}
    if isinstance(value, (list, tuple)):
        return [_plain(v, drop) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v, drop) for k, v in value.items()}
    return value


def to_data(value: Any) -> JSON:
    """Turn a model value into plain JSON data (dicts keep their key order; tuples become lists)."""
    return _plain(value, frozenset())


def dumps(inv: Inventory) -> str:
    """The inventory as stable, indented JSON text ending in a newline."""
    return "".join(dump_pieces(inv))


def dump_pieces(inv: Inventory) -> Iterator[str]:
    """dumps(inv) in pieces, one object of a list at a time: a 100,000-container inventory is written without its
    JSON data or text ever being whole in memory (the text is byte for byte dumps')."""
    yield "{"
    fields = [f for f in dataclasses.fields(inv) if not (f.name in _OPTIONAL_KEYS and getattr(inv, f.name) is None)]
    for n, f in enumerate(fields):
        value = getattr(inv, f.name)
        yield ("," if n else "") + "\n  " + json.dumps(f.name) + ": "
        if isinstance(value, tuple) and value:
            yield "["
            for i, item in enumerate(value):
                text = json.dumps(to_data(item), indent=2, ensure_ascii=False)
                yield ("," if i else "") + "\n    " + text.replace("\n", "\n    ")
            yield "\n  ]"
        else:
            yield json.dumps(to_data(value), indent=2, ensure_ascii=False).replace("\n", "\n  ")
    yield "\n}\n"


_OPTIONAL_KEYS = ("hyperv_engine",)
"""Inventory keys added after the schema's first release: left out when absent, so the JSON text and the
fingerprint of an inventory without them stay what they were."""


def _without_absent(data: dict[str, JSON]) -> dict[str, JSON]:
    return {k: v for k, v in data.items() if not (k in _OPTIONAL_KEYS and v is None)}


_LOCATION_KEYS = frozenset({"file", "stale_file", "reasons"})
"""Fields that say where a file was read from (a bundle's folder, a relative path), and the explanations that name
it: not what the machine holds. (Only model fields: a label or an option named "file" is content.)"""


_LAST_FINGERPRINT: list[tuple[Inventory, str]] = []
"""The last inventory fingerprinted and its fingerprint: validate and plan ask for the same one several times."""


def fingerprint(inv: Inventory) -> str:
    """A sha256 over the inventory's content, independent of where (paths of the files read) and by which tool
    version it was read."""
    if _LAST_FINGERPRINT and _LAST_FINGERPRINT[0][0] is inv:
        return _LAST_FINGERPRINT[0][1]
    value = _fingerprint(inv)
    _LAST_FINGERPRINT[:] = [(inv, value)]
    return value


def _fingerprint(inv: Inventory) -> str:
    data = _without_absent(_plain(inv, _LOCATION_KEYS))
    assert isinstance(data, dict)
    data.pop("tool_version", None)
    data.pop("sources", None)
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


class DecodeError(InputError):
    """An inventory JSON that does not fit the model; the message names the path."""


def from_data(cls: Any, data: JSON, path: str = "$") -> Any:
    """Build a model value of type cls from JSON data, checking types; unknown keys are rejected."""
    return _decode(cls, data, path)


def loads(text: str) -> Inventory:
    """Parse inventory JSON text (already decoded) into an Inventory."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise DecodeError("$: an inventory is a JSON object")
    if data.get("schema") != SCHEMA:
        raise DecodeError(f"$.schema: expected {SCHEMA!r}, found {data.get('schema')!r}")
    return from_data(Inventory, data)


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _decode(tp: Any, data: JSON, path: str) -> Any:
    origin = typing.get_origin(tp)
    if tp is Any:
        return data
    if origin in (Union, types.UnionType):
        args = typing.get_args(tp)
        if data is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _decode(arg, data, path)
            except DecodeError as exc:
                errors.append(str(exc))
        raise DecodeError(errors[0] if errors else f"{path}: unexpected null")
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(data, dict):
            raise DecodeError(f"{path}: expected an object")
        hints = _hints(tp)
        names = {f.name for f in dataclasses.fields(tp)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise DecodeError(f"{path}: unknown field {unknown[0]!r}")
        kwargs = {k: _decode(hints[k], v, f"{path}.{k}") for k, v in data.items()}
        try:
            return tp(**kwargs)
        except TypeError as exc:
            raise DecodeError(f"{path}: {exc}") from None
    if origin is tuple:
        if not isinstance(data, list):
            raise DecodeError(f"{path}: expected a list")
        args = typing.get_args(tp)
        item = args[0] if args else Any
        return tuple(_decode(item, v, f"{path}[{i}]") for i, v in enumerate(data))
    if origin is dict:
        if not isinstance(data, dict):
            raise DecodeError(f"{path}: expected an object")
        _, vt = typing.get_args(tp)
        return {str(k): _decode(vt, v, f"{path}.{k}") for k, v in data.items()}
    if tp is bool:
        if not isinstance(data, bool):
            raise DecodeError(f"{path}: expected true or false")
        return data
    if tp is int:
        if isinstance(data, bool) or not isinstance(data, int):
            raise DecodeError(f"{path}: expected an integer")
        return data
    if tp is str:
        if not isinstance(data, str):
            raise DecodeError(f"{path}: expected a string")
        return data
    return data


# ---------------------------------------------------------------------------------------------------
# Assessment values (produced by migrate.assess, rendered by migrate.render).

SEVERITIES = ("info", "warning", "error", "blocker")
"""In increasing order; a blocker means the migration must not start."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule matched one subject."""

    rule: str
    """The rule id, as in LCOW001."""
    title: str
    severity: str
    """One of SEVERITIES, after configuration overrides."""
    message: str
    """The rule's message template filled from the subject; never holds a secret unless --show-secrets."""
    subject_kind: str
    """image, container, volume, network, settings, host, engine, file, inventory."""
    subject: str
    """The subject's name (container name, image tag or id, file path, ...)."""
    why: str = ""
    fix: str = ""
    references: tuple[str, ...] = ()
    plan: str = ""
    """What the planner does about it (a step kind or strategy), empty when nothing."""
    file: str = ""
    """For findings in project or settings files: the file, for SARIF physical locations."""
    line: int = 0
    waived: bool = False
    waiver_reason: str = ""
    waiver_expires: str = ""
    needs_action: bool = False
    """A person must act on it: its plan kind is a thing to do by hand, or it blocks, or it is an error the plan does
    nothing about."""


@dataclass(frozen=True, slots=True)
class Estimate:
    """How much a plan writes and how long it takes: the one estimate the assessment, plan.toml, validate, `run`
    and the runbook's free-space checks state (migrate/plan/estimate.py computes it)."""

    backup_bytes: int
    """Bytes the backups write (known sizes): image archives, volume archives, commits."""
    wsl_disk_bytes: int
    """Bytes the new WSL disk grows by (known sizes): loaded and pulled images, commits, volume data."""
    pull_bytes: int
    """Bytes pulled from registries on the new engine."""
    seconds: int
    """The run's duration: backups written, verified and read back, pulls, the switch, features and restarts."""
    backup_parts: dict[str, int] = field(default_factory=dict)
    """image_archives, volume_archives, committed_layers, commit_base_layers."""
    unknown: tuple[str, ...] = ()
    """What has no known size ('volume NAME'): the byte figures and the duration leave it out."""
    reboots: int = 0
    """Restarts of Windows the run makes (the features' restart), counted in `seconds`."""
    backup_folder: str = ""
    wsl_disk_folder: str = ""
    """Where the new WSL disk grows: Docker Desktop's WSL data folder (%LOCALAPPDATA%\\Docker\\wsl by default)."""
    reboots_possible: int = 0
    """Restarts made only when a program asks for one (WSL's installation exits 3010): not counted in `seconds`."""

    def restarts_text(self) -> str:
        """', 1 restart of Windows included (1 more if ...)', as every report states it; '' without any."""
        text = f", {self.reboots} restart of Windows included" if self.reboots else ""
        if self.reboots_possible:
            text += (f" ({self.reboots_possible} more if WSL's installation asks for one)" if self.reboots else
                     f", {self.reboots_possible} restart of Windows if WSL's installation asks for one")
        return text


@dataclass(frozen=True, slots=True)
class Report:
    """The assessment of one inventory."""

    tool_version: str
    inventory_fingerprint: str
    backend: Backend
    findings: tuple[Finding, ...]
    """Sorted by severity (highest first), then rule id, then subject."""
    verdict: str
    """ready, ready-after-actions or blocked."""
    counts: dict[str, int]
    """images, containers, volumes, networks, project_files -> how many the inventory holds."""
    bytes_to_move: int
    """Estimated bytes the backups write (saved images + volume copies + committed containers)."""
    estimated_seconds: int
    blind_spots: tuple[Note, ...] = ()
    """What the assessment could not see, and how that limits the verdict."""
    rules_checked: int = 0
    notices: tuple[str, ...] = ()
    """Configuration notices: expired waivers, disabled rules."""
    estimate: Estimate | None = None
    """The plan's estimate (sizes, time, where the backups and the new WSL disk go); None when not planned."""
    actions: tuple[str, ...] = ()
    """What a person must do: the plan's manual items, `RULE: title (subjects)`."""
