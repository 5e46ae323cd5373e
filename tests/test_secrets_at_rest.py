"""No secret at rest: a real engine and a collector bundle seeded with secrets, every output of every command grepped
for the values; only `--with-secrets` keeps them, in a file only its owner can read."""
from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from migrate.cli import app
from tests.engines import Engine, busybox_rootfs, start_engine

pytestmark = pytest.mark.engine

ROOT = Path(__file__).resolve().parent.parent

SECRETS = {
    "image env": "S3kr1t-baked-0001",
    "env password": "S3kr1t-pg-0002",
    "env url password": "S3kr1t-dburl-0003",
    "env session": "S3kr1t-session-0004",
    "secret label": "S3kr1t-label-0005",
    "url in a label": "S3kr1t-labelurl-0006",
    "basic auth label": "S3kr1t-basicauth-0007",
    "log-opt token": "S3kr1t-splunk-0008",
    "running env token": "S3kr1t-token-0009",
    "volume label": "S3kr1t-vollabel-0010",
    "volume option password": "S3kr1t-volopt-0011",
    "network label": "S3kr1t-netlabel-0012",
    "mirror in info": "S3kr1t-infomirror-0013",
    "proxy in info": "S3kr1t-infoproxy-0014",
    "settings proxy": "S3kr1t-settingsproxy-0015",
    "daemon mirror auth": "S3kr1t-daemonmirror-0016",
    "daemon proxy": "S3kr1t-daemonproxy-0017",
    "windows daemon mirror": "S3kr1t-windowsmirror-0018",
    "settings token": "S3kr1t-settingstoken-0019",
}


