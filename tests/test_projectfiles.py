"""Tests for the project-directory scanner (migrate.inventory.projectfiles)."""
from __future__ import annotations

import codecs
import os
from pathlib import Path

import pytest

from migrate.errors import InputError
from migrate.inventory import projectfiles
from migrate.inventory.projectfiles import classify, find_facts, scan_projects
from migrate.model import FileFact

COMPOSE = """\
version: "3.7"
services:
  web:
    image: myorg/web:1.4
    platform: linux
    volumes:
      - C:\\src\\web:/usr/src/app
      - "c:/Users/dev/.m2:/root/.m2:ro"
      - //c/Users/dev/cache:/cache
      - ./logs:/var/log/web
      - /srv/shared:/shared
      - type: bind
        source: D:\\certs
        target: /etc/ssl/private
    environment:
      - XDEBUG_CONFIG=remote_host=docker.for.win.localhost
  db:
    image: postgres:11
    # platform: windows
    extra_hosts:
      - "host:10.0.75.1"
volumes:
  pgdata:
    driver: local
    driver_opts:
      type: none
      o: bind
      device: C:\\pgdata
"""

SWITCH_PS1 = """\
# Switch to Linux containers and start the stack
$dockerCli = Join-Path $Env:ProgramFiles "Docker\\Docker\\DockerCli.exe"
& "$Env:ProgramFiles\\Docker\\Docker\\DockerCli.exe" -SwitchDaemon
docker run --platform linux -v C:\\data:/data alpine ls /data
docker run --rm -v ${PWD}:/app -w /app node:12 npm test
C:\\tools\\curl.exe http://localhost:8080/health
$env:DOCKER_HOST = "tcp://localhost:2375"
"""

MAKEFILE = """\
IMAGE ?= myorg/api
build:
\tdocker build --platform=linux/amd64 -t $(IMAGE) .
run:
\tdocker run -v $(CURDIR):/src -e DB_HOST=10.0.75.2 $(IMAGE)
flash:
\tplatformio run --target upload
"""

WORKFLOW = """\
name: build
on: [push]
jobs:
  build:
    runs-on: windows-2019
    steps:
      - uses: actions/checkout@v2
      - run: docker context use desktop-linux
      - run: docker buildx build --platform linux/amd64,linux/arm64 .
"""

DOCKERFILE = """\
# syntax=docker/dockerfile:1
FROM --platform=linux/amd64 python:3.9-slim AS base
FROM --platform=$BUILDPLATFORM golang:1.21 AS tools
RUN pip install flask
"""

MAKE_CMD = """\
@echo off
docker run --rm -it -v "%cd%":/share --workdir /share myorg/tools make %*
"""


