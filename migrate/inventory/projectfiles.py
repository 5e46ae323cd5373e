"""Scan the user's project directories for lines that depend on the legacy Hyper-V or LCOW backend."""
from __future__ import annotations

import bisect
import os
from collections import Counter
import re
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from migrate.errors import InputError
from migrate.inventory.textfile import decode_bytes
from migrate.model import FileFact, Note, ProjectFile

MAX_BYTES = 2 * 1024 * 1024
"""Files larger than this are not read (a Note says so): project scripts are small, bigger files are data."""
_BINARY_PROBE = 8192
_TEXT_LIMIT = 200

# Directories that hold other people's code or generated output. Only names are compared (lower-cased, as
# Windows names are case-insensitive); `bin`, `obj` and `vendor` stay in: projects keep scripts there.
_PRUNED_DIRS = frozenset({
    ".git", ".hg", ".svn", "node_modules", "bower_components", "__pycache__", ".tox", ".nox", ".venv", "venv",
    "site-packages", "target", ".mypy_cache", ".pytest_cache", ".ruff_cache",
})
# A directory holding one of these is a Python or conda environment, whatever its name (`env`, `.env`).
_ENV_MARKERS = frozenset({"pyvenv.cfg", "conda-meta"})

# File kinds decided from the lower-cased name alone, in one regex so each directory entry costs one match;
# the first group that matches wins. CI files under .github/workflows and .circleci are decided by path.
_NAME_KINDS = re.compile(
    r"(?P<ci>\.gitlab-ci\.ya?ml|azure-pipelines[^/\\]*\.ya?ml|jenkinsfile(?:\.[^/\\]+)?|\.drone\.ya?ml"
    r"|bitbucket-pipelines\.ya?ml|\.travis\.ya?ml|\.?appveyor\.ya?ml)"
    r"|(?P<compose>(?:.*[.-])?(?:docker-)?compose(?:[.-][^/\\]*)?\.ya?ml)"
    r"|(?P<dockerfile>(?:dockerfile|containerfile)(?:\.[^/\\]+)?|.+\.dockerfile)"
    r"|(?P<powershell>.+\.(?:ps1|psm1))"
    r"|(?P<cmd>.+\.(?:cmd|bat))"
    r"|(?P<shell>.+\.(?:sh|bash))"
    r"|(?P<makefile>makefile|gnumakefile|.+\.mk|.+\.mak)"
    r"|(?P<other>\.env(?:\.[^/\\]+)?|.+\.env)"
)


def classify(rel_parts: Sequence[str]) -> str | None:
    """The file_kind of a file from its path parts relative to the project; None means it is not read."""
    name = rel_parts[-1].lower()
    if name.endswith(".dockerignore"):
        return None
    parent = rel_parts[-2].lower() if len(rel_parts) >= 2 else ""
    if name.endswith((".yml", ".yaml")) and (
            (parent == "workflows" and len(rel_parts) >= 3 and rel_parts[-3].lower() == ".github")
            or (parent == ".circleci" and name.startswith("config."))):
        return "ci"
    m = _NAME_KINDS.fullmatch(name)
    return m.lastgroup if m else None


@dataclass(frozen=True, slots=True)
class _Detector:
    """One pattern for one FileFact kind, run only on lines holding one of its needles (lower-case literals).

    The needles make a file without a match cost a few substring searches rather than a regex pass per
    detector. Every pattern is linear: a match can only start at a literal or at a token boundary, and what
    follows is a run of one character class, so a 2 MB line of `/a/+/a/+...` or `docker docker docker ...`
    costs one pass, not one pass per position. `only` limits a detector to some file kinds; `suffix` explains
    a match.
    """

    kind: str
    needles: tuple[str, ...]
    pattern: re.Pattern[str]
    only: frozenset[str] | None = None
    suffix: str = ""


