"""gc_paused: the collector is off inside, back on after (also after an error), untouched when it was off."""
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


def test_cycles_made_inside_are_collected_after(collector_on: None) -> None:
    """The young pass at the end finds a reference cycle the function left behind."""
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
    assert ref() is None
