"""What a decoded runbook step must be, field by field, for the program step it was written from.

Shared by the runbook tests and the pipeline test. The expectation is built from the program's own dataclasses
(the step, its docker command or host action) and the documented runbook format (docs/runbook.md); every command
line the emitter pre-encodes is checked by splitting it back under the Windows rules (tests/winsplit.py) with the
backup folder resolved against roots that need quoting, never by comparing with the emitter's text.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from migrate.plan.actions import (
    DESKTOP_INSTALL_ARGUMENTS,
    SECRET_FIELD_WORDS,
    SECRET_VALUES_FORMAT,
    SecretRef,
    EnableFeature,
    InstallWsl,
    RunsProgram,
    SetWslVersion,
    SwitchContainers,
    UpgradeDesktop,
    WriteEnvFile,
    WriteSecretValues,
)
from migrate.plan.checks import Check
from migrate.plan.redact import display
from migrate.plan.steps import Arg, BackupPath, Docker, SecretValue, Step, Word
from tests.psdata import segments_text
from tests.psquote import encoded_argument_rule
from tests.winsplit import SPLITTERS

ROOTS = ("C:\\Backup Root\\run 1", "\\\\server\\share\\it's $(x) `y` caf\u00e9 \u2019q\u2019 #>")
"""Backup folders the command lines are resolved against: spaces, PowerShell specials, non-ASCII, a UNC path."""
ENV_PAIRS = ('{"env":[{{range .Config.Env}}[{{json (printf "=%s" (index (split . "=") 0))}},'
             '{{json (printf "=%s" .)}}],{{end}}null]}')
"""write-env-file's inspect format: each variable as ["=NAME", "=NAME=value"] (docker's template `split`)."""
DOCKER_SPLITTERS = ("go", "msvcrt")
"""docker.exe is a Go program; the C runtime's rules are the other ones a Windows program may use."""


@dataclasses.dataclass(frozen=True)
class Encoded:
    """Expected: a pre-encoded command line (segments) that splits back to argv under every root."""

    argv: tuple[Arg, ...]


@dataclasses.dataclass(frozen=True)
class EncodedText:
    """Expected: a command-line string (no backup paths) that splits back to argv (dism.exe's arguments)."""

    argv: tuple[str, ...]


def fake_secret(file: str, index: int) -> str:
    """What the secret-values file `file` holds at position index, for these checks: hostile on purpose (quotes,
    `$`, a backtick, a comma, a line break, backslashes before a quote and at the end)."""
    return f"p@ss'\"$x`{index},\n{file}\\\"\\"


_RUN_TIME_QUOTING = encoded_argument_rule()
"""ConvertTo-EncodedArgument of the library, run here (tests/psquote.py)."""


def run_time_secret(file: str, index: int, prefix: str) -> str:
    """A Secret segment as the library resolves it: prefix + the file's value, quoted by its own rule."""
    return _RUN_TIME_QUOTING(prefix + fake_secret(file, index))


def planned(arg: Arg, root: str) -> str:
    """One planned argument as the program means it once the backup folder is root (Windows separators) and each
    secret value is fake_secret's."""
    def path(rel: str) -> str:
        return root + "\\" + rel.replace("/", "\\") if rel else root
    if isinstance(arg, str):
        return arg
    if isinstance(arg, BackupPath):
        return path(arg.rel)
    if isinstance(arg, SecretValue):
        return arg.prefix + fake_secret(arg.file, arg.index)
    if isinstance(arg, Word):
        return "".join(p if isinstance(p, str) else path(p.rel) for p in arg.parts)
    raise TypeError(f"not a docker argument: {arg!r}")


def split_problems(line: str, argv: list[str], splitters: Sequence[str], where: str) -> list[str]:
    """'' problems when every splitter reads line back as argv."""
    out = []
    for name in splitters:
        got = SPLITTERS[name](line)
        if got != argv:
            out.append(f"{where}: {name} splits {line!r} into {got!r}, planned {argv!r}")
    return out


