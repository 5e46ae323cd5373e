"""What a helper image needs for the volume copies and digests, and one shell probe that names what it lacks."""
from __future__ import annotations

from dataclasses import dataclass

# The plan's volume steps run tar (copies) and volume_digest.sh (digests) in a helper container. The probe runs in
# that image as `sh -c PROBE` (no network, nothing mounted; every check reads from a pipe, so it writes nothing)
# and prints a line per tool absent or without the options the plan uses, then END. Running it is the caller's job.

END = "wsl2-migrate-helper-probe-end"
"""The probe's last line: its absence means the probe itself did not run to the end."""


@dataclass(frozen=True, slots=True)
class Tool:
    """A command the helper image must have, and a shell check that it works as the plan uses it."""

    name: str
    check: str
    """A POSIX sh condition, true when the tool is present and takes the options the plan's commands pass."""
    used_by: str
    """What needs it: copy (tar of a volume out and in) or digest (volume_digest.sh)."""


REQUIRED_TOOLS: tuple[Tool, ...] = (
    Tool("tar", "[ \"$(tar -c --numeric-owner -f - -C /dev null 2>/dev/null | tar -t --numeric-owner -f - "
                "2>/dev/null)\" = null ] && tar -c --numeric-owner -f - -C /dev null 2>/dev/null | "
                "tar -x --numeric-owner -O -f - >/dev/null 2>&1", "copy"),
    Tool("find", "[ \"$(find /dev/null -type c -exec sh -c 'echo \"$#\"' sh {} + 2>/dev/null)\" = 1 ]", "digest"),
    Tool("stat", "case $(stat -c '%f %u %g %s %t %T %i %h %N' / 2>/dev/null) in "
                 "[0-9a-f]*' '[0-9]*' '[0-9]*' '[0-9]*' '[0-9a-f]*' '[0-9a-f]*' '[0-9]*' '[0-9]*' '*/*) true;; "
                 "*) false;; esac", "digest"),
    Tool("od", "[ \"$(printf 'a\\0' | od -An -v -tx1 2>/dev/null)\" = ' 61 00' ]", "digest"),
    Tool("sha256sum", "case $(printf '' | sha256sum 2>/dev/null) in "
                      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855*) true;; *) false;; esac",
         "digest"),
    Tool("awk", "[ \"$(echo 20 22 | awk '{ print $1 + $2 }' 2>/dev/null)\" = 42 ]", "digest"),
    Tool("sort", "[ \"$(printf 'b\\na\\n' | sort 2>/dev/null)\" = \"$(printf 'a\\nb')\" ]", "digest"),
    Tool("cat", "[ \"$(echo x | cat 2>/dev/null)\" = x ]", "digest"),
)
"""Everything the copies and digests call besides the shell's own builtins (printf, echo, read, [)."""


def probe_command() -> str:
    """The `sh -c` script: prints `missing NAME` for each tool absent or unusable, then END."""
    lines = [f"if ! {{ {t.check}; }}; then echo 'missing {t.name}'; fi" for t in REQUIRED_TOOLS]
    return "\n".join(["export LC_ALL=C", *lines, f"echo {END}"]) + "\n"


class ProbeError(ValueError):
    """The probe's output is not what the probe prints: it did not run (no sh?) or was cut short."""


def missing_tools(output: str) -> tuple[str, ...]:
    """The names of the required tools the helper image lacks (or has without the options the plan uses)."""
    lines = [line.strip() for line in output.replace("\r\n", "\n").split("\n") if line.strip()]
    if not lines or lines[-1] != END:
        raise ProbeError("the helper probe did not run to its end (is there a POSIX sh in the image?)")
    known = {t.name for t in REQUIRED_TOOLS}
    out: list[str] = []
    for line in lines[:-1]:
        word, _, name = line.partition(" ")
        if word != "missing" or name not in known:
            raise ProbeError(f"unexpected helper probe output: {line[:80]!r}")
        out.append(name)
    return tuple(out)
