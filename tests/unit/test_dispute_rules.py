"""The pure rules of disputes (registry.domain.disputes): who sees one and who sees why, who is
still to decide and when it closes, overdue, the outcome, and the relist window."""

from datetime import UTC, datetime, timedelta

from registry.domain import disputes as rules
from registry.domain.tlp import Viewer

NOW = datetime(2026, 12, 6, tzinfo=UTC)


def test_who_sees_a_dispute_and_who_sees_why():
    reader = Viewer("pnp-ph")
    assert rules.sees(reader, "bank-x", ["ccib-th"]) and not rules.is_party(reader, "bank-x", ["ccib-th"])
    assert not rules.sees(reader, "bank-x", [])  # nothing on the value it may see
    assert rules.sees(Viewer("bank-x"), "bank-x", []) and rules.is_party(Viewer("bank-x"), "bank-x", [])
    assert rules.is_party(Viewer("ccib-th"), "bank-x", ["ccib-th"])
    assert rules.is_party(Viewer.operator(), "bank-x", [])


def test_awaiting_and_closing():
    assert rules.awaiting(["pdrm-my", "ccib-th", "ccib-th"], ["ccib-th"]) == ["pdrm-my"]
    assert not rules.closes(["pdrm-my"], ["ccib-th"]) and rules.closes(["pdrm-my"], ["pdrm-my", "ccib-th"])
    assert rules.closes([], [])  # nothing in force is left to decide on


def test_overdue_outcome_and_the_relist_window():
    assert rules.overdue("open", NOW - timedelta(days=10), None, 10, NOW)
    assert not rules.overdue("open", NOW - timedelta(days=9), None, 10, NOW)
    assert rules.overdue("open", NOW, NOW, 10, NOW) and not rules.overdue("closed", NOW - timedelta(days=30), None, 10, NOW)
    assert [rules.outcome(d) for d in ([], ["delist"], ["uphold", "uphold"], ["delist", "uphold"])] == [
        None, "delisted", "upheld", "mixed"]
    assert rules.held_since(NOW, 30) == NOW - timedelta(days=30) and rules.held_since(NOW, 0) is None
