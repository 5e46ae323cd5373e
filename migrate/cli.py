"""The command line: the one place that reads flags, opens output files, talks to the terminal and exits."""
from __future__ import annotations

import functools
import inspect
import os
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

import typer

from migrate import __version__
from migrate.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, InputError, MigrateError

app = typer.Typer(
    name="wsl2-migrate",
    no_args_is_help=True,
    # Plain help text: flags without a type column, metavars as written (FILE, DIR, URL, N), examples kept as typed.
    rich_markup_mode=None,
    help="Move Docker Desktop for Windows from the Hyper-V VM or LCOW backend to WSL2 without losing anything.",
    pretty_exceptions_enable=False,
)


def fail(message: str, code: int) -> None:
    """Print one error line and exit."""
    typer.echo(f"wsl2-migrate: error: {message}", err=True)
    raise typer.Exit(code)


def guarded(fn: Callable[[], Any]) -> Any:
    """Run a command body inside the error boundary: one line per error, never a traceback on screen."""
    try:
        return fn()
    except MigrateError as exc:
        fail(exc.message, exc.exit_code)
    except KeyboardInterrupt:
        fail("interrupted", EXIT_INTERRUPTED)
    except typer.Exit:
        raise
    except Exception:  # a bug: keep the traceback for the report, show one line
        fd, log = tempfile.mkstemp(prefix="wsl2-migrate-crash-", suffix=".log")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(traceback.format_exc())
        err = sys.exc_info()[1]
        fail(f"internal error ({type(err).__name__}: {str(err)[:200]}); details in {log}", EXIT_INTERNAL)


def write_output(text: Any, out: Optional[Path], private: bool = False) -> None:
    """Write text (a string or its pieces) to out through the one writer, or to stdout when out is None or '-'."""
    from migrate.output import write_text

    write_text(text, out, private)


def check_output(out: Optional[Path]) -> None:
    """Refuse an output path the writer would refuse, before the command does its work."""
    from migrate.output import check_target

    check_target(out)


def _progress_printer() -> Callable[[str, int, int], None] | None:
    if not sys.stderr.isatty():
        return None

    def show(stage: str, done: int, total: int) -> None:
        end = "\n" if done == total else ""
        sys.stderr.write(f"\r  reading {stage}: {done}/{total}{end}")
        sys.stderr.flush()

    return show


