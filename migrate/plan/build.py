"""From a plan to the program both interpreters run: the ordered forward steps, the rollback steps, the engines.

One small function per phase; each returns nothing and appends to the builder, whose maps say which step made
what (an image, a volume, a container) so later steps depend on exactly the steps they need.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from migrate.plan.gcpause import gc_paused
from migrate.errors import PlanError
from migrate.plan.actions import (
    BackupFiles,
    BuildFloor,
    CheckHost,
    CheckVmOff,
    CheckWsl,
    EditIni,
    EditJson,
    EnableFeature,
    FileSharing,
    Finish,
    FreeSpace,
    HostFile,
    IniEntry,
    InstallWsl,
    MarkRolledBack,
    PrepareBackupFolder,
    Reboot,
    RemoveResumeTask,
    RestoreFiles,
    RestoreJsonKeys,
    SetWslVersion,
    StartDesktop,
    StopDesktop,
    SwitchContainers,
    UpgradeDesktop,
    VerifyBackups,
    WaitEngine,
    WriteEnvFile,
    WriteSecretValues,
    json_text,
)
from migrate.plan.checks import IMAGE_FORMAT, Check, image_check, registry_checks
from migrate.plan.estimate import estimate
from migrate.plan.layout import (
    env_file,
    safe_name,
    secret_values_file,
    target_digest,
    volume_archive,
    volume_digest,
)
from migrate.plan.manifest import EngineSteps, verify_target
from migrate.plan.model import DOCKER_CLI, ContainerPlan, Plan, VolumePlan
from migrate.plan.order import start_order, stop_order
from migrate.plan.redact import display
from migrate.plan.secretvalues import CREATE_FLAGS, OPTION_FLAGS, carried, volume_args, with_secret_values
from migrate.plan.steps import (
    Arg,
    Artifact,
    BackupPath,
    Docker,
    EngineExpect,
    Program,
    Step,
    Word,
    secret_files,
)
from migrate.volumedigest import digest_script
from migrate.helpertools import END as PROBE_END
from migrate.helpertools import probe_command
from migrate.winbuilds import ubr_floors

BACKUP_FOLDERS = ("images", "volumes", "secrets/env", "secrets/values", "settings", "verify")
"""Sub-folders of the backup folder, created by the prepare-backup-folder step (the folder itself is locked to the
user and SYSTEM first, so each inherits that)."""

DESKTOP_SETTINGS = HostFile("desktop-settings", ("%APPDATA%\\Docker\\settings-store.json",
                                                 "%APPDATA%\\Docker\\settings.json"))
"""Docker Desktop 4.35+ reads settings-store.json and leaves an old settings.json behind; earlier ones read only
settings.json (docs: settings-and-maintenance/settings)."""
DAEMON_LINUX = HostFile("daemon-linux", ("%USERPROFILE%\\.docker\\daemon.json",))
DAEMON_WINDOWS = HostFile("daemon-windows", ("%ProgramData%\\Docker\\config\\daemon.json",))
WSLCONFIG = HostFile("wslconfig", ("%USERPROFILE%\\.wslconfig",))
ADMIN_SETTINGS = HostFile("admin-settings", ("%ProgramData%\\DockerDesktop\\admin-settings.json",))
HOST_FILES = (DESKTOP_SETTINGS, DAEMON_LINUX, DAEMON_WINDOWS, WSLCONFIG, ADMIN_SETTINGS)

HYPERV_KIND = "move-hyperv-engine"
"""The plan kind of the findings about the LCOW host's second engine (migrate/assess/kinds.py)."""

MIB = 1024 * 1024
_SLOW_DISK = 20 * MIB
"""Bytes per second a time limit assumes for saving, loading and copying (a slow VM disk); generous on purpose."""
_SLOW_NET = 2 * MIB
"""Bytes per second a pull's time limit assumes."""
COPY_OUT = ('tar -c --numeric-owner -f "$1" -C /data . & t=$!; sh -c "$3" sh /data "$2"; d=$?; '
            'wait "$t" && [ "$d" -eq 0 ]')
"""A volume out, in one helper container: tar it into $1 and, at the same time (the tar waits on the disk, the
digest on the CPU), write its content digest (docs/verify.md; the script is $3) to $2; the containers using it are
stopped, so nothing writes to it meanwhile. Fails when either fails."""
COPY_IN = ('if [ -n "$(find /data -mindepth 1 -maxdepth 1 | head -n 1)" ]; then '
           'echo "wsl2-migrate: the volume is not empty: not restoring into it" >&2; exit 65; fi; '
           'tar -x --numeric-owner -f "$1" -C /data && exec sh -c "$3" sh /data "$2"')
"""A volume in, in one helper container: never into a volume that holds anything (an old engine's live volume, for
instance), then its digest after the restore, before any container exists that could write to it."""


