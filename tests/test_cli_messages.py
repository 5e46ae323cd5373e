"""Help texts and the messages a new user meets: readable metavars, completion, examples, and each message the
issue found confusing, said plainly."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from migrate.cli import EXAMPLES, app
from migrate.model import Backend, Container, Image, Inventory, dumps

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = [["scan"], ["collector"], ["assess"], ["plan"], ["runbook"], ["run"], ["validate"], ["rehearse"],
            ["verify"], ["fleet"], ["rules", "list"], ["rules", "show"]]


def cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    res = CliRunner().invoke(app, list(args), env=env)
    return res.exit_code, res.output


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_shows_readable_metavars_and_examples(command: list[str]) -> None:
    code, text = cli(*command, "--help")
    assert code == 0, text
    options = text.split("Options:", 1)[1]
    for raw in ("<bool>", "<list[", "<int range>", "[x>=0]", "<", "TEXT", "PATH "):
        assert raw not in options, f"{command}: {raw!r} in\n{text}"
    assert "Examples:" in text
    for example in EXAMPLES[command[-1]]:
        assert example in text


def test_options_name_what_they_take() -> None:
    _, scan = cli("scan", "--help")
    for shown in ("-o, --output FILE", "-H, --host URL", "--bundle DIR", "--project DIR", "--settings FILE"):
        assert shown in scan
    _, validate = cli("validate", "--help")
    assert "--backup-free-bytes N" in validate
    _, run = cli("run", "--help")
    assert "--out DIR" in run and "--sample NAME" in run
    _, rehearse = cli("rehearse", "--help")
    assert "--source URL" in rehearse and "--workdir DIR" in rehearse


def test_completion_options_exist_and_print_a_script() -> None:
    _, text = cli("--help")
    assert "--install-completion" in text and "--show-completion" in text
    # typer finds the shell from the parent process: run the tool from a real bash, as a user would.
    res = subprocess.run(["bash", "-c", f"'{sys.executable}' -m migrate --show-completion; exit $?"],
                         capture_output=True, text=True, cwd=ROOT, timeout=60,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert res.returncode == 0 and "_WSL2_MIGRATE_COMPLETE" in res.stdout, res.stderr


def test_negative_backup_free_bytes_is_a_plain_usage_error(tmp_path: Path) -> None:
    code, text = cli("validate", str(tmp_path / "plan.toml"), "--backup-free-bytes", "-5")
    assert code == 2 and "--backup-free-bytes" in text and "negative" in text


def test_a_sample_is_shown_as_samples_name_not_where_the_package_lives(tmp_path: Path) -> None:
    code, text = cli("run", "--sample", "hyperv-2x", "--out", str(tmp_path / "out"))
    assert code == 0, text
    for name in ("assessment.md", "inventory.json"):
        body = (tmp_path / "out" / name).read_text(encoding="utf-8")
        assert "samples/hyperv-2x/desktop/settings.json" in body
        assert str(ROOT) not in body and "site-packages" not in body and "_samples" not in body


def test_the_container_table_names_the_container_whose_network_is_joined(tmp_path: Path) -> None:
    code, _ = cli("run", "--sample", "hyperv-2x", "--out", str(tmp_path / "out"))
    report = (tmp_path / "out" / "assessment.md").read_text(encoding="utf-8")
    assert code == 0 and "| container:shop\\_web\\_1 |" in report
    assert not re.search(r"container:[0-9a-f]{12}", report)


def test_counts_are_in_the_right_number(tmp_path: Path) -> None:
    code, text = cli("run", "--sample", "near-wsl2", "--out", str(tmp_path / "out"))
    report = (tmp_path / "out" / "assessment.md").read_text(encoding="utf-8")
    assert code == 0 and "1 volume," in report and "1 volumes" not in report
    assert "1/1 volume," in text and "1/1 volumes" not in text


def test_the_scan_summary_says_what_the_project_row_means() -> None:
    code, text = cli("scan", "--bundle", str(ROOT / "samples" / "lcow"), "-o", "/dev/null")
    assert code == 0 and "findings-ready" not in text
    assert "none searched (--project DIR)" in text
    code, text = cli("scan", "--bundle", str(ROOT / "samples" / "lcow"), "--project", str(ROOT / "docs"),
                     "-o", "/dev/null")
    assert code == 0 and "lines the rules check" in text


def test_no_helper_image_note_when_no_volume_is_copied(tmp_path: Path) -> None:
    inv = Inventory(backend=Backend(kind="hyperv"), images=(Image(id="sha256:" + "a" * 64, tags=("nginx:1",)),),
                    containers=(Container(id="c" * 64, name="web", image="nginx:1",
                                          image_id="sha256:" + "a" * 64),))
    path = tmp_path / "inv.json"
    path.write_text(dumps(inv), encoding="utf-8")
    code, text = cli("plan", str(path), "-o", str(tmp_path / "plan.toml"))
    assert code == 0, text
    assert "busybox" not in text


def test_an_empty_file_says_it_is_empty(tmp_path: Path) -> None:
    empty = tmp_path / "inventory.json"
    empty.write_text("")
    code, text = cli("assess", str(empty))
    assert code == 2 and "is empty" in text and "Expecting value" not in text
    code, text = cli("scan", "--settings", str(empty), "-q")
    assert code == 2 and "is empty" in text


def test_a_bundle_given_as_an_inventory_suggests_bundle() -> None:
    code, text = cli("assess", str(ROOT / "samples" / "hyperv-2x"))
    assert code == 2 and "is a directory" in text and "--bundle" in text


def test_an_inventory_given_to_runbook_is_named_as_one(tmp_path: Path) -> None:
    inv = tmp_path / "inventory.json"
    inv.write_text(dumps(Inventory()), encoding="utf-8")
    code, text = cli("runbook", str(inv))
    assert code == 2 and "inventory" in text and "wsl2-migrate plan" in text
    js = tmp_path / "x.json"
    js.write_text(json.dumps([1, 2]))
    code, text = cli("validate", str(js))
    assert code == 2 and "is JSON, not a plan" in text


@pytest.mark.parametrize("url", ["tcp://", "tcp://:99999", "foo://x", "tcp://localhost"])
def test_a_malformed_engine_url_is_a_usage_error(url: str) -> None:
    code, text = cli("scan", "--host", url, "-q")
    assert code == 2 and url in text and "expected unix:///PATH" in text
    code, text = cli("verify", url, url)
    assert code == 2 and url in text and "internal error" not in text


def test_scan_without_an_engine_suggests_a_bundle_or_a_sample(tmp_path: Path) -> None:
    sock = f"unix://{tmp_path}/none.sock"
    code, text = cli("scan", "-q", env={"DOCKER_HOST": sock})
    assert code == 3 and "--bundle DIR" in text and "--sample" in text
    code, text = cli("scan", "-q", "--host", sock)  # asked for that engine: no detour suggested
    assert code == 3 and "--sample" not in text


def test_deeply_nested_inputs_are_bad_input_not_a_crash(tmp_path: Path) -> None:
    deep_json = tmp_path / "deep.json"
    deep_json.write_text("[" * 100_000 + "]" * 100_000)
    deep_toml = tmp_path / "deep.toml"
    deep_toml.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    for args in (["assess", str(deep_json)], ["scan", "--settings", str(deep_json), "-q"],
                 ["scan", "--host-facts", str(deep_json), "-q"], ["assess", "--config", str(deep_toml),
                                                                   str(ROOT / "tests/golden/lcow.inventory.json")],
                 ["runbook", str(deep_toml)], ["verify", str(deep_json), str(deep_json)]):
        code, text = cli(*args)
        assert code == 2 and "nested" in text and "internal error" not in text, (args, text)