_I = re.IGNORECASE | re.MULTILINE
MAX_LINE = 1024
"""Characters of one line that are searched; a longer line (minified or generated code) is cut there, with a
note, so that a repository's generated files cost no more than reading them."""

# Where a bind source may start: at the line start or after a separator (so a long token like /a/+/a/+...
# is tried once, at its start, and not at each of its slashes).
_AT = r"(?<![^\s\"'=,\[(])"
# A Windows source path as a bind spec writes it: a drive letter, Git Bash / Toolbox style /c/... and //c/...
# (also a bare /d), or /host_mnt/c/... as the Hyper-V VM saw shared drives.
_DRIVE = r"[a-z]:(?:\\|/)"
_MSYS = r"(?:/host_mnt)?//?[a-z](?:/|(?=[:,\s\"']|$))"
_CMD_VARS = r"%cd%|%~dp0"
_PS_VARS = r"\$\{?(?:pwd|psscriptroot)\}?|\$\((?:pwd|get-location|\(get-location\)\.path)\)"
# The container side: a Linux path, or Git Bash's //c/... spelling of one; `://` followed by more is a URL.
_TARGET = r":(?:/(?!/)|//[a-z]/)[^\s\"',;]*"


def _bind(source: str) -> re.Pattern[str]:
    """A `SOURCE...:/dest` bind spec whose source starts with `source` and whose target is a Linux path.

    Unquoted sources stop at whitespace, so `C:\\tools\\curl.exe http://x` is no bind; quoted ones may hold
    spaces.
    """
    src = rf"(?:{source})"
    return re.compile(
        rf"{_AT}(?:\"{src}[^\"\n:]*\"?|'{src}[^'\n:]*'?|{src}[^\s:\"',;]*[\"']?){_TARGET}", _I)


_DETECTORS: tuple[_Detector, ...] = (
    _Detector("platform-flag", ("--platform",), re.compile(
        r"(?<![\w-])--platform(?:=|[ \t]+)[\"']?(?:linux|windows)\b[^\s\"',;)]*", _I)),
    _Detector("platform-flag", ("docker_default_platform",), re.compile(
        r"\bDOCKER_DEFAULT_PLATFORM[\"']?[ \t]*[=:][ \t]*[\"']?(?:linux|windows)\b[^\s\"',;)]*", _I)),
    _Detector("platform-key", ("platform",), re.compile(
        r"^[ \t]*platform[ \t]*:[ \t]*[^\s#][^\n#]*", _I), frozenset({"compose"})),
    _Detector("windows-bind", (":/",), _bind(rf"{_DRIVE}|{_MSYS}")),
    _Detector("windows-bind", ("source=", "src="), re.compile(
        rf"(?<![\w-])(?:source|src)=[\"']?(?:{_DRIVE}|{_MSYS}|{_CMD_VARS})[^\s,\"']*", _I)),
    _Detector("windows-bind", ("source", "device"), re.compile(
        rf"^[ \t]*-?[ \t]*(?:source|device)[ \t]*:[ \t]*[\"']?(?:{_DRIVE}|{_MSYS})[^\n\"'#]*", _I),
        frozenset({"compose"})),
    _Detector("windows-bind", (":/",), _bind(_CMD_VARS), suffix=" (cmd expands this to a Windows path)"),
    _Detector("windows-bind", (":/",), _bind(_PS_VARS), frozenset({"powershell"}),
              suffix=" (PowerShell expands this to a Windows path)"),
    _Detector("backend-switch", ("-switch",), re.compile(
        r"(?:\bDockerCli(?:\.exe)?[\"']?[ \t]+)?(?<![\w-])-Switch(?:Daemon|LinuxEngine|WindowsEngine)\b",
        _I)),
    _Detector("backend-switch", ("desktop",), re.compile(
        r"\bdocker[ \t]+desktop[ \t]+engine[ \t]+use\b[^\n;|&]*", _I)),
    _Detector("backend-switch", ("wslengineenabled", "usewindowscontainers"), re.compile(
        r"[\"']?\b(?:wslEngineEnabled|useWindowsContainers)\b[\"']?(?:[ \t]*[=:][ \t]*[^\s,;}]+)?", _I)),
    _Detector("context-switch", ("context",), re.compile(
        r"\bdocker[ \t]+context[ \t]+use[ \t]+[^\s;|&]+", _I)),
    _Detector("context-switch", ("docker_context",), re.compile(
        r"\bDOCKER_CONTEXT[\"']?[ \t]*[=:][ \t]*[^\s;|&]+", _I)),
    _Detector("context-switch", ("npipe:", "tcp://"), re.compile(
        r"(?:\bDOCKER_HOST[\"']?[ \t]*[=:]|(?<![\w-])(?:-H|--host)[= \t])[ \t]*[\"']?"
        r"(?:npipe:[^\s\"';]*"
        r"|tcp://(?:localhost|127\.0\.0\.1|0\.0\.0\.0|10\.0\.75\.\d+|docker\.for\.win\.[\w.]+)[^\s\"';]*)",
        _I)),
    _Detector("hyperv-address", ("10.0.75.",), re.compile(
        r"(?<![\d.])10\.0\.75\.\d{1,3}(?![\d])(?:/\d{1,2}|:\d+)?", _I)),
    _Detector("hyperv-address", (":2375",), re.compile(
        r"(?:tcp://)?(?<![\w.])(?:localhost|127\.0\.0\.1|0\.0\.0\.0):2375\b", _I)),
    # docker.for.win.localhost (17.06) and docker.for.win.host.internal (17.12) predate host.docker.internal.
    _Detector("hyperv-hostname", ("docker.for.win.", "mobylinuxvm", "dockerdesktopvm", "dockernat",
                                  "host_mnt"),
              re.compile(r"\bdocker\.for\.win\.[a-z]+(?:\.[a-z]+)?"
                         r"|\b(?:MobyLinuxVM|DockerDesktopVM|DockerNAT)\b|/host_mnt\b", _I)),
)

