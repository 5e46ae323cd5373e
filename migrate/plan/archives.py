"""Which saved images share a `docker save` archive, and how many bytes the archives write."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SavedImage:
    """An image the plan saves: its id, layer diff ids (bottom first) and total size."""

    id: str
    layers: tuple[str, ...]
    size: int


def group(images: Sequence[SavedImage]) -> list[list[str]]:
    """Images that share any layer, transitively, go into one archive (a layer is then written once).

    Images with nothing in common go into separate archives: the bytes are the same as one big archive, and a
    failed or corrupted archive costs less to redo. Groups are ordered by their smallest id, ids sorted inside.
    """
    parent = {im.id: im.id for im in images}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    owner: dict[str, str] = {}
    for im in sorted(images, key=lambda i: i.id):
        for layer in im.layers:
            if layer in owner:
                a, b = find(owner[layer]), find(im.id)
                if a != b:
                    parent[max(a, b)] = min(a, b)
            else:
                owner[layer] = im.id
    groups: dict[str, list[str]] = {}
    for im in images:
        groups.setdefault(find(im.id), []).append(im.id)
    return sorted((sorted(g) for g in groups.values()), key=lambda g: g[0])


def unique_bytes(images: Sequence[SavedImage]) -> int:
    """The least bytes the images' layers can take, from their total sizes and shared layer prefixes.

    Layer sizes are not in the inventory, only each image's total. Over the trie of layer lists, an image's size
    is the sum of its path; the smallest total consistent with every image puts as much of the size as possible on
    the shared part of a path (the minimum over the images below it), which is what a single copy of each shared
    layer costs. Exact when every shared base is itself an image; a lower bound otherwise.
    """
    root: dict = {}
    # An image without a layer list shares nothing anyone can see: all of it is written.
    bare = sum(im.size for im in images if not im.layers)
    for im in images:
        if not im.layers:
            continue
        node = root
        for layer in im.layers:
            node = node.setdefault(layer, {})
        node["\0size"] = min(node.get("\0size", im.size), im.size)

    memo: dict[int, int | None] = {}

    def below(node: dict) -> int | None:
        """The smallest image size at or under node (post-order, iterative: layer lists can be long)."""
        todo = [(node, False)]
        while todo:
            n, done = todo.pop()
            if id(n) in memo:
                continue
            kids = [c for k, c in n.items() if k != "\0size"]
            if not done:
                todo.append((n, True))
                todo.extend((c, False) for c in kids if id(c) not in memo)
                continue
            sizes = [n["\0size"]] if "\0size" in n else []
            sizes += [m for m in (memo[id(c)] for c in kids) if m is not None]
            memo[id(n)] = min(sizes) if sizes else None
        return memo[id(node)]

    total = 0
    stack: list[tuple[dict, int]] = [(root, 0)]
    while stack:
        node, used = stack.pop()
        for k, child in node.items():
            if k == "\0size":
                continue
            m = below(child)
            take = max(0, (m if m is not None else used) - used)
            total += take
            stack.append((child, used + take))
    return total + bare


def estimate(images: Sequence[SavedImage]) -> tuple[int, int, int]:
    """(bytes the planned archives write, unique-layer lower bound, bytes of one archive per image)."""
    by_id = {im.id: im for im in images}
    planned = sum(unique_bytes([by_id[i] for i in g]) for g in group(images))
    return planned, unique_bytes(images), sum(im.size for im in images)
