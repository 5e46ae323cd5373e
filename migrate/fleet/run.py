"""Run a fleet assessment: every bundle through a process pool, then the roll-up, its pages and files, into DIR."""
from __future__ import annotations

import dataclasses
import multiprocessing
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from migrate.errors import InputError, MigrateError
from migrate.fleet.machine import Machine, assign_idents
from migrate.fleet.rollup import Fleet, roll_up
from migrate.fleet.waves import DEFAULT_WAVE_SIZE, Assignment, plan_waves, read_csv
from migrate.fleet.worker import Settings, assess_bundle, init, worker_count

OUTPUTS = ("index.html", "fleet.csv", "fleet.json", "waves.csv")
"""The files a run writes into DIR, besides the machines/ folder."""

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Result:
    """What a run wrote and what the user should know about it."""

    fleet: Fleet
    notices: tuple[str, ...]


def _pool_context() -> multiprocessing.context.BaseContext:
    """fork where it exists (workers inherit the loaded catalog), else spawn (Windows, macOS)."""
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _assess_all(bundles: Sequence[str], settings: Settings, jobs: int,
                progress: Progress | None) -> Iterator[Machine]:
    """Each bundle's row, as workers finish them; one bundle in flight per worker, so memory stays flat."""
    tasks = list(enumerate(bundles))
    workers = min(worker_count(jobs), max(len(tasks), 1))
    init(settings)
    if workers == 1:
        for done, task in enumerate(tasks, 1):
            yield assess_bundle(task)
            if progress is not None:
                progress(done, len(tasks))
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context(), initializer=init,
                             initargs=(settings,)) as pool:
        futures = [pool.submit(assess_bundle, task) for task in tasks]
        try:
            for done, future in enumerate(as_completed(futures), 1):
                yield future.result()
                if progress is not None:
                    progress(done, len(tasks))
        except BrokenProcessPool:
            raise MigrateError("a worker process died while assessing bundles (out of memory?); "
                               "run again with --jobs 1 to find the bundle") from None
        finally:
            for future in futures:
                future.cancel()


def _read_assignment(out_dir: Path, waves_file: Path | None, fresh: bool) -> Assignment | None:
    """The waves people edited: --waves FILE, else DIR/waves.csv from the last run (unless --fresh-waves)."""
    from migrate.inventory.textfile import read_text

    path = waves_file
    if path is None and not fresh and (out_dir / "waves.csv").is_file():
        path = out_dir / "waves.csv"
    if path is None:
        return None
    text, _ = read_text(path)
    return read_csv(text, str(path))


def _write(path: Path, text: str | Iterable[str]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        if isinstance(text, str):
            fh.write(text)
        else:
            fh.writelines(text)


def _check_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir}: exists and is not a folder")
    if not out_dir.parent.is_dir():
        raise InputError(f"{out_dir}: the folder {out_dir.parent} does not exist")
    for name in (*OUTPUTS, "machines"):
        target = out_dir / name
        if target.is_symlink() or (target.exists() and (target.is_dir() != (name == "machines"))):
            raise InputError(f"{target}: is in the way (expected {'a folder' if name == 'machines' else 'a file'}"
                             " written by an earlier run)")


def _move_into_place(staging: Path, out_dir: Path) -> None:
    """machines/ swapped whole (no page of a machine gone since stays behind), then the files, index last."""
    old = out_dir / "machines"
    if old.is_dir():
        os.replace(old, staging / "machines.old")
    os.replace(staging / "machines", old)
    for name in ("fleet.csv", "fleet.json", "waves.csv", "index.html"):
        os.replace(staging / name, out_dir / name)


def run_fleet(bundles: Sequence[Path], out_dir: Path, settings: Settings, jobs: int = 0,
              wave_size: int = DEFAULT_WAVE_SIZE, waves_file: Path | None = None, fresh_waves: bool = False,
              progress: Progress | None = None) -> Result:
    """Assess every bundle and write DIR/index.html, machines/, fleet.csv, fleet.json and waves.csv.

    Everything is written into a temporary folder inside DIR first and moved into place at the end; an error or
    an interrupt leaves DIR as it was.
    """
    from migrate.fleet.tables import json_chunks, render_csv
    from migrate.fleet.waves import render_csv as render_waves
    from migrate.fleet import html as fleethtml

    _check_out_dir(out_dir)
    edited = _read_assignment(out_dir, waves_file, fresh_waves)
    if wave_size < 1:
        raise InputError(f"--wave-size: {wave_size} is not a positive number")
    try:
        out_dir.mkdir(exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".wsl2-migrate-fleet-", dir=out_dir))
    except OSError as exc:
        raise InputError(f"{out_dir}: cannot write ({exc.strerror or exc})") from None
    try:
        (staging / "pages").mkdir()
        (staging / "machines").mkdir()
        settings = dataclasses.replace(settings, staging=staging)
        rows = sorted(_assess_all([str(b) for b in bundles], settings, jobs, progress), key=lambda m: m.index)
        idents = assign_idents([m.name for m in rows])
        machines = [dataclasses.replace(m, ident=ident) for m, ident in zip(rows, idents, strict=True)]
        for m in machines:
            if m.pages:
                for ext in ("json", "html"):
                    os.replace(staging / "pages" / f"{m.index}.{ext}", staging / "machines" / f"{m.ident}.{ext}")
        waves = plan_waves(machines, wave_size, edited)
        fleet = roll_up(machines, waves, settings.tool_version)
        _write(staging / "index.html", fleethtml.render(fleet))
        _write(staging / "fleet.csv", render_csv(fleet))
        _write(staging / "fleet.json", json_chunks(fleet))
        _write(staging / "waves.csv", render_waves(waves, machines))
        _move_into_place(staging, out_dir)
    except OSError as exc:
        raise InputError(f"{out_dir}: cannot write ({exc.strerror or exc})") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    notices = []
    if edited is not None:
        known = {m.ident for m in machines}
        gone = [ident for ident in edited.order if ident not in known]
        if gone:
            notices.append(f"waves.csv names {len(gone)} machine{'s' if len(gone) != 1 else ''} not in this run "
                           f"(dropped): {', '.join(gone[:10])}{' ...' if len(gone) > 10 else ''}")
    unread = sum(1 for m in machines if m.report is None)
    if unread:
        notices.append(f"{unread} bundle{'s' if unread != 1 else ''} could not be read: see index.html "
                       "(Bundles that could not be read) or the read_error column of fleet.csv")
    return Result(fleet, tuple(notices))
