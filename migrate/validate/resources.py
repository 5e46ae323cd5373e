"""Resources: the plan's estimate (the backups and the new WSL disk, per drive) against the free space, and the time."""
from __future__ import annotations

from migrate.assess.space import drive_needs, folder_drive
from migrate.model import Drive, Inventory
from migrate.plan.estimate import estimate as plan_estimate
from migrate.plan.model import Plan
from migrate.units import human_bytes, human_duration
from migrate.validate.result import Problem, Resources


def estimate(plan: Plan, inv: Inventory, free_override: int | None) -> Resources:
    """The plan's estimate with the fresh inventory's sizes, and the free space of each drive it needs."""
    est = plan_estimate(plan, inv)
    drive = folder_drive(plan.backup_path)
    drives: tuple[Drive, ...] = inv.host.drives if inv.host is not None else ()
    source = f"host facts ({inv.host.file or 'drive list'})" if inv.host is not None else ""
    if free_override is not None and drive:
        drives = (*(d for d in drives if d.name.strip().rstrip("\\:").upper() != drive),
                  Drive(drive, free_bytes=free_override))
        source = "--backup-free-bytes"
    needs = drive_needs(est, drives)
    free = next((n.free for n in needs if n.drive == drive), None) if drive else None
    return Resources(backup_bytes=est.backup_bytes, parts=dict(est.backup_parts),
                     unknown_volumes=tuple(u.removeprefix("volume ") for u in est.unknown if u.startswith("volume ")),
                     drive=drive, free_bytes=free, free_from=source if free is not None else "",
                     pull_bytes=est.pull_bytes, estimated_seconds=est.seconds, restarts=est.restarts_text(),
                     wsl_disk_bytes=est.wsl_disk_bytes,
                     wsl_disk_folder=est.wsl_disk_folder, unknown=est.unknown,
                     drives=tuple((n.drive, n.need, n.free) for n in needs))


def resource_problems(r: Resources, backup_path: str) -> list[Problem]:
    """A drive too small fails; unknown free space or unknown sizes warn (the runbook then asks on the day)."""
    out: list[Problem] = []
    for letter, need, free in r.drives:
        what = " and ".join(w for w, d in (("the backups", r.drive), ("the new WSL disk",
                                                                      folder_drive(r.wsl_disk_folder))) if d == letter)
        where = f"drive {letter}:" if letter else f"backup folder {backup_path}"
        if free is None:
            hint = "; state it with --backup-free-bytes" if letter == r.drive else ""
            out.append(Problem("resources", "warn", where, f"free space unknown (no host facts for it): it must hold "
                               f"{what}, {human_bytes(need)}{hint}"))
        elif need > free:
            out.append(Problem("resources", "fail", where, f"{what} need {human_bytes(need)}, the drive has "
                               f"{human_bytes(free)} free ({human_bytes(need - free)} short)"))
    if r.unknown:
        names = ", ".join(r.unknown[:5]) + (" ..." if len(r.unknown) > 5 else "")
        out.append(Problem("resources", "warn", "sizes", f"{len(r.unknown)} size(s) unknown ({names}): the "
                           "figures leave them out, so the free-space check cannot pass on them; the runbook asks "
                           "before it goes on"))
    return out


def resource_summary(r: Resources) -> str:
    """One line: what is written where, the free space, the time."""
    unknown = f" + {len(r.unknown)} unknown size(s)" if r.unknown else ""
    free = ", ".join(f"{d}: {human_bytes(f)} free" for d, _, f in r.drives if d and f is not None) or \
        "free space unknown"
    at_least = "at least " if r.unknown else ""
    return (f"backups write {human_bytes(r.backup_bytes)}{unknown}{' on ' + r.drive + ':' if r.drive else ''}, "
            f"the new WSL disk grows by {human_bytes(r.wsl_disk_bytes)} on {folder_drive(r.wsl_disk_folder)}:; "
            f"{free}; {at_least}{human_duration(r.estimated_seconds)}{r.restarts}")
