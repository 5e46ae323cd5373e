"""The plan kinds: the closed vocabulary a rule's `plan` may name, and what the planner does for each.

Each kind either creates steps of the program (named by step id prefix; every prefix listed must have a step that
carries the finding's rule id), gives the finding's subject a decision (a strategy in plan.toml), or becomes a named
manual item (`RULE: title (subjects)` in `[switch] manual`, which the runbook's first step lists and asks about).
`says` lists what a rule's message or fix may put right after "the plan" for this kind: tests/test_rule_promises.py
holds every rule's text to it and builds the program of every fail example to prove the steps exist.
docs/rule-format.md's list of kinds is generated from this table (render_kinds_md).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

from migrate.errors import RuleError


class PlanKind(enum.StrEnum):
    """Every kind a rule may ask for."""

    NONE = "none"
    MANUAL = "manual"
    # Containers
    COMMIT_CONTAINER = "commit-container"
    RECREATE_CONTAINER = "recreate-container"
    RECREATE_ON_LINUX_ENGINE = "recreate-on-linux-engine"
    TRANSLATE_BIND_PATHS = "translate-bind-paths"
    ORDER_CONTAINERS = "order-containers"
    COMPOSE_UP = "compose-up"
    SKIP_CONTAINER = "skip-container"
    # Images
    SAVE_AND_LOAD_IMAGES = "save-and-load-images"
    REPULL_IMAGE = "repull-image"
    MOVE_IMAGE = "move-image"
    SKIP_IMAGE = "skip-image"
    # Volumes and networks
    COPY_VOLUME = "copy-volume"
    RECREATE_VOLUME = "recreate-volume"
    RECREATE_NETWORK = "recreate-network"
    # The switch and the host
    SWITCH_BACKEND = "switch-backend"
    ENABLE_WINDOWS_FEATURES = "enable-windows-features"
    WRITE_WSLCONFIG = "write-wslconfig"
    SET_WSL_DATA_LOCATION = "set-wsl-data-location"
    IGNORE_STALE_SETTINGS = "ignore-stale-settings"
    DROP_LCOW_EXPERIMENTAL = "drop-lcow-experimental"
    DROP_DAEMON_KEY = "drop-daemon-key"
    CARRY_DAEMON_CONFIG = "carry-daemon-config"
    CHECK_REGISTRIES = "check-registries"
    CHECK_FREE_SPACE = "check-free-space"
    MOVE_HYPERV_ENGINE = "move-hyperv-engine"
    UPGRADE_DESKTOP = "upgrade-desktop"
    UPDATE_WSL = "update-wsl"
    SET_WSL_DEFAULT_VERSION = "set-wsl-default-version"
    PULL_INSTEAD_OF_LOAD = "pull-instead-of-load"
    # Named manual items
    PER_USER_MIGRATION = "per-user-migration"
    ENABLE_KUBERNETES_AFTER_SWITCH = "enable-kubernetes-after-switch"
    UPGRADE_ENGINE_BLOCKED = "upgrade-engine-blocked"
    FIX_WSLCONFIG = "fix-wslconfig"
    VERIFY_TCP_2375 = "verify-tcp-2375"


@dataclass(frozen=True)
class KindSpec:
    """What the planner does for one kind."""

    does: str
    """For people: what the plan does (docs/rule-format.md, the assessment's "Plan" line)."""
    steps: tuple[str, ...] = ()
    """Step id prefixes; each entry must be matched by a step carrying the rule id ('a|b': either one)."""
    manual: bool = False
    """A named manual item: listed by check-host, which asks before anything changes."""
    decision: tuple[str, str] | None = None
    """(plan.toml section, strategy) the finding's subject gets."""
    says: tuple[str, ...] = ()
    """What a rule's text may write right after "the plan" (prefixes of the following words)."""


ANY_KIND_SAYS = ("does not", "cannot", "never")
"""What any rule may say the plan does not do."""

_MANUAL = "a thing to do by hand, listed (with its subjects) by the runbook's first step, which asks before it goes on"

KINDS: dict[PlanKind, KindSpec] = {
    PlanKind.NONE: KindSpec("nothing: the move needs no step for it"),
    PlanKind.MANUAL: KindSpec(_MANUAL, manual=True),
    PlanKind.COMMIT_CONTAINER: KindSpec(
        "commits the container's changed filesystem before the switch and re-creates it from the commit",
        steps=("backup/commit/", "restore/create/"), says=("commits", "commit")),
    PlanKind.RECREATE_CONTAINER: KindSpec(
        "re-creates the container on the new engine with every captured setting",
        steps=("restore/create/|restore/compose/",), says=("re-creates", "re-create")),
    PlanKind.RECREATE_ON_LINUX_ENGINE: KindSpec(
        "re-creates the Linux container on the WSL 2 engine (binds and networks translated)",
        steps=("restore/create/|restore/compose/",), says=("re-creates", "re-create")),
    PlanKind.TRANSLATE_BIND_PATHS: KindSpec(
        "re-creates the container with its bind sources written as Windows paths",
        steps=("restore/create/",), says=("re-creates",)),
    PlanKind.ORDER_CONTAINERS: KindSpec(
        "stops dependents first, re-creates dependencies first and starts dependents last",
        steps=("restore/create/",), says=("re-creates", "stops", "starts")),
    PlanKind.COMPOSE_UP: KindSpec(
        "re-creates the compose project's containers with `docker compose ... up --no-start` in its folder",
        steps=("restore/compose/",), says=("re-creates", "creates", "runs")),
    PlanKind.SKIP_CONTAINER: KindSpec("leaves the container behind (strategy skip)",
                                      decision=("containers", "skip"), says=("skips",)),
    PlanKind.SAVE_AND_LOAD_IMAGES: KindSpec(
        "saves the image with `docker save` (layers shared with other saved images written once) and loads it",
        steps=("backup/save/", "restore/load/"), says=("writes", "saves", "loads")),
    PlanKind.REPULL_IMAGE: KindSpec(
        "pulls the image again by digest on the new engine (with its platform) and tags it",
        steps=("restore/pull/",), says=("pulls", "passes", "'s pull step")),
    PlanKind.MOVE_IMAGE: KindSpec(
        "pulls the image again when it has a registry digest, else saves and loads it",
        steps=("backup/save/|restore/pull/",), says=("pulls", "saves")),
    PlanKind.SKIP_IMAGE: KindSpec("leaves the image behind (strategy skip)", decision=("images", "skip"),
                                  says=("skips",)),
    PlanKind.COPY_VOLUME: KindSpec(
        "copies the volume's content through a helper container (tar) and digests it before and after",
        steps=("backup/volume/", "restore/volume-data/"), says=("copies", "writes")),
    PlanKind.RECREATE_VOLUME: KindSpec(
        "re-creates the volume with the same driver and options (a host folder's path translated)",
        steps=("restore/volume/",), says=("re-creates", "re-create")),
    PlanKind.RECREATE_NETWORK: KindSpec(
        "re-creates the network with the same driver, IPAM, options and labels (Windows drivers become bridge)",
        steps=("restore/network/",), says=("re-creates", "creates")),
    PlanKind.SWITCH_BACKEND: KindSpec(
        "turns on wslEngineEnabled (and Linux containers for LCOW) in Docker Desktop's settings",
        steps=("switch/settings",), says=("switches", "turns")),
    PlanKind.ENABLE_WINDOWS_FEATURES: KindSpec(
        "enables the Windows features WSL 2 needs with dism.exe and restarts Windows when asked, then resumes",
        steps=("switch/feature/", "switch/reboot"), says=("enables",)),
    PlanKind.WRITE_WSLCONFIG: KindSpec(
        "adds the Hyper-V VM's memory, CPUs and swap to .wslconfig [wsl2] where it sets none",
        steps=("switch/wslconfig",), says=("writes", "adds")),
    PlanKind.SET_WSL_DATA_LOCATION: KindSpec(
        "sets Docker Desktop's WSL data folder (customWslDistroDir) on the drive of the old VM disk",
        steps=("switch/settings",), says=("sets",)),
    PlanKind.IGNORE_STALE_SETTINGS: KindSpec(
        "edits only the settings file Docker Desktop reads; the stale one is left as it is",
        steps=("switch/settings",), says=("reads", "edits")),
    PlanKind.DROP_LCOW_EXPERIMENTAL: KindSpec(
        "removes `experimental` from the Windows engine's daemon.json",
        steps=("switch/daemon-config",), says=("removes",)),
    PlanKind.DROP_DAEMON_KEY: KindSpec(
        "removes the key (data-root, graph, storage-driver) from the Linux engine's daemon.json",
        steps=("switch/daemon-config-linux",), says=("removes",)),
    PlanKind.CARRY_DAEMON_CONFIG: KindSpec(
        "merges the Windows engine's registry settings into the Linux engine's daemon.json and checks `docker "
        "info` for them once the new engine answers",
        steps=("switch/daemon-config-linux", "switch/wait-engine"), says=("copies", "add", "checks")),
    PlanKind.CHECK_REGISTRIES: KindSpec(
        "checks `docker info` of the new engine for the registry mirrors and insecure registries",
        steps=("switch/wait-engine",), says=("checks",)),
    PlanKind.CHECK_FREE_SPACE: KindSpec(
        "checks the free space on the backup drive and on the drive of the new WSL disk before anything changes "
        "(and picks the fixed drive with the most room for the backups when C: is short)",
        steps=("preflight/check-host",), says=("checks", "picks", "'s backup folder")),
    PlanKind.MOVE_HYPERV_ENGINE: KindSpec(
        "backs up the Linux engine in the Hyper-V VM too (after the Windows engine's backups, switching Docker Desktop "
        "to Linux containers when that VM does not run) and restores its Linux objects on the WSL 2 engine",
        steps=("backup/hyperv/engine",), says=("backs", "restores", "moves", "switches")),
    PlanKind.UPGRADE_DESKTOP: KindSpec(
        "upgrades Docker Desktop after the backups and before the switch with the installer [switch] "
        "desktop_installer names, or stops and asks for the upgrade",
        steps=("switch/upgrade-desktop",), says=("upgrades", "stops")),
    PlanKind.UPDATE_WSL: KindSpec(
        "installs or updates WSL after the features' restart (wsl --install --no-distribution, wsl --update, or "
        "the MSI [switch] wsl_msi names) and checks wsl --status and --version before Docker Desktop starts",
        steps=("switch/install-wsl", "switch/check-wsl"), says=("installs", "updates", "checks")),
    PlanKind.SET_WSL_DEFAULT_VERSION: KindSpec(
        "runs wsl --set-default-version 2 and checks it before Docker Desktop starts",
        steps=("switch/wsl-default-version", "switch/check-wsl"), says=("runs", "makes", "checks")),
    PlanKind.PULL_INSTEAD_OF_LOAD: KindSpec(
        "with docker load blocked (blockDockerLoad): pulls the images it would save by their tag instead, skips "
        "untagged ones and re-creates committed containers from their image; pushing local images first (and "
        "copying out what those containers wrote) is a thing to do by hand, listed by the runbook's first step",
        manual=True, says=("pulls", "skips", "re-creates")),
    PlanKind.PER_USER_MIGRATION: KindSpec(_MANUAL, manual=True),
    PlanKind.ENABLE_KUBERNETES_AFTER_SWITCH: KindSpec(_MANUAL, manual=True),
    PlanKind.UPGRADE_ENGINE_BLOCKED: KindSpec(_MANUAL, manual=True),
    PlanKind.FIX_WSLCONFIG: KindSpec(_MANUAL, manual=True),
    PlanKind.VERIFY_TCP_2375: KindSpec(_MANUAL, manual=True),
}


def kind_of(name: str) -> PlanKind:
    """The kind a rule's `plan` names ('' is none); RuleError naming the known kinds otherwise."""
    try:
        return PlanKind(name or "none")
    except ValueError:
        raise RuleError(f"plan kind {name!r} is not one of {', '.join(k.value for k in PlanKind)}") from None


def spec(name: str) -> KindSpec:
    """What the planner does for a kind name ('' is none); an unknown name is none (the catalog refused it)."""
    try:
        return KINDS[PlanKind(name or "none")]
    except ValueError:
        return KINDS[PlanKind.NONE]


def needs_action(kind: str, severity: str) -> bool:
    """Whether a person must act on a finding: its kind is a thing to do by hand, it blocks the move, or it is an
    error the plan does nothing about. The rest the plan does (or it is for information)."""
    return spec(kind).manual or severity == "blocker" or (severity == "error" and spec(kind) is KINDS[PlanKind.NONE])


def manual_kinds() -> tuple[str, ...]:
    """The kinds that become a named manual item."""
    return tuple(k.value for k, s in KINDS.items() if s.manual)


def render_kinds_md() -> str:
    """The table of kinds for docs/rule-format.md (a test keeps the committed copy current)."""
    rows = ["| kind | what the plan does | in the program |", "| --- | --- | --- |"]
    for kind, s in KINDS.items():
        if s.manual:
            where = "`[switch] manual`, listed by `preflight/check-host`"
        elif s.decision:
            where = f"`[{s.decision[0]}]` strategy `{s.decision[1]}`"
        elif s.steps:
            where = ", ".join(" or ".join(f"`{p}`" for p in entry.split("|")) for entry in s.steps)
        else:
            where = "-"
        rows.append(f"| `{kind.value}` | {s.does} | {where} |")
    return "\n".join(rows) + "\n"
