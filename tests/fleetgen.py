"""Make N varied collector bundles from the samples: a fleet to run `wsl2-migrate fleet` on (tests and bench).

Each machine starts from one of the three samples and gets its own computer name, Windows build, WSL state,
Docker Desktop version and data sizes, chosen by a seeded random generator: the same seed gives the same
bundles byte for byte. A few machines carry hostile names, and a few bundles are broken on purpose (a
malformed file, an archive entry climbing out with '..', a file that is not a zip), so the fleet shows every
verdict class. Bundles are written as zips the way the collector's -OutputZip writes them (one top folder
named by machine and date), or as folders.
"""
from __future__ import annotations

import json
import random
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
TEMPLATES = (("hyperv-2x", 45), ("near-wsl2", 35), ("lcow", 20))
"""Sample -> weight: most of a fleet on Hyper-V, some close to done, some on LCOW."""

WINDOWS = (  # build, revision, display version, caption
    (17763, 1457, "1809", "Microsoft Windows 10 Pro"),
    (18363, 1016, "1909", "Microsoft Windows 10 Enterprise"),
    (19041, 1415, "2004", "Microsoft Windows 10 Pro"),
    (19044, 4170, "21H2", "Microsoft Windows 10 Enterprise"),
    (19045, 3803, "22H2", "Microsoft Windows 10 Pro"),
    (19045, 5131, "22H2", "Microsoft Windows 10 Enterprise"),
    (22621, 3880, "22H2", "Microsoft Windows 11 Pro"),
    (22631, 4602, "23H2", "Microsoft Windows 11 Enterprise"),
    (26100, 2314, "24H2", "Microsoft Windows 11 Pro"),
)
DESKTOP = {"hyperv-2x": ("2.3.0.5", "2.4.0.0", "2.5.0.1", "3.0.0", "3.6.0", "4.12.0"),
           "near-wsl2": ("4.25.2", "4.30.0", "4.34.3", "4.36.0", "4.38.0"),
           "lcow": ("2.1.0.5", "2.3.0.5", "2.5.0.1")}
WSL = ({"installed": False, "distros": []},
       {"installed": True, "distros": []},
       {"installed": True, "version": "2.0.14.0", "default_version": 2, "distros": []},
       {"installed": True, "version": "2.3.26.0", "default_version": 2,
        "distros": [{"name": "Ubuntu-22.04", "state": "Stopped", "version": 2}]},
       {"installed": True, "version": "2.4.11.0", "default_version": 2,
        "distros": [{"name": "Ubuntu", "state": "Running", "version": 2}]})
HOSTILE_NAMES = ('<script>alert("fleet")</script>', "O'Brien & \"Co\" <b>", "=HYPERLINK(\"http://x\")",
                 "../../etc/passwd", "CON")
"""Computer names a hostile or careless bundle may carry; each must reach the pages as inert text."""
HOSTILE_CONTAINER = "<script>alert(1)</script>"
COLLECTED = "2025-01-31"


@dataclass(frozen=True, slots=True)
class Made:
    """One generated bundle."""

    path: Path
    computer: str
    template: str
    broken: str = ""
    """Empty for a readable bundle, else how it was broken."""


def _load(sample: str) -> dict[str, bytes]:
    root = SAMPLES / sample
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _scale_mb(text: str, factor: float) -> str:
    m = re.fullmatch(r"([0-9.]+)\s*([kKMG]?B)", text or "")
    if not m:
        return text
    return f"{float(m.group(1)) * factor:.2f}{m.group(2)}"