# `docker ... --context NAME` (kubectl and others take --context too: only docker's own flag counts). Found by
# segment (a command between | ; &), not by one regex: a lazy `docker.*?--context` would rescan the rest of the
# line from every `docker` word.
_SEGMENT = re.compile(r"[^\n|;&]+")
_DOCKER_WORD = re.compile(r"\bdocker(?:\.exe)?[ \t]", re.IGNORECASE)
_CONTEXT_FLAG = re.compile(r"(?<![\w-])--context[= \t]+[^\s;|&]+", re.IGNORECASE)

# Windows images by name: an image reference naming a Windows base (with or without a platform flag).
_WINDOWS_NEEDLES = ("nanoserver", "servercore", "mcr.microsoft.com/windows", "ltsc", "dotnet/framework")
_TOKEN_END = re.compile(r"[^\s\"'\],;)(}{]*")
_TOKEN_DELIMS = " \t\"'[,;(={"
_WINDOWS_REPO = re.compile(
    r"(?:^|/)(?:nanoserver|servercore|windowsservercore|windows)(?:/|$)|mcr\.microsoft\.com/windows"
    r"|mcr\.microsoft\.com/dotnet/framework/")
_WINDOWS_TAG = re.compile(r"ltsc\d{4}|nanoserver|windowsservercore|servercore")

_NEWLINE = re.compile("\n")
_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def _detectors_for(file_kind: str) -> tuple[_Detector, ...]:
    """The detectors that apply to one file kind."""
    return tuple(d for d in _DETECTORS if d.only is None or file_kind in d.only)


_ALL_NEEDLES = frozenset({n for d in _DETECTORS for n in d.needles} | {"--context"} | set(_WINDOWS_NEEDLES))
_BY_FILE_KIND = {k: _detectors_for(k) for k in
                 ("compose", "dockerfile", "powershell", "cmd", "shell", "makefile", "ci", "other")}


