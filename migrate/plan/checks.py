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

    def __post_init__(self) -> None:
        if self.mode not in CHECK_MODES:
            raise PlanError(f"check {self.what!r}: unknown mode {self.mode!r}")
        if not self.argv:
            raise PlanError(f"check {self.what!r}: needs a docker command")
        if self.recorded_from and "{recorded}" not in self.expect:
            raise PlanError(f"check {self.what!r}: recorded_from without {{recorded}} in expect")


IMAGE_ID = "{{.Id}}"
NETWORK_FORMAT = "{{.Driver}}|{{range .IPAM.Config}}{{.Subnet}},{{end}}"
CONTAINER_FORMAT = "{{.Image}}|{{.State.Running}}"
MIRRORS = "{{range .RegistryConfig.Mirrors}}{{.}} {{end}}"
INSECURE = ("{{range $k, $v := .RegistryConfig.IndexConfigs}}{{if not $v.Secure}}{{$k}} {{end}}{{end}}"
            "{{range .RegistryConfig.InsecureRegistryCIDRs}}{{.}} {{end}}")


def image_check(ref: str, image_id: str = "", recorded_from: str = "") -> Check:
    """ref names the image the plan expects (a commit's: the id its step recorded)."""
    expect = image_id or "{recorded}"
    shown = image_id[:19] if image_id else f"the image {recorded_from} made"
    return Check(f"{ref} is {shown}", ("image", "inspect", "--format", IMAGE_ID, "--", ref), expect,
                 recorded_from="" if image_id else recorded_from)


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
    return Check(f"container {name} runs {image_id[:19] or 'the committed image'} and is {state}",
                 ("container", "inspect", "--format", CONTAINER_FORMAT, "--", name),
                 f"{image}|{'true' if running else 'false'}", recorded_from="" if image_id else recorded_from)


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
