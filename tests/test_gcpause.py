"""gc_paused: the collector is off inside, back on after (also after an error), untouched when it was off; nothing
is left frozen."""
from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from migrate.plan.gcpause import gc_paused


@gc_paused
def _state() -> bool:
    return gc.isenabled()


@gc_paused
def _nested() -> tuple[bool, bool]:
    return _state(), gc.isenabled()


@gc_paused
def _fails() -> None:
    raise ValueError("boom")


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield None
    if not was:
        gc.disable()


def test_paused_inside_and_back_on_after(collector_on: None) -> None:
    assert _state() is False
    assert gc.isenabled()


def test_nested_calls_stay_paused_until_the_outer_one_returns(collector_on: None) -> None:
    assert _nested() == (False, False)
    assert gc.isenabled()


def test_back_on_after_an_error(collector_on: None) -> None:
    with pytest.raises(ValueError, match="boom"):
        _fails()
    assert gc.isenabled()


def test_left_off_when_the_caller_turned_it_off(collector_on: None) -> None:
    gc.disable()
    try:
        assert _state() is False
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_what_it_made_is_left_unfrozen_and_its_cycles_collected(collector_on: None) -> None:
    """Nothing stays in the permanent generation, so a full collection finds a cycle the function left behind."""
    import weakref

    class Node:
        other: object = None

    @gc_paused
    def make() -> weakref.ref[Node]:
        a, b = Node(), Node()
        a.other, b.other = b, a
        return weakref.ref(a)

    gc.collect()
    ref = make()
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert ref() is None


def test_objects_another_caller_froze_stay_frozen(collector_on: None) -> None:
    gc.collect()
    frozen = [object(), [1]]  # a tracked object, frozen by "someone else"
    gc.freeze()
    try:
        before = gc.get_freeze_count()
        assert before > 0 and frozen
        assert _state() is False
        assert gc.get_freeze_count() == before
    finally:
        gc.unfreeze()