# Comments, blanked to spaces (offsets and line numbers kept) before anything is searched: a commented-out
# `docker run` is not how the project runs. Whole-line comments everywhere; a trailing `#` after a blank in
# the languages where that starts a comment; PowerShell's <# ... #> blocks; cmd's REM and ::.
_HASH_LINE = re.compile(r"^[ \t]*#[^\n]*", re.MULTILINE)
_HASH_TRAILING = re.compile(r"(?<=[ \t])#[^\n]*")
_CMD_COMMENT = re.compile(r"^[ \t]*@?[ \t]*(?:rem(?=[ \t]|$)|::)[^\n]*", re.IGNORECASE | re.MULTILINE)
_TRAILING_KINDS = frozenset({"shell", "makefile", "compose", "ci", "powershell", "other"})


def _blank(m: re.Match[str]) -> str:
    return " " * len(m.group(0))


def mask_comments(text: str, file_kind: str) -> str:
    """text with every comment replaced by spaces, same length and lines."""
    if file_kind == "cmd":
        return _CMD_COMMENT.sub(_blank, text) if ("rem" in text.lower() or "::" in text) else text
    if file_kind == "powershell" and "<#" in text:
        parts, i = [], 0
        while True:
            start = text.find("<#", i)
            if start < 0:
                break
            end = text.find("#>", start + 2)
            end = len(text) if end < 0 else end + 2
            parts += [text[i:start], re.sub(r"[^\n]", " ", text[start:end])]
            i = end
        text = "".join(parts) + text[i:]
    if "#" not in text:
        return text
    text = _HASH_LINE.sub(_blank, text)
    if file_kind in _TRAILING_KINDS:
        text = _HASH_TRAILING.sub(_blank, text)
    return text


def cut_long_lines(text: str) -> tuple[str, int]:
    """text with each line longer than MAX_LINE cut there, and how many were cut."""
    if len(text) <= MAX_LINE:
        return text, 0
    lines = text.split("\n")
    long = sum(1 for ln in lines if len(ln) > MAX_LINE)
    if not long:
        return text, 0
    return "\n".join(ln[:MAX_LINE] for ln in lines), long


def _tidy(fragment: str) -> str:
    """Strip a match, and the opening quote it took when the closing one lies outside it."""
    fragment = fragment.strip()
    if fragment[:1] in ("'", '"') and fragment.count(fragment[0]) % 2:
        fragment = fragment[1:]
    return fragment


def _lines_holding(text: str, low: str, needles: tuple[str, ...]) -> list[tuple[int, int]]:
    """The (start, end) offsets of the lines of text where low (text lower-cased) holds a needle."""
    spans: set[tuple[int, int]] = set()
    for needle in needles:
        i = low.find(needle)
        while i >= 0:
            end = text.find("\n", i)
            end = len(text) if end < 0 else end
            spans.add((text.rfind("\n", 0, i) + 1, end))
            i = low.find(needle, end)
    return sorted(spans)


def _context_flags(text: str, low: str) -> list[tuple[int, int, str]]:
    """(start, end, text) of each `docker ... --context NAME` (one pass per command segment)."""
    out = []
    for line_start, line_end in _lines_holding(text, low, ("--context",)):
        for seg in _SEGMENT.finditer(text, line_start, line_end):
            docker = _DOCKER_WORD.search(text, seg.start(), seg.end())
            if docker is None:
                continue
            for m in _CONTEXT_FLAG.finditer(text, docker.end(), seg.end()):
                out.append((docker.start(), m.end(), text[docker.start():m.end()]))
    return out


