"""The plan: one decision per object, everything the runbook needs, as written to and read from plan.toml."""
from __future__ import annotations

from dataclasses import dataclass, field

PLAN_SCHEMA = "wsl2-migrate/plan/1"

IMAGE_STRATEGIES = ("repull", "save", "skip")
VOLUME_STRATEGIES = ("copy", "recreate", "skip")
"""copy: tar the content through a helper container; recreate: create it empty with the same options (a volume
backed by a host folder keeps its data on the host); skip: leave it behind."""
NETWORK_STRATEGIES = ("recreate", "skip")
CONTAINER_STRATEGIES = ("recreate", "compose", "skip")


@dataclass(frozen=True, slots=True)
class ImagePlan:
    """What happens to one image (keyed by id)."""

    id: str
    strategy: str
    tags: tuple[str, ...] = ()
    reference: str = ""
    """repull: the digest reference pulled (repo@sha256:...)."""
    platform: str = ""
    """repull: --platform os/arch[/variant] so a multi-platform digest gives the same image."""
    archive: str = ""
    """save: the archive (images/NAME.tar) it goes into; images sharing layers share an archive."""
    source_tags: tuple[str, ...] = ()
    """The tags it has on its engine, when the new engine gives some of them other names (`tags`): an image of the
    other source engine holds the tag there. Saved under these, loaded, then tagged as `tags`."""
    plan_tag: str = ""
    """A tag the run gives the image on its engine before saving it (it has none, and the containerd image store
    names an image by its manifest digest, so the id would not find it on the new engine); it is in `tags`, and
    the rollback removes it from the source again."""
    diff_ids: tuple[str, ...] = ()
    """Its content: RootFS diff ids, base first. The same on the classic and the containerd image store, whose
    image ids differ (docs/runbook.md): what the checks compare on a containerd store."""
    size: int = 0
    layers: int = 0
    why: tuple[str, ...] = ()
    findings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class VolumePlan:
    """What happens to one volume (keyed by name)."""

    name: str
    strategy: str
    source_name: str = ""
    """The volume's name on its engine, when the new engine gets another (a volume of the other source engine holds
    the name there); '' when it keeps its name."""
    driver: str = "local"
    options: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    size: int | None = None
    users: tuple[str, ...] = ()
    why: tuple[str, ...] = ()
    findings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NetworkPlan:
    """What happens to one network (keyed by name)."""

    name: str
    strategy: str
    args: tuple[str, ...] = ()
    """`docker network create` arguments after `create`, ending with the name."""
    id: str = ""
    """The network's id on the old engine (two networks may share a name there): where the runbook reads the
    values the plan holds only as digests ('' = by its name)."""
    why: tuple[str, ...] = ()
    findings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ComposePlan:
    """How a compose-managed container's project is re-created."""

    project: str
    service: str
    working_dir: str
    files: tuple[str, ...] = ()
    v1: bool = False
    """Made by Compose v1 (`project_service_1` names): re-created with `docker compose --compatibility`, which keeps
    those names."""


