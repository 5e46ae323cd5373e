"""migrate/secrets.py: one definition of a secret, redaction on screen, and the keyed digest at rest (with the
collector's PowerShell twin held to the same format)."""
from __future__ import annotations

import dataclasses
import datetime
import json
import re
import subprocess
from pathlib import Path

import pytest

from migrate.assess import assess, load_catalog
from migrate.assess.config import Config
from migrate.collector import collector_template
from migrate.model import Inventory
from migrate.plan.decide import decide
from migrate.plan.planfile import parse_plan, render_plan
from migrate.plan.recreate import create_spec, env_problem
from migrate.secrets import (
    DIGEST_PREFIX,
    KEY_ENV,
    KEY_FILE,
    digest_entry,
    digest_text,
    digest_value,
    is_secret_name,
    key_id,
    redact_text,
)
from migrate.validate import validate

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", ["DB_PWD", "SESSION_ID", "AWS_ACCESS_KEY", "ssh_key", "cookie", "POSTGRES_PASSWORD",
                                  "AWS_SECRET_ACCESS_KEY", "splunk-token", "dbPassword", "GITHUB_TOKEN", "api-key",
                                  "MYSQL_ROOT_PASS", "traefik.http.middlewares.auth.basicauth.users", "APITOKEN",
                                  "x-auth-token", "Authorization_Secret"])
def test_secret_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["PATH", "HOME", "LANG", "org.opencontainers.image.authors", "registry-mirrors",
                                  "com.docker.compose.config-hash", "authorization-plugins", "credentialHelper",
                                  "passthrough", "bypass", "keyboard", "MONKEY", "proxyHttpMode"])
def test_names_that_are_not_secret(name: str) -> None:
    assert not is_secret_name(name)


def test_the_two_old_definitions_now_agree_through_one() -> None:
    """render/_common.py and assess/messages.py disagreed on these; both now ask migrate.secrets."""
    import migrate.assess.messages as messages
    import migrate.render._common as common

    for module in (messages, common):
        assert not hasattr(module, "SECRET_KEY") and not hasattr(module, "is_secret_key")
    assert redact_text("DB_PWD=hunter2") == "DB_PWD=<redacted>"
    for text in ("SESSION_ID=abc", "AWS_ACCESS_KEY=AKIA1234", "ssh_key=xyz", "cookie=c1"):
        assert redact_text(text).endswith("=<redacted>"), text


@pytest.mark.parametrize("text,shown", [
    ("--log-opt splunk-token=abc --log-opt tag=web", "--log-opt splunk-token=<redacted> --log-opt tag=web"),
    ("--log-opt=splunk-token=abc", "--log-opt=splunk-token=<redacted>"),
    ("o=addr=10.0.0.1,username=u,password=p4ss", "o=addr=10.0.0.1,username=u,password=<redacted>"),
    ("http://bob:s3cret@proxy:3128", "http://bob:<redacted>@proxy:3128"),
    ("https://ghp_x@github.com/org/repo", "https://<redacted>@github.com/org/repo"),
    ("GET /x?token=abc&page=2", "GET /x?token=<redacted>&page=2"),
    ("memory=4GB, name=web", "memory=4GB, name=web"),
    ("The password must be set; token: see the docs", "The password must be set; token: see the docs"),
])
def test_redact_text(text: str, shown: str) -> None:
    assert redact_text(text) == shown
    assert redact_text(text, show_secrets=True) == text


def test_the_digest_is_hmac_sha256_under_the_key_as_openssl_computes_it() -> None:
    """An independent implementation (openssl) gives the same digest: the format is what docs/secrets.md says."""
    key, value = b"0123456789abcdef" * 4, "p\u00e4ss w0rd"
    res = subprocess.run(["openssl", "dgst", "-sha256", "-hmac", key.decode(), "-hex"], input=value.encode("utf-8"),
                         capture_output=True, check=True)
    full = res.stdout.decode().strip().rsplit(" ", 1)[-1]
    assert digest_value(value, key) == DIGEST_PREFIX + full[:32]
    assert digest_entry(f"DB_PWD={value}", key) == f"DB_PWD={DIGEST_PREFIX}{full[:32]}"
    assert digest_value(digest_value(value, key), key) == digest_value(value, key)  # never a digest of a digest
    assert digest_value("a\nb", key).endswith(":line-break") and digest_value("a\x00b", key).endswith(":nul")
    assert digest_value("\ud800", key) == digest_value("\ufffd", key)  # as .NET encodes a lone surrogate
    assert digest_entry("NAME_ONLY", key) == "NAME_ONLY"


def test_digest_text_digests_only_the_secret_parts() -> None:
    key = b"k"
    text = digest_text("o=size=1m,password=p4ss url=https://u:pw@h/x", key)
    assert "p4ss" not in text and ":pw@" not in text and text.startswith("o=size=1m,password=hmac-sha256:")


