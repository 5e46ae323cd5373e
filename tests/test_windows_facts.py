"""Issue 10's managed-machine and host-readiness facts: what the collector gathers (policies, admin settings,
excluded ports, network adapters, the machine's model), how the scan reads them (bundle, Windows defaults, a
Windows engine's docker info), the derived facts and rules over them, and blockDockerLoad in the plan."""
from __future__ import annotations

import dataclasses
import datetime
import json
import re
import shutil
from importlib import resources
from pathlib import Path

import pytest

from migrate.assess.facts import Facts
from migrate.errors import InputError
from migrate.inventory.host import host_facts_from_data, host_facts_from_engine
from migrate.inventory.scan import ScanOptions, scan, windows_defaults
from migrate.model import ConfigFile, Container, Engine, HostFacts, Inventory, Mount, NetworkAdapter, PortBinding, \
    PortRange
from migrate.pipeline import assess_inventory
from migrate.plan.build import build_program
from migrate.plan.decide import decide
from tests.pslint import functions, text, walk
from tests.pslit import evaluate_node, parse_powershell
from tests.simworld import inventory, report

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = resources.files("migrate.emit").joinpath("collector.ps1").read_text(encoding="utf-8")
TREE = parse_powershell(SCRIPT).root_node
FUNCS = functions(TREE)
ADMIN = {"configurationFileVersion": 2, "blockDockerLoad": {"locked": True, "value": True},
         "linuxVM": {"wslEngineEnabled": {"locked": True, "value": False},
                     "dockerDaemonOptions": {"locked": True, "value": "{\"debug\": false}"}}}


def _findings(inv: Inventory) -> dict[str, list[str]]:
    rep = assess_inventory(inv, [], None, "test", datetime.date(2026, 1, 1))[0]
    out: dict[str, list[str]] = {}
    for f in rep.findings:
        out.setdefault(f.rule, []).append(f.message)
    return out


# ------------------------------------------------------------------------------------------ the collector


NETSH_EN = """
Protocol tcp Port Exclusion Ranges

Start Port    End Port
----------    --------
      5357        5357
     50000       50059     *
     60261       60360
      1024        1030     3 ranges more than last boot

* - Administered port exclusions.
"""
NETSH_DE = """
Portausschlussbereiche für das Protokoll "tcp"

Startport   Endport
----------    --------
      1080        1179
      2869        2869

* - Verwaltete Portausschlüsse.
"""


def _netsh_pattern() -> re.Pattern[str]:
    body = FUNCS["get-excludedportrange"]
    literal = next(n for n in walk(body) if n.type == "string_literal" and text(n).startswith("'^"))
    return re.compile(evaluate_node(literal))


@pytest.mark.parametrize("output, ranges", [
    (NETSH_EN, [(5357, 5357), (50000, 50059), (60261, 60360)]),
    (NETSH_DE, [(1080, 1179), (2869, 2869)]),
    ("", []),
])
def test_the_collector_reads_only_the_rows_of_two_port_numbers(output: str, ranges) -> None:
    pattern = _netsh_pattern()
    found = [(int(m.group(1)), int(m.group(2))) for m in map(pattern.match, output.split("\n")) if m]
    assert found == ranges


def test_the_collector_runs_netsh_for_tcp_with_a_time_limit_and_records_its_failure() -> None:
    body = text(FUNCS["get-excludedportrange"])
    assert "@('int', 'ipv4', 'show', 'excludedportrange', 'protocol=tcp')" in body
    assert "Invoke-NativeCommand" in body and "Get-SystemToolPath -Name 'netsh.exe'" in body
    # A failure is an error in the manifest and no key in the facts ("not collected" differs from "none").
    assert "Add-BundleError -File 'host/facts.json'" in body and "return $null" in body
    caller = text(FUNCS["get-hostfact"])
    assert "if ($null -ne $ranges)" in caller


def test_the_collector_reads_both_policy_keys_from_the_64_bit_registry() -> None:
    body = text(FUNCS["get-policyvalue"])
    assert "Open-RegistryKey -Hive LocalMachine" in body
    assert "Registry64" in text(FUNCS["open-registrykey"])
    facts = text(FUNCS["get-hostfact"])
    assert "Get-PolicyValue -SubKey 'SOFTWARE\\Policies\\WSL'" in facts
    assert "Get-PolicyValue -SubKey 'SOFTWARE\\Policies\\Docker\\Docker Desktop'" in facts