@dataclass(frozen=True, slots=True)
class ContainerPlan:
    """What happens to one container (keyed by name)."""

    name: str
    id: str
    strategy: str
    image: str = ""
    """The reference the new container is created from (a committed image's tag when commit is set)."""
    image_id: str = ""
    """The image the source container runs (before any commit)."""
    commit: bool = False
    """Commit the writable layer first (it holds data) and create from the committed image."""
    commit_ref: str = ""
    size_rw: int | None = None
    """Bytes in its writable layer (what a commit writes), from the inventory; None when the engine did not say."""
    start: bool = False
    stop_timeout: int = 30
    depends_on: tuple[str, ...] = ()
    networks: tuple[str, ...] = ()
    """User networks it joins (re-created first)."""
    volumes: tuple[str, ...] = ()
    """Named volumes it mounts (restored first)."""
    create: tuple[str, ...] = ()
    """`docker` arguments starting with `create`; the env file argument is added by the step builder."""
    connect: tuple[tuple[str, ...], ...] = ()
    """`docker` argument lists (`network connect ...`) for the 2nd..nth networks."""
    env: tuple[str, ...] = ()
    """Names of the container's own env entries, carried through an env file written at run time (values are
    read from the source engine then; they are never in the plan)."""
    env_digest: str = ""
    """A digest over the env entries' keyed digests (docs/secrets.md), for validate's drift check of the values;
    empty when the inventory held the values in clear."""
    not_carried: tuple[str, ...] = ()
    """Every configured setting that cannot be carried, with the reason."""
    compose: ComposePlan | None = None
    why: tuple[str, ...] = ()
    findings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SwitchPlan:
    """The backend switch and host-side changes."""

    wsl_engine_enabled: bool = True
    linux_containers: bool = False
    """Switch Docker Desktop from Windows containers to Linux containers (LCOW sources)."""
    remove_daemon_keys: tuple[str, ...] = ()
    """Keys removed from the Windows engine's daemon.json (experimental, when only LCOW needed it)."""
    linux_daemon_remove: tuple[str, ...] = ()
    """Keys removed from the Linux engine's daemon.json (data-root, graph, storage-driver: WSL 2 decides those)."""
    linux_daemon_set: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Keys set in the Linux engine's daemon.json: registry settings only the Windows engine had (merged)."""
    expect_registry_mirrors: tuple[str, ...] = ()
    expect_insecure_registries: tuple[str, ...] = ()
    """Checked in `docker info` of the new engine once it answers."""
    wslconfig: dict[str, str] = field(default_factory=dict)
    """Keys added to .wslconfig [wsl2] where it sets none (memory, processors, swap); a value already there stays."""
    enable_features: tuple[str, ...] = ()
    hold_autostart: bool = True
    """Keep Docker Desktop from starting by itself (autoStart false) until the run has finished, then put it back."""
    file_sharing: str = ""
    """Hyper-V era Desktop shares only listed folders: the setting the preflight checks the backup folder against
    (filesharingDirectories or sharedDrives; '' = no check)."""
    desktop_user: str = ""
    """DOMAIN\\user whose Docker Desktop the plan was made for ('' = unknown): the runbook runs only as that user."""
    old_vms: tuple[str, ...] = ("DockerDesktopVM", "MobyLinuxVM")
    """Hyper-V VMs of the old backend that must be off before settings change."""
    min_windows_build: int = 18362
    min_windows_ubr: int = 0
    windows_edition: str = ""
    """The edition family the minimum build was chosen for (home, pro, enterprise, education; '' = unknown, which
    gets the Home/Pro minimum)."""
    desktop_exe: str = "%ProgramFiles%\\Docker\\Docker\\Docker Desktop.exe"
    desktop_upgrade: bool = False
    """Docker Desktop is older than desktop_min_version: upgrade it after the backups, before the switch."""
    desktop_installer: str = ""
    """Full path of "Docker Desktop Installer.exe" for the upgrade; '' = the runbook stops and asks for it."""
    desktop_min_version: str = "2.3.0.2"
    wsl_install: str = ""
    """install (`wsl --install --no-distribution`), update (`wsl --update`) or '' (nothing to install)."""
    wsl_web_download: bool = False
    """Download WSL from GitHub instead of the Microsoft Store (`--web-download`), where the Store is blocked."""
    wsl_msi: str = ""
    """Full path of a WSL .msi installed instead of asking wsl.exe (where neither the Store nor GitHub is reached)."""
    wsl_min_version: str = "2.1.5"
    """The WSL the check before the switch accepts (what current Docker Desktop needs)."""
    wsl_set_default_version: bool = True
    """Run `wsl --set-default-version 2` (integration works only with WSL 2 distributions)."""
    wsl_data_dir: str = ""
    """Docker Desktop's WSL data folder (customWslDistroDir) set during the switch; '' leaves Desktop's own choice
    (its setting, else %LOCALAPPDATA%\\Docker\\wsl)."""
    manual: tuple[str, ...] = ()
    """Things the runbook cannot do, each 'RULE: title (subjects)'; the runbook lists them and the preflight asks."""
    why: tuple[str, ...] = ()
    findings: tuple[str, ...] = ()
    kind_findings: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Rule ids by plan kind: which findings shaped which switch step (not written to plan.toml)."""


DEFAULT_HYPERV_URL = "npipe:////./pipe/dockerDesktopLinuxEngine"
"""Docker Desktop's Linux engine (the desktop-linux context), reachable while Desktop runs Windows containers."""
DOCKER_CLI = "%ProgramFiles%\\Docker\\Docker\\DockerCli.exe"
"""Docker Desktop's switch between Linux and Windows containers (-SwitchLinuxEngine, -SwitchWindowsEngine)."""


@dataclass(frozen=True, slots=True)
class HypervPlan:
    """The LCOW host's second source engine: Docker Desktop's Linux engine in the Hyper-V VM, whose Linux objects
    move to the WSL 2 engine too (docs/plan.md). Its objects' names on the new engine never clash with the first
    engine's: a clashing one gets a name of its own, with the reason in its why."""

    url: str = DEFAULT_HYPERV_URL
    """Where the runbook reaches it (its -HyperVEngine default)."""
    desktop_cli: str = DOCKER_CLI
    """DockerCli.exe: switches Docker Desktop to Linux containers when the engine does not answer (its VM is not
    running), and back to Windows containers for the rollback."""
    helper_image: str = ""
    helper_pull: bool = False
    images: tuple[ImagePlan, ...] = ()
    volumes: tuple[VolumePlan, ...] = ()
    networks: tuple[NetworkPlan, ...] = ()
    containers: tuple[ContainerPlan, ...] = ()
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    """The whole plan."""

    tool_version: str
    inventory_fingerprint: str
    source_backend: str
    backup_path: str
    helper_image: str
    helper_pull: bool = False
    """The helper image is not on the source engine: pull it on both engines."""
    bytes_planned: int = 0
    bytes_lower_bound: int = 0
    bytes_one_per_image: int = 0
    backup_bytes: int = 0
    """The estimate when planned (migrate/plan/estimate.py): bytes the backups write (known sizes)."""
    wsl_disk_bytes: int = 0
    """Bytes the new WSL disk grows by (known sizes)."""
    estimated_seconds: int = 0
    """How long the run takes: backups, verification, pulls, the switch, features and restarts."""
    unknown_sizes: tuple[str, ...] = ()
    """What has no known size, left out of the figures above."""
    switch: SwitchPlan = field(default_factory=SwitchPlan)
    images: tuple[ImagePlan, ...] = ()
    volumes: tuple[VolumePlan, ...] = ()
    networks: tuple[NetworkPlan, ...] = ()
    containers: tuple[ContainerPlan, ...] = ()
    problems: tuple[str, ...] = ()
    """Planner findings (e.g. no helper image in the inventory)."""
    hyperv: HypervPlan | None = None
    """The LCOW host's second source engine, when the inventory read one."""