def _windows_images(text: str, low: str) -> list[tuple[int, int, str]]:
    """(start, end, reference) of each image reference naming a Windows base image."""
    from migrate.reference import reference_problem

    out = []
    for line_start, line_end in _lines_holding(text, low, _WINDOWS_NEEDLES):
        last_end = line_start
        i = line_start
        while True:
            hits = [h for h in (low.find(n, i, line_end) for n in _WINDOWS_NEEDLES) if h >= 0]
            if not hits:
                break
            at = min(hits)
            # The token around the hit; delimiters are looked for only back to the previous token, so a long
            # line of hits costs one pass.
            start = max([last_end] + [text.rfind(d, last_end, at) + 1 for d in _TOKEN_DELIMS])
            end = _TOKEN_END.match(text, at, line_end).end()  # type: ignore[union-attr]
            last_end = i = max(end, at + 1)
            ref = text[start:end]
            ref = ref[6:] if ref.lower().startswith("image:") else ref
            # A bare word is an image only as one of the 2016 root names; otherwise it needs a path or a tag.
            if not ref or reference_problem(ref) or not (
                    "/" in ref or ":" in ref or ref.lower() in ("windowsservercore", "nanoserver")):
                continue
            repo, _, tag = ref.partition("@")[0].rpartition(":") if ":" in ref.rsplit("/", 1)[-1] else (
                ref.partition("@")[0], "", "")
            if _WINDOWS_REPO.search(repo) or (tag and _WINDOWS_TAG.search(tag)):
                out.append((start, end, ref))
    return out


def find_facts(text: str, file: str, file_kind: str, project: str = "", cut: bool = True) -> list[FileFact]:
    """Every migration-relevant fragment of one file's text, in (line, kind, column) order.

    Comments are blanked first and lines longer than MAX_LINE are searched only up to it; every pattern is
    linear in the line (see _Detector), so the cost follows the file's size.
    """
    if cut:
        text, _ = cut_long_lines(text)
    text = mask_comments(text, file_kind)
    # Every pattern matches within one line, so each runs only on the lines holding one of its needles.
    # Offsets in `low` must equal those in `text`: str.lower() keeps them only for ASCII.
    low = text.lower() if text.isascii() else text.translate(_ASCII_LOWER)
    found: list[tuple[int, str, int, str]] = []
    taken: dict[str, list[tuple[int, int]]] = {}
    newlines: list[int] | None = None

    def add(kind: str, start: int, end: int, fragment: str) -> None:
        nonlocal newlines
        spans = taken.setdefault(kind, [])  # sorted, non-overlapping: only the neighbours can overlap
        # Two patterns of one kind may see the same fragment; the first one to claim it wins.
        at = bisect.bisect_left(spans, (start, end))
        if any(s < end and start < e for s, e in spans[max(0, at - 1):at + 1]):
            return
        spans.insert(at, (start, end))
        if newlines is None:
            newlines = [n.start() for n in _NEWLINE.finditer(text)]
        line = bisect.bisect_left(newlines, start) + 1
        line_start = newlines[line - 2] + 1 if line >= 2 else 0
        found.append((line, kind, start - line_start, _tidy(fragment)[:_TEXT_LIMIT]))

    # One find per distinct needle first: most files hold few of them, and a detector none of whose needles
    # occurs costs nothing more.
    present = {n for n in _ALL_NEEDLES if n in low}
    for det in _BY_FILE_KIND.get(file_kind, _BY_FILE_KIND["other"]):
        if present.isdisjoint(det.needles):
            continue
        for line_start, line_end in _lines_holding(text, low, det.needles):
            for m in det.pattern.finditer(text, line_start, line_end):
                add(det.kind, m.start(), m.end(), m.group(0) + det.suffix)
    if "--context" in present:
        for start, end, fragment in _context_flags(text, low):
            add("context-switch", start, end, fragment)
    if not present.isdisjoint(_WINDOWS_NEEDLES):
        for start, end, ref in _windows_images(text, low):
            add("windows-image", start, end, ref)
    found.sort()
    return [FileFact(file=file, line=line, kind=kind, text=fragment, file_kind=file_kind, project=project)
            for line, kind, _col, fragment in found]