def test_plans_carry_no_secret_and_say_what_they_do_not_carry() -> None:
    """A digested value never becomes a docker argument: the setting is listed as not carried instead."""
    from migrate.model import Container

    key = b"k"
    c = Container(id="c" * 64, name="web", image="nginx:1", env=(digest_entry("API_TOKEN=t0k3n", key),),
                  labels={"db.password": digest_value("hunter2", key), "team": "shop"},
                  log_driver="splunk", log_opts={"splunk-token": digest_value("abc", key), "splunk-url": "https://s"})
    spec = create_spec(c, None, image_ref="nginx:1")
    args = " ".join(a for a in spec.args if isinstance(a, str))
    assert "hmac-sha256" not in args and "--label team=shop" in args and "--log-opt splunk-url=https://s" in args
    lost = dict(spec.not_carried)
    assert "labels db.password" in lost and "log_opts splunk-token" in lost
    assert env_problem(digest_entry("MULTI=a\nb", key)).startswith("the value holds a line break")


def test_drift_sees_a_changed_env_value_it_never_held() -> None:
    from migrate.cli import build_options, load_or_scan

    inv = load_or_scan(build_options(bundle=ROOT / "samples" / "hyperv-2x"))
    report = assess(inv, load_catalog(), Config(), datetime.date(2026, 11, 28), "test")
    text, _ = render_plan(decide(inv, report, "test"))
    assert 'env_digest = "sha256:' in text and "hmac-sha256" not in text
    api = next(c for c in inv.containers if c.name.lstrip("/") == "shop_api_1")
    env = tuple(digest_entry("DJANGO_SECRET_KEY=rotated", b"test") if e.startswith("DJANGO_SECRET_KEY=") else e
                for e in api.env)
    changed = dataclasses.replace(inv, containers=tuple(dataclasses.replace(c, env=env) if c is api else c
                                                        for c in inv.containers))
    result = validate(parse_plan(text), changed, report, tool_version="test")
    drift = [f"{p.subject}: {p.message}" for p in result.problems if p.check == "drift"]
    assert any(d.startswith("container shop_api_1: environment values changed") for d in drift), drift


# ------------------------------------------------------------------------------------------- the collector


def _ps_literal(script: str, name: str) -> str:
    m = re.search(rf"^\$script:{name} = '((?:[^']|'')*)'$", script, re.M)
    assert m, name
    return m.group(1).replace("''", "'")


def test_the_collector_digests_env_with_the_same_format_key_file_and_key_id() -> None:
    script = collector_template()
    assert "'hmac-sha256:'" in script and "(:line-break|:nul)" in script
    assert "'wsl2-migrate'" in script and f"'{KEY_FILE}'" in script and f"$env:{KEY_ENV}" in script
    assert '"wsl2-migrate/digest-key`n"' in script  # key_id's prefix, as key_id() hashes it
    assert "$hash[0..15]" in script and "$hash[0..7]" in script  # 32 hex digits of the value, 16 of the key id
    assert key_id(b"x").startswith("sha256:") and len(key_id(b"x")) == len("sha256:") + 16
    assert "[switch]$WithSecrets" in script and "env_digest_key_id" in script


@pytest.mark.parametrize("sample", ["hyperv-2x", "lcow", "near-wsl2"])
def test_the_collectors_env_pattern_finds_every_env_array_of_docker_inspect_output(sample: str) -> None:
    """The collector's regular expressions (the .NET syntax used is Python's too) against docker's real output:
    every Env array found, every entry a JSON string literal, nothing else matched."""
    script = collector_template()
    array, string = re.compile(_ps_literal(script, "EnvArray")), re.compile(_ps_literal(script, "JsonString"))
    for name in ("containers.json", "images.json"):
        path = ROOT / "samples" / sample / "engine" / name
        text = path.read_text(encoding="utf-8-sig")
        found = [m.group(0) for m in array.finditer(text)]
        data = json.loads(text)
        expected = [e for item in data for e in (item.get("Config") or {}).get("Env") or []] + \
            [e for item in data for e in (item.get("ContainerConfig") or {}).get("Env") or []]
        entries = [json.loads(lit) for block in found for lit in string.findall(block[block.index("["):])]
        assert sorted(entries) == sorted(expected), (sample, name)


def test_the_env_of_a_digested_bundle_is_kept_and_its_key_recorded(tmp_path: Path) -> None:
    """A bundle whose collector digested env values: the scan keeps those digests and the collector's key id."""
    import shutil

    from migrate.inventory.scan import ScanOptions, scan

    bundle = tmp_path / "b"
    shutil.copytree(ROOT / "samples" / "near-wsl2", bundle)
    path = bundle / "engine" / "containers.json"
    data = json.loads(path.read_text(encoding="utf-8-sig"))
    machine_key = b"the workstation's own key"
    for item in data:
        item["Config"]["Env"] = [digest_entry(e, machine_key) for e in item["Config"]["Env"] or []]
    path.write_text(json.dumps(data), encoding="utf-8")
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8-sig"))
    manifest["env_digest_key_id"] = key_id(machine_key)
    (bundle / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    inv: Inventory = scan(ScanOptions(bundle=bundle, use_engine=False), "t")
    assert inv.secrets.env_key_id == key_id(machine_key) != inv.secrets.key_id
    assert [c.env for c in inv.containers] == [tuple(i["Config"]["Env"]) for i in sorted(
        data, key=lambda i: [c.id for c in inv.containers].index(i["Id"]))]