def test_admin_settings_are_copied_whoever_runs_the_collector() -> None:
    copy = next(n for n in walk(TREE) if n.type == "command" and "desktop/admin-settings.json" in text(n)
                and text(n).startswith("Copy-BundleFile"))
    # Not inside the branch that needs the desktop user's profile: the file is machine-wide.
    node, branch = copy.parent, None
    while node is not None:
        if node.type == "if_statement" and "$script:UserPaths.Found" in text(node).split("{", 1)[0]:
            branch = node
        node = node.parent
    assert branch is None
    assert "'DockerDesktop', 'admin-settings.json'" in text(copy)


def test_every_host_fact_the_collector_writes_is_one_the_reader_reads_and_back() -> None:
    written = set(re.findall(r"\$facts\['(\w+)'\]", text(FUNCS["get-hostfact"])))
    written |= {"format", "computer_name", "user"}
    reader = (ROOT / "migrate" / "inventory" / "host.py").read_text(encoding="utf-8")
    body = reader.split("def host_facts_from_data", 1)[1].split("\ndef ", 1)[0]
    read = set(re.findall(r"r\.\w+\(data, \"(\w+)\"", body)) | {"format", "os", "wsl", "features"}
    assert written == read


# ------------------------------------------------------------------------------------------ reading


def test_the_host_reader_maps_the_new_keys() -> None:
    h = host_facts_from_data({
        "manufacturer": "Microsoft Corporation", "model": "Virtual Machine", "vm_monitor_mode_extensions": False,
        "excluded_port_ranges": [{"start": 50000, "end": 50059}, {"start": 5357, "end": 5357}],
        "network_adapters": {"name": "Ethernet 3", "description": "PANGP Virtual Ethernet Adapter"},
        "wsl_policies": {"AllowWSL": 1, "AllowInboxWSL": 0}, "desktop_policies": {"allowedOrgs": ["acme"]},
    }, "facts.json")
    assert (h.manufacturer, h.model, h.vm_monitor_mode_extensions) == ("Microsoft Corporation", "Virtual Machine",
                                                                       False)
    assert h.excluded_port_ranges == (PortRange(5357, 5357), PortRange(50000, 50059))
    assert h.network_adapters == (NetworkAdapter("Ethernet 3", "PANGP Virtual Ethernet Adapter"),)
    assert h.wsl_policies == {"AllowInboxWSL": 0, "AllowWSL": 1}
    assert h.desktop_policies == {"allowedOrgs": ["acme"]}


@pytest.mark.parametrize("data, key", [
    ({"excluded_port_ranges": [{"start": 70000, "end": 70001}]}, "excluded_port_ranges[0]"),
    ({"excluded_port_ranges": [{"start": 9, "end": 8}]}, "excluded_port_ranges[0]"),
    ({"network_adapters": [{"description": "x"}]}, "network_adapters[0].name"),
    ({"wsl_policies": {"AllowWSL": {"x": 1}}}, "wsl_policies.AllowWSL"),
    ({"vm_monitor_mode_extensions": "yes"}, "vm_monitor_mode_extensions"),
])
def test_the_host_reader_names_the_bad_key(data, key: str) -> None:
    with pytest.raises(InputError, match=re.escape(key)):
        host_facts_from_data(data, "facts.json")