def _write(root: Path, rel: str, text: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return path


def _keys(facts: list[FileFact]) -> set[tuple[str, int, str]]:
    return {(f.file, f.line, f.kind) for f in facts}


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    _write(root, "docker-compose.yml", COMPOSE)
    _write(root, "scripts/switch.ps1", SWITCH_PS1)
    _write(root, "Makefile", MAKEFILE)
    _write(root, ".github/workflows/ci.yml", WORKFLOW)
    _write(root, "api/Dockerfile", DOCKERFILE)
    _write(root, "make.cmd", MAKE_CMD)
    _write(root, "README.md", "docker run --platform linux -v C:\\x:/x img\n")  # not a project file kind
    return root


def test_finds_expected_facts(project: Path) -> None:
    files, facts, notes = scan_projects([project])
    p = project.as_posix()
    expected = {
        (f"{p}/docker-compose.yml", 5, "platform-key"),
        (f"{p}/docker-compose.yml", 7, "windows-bind"),
        (f"{p}/docker-compose.yml", 8, "windows-bind"),
        (f"{p}/docker-compose.yml", 9, "windows-bind"),
        (f"{p}/docker-compose.yml", 13, "windows-bind"),
        (f"{p}/docker-compose.yml", 16, "hyperv-hostname"),
        (f"{p}/docker-compose.yml", 21, "hyperv-address"),
        (f"{p}/docker-compose.yml", 28, "windows-bind"),
        (f"{p}/scripts/switch.ps1", 3, "backend-switch"),
        (f"{p}/scripts/switch.ps1", 4, "platform-flag"),
        (f"{p}/scripts/switch.ps1", 4, "windows-bind"),
        (f"{p}/scripts/switch.ps1", 5, "windows-bind"),
        (f"{p}/scripts/switch.ps1", 7, "context-switch"),
        (f"{p}/scripts/switch.ps1", 7, "hyperv-address"),
        (f"{p}/Makefile", 3, "platform-flag"),
        (f"{p}/Makefile", 5, "hyperv-address"),
        (f"{p}/.github/workflows/ci.yml", 8, "context-switch"),
        (f"{p}/.github/workflows/ci.yml", 9, "platform-flag"),
        (f"{p}/api/Dockerfile", 2, "platform-flag"),
        (f"{p}/make.cmd", 2, "windows-bind"),
    }
    assert _keys(facts) == expected
    # README.md is no project-file kind: counted, not searched.
    assert [(n.subject, n.message) for n in notes] == [
        (p, "1 file of other kinds not searched (.md 1); docker commands kept there are not seen")]
    assert {(f.file, f.file_kind) for f in files} == {
        (f"{p}/docker-compose.yml", "compose"),
        (f"{p}/scripts/switch.ps1", "powershell"),
        (f"{p}/Makefile", "makefile"),
        (f"{p}/.github/workflows/ci.yml", "ci"),
        (f"{p}/api/Dockerfile", "dockerfile"),
        (f"{p}/make.cmd", "cmd"),
    }
    assert all(f.project == p for f in files) and all(f.project == p for f in facts)


def test_fact_fields_and_text(project: Path) -> None:
    _, facts, _ = scan_projects([project])
    by_key = {(Path(f.file).name, f.line, f.kind): f for f in facts}
    assert by_key[("docker-compose.yml", 7, "windows-bind")].text == "C:\\src\\web:/usr/src/app"
    assert by_key[("docker-compose.yml", 7, "windows-bind")].file_kind == "compose"
    assert by_key[("docker-compose.yml", 8, "windows-bind")].text == "c:/Users/dev/.m2:/root/.m2:ro"
    assert by_key[("switch.ps1", 3, "backend-switch")].text == 'DockerCli.exe" -SwitchDaemon'
    assert by_key[("switch.ps1", 4, "platform-flag")].text == "--platform linux"
    pwd = by_key[("switch.ps1", 5, "windows-bind")].text
    assert pwd.startswith("${PWD}:/app") and "PowerShell" in pwd
    assert by_key[("make.cmd", 2, "windows-bind")].text.startswith('"%cd%":/share')
    assert by_key[("Makefile", 3, "platform-flag")].text == "--platform=linux/amd64"
    assert by_key[("ci.yml", 8, "context-switch")].text == "docker context use desktop-linux"


def test_results_sorted(project: Path) -> None:
    files, facts, _ = scan_projects([project])
    assert [f.file for f in files] == sorted(f.file for f in files)
    keys = [(f.file, f.line, f.kind) for f in facts]
    assert keys == sorted(keys)


def test_heavy_and_foreign_trees_are_not_opened(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bait = "docker run --platform linux -v C:\\x:/x img\n"
    _write(project, "web/node_modules/left-pad/build.sh", bait)
    _write(project, ".git/hooks/pre-commit.sh", bait)
    _write(project, ".venv/bin/activate.ps1", bait)
    _write(project, "env/pyvenv.cfg", "home = /usr/bin\n")
    _write(project, "env/Scripts/Activate.ps1", bait)
    _write(project, "tools/__pycache__/x.sh", bait)
    _write(project, "rust/target/debug/build.sh", bait)
    _write(project, "docs/notes.txt", bait)  # a name no pattern matches
    opened: list[str] = []
    real_open = os.open

    def spy(file: object, *args: object, **kwargs: object) -> int:
        opened.append(Path(str(file)).as_posix())
        return real_open(file, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(projectfiles.os, "open", spy)
    files, facts, _ = scan_projects([project])
    assert opened, "the spy must see the project's own files"
    for part in ("node_modules", "/.git/", ".venv", "/env/", "__pycache__", "/target/", "notes.txt"):
        assert not any(part in p for p in opened), part
        assert not any(part in f.file for f in files), part
    assert len(opened) == len(files) == 6
    assert not any(f.text == "C:\\x:/x" for f in facts)


def test_binary_and_large_files_are_noted(tmp_path: Path) -> None:
    _write(tmp_path, "tool.sh", b"\x7fELF\x02\x01\x01\x00\x00docker run --platform linux img")
    big = ("echo docker run --platform linux\n" * 70000).encode()
    assert len(big) > 2 * 1024 * 1024
    _write(tmp_path, "big.sh", big)
    files, facts, notes = scan_projects([tmp_path])
    assert facts == []
    assert len(files) == 2
    messages = {Path(n.subject).name: n.message for n in notes}
    assert "binary" in messages["tool.sh"]
    assert "2 MiB" in messages["big.sh"]
    assert all(n.area == "files" for n in notes)


def test_utf16_powershell_ise_file(tmp_path: Path) -> None:
    # PowerShell ISE and Windows PowerShell 5.1 `Out-File` save UTF-16 LE with a BOM and CRLF line ends.
    text = "Write-Host 'switch'\r\n& DockerCli.exe -SwitchLinuxEngine\r\ndocker run -v C:\\data:/data img\r\n"
    _write(tmp_path, "switch.ps1", codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    _, facts, notes = scan_projects([tmp_path])
    assert notes == []
    assert {(f.line, f.kind, f.text) for f in facts} == {
        (2, "backend-switch", "DockerCli.exe -SwitchLinuxEngine"),
        (3, "windows-bind", "C:\\data:/data"),
    }


def test_ansi_batch_file_is_read(tmp_path: Path) -> None:
    # cmd files are commonly saved in a Windows code page, which is not valid UTF-8.
    raw = "rem Übersetzung\r\ndocker run -v %~dp0:/work img\r\n".encode("cp1252")
    _write(tmp_path, "run.bat", raw)
    _, facts, notes = scan_projects([tmp_path])
    assert notes == []
    assert [(f.line, f.kind) for f in facts] == [(2, "windows-bind")]


def test_unreadable_file_is_a_note() -> None:
    from tests.unprivileged import as_nobody, shared_dir

    root = shared_dir()
    try:
        _write(root, "locked.ps1", "docker run --platform linux img\n").chmod(0o000)
        _write(root, "ok.sh", "docker run --platform linux img\n").chmod(0o644)
        files, facts, notes = as_nobody(lambda: scan_projects([root]))
    finally:
        import shutil

        shutil.rmtree(root)
    assert [Path(f.file).name for f in facts] == ["ok.sh"]
    assert len(files) == 2
    assert [(Path(n.subject).name, n.area, n.message) for n in notes] == [
        ("locked.ps1", "files", "cannot read (Permission denied)")]


def test_missing_or_non_directory_is_input_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(InputError) as err:
        scan_projects([missing])
    assert err.value.message == f"{missing}: no such directory"
    afile = _write(tmp_path, "compose.yml", "services: {}\n")
    with pytest.raises(InputError, match="not a directory"):
        scan_projects([afile])


def test_symlinked_dirs_not_followed_and_nested_dirs_not_doubled(tmp_path: Path) -> None:
    _write(tmp_path, "app/compose.yaml", "services:\n  a:\n    platform: linux\n")
    os.symlink(tmp_path / "app", tmp_path / "app" / "loop")
    files, facts, _ = scan_projects([tmp_path, tmp_path / "app"])
    assert [f.file for f in files] == [f"{tmp_path.as_posix()}/app/compose.yaml"]
    assert len(facts) == 1


@pytest.mark.parametrize("rel, kind", [
    ("docker-compose.yml", "compose"), ("docker-compose.override.yaml", "compose"),
    ("compose.yaml", "compose"), ("docker-compose-dev.yml", "compose"), ("api.compose.yml", "compose"),
    ("Dockerfile", "dockerfile"), ("dockerfile", "dockerfile"), ("Dockerfile.windows", "dockerfile"),
    ("web.Dockerfile", "dockerfile"), ("Containerfile", "dockerfile"), ("Build.PS1", "powershell"),
    ("mod.psm1", "powershell"), ("go.cmd", "cmd"), ("RUN.BAT", "cmd"), ("x.sh", "shell"), ("x.bash", "shell"),
    ("GNUmakefile", "makefile"), ("rules.mk", "makefile"), (".github/workflows/ci.yaml", "ci"),
    (".gitlab-ci.yml", "ci"), ("azure-pipelines.yml", "ci"), ("azure-pipelines-win.yml", "ci"),
    ("Jenkinsfile", "ci"), (".drone.yml", "ci"), ("bitbucket-pipelines.yml", "ci"),
    (".circleci/config.yml", "ci"), (".env", "other"), (".env.local", "other"),
    ("Dockerfile.dockerignore", None), ("config.yml", None), ("compose.py", None), ("workflows/ci.yml", None),
    ("README.md", None), ("composer.json", None),
])
def test_classify(rel: str, kind: str | None) -> None:
    assert classify(tuple(rel.split("/"))) == kind


@pytest.mark.parametrize("kind, file_kind, line", [
    ("windows-bind", "compose", "      - ./data:/data"),
    ("windows-bind", "compose", "      - /srv/x:/x"),
    ("windows-bind", "compose", "      - pgdata:/var/lib/postgresql/data"),
    ("windows-bind", "shell", 'docker run -v "$(pwd)":/app img'),
    ("windows-bind", "shell", "docker run -v ${PWD}:/app img"),
    ("windows-bind", "compose", "      - ${PWD}:/app"),
    ("windows-bind", "compose", "    image: localhost:5000/team/api:1.2"),
    ("windows-bind", "ci", "      - run: curl -fsSL https://get.docker.com/a/b:/c"),
    ("windows-bind", "powershell", "C:\\tools\\curl.exe http://localhost:8080/x"),
    ("windows-bind", "powershell", "Invoke-WebRequest -Uri https://example.com/c:/x"),
    ("platform-flag", "makefile", "\tplatformio run --target upload"),
    ("platform-flag", "dockerfile", "FROM --platform=$BUILDPLATFORM golang:1.21"),
    ("platform-flag", "shell", "docker build --platforms linux ."),
    ("platform-key", "dockerfile", "platform: linux"),
    ("context-switch", "shell", "kubectl --context prod apply -f k8s/"),
    ("context-switch", "ci", "      DOCKER_HOST: tcp://docker:2375"),
    ("hyperv-address", "shell", "curl http://110.0.75.1/ http://localhost:23750/"),
    ("hyperv-hostname", "shell", "echo host.docker.internal"),
])
def test_no_false_positive(kind: str, file_kind: str, line: str) -> None:
    assert [f for f in find_facts(line + "\n", "f", file_kind) if f.kind == kind] == []


@pytest.mark.parametrize("file_kind, line, kind, text", [
    ("powershell", "docker run --mount type=bind,source=C:\\x,target=/x img", "windows-bind", "source=C:\\x"),
    ("powershell", 'docker run -v "C:\\Program Files\\app:/app" img', "windows-bind",
     "C:\\Program Files\\app:/app"),
    ("shell", "docker run -v /c/Users/dev/src:/src img", "windows-bind", "/c/Users/dev/src:/src"),
    ("compose", "  - /host_mnt/c/src:/src", "windows-bind", "/host_mnt/c/src:/src"),
    ("compose", "  - /host_mnt/c/src:/src", "hyperv-hostname", "/host_mnt"),
    ("powershell", "Get-VM MobyLinuxVM | Stop-VM", "hyperv-hostname", "MobyLinuxVM"),
    ("other", "DB_HOST=docker.for.win.host.internal", "hyperv-hostname", "docker.for.win.host.internal"),
    ("powershell", "docker desktop engine use linux", "backend-switch", "docker desktop engine use linux"),
    ("powershell", '$s = Get-Content settings.json | ConvertFrom-Json; $s.wslEngineEnabled = $true',
     "backend-switch", "wslEngineEnabled = $true"),
    ("cmd", "set DOCKER_HOST=npipe:////./pipe/docker_engine", "context-switch",
     "DOCKER_HOST=npipe:////./pipe/docker_engine"),
    ("shell", "docker -H tcp://127.0.0.1:2375 ps", "hyperv-address", "tcp://127.0.0.1:2375"),
    ("shell", "export DOCKER_DEFAULT_PLATFORM=linux/amd64", "platform-flag",
     "DOCKER_DEFAULT_PLATFORM=linux/amd64"),
    # "İ".lower() is two characters long: offsets must still line up with the original text.
    ("shell", "echo İİİİ; docker run --platform linux -v C:\\x:/x img", "windows-bind", "C:\\x:/x"),
])
def test_positive_fragments(file_kind: str, line: str, kind: str, text: str) -> None:
    assert text in [f.text for f in find_facts(line + "\n", "f", file_kind) if f.kind == kind]
