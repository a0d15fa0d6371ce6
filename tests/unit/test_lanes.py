"""Where a write goes (domain.lanes): the rule alone, over rows given as (lane, tlp)."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from registry.domain import lanes
from registry.domain.tlp import LEVELS, Viewer

ORG = "ccib-th"
RED_KEY, GREEN_KEY, AMBER_STRICT_KEY = Viewer(ORG, "red"), Viewer(ORG, "green"), Viewer(ORG, "amber+strict")


class Row(NamedTuple):
    lane: int
    tlp: str


def test_the_first_row_is_the_ordinary_one_whoever_writes():
    for viewer in (None, RED_KEY, GREEN_KEY, AMBER_STRICT_KEY):
        assert lanes.choose([], viewer, ORG, "red") == lanes.Choice(lanes.ORDINARY)


@pytest.mark.parametrize("viewer", [None, RED_KEY], ids=["operator", "red key"])
def test_who_sees_every_level_updates_the_ordinary_row(viewer):
    rows = [Row(0, "red"), Row(lanes.own_lane("green", "green"), "green")]
    assert lanes.choose(rows, viewer, ORG, "clear") == lanes.Choice(0, rows[0])
    assert lanes.sees_every_level(viewer, ORG)


def test_a_visible_row_is_updated_and_answered_as_it_is():
    rows = [Row(0, "green")]
    assert lanes.choose(rows, GREEN_KEY, ORG, "clear") == lanes.Choice(0, rows[0], as_new=False)


def test_a_hidden_row_is_never_chosen_the_writer_gets_a_row_of_its_own():
    rows = [Row(0, "red")]
    choice = lanes.choose(rows, GREEN_KEY, ORG, "green")
    assert choice == lanes.Choice(lanes.own_lane("green", "green"), None, as_new=True)
    # Once there, the writer's own row is what it sees and updates.
    rows.append(Row(choice.lane, "green"))
    assert lanes.choose(rows, GREEN_KEY, ORG, "green") == lanes.Choice(choice.lane, rows[1])


def test_the_lowest_visible_lane_wins():
    rows = [Row(0, "red"), Row(lanes.own_lane("amber+strict", "amber"), "amber"),
            Row(lanes.own_lane("green", "green"), "green")]
    assert lanes.choose(rows, GREEN_KEY, ORG, "green").row == rows[2]
    assert lanes.choose(rows, AMBER_STRICT_KEY, ORG, "green").row == min(rows[1:], key=lambda r: r.lane)


def test_a_blind_write_repeats_into_its_own_row_and_still_answers_new():
    """An AMBER+STRICT key reporting RED cannot see what it wrote: its repeats go to one row."""
    first = lanes.choose([Row(0, "red")], AMBER_STRICT_KEY, ORG, "red")
    blind = lanes.own_lane("amber+strict", "red")
    assert first == lanes.Choice(blind, None, as_new=True) and lanes.is_blind(blind)
    rows = [Row(0, "red"), Row(blind, "red")]
    assert lanes.choose(rows, AMBER_STRICT_KEY, ORG, "red") == lanes.Choice(blind, rows[1], as_new=True)


def test_a_blind_row_is_only_its_writers():
    """No other write takes a blind row as the row it sees, so its level never changes."""
    blind = lanes.own_lane("green", "amber")
    rows = [Row(0, "red"), Row(blind, "amber")]
    for viewer in (AMBER_STRICT_KEY, Viewer(ORG, "amber")):
        choice = lanes.choose(rows, viewer, ORG, "amber")
        assert choice.row is None and choice.lane not in (0, blind)
    # Another level from the same cap is another blind row.
    assert lanes.choose(rows, GREEN_KEY, ORG, "amber+strict").lane == lanes.own_lane("green", "amber+strict")


def test_an_own_lane_raised_out_of_sight_is_left_for_a_spare_one():
    own = lanes.own_lane("green", "green")
    rows = [Row(0, "red"), Row(own, "amber")]  # someone who saw the green row raised it
    choice = lanes.choose(rows, GREEN_KEY, ORG, "green")
    assert choice.row is None and choice.lane >= lanes.SPARE and choice.as_new
    rows.append(Row(choice.lane, "green"))
    assert lanes.choose(rows, GREEN_KEY, ORG, "green").row == rows[-1]


def test_lanes_of_caps_and_levels_are_distinct_and_blind_exactly_above_the_cap():
    numbers = {(cap, level): lanes.own_lane(cap, level) for cap in LEVELS for level in LEVELS}
    assert len(set(numbers.values())) == len(numbers) and min(numbers.values()) > lanes.ORDINARY
    assert max(numbers.values()) < lanes.SPARE
    for (cap, level), lane in numbers.items():
        assert lanes.is_blind(lane) == (LEVELS.index(level) > LEVELS.index(cap))
    assert not lanes.is_blind(lanes.ORDINARY) and not lanes.is_blind(lanes.SPARE)
