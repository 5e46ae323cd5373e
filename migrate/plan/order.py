"""Ordering from real dependencies: start dependencies first, stop dependents first, deterministically."""
from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping


def start_order(nodes: Iterable[str], deps: Mapping[str, Iterable[str]]) -> tuple[list[str], list[str]]:
    """Nodes with every dependency before its dependents; ties by name. Returns (order, cycle_breaks).

    Dependencies on nodes outside `nodes` are ignored (a skipped container is not waited for). A cycle (which
    docker itself does not allow, but a hand-edited plan might) is broken at its smallest name, and the names
    where it was broken are returned so the caller can say so.
    """
    members = set(nodes)
    needs: dict[str, set[str]] = {n: {d for d in deps.get(n, ()) if d in members and d != n} for n in members}
    users: dict[str, set[str]] = {n: set() for n in members}
    for n, ds in needs.items():
        for d in ds:
            users[d].add(n)
    ready = [n for n, ds in needs.items() if not ds]
    heapq.heapify(ready)
    order: list[str] = []
    breaks: list[str] = []
    remaining = dict(needs)
    while remaining:
        if not ready:
            victim = min(remaining)
            breaks.append(victim)
            remaining[victim] = set()
            ready.append(victim)
        n = heapq.heappop(ready)
        if n not in remaining:
            continue
        del remaining[n]
        order.append(n)
        for u in sorted(users[n]):
            if u in remaining:
                remaining[u].discard(n)
                if not remaining[u]:
                    heapq.heappush(ready, u)
    return order, breaks


def stop_order(nodes: Iterable[str], deps: Mapping[str, Iterable[str]]) -> list[str]:
    """Dependents before what they depend on: the start order reversed."""
    return list(reversed(start_order(nodes, deps)[0]))
