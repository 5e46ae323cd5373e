"""Every command with every bad output path the issue lists: exit 2 naming the path, nothing destroyed or left.

Run as root, as CI and the runbook's users are: root may write where a user may not, so the refusals must come from
the tool (a read-only file, a device node), not from permissions.
"""
from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from migrate.cli import app

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "lcow"


def cli(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(app, list(args))
    return res.exit_code, res.output


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("inputs")
    code, out = cli("run", "--sample", "lcow", "--out", str(d / "run"))
    assert code == 0, out
    return {"inventory": d / "run" / "inventory.json", "plan": d / "run" / "plan.toml", "dir": d}


def commands(inputs: dict[str, Path]) -> dict[str, list[str]]:
    """Each command writing one output, without its -o value."""
    inv, plan = str(inputs["inventory"]), str(inputs["plan"])
    return {
        "scan": ["scan", "--bundle", str(SAMPLE), "-q"],
        "collector": ["collector"],
        "assess": ["assess", inv],
        "plan": ["plan", inv, "--fresh"],
        "runbook": ["runbook", plan],
        "validate": ["validate", plan, inv],
        "verify": ["verify", inv, inv],
        # The lcow sample's plan moves a second source engine too (the Hyper-V VM's): --hyperv names it.
        "rehearse": ["rehearse", plan, "--source", "unix:///nonexistent.sock", "--hyperv", "unix:///nonexistent.sock",
                     "--target", "unix:///nonexistent.sock", "--workdir", str(inputs["dir"] / "rwork")],
    }


@pytest.fixture(scope="module")
def mounts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """A read-only mount and an immutable directory (chattr +i): folders even root cannot write into."""
    d = tmp_path_factory.mktemp("mounts")
    ro, imm = d / "ro", d / "immutable"
    ro.mkdir()
    imm.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(ro)], check=True)
    subprocess.run(["chattr", "+i", str(imm)], check=True)
    try:
        yield {"ro": ro, "immutable": imm}
    finally:
        subprocess.run(["umount", str(ro)], check=False)
        subprocess.run(["chattr", "-i", str(imm)], check=False)


def bad_paths(tmp: Path, mounts: dict[str, Path]) -> dict[str, tuple[Path, Callable[[], object]]]:
    """name -> (path, a snapshot of what must be unchanged afterwards)."""
    afile = tmp / "afile"
    afile.write_text("keep me")
    ro_file = tmp / "readonly.md"
    ro_file.write_text("read-only")
    ro_file.chmod(0o444)
    folder = tmp / "folder"
    folder.mkdir(exist_ok=True)
    sock = tmp / "sock"
    return {
        "a file's child": (afile / "sub", afile.read_text),
        "a missing folder": (tmp / "nowhere" / "x.md", lambda: (tmp / "nowhere").exists()),
        "an existing folder": (folder, lambda: sorted(os.listdir(folder))),
        "a read-only file": (ro_file, ro_file.read_text),
        "a read-only mount": (mounts["ro"] / "x.md", lambda: os.listdir(mounts["ro"])),
        "an immutable folder": (mounts["immutable"] / "x.md", lambda: os.listdir(mounts["immutable"])),
        "a file in /proc": (Path("/proc/x.md"), lambda: os.path.exists("/proc/x.md")),
        "a block device": (Path("/dev/loop-control") if False else _block_device(), lambda: None),
        "a socket": (sock, lambda: stat.S_ISSOCK(sock.lstat().st_mode)),
    }


def _block_device() -> Path:
    for p in sorted(Path("/dev").iterdir()):
        try:
            if stat.S_ISBLK(p.lstat().st_mode):
                return p
        except OSError:
            continue
    raise AssertionError("no block device under /dev")


@pytest.mark.parametrize("command", ["scan", "collector", "assess", "plan", "runbook", "validate", "verify",
                                     "rehearse"])
