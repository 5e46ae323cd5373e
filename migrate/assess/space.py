"""Room on the Windows drives: the backups and the new WSL disk summed per drive against the host's free space.

Pure functions over an Estimate (migrate/plan/estimate.py makes it) and the host facts' drives, used by the
assessment (HOST008), `validate`, and the planner's choice of the backup drive.
"""
from __future__ import annotations

from dataclasses import dataclass

from migrate.model import Drive, Estimate
from migrate.units import human_bytes

WSL_DEFAULT_FOLDER = "%LOCALAPPDATA%\\Docker\\wsl"
"""Where Docker Desktop keeps its WSL 2 data (docker_data.vhdx) unless customWslDistroDir says otherwise."""
SYSTEM_DRIVE = "C"
"""The drive %LOCALAPPDATA% is on, for the free space the host facts list (it is resolved on Windows at run time)."""


def folder_drive(folder: str) -> str:
    """The drive letter a folder of the plan is on ('' for a share); %LOCALAPPDATA% is on the system drive."""
    text = folder.strip()
    if text.upper().startswith("%LOCALAPPDATA%"):
        return SYSTEM_DRIVE
    if len(text) >= 2 and text[1] == ":" and text[0].isalpha():
        return text[0].upper()
    return ""


@dataclass(frozen=True, slots=True)
class DriveNeed:
    """The room a run needs on one drive, and what the host facts say it has."""

    drive: str
    need: int
    """Bytes of known size."""
    what: tuple[str, ...]
    """'the backups (6.0 GB)', 'the new WSL disk (5.9 GB)'."""
    free: int | None
    """Free bytes from the host facts (None: not known)."""
    unknown: tuple[str, ...]
    """Sizes left out of need (the check cannot pass while any is unknown)."""

    @property
    def short(self) -> bool:
        """The known need alone is more than the drive has free."""
        return self.free is not None and self.need > self.free


def drive_needs(est: Estimate, drives: tuple[Drive, ...] = ()) -> tuple[DriveNeed, ...]:
    """The backups and the new WSL disk, summed per drive (both on C: by default), with each drive's free space."""
    free = {d.name.strip().rstrip("\\:").upper(): d.free_bytes for d in drives}
    by_drive: dict[str, tuple[int, list[str]]] = {}
    for folder, size, what in ((est.backup_folder, est.backup_bytes, "the backups"),
                               (est.wsl_disk_folder, est.wsl_disk_bytes, "the new WSL disk")):
        drive = folder_drive(folder)
        need, whats = by_drive.get(drive, (0, []))
        by_drive[drive] = (need + size, [*whats, f"{what} ({human_bytes(size)})"])
    return tuple(DriveNeed(d, need, tuple(whats), free.get(d) if d else None, est.unknown)
                 for d, (need, whats) in sorted(by_drive.items()))


def shortfall_text(needs: tuple[DriveNeed, ...]) -> str:
    """One sentence per drive too small for what it must hold, '' when none is (known sizes)."""
    out = []
    for n in needs:
        if n.short:
            assert n.free is not None
            out.append(f"drive {n.drive}: needs {human_bytes(n.need)} for {' and '.join(n.what)} but has "
                       f"{human_bytes(n.free)} free ({human_bytes(n.need - n.free)} short)")
    return "; ".join(out)


def roomiest_drive(est: Estimate, drives: tuple[Drive, ...]) -> str:
    """When C: is short of room for the backups and the new WSL disk, the fixed drive with the most free space that
    holds the backups; '' to keep the backups where they are."""
    needs = {n.drive: n for n in drive_needs(est, drives)}
    here = needs.get(folder_drive(est.backup_folder))
    if here is None or not here.short:
        return ""
    free = sorted(((d.free_bytes, d.name.strip().rstrip("\\:").upper()) for d in drives
                   if d.free_bytes is not None and d.name.strip().rstrip("\\:").upper() != here.drive),
                  key=lambda x: (-x[0], x[1]))
    if free and free[0][0] >= est.backup_bytes:
        return free[0][1]
    return ""
