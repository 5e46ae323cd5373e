"""The one estimate of a plan: bytes the backups write, bytes the new WSL disk grows by, and how long the run takes.

The assessment, plan.toml, `validate`, `run` and the runbook's free-space checks all state what this computes, so
they cannot disagree. A size the inventory does not know stays unknown (listed in `unknown`), never 0: the byte
figures and the duration then leave it out, and the free-space checks cannot pass on their own (docs/plan.md).
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from migrate.assess.space import WSL_DEFAULT_FOLDER
from migrate.model import Estimate, Inventory
from migrate.units import human_bytes, human_duration
from migrate.plan import archives
from migrate.plan.model import ContainerPlan, ImagePlan, Plan, VolumePlan

EXPORT_BYTES_PER_SECOND = 60_000_000
"""docker save / load, volume tar copies and container commits: 60 MB/s each way (a laptop SSD)."""
HASH_BYTES_PER_SECOND = 200_000_000
"""sha256 of the backups (verified after they are written and again before each restore reads one) and the volume
content digests (before and after): 200 MB/s."""
PULL_BYTES_PER_SECOND = 20_000_000
"""Re-pulling images by digest from a registry: 20 MB/s (a busy office link)."""
SWITCH_SECONDS = 180
"""Stopping Docker Desktop, switching the backend and waiting for the WSL 2 engine to answer."""
FEATURE_SECONDS = 60
"""dism.exe enabling one optional Windows feature."""
REBOOT_SECONDS = 300
"""A restart of Windows and the logon that resumes the run."""


def _known(sizes: Iterable[tuple[str, int | None]], unknown: list[str]) -> int:
    """The sum of the known sizes; what has none is added to unknown (never counted as 0)."""
    total = 0
    for what, size in sizes:
        if size is None:
            unknown.append(what)
        else:
            total += size
    return total


def estimate(plan: Plan, fresh: Inventory | None = None) -> Estimate:
    """The estimate of a plan; with a fresh inventory, its sizes replace the plan's where it has them."""
    unknown: list[str] = []
    parts, pulls, disk, volume_bytes = _engine(plan.images, plan.volumes, plan.containers, plan.bytes_planned, fresh,
                                               unknown, "")
    if plan.hyperv is not None:
        # The LCOW host's second engine: its backups go to the same folder, its objects onto the same new disk.
        h = plan.hyperv
        saved = [archives.SavedImage(im.id, im.diff_ids, im.size) for im in h.images if im.strategy == "save"]
        fresh_h = None
        if fresh is not None and fresh.hyperv_engine is not None:
            he = fresh.hyperv_engine
            fresh_h = Inventory(images=he.images, volumes=he.volumes, containers=he.containers)
        more, more_pulls, more_disk, more_volumes = _engine(h.images, h.volumes, h.containers,
                                                            archives.estimate(saved)[0], fresh_h, unknown, "Hyper-V ")
        parts = {k: v + more[k] for k, v in parts.items()}
        pulls, disk, volume_bytes = pulls + more_pulls, disk + more_disk, volume_bytes + more_volumes
    backup = sum(parts.values())
    features = len(plan.switch.enable_features)
    reboots = 1 if features else 0
    # `wsl --install` and the WSL MSI exit 3010 when they need a restart (switch/reboot-wsl): it may not come.
    possible = 1 if plan.switch.wsl_msi or plan.switch.wsl_install == "install" else 0
    seconds = math.ceil(2 * backup / EXPORT_BYTES_PER_SECOND + 2 * backup / HASH_BYTES_PER_SECOND
                        + 2 * volume_bytes / HASH_BYTES_PER_SECOND + pulls / PULL_BYTES_PER_SECOND)
    seconds += SWITCH_SECONDS + features * FEATURE_SECONDS + reboots * REBOOT_SECONDS
    return Estimate(backup_bytes=backup, wsl_disk_bytes=disk, pull_bytes=pulls, seconds=seconds, backup_parts=parts,
                    unknown=tuple(sorted(unknown)), reboots=reboots, reboots_possible=possible,
                    backup_folder=plan.backup_path,
                    wsl_disk_folder=plan.switch.wsl_data_dir or WSL_DEFAULT_FOLDER)


def _engine(images_plan: Sequence[ImagePlan], volumes_plan: Sequence[VolumePlan],
            containers_plan: Sequence[ContainerPlan], bytes_planned: int, fresh: Inventory | None,
            unknown: list[str], label: str) -> tuple[dict[str, int], int, int, int]:
    """One source engine's part: backup parts, bytes pulled, bytes the new disk grows by, volume bytes."""
    images = {i.id: i for i in fresh.images} if fresh is not None else {}
    volumes = {v.name: v for v in fresh.volumes} if fresh is not None else {}
    live = {c.name.lstrip("/"): c for c in fresh.containers} if fresh is not None else {}
    saved = [im for im in images_plan if im.strategy == "save"]
    archive_bytes = bytes_planned
    if saved and all(im.id in images for im in saved):
        archive_bytes = archives.estimate([archives.SavedImage(im.id, images[im.id].layers, images[im.id].size)
                                           for im in saved])[0]
    copies = [v for v in volumes_plan if v.strategy == "copy"]
    volume_bytes = _known(((f"{label}volume {v.name}", volumes[v.source_name or v.name].size
                            if (v.source_name or v.name) in volumes else v.size) for v in copies), unknown)
    size_of = {im.id: images[im.id].size if im.id in images else im.size for im in images_plan}
    saved_ids = {im.id for im in saved}
    pulled_ids = {im.id for im in images_plan if im.strategy == "repull"}
    commits = [c for c in containers_plan if c.strategy != "skip" and c.commit]
    committed = _known(((f"{label}container {c.name} (its writable layer)",
                         live[c.name].size_rw if c.name in live else c.size_rw) for c in commits), unknown)
    # A commit whose base is not saved goes into images/commits.tar, and `docker save` writes its base too.
    bases = {c.image_id for c in commits if c.image_id not in saved_ids}
    base_bytes = sum(size_of.get(b, 0) for b in sorted(bases))
    parts = {"image_archives": archive_bytes, "volume_archives": volume_bytes, "committed_layers": committed,
             "commit_base_layers": base_bytes}
    pulls = sum(size_of[i] for i in sorted(pulled_ids))
    # The new disk holds what is loaded and pulled; a commit's base already pulled is not there twice.
    disk = archive_bytes + pulls + committed + volume_bytes + sum(size_of.get(b, 0) for b in sorted(bases - pulled_ids))
    return parts, pulls, disk, volume_bytes


def estimate_text(est: Estimate) -> str:
    """The estimate in one line, as `run`, the runbook's header and the assessment state it."""
    unknown = f" (and {len(est.unknown)} of unknown size: {', '.join(est.unknown)})" if est.unknown else ""
    restart = est.restarts_text()
    return (f"the backups write {human_bytes(est.backup_bytes)} ({est.backup_bytes} bytes){unknown} to "
            f"{est.backup_folder}; the new WSL disk grows by {human_bytes(est.wsl_disk_bytes)} ({est.wsl_disk_bytes} "
            f"bytes) in {est.wsl_disk_folder}; {'at least ' if est.unknown else ''}{human_duration(est.seconds)} "
            f"({est.seconds} s){restart}")
