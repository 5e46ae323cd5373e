"""Each class of bad input from issue 11, one test each: refused with exit 2 naming the file and what is wrong,
or read correctly; never exit 4, never an output file on failure."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from migrate.cli import app
from migrate.inventory import payload
from migrate.inventory.projectfiles import find_facts
from migrate.reference import image_or_reference_problem, reference_problem, tag_problem

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "hyperv-2x"


def _scan(*args: str) -> Any:
    return CliRunner().invoke(app, ["scan", *args, "-q"])


def _bundle(tmp_path: Path) -> Path:
    bundle = tmp_path / "bundle"
    shutil.copytree(SAMPLE, bundle)
    return bundle


def _edit(bundle: Path, rel: str, change: Any) -> None:
    path = bundle / rel
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")


def _refused(res: Any, *fragments: str) -> str:
    assert res.exit_code == 2, res.output
    line = res.output.strip()
    assert line.startswith("wsl2-migrate: error: ") and "\n" not in line, res.output
    for fragment in fragments:
        assert fragment in line, line
    return line


# ------------------------------------------------------------------------------------------------ bundles


def test_empty_folder_is_not_a_bundle_unless_partial(tmp_path: Path) -> None:
    out = tmp_path / "inv.json"
    _refused(_scan("--bundle", str(tmp_path), "-o", str(out)), "not a bundle (no manifest.json)", "--bundle-partial")
    assert not out.exists()
    res = _scan("--bundle", str(tmp_path), "--bundle-partial", "-o", str(out))
    assert res.exit_code == 0, res.output
    notes = json.loads(out.read_text())["notes"]
    assert any("no manifest.json" in n["message"] for n in notes)


def test_bundle_partial_needs_a_bundle() -> None:
    _refused(_scan("--bundle-partial", "--engine-info", str(SAMPLE / "engine" / "info.json")), "--bundle-partial")


def test_manifest_errors_of_the_wrong_type(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path)
    _edit(bundle, "manifest.json", lambda d: d.update(errors=5))
    _refused(_scan("--bundle", str(bundle)), "manifest.json", "key errors")


# Every list-typed field the normalizer reads from a container: a `true` there is refused with its name.
CONTAINER_LISTS = sorted(
    [f"Config.{k}" for k, v in payload.CONTAINER["Config"].items() if v == payload.L]
    + [f"HostConfig.{k}" for k, v in payload.CONTAINER["HostConfig"].items()
       if v in (payload.L, payload.LI) or isinstance(v, list)]
    + ["Mounts"])


@pytest.mark.parametrize("field", CONTAINER_LISTS)
def test_true_where_the_api_gives_a_list(tmp_path: Path, field: str) -> None:
    bundle = _bundle(tmp_path)

    def change(items: list[dict[str, Any]]) -> None:
        obj = items[0]
        *parents, last = field.split(".")
        for p in parents:
            obj = obj.setdefault(p, {})
        obj[last] = True

    _edit(bundle, "engine/containers.json", change)
    _refused(_scan("--bundle", str(bundle)), "engine/containers.json", f": {field}: expected ", "found true")


@pytest.mark.parametrize(("rel", "change", "fragment"), [
    ("engine/images.json", lambda d: d[0].update(Size=-813953096), "Size: expected a non-negative integer"),
    ("engine/images.json", lambda d: d[0].update(Size=1e400), "Size: expected a non-negative integer"),
    ("engine/images.json", lambda d: d[0].update(Size=2**64), "Size: expected a non-negative integer"),
    ("engine/containers.json", lambda d: d[0].update(SizeRw=-5), "SizeRw: expected a non-negative integer"),
    ("engine/images.json", lambda d: d[0].update(RepoTags=["--output=C:/Windows/evil.tar:latest"]),
     "starts with '-', so docker would read it as an option"),
    ("engine/containers.json", lambda d: d[0]["Config"].update(Image="-v"), "Config.Image: '-v' starts with '-'"),
    ("engine/containers.json", lambda d: d[0]["Config"].update(Cmd=["sh", "-c", "a\u0000b"]),
     "holds a NUL character"),
    ("engine/containers.json", lambda d: d[0].update(Name="/\ud800web"), "lone UTF-16 surrogate"),
    ("engine/volumes.json", lambda d: d.append({**d[0], "Driver": "other"}), "appears twice with different content"),
    ("engine/networks.json", lambda d: d.insert(0, d[0]), ""),
    ("engine/containers.json", lambda d: d.append(d[0]["HostConfig"]), "has no Id"),
    ("engine/volumes.json", lambda d: d.append({"Id": "x", "State": {}, "HostConfig": {}}), "looks like a container"),
])
def test_impossible_values_are_refused_with_the_object_named(tmp_path: Path, rel: str, change: Any,
                                                             fragment: str) -> None:
    bundle = _bundle(tmp_path)
    _edit(bundle, rel, change)
    out = tmp_path / "inv.json"
    res = _scan("--bundle", str(bundle), "-o", str(out))
    if not fragment:  # an identical repeated entry is one object
        assert res.exit_code == 0, res.output
        return
    _refused(res, rel, fragment)
    assert not out.exists()


def test_deep_json_in_any_bundle_file(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path)
    (bundle / "engine" / "df.json").write_text("[" * 1500 + "]" * 1500)
    _refused(_scan("--bundle", str(bundle)), "engine/df.json", "nested deeper than 64 levels")


def test_a_bundle_file_the_process_may_not_read(tmp_path: Path) -> None:
    from tests.unprivileged import as_nobody, shared_dir

    root = shared_dir()
    try:
        bundle = root / "bundle"
        shutil.copytree(SAMPLE, bundle)
        for dirpath, _, files in os.walk(root):
            os.chmod(dirpath, 0o755)
            for f in files:
                os.chmod(os.path.join(dirpath, f), 0o644)
        (bundle / "engine" / "images.json").chmod(0o000)
        # An output folder nobody may write into: the output path is checked before any reading (exit 2 too).
        (root / "out").mkdir()
        (root / "out").chmod(0o777)
        out = root / "out" / "out.json"
        exit_code, output = as_nobody(lambda: (lambda r: (r.exit_code, r.output))(
            _scan("--bundle", str(bundle), "-o", str(out))))
        assert exit_code == 2, output
        assert "engine/images.json: cannot read (Permission denied)" in output
        assert not out.exists()
    finally:
        shutil.rmtree(root)


# ------------------------------------------------------------------------------------------- single files


def test_single_file_flags_refuse_devices_fifos_and_huge_files(tmp_path: Path) -> None:
    _refused(_scan("--engine-info", "/dev/zero"), "/dev/zero: is a character device")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    _refused(_scan("--wslconfig", str(fifo)), "is a FIFO")
    big = tmp_path / "big.wslconfig"
    with open(big, "wb") as fh:
        fh.truncate(200 * 1024 * 1024)  # sparse: 200 MB without writing them
    _refused(_scan("--wslconfig", str(big)), "larger than 1 MiB, the limit for a wslconfig file")


def test_the_same_kind_of_file_given_twice_is_refused(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text("{}")
    b.write_text('{"insecure-registries": ["reg:5000"]}')
    _refused(_scan("--daemon-config", f"linux={a}", "--daemon-config", f"linux={b}"),
             "--daemon-config linux= given twice")


def test_old_settings_schema_vmswap_is_read(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{"VmMemory": 2048, "VmCpus": 2, "VmSwap": 1536}')
    out = tmp_path / "inv.json"
    assert _scan("--settings", str(path), "-o", str(out)).exit_code == 0
    desktop = json.loads(out.read_text())["settings"]["desktop"]
    assert (desktop["memory_mib"], desktop["cpus"], desktop["swap_mib"]) == (2048, 2, 1536)


def test_wslconfig_problem_text_is_not_eaten_by_the_scrubber(tmp_path: Path) -> None:
    path = tmp_path / ".wslconfig"
    path.write_text("[wsl2]\nmemory=8GB\njust some words\n")
    out = tmp_path / "r.json"
    res = CliRunner().invoke(app, ["assess", "--wslconfig", str(path), "-f", "json", "-o", str(out)])
    assert res.exit_code == 0, res.output
    desk012 = [f for f in json.loads(out.read_text())["findings"] if f["rule"] == "DESK012"]
    assert desk012 and "'just some words' is not a setting (name = value)" in desk012[0]["message"]
    assert "<redacted>" not in desk012[0]["message"]


def test_inventory_json_with_a_negative_size_is_refused(tmp_path: Path) -> None:
    inv = tmp_path / "inv.json"
    assert _scan("--bundle", str(SAMPLE), "-o", str(inv)).exit_code == 0
    data = json.loads(inv.read_text())
    data["images"][0]["size"] = -813953096
    inv.write_text(json.dumps(data))
    res = CliRunner().invoke(app, ["plan", str(inv), "-o", str(tmp_path / "plan.toml")])
    _refused(res, str(inv), "size is -813953096")
    assert not (tmp_path / "plan.toml").exists()


@pytest.mark.parametrize(("key", "value", "words"), [
    ("Env", True, "config.Env is bool; it must be a list of strings"),
    ("Cmd", "sh", "config.Cmd is str; it must be a list of strings"),
    ("ExposedPorts", ["80/tcp"], "config.ExposedPorts is list; it must be an object"),
    ("WorkingDir", 7, "config.WorkingDir is int; it must be a string"),
])
def test_an_image_config_of_the_wrong_kind_is_refused(tmp_path: Path, key: str, value: Any, words: str) -> None:
    """The planner reads a container's defaults from its image's config: a hand-edited inventory.json with the wrong
    kind of value there is bad input (exit 2, named), never a crash in the planner (found by the fuzz test)."""
    inv = tmp_path / "inv.json"
    assert _scan("--bundle", str(SAMPLE), "-o", str(inv)).exit_code == 0
    data = json.loads(inv.read_text())
    data["images"][0]["config"][key] = value
    inv.write_text(json.dumps(data))
    for args in (["assess", str(inv), "-f", "json", "-o", str(tmp_path / "r.json")],
                 ["plan", str(inv), "-o", str(tmp_path / "plan.toml")]):
        res = CliRunner().invoke(app, args)
        _refused(res, str(inv), words)
    assert not (tmp_path / "r.json").exists() and not (tmp_path / "plan.toml").exists()


def test_an_old_engines_lone_string_cmd_is_one_argument_not_refused(tmp_path: Path) -> None:
    """Old engines wrote an image's Cmd and Entrypoint as a lone string: the scan reads it as a one-element list,
    so the inventory's own check (lists of strings) holds and a plan never splits it into characters."""
    bundle = _bundle(tmp_path)
    _edit(bundle, "engine/images.json", lambda d: d[0]["Config"].update(Cmd="sh", Entrypoint="/entry"))
    out = tmp_path / "inv.json"
    res = _scan("--bundle", str(bundle), "-o", str(out))
    assert res.exit_code == 0, res.output
    first = json.loads((bundle / "engine/images.json").read_text())[0]["Id"]
    image = next(i for i in json.loads(out.read_text())["images"] if i["id"] == first)
    assert (image["config"]["Cmd"], image["config"]["Entrypoint"]) == (["sh"], ["/entry"])