def _vary(files: dict[str, bytes], rnd: random.Random, computer: str, template: str,
          hostile_container: bool) -> dict[str, bytes]:
    """The sample's files with this machine's name, platform and sizes."""
    out = dict(files)
    factor = 10 ** rnd.uniform(-1.5, 1.6)  # from about 3% to 40 times the sample's data
    # Half the machines close to done have nothing left to fix: no stale settings file, a clean .wslconfig.
    clean = template == "near-wsl2" and rnd.random() < 0.5
    if clean:
        out.pop("desktop/settings.json", None)
        out["host/wslconfig"] = out["host/wslconfig"].replace(b"[experimantal]", b"[experimental]")

    def edit(rel: str, fn) -> None:
        if rel in out:
            data = json.loads(out[rel].decode("utf-8-sig"))
            out[rel] = (json.dumps(fn(data), indent=2, ensure_ascii=False) + "\n").encode("utf-8")

    def manifest(d: dict) -> dict:
        d.update(computer=computer, collected_at=f"{COLLECTED}T09:00:00Z")
        return d

    def facts(d: dict) -> dict:
        builds = WINDOWS[:3] if template == "lcow" else WINDOWS[4:] if clean else WINDOWS
        build, ubr, display, caption = rnd.choice(builds)
        d["computer_name"] = computer
        d["os"].update(build=build, ubr=ubr, display_version=display, caption=caption,
                       edition_id="Enterprise" if "Enterprise" in caption else "Professional")
        d["desktop_version"] = rnd.choice(DESKTOP[template])
        d["wsl"] = dict(rnd.choice(WSL[3:] if clean else WSL))
        enabled = clean or (d["wsl"]["installed"] and rnd.random() < 0.7)
        d["features"]["Microsoft-Windows-Subsystem-Linux"] = "Enabled" if enabled else "Disabled"
        d["features"]["VirtualMachinePlatform"] = "Enabled" if enabled else "Disabled"
        for drive in d.get("drives", []):
            drive["free_bytes"] = int(rnd.uniform(5, 400) * 1e9)
        return d

    def images(items: list) -> list:
        for item in items:
            item["Size"] = int(item.get("Size", 0) * factor)
        return items

    def containers(items: list) -> list:
        for item in items:
            if item.get("SizeRw"):
                item["SizeRw"] = int(item["SizeRw"] * factor)
        if hostile_container and items:
            items[0]["Name"] = "/" + HOSTILE_CONTAINER
        return items

    def df(d: dict) -> dict:
        for volume in d.get("Volumes") or []:
            volume["Size"] = _scale_mb(volume.get("Size", ""), factor)
        return d

    edit("manifest.json", manifest)
    edit("host/facts.json", facts)
    edit("engine/images.json", images)
    edit("engine/containers.json", containers)
    edit("engine/df.json", df)
    return out


def _write_zip(path: Path, top: str, files: dict[str, bytes], extra: dict[str, bytes] | None = None) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel, data in sorted({**files, **(extra or {})}.items()):
            info = zipfile.ZipInfo(rel if rel.startswith("..") else f"{top}/{rel}", (2025, 1, 31, 9, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)


def _write_dir(path: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        target = path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def generate(out: Path, machines: int, seed: int = 13, zips: bool = True, broken_every: int = 50,
             hostile_every: int = 40) -> list[Made]:
    """Write `machines` bundles into out (created); every broken_every-th is broken, hostile_every-th hostile."""
    rnd = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    samples = {name: _load(name) for name, _ in TEMPLATES}
    names, weights = zip(*TEMPLATES, strict=True)
    made = []
    for i in range(1, machines + 1):
        template = rnd.choices(names, weights)[0]
        hostile = hostile_every > 0 and i % hostile_every == 7 % hostile_every
        computer = f"{HOSTILE_NAMES[(i // hostile_every) % len(HOSTILE_NAMES)]}" if hostile else f"WS-{i:05d}"
        files = _vary(samples[template], rnd, computer, template, hostile)
        broken = ""
        if broken_every > 0 and i % broken_every == 0:
            broken = ("malformed", "escape", "not-zip")[(i // broken_every) % 3] if zips else "malformed"
        if broken == "malformed":
            files["engine/info.json"] = b'{"ID": "truncated'
        stem = f"WS-{i:05d}_{COLLECTED}"
        if not zips:
            _write_dir(out / stem, files)
            made.append(Made(out / stem, computer, template, broken))
            continue
        path = out / f"{stem}.zip"
        if broken == "not-zip":
            path.write_bytes(b"this file was cut short by a failed copy\n")
        else:
            _write_zip(path, stem, files, {"../escape.txt": b"outside"} if broken == "escape" else None)
        made.append(Made(path, computer, template, broken))
    return made
