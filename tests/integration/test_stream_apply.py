"""A peer's events applied here (``services.stream_apply``), on both engines, without the HTTP
between: what each type becomes, what is passed and why, events that cannot be applied, copies
made before the source's org existed here, a relisting after a delisting, sighting counts."""

from __future__ import annotations

from datetime import timedelta

from registry import config
from registry.domain import standing
from registry.domain.times import iso, utcnow
from registry.services.orgs import add_org
from registry.services.stream_apply import APPLIED, REJECTED, SKIPPED, Applier
from registry.storage import feeds as feed_store
from tests.feeds import stream_support as s
from tests.feeds.support import add_feed

HOST = "hub-a.example:8443"


def applier(db) -> Applier:
    add_feed(db, s.FEED, f"https://{HOST}/api/v1/events/stream", "registry-stream", provider="hub-a",
             auth_header_env=s.KEY_ENV, confidence=45, reliability="C")
    with db.read() as conn:
        return Applier(feed_store.get(conn, s.FEED), config.load())


def event(seq: int, type_: str, value: str, source: str = "pdrm-my", **item) -> dict:
    body = "sighting" if type_ == "sighting.recorded" else "assertion"
    return {"seq": seq, "type": type_, "time": iso(utcnow()), "kind": "domain", "value": value, "org": source,
            "tlp": item.get("tlp", "green"), "watches": [], body: {"source": source, **item}}


def apply(db, app: Applier, *events: dict) -> list[str]:
    with db.write() as conn:
        return [app.apply(conn, e, utcnow()) for e in events]


def test_each_type_applied_or_passed(db):
    app = applier(db)
    add_org(db, "ccib-th", "Royal Thai Police CCIB", "TH")
    outcomes = apply(db, app,
                     event(1, "indicator.reported", "a.fed.example", "ccib-th", confidence=80, labels=["Phishing"]),
                     event(2, "indicator.reported", "b.fed.example"),  # bare: the feed's defaults
                     event(3, "lookup.hit", "a.fed.example", "ccib-th", count=3),
                     event(4, "indicator.disputed", "a.fed.example", "ccib-th"),
                     event(5, "feed.failed", None),
                     event(6, "indicator.reported", "c.fed.example", feed="stream:elsewhere.example"))
    assert outcomes == [APPLIED, APPLIED, SKIPPED, SKIPPED, SKIPPED, SKIPPED]
    a, b = s.only_copy(db, "a.fed.example"), s.only_copy(db, "b.fed.example")
    assert (a.source, a.feed, a.confidence, a.labels, a.reliability) == ("ccib-th", f"stream:{HOST}", 80,
                                                                         ",phishing,", "C")
    assert (b.source, b.feed, b.confidence) == ("hub-a", f"stream:{HOST}/@pdrm-my", 45)
    assert s.copies(db, "c.fed.example") == []  # second-hand at the peer: never echoed
    assert (app.report.read, app.report.new) == (6, 2)
    # delisted at the peer, then relisted there (a person's decision): in force here again, once more
    apply(db, app, event(7, "indicator.delisted", "a.fed.example", "ccib-th"))
    assert s.only_copy(db, "a.fed.example").end_reason == standing.DELISTED
    apply(db, app, event(8, "indicator.reported", "a.fed.example", "ccib-th", confidence=70))
    a = s.only_copy(db, "a.fed.example")
    assert (a.end_reason, a.confidence, a.times_reported) == (None, 70, 2)


def test_events_that_cannot_be_applied_are_rejected_and_passed(db):
    app = applier(db)
    outcomes = apply(db, app, {"seq": 7, "type": "indicator.reported", "kind": "domain", "tlp": "green"},
                     event(8, "indicator.reported", "not a value at all", tlp="green"),
                     event(9, "indicator.reported", "d.fed.example", valid_until="next week"),
                     "{broken json",
                     event(10, "indicator.reported", "d.fed.example"))
    assert outcomes == [REJECTED, APPLIED, REJECTED, REJECTED, APPLIED]  # a bad value: the submit rejects it
    assert app.report.rejected == 4
    reasons = {r.line_no: r.reason for r in app.report.rejects}
    assert "names a value" in reasons[7] and "valid_until 'next week'" in reasons[9]
    assert s.only_copy(db, "d.fed.example").times_reported == 1


def test_ends_reach_the_copy_even_one_made_before_its_org_existed_here(db):
    app = applier(db)
    apply(db, app, event(1, "indicator.reported", "e.fed.example"), event(2, "indicator.reported", "f.fed.example"))
    add_org(db, "pdrm-my", "Royal Malaysia Police", "MY")  # from now on its reports are its own here
    past = utcnow() - timedelta(hours=1)
    apply(db, app, event(3, "indicator.expired", "e.fed.example", valid_until=iso(past), ended=iso(past)),
          event(4, "indicator.delisted", "f.fed.example"),
          event(5, "indicator.expired", "nothing-here.fed.example"))
    e, f = s.only_copy(db, "e.fed.example"), s.only_copy(db, "f.fed.example")
    assert e.source == "hub-a" and standing.ended(e.valid_until, e.review_at, e.end_reason, utcnow()) == "expired"
    assert abs((e.valid_until - past).total_seconds()) < 1
    assert f.end_reason == standing.DELISTED
    assert (app.expired, app.report.unchanged) == (2, 1)
    # the peer relists it: reported by pdrm-my, now an org here, so its own copy; the old one stays ended
    apply(db, app, event(6, "indicator.reported", "f.fed.example", confidence=50))
    old, new = s.copies(db, "f.fed.example")
    assert (old.source, old.end_reason) == ("hub-a", standing.DELISTED)
    assert (new.source, new.feed, new.end_reason) == ("pdrm-my", f"stream:{HOST}", None)


def test_sightings_count_what_the_peers_sighting_grew_by(db):
    app = applier(db)
    apply(db, app, event(1, "sighting.recorded", "g.fed.example", count=3, case_ref="C-1"),
          event(2, "sighting.recorded", "g.fed.example", count=5, case_ref="C-1"),
          event(3, "sighting.recorded", "g.fed.example", count=5, case_ref="C-1"),  # nothing new
          event(4, "sighting.recorded", "g.fed.example", count=99, added=2, case_ref="C-1"))
    assert s.sightings_of(db, "g.fed.example") == [("hub-a", f"stream:{HOST}/@pdrm-my/C-1", 7)]
    assert (app.report.new, app.report.updated, app.report.unchanged) == (1, 2, 1)