def pascal(name: str) -> str:
    """A dataclass field name as the runbook's hashtable key: min_ubr -> MinUbr."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def expected_value(value: Any) -> Any:
    """A parameter value as the decoded runbook must hold it: dataclasses as dicts with PascalCase keys, tuples
    as lists, plus the command lines the emitter adds (a check's CommandLine, write-env-file's Inspect,
    the program run of enable-feature, install-wsl, set-wsl-default-version, upgrade-desktop and switch-containers
    with its Arguments)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {pascal(f.name): expected_value(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, Check):
            out["CommandLine"] = Encoded(value.argv)
        if isinstance(value, WriteSecretValues):
            # The same command the rehearsal's twin runs (migrate/rehearse/host.py, write_secret_values).
            out["Inspect"] = Encoded(value.inspect_argv())
            out["Display"] = f"{value.kind} inspect {value.object}"
            out["Subject"] = f"{value.kind} {value.object}"
            # No command line can carry a NUL; the file is the secret-values one (docs/secrets.md).
            out["Unsafe"], out["FileFormat"] = "\x00", SECRET_VALUES_FORMAT
            out["UnsafeWhy"] = "holds a NUL character, which no command line can carry: set it by hand after the move"
        if isinstance(value, WriteEnvFile):
            # The same command the rehearsal's twin runs (migrate/rehearse/host.py, write_env_file): the environment
            # as [name, entry] pairs, read by the library's one function for both actions.
            out["Inspect"] = Encoded(("container", "inspect", "--format", ENV_PAIRS, "--", value.container))
            out["Display"] = f"container inspect {value.container}"
            out["Subject"] = f"container {value.container}"
            out["Entries"] = [{"Field": "env", "Key": n, "What": f"variable {n}"} for n in value.names]
            # A docker env file is one NAME=value line each: no value may hold a line break.
            out["Unsafe"], out["FileFormat"] = "[\r\n]", ""
            out["UnsafeWhy"] = "holds a line break: an env file cannot carry it"
        if isinstance(value, SecretRef):
            out["What"] = f"{SECRET_FIELD_WORDS[value.field]} {value.key}"
        if isinstance(value, RunsProgram):
            run = expected_value(value.run)
            # The program's command line as its documentation gives it, known here apart from the step model.
            run["Arguments"] = EncodedText(_program_argv(value))
            out["Run"] = run
        return out
    if isinstance(value, (tuple, list)):
        return [expected_value(v) for v in value]
    return value


def _program_argv(value: RunsProgram) -> tuple[str, ...]:
    """The arguments of a host action's program."""
    if isinstance(value, EnableFeature):
        return ("/online", "/enable-feature", f"/featurename:{value.name}", "/all", "/norestart")
    if isinstance(value, SwitchContainers):
        # DockerCli.exe's switch (docker/roadmap#79): one literal word, by the target mode.
        return ({"linux": "-SwitchLinuxEngine", "windows": "-SwitchWindowsEngine"}[value.to],)
    if isinstance(value, InstallWsl):
        # msiexec's standard options (learn.microsoft.com msiexec), or wsl.exe's planned arguments.
        return ("/i", value.msi, "/quiet", "/norestart") if value.msi else value.wsl_arguments
    if isinstance(value, SetWslVersion):
        return ("--set-default-version", str(value.version))
    if isinstance(value, UpgradeDesktop):
        return DESKTOP_INSTALL_ARGUMENTS
    raise AssertionError(f"no known command line for {type(value).__name__}")


def expected_step(step: Step, index: int) -> dict[str, Any]:
    """The hashtable the runbook must hold for step (docs/runbook.md, "The program")."""
    op = step.op
    docker = None
    if isinstance(op, Docker):
        docker = {
            "CommandLine": Encoded(op.argv),
            "Display": op.display,
            "Timeout": op.timeout,
            "OkExitCodes": list(op.ok_exit_codes),
            "WorkDir": op.workdir,
            "Recover": [{"CommandLine": Encoded(cmd), "Display": display(cmd)} for cmd in op.recover],
            "Cleanup": [{"CommandLine": Encoded(cmd), "Display": display(cmd)} for cmd in op.cleanup],
            "Absent": [{"CommandLine": Encoded(cmd), "Display": display(cmd)} for cmd in op.require_absent],
            "ExpectOutput": op.expect_output,
            "RecordOutput": op.record_output,
            "Progress": op.progress,
            "Checks": expected_value(op.checks),
        }
    return {
        "Index": index,
        "Id": step.id,
        "Phase": step.phase,
        "Title": step.title,
        "Target": step.target or step.id,
        "Kind": step.action or "docker",
        "Engine": step.engine,
        "Mutating": step.mutating,
        "OnlyIfStarted": step.only_if_started,
        "DependsOn": list(step.depends_on),
        "Findings": list(step.findings),
        "Consumes": list(step.consumes),
        "Produces": [{"Path": a.path, "Kind": a.kind, "Subject": a.subject, "Secret": a.secret}
                     for a in step.produces],
        "Docker": docker,
        "Params": None if isinstance(op, Docker) else expected_value(op),
    }


def mismatches(actual: Any, expected: Any, where: str = "", splitters: Sequence[str] = DOCKER_SPLITTERS) -> list[str]:
    """Every difference between a decoded value and its expectation; types are strict (True is not 1)."""
    if isinstance(expected, Encoded):
        if not isinstance(actual, list):
            return [f"{where}: expected a command line, found {actual!r}"]
        out = []
        for root in ROOTS:
            try:
                line = segments_text(actual, root, run_time_secret)
            except ValueError as exc:
                return [f"{where}: {exc}"]
            out += split_problems(line, [planned(a, root) for a in expected.argv], splitters, where)
        return out
    if isinstance(expected, EncodedText):
        if not isinstance(actual, str):
            return [f"{where}: expected a command-line string, found {actual!r}"]
        return split_problems(actual, list(expected.argv), tuple(SPLITTERS), where)
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: expected a hashtable, found {actual!r}"]
        if set(actual) != set(expected):  # a PowerShell hashtable has no order
            return [f"{where}: keys {sorted(actual)} != {sorted(expected)}"]
        return [m for k in expected for m in mismatches(actual[k], expected[k], f"{where}.{k}", splitters)]
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{where}: expected {len(expected)} items, found {actual!r}"]
        return [m for i, (a, e) in enumerate(zip(actual, expected, strict=True))
                for m in mismatches(a, e, f"{where}[{i}]", splitters)]
    if type(actual) is not type(expected) or actual != expected:
        return [f"{where}: {actual!r} != {expected!r}"]
    return []


def step_mismatches(decoded: list[Any], steps: Sequence[Step],
                    splitters: Sequence[str] = DOCKER_SPLITTERS) -> list[str]:
    """Differences between the decoded $script:Steps (or RollbackSteps) and the program's steps."""
    if len(decoded) != len(steps):
        return [f"{len(decoded)} steps in the runbook, {len(steps)} in the program"]
    return [m for i, (d, s) in enumerate(zip(decoded, steps, strict=True), 1)
            for m in mismatches(d, expected_step(s, i), s.id, splitters)]
