"""tests.helpers.kind_value gives canonical values of every kind, distinct across numbers and kinds."""

from __future__ import annotations

import pytest

from registry.domain.kinds import KINDS
from registry.domain.normalize import normalize_one
from tests.helpers import kind_value


@pytest.mark.parametrize("kind", KINDS)
def test_kind_values_are_canonical_and_detected(kind):
    for n in (0, 1, 249, 250, 59_999):
        value = kind_value(kind, n)
        assert normalize_one(value) == normalize_one(value, kind) and normalize_one(value).value == value
        assert normalize_one(value).kind == kind


def test_kind_values_are_distinct():
    values = [kind_value(kind, n) for kind in KINDS for n in range(300)]
    assert len(set(values)) == len(values)
