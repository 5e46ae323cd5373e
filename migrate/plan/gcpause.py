"""A decorator that pauses Python's cyclic garbage collector while a plan, a program or a runbook is built."""
from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def gc_paused(fn: Callable[P, R]) -> Callable[P, R]:
    """fn run with the cyclic collector paused, then the objects it made scanned once.

    Why: building a plan of 10,000 containers makes millions of small objects, almost none in a reference cycle,
    and with the inventory alive the collector's full passes over the whole heap took a third of the time (six at
    0.1 s each in one build of 100,000 steps). Reference counting still frees everything as usual; the one young-
    generation pass at the end costs what the function made, so its time stays linear and nothing is left for the
    caller's next allocation to pay. Nested calls pause once.
    """
    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        if not gc.isenabled():
            return fn(*args, **kwargs)
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            gc.collect(1)
            gc.enable()
    return run
