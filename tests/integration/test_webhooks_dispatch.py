"""The webhook dispatcher on both engines against a real receiver on 127.0.0.1 that verifies each
signature (docs/api.md, "Webhooks"; docs/design.md, "Webhooks and the dispatcher"): delivery in
order with the headers and body promised; a receiver failing (500s, then refusing connections)
and back: every event delivered in order, the same delivery id on every retry; redirects not
followed; disabled after the retry window with a webhook.disabled event to the org, and enabled
again where it stopped; a webhook's watches and its creator's TLP cap; an expired lease of
another dispatcher taken over; the attempts kept bounded."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import text

from registry.domain import events as ev
from registry.domain import webhooks as rules
from registry.domain.times import utcnow
from registry.domain.tlp import AMBER, GREEN, RED, Viewer
from registry.services import events, webhooks
from registry.services.dispatch import Dispatcher, Tuning
from registry.services.errors import Invalid
from registry.services.keys import Principal
from tests.integration.webhook_support import (
    CCIB,
    add_watch,
    emit,
    emit_watched,
    org_ids,
    register,
    webhook_id,
)
from tests.webhook_receiver import Receiver

FAST = Tuning(backoff=rules.Backoff(first=0.05, cap=0.2), timeout=5, sweep_seconds=0.5)


@pytest.fixture
def receiver():
    got = Receiver()
    yield got
    got.close()


@pytest.fixture
def orgs(db):
    return org_ids(db)


def _dispatcher(db, **kwargs) -> Dispatcher:
    return Dispatcher(db, retry_hours=24, allow_loopback=True, tuning=kwargs.pop("tuning", FAST), **kwargs)


def test_each_event_is_posted_in_order_signed_with_its_headers(db, orgs, receiver):
    hook = register(db, receiver)
    seqs = emit(db, orgs["ccib-th"], [f"v{n}.scam.example" for n in range(5)])
    emit(db, orgs["pdrm-my"], ["not-ccibs.example"])  # another org's event: never sent to ccib's webhook
    assert _dispatcher(db).round() == 5
    got = receiver.received
    assert [r.seq for r in got] == seqs and all(r.verified for r in got)
    with db.read() as conn:
        expected, _ = events.read(conn, Viewer("ccib-th", AMBER), orgs["ccib-th"])
    for request, event in zip(got, expected, strict=True):
        assert request.path == "/hook" and request.event == event  # the event as GET /api/v1/events shows it
        assert request.headers["Content-Type"] == "application/json"
        assert request.headers["X-Registry-Event"] == "indicator.reported"
        assert request.headers["X-Registry-Delivery"] == rules.delivery_id(hook["id"], event["seq"])
        assert request.headers["X-Registry-Signature"] == rules.signature(hook["secret"], request.body)
    assert len({r.delivery for r in got}) == 5
    [shown] = webhooks.list_webhooks(db, by=CCIB)
    assert shown["position"] >= seqs[-1] and shown["failures"] == 0 and "secret" not in shown
    attempts = webhooks.deliveries(db, hook["id"], by=CCIB)
    assert [(a["seq"], a["attempt"], a["status"], a["acknowledged"], a["answer"]) for a in attempts] == [
        (seq, 1, 200, True, "thanks") for seq in reversed(seqs)]
    assert all(a["delivery"] == rules.delivery_id(hook["id"], a["seq"]) and a["duration"] >= 0 for a in attempts)
    assert _dispatcher(db).round() == 0  # caught up: nothing sent twice


def test_a_receiver_down_for_a_while_gets_every_event_in_order_with_the_same_ids(db, orgs, receiver):
    """The loop as the scheduler runs it: 500s, then connections refused, then up again."""
    hook = register(db, receiver)
    failures = {"left": 3}

    def answer(_request):
        if failures["left"]:
            failures["left"] -= 1
            return 500, b"busy", {}
        return 200, b"ok", {}

    receiver.answer = answer
    dispatcher = _dispatcher(db)
    dispatcher.start()
    try:
        seqs = emit(db, orgs["ccib-th"], [f"d{n}.scam.example" for n in range(3)])
        deadline = time.monotonic() + 20
        while failures["left"] and time.monotonic() < deadline:
            time.sleep(0.02)
        receiver.down()  # connection refused for a while
        time.sleep(0.6)
        seqs += emit(db, orgs["ccib-th"], [f"e{n}.scam.example" for n in range(3)])
        time.sleep(0.4)
        receiver.up()
        done = receiver.wait_for(6)
    finally:
        dispatcher.stop()
    assert [r.seq for r in done] == seqs  # each once, in order
    order = [r.seq for r in receiver.received]
    assert order == sorted(order)  # never an event before the one before it was acknowledged
    assert order.count(seqs[0]) == 4  # three 500s and the acknowledged attempt
    assert {r.delivery for r in receiver.received if r.seq == seqs[0]} == {rules.delivery_id(hook["id"], seqs[0])}
    attempts = webhooks.deliveries(db, hook["id"], by=CCIB, limit=1000)
    refused = [a for a in attempts if a["status"] is None]
    assert refused and all("refused" in a["error"] for a in refused)  # recorded while the receiver was down
    for seq in seqs:
        tries = sorted((a for a in attempts if a["seq"] == seq), key=lambda a: a["attempt"])
        assert [a["attempt"] for a in tries] == list(range(1, len(tries) + 1))
        assert {a["delivery"] for a in tries} == {rules.delivery_id(hook["id"], seq)}
        assert [a["acknowledged"] for a in tries] == [False] * (len(tries) - 1) + [True]
    [shown] = webhooks.list_webhooks(db, by=CCIB)
    assert (shown["enabled"], shown["failures"], shown["failing_since"]) == (True, 0, None)


def test_redirects_are_not_followed(db, orgs, receiver):
    hook = register(db, receiver)
    receiver.answer = lambda r: (302, b"", {"Location": receiver.url("/elsewhere")}) if r.path == "/hook" else (200, b"", {})
    [seq] = emit(db, orgs["ccib-th"], ["moved.scam.example"])
    assert _dispatcher(db).round() == 0
    assert [r.path for r in receiver.received] == ["/hook"]
    [attempt] = webhooks.deliveries(db, hook["id"], by=CCIB)
    assert (attempt["seq"], attempt["status"], attempt["acknowledged"]) == (seq, 302, False)
    assert attempt["error"] == f"redirect to {receiver.url('/elsewhere')} not followed"
    [shown] = webhooks.list_webhooks(db, by=CCIB)
    assert shown["position"] < seq and shown["failures"] == 1 and shown["next_attempt"]


def test_disabled_after_the_retry_window_with_an_event_then_enabled_where_it_stopped(db, orgs, receiver):
    hook = register(db, receiver)
    receiver.answer = lambda _r: (503, b"maintenance", {})
    stuck, after = emit(db, orgs["ccib-th"], ["stuck.scam.example", "after.scam.example"])
    t0 = utcnow()
    dispatcher = _dispatcher(db)
    assert dispatcher.round(now=t0) == 0
    assert dispatcher.round(now=t0 + timedelta(milliseconds=10)) == 0  # its back-off is not over: not tried
    assert dispatcher.round(now=t0 + timedelta(hours=23)) == 0  # still retried
    [shown] = webhooks.list_webhooks(db, by=CCIB)
    assert shown["enabled"] and shown["failures"] == 2
    assert dispatcher.round(now=t0 + timedelta(hours=24, seconds=1)) == 0  # the window is over
    [shown] = webhooks.list_webhooks(db, by=CCIB)
    assert not shown["enabled"] and shown["next_attempt"] is None
    assert "3 attempts at event" in shown["disabled_reason"] and "HTTP 503" in shown["disabled_reason"]
    assert dispatcher.round(now=t0 + timedelta(hours=30)) == 0 and len(receiver.received) == 3  # disabled: no more
    with db.read() as conn:
        seen, _ = events.read(conn, Viewer("ccib-th", GREEN), orgs["ccib-th"], after=after)
        other, _ = events.read(conn, Viewer("pdrm-my", RED), orgs["pdrm-my"], after=after)
    [disabled] = seen
    assert disabled["type"] == ev.WEBHOOK_DISABLED and other == []
    assert (disabled["webhook"], disabled["url"], disabled["reason"], disabled["stopped_at"]) == (
        hook["id"], hook["url"], shown["disabled_reason"], stuck)
    assert {r.delivery for r in receiver.received} == {rules.delivery_id(hook["id"], stuck)}

    receiver.answer = lambda _r: (204, b"", {})
    again = webhooks.enable(db, hook["id"], by=CCIB, allow_loopback=True)
    assert (again["enabled"], again["failures"], again["disabled_reason"]) == (True, 0, None)
    assert _dispatcher(db).round() == 3  # the stuck event, the next, and the news of its disabling
    resumed = receiver.received[3:]
    assert [r.seq for r in resumed] == [stuck, after, disabled["seq"]]
    assert resumed[0].delivery == rules.delivery_id(hook["id"], stuck)  # the same id as before it stopped
    assert resumed[2].headers["X-Registry-Event"] == "webhook.disabled"


def test_only_what_the_creators_cap_may_see_and_only_its_watches(db, orgs, receiver):
    th = orgs["ccib-th"]
    watched = add_watch(db, th, "watched.example")
    other_watch = add_watch(db, th, "other.example")
    green_key = Principal(org="ccib-th", role="contributor", max_tlp=GREEN, actor="green-key")
    hook = register(db, receiver, by=green_key, watches=[watched])
    assert hook["watches"] == [watched] and hook["max_tlp"] == GREEN
    seqs = emit_watched(db, ["a.watched.example", "b.other.example", "c.watched.example"], tlp=GREEN)
    amber = emit_watched(db, ["d.watched.example"], tlp=AMBER)  # above the creator's cap
    last = emit_watched(db, ["e.watched.example"], tlp=GREEN)
    with db.read() as conn:  # the org itself, at amber, receives all of them
        assert len(events.read(conn, Viewer("ccib-th", AMBER), th)[0]) == 5
    assert _dispatcher(db).round() == 3
    got = receiver.received
    assert [r.seq for r in got] == [seqs[0], seqs[2], last[0]]
    assert all(r.event["watches"] == [watched] for r in got)
    assert amber[0] not in [r.seq for r in got]
    [shown] = webhooks.list_webhooks(db, by=green_key)
    assert shown["position"] >= last[0]
    with pytest.raises(Invalid, match="unknown watch id") as refused:
        webhooks.register(db, receiver.url(), [other_watch, "no-such-watch"], by=CCIB, allow_loopback=True)
    assert refused.value.field == "watches"
    pdrm_watch = add_watch(db, orgs["pdrm-my"], "pdrm.example")
    with pytest.raises(Invalid, match="unknown watch id"):  # another org's watch is as unknown
        webhooks.register(db, receiver.url(), [pdrm_watch], by=CCIB, allow_loopback=True)


def test_another_dispatchers_expired_lease_is_taken_over(db, orgs, receiver):
    hook = register(db, receiver)
    [seq] = emit(db, orgs["ccib-th"], ["leased.scam.example"])
    now = utcnow()
    with db.write() as conn:  # a dispatcher of another host took it and stopped answering
        conn.execute(text("UPDATE webhook SET lease_owner = 'otherhost:1:abcd', lease_until = :until"),
                     {"until": now + timedelta(seconds=30)})
    assert _dispatcher(db).round(now=now) == 0  # its lease holds
    assert _dispatcher(db).round(now=now + timedelta(seconds=31)) == 1  # run out: taken over
    assert [r.seq for r in receiver.received] == [seq]
    assert receiver.received[0].delivery == rules.delivery_id(hook["id"], seq)


def test_attempts_are_kept_bounded(db, orgs, receiver):
    hook = register(db, receiver)
    emit(db, orgs["ccib-th"], [f"k{n}.scam.example" for n in range(7)])
    assert _dispatcher(db, tuning=Tuning(kept=4)).round() == 7
    attempts = webhooks.deliveries(db, hook["id"], by=CCIB)
    assert len(attempts) == 4 and attempts[0]["seq"] > attempts[-1]["seq"]
    with db.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM webhook_delivery WHERE webhook_id = :id"),
                            {"id": webhook_id(db, hook["id"])}).scalar_one() == 4


def test_an_address_refused_at_delivery_is_not_contacted(db, orgs, receiver):
    """The URL is checked again at each delivery: a dispatcher without the loopback setting
    refuses the address the webhook was registered with (as it would a name now resolving to a
    private address)."""
    hook = register(db, receiver)
    emit(db, orgs["ccib-th"], ["rebound.scam.example"])
    strict = Dispatcher(db, retry_hours=24, allow_loopback=False, tuning=FAST)
    assert strict.round() == 0 and receiver.received == []
    [attempt] = webhooks.deliveries(db, hook["id"], by=CCIB)
    assert attempt["status"] is None and attempt["error"].startswith("not sent: url must be https")


def test_the_body_is_the_exact_bytes_signed(db, orgs, receiver):
    register(db, receiver)
    emit(db, orgs["ccib-th"], ["ünïcode.scam.example".encode("idna").decode()])
    _dispatcher(db).round()
    [request] = receiver.received
    assert request.verified and json.loads(request.body) == request.event


def test_the_schedulers_dispatcher_audits_a_webhook_it_disables(db, orgs, receiver):
    from registry import config
    from registry.scheduler import FeedScheduler
    from registry.services.audit import events as audit_events

    hook = register(db, receiver)
    receiver.answer = lambda _r: (500, b"", {})
    emit(db, orgs["ccib-th"], ["audited.scam.example"])
    settings = config.load({"DATABASE_URL": db.url, "WEBHOOK_ALLOW_LOOPBACK": "true", "WEBHOOK_RETRY_HOURS": "2"})
    dispatcher = FeedScheduler(db, settings=settings).dispatcher  # as the scheduler builds it from its settings
    t0 = utcnow()
    dispatcher.round(now=t0)
    dispatcher.round(now=t0 + timedelta(hours=2))
    [row] = audit_events(db, action="webhook-disabled")["events"]
    assert (row["org"], row["actor"], row["subject"]["id"]) == ("ccib-th", "scheduler", hook["id"])
    assert "2 attempts" in row["subject"]["reason"]
