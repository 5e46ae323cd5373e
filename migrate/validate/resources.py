"""Resources: the bytes the backups write against the backup drive's free space, and the time the run takes."""
from __future__ import annotations

from migrate.assess.evaluate import estimated_seconds
from migrate.assess.facts import drive_letter
from migrate.model import Inventory
from migrate.plan.model import Plan
from migrate.units import human_bytes, human_duration
from migrate.validate.result import Problem, Resources


def estimate(plan: Plan, inv: Inventory, free_override: int | None) -> Resources:
    """What the plan's backups write (fresh sizes where the inventory has them) and the space there is."""
    vols = {v.name: v for v in inv.volumes}
    imgs = {i.id: i for i in inv.images}
    live = {c.name.lstrip("/"): c for c in inv.containers}
    volume_bytes = 0
    unknown: list[str] = []
    for v in plan.volumes:
        if v.strategy != "copy":
            continue
        size = vols[v.name].size if v.name in vols else v.size
        if size is None:
            unknown.append(v.name)
        else:
            volume_bytes += size
    committed = 0
    bases: set[str] = set()
    saved = {i.id for i in plan.images if i.strategy == "save"}
    for c in plan.containers:
        if c.strategy == "skip" or not c.commit:
            continue
        now = live.get(c.name)
        committed += (now.size_rw if now is not None else 0) or 0
        # A commit whose base is not saved goes into its own archive, and `docker save` writes every layer of it.
        if c.image_id not in saved:
            bases.add(c.image_id)
    base_bytes = sum(imgs[b].size for b in sorted(bases) if b in imgs)
    parts = {"image_archives": plan.bytes_planned, "volume_archives": volume_bytes, "committed_layers": committed,
             "commit_base_layers": base_bytes}
    total = sum(parts.values())
    pull = sum(imgs[i.id].size if i.id in imgs else i.size for i in plan.images if i.strategy == "repull")
    drive = drive_letter(plan.backup_path)
    free, source = free_override, "--backup-free-bytes" if free_override is not None else ""
    if free is None and inv.host is not None and drive:
        for d in inv.host.drives:
            if d.name.strip().rstrip("\\:").upper() == drive and d.free_bytes is not None:
                free, source = d.free_bytes, f"host facts ({inv.host.file or 'drive list'})"
    return Resources(backup_bytes=total, parts=parts, unknown_volumes=tuple(sorted(unknown)), drive=drive,
                     free_bytes=free, free_from=source, pull_bytes=pull,
                     estimated_seconds=estimated_seconds(total, pull))


def resource_problems(r: Resources, backup_path: str) -> list[Problem]:
    """Too little space fails; unknown space or sizes warn."""
    where = f"backup drive {r.drive}:" if r.drive else f"backup folder {backup_path}"
    out: list[Problem] = []
    if r.free_bytes is None:
        out.append(Problem("resources", "warn", where, f"free space unknown (no host facts for it): the backups "
                           f"need {human_bytes(r.backup_bytes)}; state it with --backup-free-bytes"))
    elif r.backup_bytes > r.free_bytes:
        short = human_bytes(r.backup_bytes - r.free_bytes)
        out.append(Problem("resources", "fail", where, f"the backups need {human_bytes(r.backup_bytes)}, the drive "
                           f"has {human_bytes(r.free_bytes)} free ({short} short)"))
    if r.unknown_volumes:
        names = ", ".join(r.unknown_volumes[:5]) + (" ..." if len(r.unknown_volumes) > 5 else "")
        out.append(Problem("resources", "warn", "volume sizes", f"{len(r.unknown_volumes)} copied volume(s) of "
                           f"unknown size are not counted: {names}"))
    return out


def resource_summary(r: Resources) -> str:
    """One line: need, free, time."""
    free = human_bytes(r.free_bytes) if r.free_bytes is not None else "unknown"
    return (f"backups write {human_bytes(r.backup_bytes)}, {free} free"
            f"{' on ' + r.drive + ':' if r.drive else ''}; {human_duration(r.estimated_seconds)}")
