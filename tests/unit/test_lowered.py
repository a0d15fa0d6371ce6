"""The tlp-lowered audit subject (services.lowered): grouped, bounded, every value counted."""

from registry.services import lowered as mod
from registry.services.lowered import Lowered


def test_values_are_grouped_by_what_and_levels():
    lowered = Lowered()
    assert not lowered and lowered.subject() == []
    lowered.add("sighting", "a.example", "red", "green")
    lowered.add("assertion", "b.example", "amber", "green")
    lowered.add("assertion", "c.example", "amber", "green")
    more = Lowered()
    more.add("assertion", "d.example", "amber", "green")
    lowered.extend(more)
    assert lowered.count == 4
    assert lowered.subject() == [
        {"of": "assertion", "from": "amber", "to": "green", "values": ["b.example", "c.example", "d.example"]},
        {"of": "sighting", "from": "red", "to": "green", "values": ["a.example"]},
    ]


def test_past_the_bound_values_are_only_counted(monkeypatch):
    monkeypatch.setattr(mod, "MAX_LISTED", 2)
    lowered = Lowered()
    for n in range(5):
        lowered.add("assertion", f"{n}.example", "amber", "clear")
    merged = Lowered()
    merged.extend(lowered)
    for group in (lowered, merged):
        assert group.count == 5
        assert group.subject() == [{"of": "assertion", "from": "amber", "to": "clear",
                                    "values": ["0.example", "1.example"], "omitted": 3}]