def test_a_hyperv_vm_in_host_facts_is_read_as_powershell_writes_it_or_refused(tmp_path: Path) -> None:
    """ConvertTo-Json writes a one-element `disks` as a bare string: one disk, not one per character; anything
    else of the wrong kind is bad input named by key (it was a TypeError on an LCOW host; found by the fuzz test)."""
    disk = "C:\\ProgramData\\DockerDesktop\\vm-data\\DockerDesktop.vhdx"
    bundle = _bundle(tmp_path)
    _edit(bundle, "host/facts.json", lambda d: d.update(hyperv_vms={"name": "DockerDesktopVM", "state": "Off",
                                                                    "disks": disk}))
    out = tmp_path / "inv.json"
    assert _scan("--bundle", str(bundle), "-o", str(out)).exit_code == 0
    assert json.loads(out.read_text())["host"]["hyperv_vms"][0]["disks"] == [disk]
    _edit(bundle, "host/facts.json", lambda d: d.update(hyperv_vms=[{"name": "DockerDesktopVM", "disks": True}]))
    _refused(_scan("--bundle", str(bundle), "-o", str(tmp_path / "again.json")), "hyperv_vms[0].disks")
    assert not (tmp_path / "again.json").exists()


# ----------------------------------------------------------------------------------------- reference grammar


