"""wsl2-migrate.toml: severity changes, disabled rules, waivers (expiry, globs) and one-line errors."""
from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from migrate.assess import assess, load_catalog, load_config
from migrate.assess.catalog import expand_example
from migrate.assess.config import Config, parse_config
from migrate.errors import InputError
from migrate.model import Inventory, from_data
from migrate.plan.assessment import assess_and_plan

CATALOG = load_catalog()
TODAY = datetime.date(2025, 6, 1)

# HOST009 (warning) and DESK003 (warning), DESK008 and DESK017 (info) fire on this inventory; nothing else.
INV = from_data(Inventory, expand_example({
    "host": {"computer_name": "DEV-042", "windows_users": 3, "drives": [{"name": "C", "free_bytes": 10**12}]},
    "engine": {"os_type": "linux"},
    "settings": {"desktop": {"file": "settings.json", "memory_mib": 4096, "file_sharing": ["C:\\src"]}},
    "sources": [{"kind": "bundle", "ref": "bundle"}],  # a collector bundle: its profile has no .wslconfig (DESK017)
}, "hyperv"))


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "wsl2-migrate.toml"
    p.write_text(text, encoding="utf-8")
    return p


def rules_of(report) -> dict[str, tuple[str, bool]]:
    return {f.rule: (f.severity, f.waived) for f in report.findings}


def test_no_config_is_the_default() -> None:
    assert load_config(None, CATALOG) == Config()
    report = assess(INV, CATALOG, Config(), TODAY, "1")
    assert rules_of(report) == {"HOST009": ("warning", False), "DESK003": ("warning", False),
                                "DESK008": ("info", False), "DESK017": ("info", False)}
    assert report.verdict == "ready-after-actions" and report.notices == ()


def test_severity_disable_and_waivers(tmp_path: Path) -> None:
    path = write(tmp_path, """
[rules]
disable = ["DESK008"]
[rules.severity]
host009 = "blocker"
[[waiver]]
rule = "DESK003"
subject = "settings.*"
reason = "Memory is set by the IT baseline"
expires = 2025-12-31
""")
    config = load_config(path, CATALOG)
    report = assess(INV, CATALOG, config, TODAY, "1")
    assert rules_of(report) == {"HOST009": ("blocker", False), "DESK003": ("warning", True),
                                "DESK017": ("info", False)}
    waived = next(f for f in report.findings if f.rule == "DESK003")
    assert (waived.waiver_reason, waived.waiver_expires) == ("Memory is set by the IT baseline", "2025-12-31")
    assert report.verdict == "blocked"
    assert any("DESK008 is disabled" in n for n in report.notices)
    assert report.rules_checked == len([r for r in CATALOG.rules if "hyperv" in r.backends]) - 1


def test_waivers_make_the_verdict_ready_until_they_expire(tmp_path: Path) -> None:
    path = write(tmp_path, """
[[waiver]]
rule = "HOST009"
subject = "DEV-042"
reason = "Only one user runs Docker"
expires = "2025-06-01"
[[waiver]]
rule = "DESK003"
subject = "*"
reason = "accepted"
""")
    config = load_config(path, CATALOG)
    on_the_day = assess(INV, CATALOG, config, TODAY, "1")
    assert on_the_day.verdict == "ready" and on_the_day.notices == ()
    later = assess(INV, CATALOG, config, TODAY + datetime.timedelta(days=1), "1")
    assert rules_of(later)["HOST009"] == ("warning", False)
    assert later.verdict == "ready-after-actions"
    assert later.notices == ((f"waiver #1 for HOST009 on 'DEV-042' in {path} expired on 2025-06-01; "
                             "the finding is reported again"),)


def test_unused_waiver_is_noticed(tmp_path: Path) -> None:
    path = write(tmp_path, '[[waiver]]\nrule = "HOST001"\nsubject = "DEV-042"\nreason = "x"\n')
    report = assess(INV, CATALOG, load_config(path, CATALOG), TODAY, "1")
    assert report.notices == (f"waiver #1 for HOST001 on 'DEV-042' in {path} matched no finding",)


def test_backup_dir_moves_the_space_check(tmp_path: Path) -> None:
    """C: holds the new WSL disk (1 GB) but not the backups too: the plan puts them on D: by itself, while a
    configured backup_dir on C: is kept, and HOST008 then says C: is short."""
    inv = from_data(Inventory, expand_example({
        "host": {"drives": [{"name": "C", "free_bytes": 1_500_000_000}, {"name": "D", "free_bytes": 10**12}]},
        "images": [{"size": 10**9}]}, "hyperv"))
    report, plan = assess_and_plan(inv, CATALOG, Config(), TODAY, "1")
    assert "HOST008" not in rules_of(report) and plan.backup_path.startswith("D:")
    config = load_config(write(tmp_path, "[assess]\nbackup_dir = 'C:\\wsl2-migrate'\n"), CATALOG)
    report, plan = assess_and_plan(inv, CATALOG, config, TODAY, "1")
    assert "HOST008" in rules_of(report) and plan.backup_path == "C:\\wsl2-migrate"


@pytest.mark.parametrize(("text", "error"), [
    ("[rule]\n", "unknown key 'rule'"),
    ("[rules]\nignore = []\n", "[rules]: unknown key 'ignore'"),
    ('[rules]\ndisable = ["HOST999"]\n', "[rules] disable: unknown rule id 'HOST999'"),
    ('[rules.severity]\nHOST001 = "fatal"\n', "[rules.severity] HOST001: 'fatal' is not one of"),
    ('[rules.severity]\nNOPE001 = "info"\n', "unknown rule id 'NOPE001'"),
    ('[[waiver]]\nrule = "HOST001"\nsubject = "x"\n', "waiver #1 (HOST001): 'reason' is required"),
    ('[[waiver]]\nrule = "HOST001"\nreason = "r"\n', "waiver #1 (HOST001): 'subject' is required"),
    ('[[waiver]]\nrule = "HOST001"\nsubject = "x"\nreason = "r"\nexpires = "31/12/2025"\n',
     "waiver #1 (HOST001): 'expires' '31/12/2025' is not a date"),
    ('[[waiver]]\nrule = "HOST001"\nsubject = "x"\nreason = "r"\nexpires = 2025-12-31T10:00:00\n',
     "not a date-time"),
    ('[[waiver]]\nrule = "HOST001"\nsubject = "x"\nreason = "r"\nuntil = 2025-12-31\n',
     "waiver #1: unknown key 'until'"),
    ('[[waiver]]\nrule = "LCOW404"\nsubject = "x"\nreason = "r"\n', "waiver #1: unknown rule id 'LCOW404'"),
    ("[rules\n", "malformed TOML"),
])
def test_malformed_config(tmp_path: Path, text: str, error: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as err:
        load_config(path, CATALOG)
    assert err.value.message.startswith(f"{path}: "), err.value.message
    assert error in err.value.message, err.value.message
    assert "\n" not in err.value.message


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_config(tmp_path / "absent.toml", CATALOG)


def test_config_written_by_notepad_in_utf16(tmp_path: Path) -> None:
    p = tmp_path / "c.toml"
    p.write_bytes('[rules]\ndisable = ["HOST009"]\n'.encode("utf-16"))
    assert load_config(p, CATALOG).disabled == frozenset({"HOST009"})


def test_rule_ids_in_config_are_canonicalised() -> None:
    config = parse_config('[rules]\ndisable = ["desk008"]\n', "c.toml", CATALOG)
    assert config.disabled == frozenset({"DESK008"})
