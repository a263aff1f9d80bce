"""The start-up heap is set aside for the garbage collector, without keeping garbage alive."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from bot.heap import settle_heap


class _Node:
    """A tracked object that can be part of a reference cycle and be weakly referenced."""

    def __init__(self) -> None:
        self.other: _Node | None = None


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """Give the frozen objects back to the collector after the test (other tests run on)."""
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("unfrozen")
def test_live_objects_are_frozen_and_start_up_garbage_is_freed_first() -> None:
    alive = _Node()
    garbage = _Node()
    garbage.other = _Node()
    garbage.other.other = garbage  # a cycle: only the collector frees it
    gone = weakref.ref(garbage)
    del garbage

    frozen = settle_heap()

    assert gone() is None  # collected before the freeze, not kept forever
    assert frozen == gc.get_freeze_count() > 0
    # The permanent generation is not among the objects the collector walks.
    assert not any(candidate is alive for candidate in gc.get_objects())


@pytest.mark.usefixtures("unfrozen")
def test_cycles_made_after_the_freeze_are_still_collected() -> None:
    settle_heap()
    later = _Node()
    later.other = _Node()
    later.other.other = later
    gone = weakref.ref(later)
    del later

    gc.collect()

    assert gone() is None