def version_callback(value: bool) -> None:
    """--version."""
    if value:
        typer.echo(f"wsl2-migrate {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    version: bool = typer.Option(False, "--version", callback=version_callback, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Scan, assess and plan the move of a Docker Desktop installation to the WSL2 backend."""


# ------------------------------------------------------------------------------------------------- sources

HOST_OPT = typer.Option(None, "--host", "-H", metavar="URL", help="Engine URL (unix://, tcp://, npipe://). Given "
                        "twice on an LCOW host: the Windows engine, then Docker Desktop's Linux engine in the Hyper-V "
                        "VM.")
CONTEXT_OPT = typer.Option(None, "--context", metavar="NAME", help="Docker context name.")
BUNDLE_OPT = typer.Option(None, "--bundle", metavar="DIR", help="A collector bundle directory.")
BUNDLE_PARTIAL_OPT = typer.Option(False, "--bundle-partial",
                                  help="Read a --bundle that has no manifest.json (assembled by hand).")
ENGINE_INFO_OPT = typer.Option(None, "--engine-info", metavar="FILE",
                               help="`docker info` and/or `docker version` output, JSON or text (repeatable).")
SETTINGS_OPT = typer.Option(None, "--settings", metavar="FILE",
                            help="Docker Desktop settings.json or settings-store.json.")
DAEMON_OPT = typer.Option(None, "--daemon-config", metavar="[KIND=]FILE",
                          help="daemon.json (repeatable); KIND is linux or windows, the engine it configures.")
WSLCONFIG_OPT = typer.Option(None, "--wslconfig", metavar="FILE", help="A .wslconfig file.")
HOSTFACTS_OPT = typer.Option(None, "--host-facts", metavar="FILE", help="Host facts JSON (docs/bundle.md).")
PROJECT_OPT = typer.Option(None, "--project", metavar="DIR", help="A project directory to search (repeatable).")


SOURCES: dict[str, tuple[Any, Any]] = {
    "host": (Optional[list[str]], HOST_OPT), "context": (Optional[str], CONTEXT_OPT),
    "bundle": (Optional[Path], BUNDLE_OPT), "bundle_partial": (bool, BUNDLE_PARTIAL_OPT),
    "engine_info": (Optional[list[Path]], ENGINE_INFO_OPT),
    "settings": (Optional[list[Path]], SETTINGS_OPT), "daemon_config": (Optional[list[str]], DAEMON_OPT),
    "wslconfig": (Optional[Path], WSLCONFIG_OPT), "host_facts": (Optional[Path], HOSTFACTS_OPT),
    "project": (Optional[list[Path]], PROJECT_OPT),
}
"""The source options every reading command takes: name -> (type, typer option)."""


def with_sources(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Give a command the shared source options (--host, --bundle, ...); fn receives them as `sources` (a dict).

    typer reads a command's options from its signature, so the wrapper's signature is fn's own parameters
    (without `sources`) followed by the source options; the options are declared once, here.
    """
    sig = inspect.signature(fn)
    own = [p for p in sig.parameters.values() if p.name != "sources"]
    extra = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=opt, annotation=tp)
             for name, (tp, opt) in SOURCES.items()]

    @functools.wraps(fn)
    def wrapper(**kwargs: Any) -> Any:
        sources = {name: kwargs.pop(name) for name in SOURCES}
        return fn(sources=sources, **kwargs)

    wrapper.__signature__ = sig.replace(parameters=[*own, *extra])  # type: ignore[attr-defined]
    return wrapper


def build_options(inventory: Optional[Path] = None, host: str | list[str] | None = None, context: Optional[str] = None,
                  bundle: Optional[Path] = None, engine_info: Optional[list[Path]] = None,
                  settings: Optional[list[Path]] = None, daemon_config: Optional[list[str]] = None,
                  wslconfig: Optional[Path] = None, host_facts: Optional[Path] = None,
                  project: Optional[list[Path]] = None, bundle_partial: bool = False) -> Any:
    """ScanOptions from the shared source flags."""
    from migrate.inventory.scan import ScanOptions

    if bundle_partial and bundle is None:
        raise InputError("--bundle-partial: give it with --bundle DIR")
    infos = [engine_info] if isinstance(engine_info, Path) else list(engine_info or [])
    hosts = [host] if isinstance(host, str) else list(host or [])
    if len(hosts) > 2:
        raise InputError(f"--host given {len(hosts)} times: give the engine to migrate, and on an LCOW host Docker "
                         "Desktop's Linux engine in the Hyper-V VM second")
    return ScanOptions(host=hosts[0] if hosts else None, hyperv_host=hosts[1] if len(hosts) > 1 else None,
                       context=context, inventory=inventory, bundle=bundle,
                       bundle_partial=bundle_partial, engine_info=infos,
                       settings=list(settings or []), daemon_configs=list(daemon_config or []),
                       wslconfig=wslconfig, host_facts=host_facts, projects=list(project or []))


def load_or_scan(opts: Any, quiet: bool = True) -> Any:
    """The inventory: read from an inventory file when given, else scanned from the sources."""
    from migrate.inventory.scan import scan

    if opts.inventory is not None:
        return read_inventory(opts.inventory)
    return scan(opts, __version__, None if quiet else _progress_printer(), _windows_host_reader())


def read_inventory(path: Path) -> Any:
    """An inventory JSON file; InputError with the file and the JSON path on any problem."""
    from migrate.inventory.sanity import check_numbers
    from migrate.inventory.textfile import parse_json, read_text
    from migrate.model import SCHEMA, DecodeError, Inventory, from_data

    if path.is_dir():
        hint = " (a collector bundle: give it with --bundle)" if (path / "manifest.json").is_file() or \
            (path / "engine").is_dir() else ""
        raise InputError(f"{path}: is a directory, expected an inventory JSON file{hint}")
    text, _ = read_text(path)
    if not text.strip():
        raise InputError(f"{path}: the file is empty, expected an inventory JSON written by `scan`")
    data = parse_json(text, str(path))  # depth limit, no NUL or lone surrogate
    try:
        if not isinstance(data, dict):
            raise DecodeError("$: an inventory is a JSON object")
        if data.get("schema") != SCHEMA:
            raise DecodeError(f"$.schema: expected {SCHEMA!r}, found {str(data.get('schema'))[:80]!r}")
        inv = from_data(Inventory, data)
    except DecodeError as exc:
        raise InputError(f"{path}: not a wsl2-migrate inventory ({exc})") from None
    check_numbers(inv, str(path))
    return inv


def _windows_host_reader() -> Callable[[], Any] | None:
    if sys.platform != "win32":
        return None
    from migrate.inventory.windows import gather_host_facts

    return gather_host_facts


def summary_table(inv: Any) -> str:
    """The short summary `scan` prints on stderr."""
    from tabulate import tabulate

    from migrate.units import count, human_bytes

    def size(n: int) -> str:
        return human_bytes(n)

    rows = [
        ["backend", inv.backend.kind, "; ".join(inv.backend.reasons[:1])],
        ["images", len(inv.images), size(sum(i.size for i in inv.images))],
        ["containers", len(inv.containers), f"{sum(1 for c in inv.containers if c.running)} running"],
        ["volumes", len(inv.volumes), size(sum(v.size or 0 for v in inv.volumes))],
        ["networks", len(inv.networks), f"{sum(1 for n in inv.networks if not n.builtin)} user-defined"],
        ["project files", len(inv.project_files),
         count(len(inv.files), "line the rules check", "lines the rules check") if any(
             s.kind == "project" for s in inv.sources) else "none searched (--project DIR)"],
        ["notes", len(inv.notes), "what could not be read" if inv.notes else ""],
    ]
    return tabulate(rows, headers=["", "count", ""], tablefmt="simple")


# ---------------------------------------------------------------------------------------------------- scan


@app.command()
@with_sources
def scan(
    sources: dict[str, Any],
    output: Optional[Path] = typer.Option(None, "-o", "--output", metavar="FILE",
                                          help="Write the inventory here (default: stdout)."),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="No summary table on stderr."),
    with_secrets: bool = typer.Option(False, "--with-secrets", help="Keep env values, secret-named labels and "
                                      "options and URL passwords as read (the file is written 0600); by default "
                                      "each is a keyed digest (docs/secrets.md)."),
    volume_digests: bool = typer.Option(False, "--volume-digests",
                                        help="Digest every volume's content (live engine; docs/verify.md)."),
) -> None:
    """Write an inventory (JSON) of images, containers, volumes, networks, settings, host and project files."""

    def body() -> None:
        check_output(output)  # a bad output path fails before any work is done
        from migrate.model import dump_pieces

        opts = build_options(None, **sources)
        opts.volume_digests = volume_digests
        opts.with_secrets = with_secrets
        inv = load_or_scan(opts, quiet=quiet)
        write_output(dump_pieces(inv), output, private=with_secrets)
        if not quiet:
            typer.echo(summary_table(inv), err=True)
            if output is not None:
                typer.echo(f"inventory written to {output}", err=True)
        if with_secrets:
            where = "on standard output" if output is None or str(output) == "-" else \
                f"in {output} (mode 0600: only you can read it)"
            typer.echo(f"warning: --with-secrets: env values, secret labels and passwords are in clear {where}",
                       err=True)

    guarded(body)


@app.command()
def collector(
    output: Optional[Path] = typer.Option(None, "-o", "--output", metavar="FILE",
                                          help="Write the script here (default: stdout)."),
) -> None:
    """Write the standalone PowerShell collector that gathers a bundle on a machine without Python."""

    def body() -> None:
        check_output(output)  # a bad output path fails before any work is done
        from migrate.collector import render_collector

        write_output(render_collector(__version__), output)

    guarded(body)


def main() -> None:
    """Console-script entry point (also `python -m migrate`, under the same name in help and completion)."""
    app(prog_name="wsl2-migrate")


# The other stages' commands register themselves on `app`, in the order --help lists them.
from migrate import cli_assess  # noqa: E402,F401
from migrate import cli_fleet  # noqa: E402,F401
from migrate import cli_plan  # noqa: E402,F401
from migrate import cli_validate  # noqa: E402,F401
from migrate import cli_rehearse  # noqa: E402,F401
from migrate import cli_verify  # noqa: E402,F401

EXAMPLES: dict[str, tuple[str, ...]] = {
    "scan": ("wsl2-migrate scan -o inventory.json",
             "wsl2-migrate scan --bundle w2m-bundle --project C:\\src\\shop -o DEV-042.json",
             "wsl2-migrate scan -H tcp://localhost:2375 --volume-digests -o before.json"),
    "collector": ("wsl2-migrate collector -o collect.ps1",
                  "powershell -ExecutionPolicy Bypass -File collect.ps1 -OutputDir C:\\Temp\\w2m-bundle"),
    "assess": ("wsl2-migrate assess inventory.json",
               "wsl2-migrate assess --bundle w2m-bundle -f markdown -o assessment.md",
               "wsl2-migrate assess inventory.json -f sarif -o w2m.sarif --fail-on error"),
    "plan": ("wsl2-migrate plan inventory.json -o plan.toml",
             "wsl2-migrate plan -o plan.toml            (re-plan: your edits stay)"),
    "runbook": ("wsl2-migrate runbook plan.toml -o migrate.ps1",),
    "run": ("wsl2-migrate run --out C:\\w2m",
            "wsl2-migrate run --sample hyperv-2x --out out"),
    "validate": ("wsl2-migrate validate plan.toml",
                 "wsl2-migrate validate plan.toml inventory.json --backup-free-bytes 50000000000 -f json"),
    "rehearse": ("wsl2-migrate rehearse plan.toml --source unix:///var/run/docker.sock --target "
                 "tcp://scratch:2375 --workdir /tmp/rehearsal",
                 "wsl2-migrate rehearse plan.toml ... --stop-after switch/reboot   (then the same with --resume)"),
    "verify": ("wsl2-migrate verify before.json after.json --plan plan.toml",
               "wsl2-migrate verify before.json npipe:////./pipe/docker_engine"),
    "fleet": ("wsl2-migrate fleet \\\\share\\w2m -o fleet-report   (then open fleet-report/index.html)",
              "wsl2-migrate fleet bundles/ -o fleet-report --wave-size 25"),
    "list": ("wsl2-migrate rules list --config wsl2-migrate.toml",),
    "show": ("wsl2-migrate rules show LCOW001",),
}
"""Examples shown at the end of each command's --help (kept here, in one place, for every command)."""


def _add_examples(typer_app: typer.Typer) -> None:
    """Append each command's examples to its help text; '\\b' keeps click from re-wrapping them."""
    for info in typer_app.registered_commands:
        name = info.name or (info.callback.__name__.replace("_", "-") if info.callback else "")
        name = {"rules-list": "list", "rules-show": "show"}.get(name, name)
        if name in EXAMPLES and info.callback is not None:
            doc = inspect.cleandoc(info.help or info.callback.__doc__ or "")
            lines = "\n".join(f"  {e}" for e in EXAMPLES[name])
            info.help = f"{doc}\n\nExamples:\n\n\b\n{lines}"
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _add_examples(group.typer_instance)


_add_examples(app)

