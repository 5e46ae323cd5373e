"""Compare two inventories object by object: what 'equal' means for images, volumes, networks and containers.

docs/verify.md states the definition in prose; this module is its only implementation, used by `verify`, by
the rehearsal and by the runbook's final verification (through `wsl2-migrate verify`).
"""
from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from migrate.inventory.names import unique_names
from migrate.model import CARRIED_FIELDS, JSON, Container, Image, Inventory, Network, Volume, to_data
from migrate.plan.checks import image_store
from migrate.secrets import REDACTED, holds_digest, is_secret_name

SECRET = "<secret>"
"""What a digested secret value is compared as when the two sides' digests cannot be compared."""

KINDS = ("image", "volume", "network", "container")
"""Object kinds, in the order results are listed."""

STATUSES = ("equal", "missing", "different", "skipped", "extra")
"""missing and different fail a verification; skipped (the plan left it behind) and extra (only after) do not."""

FAILING = ("missing", "different")

IMAGE_FIELDS = ("tags",)
VOLUME_FIELDS = ("digest", "driver", "labels", "options")
NETWORK_FIELDS = ("driver", "ipam", "options", "labels", "internal", "attachable")


UNORDERED = frozenset({
    "tags", "ipam", "exposed_ports", "config_volumes", "binds", "mounts", "port_bindings", "volumes_from", "links",
    "cap_add", "cap_drop", "devices", "device_cgroup_rules", "device_requests", "security_opt", "ulimits",
    "extra_hosts", "group_add", "networks",
})
"""List fields whose order carries no meaning (dns, cmd and entrypoint keep theirs)."""

_MODE_NOT_COMPARED = frozenset({"ro", "rw", "z", "Z", "private", "rprivate", "shared", "rshared", "slave", "rslave"})
"""Mount mode tokens left out: ro/rw and propagation repeat read_only and propagation; z/Z are SELinux relabel
flags, which the engine adds by default to some volume specs and which do nothing on Docker Desktop's VMs."""

_CONTAINER_REF_MODES = ("network_mode", "pid_mode", "ipc_mode", "uts_mode")


@dataclass(frozen=True, slots=True)
class FieldDiff:
    """One field that differs: its value before and after (env: names only; secret label values redacted)."""

    field: str
    before: JSON
    after: JSON