def test_a_bundle_with_admin_settings_is_read_and_assessed(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(ROOT / "samples" / "hyperv-2x", bundle)
    (bundle / "desktop" / "admin-settings.json").write_text(json.dumps(ADMIN), encoding="utf-8")
    inv = scan(ScanOptions(bundle=bundle), "test")
    assert inv.settings.admin_settings is not None and inv.settings.admin_settings.values == ADMIN
    found = _findings(inv)
    assert "linuxVM.wslEngineEnabled = false" in found["DESK014"][0]
    assert {"DESK015", "DESK016"} <= set(found)


def test_windows_defaults_find_admin_settings_in_programdata(tmp_path: Path, monkeypatch) -> None:
    programdata = tmp_path / "ProgramData"
    (programdata / "DockerDesktop").mkdir(parents=True)
    (programdata / "DockerDesktop" / "admin-settings.json").write_text("{}", encoding="utf-8")
    monkeypatch.setenv("ProgramData", str(programdata))
    monkeypatch.setenv("APPDATA", str(tmp_path / "AppData"))
    monkeypatch.setenv("USERPROFILE", str(tmp_path / "Users"))
    opts = windows_defaults(ScanOptions())
    assert opts.admin_settings == programdata / "DockerDesktop" / "admin-settings.json"


def test_a_windows_engine_gives_build_revision_and_edition_without_host_facts(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(ROOT / "samples" / "lcow", bundle)
    (bundle / "host" / "facts.json").unlink()
    inv = scan(ScanOptions(bundle=bundle), "test")
    info = json.loads((bundle / "engine" / "info.json").read_text(encoding="utf-8"))
    assert inv.host is not None and inv.host.file == "docker info"
    assert f"(OS Build {inv.host.build}.{inv.host.revision})" in info["OperatingSystem"]
    assert inv.host.edition_id == "Professional" and inv.host.edition.startswith("Windows 10 Pro")
    assert "HOST001" in _findings(inv)  # 1809: no WSL 2, known now without host facts
    # The planner holds it to the Pro minimum.
    assert decide(inv, None, "test").switch.min_windows_build == 19041


@pytest.mark.parametrize("os_type, operating_system, kernel, expect", [
    ("windows", "Windows 10 Enterprise Version 1909 (OS Build 18363.1556)", "10.0 18363 (18362.1.amd64fre)",
     (18363, 1556, "Enterprise")),
    ("windows", "Windows Server Datacenter Version 1803 (OS Build 17134.1)", "10.0 17134 (17134.1.amd64fre)",
     (17134, 1, "")),
    ("windows", "", "10.0 19045 (WinBuild.160101.0800)", (19045, None, "")),
    ("linux", "Docker Desktop", "5.15.153.1-microsoft-standard-WSL2", None),
])
def test_host_facts_from_a_windows_engine(os_type: str, operating_system: str, kernel: str, expect) -> None:
    h = host_facts_from_engine(Engine(os_type=os_type, operating_system=operating_system, kernel_version=kernel))
    assert (None if h is None else (h.build, h.revision, h.edition_id)) == expect


# ------------------------------------------------------------------------------------------ derived facts


def _host_inv(**facts) -> Inventory:
    return Inventory(host=HostFacts(**facts))


@pytest.mark.parametrize("facts, is_vm, nested", [
    ({"manufacturer": "Microsoft Corporation", "model": "Virtual Machine", "hypervisor_present": False,
      "vm_monitor_mode_extensions": False, "virtualization_firmware_enabled": False}, True, False),
    ({"manufacturer": "QEMU", "model": "Standard PC (Q35 + ICH9, 2009)", "hypervisor_present": True}, True, True),
    ({"manufacturer": "Dell Inc.", "model": "Latitude 7420", "vm_monitor_mode_extensions": True}, False, True),
    ({}, None, None),
])
def test_vm_and_nested_virtualization(facts, is_vm, nested) -> None:
    inv = _host_inv(**facts)
    f = Facts(inv)
    assert (f.get(inv.host, "is_vm"), f.get(inv.host, "nested_virtualization")) == (is_vm, nested)


def test_vpn_adapters_are_named_and_ordinary_ones_are_not() -> None:
    adapters = (NetworkAdapter("Ethernet", "Intel(R) Ethernet Connection I219-LM"),
                NetworkAdapter("Ethernet 2", "PANGP Virtual Ethernet Adapter Secure"),
                NetworkAdapter("vEthernet (WSL)", "Hyper-V Virtual Ethernet Adapter"),
                NetworkAdapter("Zscaler", "Zscaler Network Adapter 1.0.2.0"))
    inv = _host_inv(network_adapters=adapters)
    assert Facts(inv).get(inv.host, "vpn_adapters") == ("Ethernet 2 (PANGP Virtual Ethernet Adapter Secure)",
                                                        "Zscaler (Zscaler Network Adapter 1.0.2.0)")


def test_published_ports_in_reserved_ranges_port_ranges_included() -> None:
    c = Container(id="c" * 64, name="web", image="nginx", port_bindings=(
        PortBinding("80/tcp", host_port="8080"), PortBinding("443/tcp", host_port="50005-50010"),
        PortBinding("53/udp", host_port="50001"), PortBinding("22/tcp", host_port="5357")))
    inv = Inventory(host=HostFacts(excluded_port_ranges=(PortRange(5357, 5357), PortRange(50000, 50007))),
                    containers=(c,))
    assert Facts(inv).get(c, "excluded_host_ports") == ("50005-50007", "5357")
    assert "CTR015" in _findings(inv)


def test_permission_sensitive_binds() -> None:
    c = Container(id="d" * 64, name="db", image="mysql", mounts=(
        Mount("bind", "/run/desktop/mnt/host/c/db/my.cnf", "/etc/mysql/conf.d/my.cnf"),
        Mount("bind", "/host_mnt/c/src", "/app"),
        Mount("bind", "/home/user/.ssh", "/root/.ssh"),  # a Linux path: permissions hold
        Mount("volume", "/var/lib/docker/volumes/k/_data", "/certs/server.key", name="k")))
    inv = Inventory(engine=Engine(os_type="linux"), containers=(c,))
    assert Facts(inv).get(c, "permission_sensitive_binds") == (
        "/run/desktop/mnt/host/c/db/my.cnf -> /etc/mysql/conf.d/my.cnf",)


def test_admin_settings_flattened_with_the_old_spelling() -> None:
    from migrate.model import Settings

    st = Settings(admin_settings=ConfigFile(values={"wslEngineEnabled": {"locked": True, "value": False},
                                                    "useWindowsContainers": {"locked": False, "value": True},
                                                    "blockDockerLoad": {"value": True}}))
    f = Facts(Inventory(settings=st))
    assert f.get(st, "admin_locked") == {"linuxVM.wslEngineEnabled": False}
    assert f.get(st, "admin_values") == {"blockDockerLoad": True, "linuxVM.wslEngineEnabled": False,
                                         "useWindowsContainers": True}
    assert f.get(st, "admin_blocks_switch") == ("linuxVM.wslEngineEnabled = false",)


# ------------------------------------------------------------------------------------------ the plan


def _blocked(sample: str) -> Inventory:
    inv = inventory(sample)
    admin = ConfigFile(file="admin-settings.json", values={"blockDockerLoad": {"locked": True, "value": True}})
    return dataclasses.replace(inv, settings=dataclasses.replace(inv.settings, admin_settings=admin))


def test_block_docker_load_turns_saves_into_pulls_by_tag_with_the_reason() -> None:
    free = decide(inventory("hyperv-2x"), report("hyperv-2x"), "test")
    inv = _blocked("hyperv-2x")
    plan = decide(inv, report("hyperv-2x"), "test")
    saved = [im for im in free.images if im.strategy == "save"]
    assert saved and all(im.strategy != "save" for im in plan.images)
    after = {im.id: im for im in plan.images}
    for im in saved:
        new = after[im.id]
        own = tuple(t for t in im.tags if t != im.plan_tag)  # the tag a saved untagged image gets is the plan's
        if own:
            assert new.strategy == "repull" and new.reference == sorted(own)[0]
            assert "blockDockerLoad" in new.why[-1]
        else:
            assert new.strategy == "skip" and any(im.id[:19] in p for p in plan.problems)
    # Nothing is committed (a commit would have to be loaded); the user is told to copy the data out first.
    committed = [c.name for c in free.containers if c.commit]
    assert committed and not any(c.commit for c in plan.containers)
    assert any(m.startswith("DESK016:") and all(n in m for n in committed) for m in plan.switch.manual)
    program = build_program(plan)
    assert not [s.id for s in program.steps if s.docker is not None and s.docker.argv[0] in ("load", "save")]


def test_without_block_docker_load_nothing_changes() -> None:
    inv = inventory("hyperv-2x")
    admin = ConfigFile(values={"blockDockerLoad": {"locked": True, "value": False}})
    unblocked = dataclasses.replace(inv, settings=dataclasses.replace(inv.settings, admin_settings=admin))
    a, b = decide(inv, report("hyperv-2x"), "test"), decide(unblocked, report("hyperv-2x"), "test")
    assert (a.images, a.containers, a.switch.manual) == (b.images, b.containers, b.switch.manual)


def test_the_plan_says_wslconfig_limits_apply_to_every_distro_and_only_adds_keys() -> None:
    plan = decide(inventory("hyperv-2x"), report("hyperv-2x"), "test")
    assert plan.switch.wslconfig
    assert any("every WSL distro" in w for w in plan.switch.why)
    step = build_program(plan).step("switch/wslconfig")
    assert "every WSL distro" in step.title and {e.key for e in step.op.add} == set(plan.switch.wslconfig)
