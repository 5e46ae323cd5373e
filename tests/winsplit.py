"""Reference Windows command-line splitters for tests, written from the documented rules (arguments after argv[0]).

- split_command_line_msvcrt: the current Microsoft C runtime, per learn.microsoft.com "Parsing C command-line
  arguments": inside quotes `""` is one literal `"` and quote mode continues (the post-2008 rule).
- split_command_line_go: Go's os.commandLineToArgv (src/os/exec_windows.go), which docker.exe runs on itself:
  inside quotes `""` is one literal `"` and quote mode ends (the "prior to 2008" rule).
- split_command_line_argvw: shell32 CommandLineToArgvW as Wine documents and implements it, which counts runs of
  consecutive quotes (modulo 3) instead of looking one character ahead; the same pre-2008 behaviour, stated
  differently (cpp-docs#3291: `a"b"" c d` -> `ab"`, `c`, `d`).

All three split on space and tab only, and the line given is what follows the executable path: the runbook puts
docker.exe in ProcessStartInfo.FileName and only the arguments in Arguments.
"""
from __future__ import annotations

_BLANKS = " \t"


def split_command_line_msvcrt(line: str) -> list[str]:
    """argv[1:] as the post-2008 Microsoft C runtime builds it from line."""
    args: list[str] = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i] in _BLANKS:
            i += 1
        if i >= n:
            return args
        arg: list[str] = []
        in_quotes = False
        while i < n:
            slashes = 0
            while i < n and line[i] == "\\":
                slashes += 1
                i += 1
            if i < n and line[i] == '"':
                arg.append("\\" * (slashes // 2))
                if slashes % 2:
                    arg.append('"')
                elif in_quotes and i + 1 < n and line[i + 1] == '"':
                    arg.append('"')
                    i += 1
                else:
                    in_quotes = not in_quotes
                i += 1
                continue
            arg.append("\\" * slashes)
            if i >= n or (line[i] in _BLANKS and not in_quotes):
                break
            arg.append(line[i])
            i += 1
        args.append("".join(arg))


def split_command_line_go(line: str) -> list[str]:
    """argv[1:] as Go's os package builds it from line (docker.exe)."""
    args: list[str] = []
    rest = line
    while rest:
        if rest[0] in _BLANKS:
            rest = rest[1:]
            continue
        arg, rest = _go_next_arg(rest)
        args.append(arg)
    return args


def _go_next_arg(cmd: str) -> tuple[str, str]:
    """One argument read from the start of cmd, and what is left after it."""
    out: list[str] = []
    in_quotes = False
    slashes = 0
    i = 0
    while i < len(cmd):
        c = cmd[i]
        if c in _BLANKS and not in_quotes:
            out.append("\\" * slashes)
            return "".join(out), cmd[i + 1:]
        if c == '"':
            out.append("\\" * (slashes // 2))
            if slashes % 2 == 0:
                if in_quotes and i + 1 < len(cmd) and cmd[i + 1] == '"':
                    out.append('"')
                    i += 1
                in_quotes = not in_quotes
            else:
                out.append('"')
            slashes = 0
        elif c == "\\":
            slashes += 1
        else:
            out.append("\\" * slashes + c)
            slashes = 0
        i += 1
    out.append("\\" * slashes)
    return "".join(out), ""


def split_command_line_argvw(line: str) -> list[str]:
    """argv[1:] as CommandLineToArgvW builds it from '<exe> ' + line (quote runs counted modulo 3)."""
    args: list[str] = []
    i, n = 0, len(line)
    while i < n and line[i] in _BLANKS:
        i += 1
    if i >= n:
        return args
    cur: list[str] = []
    qcount = 0  # 0 outside quotes, 1 inside; 2 is folded back to 0 after each run of quotes
    slashes = 0
    while i < n:
        c = line[i]
        if c in _BLANKS and qcount == 0:
            args.append("".join(cur))
            cur = []
            slashes = 0
            while i < n and line[i] in _BLANKS:
                i += 1
            if i >= n:
                return args
            continue
        if c == "\\":
            cur.append(c)
            slashes += 1
            i += 1
            continue
        if c == '"':
            # The backslashes were copied as they came; keep half of them.
            del cur[len(cur) - (slashes - slashes // 2):]
            if slashes % 2:
                cur.append('"')
            else:
                qcount += 1
            slashes = 0
            i += 1
            while i < n and line[i] == '"':
                qcount += 1
                if qcount == 3:
                    cur.append('"')
                    qcount = 0
                i += 1
            if qcount == 2:
                qcount = 0
            continue
        cur.append(c)
        slashes = 0
        i += 1
    args.append("".join(cur))
    return args


SPLITTERS = {
    "msvcrt": split_command_line_msvcrt,
    "go": split_command_line_go,
    "argvw": split_command_line_argvw,
}
"""Every reference splitter by name, for parametrized tests."""