def _is_junction(entry: os.DirEntry[str]) -> bool:
    """A Windows junction, which is_dir(follow_symlinks=False) calls a directory; following it could loop."""
    if os.name != "nt":
        return False
    tag = getattr(entry.stat(follow_symlinks=False), "st_reparse_tag", 0)
    return bool(tag == getattr(stat, "IO_REPARSE_TAG_MOUNT_POINT", 0xA0000003))


def _is_regular(entry: os.DirEntry[str]) -> bool:
    """A file to open: is_file() follows a symlink to its target and keeps FIFOs and dangling links out."""
    try:
        return entry.is_file()
    except OSError:
        return False


def _walk(root: Path, notes: list[Note], skipped: Counter[str]) -> Iterator[tuple[Path, tuple[str, ...], str]]:
    """Yield (path, parts relative to root, file_kind) for each project file under root; prune heavy trees.

    Files of no project-file kind are counted in skipped by extension."""
    stack: list[tuple[str, tuple[str, ...]]] = [(str(root), ())]
    while stack:
        path, rel = stack.pop()
        try:
            with os.scandir(path) as it:
                entries = list(it)
        except OSError as exc:
            why = exc.strerror or str(exc)
            notes.append(Note("files", Path(path).as_posix(), f"cannot list directory ({why})"))
            continue
        if rel and any(e.name in _ENV_MARKERS for e in entries):
            continue
        subdirs: list[tuple[str, tuple[str, ...]]] = []
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    # Symlinked directories are not followed (is_dir above), so a link cannot loop the walk.
                    if entry.name.lower() not in _PRUNED_DIRS and not _is_junction(entry):
                        subdirs.append((entry.path, (*rel, entry.name)))
                    continue
            except OSError:
                continue
            parts = (*rel, entry.name)
            kind = classify(parts)
            if kind is not None and _is_regular(entry):
                yield Path(entry.path), parts, kind
            elif kind is None:
                skipped[os.path.splitext(entry.name)[1].lower() or entry.name.lower()] += 1
        # Reversed so the stack pops directories in name order; the final sort makes order moot anyway.
        stack.extend(sorted(subdirs, reverse=True))


def _read(path: Path, shown: str, notes: list[Note]) -> str | None:
    """Read one candidate file once; None (with a Note) when it is too big, binary or unreadable."""
    try:
        # os-level calls: a buffered file object costs more than reading a small script.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0))
        try:
            # fstat rather than read(MAX_BYTES + 1), which would allocate 2 MiB for every small script.
            size = os.fstat(fd).st_size
            if size > MAX_BYTES:
                notes.append(Note("files", shown, f"larger than {MAX_BYTES // (1024 * 1024)} MiB, not read"))
                return None
            raw = os.read(fd, size + 1)
            while 0 < len(raw) < size or len(raw) == size + 1:  # a short read, or the file grew: read on
                more = os.read(fd, MAX_BYTES + 1 - len(raw))
                if not more:
                    break
                raw += more
            if len(raw) > MAX_BYTES:
                notes.append(Note("files", shown, f"larger than {MAX_BYTES // (1024 * 1024)} MiB, not read"))
                return None
        finally:
            os.close(fd)
    except OSError as exc:
        notes.append(Note("files", shown, f"cannot read ({exc.strerror or exc})"))
        return None
    utf16 = raw.startswith((b"\xff\xfe", b"\xfe\xff")) or (
        len(raw) >= 4 and ((raw[1] == 0 and raw[3] == 0 and raw[0] != 0) or (raw[0] == 0 and raw[2] == 0)))
    if not utf16 and b"\0" in raw[:_BINARY_PROBE]:
        notes.append(Note("files", shown, "binary content (NUL byte), not read"))
        return None
    cut = 0
    if not utf16 and len(raw) > MAX_LINE:
        raw, cut = _cut_long_lines_bytes(raw)
    try:
        text = decode_bytes(raw, shown)[0]
    except InputError:
        # .bat and .cmd files are often in an ANSI code page, and a cut may split a UTF-8 character; every
        # pattern is ASCII, so a lossy decode does.
        text = raw.decode("utf-8", errors="replace")
    if utf16:
        text, cut = cut_long_lines(text)
    if cut:
        notes.append(Note("files", shown, f"{cut} line{'s' if cut != 1 else ''} longer than {MAX_LINE} "
                          "characters (generated or minified code?) searched only that far"))
    return text


