"""Ordering properties over generated dependency graphs, and the archive grouping / byte estimates."""
from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from migrate.plan.archives import SavedImage, estimate, group, unique_bytes
from migrate.plan.order import start_order, stop_order

names = st.lists(st.text("abcdefgh", min_size=1, max_size=3), min_size=1, max_size=12, unique=True)


@st.composite
def dags(draw: st.DrawFn) -> tuple[list[str], dict[str, list[str]]]:
    """A random DAG: each node may depend only on nodes drawn before it (in a shuffled naming)."""
    nodes = draw(names)
    rank = draw(st.permutations(nodes))
    deps: dict[str, list[str]] = {}
    for i, n in enumerate(rank):
        deps[n] = draw(st.lists(st.sampled_from(rank[:i]), unique=True)) if i else []
        deps[n] += draw(st.lists(st.sampled_from(["zz-outside", "yy-gone"]), max_size=1))
    return nodes, deps


@given(dags())
@settings(max_examples=300, deadline=None)
def test_dependencies_start_first_and_stop_last(g: tuple[list[str], dict[str, list[str]]]) -> None:
    nodes, deps = g
    order, breaks = start_order(nodes, deps)
    assert sorted(order) == sorted(nodes) and not breaks
    pos = {n: i for i, n in enumerate(order)}
    for n, ds in deps.items():
        for d in ds:
            if d in pos:
                assert pos[d] < pos[n], f"{d} must start before {n}"
    stop = stop_order(nodes, deps)
    spos = {n: i for i, n in enumerate(stop)}
    for n, ds in deps.items():
        for d in ds:
            if d in spos:
                assert spos[n] < spos[d], f"{n} must stop before {d}"


@given(dags(), st.randoms())
@settings(max_examples=100, deadline=None)
def test_order_does_not_depend_on_input_order(g: tuple[list[str], dict[str, list[str]]], rnd) -> None:
    nodes, deps = g
    shuffled = list(nodes)
    rnd.shuffle(shuffled)
    shuffled_deps = {k: list(reversed(v)) for k, v in reversed(list(deps.items()))}
    assert start_order(nodes, deps) == start_order(shuffled, shuffled_deps)


def test_a_cycle_is_broken_and_reported() -> None:
    order, breaks = start_order(["a", "b", "c"], {"a": ["b"], "b": ["a"], "c": ["a"]})
    assert sorted(order) == ["a", "b", "c"] and breaks == ["a"]
    assert order.index("a") < order.index("c")


def test_ties_follow_names() -> None:
    assert start_order(["web", "db", "cache"], {"web": ["db"]})[0] == ["cache", "db", "web"]


def test_images_sharing_a_layer_share_an_archive() -> None:
    imgs = [SavedImage("a", ("base", "x"), 10), SavedImage("b", ("base", "y"), 12), SavedImage("c", ("z",), 5),
            SavedImage("d", ("y2", "base"), 7)]
    assert group(imgs) == [["a", "b", "d"], ["c"]]


def test_unique_bytes_is_exact_when_the_base_is_an_image() -> None:
    base = SavedImage("base", ("l1", "l2"), 100)
    app1 = SavedImage("app1", ("l1", "l2", "a"), 130)
    app2 = SavedImage("app2", ("l1", "l2", "b"), 150)
    assert unique_bytes([base, app1, app2]) == 100 + 30 + 50
    planned, lower, per_image = estimate([base, app1, app2])
    assert (planned, lower, per_image) == (180, 180, 380)


@given(st.lists(st.tuples(st.lists(st.sampled_from("pqrstu"), min_size=1, max_size=4, unique=True),
                          st.lists(st.integers(0, 50), min_size=4, max_size=4)), min_size=1, max_size=6))
@settings(max_examples=200, deadline=None)
def test_unique_bytes_is_a_lower_bound_for_any_true_layer_sizes(raw) -> None:
    """Give every layer a real size, derive image totals, and check the estimate never exceeds the truth.

    A layer is identified by its chain (docker stores the same diff on a different parent as another layer), so
    layer names here are the chain of names up to them.
    """
    sizes: dict[str, int] = {}
    imgs = []
    for i, (names_, ls) in enumerate(raw):
        layers = ["/".join(names_[: j + 1]) for j in range(len(names_))]
        for layer, size in zip(layers, ls, strict=False):
            sizes.setdefault(layer, size)
        imgs.append(SavedImage(f"i{i}", tuple(layers), sum(sizes[x] for x in layers)))
    truth = sum(sizes[x] for x in set(itertools.chain.from_iterable(im.layers for im in imgs)))
    lb = unique_bytes(imgs)
    assert max(im.size for im in imgs) <= lb <= truth