def test_every_bad_output_path_is_exit_2_naming_the_path(command: str, inputs: dict[str, Path],
                                                         mounts: dict[str, Path], tmp_path: Path) -> None:
    import socket

    with socket.socket(socket.AF_UNIX) as s:
        paths = bad_paths(tmp_path, mounts)
        s.bind(str(paths["a socket"][0]))
        for what, (path, snapshot) in paths.items():
            before = snapshot()
            code, out = cli(*commands(inputs)[command], "-o", str(path))
            assert code == 2, f"{command} -o {what}: exit {code}: {out}"
            lines = [line for line in out.splitlines() if line.startswith("wsl2-migrate: error:")]
            assert len(lines) == 1 and str(path) in lines[0], f"{command} -o {what}: {out}"
            assert "internal error" not in out
            assert snapshot() == before, f"{command} -o {what} changed what was there"
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir()), "a temporary file was left"


@pytest.mark.parametrize("command", ["scan", "collector", "assess", "plan", "runbook", "validate", "verify"])
def test_device_nodes_and_links_to_them_are_written_in_place(command: str, inputs: dict[str, Path],
                                                             tmp_path: Path) -> None:
    link = tmp_path / "to-null"
    link.symlink_to("/dev/null")
    for path in (Path("/dev/null"), link, Path("/dev/stdout")):
        code, out = cli(*commands(inputs)[command], "-o", str(path))
        assert code in (0, 1), f"{command} -o {path}: exit {code}: {out}"  # validate/verify may find problems
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode) and Path("/dev/null").is_char_device()
    assert os.path.islink("/dev/stdout") and link.is_symlink()


def test_rehearse_accepts_dev_null_then_fails_on_the_engine_not_the_output(inputs: dict[str, Path]) -> None:
    code, out = cli(*commands(inputs)["rehearse"], "-o", "/dev/null")
    assert code == 3 and "nonexistent.sock" in out


def test_run_out_bad_folders_are_exit_2_and_write_nothing(inputs: dict[str, Path], mounts: dict[str, Path],
                                                          tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    for what, out in {"an existing file": afile, "a file's child": afile / "sub", "/dev/null": Path("/dev/null"),
                      "a read-only mount": mounts["ro"] / "out", "an immutable folder": mounts["immutable"],
                      "stdout": Path("-")}.items():
        code, text = cli("run", "--sample", "lcow", "--out", str(out))
        assert code == 2, f"run --out {what}: exit {code}: {text}"
        assert "internal error" not in text and str(out) in text
    assert afile.read_text() == "keep me" and Path("/dev/null").is_char_device()


def test_fleet_output_bad_folders_are_exit_2(mounts: dict[str, Path], tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    for what, out in {"an existing file": afile, "a file's child": afile / "sub", "/dev/null": Path("/dev/null"),
                      "a folder in /proc": Path("/proc/x"), "a read-only mount": mounts["ro"] / "out",
                      "an immutable folder": mounts["immutable"]}.items():
        code, text = cli("fleet", str(SAMPLE), "-o", str(out))
        assert code == 2, f"fleet -o {what}: exit {code}: {text}"
        assert "internal error" not in text and str(out).split("/")[-1] in text
    assert afile.read_text() == "keep me"


def test_run_out_with_a_folder_where_a_file_goes_writes_none_of_the_four(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "migrate.ps1").mkdir()
    code, text = cli("run", "--sample", "lcow", "--out", str(out))
    assert code == 2 and "migrate.ps1" in text
    assert sorted(os.listdir(out)) == ["migrate.ps1"] and os.listdir(out / "migrate.ps1") == []


def test_run_out_replaces_an_earlier_set_together(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert cli("run", "--sample", "lcow", "--out", str(out))[0] == 0
    (out / "assessment.md").chmod(0o444)  # a read-only member: the whole set is refused
    plan_before = (out / "plan.toml").read_bytes()
    code, text = cli("run", "--sample", "hyperv-2x", "--out", str(out))
    assert code == 2 and "assessment.md" in text and "read-only" in text
    assert (out / "plan.toml").read_bytes() == plan_before
    assert sorted(os.listdir(out)) == ["assessment.md", "inventory.json", "migrate.ps1", "plan.toml"]
