"""From a plan to the ordered step list both the runbook and the rehearsal run."""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from migrate.plan.model import ContainerPlan, Plan
from migrate.plan.order import start_order, stop_order
from migrate.plan.steps import Artifact, BackupPath, Step, Word
from migrate.verify.digest import digest_script

BACKUP_FOLDERS = ("images", "volumes", "secrets", "secrets/env", "settings", "verify")
"""Sub-folders of the backup folder, created by the prepare-backup-folder step."""
SECRETS_FOLDER = "secrets"
"""Created fresh and limited to the current user before anything is written into it."""
_UNSAFE = re.compile(r"[^a-z0-9._-]+")


def safe_name(name: str) -> str:
    """A file- and id-safe form of an object name; a short hash keeps different names apart."""
    low = _UNSAFE.sub("-", name.lower()).strip("-.")[:48] or "x"
    if low == name:
        return low
    return f"{low}-{hashlib.sha256(name.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"


def volume_archive(name: str) -> str:
    """Where a volume's tar goes in the backup folder."""
    return f"volumes/{safe_name(name)}.tar"


def volume_digest(name: str) -> str:
    """Where the content digest of a volume taken before the switch goes (docs/verify.md)."""
    return f"volumes/{safe_name(name)}.digest"


def target_digest(name: str) -> str:
    """Where the content digest of the restored volume goes."""
    return f"verify/{safe_name(name)}.digest"


def env_file(c: ContainerPlan) -> str:
    """Where a container's env file goes (in the access-restricted secrets folder)."""
    return f"secrets/env/{safe_name(c.name)}.env"


class _Steps:
    """An append-only step list that checks ids are unique and dependencies come first."""

    def __init__(self) -> None:
        self.items: list[Step] = []
        self.ids: set[str] = set()

    def unique(self, base: str) -> str:
        """base, or base-2, base-3... when an earlier step has it (short ids and sanitized names can meet)."""
        n, out = 1, base
        while out in self.ids:
            n += 1
            out = f"{base}-{n}"
        return out

    def add(self, step: Step) -> str:
        if step.id in self.ids:
            raise ValueError(f"duplicate step id {step.id}")
        missing = [d for d in step.depends_on if d not in self.ids]
        if missing:
            raise ValueError(f"step {step.id} depends on {missing[0]}, which is not before it")
        self.items.append(step)
        self.ids.add(step.id)
        return step.id


