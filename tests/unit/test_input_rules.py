"""The pure rules under point 11 and 12: the spreadsheet guard and its exact inverse, and the JSON
nesting bound with where it is crossed."""

from __future__ import annotations

import pytest

from registry.domain import json_input
from registry.domain.spreadsheet import guard, unguard

CELLS = ["", "evil.example", "+66812345678", "-1", "=SUM(A1)", "@x", "\tx", "\rx", "\nx", "'", "''", "'=x",
         "'plain", "\uff1d1+2", "\uff0b1", "\uff0d1", "\uff20x", "x=1", " =1"]


@pytest.mark.parametrize("cell", CELLS)
def test_guard_is_inert_and_unguard_gives_the_value_back(cell):
    guarded = guard(cell)
    assert guarded[:1] not in set("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
    assert unguard(guarded) == cell
    assert (guarded == cell) == (cell[:1] not in set("=+-@\t\r\n'\uff1d\uff0b\uff0d\uff20"))


def test_a_hundred_levels_are_read_and_the_next_is_refused_where_it_opens():
    assert json_input.loads("[" * 100 + "]" * 100) is not None
    text = '{"a": "[[[[[[", "b":\n  ' + "[" * 100 + "]" * 100 + "}"
    with pytest.raises(json_input.TooDeep) as deep:
        json_input.loads(text.encode())
    # Brackets inside strings do not count; the object is level 1, so the 100th "[" opens level 101.
    assert (deep.value.line, deep.value.column) == (2, 3 + 99)
    assert str(deep.value) == "JSON nested deeper than 100 levels (line 2, column 102)"
    with pytest.raises(json_input.TooDeep):
        json_input.loads("[" * 5000 + "]" * 5000)  # past orjson's own limit: the same error


def test_bad_json_says_what_and_where_in_one_line():
    with pytest.raises(json_input.JSONInputError) as bad:
        json_input.loads('{"a": 1,\n "b": }')
    assert not isinstance(bad.value, json_input.TooDeep)
    assert (bad.value.line, bad.value.column) == (2, 7) and "\n" not in str(bad.value)
    assert str(bad.value).startswith("not JSON: ")
