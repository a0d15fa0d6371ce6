"""The collector pause around bulk work: off inside, back on after; it only switches the
collector, so what the block left alive is the collector's as usual and nothing is frozen."""

from __future__ import annotations

import gc

import pytest

from registry.services import collector


@pytest.fixture(autouse=True)
def _restore_gc():
    was_enabled = gc.isenabled()
    yield
    gc.unfreeze()
    (gc.enable if was_enabled else gc.disable)()


def _made_inside() -> list:
    with collector.paused():
        assert not gc.isenabled()
        kept = [[i] for i in range(1000)]  # GC-tracked containers that outlive the block
    assert gc.isenabled()
    return kept


def test_objects_left_alive_stay_the_collectors_and_nothing_is_frozen():
    gc.enable()
    gc.collect()
    kept = _made_inside()
    assert all(gc.is_tracked(o) for o in kept)
    assert gc.get_freeze_count() == 0
    gc.collect()  # a full pass reaches them as it reaches any object
    assert gc.get_freeze_count() == 0 and len(kept) == 1000


def test_a_deliberate_freeze_is_left_alone():
    gc.enable()
    gc.collect()
    frozen_before = [[i] for i in range(100)]
    gc.freeze()
    count = gc.get_freeze_count()
    kept = _made_inside()
    assert gc.get_freeze_count() == count  # the web server's start-up objects stay frozen
    assert frozen_before and kept


def test_off_before_stays_off_and_when_false_changes_nothing():
    gc.disable()
    with collector.paused():
        assert not gc.isenabled()
    assert not gc.isenabled()
    gc.enable()
    with collector.paused(False):
        assert gc.isenabled()
    assert gc.isenabled()