def cli(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(app, list(args))
    return res.exit_code, res.output


@pytest.fixture(scope="module")
def seeded(scratch: Path) -> Iterator[tuple[Engine, Path]]:
    """An engine holding containers, a volume and a network with secrets, and a bundle made from it plus settings
    files with credentials (as a hand-made or older bundle: env values in clear)."""
    e = start_engine(scratch / "sec")
    try:
        work = scratch / "sec-work"
        work.mkdir(exist_ok=True)
        s = SECRETS
        e.docker("import", "--change", 'CMD ["sh"]', "--change", f"ENV BAKED_TOKEN={s['image env']}",
                 str(busybox_rootfs(work / "rootfs.tar")), "local/base:1")
        e.docker("volume", "create", "--label", f"backup.secret={s['volume label']}", "--opt", "type=tmpfs",
                 "--opt", "device=tmpfs", "--opt", f"o=size=1m,password={s['volume option password']}", "secvol")
        # An explicit subnet: the default pools may all overlap other engines' bridges on a shared test machine.
        e.docker("network", "create", "--subnet", "10.237.91.0/24", "--label", f"api-key={s['network label']}",
                 "secnet")
        e.docker("create", "--name", "db", "--network", "secnet",
                 "-e", f"POSTGRES_PASSWORD={s['env password']}",
                 "-e", f"DATABASE_URL=postgres://app:{s['env url password']}@db:5432/app",
                 "-e", f"SESSION_ID={s['env session']}",
                 "--label", f"db.password={s['secret label']}",
                 "--label", f"com.example.endpoint=https://bob:{s['url in a label']}@api.example/v1",
                 "--label", f"traefik.http.middlewares.auth.basicauth.users=admin:{s['basic auth label']}",
                 "--log-driver", "splunk", "--log-opt", f"splunk-token={s['log-opt token']}",
                 "--log-opt", "splunk-url=https://splunk.example:8088", "local/base:1", "sleep", "100000")
        e.docker("run", "-d", "--name", "app", "-e", f"API_TOKEN={s['running env token']}", "local/base:1",
                 "sleep", "100000")
        yield e, _bundle(e, work / "bundle")
    finally:
        e.stop()


def _bundle(e: Engine, root: Path) -> Path:
    s = SECRETS
    (root / "engine").mkdir(parents=True)
    (root / "desktop").mkdir()
    # As an older collector writes it: env values in clear (no env_digest_key_id).
    (root / "manifest.json").write_text(json.dumps({"format": "wsl2-migrate-bundle/1", "collector_version": "0.1.0",
                                                    "computer": "DEV-042", "errors": []}))
    info = json.loads(e.docker("info", "--format", "{{json .}}"))
    info["RegistryConfig"] = dict(info.get("RegistryConfig") or {},
                                  Mirrors=[f"https://mirroruser:{s['mirror in info']}@mirror.corp.example/"])
    info["HttpProxy"] = f"http://proxyuser:{s['proxy in info']}@proxy.corp.example:3128"
    (root / "engine" / "info.json").write_text(json.dumps(info))
    (root / "engine" / "version.json").write_text(e.docker("version", "--format", "{{json .}}"))
    for name, listing in (("images", ["image", "ls", "-aq", "--no-trunc"]), ("containers", ["ps", "-aq", "--no-trunc"]),
                          ("volumes", ["volume", "ls", "-q"]), ("networks", ["network", "ls", "-q", "--no-trunc"])):
        ids = e.docker(*listing).split()
        kind = {"images": "image", "containers": "container", "volumes": "volume", "networks": "network"}[name]
        (root / "engine" / f"{name}.json").write_text(e.docker(kind, "inspect", *ids))
    (root / "desktop" / "settings.json").write_text(json.dumps({
        "wslEngineEnabled": False, "proxyHttpMode": "manual",
        "overrideProxyHttp": f"http://corpuser:{s['settings proxy']}@proxy.corp.example:3128",
        "hubSessionToken": s["settings token"]}))
    (root / "desktop" / "daemon.json").write_text(json.dumps({
        "registry-mirrors": [f"https://mirroruser:{s['daemon mirror auth']}@mirror.corp.example"],
        "proxies": {"https-proxy": f"http://u:{s['daemon proxy']}@proxy.corp.example:3128"}}))
    (root / "desktop" / "windows-daemon.json").write_text(json.dumps({
        "experimental": True,
        "registry-mirrors": [f"https://winuser:{s['windows daemon mirror']}@mirror2.corp.example"]}))
    return root


def _leaks(text: str) -> list[str]:
    return [what for what, value in SECRETS.items() if value in text]


def _files(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text(encoding="utf-8", errors="replace")
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_seed_is_really_there(seeded: tuple[Engine, Path]) -> None:
    """Positive control: the sources hold every secret, so a leak would show in the greps below."""
    e, bundle = seeded
    raw = "".join(_files(bundle).values())
    assert _leaks(raw) == list(SECRETS), "the bundle lacks some seeded secret"
    inspect = e.docker("inspect", "db", "app", "secvol", "secnet", "local/base:1")
    engine_side = [k for k in SECRETS if k not in ("mirror in info", "proxy in info", "settings proxy",
                                                     "daemon mirror auth", "daemon proxy", "windows daemon mirror",
                                                     "settings token")]
    assert _leaks(inspect) == engine_side


def test_no_output_of_any_command_holds_a_seeded_secret(seeded: tuple[Engine, Path], tmp_path: Path) -> None:
    e, bundle = seeded
    out = tmp_path / "out"
    out.mkdir()
    o = str(out)
    runs: list[tuple[str, ...]] = [
        ("scan", "-H", e.url, "-o", f"{o}/inv-engine.json"),
        ("scan", "--bundle", str(bundle), "-o", f"{o}/inv-bundle.json"),
        ("scan", "-H", e.url, "--bundle", str(bundle), "-q"),
        ("collector", "-o", f"{o}/collect.ps1"),
    ]
    for source, inv in (("engine", f"{o}/inv-engine.json"), ("bundle", f"{o}/inv-bundle.json")):
        for fmt in ("table", "json", "markdown", "sarif", "junit", "html"):
            runs.append(("assess", inv, "-f", fmt, "-o", f"{o}/assess-{source}.{fmt}"))
            runs.append(("assess", inv, "-f", fmt, "--show-secrets", "-o", f"{o}/shown-{source}.{fmt}"))
        runs += [
            ("plan", inv, "-o", f"{o}/plan-{source}.toml"),
            ("runbook", f"{o}/plan-{source}.toml", "-o", f"{o}/migrate-{source}.ps1"),
            ("validate", f"{o}/plan-{source}.toml", inv, "-f", "json", "-o", f"{o}/validate-{source}.json"),
            ("validate", f"{o}/plan-{source}.toml", inv),
            ("verify", inv, inv, "-f", "json", "-o", f"{o}/verify-{source}.json"),
        ]
    runs += [
        ("assess", "--bundle", str(bundle), "-f", "markdown"),
        ("assess", "-H", e.url, "-f", "json"),
        ("plan", "-H", e.url, "--bundle", str(bundle)),
        ("run", "--bundle", str(bundle), "--out", f"{o}/run-bundle"),
        ("run", "-H", e.url, "--out", f"{o}/run-engine"),
        ("validate", f"{o}/plan-engine.toml", "-H", e.url, "-f", "json"),
        ("verify", f"{o}/inv-engine.json", e.url),
        ("verify", f"{o}/inv-bundle.json", f"{o}/inv-engine.json", "--plan", f"{o}/plan-engine.toml"),
        ("fleet", str(bundle), "-o", f"{o}/fleet"),
    ]
    for args in runs:
        code, text = cli(*args)
        assert code in (0, 1), f"{args}: exit {code}: {text[-2000:]}"
        assert _leaks(text) == [], f"{args} printed {_leaks(text)}"
    written = _files(out)
    assert len(written) >= 43 and "fleet/index.html" in written  # every file the runs above write
    leaked = {name: _leaks(text) for name, text in written.items() if _leaks(text)}
    assert leaked == {}


def test_with_secrets_keeps_the_values_in_a_file_only_its_owner_reads(seeded: tuple[Engine, Path],
                                                                    tmp_path: Path) -> None:
    e, bundle = seeded
    inv = tmp_path / "inv.json"
    code, text = cli("scan", "-H", e.url, "--bundle", str(bundle), "--with-secrets", "-o", str(inv))
    assert code == 0 and "--with-secrets" in text and "0600" in text and str(inv) in text
    assert stat.S_IMODE(inv.stat().st_mode) == 0o600
    body = inv.read_text(encoding="utf-8")
    assert SECRETS["env password"] in body and SECRETS["log-opt token"] in body
    assert json.loads(body)["secrets"]["mode"] == "clear"
    code, text = cli("run", "--bundle", str(bundle), "--with-secrets", "--out", str(tmp_path / "run"))
    assert code == 0 and "0600" in text
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in (tmp_path / "run").iterdir())


def test_two_scans_of_one_machine_compare_equal_and_values_stay_comparable(seeded: tuple[Engine, Path],
                                                                           tmp_path: Path) -> None:
    e, _ = seeded
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert cli("scan", "-H", e.url, "-q", "-o", str(a))[0] == 0
    assert cli("scan", "-H", e.url, "-q", "-o", str(b))[0] == 0
    code, text = cli("verify", str(a), str(b))
    assert code == 0, text
    # A changed value shows as a changed env entry (by name), though neither side holds the value.
    e.docker("rm", "-f", "app")
    e.docker("run", "-d", "--name", "app", "-e", "API_TOKEN=rotated", "local/base:1", "sleep", "100000")
    try:
        code, text = cli("verify", str(a), e.url)
        assert code == 1 and "API_TOKEN" in text and "rotated" not in text, text
    finally:
        e.docker("rm", "-f", "app")
        e.docker("run", "-d", "--name", "app", "-e", f"API_TOKEN={SECRETS['running env token']}", "local/base:1",
                 "sleep", "100000")


def test_another_key_cannot_compare_values_and_says_so(seeded: tuple[Engine, Path], tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    e, _ = seeded
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert cli("scan", "-H", e.url, "-q", "-o", str(a))[0] == 0
    monkeypatch.setenv("WSL2_MIGRATE_DIGEST_KEY", "another machine's key")
    assert cli("scan", "-H", e.url, "-q", "-o", str(b))[0] == 0
    one, two = json.loads(a.read_text()), json.loads(b.read_text())
    assert one["secrets"]["key_id"] != two["secrets"]["key_id"]
    env_a = next(c["env"] for c in one["containers"] if c["name"].lstrip("/") == "app")
    env_b = next(c["env"] for c in two["containers"] if c["name"].lstrip("/") == "app")
    assert env_a != env_b and [x.split("=")[0] for x in env_a] == [x.split("=")[0] for x in env_b]
    code, text = cli("verify", str(a), str(b))
    assert code == 0 and "env values not compared" in text and "different digest keys" in text


def test_the_digest_key_is_made_once_and_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from migrate.secrets import digest_key, key_folder

    monkeypatch.delenv("WSL2_MIGRATE_DIGEST_KEY")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    first = digest_key()
    path = key_folder() / "digest.key"
    assert path.is_file() and stat.S_IMODE(path.stat().st_mode) == 0o600 and len(first) == 64
    assert digest_key() == first
    shutil.rmtree(tmp_path / "cfg")
    assert digest_key() != first  # a new key when the old one is gone: old digests no longer compare
    assert os.listdir(key_folder()) == ["digest.key"]
