"""A peer registry's events as a registry-stream feed reads them (``domain.peer_events``), and the
catalogue's checks of such a feed (docs/feeds.md, "Registry streams")."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from registry.domain import peer_events as pe
from registry.ingest.catalogue import STREAM_SCHEDULE, CatalogueError, definition, stream_base

REPORT = {"seq": 41, "type": "indicator.reported", "time": "2026-11-01T10:00:00Z", "kind": "domain",
          "value": "kbank-verify.example", "org": "ccib-th", "tlp": "green", "watches": [],
          "assertion": {"source": "ccib-th", "feed": None, "confidence": 80, "tlp": "green", "labels": ["phishing"],
                        "description": "fake bank", "first_seen": "2026-10-30T00:00:00Z", "last_seen": None,
                        "valid_until": "2027-01-01T00:00:00Z", "times_reported": 1, "reliability": "B",
                        "credibility": 2}}


def test_a_report_is_read_with_its_assertion():
    event = pe.read_event(REPORT)
    assert (event.seq, event.type, event.kind, event.value, event.tlp, event.source) == (
        41, "indicator.reported", "domain", "kbank-verify.example", "green", "ccib-th")
    assert event.applied and not event.second_hand
    assert event.whole("confidence", 0, 100) == 80 and event.labels() == ("phishing",)
    assert event.when("valid_until") == datetime(2027, 1, 1, tzinfo=UTC)
    assert event.grading() == ("B", 2) and event.text("description") == "fake bank"
    assert event.time == datetime(2026, 11, 1, 10, tzinfo=UTC)


def test_optional_fields_may_be_missing():
    bare = {"seq": 7, "type": "indicator.reported", "kind": "domain", "value": "x.example", "org": "pdrm-my",
            "tlp": "amber"}
    event = pe.read_event(bare)
    assert event.source == "pdrm-my" and event.item == {} and event.time is None
    assert event.whole("confidence", 0, 100) is None and event.labels() == () and event.when("valid_until") is None
    assert event.grading() == (None, None)
    # an anonymous actor: the assertion's source still names who holds it
    assert pe.read_event({**REPORT, "org": None}).source == "ccib-th"
    # the sequence number from the SSE message's id when the data has none
    assert pe.read_event({k: v for k, v in bare.items() if k != "seq"}, 9).seq == 9


def test_types_not_applied_are_read_without_checks():
    for type_ in ("lookup.hit", "feed.failed", "feed.flagged", "indicator.disputed", "webhook.disabled",
                  "something.new"):
        event = pe.read_event({"seq": 3, "type": type_, "value": None, "tlp": "weird"})
        assert not event.applied


@pytest.mark.parametrize(("change", "said"), [
    ({"value": None}, "names a value"),
    ({"value": "  "}, "names a value"),
    ({"kind": "sha512"}, "kind 'sha512'"),
    ({"tlp": "pink", "assertion": {}}, "tlp 'pink'"),
    ({"time": "yesterday"}, "time 'yesterday'"),
    ({"seq": -1}, "seq -1"),
    ({"seq": "12"}, "seq '12'"),
    ({"type": None}, "has a type"),
])
def test_an_event_that_cannot_be_applied_says_why(change, said):
    with pytest.raises(pe.BadEvent, match=said):
        pe.read_event({**REPORT, **change})


def test_bad_fields_of_the_assertion_say_why():
    event = pe.read_event({**REPORT, "assertion": {**REPORT["assertion"], "confidence": 101,
                                                   "valid_until": "soon", "reliability": "Q"}})
    with pytest.raises(pe.BadEvent, match="confidence 101"):
        event.whole("confidence", 0, 100)
    with pytest.raises(pe.BadEvent, match="valid_until 'soon'"):
        event.when("valid_until")
    with pytest.raises(pe.BadEvent):
        event.grading()
    with pytest.raises(pe.BadEvent, match="JSON object"):
        pe.read_event("not an object")  # type: ignore[arg-type]


def test_what_the_peer_holds_from_a_stream_is_second_hand():
    assert pe.read_event({**REPORT, "assertion": {**REPORT["assertion"], "feed": "stream:b.example"}}).second_hand
    sighted = {"seq": 5, "type": "sighting.recorded", "kind": "domain", "value": "x.example", "tlp": "green",
               "sighting": {"source": "ccib-th", "count": 2, "case_ref": "stream:b.example/C-1"}}
    assert pe.read_event(sighted).second_hand
    assert not pe.read_event({**sighted, "sighting": {"source": "ccib-th", "count": 2}}).second_hand


def test_copy_names_keep_each_of_the_peers_assertions_apart():
    assert pe.copy_name("a.example:8443", "ccib-th", "ccib-th", None) == "stream:a.example:8443"
    assert pe.copy_name("a.example", "ccib-th", "ccib-th", "spamhaus-drop") == "stream:a.example/spamhaus-drop"
    # the source is no org here: held by the provider, named in the copy
    assert pe.copy_name("a.example", "pdrm-my", "hub-a", None) == "stream:a.example/@pdrm-my"
    assert pe.copy_name("a.example", "pdrm-my", "hub-a", "list") == "stream:a.example/@pdrm-my/list"
    assert len(pe.copy_name("a.example", "x", "x", "f" * 300)) == pe.MAX_NAME


def test_stream_base_from_the_base_or_the_stream_url():
    assert stream_base("https://peer.example") == "https://peer.example"
    assert stream_base("https://peer.example/") == "https://peer.example"
    assert stream_base("https://peer.example/api/v1/events/stream") == "https://peer.example"
    assert stream_base("http://10.0.0.5:8000/registry/api/v1/events/stream/") == "http://10.0.0.5:8000/registry"
    for bad in ("ftp://peer.example", "https://peer.example/api/v1/events", "https://peer.example/?scope=all",
                "file:///tmp/x", "https://"):
        with pytest.raises(ValueError):
            stream_base(bad)


def _feed(**fields):
    return definition({"name": "hub-a-stream", "provider": "hub-a", "url": "https://hub-a.example",
                       "format": "registry-stream", "auth_header_env": "HUB_A_KEY", **fields})


def test_the_catalogue_checks_a_registry_stream_feed():
    feed = _feed()
    assert (feed.format, feed.mode, feed.schedule) == ("registry-stream", "incremental", STREAM_SCHEDULE)
    assert _feed(heartbeat_seconds=5, schedule="every 10m").options["heartbeat_seconds"] == 5
    for fields, said in (({"url": "https://hub-a.example/api/v1/events"}, "url: .*not another of its API"),
                         ({"url": "file:///tmp/events"}, "url: .*http"),
                         ({"mode": "snapshot"}, "mode: a registry-stream feed brings changes"),
                         ({"heartbeat_seconds": 0}, "heartbeat_seconds: must be a positive"),
                         ({"token": "x"}, "token: secrets never go in the catalogue")):
        with pytest.raises(CatalogueError, match=said):
            _feed(**fields)
    with pytest.raises(CatalogueError, match="auth_header_env: a registry-stream feed reads the peer with a key"):
        definition({"name": "hub-a-stream", "provider": "hub-a", "url": "https://hub-a.example",
                    "format": "registry-stream"})
