"""Assemble one Inventory from any combination of sources: a live engine, a bundle and single files."""
from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrate.errors import EngineError, InputError
from migrate.inventory import protect
from migrate.inventory.engine import Progress, RawEngine
from migrate.model import (
    ConfigFile,
    FileFact,
    HostFacts,
    Inventory,
    Note,
    ProjectFile,
    SecretValues,
    Settings,
    Source,
)
from migrate.secrets import digest_key, key_id


@dataclass
class ScanOptions:
    """What to read. Paths are as the user gave them."""

    host: str | None = None
    context: str | None = None
    hyperv_host: str | None = None
    """The LCOW host's second engine (Docker Desktop's Linux engine in the Hyper-V VM): `--host` given twice."""
    use_engine: bool | None = None
    """True: read a live engine; False: never; None: only when no other source is given."""
    inventory: Path | None = None
    """An inventory JSON to start from (assess/plan take one instead of scanning)."""
    bundle: Path | None = None
    bundle_partial: bool = False
    """Read a bundle without manifest.json (one assembled by hand from `docker ... inspect` output)."""
    engine_info: list[Path] = field(default_factory=list)
    """`docker info` and/or `docker version` captures of one engine (JSON or text)."""
    settings: list[Path] = field(default_factory=list)
    daemon_configs: list[str] = field(default_factory=list)
    """FILE, or linux=FILE / windows=FILE to say which engine's config it is."""
    wslconfig: Path | None = None
    host_facts: Path | None = None
    admin_settings: Path | None = None
    """Docker Desktop's admin-settings.json (found in %ProgramData%\\DockerDesktop on Windows, or in a bundle)."""
    projects: list[Path] = field(default_factory=list)
    volume_digests: bool = False
    """Digest every volume's content through a helper container (live engine only; docs/verify.md)."""
    with_secrets: bool = False
    """Keep env values, secret-named labels and options and URL passwords as read, instead of keyed digests."""

    def has_file_sources(self) -> bool:
        """Whether any source other than a live engine was given."""
        return bool(self.inventory or self.bundle or self.engine_info or self.settings or self.daemon_configs
                    or self.wslconfig or self.host_facts or self.admin_settings or self.projects)

    def wants_engine(self) -> bool:
        """Whether to talk to a live engine."""
        if self.use_engine is not None:
            return self.use_engine
        return bool(self.host or self.context) or not self.has_file_sources()


def _engine_infos(value: Path | list[Path] | None) -> list[Path]:
    if value is None:
        return []
    return [value] if isinstance(value, Path) else list(value)


def _daemon_kind(spec: str) -> tuple[str, Path]:
    if spec.startswith(("linux=", "windows=")):
        kind, _, path = spec.partition("=")
        return kind, Path(path)
    p = Path(spec)
    lowered = spec.replace("\\", "/").lower()
    if "windows" in p.name.lower() or "programdata/docker" in lowered:
        return "windows", p
    return "linux", p


def _settings_kind(path: Path) -> str:
    return "settings-store.json" if "settings-store" in path.name.lower() else "settings.json"


def windows_defaults(opts: ScanOptions) -> ScanOptions:
    """A copy of opts with, on Windows with no file flags, the default locations of every settings file (those
    that exist) added; opts itself is left as the caller made it."""
    # The engine was wanted because no file was given; the files found here must not change that.
    opts = dataclasses.replace(opts, settings=list(opts.settings), daemon_configs=list(opts.daemon_configs),
                               use_engine=opts.wants_engine())
    appdata = Path(os.environ.get("APPDATA", ""))
    profile = Path(os.environ.get("USERPROFILE", ""))
    programdata = Path(os.environ.get("ProgramData", r"C:\ProgramData"))
    for p in (appdata / "Docker" / "settings.json", appdata / "Docker" / "settings-store.json"):
        if p.is_file():
            opts.settings.append(p)
    if (profile / ".docker" / "daemon.json").is_file():
        opts.daemon_configs.append(f"linux={profile / '.docker' / 'daemon.json'}")
    win_daemon = programdata / "Docker" / "config" / "daemon.json"
    if win_daemon.is_file():
        opts.daemon_configs.append(f"windows={win_daemon}")
    if (profile / ".wslconfig").is_file():
        opts.wslconfig = profile / ".wslconfig"
    admin = programdata / "DockerDesktop" / "admin-settings.json"
    if admin.is_file():
        opts.admin_settings = admin
    return opts