@dataclass(frozen=True, slots=True)
class ObjectResult:
    """The verdict for one object."""

    kind: str
    """One of KINDS."""
    name: str
    """The key: image id, or volume, network or container name."""
    status: str
    """One of STATUSES."""
    diffs: tuple[FieldDiff, ...] = ()
    label: str = ""
    """A readable name where the key is not one (an image's tags)."""
    notes: tuple[str, ...] = ()
    """What could not be compared, such as a volume's content without a digest on one side."""


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Every object of both sides, sorted by kind then key."""

    objects: tuple[ObjectResult, ...] = ()
    notes: tuple[str, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)
    """Status -> number of objects."""

    @property
    def ok(self) -> bool:
        """Nothing missing, nothing different."""
        return not any(o.status in FAILING for o in self.objects)


def carried_fields() -> tuple[str, ...]:
    """The container fields a re-creation carries (CARRIED_FIELDS: one list for the planner and verify)."""
    return tuple(CARRIED_FIELDS)


# ------------------------------------------------------------------------------------------ normalization


def _sort_key(value: JSON) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _resolve(ref: str, by_id: Mapping[str, str]) -> str:
    # A container: mode or volumes-from names its peer by id or name; a re-created peer has a new id.
    if len(ref) >= 12 and all(ch in "0123456789abcdef" for ch in ref):
        for cid, name in by_id.items():
            if cid.startswith(ref):
                return name
    return ref.lstrip("/")


def _mask(fname: str, value: JSON, env_values: bool, secret_values: bool) -> JSON:
    """value with what cannot be compared between the two sides left out: env values digested under different
    keys (names are still compared), and other digested secrets (only their presence is compared)."""
    if fname == "env" and not env_values and isinstance(value, list):
        return [str(e).partition("=")[0] + "=" for e in value]
    if not secret_values and isinstance(value, dict):
        return {k: SECRET if holds_digest(str(v)) else v for k, v in value.items()}
    if not secret_values and isinstance(value, str) and holds_digest(value):
        return SECRET
    return value


def comparable(before: Inventory, after: Inventory) -> tuple[bool, bool, list[str]]:
    """Whether env values, and other secret values, can be compared between the sides (digested with one key,
    or both in clear), with a note for each that cannot."""
    b, a = before.secrets, after.secrets

    def same(kb: str, ka: str) -> bool:
        if b.mode in ("", "clear") and a.mode in ("", "clear"):
            return True
        return b.mode == a.mode == "digest" and kb == ka

    env, other = same(b.env_key_id, a.env_key_id), same(b.key_id, a.key_id)
    why = ("the sides were scanned with different digest keys (another machine or user, docs/secrets.md)"
           if b.mode == a.mode == "digest" else "one side holds digests, the other values in clear")
    notes = []
    if not env:
        notes.append(f"env values not compared, names only: {why}")
    if not other:
        notes.append(f"secret label and option values not compared, only their presence: {why}")
    return env, other, notes


def _normalize(fname: str, value: JSON, c: Container | None, by_id: Mapping[str, str]) -> JSON:
    """The form a field is compared in: engine-assigned parts dropped, ids turned into names, sets sorted."""
    if c is not None:
        if fname == "hostname" and value == c.id[:12]:
            value = ""  # the engine's default hostname is the container's short id: not a setting
        elif fname in _CONTAINER_REF_MODES and isinstance(value, str) and value.startswith("container:"):
            value = "container:" + _resolve(value.split(":", 1)[1], by_id)
        elif fname == "volumes_from" and isinstance(value, list):
            value = [":".join([_resolve(str(v).split(":", 1)[0], by_id), *str(v).split(":", 1)[1:]]) for v in value]
        elif fname == "mounts" and isinstance(value, list):
            value = [_mount(m) for m in value]
        elif fname == "networks" and isinstance(value, list):
            value = [_attachment(a) for a in value]
        elif fname == "env" and isinstance(value, list):
            value = dict(str(e).partition("=")[::2] for e in value)
    if fname in UNORDERED and isinstance(value, list):
        value = sorted(value, key=_sort_key)
    return value


def _mount(m: JSON) -> JSON:
    if not isinstance(m, dict):
        return m
    m = dict(m)
    # spec repeats binds (compared on its own); desktop_source repeats a label; a volume's source is the
    # mountpoint under the engine's data root, which differs from engine to engine.
    m.pop("spec", None)
    m.pop("desktop_source", None)
    if m.get("type") == "volume":
        m.pop("source", None)
    if isinstance(m.get("mode"), str):
        m["mode"] = ",".join(t for t in m["mode"].split(",") if t and t not in _MODE_NOT_COMPARED)
    return m


def _attachment(a: JSON) -> JSON:
    if not isinstance(a, dict):
        return a
    a = dict(a)
    a.pop("network_id", None)  # the network's id is new on a new engine
    a.pop("ip_address", None)  # a dynamic address is the engine's choice; a static one is ipv4_address
    for key in ("aliases", "links", "link_local_ips"):
        if isinstance(a.get(key), list):
            a[key] = sorted(a[key])
    return a


def _diff(fname: str, before: JSON, after: JSON) -> FieldDiff:
    """The diff as shown: only the differing keys of a mapping; env names only; secret-looking values hidden."""
    if fname == "env" and isinstance(before, dict) and isinstance(after, dict):
        keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        return FieldDiff(fname, [k for k in keys if k in before], [k for k in keys if k in after])
    if isinstance(before, dict) and isinstance(after, dict):
        keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        hide = fname in ("labels", "options", "log_opts")

        def side(d: dict[str, JSON]) -> dict[str, JSON]:
            return {k: (REDACTED if hide and (is_secret_name(k) or holds_digest(str(d[k]))) else d[k])
                    for k in keys if k in d}

        return FieldDiff(fname, side(before), side(after))
    return FieldDiff(fname, before, after)


# ------------------------------------------------------------------------------------------------ compare


def _compare_fields(kind: str, name: str, names: tuple[str, ...], before: Any, after: Any,
                    expected: Mapping[tuple[str, str, str], JSON], by_id: tuple[Mapping[str, str], Mapping[str, str]],
                    masks: tuple[bool, bool] = (True, True)) -> list[FieldDiff]:
    out = []
    for fname in names:
        b = expected[(kind, name, fname)] if (kind, name, fname) in expected else to_data(getattr(before, fname))
        a = to_data(getattr(after, fname))
        b, a = _mask(fname, b, *masks), _mask(fname, a, *masks)
        cb = before if isinstance(before, Container) else None
        ca = after if isinstance(after, Container) else None
        nb, na = _normalize(fname, b, cb, by_id[0]), _normalize(fname, a, ca, by_id[1])
        if nb != na:
            out.append(_diff(fname, nb, na))
    return out


def _volume_fields(b: Volume, a: Volume, has_expected: bool) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if has_expected or (b.digest and a.digest):
        return VOLUME_FIELDS, ()
    lacking = [side for side, v in (("before", b), ("after", a)) if not v.digest]
    note = f"content not compared: no digest in {' and '.join(lacking)}"
    return tuple(f for f in VOLUME_FIELDS if f != "digest"), (note,)


def compare(before: Inventory, after: Inventory, *, skipped: Mapping[str, Collection[str]] | None = None,
            expected: Mapping[tuple[str, str, str], JSON] | None = None) -> VerifyResult:
    """Each object of before against after: equal, missing, different, skipped, or extra (only in after)."""
    skipped = skipped or {}
    expected = expected or {}
    # Two networks (or containers) of one name on an old engine are two names on the new one, as the plan
    # made them; keyed by name, each is compared with its own counterpart.
    before, after = unique_names(before), unique_names(after)
    after, store_note = match_image_stores(before, after)
    env_values, secret_values, secret_notes = comparable(before, after)
    container_fields = tuple(f for f in carried_fields() if f in {x.name for x in fields(Container)})
    by_id = ({c.id: c.name for c in before.containers}, {c.id: c.name for c in after.containers})
    sides: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
        "image": ({i.id: i for i in before.images}, {i.id: i for i in after.images}),
        "volume": ({v.name: v for v in before.volumes}, {v.name: v for v in after.volumes}),
        "network": ({n.name: n for n in before.networks if not n.builtin},
                    {n.name: n for n in after.networks if not n.builtin}),
        "container": ({c.name: c for c in before.containers}, {c.name: c for c in after.containers}),
    }
    results: list[ObjectResult] = []
    for kind in KINDS:
        b_side, a_side = sides[kind]
        skip = set(skipped.get(kind) or ())
        for key in sorted(set(b_side) | set(a_side)):
            b, a = b_side.get(key), a_side.get(key)
            obj = b if b is not None else a
            label = ", ".join(sorted(obj.tags)) if isinstance(obj, Image) else ""
            if key in skip or (isinstance(obj, Image) and skip & set(obj.tags)):
                results.append(ObjectResult(kind, key, "skipped", label=label))
            elif a is None:
                results.append(ObjectResult(kind, key, "missing", label=label))
            elif b is None:
                results.append(ObjectResult(kind, key, "extra", label=label))
            else:
                notes: tuple[str, ...] = ()
                if isinstance(b, Image):
                    names: tuple[str, ...] = IMAGE_FIELDS
                elif isinstance(b, Volume):
                    names, notes = _volume_fields(b, a, (kind, key, "digest") in expected)
                elif isinstance(b, Network):
                    names = NETWORK_FIELDS
                else:
                    names = (*container_fields, "running")
                diffs = _compare_fields(kind, key, names, b, a, expected, by_id, (env_values, secret_values))
                results.append(ObjectResult(kind, key, "different" if diffs else "equal", tuple(diffs), label, notes))
    counts = {s: sum(1 for r in results if r.status == s) for s in STATUSES}
    unread = [f"{side}: {n.subject}: {n.message}" for side, inv in (("before", before), ("after", after))
              for n in inv.notes if n.area == "volumes"]
    return VerifyResult(objects=tuple(results), notes=(*store_note, *secret_notes, *unread),
                        counts=counts)


def store_of(inv: Inventory) -> str:
    """containerd or classic: the image store of the engine the inventory was read from."""
    return image_store(inv.engine.driver_status) if inv.engine is not None else "classic"


def match_image_stores(before: Inventory, after: Inventory) -> tuple[Inventory, tuple[str, ...]]:
    """after with its image ids as before names the same images, when the two sides' image stores differ.

    The classic store's image id is the config digest, the containerd store's the manifest (or index) digest
    (moby/moby#48401), so an image moved between them has another id. Its content, the RootFS diff ids, is the
    same: an after image is before's image with equal diff ids and a tag in common (or, untagged on both sides,
    the one before image of those diff ids). What matches nothing keeps its id (and is reported missing/extra).
    """
    b_store, a_store = store_of(before), store_of(after)
    if b_store == a_store:
        return after, ()
    by_content: dict[tuple[str, ...], list[Image]] = {}
    for im in before.images:
        if im.layers:
            by_content.setdefault(im.layers, []).append(im)
    mapping: dict[str, str] = {}
    for im in after.images:
        candidates = by_content.get(im.layers, []) if im.layers else []
        pick = next((b for b in candidates if set(b.tags) & set(im.tags)), None)
        untagged = [b for b in candidates if not b.tags]
        if pick is None and not im.tags and len(untagged) == 1:
            pick = untagged[0]
        if pick is not None:
            mapping[im.id] = pick.id
    if not mapping:
        return after, (f"the image stores differ (before {b_store}, after {a_store}) and no image matched by tag "
                       "and content",)
    images = tuple(replace(im, id=mapping.get(im.id, im.id), parent=mapping.get(im.parent, im.parent))
                   for im in after.images)
    containers = tuple(replace(c, image_id=mapping.get(c.image_id, c.image_id)) for c in after.containers)
    note = (f"image ids compared by tag and content (RootFS diff ids): before uses the {b_store} image store, after "
            f"the {a_store} one, whose ids differ ({len(mapping)} image(s) matched)")
    return replace(after, images=images, containers=containers), (note,)


def plan_skips(plan: Any) -> dict[str, set[str]]:
    """Kind -> keys of the objects a plan (migrate.plan.model.Plan) leaves behind (strategy 'skip'), the LCOW
    host's second engine's too (by the names they have on the new engine)."""
    engines = (plan, *((plan.hyperv,) if getattr(plan, "hyperv", None) is not None else ()))
    return {
        "image": {i.id for e in engines for i in e.images if i.strategy == "skip"},
        "volume": {v.name for e in engines for v in e.volumes if v.strategy == "skip"},
        "network": {n.name for e in engines for n in e.networks if n.strategy == "skip"},
        "container": {c.name for e in engines for c in e.containers if c.strategy == "skip"},
    }


def result_data(result: VerifyResult) -> JSON:
    """The result as JSON data: ok, counts, notes, and every object with its differences."""
    return {"ok": result.ok, "counts": dict(result.counts), "notes": list(result.notes),
            "objects": [to_data(o) for o in result.objects]}