@pytest.mark.parametrize("ref", ["nginx", "nginx:1.25", "library/nginx:latest", "localhost:5000/team/api:1.2",
                                 "mcr.microsoft.com/windows/servercore:ltsc2019",
                                 "registry.example.com/a/b/c@sha256:" + "a" * 64, "[::1]:5000/x:y",
                                 "ubuntu:22.04@sha256:" + "0" * 64])
def test_references_docker_accepts(ref: str) -> None:
    assert reference_problem(ref) == ""


@pytest.mark.parametrize(("ref", "why"), [
    ("--output=C:/Windows/evil.tar:latest", "starts with '-'"), ("-v", "starts with '-'"),
    ("Nginx", "not an image reference"), ("nginx:", "not an image reference"), ("", "empty"),
    ("a" * 300, "longer than 255"), ("nginx:" + "t" * 129, "not an image reference"),
    ("x@sha256:short", "not an image reference"), ("a b", "not an image reference"),
])
def test_references_docker_refuses(ref: str, why: str) -> None:
    assert why in reference_problem(ref)


def test_image_ids_and_tags() -> None:
    assert image_or_reference_problem("sha256:" + "b" * 64) == ""
    assert image_or_reference_problem("3f2a1b9c4d5e") == ""
    assert tag_problem("1.2-alpine") == "" and "starts with '-'" in tag_problem("-rm")