_WALKED = 2048


def _cut_long_lines_bytes(raw: bytes) -> tuple[bytes, int]:
    """raw with each line longer than MAX_LINE bytes cut there, and how many were; done before decoding, so a
    generated 2 MB line costs a few memchr calls, not a decode, a lower-casing and a search."""
    # Few lines (the generated-file case) are walked with find, copying only what is kept; past _WALKED lines
    # one split finds the long ones at C speed.
    pieces: list[bytes] = []
    cut = i = 0
    while True:
        if len(pieces) > _WALKED:
            lines = raw.split(b"\n")
            if max(map(len, lines)) <= MAX_LINE:
                return raw, 0
            return b"\n".join(ln[:MAX_LINE] for ln in lines), sum(1 for ln in lines if len(ln) > MAX_LINE)
        j = raw.find(b"\n", i)
        end = len(raw) if j < 0 else j
        if end - i > MAX_LINE:
            cut += 1
            pieces.append(raw[i:i + MAX_LINE])
        else:
            pieces.append(raw[i:end])
        if j < 0:
            break
        i = j + 1
    return (b"\n".join(pieces), cut) if cut else (raw, 0)


def _check_dir(d: Path) -> None:
    """Raise InputError unless d is a directory that can be listed."""
    if not d.exists():
        raise InputError(f"{d}: no such directory")
    if not d.is_dir():
        raise InputError(f"{d}: not a directory")
    try:
        with os.scandir(d):
            pass
    except OSError as exc:
        raise InputError(f"{d}: cannot read directory ({exc.strerror or exc})") from None


def scan_projects(dirs: Sequence[Path]) -> tuple[list[ProjectFile], list[FileFact], list[Note]]:
    """Find the compose files, Dockerfiles, scripts, Makefiles and CI files under dirs, and their facts."""
    roots = [Path(d) for d in dirs]
    for d in roots:
        _check_dir(d)
    files: list[ProjectFile] = []
    facts: list[FileFact] = []
    notes: list[Note] = []
    seen: set[str] = set()
    for root in roots:
        project = root.as_posix()
        skipped: Counter[str] = Counter()
        for path, parts, kind in _walk(root, notes, skipped):
            # Nested or repeated --project dirs would otherwise report one file twice.
            if len(roots) > 1:
                real = os.path.realpath(path)
                if real in seen:
                    continue
                seen.add(real)
            shown = project.rstrip("/") + "/" + "/".join(parts)
            files.append(ProjectFile(file=shown, file_kind=kind, project=project))
            text = _read(path, shown, notes)
            if text is not None:
                facts.extend(find_facts(text, shown, kind, project, cut=False))
        if skipped:
            total = sum(skipped.values())
            top = ", ".join(f"{ext} {n}" for ext, n in sorted(skipped.items(), key=lambda x: (-x[1], x[0]))[:6])
            notes.append(Note("files", project, f"{total} file{'s' if total != 1 else ''} of other kinds not "
                              f"searched ({top}{', ...' if len(skipped) > 6 else ''}); docker commands kept there "
                              "are not seen"))
    files.sort(key=lambda f: (f.file, f.file_kind))
    facts.sort(key=lambda f: (f.file, f.line, f.kind, f.text))
    notes.sort(key=lambda n: (n.subject, n.message))
    return files, facts, notes