def _ids(items: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(sorted({i for i in items if i}))


def _digest_step(phase: str, engine: str, volume: str, path: str, helper: str, after: tuple[str, ...],
                 platform: tuple[str, ...] = ()) -> Step:
    """A helper container writes the content digest of a volume (docs/verify.md) to path in the backup folder."""
    folder, name = path.split("/", 1)
    title = f"Record the content digest of volume {volume}" if phase == "backup" else \
        f"Digest the restored volume {volume}"
    return Step(f"{phase}/volume-digest/{safe_name(volume)}", phase, title, engine=engine,
                argv=("run", "--rm", *platform, "--network", "none", "-v", f"{volume}:/data:ro",
                      "-v", Word((BackupPath(folder), ":/out")), helper,
                      "sh", "-c", digest_script(), "sh", "/data", f"/out/{name}"),
                target=volume, produces=(Artifact(path, "volume-digest", volume),), depends_on=after)


def build_steps(plan: Plan) -> list[Step]:
    """Every step of the plan in run order; the same plan gives the same list."""
    s = _Steps()
    kept = [c for c in plan.containers if c.strategy != "skip"]
    by_name = {c.name: c for c in kept}
    deps = {c.name: c.depends_on for c in kept}
    helper = plan.helper_image
    copies = [v for v in plan.volumes if v.strategy == "copy"]
    # LCOW: the old engine is the Windows one, which runs a Linux container only when asked to.
    linux = ("--platform", "linux") if plan.source_backend == "lcow" else ()

    # preflight ---------------------------------------------------------------------------------------------
    check = s.add(Step("preflight/check-host", "preflight", "Check the host before anything changes",
                       action="check-host", mutating=False, target="host",
                       params={"backup_bytes": plan.bytes_planned + sum(v.size or 0 for v in copies),
                               "manual": list(plan.switch.manual)}, findings=plan.switch.findings))
    folder = s.add(Step("preflight/backup-folder", "preflight", "Create the backup folder, secrets limited to you",
                        action="prepare-backup-folder", target="backup folder", depends_on=(check,),
                        params={"folders": list(BACKUP_FOLDERS), "secret": SECRETS_FOLDER}))
    helper_src = None
    if plan.helper_pull and copies:
        helper_src = s.add(Step("preflight/pull-helper", "preflight", f"Pull the helper image {helper}",
                                engine="source", argv=("pull", *linux, helper), target=helper,
                                depends_on=(folder,)))

    # freeze: dependents stop first -----------------------------------------------------------------------
    stopped: dict[str, str] = {}
    dependents: dict[str, list[str]] = {}
    for c in kept:
        for d in c.depends_on:
            dependents.setdefault(d, []).append(c.name)
    for name in stop_order([c.name for c in kept if c.start], deps):
        c = by_name[name]
        after = _ids(stopped.get(n) for n in dependents.get(name, ()))
        stopped[name] = s.add(Step(f"freeze/stop/{safe_name(name)}", "freeze", f"Stop container {name}",
                                   engine="source", argv=("stop", "--time", str(c.stop_timeout), c.id),
                                   target=name, depends_on=_ids((folder, *after)), findings=c.findings))

    # backup ------------------------------------------------------------------------------------------------
    commits: dict[str, str] = {}
    for c in kept:
        if c.commit:
            commits[c.name] = s.add(Step(
                f"backup/commit/{safe_name(c.name)}", "backup", f"Commit the changed filesystem of {c.name}",
                engine="source", argv=("commit", c.id, c.commit_ref), target=c.name,
                depends_on=_ids((folder, stopped.get(c.name))), findings=c.findings))
    env_steps: dict[str, str] = {}
    for c in kept:
        if c.env and c.strategy == "recreate":
            path = env_file(c)
            env_steps[c.name] = s.add(Step(
                f"backup/env/{safe_name(c.name)}", "backup", f"Write the environment of {c.name} to an env file",
                engine="source", action="write-env-file", target=c.name,
                params={"container": c.id, "path": path, "names": list(c.env)},
                produces=(Artifact(path, "env-file", c.name, secret=True),), depends_on=(folder,)))
    archives: dict[str, list[str]] = {}
    for im in plan.images:
        if im.strategy == "save":
            archives.setdefault(im.archive or "images/images.tar", []).extend(im.tags or (im.id,))
    image_of = {im.id: im for im in plan.images}
    for c in kept:
        if c.commit:
            base = image_of.get(c.image_id)
            key = base.archive if base is not None and base.strategy == "save" and base.archive \
                else "images/commits.tar"
            archives.setdefault(key, []).append(c.commit_ref)
    saves: dict[str, str] = {}
    for path in sorted(archives):
        refs = tuple(dict.fromkeys(archives[path]))
        needs = _ids((folder, *(commits[c.name] for c in kept if c.commit and c.commit_ref in refs)))
        saves[path] = s.add(Step(
            f"backup/save/{path.removeprefix('images/').removesuffix('.tar')}", "backup",
            f"Save {len(refs)} image reference(s) to {path}", engine="source",
            argv=("save", "-o", BackupPath(path), *refs), target=path, depends_on=needs,
            produces=(Artifact(path, "image-archive", ", ".join(refs), tar=True),)))
    vol_backups: dict[str, str] = {}
    for v in copies:
        path = volume_archive(v.name)
        vol_backups[v.name] = s.add(Step(
            f"backup/volume/{safe_name(v.name)}", "backup", f"Copy volume {v.name} to {path}", engine="source",
            argv=("run", "--rm", *linux, "--network", "none", "-v", f"{v.name}:/data:ro",
                  "-v", Word((BackupPath("volumes"), ":/backup")), helper,
                  "tar", "-c", "--numeric-owner", "-f", f"/backup/{path.removeprefix('volumes/')}", "-C", "/data",
                  "."),
            target=v.name, produces=(Artifact(path, "volume-archive", v.name, tar=True),),
            depends_on=_ids((folder, helper_src, *(stopped.get(u) for u in v.users))), findings=v.findings))
    for v in copies:
        vol_backups[v.name] = s.add(_digest_step("backup", "source", v.name, volume_digest(v.name), helper,
                                                 (vol_backups[v.name],), linux))
    backups = s.add(Step("backup/verify", "backup", "Verify every backup against the manifest (size, sha256, entries)",
                         action="verify-backups", mutating=False, target="backup folder",
                         depends_on=_ids((folder, *commits.values(), *env_steps.values(), *saves.values(),
                                          *vol_backups.values()))))

    # switch ------------------------------------------------------------------------------------------------
    sw = plan.switch
    last = s.add(Step("switch/stop-desktop", "switch", "Stop Docker Desktop", action="stop-desktop",
                      target="Docker Desktop", depends_on=(backups,)))
    last = s.add(Step("switch/backup-settings", "switch", "Back up Docker Desktop's settings files",
                      action="backup-file", target="settings", params={"files": ["desktop-settings", "daemon-linux",
                                                                                 "daemon-windows", "wslconfig"]},
                      produces=(Artifact("settings/manifest.json", "settings-backup", "settings files"),),
                      depends_on=(last,)))
    for feature in sw.enable_features:
        last = s.add(Step(f"switch/feature/{safe_name(feature)}", "switch", f"Enable Windows feature {feature}",
                          action="enable-feature", target=feature, params={"name": feature}, depends_on=(last,),
                          findings=sw.findings))
    if sw.enable_features:
        last = s.add(Step("switch/reboot", "switch", "Restart Windows if a feature needs it, then resume",
                          action="reboot", target="Windows", depends_on=(last,)))
    values: dict[str, object] = {"wslEngineEnabled": sw.wsl_engine_enabled}
    last = s.add(Step("switch/settings", "switch", "Turn on the WSL2 engine in Docker Desktop's settings",
                      action="set-desktop-setting", target="Docker Desktop settings",
                      params={"values": values, "linux_containers": sw.linux_containers},
                      depends_on=(last,), findings=sw.findings))
    if sw.remove_daemon_keys:
        last = s.add(Step("switch/daemon-config", "switch", "Remove LCOW-only keys from the Windows engine config",
                          action="edit-daemon-config", target="daemon.json",
                          params={"engine": "windows", "remove": list(sw.remove_daemon_keys)}, depends_on=(last,)))
    if sw.linux_daemon_remove or sw.linux_daemon_set:
        params: dict[str, object] = {"engine": "linux"}
        if sw.linux_daemon_remove:
            params["remove"] = list(sw.linux_daemon_remove)
        if sw.linux_daemon_set:
            params["set"] = {k: list(v) for k, v in sw.linux_daemon_set.items()}
        last = s.add(Step("switch/daemon-config-linux", "switch",
                          "Fit the Linux engine's daemon.json to WSL 2 (storage keys out, registry settings in)",
                          action="edit-daemon-config", target="daemon.json", params=params, depends_on=(last,)))
    if sw.wslconfig:
        last = s.add(Step("switch/wslconfig", "switch", "Carry the Hyper-V memory, CPU and swap to .wslconfig",
                          action="write-wslconfig", target=".wslconfig", params={"values": dict(sw.wslconfig)},
                          depends_on=(last,)))
    last = s.add(Step("switch/start-desktop", "switch", "Start Docker Desktop", action="start-desktop",
                      target="Docker Desktop", params={"linux_containers": sw.linux_containers},
                      depends_on=(last,)))
    expect: dict[str, object] = {}
    if sw.expect_registry_mirrors:
        expect["registry_mirrors"] = list(sw.expect_registry_mirrors)
    if sw.expect_insecure_registries:
        expect["insecure_registries"] = list(sw.expect_insecure_registries)
    ready = s.add(Step("switch/wait-engine", "switch", "Wait for the WSL2 engine", engine="target",
                       action="wait-engine", mutating=False, target="engine", depends_on=(last,), params=expect))

    # restore -----------------------------------------------------------------------------------------------
    has_image: dict[str, str] = {}
    helper_dst = None
    if plan.helper_pull and copies:
        helper_dst = s.add(Step("restore/pull-helper", "restore", f"Pull the helper image {helper}", engine="target",
                                argv=("pull", helper), target=helper, depends_on=(ready,)))
    for path in sorted(archives):
        step = s.add(Step(f"restore/load/{path.removeprefix('images/').removesuffix('.tar')}", "restore",
                          f"Load {path}", engine="target", argv=("load", "-i", BackupPath(path)), target=path,
                          consumes=(path,), depends_on=(ready, saves[path])))
        for ref in archives[path]:
            has_image[ref] = step
    for im in plan.images:
        if im.strategy == "save":
            has_image[im.id] = has_image[(im.tags or (im.id,))[0]]
        elif im.strategy == "repull":
            pull = ("pull", *(("--platform", im.platform) if im.platform else ()), im.reference)
            step = s.add(Step(s.unique(f"restore/pull/{im.id.removeprefix('sha256:')[:12]}"), "restore",
                              f"Pull {im.reference}", engine="target", argv=pull, target=im.reference,
                              depends_on=(ready,), findings=im.findings))
            for tag in im.tags:
                step = s.add(Step(s.unique(f"restore/tag/{safe_name(tag)}"), "restore", f"Tag {tag}", engine="target",
                                  argv=("tag", im.reference, tag), target=tag, depends_on=(step,)))
            has_image[im.id] = step
            for tag in im.tags:
                has_image[tag] = step
    helper_ready = helper_dst or has_image.get(helper) or ready
    nets: dict[str, str] = {}
    for n in plan.networks:
        if n.strategy == "recreate":
            nets[n.name] = s.add(Step(f"restore/network/{safe_name(n.name)}", "restore", f"Create network {n.name}",
                                      engine="target", argv=tuple(n.args), target=n.name, depends_on=(ready,),
                                      findings=n.findings))
    vols: dict[str, str] = {}
    for v in plan.volumes:
        if v.strategy == "skip":
            continue
        args: list[str] = ["volume", "create", "--driver", v.driver]
        for k in sorted(v.options):
            args += ["--opt", f"{k}={v.options[k]}"]
        for k in sorted(v.labels):
            args += ["--label", f"{k}={v.labels[k]}"]
        args.append(v.name)
        vols[v.name] = s.add(Step(f"restore/volume/{safe_name(v.name)}", "restore", f"Create volume {v.name}",
                                  engine="target", argv=tuple(args), target=v.name, depends_on=(ready,),
                                  findings=v.findings))
        if v.strategy == "copy":
            path = volume_archive(v.name)
            vols[v.name] = s.add(Step(
                f"restore/volume-data/{safe_name(v.name)}", "restore", f"Restore the content of volume {v.name}",
                engine="target",
                argv=("run", "--rm", "--network", "none", "-v", f"{v.name}:/data",
                      "-v", Word((BackupPath("volumes"), ":/backup:ro")), helper,
                      "tar", "-x", "--numeric-owner", "-f", f"/backup/{path.removeprefix('volumes/')}", "-C", "/data"),
                target=v.name, consumes=(path,), depends_on=_ids((vols[v.name], helper_ready, vol_backups[v.name]))))
    created: dict[str, str] = {}
    order, _ = start_order([c.name for c in kept], deps)
    projects_done: set[str] = set()
    for name in order:
        c = by_name[name]
        needs = _ids((ready, has_image.get(c.commit_ref if c.commit else c.image_id) or has_image.get(c.image),
                      *(nets.get(n) for n in c.networks), *(vols.get(v) for v in c.volumes),
                      *(created.get(d) for d in c.depends_on), env_steps.get(name)))
        if c.strategy == "compose" and c.compose is not None:
            key = c.compose.project
            if key in projects_done:
                continue
            members = [by_name[n] for n in order if by_name[n].strategy == "compose" and by_name[n].compose
                       is not None and by_name[n].compose.project == key]
            files = [a for f in c.compose.files for a in ("-f", f)]
            services = sorted({m.compose.service for m in members if m.compose is not None})
            for m in members:
                needs = _ids((*needs, has_image.get(m.image_id), *(nets.get(n) for n in m.networks),
                              *(vols.get(v) for v in m.volumes),
                              *(created.get(d) for d in m.depends_on if d not in {x.name for x in members})))
            step = s.add(Step(f"restore/compose/{safe_name(key)}", "restore", f"Create compose project {key}",
                              engine="target", workdir=c.compose.working_dir,
                              argv=("compose", "--project-name", key, "--project-directory", c.compose.working_dir,
                                    *files, "up", "--no-start", "--no-build", "--no-deps", *services),
                              target=key, depends_on=needs, findings=c.findings))
            projects_done.add(key)
            for m in members:
                created[m.name] = step
            continue
        argv: list[str | BackupPath] = list(c.create)
        if c.env:
            argv[1:1] = ["--env-file", BackupPath(env_file(c))]
        step = s.add(Step(f"restore/create/{safe_name(name)}", "restore", f"Create container {name}",
                          engine="target", argv=tuple(argv), target=name,
                          consumes=(env_file(c),) if c.env else (), depends_on=needs, findings=c.findings))
        for i, extra in enumerate(c.connect, 1):
            step = s.add(Step(f"restore/connect/{safe_name(name)}/{i}", "restore",
                              f"Connect {name} to network {extra[-2] if len(extra) > 1 else ''}", engine="target",
                              argv=tuple(extra), target=name,
                              depends_on=_ids((step, *(nets.get(a) for a in extra)))))
        created[name] = step
    started: dict[str, str] = {}
    for name in order:
        c = by_name[name]
        if c.start:
            started[name] = s.add(Step(
                f"restore/start/{safe_name(name)}", "restore", f"Start container {name}", engine="target",
                argv=("start", name), target=name,
                depends_on=_ids((created[name], *(started.get(d) for d in c.depends_on)))))

    # verify and cleanup ------------------------------------------------------------------------------------
    checks: list[str] = []
    for v in copies:
        # After the containers that use it were created and started: they may write to it on start.
        checks.append(s.add(_digest_step("verify", "target", v.name, target_digest(v.name), helper, _ids(
            (vols[v.name], *(created.get(u) for u in v.users), *(started.get(u) for u in v.users))))))
    done = s.add(Step("verify/target", "verify", "Compare the new engine with what the plan migrates",
                      engine="target", action="verify-target", mutating=False, target="engine",
                      depends_on=_ids((ready, *created.values(), *started.values(), *vols.values(),
                                       *nets.values(), *checks))))
    s.add(Step("cleanup/finish", "cleanup", "Remove the resume task and write the summary", action="finish",
               target="runbook", depends_on=(done,)))
    return s.items