def scan(opts: ScanOptions, tool_version: str, progress: Progress | None = None,
         host_facts_reader: Callable[[], tuple[HostFacts | None, list[Note]]] | None = None) -> Inventory:
    """Read every source in opts into one Inventory; later sources fill what earlier ones lacked."""
    from migrate.inventory.backend import detect_backend
    from migrate.inventory.bundle import read_bundle
    from migrate.inventory.engineinfo import Capture, read_capture
    from migrate.inventory.desktop import (
        read_admin_settings,
        read_daemon_config,
        read_desktop_settings,
        read_wslconfig,
    )
    from migrate.inventory.host import host_facts_from_engine, read_host_facts
    from migrate.inventory.projectfiles import scan_projects
    from migrate.inventory.sanity import check_numbers
    from migrate.inventory.second import engine_objects, second_engine
    from migrate.inventory.textfile import read_text

    if not opts.has_file_sources() and not opts.wants_engine():
        raise InputError("nothing to scan: give --host, --context, --bundle or files")
    if sys.platform == "win32" and not opts.has_file_sources():
        opts = windows_defaults(opts)

    sources: list[Source] = []
    notes: list[Note] = []
    raw: RawEngine | None = None
    live: tuple[str, Any] | None = None
    settings_json: Path | None = None
    settings_store: Path | None = None
    daemon_linux: Path | None = None
    daemon_windows: Path | None = None
    wslconfig = opts.wslconfig
    host_facts_path = opts.host_facts
    bundle_second: tuple[RawEngine, str] | None = None
    bundle_env_key = ""
    admin_path = opts.admin_settings

    if opts.bundle is not None:
        b = read_bundle(opts.bundle, partial=opts.bundle_partial)
        sources.append(Source(kind="bundle", ref=str(opts.bundle)))
        notes.extend(b.notes)
        raw = b.engine
        settings_json, settings_store = b.settings_json, b.settings_store_json
        daemon_linux, daemon_windows = b.daemon_linux, b.daemon_windows
        wslconfig = wslconfig or b.wslconfig
        host_facts_path = host_facts_path or b.host_facts
        if b.hyperv_engine is not None:
            bundle_second = (b.hyperv_engine, b.hyperv_url)
        bundle_env_key = str(b.manifest.get("env_digest_key_id") or "")
        admin_path = admin_path or b.admin_settings

    if opts.wants_engine():
        from migrate.inventory.engine import read_engine, resolve_host

        url, tls = resolve_host(opts.host, opts.context)
        try:
            raw = read_engine(url, tls, progress)
        except EngineError as exc:
            if opts.host or opts.context or opts.use_engine:
                raise
            # The engine was only the default source: say how to go on without one.
            raise EngineError(f"{exc.message} Without an engine, read a collector bundle with --bundle DIR "
                              "(`wsl2-migrate collector`), or try the tool on a sample: "
                              "`wsl2-migrate run --sample hyperv-2x --out DIR`") from None
        live = (url, tls)
        sources.append(Source(kind="engine", ref=url))
    if opts.hyperv_host:
        if live is None:
            raise InputError(f"--host {opts.hyperv_host}: a second --host is the Hyper-V VM's Linux engine beside the "
                             "first; give the engine to migrate first")
        sources.append(Source(kind="engine-hyperv", ref=opts.hyperv_host))

    infos = _engine_infos(opts.engine_info)
    if infos:
        capture = Capture()
        for path in infos:
            text, _ = read_text(path, "engine-info")
            capture.merge(read_capture(text, str(path)), str(path))
            sources.append(Source(kind="engine-info", ref=str(path)))
        if raw is None:
            raw = RawEngine(url=f"file:{infos[0]}", info=capture.info, version=capture.version,
                            client=capture.client)
            raw.notes.append(Note(area="engine", subject=", ".join(str(p) for p in infos),
                                  message="images, containers, volumes and networks were not read: a `docker "
                                  "info` or `docker version` capture holds only counts"))
        else:
            raw.info = raw.info or capture.info
            raw.version = raw.version or capture.version
            raw.client = raw.client or capture.client

    given: dict[str, Path] = {}

    def once(flag: str, path: Path) -> Path:
        """A flag's file; the same kind of file given twice is refused rather than one silently dropped."""
        if flag in given:
            raise InputError(f"{flag} given twice ({given[flag]} and {path}); give one file of each kind")
        given[flag] = path
        return path

    for p in opts.settings:
        sources.append(Source(kind="settings", ref=str(p)))
        if _settings_kind(p) == "settings-store.json":
            settings_store = once("--settings (settings-store.json)", p)
        else:
            settings_json = once("--settings (settings.json)", p)
    for spec in opts.daemon_configs:
        kind, p = _daemon_kind(spec)
        sources.append(Source(kind="daemon-config", ref=str(p)))
        if kind == "windows":
            daemon_windows = once("--daemon-config windows=", p)
        else:
            daemon_linux = once("--daemon-config linux=", p)

    desktop = read_desktop_settings(settings_json, settings_store) if (settings_json or settings_store) else None
    d_linux: ConfigFile | None = read_daemon_config(daemon_linux) if daemon_linux else None
    d_windows: ConfigFile | None = read_daemon_config(daemon_windows) if daemon_windows else None
    wsl: ConfigFile | None = None
    if wslconfig is not None:
        if opts.wslconfig is not None:
            sources.append(Source(kind="wslconfig", ref=str(wslconfig)))
        wsl = read_wslconfig(wslconfig)
    admin: ConfigFile | None = None
    if admin_path is not None:
        if opts.admin_settings is not None:
            sources.append(Source(kind="settings", ref=str(admin_path)))
        admin = read_admin_settings(admin_path)

    host = None
    if host_facts_path is not None:
        if opts.host_facts is not None:
            sources.append(Source(kind="host-facts", ref=str(host_facts_path)))
        host = read_host_facts(host_facts_path)
    elif host_facts_reader is not None:
        host, host_notes = host_facts_reader()
        notes.extend(host_notes)
        if host is not None:
            sources.append(Source(kind="host-facts", ref="powershell"))

    project_files: list[ProjectFile] = []
    file_facts: list[FileFact] = []
    if opts.projects:
        for p in opts.projects:
            sources.append(Source(kind="project", ref=str(p)))
        project_files, file_facts, pnotes = scan_projects(opts.projects)
        notes.extend(pnotes)

    key = None if opts.with_secrets else digest_key()
    engine = None
    images: list[Any] = []
    containers: list[Any] = []
    volumes: list[Any] = []
    networks: list[Any] = []
    info: dict[str, Any] = {}
    version: dict[str, Any] = {}
    if raw is not None:
        info, version = raw.info, raw.version
        objs = engine_objects(raw, opts.volume_digests, live, progress, key)
        engine, images, containers, volumes, networks = objs.engine, objs.images, objs.containers, objs.volumes, \
            objs.networks
        notes.extend(objs.notes)
    else:
        notes.append(Note(area="engine", subject="-", message="no engine was read: images, containers, volumes "
                          "and networks are unknown"))
    if host is None:
        # A Windows engine (LCOW's) knows the build, update revision and edition of the machine it runs on.
        host = host_facts_from_engine(engine)
        if host is not None:
            sources.append(Source(kind="host-facts", ref="docker info"))

    backend = detect_backend(info, version or None, desktop, raw.client if raw is not None else None)
    # The LCOW host's second engine (before the notes are protected: its notes are among them).
    hyperv, hyperv_notes = second_engine(opts, bundle_second, host, backend.kind, progress, key)
    notes.extend(hyperv_notes)
    if key is not None:
        engine = engine and protect.engine(engine, key)
        desktop = desktop and protect.desktop(desktop, key)
        d_linux = d_linux and protect.config_file(d_linux, key)
        d_windows = d_windows and protect.config_file(d_windows, key)
        wsl = wsl and protect.config_file(wsl, key)
        file_facts = [protect.file_fact(f, key) for f in file_facts]
        notes = [protect.note(n, key) for n in notes]
    own_id = key_id(key) if key is not None else ""
    inv = Inventory(
        tool_version=tool_version,
        sources=tuple(sources),
        secrets=SecretValues(mode="clear" if key is None else "digest", key_id=own_id,
                             env_key_id=bundle_env_key or own_id),
        backend=backend,
        engine=engine,
        images=tuple(images),
        containers=tuple(containers),
        volumes=tuple(volumes),
        networks=tuple(networks),
        settings=Settings(desktop=desktop, daemon_linux=d_linux, daemon_windows=d_windows, wslconfig=wsl,
                          admin_settings=admin),
        host=host,
        project_files=tuple(project_files),
        files=tuple(file_facts),
        notes=tuple(sorted(set(notes), key=lambda n: (n.area, n.subject, n.message))),
        hyperv_engine=hyperv,
    )
    check_numbers(inv, ", ".join(s.ref for s in sources) or "scan")
    return inv


def relabel(inv: Inventory, root: Path, label: str) -> Inventory:
    """The inventory with every path under root written as label/... (a bundled sample shows as
    samples/NAME/..., not as wherever the package is installed)."""
    prefix = str(root)

    def fix(value: Any) -> Any:
        if isinstance(value, str):
            if value.startswith(prefix):
                return label + value[len(prefix):].replace(os.sep, "/")
            return value.replace(prefix, label) if prefix in value else value
        if isinstance(value, tuple):
            return tuple(fix(v) for v in value)
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return dataclasses.replace(value, **{f.name: fix(getattr(value, f.name))
                                                 for f in dataclasses.fields(value)})
        return value

    return fix(inv)  # type: ignore[no-any-return]
