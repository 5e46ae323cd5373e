"""Checks: read-only docker commands whose output the planner knows, run by both interpreters after a step."""
from __future__ import annotations

from dataclasses import dataclass

from migrate.errors import PlanError

CHECK_MODES = ("equals", "has-word")


@dataclass(frozen=True, slots=True)
class Check:
    """A read-only docker command whose output the plan knows: `equals` (the output, trimmed, is expect) or
    `has-word` (expect is one of its whitespace-separated words). With recorded_from, `{recorded}` in expect stands
    for the output that step recorded (a commit's new image id, known only once it is made)."""

    what: str
    """What holds when the check passes, for people: 'tag web:1 is image sha256:...'."""
    argv: tuple[str, ...]
    expect: str
    mode: str = "equals"
    recorded_from: str = ""
    c8d_fields: tuple[int, ...] = ()
    """On an engine with the containerd image store (docs/runbook.md): only these '|'-separated fields of the output
    are compared with expect's, because its image ids are manifest digests, not the config digests the plan knows
    (moby/moby#48401). () = the whole output, on either store."""

    def __post_init__(self) -> None:
        if self.mode not in CHECK_MODES:
            raise PlanError(f"check {self.what!r}: unknown mode {self.mode!r}")
        if not self.argv:
            raise PlanError(f"check {self.what!r}: needs a docker command")
        if self.recorded_from and "{recorded}" not in self.expect:
            raise PlanError(f"check {self.what!r}: recorded_from without {{recorded}} in expect")


IMAGE_ID = "{{.Id}}"
IMAGE_FORMAT = "{{.Id}}|{{range .RootFS.Layers}}{{.}} {{end}}"
"""An image's id and its content (RootFS diff ids, base first): the id differs between the classic and the
containerd image store, the diff ids do not."""
CONTAINERD_SNAPSHOTTER = "io.containerd.snapshotter.v1"
"""`docker info` DriverStatus driver-type of an engine whose images live in containerd's store (Docker Desktop 4.34+
turns it on for new installs: docs.docker.com/desktop/features/containerd/)."""


def image_store(driver_status: object) -> str:
    """containerd or classic, from `docker info`'s DriverStatus ([[key, value], ...])."""
    pairs = driver_status if isinstance(driver_status, (list, tuple)) else ()
    for pair in pairs:
        if isinstance(pair, (list, tuple)) and len(pair) == 2 and str(pair[0]) == "driver-type" \
                and str(pair[1]) == CONTAINERD_SNAPSHOTTER:
            return "containerd"
    return "classic"


def check_passes(check: Check, got: str, expect: str, store: str) -> bool:
    """Whether an output (trimmed) satisfies a check whose {recorded} is already filled in (both interpreters)."""
    if check.mode == "has-word":
        return expect in got.split()
    if store == "containerd" and check.c8d_fields:
        have, want = got.split("|"), expect.split("|")
        return len(have) == len(want) and all(i < len(want) and have[i] == want[i] and want[i]
                                              for i in check.c8d_fields)
    return got == expect
NETWORK_FORMAT = "{{.Driver}}|{{range .IPAM.Config}}{{.Subnet}},{{end}}"
CONTAINER_FORMAT = "{{.Image}}|{{.State.Running}}"
MIRRORS = "{{range .RegistryConfig.Mirrors}}{{.}} {{end}}"
INSECURE = ("{{range $k, $v := .RegistryConfig.IndexConfigs}}{{if not $v.Secure}}{{$k}} {{end}}{{end}}"
            "{{range .RegistryConfig.InsecureRegistryCIDRs}}{{.}} {{end}}")


def image_check(ref: str, image_id: str = "", diff_ids: tuple[str, ...] = (), recorded_from: str = "") -> Check:
    """ref names the image the plan expects: its id and content (a commit's: what its content step recorded). On
    a containerd image store only the content is compared (its ids are manifest digests)."""
    expect = f"{image_id}|{' '.join(diff_ids)}" if image_id else "{recorded}"
    shown = image_id[:19] if image_id else f"the image {recorded_from} recorded"
    return Check(f"{ref} is {shown}", ("image", "inspect", "--format", IMAGE_FORMAT, "--", ref), expect,
                 recorded_from="" if image_id else recorded_from, c8d_fields=(1,))


def network_check(name: str, driver: str, subnets: tuple[str, ...]) -> Check:
    """The network exists with its driver (and its subnets, in order, when the plan pinned them)."""
    if subnets:
        return Check(f"network {name} is {driver} on {', '.join(subnets)}",
                     ("network", "inspect", "--format", NETWORK_FORMAT, "--", name),
                     f"{driver}|" + "".join(s + "," for s in subnets))
    return Check(f"network {name} is {driver}", ("network", "inspect", "--format", "{{.Driver}}", "--", name), driver)


def container_check(name: str, running: bool, image_id: str = "", recorded_from: str = "") -> Check:
    """The container exists, runs the planned image, and is running or not as planned."""
    state = "running" if running else "stopped"
    image = image_id or "{recorded}"
    # On a containerd store the container's image id is the manifest digest: its state is compared there, and
    # the image it runs is proved by the image checks (tag and content).
    return Check(f"container {name} runs {image_id[:19] or 'the committed image'} and is {state}",
                 ("container", "inspect", "--format", CONTAINER_FORMAT, "--", name),
                 f"{image}|{'true' if running else 'false'}", recorded_from="" if image_id else recorded_from,
                 c8d_fields=(1,))


def registry_checks(mirrors: tuple[str, ...], insecure: tuple[str, ...]) -> tuple[Check, ...]:
    """The registry settings an engine must show in `docker info`, in the form dockerd reports them."""
    import ipaddress

    out = []
    for m in mirrors:
        # dockerd keeps a mirror with one trailing slash (registry.ValidateMirror).
        want = m.rstrip("/") + "/"
        out.append(Check(f"registry mirror {want}", ("info", "--format", MIRRORS), want, "has-word"))
    for r in insecure:
        host = r.removeprefix("http://").removeprefix("https://").rstrip("/")
        try:
            want = str(ipaddress.ip_network(host, strict=False)) if "/" in host else host
        except ValueError:
            want = host
        out.append(Check(f"insecure registry {want}", ("info", "--format", INSECURE), want, "has-word"))
    return tuple(out)
