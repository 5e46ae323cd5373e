"""The one table of host actions (docs/runbook.md) against the code, in both directions: each action of the step
model has exactly one PowerShell function (dispatched by Invoke-HostAction) and one Python twin, and nothing else
does."""
from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from migrate.plan.actions import ACTION_NAMES, ACTIONS
from migrate.rehearse.host import TWINS
from tests.pslint import functions, text, walk
from tests.pslit import parse_powershell

ROOT = Path(__file__).resolve().parent.parent


def _table() -> dict[str, tuple[str, str]]:
    """action -> (PowerShell function, Python twin) as docs/runbook.md lists them."""
    doc = (ROOT / "docs" / "runbook.md").read_text(encoding="utf-8")
    section = doc.split("## Host actions", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and re.fullmatch(r"[a-z][a-z-]*", cells[0]) and cells[0] != "action":
            assert cells[0] not in rows, f"{cells[0]} is listed twice"
            rows[cells[0]] = (cells[1], cells[2])
    return rows


def _dispatch() -> dict[str, str]:
    """Invoke-HostAction's switch: action name -> the function its case calls."""
    lib = resources.files("migrate.emit").joinpath("runbook_lib.ps1").read_text(encoding="ascii")
    root = parse_powershell(lib).root_node
    switch = next(n for n in walk(functions(root)["invoke-hostaction"]) if n.type == "switch_statement")
    out = {}
    for clause in (n for n in walk(switch) if n.type == "switch_clause"):
        condition = text(clause.children[0])
        commands = [text(n) for n in walk(clause.children[1]) if n.type == "command_name"]
        if condition != "default":
            # 'name', or { $_ -in 'a', 'b' } for actions that share one function
            names = re.findall(r"'([a-z-]+)'", condition)
            assert names and condition in (f"'{names[0]}'", "{ $_ -in " + ", ".join(f"'{n}'" for n in names) + " }"), \
                condition
            for name in names:
                assert name not in out, f"{name} has two cases"
                out[name] = commands[0]
    return out


def test_the_table_lists_every_action_once() -> None:
    assert set(_table()) == set(ACTION_NAMES)
    assert len(ACTIONS) == len(ACTION_NAMES)


def test_each_action_dispatches_to_the_function_the_table_names_and_nothing_else_is_dispatched() -> None:
    table, dispatch = _table(), _dispatch()
    assert set(dispatch) == set(table)
    for action, (function, _) in table.items():
        assert dispatch[action] == function, action
    lib = resources.files("migrate.emit").joinpath("runbook_lib.ps1").read_text(encoding="ascii")
    defined = functions(parse_powershell(lib).root_node)
    for function, _ in table.values():
        assert function.lower() in defined, function


def test_each_action_has_the_python_twin_the_table_names_and_no_twin_is_unlisted() -> None:
    table = _table()
    assert {cls.NAME for cls in TWINS} == set(table)
    for cls, fn in TWINS.items():
        assert fn.__name__ == table[cls.NAME][1], cls.NAME


def test_the_table_fails_on_a_missing_or_extra_row(monkeypatch) -> None:
    """The checks above can fail: drop one action from the code's view and the sets differ."""
    names = dict(ACTION_NAMES)
    names.pop("reboot")
    assert set(_table()) != set(names)


def test_json_steps_name_each_key_once_also_without_case() -> None:
    """The runbook's ConvertFrom-Json and key lists hold no two names differing only in case: a step naming a key
    twice that way is refused when it is built, in a case-sensitive daemon.json too."""
    import pytest

    from migrate.errors import PlanError
    from migrate.plan.actions import EditJson, RestoreJsonKeys
    from migrate.plan.build import DAEMON_LINUX, DESKTOP_SETTINGS

    assert EditJson(file=DAEMON_LINUX, set_json='{"debug":true}', remove=("graph",)).remove == ("graph",)
    for bad in (lambda: EditJson(file=DAEMON_LINUX, set_json='{"debug":true}', remove=("Debug",)),
                lambda: EditJson(file=DESKTOP_SETTINGS, set_json='{"a":1}', remove=("A",), ignore_case=True),
                lambda: RestoreJsonKeys(file=DESKTOP_SETTINGS, keys=("autoStart", "AutoStart"), from_step="s")):
        with pytest.raises(PlanError, match="once"):
            bad()
    with pytest.raises(PlanError, match="needs keys"):
        EditJson(file=DAEMON_LINUX)


def test_a_host_files_backup_copy_is_a_plain_backup_folder_path() -> None:
    """HostFile.backup is where backup-files keeps the copy: by default settings/KEY with the first path's
    extension, and never a path that leaves the backup folder or carries quotes."""
    import pytest

    from migrate.errors import PlanError
    from migrate.plan.actions import HostFile

    assert HostFile("wslconfig", ("%USERPROFILE%\\.wslconfig",)).backup == "settings/wslconfig"
    assert HostFile("daemon-linux", ("%USERPROFILE%\\.docker\\daemon.json",)).backup == "settings/daemon-linux.json"
    assert HostFile("daemon-linux", ("%USERPROFILE%\\x.j'son",)).backup == "settings/daemon-linux"
    for bad in ("../x", "settings/'x", "C:\\x", "settings//x"):
        with pytest.raises(PlanError, match="backup-folder path"):
            HostFile("wslconfig", ("%USERPROFILE%\\.wslconfig",), bad)