# ------------------------------------------------------------------------------------------- project files


@pytest.mark.parametrize(("file_kind", "line", "text"), [
    ("powershell", "docker run --mount type=bind,source=/d,target=/data img", "source=/d"),
    ("shell", "docker run -v //c/Users://c/users img", "//c/Users://c/users"),
    ("shell", "docker run -v /d:/data img", "/d:/data"),
    ("compose", "      - //c/src:/src", "//c/src:/src"),
    ("compose", "        source: /d", "source: /d"),
])
def test_bare_drives_and_double_slash_forms(file_kind: str, line: str, text: str) -> None:
    assert text in [f.text for f in find_facts(line + "\n", "f", file_kind) if f.kind == "windows-bind"]


@pytest.mark.parametrize(("file_kind", "text"), [
    ("shell", "# docker run -v C:\\x:/x --platform linux img\n"),
    ("shell", "echo hi # docker run -v C:\\x:/x img\n"),
    ("makefile", "\t# docker run -v C:\\x:/x img\n"),
    ("compose", "    # - C:\\data:/data\n    # platform: windows\n"),
    ("dockerfile", "# FROM --platform=linux alpine\n"),
    ("powershell", "<#\ndocker run -v C:\\x:/x img\n#>\n# docker run --platform linux img\n"),
    ("cmd", "REM docker run -v C:\\x:/x img\n:: docker run -v %cd%:/x img\n@rem docker run --platform linux x\n"),
])
def test_comments_are_not_how_the_project_runs(file_kind: str, text: str) -> None:
    assert find_facts(text, "f", file_kind) == []


@pytest.mark.parametrize(("line", "image"), [
    ("docker run -it mcr.microsoft.com/windows/nanoserver:1809", "mcr.microsoft.com/windows/nanoserver:1809"),
    ("    image: mcr.microsoft.com/windows/servercore/iis", "mcr.microsoft.com/windows/servercore/iis"),
    ("FROM mcr.microsoft.com/dotnet/framework/aspnet:4.8", "mcr.microsoft.com/dotnet/framework/aspnet:4.8"),
    ("docker pull python:3.11-windowsservercore-ltsc2022", "python:3.11-windowsservercore-ltsc2022"),
    ("docker run microsoft/nanoserver cmd", "microsoft/nanoserver"),
])
def test_windows_images_by_name(line: str, image: str) -> None:
    facts = find_facts(line + "\n", "f", "powershell")
    assert [f.text for f in facts if f.kind == "windows-image"] == [image]


@pytest.mark.parametrize("line", ["docker run nginx:ltsc", "echo servercore", "$nanoserver = 1",
                                  "docker run windows-tools:1.0"])
def test_not_windows_images(line: str) -> None:
    assert [f for f in find_facts(line + "\n", "f", "powershell") if f.kind == "windows-image"] == []


@pytest.mark.parametrize("line", [":/ " + "+/a/" * 500_000, "--context x " + "docker " * 300_000,
                                  "-v " + "C:\\a" * 500_000, "x: " + '"/c/a ' * 350_000,
                                  "docker run " + "nanoserver/" * 190_000])
def test_pathological_long_lines_end(line: str) -> None:
    """2 MB one-line files that made backtracking patterns run for minutes: linear matching ends at once (the
    time is compared with a bare read in bench/projectfiles.py; here it only has to end)."""
    assert isinstance(find_facts(line + "\n", "f", "shell"), list)