def _timeout(nbytes: int | None, base: int = 600, rate: int = _SLOW_DISK) -> int:
    """Seconds for a command moving nbytes; 6 h when the size is unknown."""
    if nbytes is None:
        return 6 * 3600
    return min(7 * 86400, base + nbytes // rate)


def _operands_guarded(where: str, args: tuple[str, ...]) -> tuple[str, ...]:
    """Editable docker arguments must end their options with `--`: a name or an image after it can never be read
    as a flag (an image tag such as `--output=...` from a hostile inventory, or a typo in an edit)."""
    if "--" not in args:
        raise PlanError(f"{where}: the arguments hold no '--' before the names and the image (a plan from an "
                        "older wsl2-migrate?): re-plan with `wsl2-migrate plan -o plan.toml`, or add '--' there")
    return args


def helper_name(step_id: str) -> str:
    """The container name of a step's helper: w2m-<step id with '/' as '.'> (docker's [a-zA-Z0-9][a-zA-Z0-9_.-]+)."""
    return "w2m-" + step_id.replace("/", ".")


def _ids(items: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(sorted({i for i in items if i}))


def _rules(*groups: Iterable[str]) -> tuple[str, ...]:
    """Rule ids of several findings lists, once each, sorted."""
    return tuple(sorted({r for g in groups for r in g}))


class _Builder:
    """The step list being built and what each step made."""

    def __init__(self, plan: Plan, engine: str = "source", parent: _Builder | None = None) -> None:
        self.plan = plan
        self.engine = engine
        """The source engine this builder backs up (source, or hyperv for the LCOW host's second engine)."""
        self.ns = "" if engine == "source" else f"{engine}/"
        """Step id infix of the second engine's own steps (`backup/hyperv/engine`); its objects' steps are named by
        the names they have on the new engine, which never clash with the first engine's."""
        self.freeze_phase = "freeze" if engine == "source" else "backup"
        """The second engine is frozen in the backup phase: reaching it may switch Docker Desktop to Linux
        containers, after which the default pipe no longer leads to the first engine, so it comes after all of
        the first engine's work."""
        self.items: list[Step] = parent.items if parent is not None else []
        self.known: set[str] = parent.known if parent is not None else set()
        self.suffix: dict[str, int] = parent.suffix if parent is not None else {}
        """The last suffix unique() gave each base: it resumes there (many short ids can share a base)."""
        self.kept = [c for c in plan.containers if c.strategy != "skip"]
        self.by_name = {c.name: c for c in self.kept}
        self.deps = {c.name: c.depends_on for c in self.kept}
        self.copies = [v for v in plan.volumes if v.strategy == "copy"]
        # LCOW: the old engine is the Windows one, which runs a Linux container only when asked to.
        self.linux: tuple[str, ...] = ("--platform", "linux") if plan.source_backend == "lcow" else ()
        self.helper_src: str | None = None
        self.folder = ""
        self.stopped: dict[str, str] = {}
        self.commits: dict[str, str] = {}
        self.plan_tags: dict[str, str] = {}
        """Image id -> the step that gave the untagged image its plan tag on the source engine."""
        self.commit_content: dict[str, str] = {}
        """Container name -> the step that recorded its commit's id and content (IMAGE_FORMAT)."""
        self.env_steps: dict[str, str] = {}
        self.secret_steps: dict[str, str] = {}
        """secret-values file -> the step that writes it."""
        self.archives: dict[str, list[str]] = {}
        self.archive_rules: dict[str, tuple[str, ...]] = {}
        """The findings of the images each archive holds."""
        self.saves: dict[str, str] = {}
        self.vol_backups: dict[str, str] = {}
        self.backups_verified = ""
        self.settings_step = ""
        self.ready = ""
        self.has_image: dict[str, str] = {}
        self.nets: dict[str, str] = {}
        self.vols: dict[str, str] = {}
        self.created: dict[str, str] = {}
        self.started: dict[str, str] = {}
        self.order: list[str] = []
        renamed = {old: new for im in plan.images for old, new in zip(im.source_tags, im.tags, strict=False)}
        self.helper_target = renamed.get(plan.helper_image, plan.helper_image)
        """The helper image on the new engine (the second engine's tag may have another name there)."""
        self.reached = ""
        """The second engine's step that made it answer (its rollback steps run only once it started)."""
        self.helper_dst = ""
        self.after_images: tuple[str, ...] = ()
        """Steps the image restores wait for (the second engine's images, loaded first: see restore)."""
        self.verified = ""

    # ------------------------------------------------------------------------------------------- plumbing

    def kinds(self, *kinds: str) -> tuple[str, ...]:
        """The rule ids whose plan kind is one of these (the findings that shaped a switch or preflight step)."""
        return _rules(*(self.plan.switch.kind_findings.get(k, ()) for k in kinds))

    def unique(self, base: str) -> str:
        """base, or base-2, base-3... when an earlier step has it (short ids and sanitized names can meet)."""
        n = self.suffix.get(base, 1)
        out = base if n == 1 else f"{base}-{n}"
        while out in self.known:
            n += 1
            out = f"{base}-{n}"
        self.suffix[base] = n
        return out

    def add(self, step: Step) -> str:
        if step.id in self.known:
            raise PlanError(f"two steps would have the id {step.id}")
        missing = [d for d in step.depends_on if d not in self.known]
        if missing:
            raise PlanError(f"step {step.id} depends on {missing[0]}, which is not before it")
        self.items.append(step)
        self.known.add(step.id)
        return step.id

    def docker(self, step_id: str, phase: str, title: str, engine: str, argv: tuple[Arg, ...], *, target: str,
               timeout: int = 600, depends_on: tuple[str, ...] = (), produces: tuple[Artifact, ...] = (),
               consumes: tuple[str, ...] = (), findings: tuple[str, ...] = (), workdir: str = "",
               recover: tuple[tuple[Arg, ...], ...] = (), checks: tuple[Check, ...] = (),
               mutating: bool = True, ok: tuple[int, ...] = (0,), record: bool = False,
               expect_output: str = "", absent: tuple[tuple[Arg, ...], ...] = ()) -> str:
        cleanup: tuple[tuple[Arg, ...], ...] = ()
        # A command reading secret values runs after they were written and re-hashes their file first.
        secrets = [f for f in secret_files((*argv, *(a for cmd in recover for a in cmd))) if f not in consumes]
        consumes = (*consumes, *secrets)
        depends_on = _ids((*depends_on, *(self.secret_steps[f] for f in secrets)))
        if argv[:1] == ("run",):
            # A named helper: ending the docker client does not end the container; its name lets it be removed.
            name = helper_name(step_id)
            argv = ("run", "--name", name, *argv[1:])
            cleanup = (("rm", "-f", "--", name),)
        op = Docker(engine, argv, timeout, workdir=workdir, ok_exit_codes=ok, recover=recover, checks=checks,
                    record_output=record, expect_output=expect_output, cleanup=cleanup, require_absent=absent,
                    display=display(argv), progress=produces[0].path if produces else "")
        return self.add(Step(step_id, phase, title, op, target=target, produces=produces, consumes=consumes,
                             depends_on=depends_on, findings=findings, mutating=mutating))

    # ------------------------------------------------------------------------------------------- phases

    def preflight(self) -> None:
        plan, sw = self.plan, self.plan.switch
        est = estimate(plan)
        # An unknown size is unknown, never 0: the check then asks (or -Force goes on) instead of passing.
        free_space = (FreeSpace("backup", est.backup_bytes, "the backups", unknown=bool(est.unknown)),
                      FreeSpace(est.wsl_disk_folder, est.wsl_disk_bytes, "the new WSL disk", unknown=bool(est.unknown)))
        check = self.add(Step(
            "preflight/check-host", "preflight", "Check the host before anything changes",
            CheckHost(floors=(BuildFloor(sw.min_windows_build, sw.min_windows_ubr),
                              *(BuildFloor(b, u) for b, u in ubr_floors(sw.min_windows_build + 1))),
                      edition=sw.windows_edition, free_space=free_space,
                      expected_user=sw.desktop_user, settings=DESKTOP_SETTINGS,
                      file_sharing=FileSharing(sw.file_sharing) if sw.file_sharing else None, manual=sw.manual),
            target="host", mutating=False, findings=self.kinds("manual", "check-free-space")))
        self.folder = self.add(Step(
            "preflight/backup-folder", "preflight", "Create the backup folder, limited to you and SYSTEM",
            PrepareBackupFolder(folders=BACKUP_FOLDERS), target="backup folder", depends_on=(check,)))
        self.helper_check("preflight")

    def helper_check(self, phase: str) -> None:
        """The helper image on this source engine (pulled when the plan says so), checked for the copies' tools."""
        if not self.copies:
            return
        plan, helper = self.plan, self.plan.helper_image
        if plan.helper_pull:
            self.helper_src = self.docker(f"{phase}/{self.ns}pull-helper", phase, f"Pull the helper image {helper}",
                                          self.engine, ("pull", *self.linux, "--", helper), target=helper,
                                          timeout=_timeout(50 * MIB, 600, _SLOW_NET), depends_on=(self.folder,))
        self.helper_src = self.docker(
            f"{phase}/{self.ns}helper-tools", phase, f"Check the helper image {helper} has what the copies need",
            self.engine, ("run", "--rm", *self.linux, "--network", "none", "--", helper, "sh", "-c",
                          probe_command()),
            target=helper, timeout=300, depends_on=_ids((self.folder, self.helper_src)),
            expect_output=PROBE_END)  # mutating: it runs a container (and a missing image would be pulled)

    def reach(self, after: tuple[str, ...], exe: str, findings: tuple[str, ...]) -> None:
        """The second engine answers (Docker Desktop switched to Linux containers when its VM did not run), once
        every step of the first engine is done: from here on the default pipe may lead to this engine."""
        self.reached = self.folder = self.add(Step(
            f"backup/{self.ns}engine", "backup", "Reach Docker Desktop's Linux engine in the Hyper-V VM (switching "
            "to Linux containers if its VM does not run)",
            SwitchContainers(to="linux", engine=self.engine, exe=exe), target="Docker Desktop",
            depends_on=after, findings=findings))

    def freeze(self) -> None:
        dependents: dict[str, list[str]] = {}
        for c in self.kept:
            for d in c.depends_on:
                dependents.setdefault(d, []).append(c.name)
        for name in stop_order([c.name for c in self.kept if c.start], self.deps):
            c = self.by_name[name]
            after = _ids(self.stopped.get(n) for n in dependents.get(name, ()))
            self.stopped[name] = self.docker(
                f"{self.freeze_phase}/stop/{safe_name(name)}", self.freeze_phase, f"Stop container {name}",
                self.engine,
                ("stop", "-t", str(c.stop_timeout), "--", c.id), target=name, timeout=c.stop_timeout + 120,
                depends_on=_ids((self.folder, *after)), findings=c.findings)

    def backup(self) -> None:
        plan = self.plan
        for c in self.kept:
            if c.commit:
                self.commits[c.name] = self.docker(
                    f"backup/commit/{safe_name(c.name)}", "backup", f"Commit the changed filesystem of "
                    f"{c.name}", self.engine, ("commit", "--", c.id, c.commit_ref), target=c.name,
                    timeout=_timeout(None), depends_on=_ids((self.folder, self.stopped.get(c.name))),
                    findings=c.findings, record=True)
                # Its content, for the checks on a containerd image store, where its id differs (docs/runbook.md).
                self.commit_content[c.name] = self.docker(
                    f"backup/commit-content/{safe_name(c.name)}", "backup", f"Record the content of the "
                    f"commit of {c.name}", self.engine, ("image", "inspect", "--format", IMAGE_FORMAT, "--",
                                                         c.commit_ref),
                    target=c.name, timeout=120, depends_on=(self.commits[c.name],), mutating=False, record=True)
        for c in self.kept:
            if c.env and c.strategy == "recreate":
                path = env_file(c.name)
                self.env_steps[c.name] = self.add(Step(
                    f"backup/env/{safe_name(c.name)}", "backup", f"Write the environment of {c.name} to an "
                    "env file", WriteEnvFile(engine=self.engine, container=c.id, path=path, names=c.env),
                    target=c.name,
                    produces=(Artifact(path, "env-file", c.name, secret=True),), depends_on=(self.folder,)))
        for item in carried(plan):
            self.secret_steps[item.path] = self.add(Step(
                f"backup/secrets/{item.kind}/{safe_name(item.name)}", "backup",
                f"Read the secret values of {item.kind} {item.name} from the "
                f"{'old' if self.engine == 'source' else 'Hyper-V'} engine",
                WriteSecretValues(engine=self.engine, kind=item.kind, object=item.source, path=item.path,
                                  entries=item.values),
                target=item.name, produces=(Artifact(item.path, "secret-values", f"{item.kind} {item.name}",
                                                     secret=True),), depends_on=(self.folder,)))
        sizes: dict[str, int] = {}
        for im in plan.images:
            if im.strategy == "save" and im.plan_tag:
                # An untagged image gets the plan's tag first: the new engine finds it by that on either store.
                self.plan_tags[im.id] = self.docker(
                    self.unique(f"backup/tag/{im.id.removeprefix('sha256:')[:12]}"), "backup",
                    f"Tag image {im.id[:19]} {im.plan_tag}", self.engine, ("tag", "--", im.id, im.plan_tag),
                    target=im.plan_tag, timeout=120, depends_on=(self.folder,), findings=im.findings)
        for im in plan.images:
            if im.strategy == "save":
                key = im.archive or "images/images.tar"
                self.archives.setdefault(key, []).extend(im.source_tags or im.tags or (im.id,))
                sizes[key] = sizes.get(key, 0) + im.size
                self.archive_rules[key] = _rules(self.archive_rules.get(key, ()), im.findings)
        image_of = {im.id: im for im in plan.images}
        for c in self.kept:
            if c.commit:
                base = image_of.get(c.image_id)
                key = base.archive if base is not None and base.strategy == "save" and base.archive \
                    else f"images/{self.ns.rstrip('/') + '-' if self.ns else ''}commits.tar"
                self.archives.setdefault(key, []).append(c.commit_ref)
                if key.endswith("commits.tar") and base is not None:
                    sizes[key] = sizes.get(key, 0) + base.size
        tagged_by = {im.plan_tag: self.plan_tags[im.id] for im in plan.images if im.id in self.plan_tags}
        for path in sorted(self.archives):
            refs = tuple(dict.fromkeys(self.archives[path]))
            needs = _ids((self.folder, *(self.commits[c.name] for c in self.kept if c.commit and c.commit_ref in refs),
                          *(tagged_by[r] for r in refs if r in tagged_by)))
            self.saves[path] = self.docker(
                f"backup/save/{path.removeprefix('images/').removesuffix('.tar')}", "backup",
                f"Save {len(refs)} image reference(s) to {path}", self.engine,
                ("save", "-o", BackupPath(path), "--", *refs), target=path, timeout=_timeout(sizes.get(path)),
                depends_on=needs, produces=(Artifact(path, "image-archive", ", ".join(refs)),),
                findings=self.archive_rules.get(path, ()))
        for v in self.copies:
            path, digest = volume_archive(v.name), volume_digest(v.name)
            self.vol_backups[v.name] = self.docker(
                f"backup/volume/{safe_name(v.name)}", "backup", f"Copy volume {v.source_name or v.name} to "
                f"{path} and record its digest", self.engine,
                ("run", "--rm", *self.linux, "--network", "none", "-v", f"{v.source_name or v.name}:/data:ro",
                           "-v", Word((BackupPath("volumes"), ":/backup")), "--", plan.helper_image,
                           "sh", "-c", COPY_OUT, "sh", f"/backup/{path.removeprefix('volumes/')}",
                           f"/backup/{digest.removeprefix('volumes/')}", digest_script()),
                target=v.name, timeout=_timeout(v.size),
                produces=(Artifact(path, "volume-archive", v.name), Artifact(digest, "volume-digest", v.name)),
                depends_on=_ids((self.folder, self.helper_src, *(self.stopped.get(u) for u in v.users))),
                findings=v.findings)

    def backup_steps(self) -> tuple[str, ...]:
        """Every step the backups are made by (what backup/verify waits for)."""
        return _ids((self.folder, *self.commits.values(), *self.commit_content.values(), *self.env_steps.values(),
                     *self.plan_tags.values(), *self.saves.values(), *self.vol_backups.values(),
                     *self.secret_steps.values()))

    def verify_backups(self, more: tuple[str, ...] = ()) -> None:
        written = tuple(sorted({a.path for s in self.items for a in s.produces}))
        self.backups_verified = self.add(Step(
            "backup/verify", "backup", "Verify every backup against the artifact record (size, sha256)",
            VerifyBackups(written), target="backup folder", mutating=False,
            depends_on=_ids((*self.backup_steps(), *more))))

    def switch(self) -> None:
        sw = self.plan.switch
        last = self.add(Step("switch/stop-desktop", "switch", "Stop Docker Desktop",
                             StopDesktop(), target="Docker Desktop", depends_on=(self.backups_verified,)))
        last = self.add(Step("switch/vm-off", "switch", "Check the old backend's VM is off",
                             CheckVmOff(names=sw.old_vms, required=self.plan.source_backend == "hyperv"),
                             target="Hyper-V VM", mutating=False, depends_on=(last,)))
        last = self.add(Step("switch/backup-settings", "switch", "Back up Docker Desktop's settings files",
                             BackupFiles(files=HOST_FILES), target="settings",
                             produces=(Artifact("settings/manifest.json", "settings-backup", "settings files"),),
                             depends_on=(last,)))
        last = self._upgrade_desktop(last)
        install = self._install_wsl()
        values: dict[str, object] = {"wslEngineEnabled": sw.wsl_engine_enabled}
        settings_kinds = ["switch-backend", "ignore-stale-settings"]
        if sw.linux_containers:
            values["useWindowsContainers"] = False
        if sw.wsl_data_dir:
            # Before the WSL 2 engine first starts: its data disk is created there, not under %LOCALAPPDATA%.
            values["customWslDistroDir"] = sw.wsl_data_dir
            settings_kinds.append("set-wsl-data-location")
        hold = sw.hold_autostart and bool(sw.enable_features or (install and install.restart_exit_codes))
        if hold:
            # After the restart the features need, Desktop must not start by itself on the half-switched backend.
            values["autoStart"] = False
        self.settings_step = last = self.add(Step(
            "switch/settings", "switch", "Turn on the WSL2 engine in Docker Desktop's settings",
            EditJson(file=DESKTOP_SETTINGS, set_json=json_text(values), ignore_case=True),
            target="Docker Desktop settings", depends_on=(last,), findings=self.kinds(*settings_kinds)))
        if sw.remove_daemon_keys:
            last = self.add(Step("switch/daemon-config", "switch",
                                 "Remove LCOW-only keys from the Windows engine config",
                                 EditJson(file=DAEMON_WINDOWS, remove=sw.remove_daemon_keys), target="daemon.json",
                                 depends_on=(last,), findings=self.kinds("drop-lcow-experimental")))
        if sw.linux_daemon_remove or sw.linux_daemon_set:
            last = self.add(Step(
                "switch/daemon-config-linux", "switch",
                "Fit the Linux engine's daemon.json to WSL 2 (storage keys out, registry settings in)",
                EditJson(file=DAEMON_LINUX, set_json=json_text({k: list(v) for k, v in sw.linux_daemon_set.items()}),
                         remove=sw.linux_daemon_remove, create=True),
                target="daemon.json", depends_on=(last,),
                findings=self.kinds(*(("drop-daemon-key",) if sw.linux_daemon_remove else ()),
                                    *(("carry-daemon-config",) if sw.linux_daemon_set else ()))))
        if sw.wslconfig:
            entries = tuple(IniEntry(k, v) for k, v in sorted(sw.wslconfig.items()))
            last = self.add(Step("switch/wslconfig", "switch", "Add the Hyper-V memory, CPU and swap to .wslconfig "
                                 "where it sets none (they limit every WSL distro)",
                                 EditIni(file=WSLCONFIG, add=entries), target=".wslconfig", depends_on=(last,),
                                 findings=self.kinds("write-wslconfig")))
        for feature in sw.enable_features:
            last = self.add(Step(f"switch/feature/{safe_name(feature)}", "switch", f"Enable Windows feature {feature}",
                                 EnableFeature(name=feature), target=feature, depends_on=(last,),
                                 findings=self.kinds("enable-windows-features")))
        if sw.enable_features:
            last = self.add(Step("switch/reboot", "switch", "Restart Windows if a feature needs it, then resume",
                                 Reboot(), target="Windows", depends_on=(last,),
                                 findings=self.kinds("enable-windows-features")))
            last = self._stop_after_restart("switch/stop-desktop-after-restart", last)
        last = self._wsl_ready(last, install)
        if sw.enable_features or sw.wslconfig or install:
            # Desktop may have been started again (at logon after the restart, or by hand); WSL must restart to
            # read the new .wslconfig.
            last = self.add(Step("switch/stop-desktop-again", "switch",
                                 "Make sure Docker Desktop is stopped" + (" and WSL restarts" if sw.wslconfig else ""),
                                 StopDesktop(shutdown_wsl=bool(sw.wslconfig)), target="Docker Desktop",
                                 depends_on=(last,)))
        if hold:
            # Desktop is stopped here, so its settings may change; it starts next with auto-start as it was.
            last = self.add(Step("switch/autostart", "switch", "Put Docker Desktop's auto-start back as it was",
                                 RestoreJsonKeys(file=DESKTOP_SETTINGS, keys=("autoStart",),
                                                 from_step=self.settings_step, ignore_case=True),
                                 target="Docker Desktop settings", depends_on=(last,)))
        last = self.add(Step("switch/start-desktop", "switch", "Start Docker Desktop (as you, not elevated)",
                             StartDesktop(exe=sw.desktop_exe), target="Docker Desktop", depends_on=(last,)))
        self.ready = self.add(Step(
            "switch/wait-engine", "switch", "Wait for the WSL2 engine",
            WaitEngine(engine="target", checks=registry_checks(sw.expect_registry_mirrors,
                                                               sw.expect_insecure_registries)),
            target="engine", mutating=False, depends_on=(last,),
            findings=self.kinds(*(("check-registries", "carry-daemon-config") if sw.expect_registry_mirrors
                                  or sw.expect_insecure_registries else ()))))

    def _upgrade_desktop(self, last: str) -> str:
        """A Desktop too old for the WSL 2 backend is upgraded after the backups and before the settings change
        (its installer may start it: it is stopped again before anything is edited)."""
        sw = self.plan.switch
        if not sw.desktop_upgrade:
            return last
        how = "with " + sw.desktop_installer if sw.desktop_installer else "(you are asked to run the installer)"
        last = self.add(Step(
            "switch/upgrade-desktop", "switch", f"Upgrade Docker Desktop to {sw.desktop_min_version} or later {how}",
            UpgradeDesktop(installer=sw.desktop_installer, min_version=sw.desktop_min_version),
            target="Docker Desktop", depends_on=(last,), findings=self.kinds("upgrade-desktop")))
        return self.add(Step("switch/stop-desktop-upgraded", "switch", "Make sure the upgraded Docker Desktop is "
                             "stopped", StopDesktop(), target="Docker Desktop", depends_on=(last,)))

    def _install_wsl(self) -> InstallWsl | None:
        """What installs or updates WSL, as the plan chose: wsl.exe (from the Store, or GitHub with
        --web-download) or an MSI; None when WSL is recent enough."""
        sw = self.plan.switch
        if sw.wsl_msi:
            # msiexec: 3010 is "installed, restart required" (standard Windows Installer exit codes).
            return InstallWsl(program="msiexec.exe", wsl_arguments=(), msi=sw.wsl_msi, skip_from=sw.wsl_min_version,
                              ok_exit_codes=(0, 3010), restart_exit_codes=(3010,))
        web = ("--web-download",) if sw.wsl_web_download else ()
        if sw.wsl_install == "install":
            # `wsl --install` asks for a restart with exit code 3010 when it had to turn a feature on.
            return InstallWsl(wsl_arguments=("--install", "--no-distribution", *web), skip_from=sw.wsl_min_version,
                              ok_exit_codes=(0, 3010), restart_exit_codes=(3010,))
        if sw.wsl_install == "update":
            return InstallWsl(wsl_arguments=("--update", *web), skip_from=sw.wsl_min_version)
        if sw.wsl_install:
            raise PlanError(f"[switch] wsl_install: {sw.wsl_install!r} is not install, update or ''")
        return None

    def _stop_after_restart(self, step_id: str, last: str) -> str:
        """The first step after a restart: Docker Desktop starts at logon from its Run entry whatever its settings
        say, and must not run on the half-switched backend while WSL is installed and checked."""
        return self.add(Step(step_id, "switch", "Stop Docker Desktop if it started at logon after the restart",
                             StopDesktop(), target="Docker Desktop", depends_on=(last,)))

    def _wsl_ready(self, last: str, install: InstallWsl | None) -> str:
        """After the features and their restart: WSL installed or updated, WSL 2 the default, and proved to answer
        as a WSL the new Desktop can run on, before Desktop starts on it."""
        sw = self.plan.switch
        if install is not None:
            what = "from " + install.msi if install.msi else "(wsl " + " ".join(install.wsl_arguments) + ")"
            last = self.add(Step("switch/install-wsl", "switch", f"Install or update WSL {what}", install,
                                 target="WSL", depends_on=(last,), findings=self.kinds("update-wsl")))
            if install.restart_exit_codes:
                last = self.add(Step("switch/reboot-wsl", "switch", "Restart Windows if WSL's installation needs it, "
                                     "then resume", Reboot(), target="Windows", depends_on=(last,)))
                last = self._stop_after_restart("switch/stop-desktop-after-wsl-restart", last)
        if sw.wsl_set_default_version:
            last = self.add(Step("switch/wsl-default-version", "switch", "Make WSL 2 the default for new distributions",
                                 SetWslVersion(version=2), target="WSL", depends_on=(last,),
                                 findings=self.kinds("set-wsl-default-version")))
        return self.add(Step("switch/check-wsl", "switch", "Check WSL answers and is recent enough for Docker Desktop",
                             CheckWsl(min_version=sw.wsl_min_version, default_version=2 if sw.wsl_set_default_version
                                      else 0), target="WSL", mutating=False, depends_on=(last,),
                             findings=self.kinds("update-wsl", "set-wsl-default-version")))

    def restore(self) -> None:
        self.restore_helper()
        self._images()
        self.restore_storage()
        self.restore_containers()

    def restore_helper(self) -> None:
        plan = self.plan
        self.helper_dst = ""
        if plan.helper_pull and self.copies:
            self.helper_dst = self.docker(f"restore/{self.ns}pull-helper", "restore", f"Pull the helper image "
                                          f"{self.helper_target}", "target", ("pull", "--", self.helper_target),
                                          target=self.helper_target, timeout=_timeout(50 * MIB, 600, _SLOW_NET),
                                          depends_on=(self.ready,))

    def restore_storage(self) -> None:
        """Networks, then volumes with their content and digests (before any container exists)."""
        plan = self.plan
        helper_ready = self.helper_dst or self.has_image.get(self.helper_target) or self.ready
        for n in plan.networks:
            if n.strategy == "recreate":
                args = with_secret_values(_operands_guarded(f"networks.{n.name}.args", n.args), OPTION_FLAGS,
                                          secret_values_file("network", n.name), f"networks.{n.name}.args")
                self.nets[n.name] = self.docker(
                    f"restore/network/{safe_name(n.name)}", "restore", f"Create network {n.name}", "target",
                    tuple(args), target=n.name, timeout=120, depends_on=(self.ready,), findings=n.findings,
                    recover=(("network", "rm", "--", n.name),), absent=(("network", "inspect", "--", n.name),))
        for v in plan.volumes:
            if v.strategy != "skip":
                self._volume(v, helper_ready)

    def restore_containers(self) -> None:
        """Containers created dependencies first, then started."""
        self.order, _ = start_order([c.name for c in self.kept], self.deps)
        done_projects: set[str] = set()
        for name in self.order:
            c = self.by_name[name]
            if c.strategy == "compose" and c.compose is not None:
                if c.compose.project not in done_projects:
                    self._compose(c)
                    done_projects.add(c.compose.project)
            else:
                self._create(c)
        for name in self.order:
            c = self.by_name[name]
            if c.start:
                self.started[name] = self.docker(
                    f"restore/start/{safe_name(name)}", "restore", f"Start container {name}", "target",
                    ("start", "--", name), target=name, timeout=max(120, c.stop_timeout + 60),
                    depends_on=_ids((self.created[name], *(self.started.get(d) for d in c.depends_on))))

    def _images(self) -> None:
        plan = self.plan
        commit_of = {c.commit_ref: c for c in self.kept if c.commit}
        tagged = {t: im for im in plan.images if im.strategy == "save"
                  for t in (im.source_tags or im.tags or (im.id,))}
        sizes = {im.archive: 0 for im in plan.images}
        for im in plan.images:
            if im.strategy == "save":
                sizes[im.archive] = sizes.get(im.archive, 0) + im.size
        for path in sorted(self.archives):
            checks = []
            for ref in dict.fromkeys(self.archives[path]):
                if ref in commit_of:  # a commit's id is known once it is made: its step recorded it
                    checks.append(image_check(ref, recorded_from=self.commit_content[commit_of[ref].name]))
                else:
                    checks.append(image_check(ref, tagged[ref].id, tagged[ref].diff_ids))
            step = self.docker(f"restore/load/{path.removeprefix('images/').removesuffix('.tar')}", "restore",
                               f"Load {path}", "target", ("load", "-i", BackupPath(path)), target=path,
                               timeout=_timeout(sizes.get(path)), consumes=(path,), checks=tuple(checks),
                               depends_on=_ids((self.ready, self.saves[path], *self.after_images)),
                               findings=self.archive_rules.get(path, ()))
            for ref in self.archives[path]:
                self.has_image[ref] = step
        for im in plan.images:
            if im.strategy == "save":
                self.has_image[im.id] = self.has_image[(im.source_tags or im.tags or (im.id,))[0]]
                for old, new in zip(im.source_tags or im.tags, im.tags, strict=True):
                    if old != new:
                        # Loaded under the tag the other engine's image keeps: tagged apart before that one loads.
                        self.has_image[im.id] = self.has_image[new] = self.docker(
                            self.unique(f"restore/tag/{safe_name(new)}"), "restore", f"Tag {new}", "target",
                            ("tag", "--", old, new), target=new, timeout=120, depends_on=(self.has_image[old],),
                            checks=(image_check(new, im.id, im.diff_ids),))
            elif im.strategy == "repull":
                pull = ("pull", *(("--platform", im.platform) if im.platform else ()), "--", im.reference)
                step = self.docker(self.unique(f"restore/pull/{im.id.removeprefix('sha256:')[:12]}"), "restore",
                                   f"Pull {im.reference}", "target", pull, target=im.reference,
                                   timeout=_timeout(im.size, 600, _SLOW_NET),
                                   depends_on=_ids((self.ready, *self.after_images)), findings=im.findings,
                                   checks=(image_check(im.reference, im.id, im.diff_ids),))
                for tag in im.tags:
                    step = self.docker(self.unique(f"restore/tag/{safe_name(tag)}"), "restore", f"Tag {tag}",
                                       "target", ("tag", "--", im.reference, tag), target=tag, timeout=120,
                                       depends_on=(step,), checks=(image_check(tag, im.id, im.diff_ids),))
                self.has_image[im.id] = step
                for tag in im.tags:
                    self.has_image[tag] = step

    def _volume(self, v: VolumePlan, helper_ready: str) -> None:
        args = ["volume", "create", "--driver", v.driver, *volume_args(v.options, v.labels)]
        create = with_secret_values((*args, "--", v.name), OPTION_FLAGS, secret_values_file("volume", v.name),
                                    f"volumes.{v.name}")
        # A volume of that name already on the new engine (an earlier WSL 2 install's) is never adopted.
        self.vols[v.name] = self.docker(f"restore/volume/{safe_name(v.name)}", "restore", f"Create volume {v.name}",
                                        "target", create, target=v.name, timeout=120, depends_on=(self.ready,),
                                        findings=v.findings, recover=(("volume", "rm", "--", v.name),),
                                        absent=(("volume", "inspect", "--", v.name),))
        if v.strategy != "copy":
            return
        path, digest = volume_archive(v.name), target_digest(v.name)
        self.vols[v.name] = self.docker(
            f"restore/volume-data/{safe_name(v.name)}", "restore", f"Restore the content of volume {v.name} and "
            "record its digest", "target",
            ("run", "--rm", "--network", "none", "-v", f"{v.name}:/data",
             "-v", Word((BackupPath("volumes"), ":/backup:ro")), "-v", Word((BackupPath("verify"), ":/out")), "--",
             self.helper_target, "sh", "-c", COPY_IN, "sh", f"/backup/{path.removeprefix('volumes/')}",
             f"/out/{digest.removeprefix('verify/')}", digest_script()),
            target=v.name, timeout=_timeout(v.size), consumes=(path,), findings=v.findings,
            produces=(Artifact(digest, "volume-digest", v.name),),
            depends_on=_ids((self.vols[v.name], helper_ready, self.vol_backups[v.name])),
            # Interrupted part-way: the volume holds a partial copy; it is made again, empty, before the retry.
            recover=(("volume", "rm", "--", v.name), create))

    def _needs(self, c: ContainerPlan) -> tuple[str, ...]:
        image = self.has_image.get(c.commit_ref if c.commit else c.image_id) or self.has_image.get(c.image)
        return _ids((self.ready, image, *(self.nets.get(n) for n in c.networks), *(self.vols.get(v) for v in c.volumes),
                     *(self.created.get(d) for d in c.depends_on), self.env_steps.get(c.name)))

    def _compose(self, c: ContainerPlan) -> None:
        assert c.compose is not None
        key = c.compose.project
        members = [self.by_name[n] for n in self.order if self.by_name[n].strategy == "compose"
                   and self.by_name[n].compose is not None and self.by_name[n].compose.project == key]  # type: ignore[union-attr]
        names = {m.name for m in members}
        files = [a for f in c.compose.files for a in ("-f", f)]
        counts: dict[str, int] = {}
        for m in members:
            if m.compose is not None:
                counts[m.compose.service] = counts.get(m.compose.service, 0) + 1
        services = sorted(counts)
        # As many containers per service as the source had; v1 projects keep their project_service_1 names.
        scale = [a for svc in services if counts[svc] > 1 for a in ("--scale", f"{svc}={counts[svc]}")]
        compat = ("--compatibility",) if any(m.compose is not None and m.compose.v1 for m in members) else ()
        needs: tuple[str, ...] = ()
        for m in members:
            needs = _ids((*needs, *(x for x in self._needs(m) if x not in {self.created.get(n) for n in names})))
        step = self.docker(f"restore/compose/{safe_name(key)}", "restore", f"Create compose project {key}", "target",
                           ("compose", *compat, "--project-name", key, "--project-directory", c.compose.working_dir,
                            *files, "up", "--no-start", "--no-build", "--no-deps", *scale, "--", *services),
                           target=key, timeout=_timeout(None), workdir=c.compose.working_dir, depends_on=needs,
                           findings=_rules(*(m.findings for m in members)))
        for m in members:
            self.created[m.name] = step

    def _create(self, c: ContainerPlan) -> None:
        argv: list[Arg] = list(with_secret_values(_operands_guarded(f"containers.{c.name}.create", c.create),
                                                  CREATE_FLAGS, secret_values_file("container", c.name),
                                                  f"containers.{c.name}.create"))
        if not c.commit and c.commit_ref:
            # The commit was turned off in the plan: the container is created from the image it runs.
            argv = [c.image_id if a == c.commit_ref else a for a in argv]
        consumes: tuple[str, ...] = ()
        if c.env:
            argv[1:1] = ["--env-file", BackupPath(env_file(c.name))]
            consumes = (env_file(c.name),)
        step = self.docker(f"restore/create/{safe_name(c.name)}", "restore", f"Create container {c.name}", "target",
                           tuple(argv), target=c.name, timeout=300, consumes=consumes, depends_on=self._needs(c),
                           findings=c.findings, recover=(("rm", "-f", "--", c.name),),
                           absent=(("container", "inspect", "--", c.name),))
        for i, extra in enumerate(c.connect, 1):
            _operands_guarded(f"containers.{c.name}.connect", extra)
            net = extra[-2] if len(extra) > 1 else ""
            step = self.docker(f"restore/connect/{safe_name(c.name)}/{i}", "restore",
                               f"Connect {c.name} to network {net}",
                               "target", tuple(extra), target=c.name, timeout=120,
                               depends_on=_ids((step, self.nets.get(net))),
                               recover=(("network", "disconnect", "--", net, c.name),))
        self.created[c.name] = step

    def restored(self) -> tuple[str, ...]:
        """The steps that restored this engine's objects (what the final check waits for)."""
        return _ids((*self.created.values(), *self.started.values(), *self.vols.values(), *self.nets.values(),
                     *self.has_image.values()))

    def verify(self, second: _Builder | None = None) -> None:
        more: tuple[EngineSteps, ...] = ()
        if second is not None:
            h = second.plan
            more = (EngineSteps(h.images, h.volumes, h.networks, h.containers, second.commits, second.commit_content),)
        self.verified = self.add(Step(
            "verify/target", "verify", "Compare the new engine with what the plan migrates",
            verify_target(self.plan, self.commits, self.commit_content, more), target="engine", mutating=False,
            depends_on=_ids((self.ready, *self.restored(), *(second.restored() if second is not None else ())))))

    def cleanup(self) -> None:
        self.add(Step("cleanup/finish", "cleanup", "Remove the resume task and write the summary", Finish(),
                      target="runbook", depends_on=(self.verified,)))

    def rollback(self, second: _Builder | None = None, exe: str = "") -> tuple[Step, ...]:
        """Back to the old backend: settings restored, Desktop restarted on it, frozen containers started again (the
        second engine's too, on its engine: Docker Desktop switched to Linux containers for it, and back)."""
        out: list[Step] = []
        add = out.append

        add(Step("rollback/stop-desktop", "rollback", "Stop Docker Desktop", StopDesktop(), target="Docker Desktop",
                 only_if_started="switch/stop-desktop"))
        add(Step("rollback/restore-settings", "rollback", "Put the settings files back as they were before the switch",
                 RestoreFiles(), target="settings", only_if_started="switch/backup-settings"))
        add(Step("rollback/remove-task", "rollback", "Remove the resume task", RemoveResumeTask(), target="Windows"))
        add(Step("rollback/start-desktop", "rollback", "Start Docker Desktop on the old backend",
                 StartDesktop(exe=self.plan.switch.desktop_exe), target="Docker Desktop",
                 only_if_started="switch/stop-desktop"))
        back = SwitchContainers(to="windows", engine="source", exe=exe or DOCKER_CLI)
        if second is not None:
            # Reaching the second engine may have switched Docker Desktop to Linux containers (and the settings
            # backed up for the switch say so): the first engine's containers start on the Windows engine.
            add(Step("rollback/windows-containers", "rollback", "Make sure Docker Desktop runs Windows containers",
                     back, target="Docker Desktop", only_if_started=second.reached))
        add(Step("rollback/wait-engine", "rollback", "Wait for the old engine", WaitEngine(engine="source"),
                 target="engine", mutating=False, only_if_started="switch/stop-desktop"))
        self.engine_rollback(add)
        if second is not None:
            add(Step(f"rollback/{second.ns}engine", "rollback", "Reach Docker Desktop's Linux engine in the Hyper-V VM",
                     SwitchContainers(to="linux", engine=second.engine, exe=back.exe), target="Docker Desktop",
                     only_if_started=second.reached))
            second.engine_rollback(add)
            add(Step(f"rollback/{second.ns}windows-containers", "rollback", "Switch Docker Desktop back to Windows "
                     "containers", back, target="Docker Desktop", only_if_started=second.reached))
        add(Step("rollback/mark", "rollback", "Mark the journal rolled back (no resume after this)", MarkRolledBack(),
                 target="journal"))
        return tuple(out)

    def engine_rollback(self, add: Callable[[Step], None]) -> None:
        """This source engine as it was: the containers the freeze stopped started again, commit tags and a helper
        image the run pulled removed."""
        stops = {name: sid for name, sid in self.stopped.items()}
        for name in self.order or [c.name for c in self.kept]:
            if name in stops:
                c = self.by_name[name]
                add(Step(f"rollback/start/{safe_name(name)}", "rollback", f"Start container {name} again",
                         _op(self.engine, ("start", "--", c.id), max(120, c.stop_timeout + 60)), target=name,
                         only_if_started=stops[name]))
        for name, sid in sorted(self.commits.items()):
            c = self.by_name[name]
            # A commit interrupted before it tagged anything leaves nothing to remove: exit 1 is accepted.
            add(Step(f"rollback/untag/{safe_name(name)}", "rollback", f"Remove the commit tag "
                     f"{c.commit_ref}", _op(self.engine, ("image", "rm", "--", c.commit_ref), 300, ok=(0, 1)),
                     target=c.commit_ref, only_if_started=sid))
        tags = {im.id: im.plan_tag for im in self.plan.images}
        for iid, sid in sorted(self.plan_tags.items()):
            add(Step(f"rollback/untag/image-{iid.removeprefix('sha256:')[:12]}", "rollback",
                     f"Remove the tag {tags[iid]}",
                     _op(self.engine, ("image", "rm", "--", tags[iid]), 300, ok=(0, 1)), target=tags[iid],
                     only_if_started=sid))
        if self.plan.helper_pull and self.copies:
            helper = self.plan.helper_image
            phase = "preflight" if self.engine == "source" else "backup"
            add(Step(f"rollback/{self.ns}remove-helper", "rollback", f"Remove the helper image {helper} the run "
                     "pulled", _op(self.engine, ("image", "rm", "--", helper), 300, ok=(0, 1)), target=helper,
                     only_if_started=f"{phase}/{self.ns}pull-helper"))


def _op(engine: str, argv: tuple[Arg, ...], timeout: int, ok: tuple[int, ...] = (0,)) -> Docker:
    """A docker command of the rollback program."""
    return Docker(engine, argv, timeout, ok_exit_codes=ok, display=display(argv))




def _second_plan(plan: Plan) -> Plan | None:
    """The LCOW host's second engine as a plan of its own (its objects and helper; the switch is the first's)."""
    h = plan.hyperv
    strategies = [o.strategy for group in (h.images, h.volumes, h.networks, h.containers) for o in group] if h else []
    if h is None or all(s == "skip" for s in strategies):
        return None  # nothing of it moves: Docker Desktop is never switched for it
    return Plan(tool_version=plan.tool_version, inventory_fingerprint=plan.inventory_fingerprint,
                source_backend="hyperv", backup_path=plan.backup_path, helper_image=h.helper_image,
                helper_pull=h.helper_pull, images=h.images, volumes=h.volumes, networks=h.networks,
                containers=h.containers)


@gc_paused
def build_program(plan: Plan) -> Program:
    """The program of a plan; the same plan gives the same program."""
    b = _Builder(plan)
    sub = _second_plan(plan)
    second = _Builder(sub, "hyperv", parent=b) if sub is not None else None
    b.preflight()
    b.freeze()
    b.backup()
    if second is not None and plan.hyperv is not None:
        # After every step of the first engine: reaching the second may switch Docker Desktop to Linux containers.
        second.reach(_ids((*b.backup_steps(), *b.stopped.values())), plan.hyperv.desktop_cli, b.kinds(HYPERV_KIND))
        second.helper_check("backup")
        second.freeze()
        second.backup()
    b.verify_backups(second.backup_steps() if second is not None else ())
    b.switch()
    b.restore_helper()
    if second is not None:
        second.backups_verified, second.ready = b.backups_verified, b.ready
        second.restore_helper()
        second._images()
        # The second engine's images load first: a tag both engines hold is the first engine's in the end.
        b.after_images = _ids(second.has_image.values())
    b._images()
    b.restore_storage()
    if second is not None:
        second.restore_storage()
    # Every volume is restored and digested before any container exists (a database writes at start).
    b.restore_containers()
    if second is not None:
        second.restore_containers()
    b.verify(second)
    b.cleanup()
    # The Hyper-V VM runs Docker Desktop's LinuxKit kernel; a Linux engine elsewhere (a remote host, a distro's own
    # dockerd) is not the one to empty. LCOW's engine is Windows's own.
    if plan.source_backend == "lcow":
        source = EngineExpect(os="windows")
    else:
        # (Its OperatingSystem was "Docker for Windows" before Desktop 2.0: the kernel is the signal that holds.)
        source = EngineExpect(os="linux", kernel_contains="linuxkit" if plan.source_backend == "hyperv" else "")
    engines = {"source": source,
               "target": EngineExpect(os="linux", kernel_contains="microsoft-standard",
                                      operating_system="Docker Desktop", not_source=True)}
    if second is not None:
        # Docker Desktop's Linux engine in the Hyper-V VM runs its LinuxKit kernel, as the Hyper-V backend does.
        engines["hyperv"] = EngineExpect(os="linux", kernel_contains="linuxkit")
    exe = plan.hyperv.desktop_cli if plan.hyperv is not None else ""
    return Program(steps=tuple(b.items), rollback=b.rollback(second, exe), engines=engines)


def build_steps(plan: Plan) -> list[Step]:
    """The forward steps of the plan's program, in run order."""
    return list(build_program(plan).steps)

