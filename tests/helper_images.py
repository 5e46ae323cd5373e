"""Helper images for the digest and probe tests, built from this machine's own files (nothing is pulled)."""
from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

from tests.engines import BUSYBOX, Engine

GNU_TOOLS = {"sh": "dash", "find": "find", "stat": "stat", "od": "od", "sha256sum": "sha256sum", "sort": "sort",
             "cat": "cat", "awk": "mawk", "tar": "tar"}
"""Command name in the image -> the program on this machine that provides it."""


def _dir(tar: tarfile.TarFile, name: str, mode: int = 0o755) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.mode = tarfile.DIRTYPE, mode
    tar.addfile(info)


def _libraries(programs: list[str]) -> set[str]:
    """The shared objects (and the dynamic loader) the programs load, as absolute paths."""
    out: set[str] = set()
    for prog in programs:
        res = subprocess.run(["ldd", prog], capture_output=True, text=True)
        out.update(re.findall(r"(/\S+) \(0x", res.stdout))
    return out


def gnu_rootfs(dest: Path, omit: tuple[str, ...] = (), scripts: dict[str, str] | None = None) -> Path:
    """A root filesystem tar with GNU tools (minus `omit`, `scripts` as /bin/NAME shell scripts) and no /tmp."""
    programs = {name: shutil.which(prog) for name, prog in GNU_TOOLS.items() if name not in omit}
    absent = [n for n, p in programs.items() if p is None]
    if absent:
        raise RuntimeError(f"this machine lacks {absent} (Debian's coreutils, findutils, mawk, tar, dash)")
    paths = {n: os.path.realpath(p) for n, p in programs.items() if p}
    with tarfile.open(dest, "w") as tar:
        for d in ("bin", "data", "out", "etc"):
            _dir(tar, d)
        done: set[str] = set()
        for lib in sorted(_libraries(list(paths.values()))):
            real = os.path.realpath(lib)
            for name in (lib, real):
                parents = Path(name.lstrip("/")).parents
                for parent in reversed([p for p in parents if str(p) != "."]):
                    if str(parent) not in done:
                        done.add(str(parent))
                        _dir(tar, str(parent))
            if real.lstrip("/") not in done:
                done.add(real.lstrip("/"))
                tar.add(real, arcname=real.lstrip("/"))
            if lib != real and lib.lstrip("/") not in done:
                done.add(lib.lstrip("/"))
                info = tarfile.TarInfo(lib.lstrip("/"))
                info.type, info.linkname = tarfile.SYMTYPE, real
                tar.addfile(info)
        for name, real in sorted(paths.items()):
            if name not in (scripts or {}):
                tar.add(real, arcname=f"bin/{name}")
        for name, text in sorted((scripts or {}).items()):
            data = text.encode()
            info = tarfile.TarInfo(f"bin/{name}")
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
        passwd = b"root:x:0:0:root:/:/bin/sh\n"
        info = tarfile.TarInfo("etc/passwd")
        info.size = len(passwd)
        tar.addfile(info, io.BytesIO(passwd))
    return dest


def busybox_rootfs_without_tmp(dest: Path, applets: tuple[str, ...] = ("sh", "tar", "cat")) -> Path:
    """Static busybox and a few applet links, without /tmp (Debian's busybox shell finds the other applets)."""
    with tarfile.open(dest, "w") as tar:
        for d in ("bin", "data", "out"):
            _dir(tar, d)
        tar.add(str(BUSYBOX), arcname="bin/busybox")
        for applet in applets:
            info = tarfile.TarInfo(f"bin/{applet}")
            info.type, info.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(info)
    return dest


def import_image(engine: Engine, rootfs: Path, tag: str) -> str:
    """Import a root filesystem tar as image `tag` (PATH set to /bin) and return the tag."""
    engine.docker("import", "--change", "ENV PATH=/bin", str(rootfs), tag)
    return tag
