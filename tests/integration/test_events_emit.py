"""Every change emits its event, by its real path, on both engines (docs/design.md, "Events and
watches"): reports and updates (submit, a file import, a feed run, a STIX bundle), sightings,
disputes filed and delistings, ends (a snapshot's expiry, the valid_until job, a review date),
feed failures and anomalies; nothing when the change rolls back; the hit alerts between agencies
(the TLP rule, capped keys, the three share settings, hourly aggregation, never to oneself)."""

from __future__ import annotations

import json
import os
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from registry.domain.normalize import normalize
from registry.domain.times import utcnow
from registry.domain.tlp import AMBER, AMBER_STRICT, GREEN, RED, Viewer
from registry.services import disputes, events, hits
from registry.services.audit import events as audit_events
from registry.services.expiry import announce_expired
from registry.services.feed_runs import run_feed
from registry.services.imports import import_file
from registry.services.keys import Principal
from registry.services.lookup import lookup
from registry.services.orgs import add_org, set_org
from registry.services.review import daily
from registry.services.sightings import add_sighting
from registry.services.stix_import import import_bundle
from registry.services.submit import Provenance, Submission, submit
from registry.storage import expiry as expiry_store
from registry.storage import tables as t
from registry.storage import watches as watch_store
from tests.feeds.support import Answer, FeedServer, add_feed
from tests.helpers import add_member_orgs

A, B, C = "ccib-th", "pdrm-my", "pnp-ph"  # A lists, B looks up and reports, C watches


@pytest.fixture
def ids(db) -> dict[str, int]:
    add_member_orgs(db)
    add_org(db, C, "Philippine National Police", "PH")
    add_org(db, "bank-x", "Bank X fraud team", "TH")
    with db.read() as conn:
        return dict(conn.execute(text("SELECT slug, id FROM organization")).all())


def inbox(db, ids, org: str, cap: str = RED) -> list[dict]:
    """The org's routed events as a key of it capped at ``cap`` reads them."""
    with db.read() as conn:
        org_id = conn.execute(select(t.organization.c.id).where(t.organization.c.slug == org)).scalar_one()
        return events.read(conn, Viewer(org, cap), org_id, limit=1000)[0]


def every_event(db) -> list[dict]:
    with db.read() as conn:
        return events.read(conn, Viewer.operator(), None, limit=1000, everything=True)[0]


def report(db, org: str, *values: str, tlp: str = AMBER, **fields):
    with db.write() as conn:
        return submit(conn, Provenance(org=org, tlp=tlp, region="TH", **fields), [Submission(v) for v in values])


def watch(db, org_id: int, raw: str) -> str:
    value = normalize(raw)[0]
    uid = str(uuid.uuid4())
    with db.write() as conn:
        watch_store.insert(conn, uid=uid, org_id=org_id, key=value.value, kind=value.kind, prefix_len=value.prefix_len,
                           range_start=value.range_start, kinds="", labels="", sources="", created=utcnow())
    return uid


def of_type(got: list[dict], type_: str) -> list[dict]:
    return [e for e in got if e["type"] == type_]


def principal(org: str, role: str = "contributor", cap: str = AMBER_STRICT) -> Principal:
    return Principal(org=org, role=role, max_tlp=cap, actor=f"{org}-{role}", country="TH")


# -- reports ---------------------------------------------------------------------------------
def test_a_report_reaches_the_owners_it_may_see_and_an_update_says_what_changed(db, ids):
    report(db, A, "scam-shop.example", tlp=AMBER)
    report(db, A, "secret.example", tlp=RED)
    report(db, B, "scam-shop.example", "secret.example", tlp=GREEN, confidence=40)
    got = inbox(db, ids, A)
    # B's report of A's value reaches A; of the value A holds at RED (B could not see it), nothing.
    assert [(e["type"], e["value"], e["org"], e["watches"]) for e in got] == [
        ("indicator.reported", "scam-shop.example", B, [])]
    shown = got[0]["assertion"]
    assert (shown["source"], shown["tlp"], shown["confidence"], shown["times_reported"]) == (B, GREEN, 40, 1)
    assert inbox(db, ids, B) == []  # A's own reports came before B listed anything
    report(db, B, "scam-shop.example", tlp=GREEN, confidence=40)  # unchanged: nothing to say
    report(db, B, "scam-shop.example", tlp=GREEN, confidence=75, description="seen in 3 cases")
    updated = inbox(db, ids, A)[-1]
    assert (updated["type"], updated["assertion"]["confidence"], updated["assertion"]["times_reported"]) == (
        "indicator.updated", 75, 3)
    assert updated["assertion"]["first_seen"] == shown["first_seen"]
    assert updated["assertion"]["description"] == "seen in 3 cases"
    assert len(inbox(db, ids, A)) == 2
    # Everything that happened is an event, whoever it reached (what a federating peer follows).
    assert [(e["type"], e["value"], e["org"]) for e in every_event(db)] == [
        ("indicator.reported", "scam-shop.example", A), ("indicator.reported", "secret.example", A),
        ("indicator.reported", "scam-shop.example", B), ("indicator.reported", "secret.example", B),
        ("indicator.updated", "scam-shop.example", B)]


def test_a_watcher_hears_of_an_import_row_by_row_and_a_capped_key_reads_what_it_may(db, ids, tmp_path):
    uid = watch(db, ids[C], "103.21.0.0/16")
    path = tmp_path / "list.txt"
    path.write_text("103.21.4.5\n103.21.9.9\n8.8.8.8\n")
    import_file(db, path, Provenance(org=B, tlp=AMBER, labels=("call-centre-scam",)))
    got = inbox(db, ids, C)
    assert [(e["value"], e["watches"], e["tlp"], e["labels"] if "labels" in e else e["assertion"]["labels"])
            for e in got] == [("103.21.4.5", [uid], AMBER, ["call-centre-scam"]),
                              ("103.21.9.9", [uid], AMBER, ["call-centre-scam"])]
    assert inbox(db, ids, C, cap=GREEN) == []  # a key of C capped at GREEN may not see B's AMBER


def test_a_failing_transaction_leaves_no_event(db, ids):
    with pytest.raises(RuntimeError), db.write() as conn:
        submit(conn, Provenance(org=A), [Submission("rolled-back.example")])
        raise RuntimeError("the caller failed after the write")
    assert every_event(db) == []
    with db.read() as conn:
        assert conn.execute(select(t.counter.c.value).where(t.counter.c.name == "event")).scalar_one() == 0
        assert conn.execute(select(t.event_inbox.c.seq)).all() == []


def test_a_stix_bundle_reports_and_sights(db, ids):
    report(db, A, "203.0.113.7", tlp=GREEN)
    indicator = {"type": "indicator", "spec_version": "2.1", "id": "indicator--0c4f3a00-1111-4a2b-8c3d-000000000001",
                 "created": "2026-11-01T00:00:00.000Z", "modified": "2026-11-01T00:00:00.000Z",
                 "pattern": "[ipv4-addr:value = '203.0.113.7']", "pattern_type": "stix",
                 "valid_from": "2026-11-01T00:00:00Z"}
    sighting = {"type": "sighting", "spec_version": "2.1", "id": "sighting--0c4f3a00-2222-4a2b-8c3d-000000000002",
                "created": "2026-11-02T00:00:00.000Z", "modified": "2026-11-02T00:00:00.000Z",
                "sighting_of_ref": indicator["id"], "count": 4}
    import_bundle(db, {"type": "bundle", "id": "bundle--0c4f3a00-3333-4a2b-8c3d-000000000003",
                       "objects": [indicator, sighting]}, org=B, tlp=GREEN)
    got = [(e["type"], e["value"], e["org"]) for e in inbox(db, ids, A)]
    assert got == [("indicator.reported", "203.0.113.7", B), ("sighting.recorded", "203.0.113.7", B)]


# -- sightings -------------------------------------------------------------------------------
def test_a_sighting_reaches_the_owner_without_its_case_reference(db, ids):
    report(db, A, "+66812345678", tlp=AMBER)
    add_sighting(db, org=B, value="+66812345678", case_ref="PDRM-2026-0042", count=3, tlp=GREEN,
                 viewer=Viewer(B, AMBER_STRICT))
    [seen] = inbox(db, ids, A)
    assert (seen["type"], seen["org"], seen["tlp"], seen["count"]) == ("sighting.recorded", B, GREEN, 3)
    assert seen["sighting"]["source"] == B and seen["sighting"]["count"] == 3
    assert "case_ref" not in seen["sighting"] and "PDRM-2026-0042" not in json.dumps(seen)
    with db.read() as conn:  # B's own keys read its case reference, as its lookups show it
        [own] = events.read(conn, Viewer(B, AMBER), ids[B], everything=True)[0][-1:]
    assert own["sighting"]["case_ref"] == "PDRM-2026-0042"
    add_sighting(db, org=A, value="+66812345678", count=1, tlp=GREEN, viewer=Viewer(A, RED))
    assert len(inbox(db, ids, A)) == 1  # its own sighting is no news to A


# -- disputes --------------------------------------------------------------------------------
def test_a_dispute_tells_each_source_who_and_why_and_the_watchers_only_that(db, ids):
    report(db, A, "mule-shop.example", tlp=AMBER)
    report(db, C, "mule-shop.example", tlp=GREEN)
    uid_a = watch(db, ids[A], "mule-shop.example")  # A watches its own value too: one event, naming the disputer
    uid_b = watch(db, ids[B], "mule-shop.example")
    opened = disputes.open_dispute(db, "mule-shop.example", reason="our customer's shop", evidence="ticket 7",
                                   by=principal("bank-x", "reader", GREEN))
    [to_a] = of_type(inbox(db, ids, A), "indicator.disputed")  # (C's report of A's value came before)
    assert (to_a["type"], to_a["org"], to_a["tlp"], to_a["watches"]) == ("indicator.disputed", "bank-x", AMBER, [uid_a])
    assert to_a["dispute"] == {"id": opened["id"], "status": "open", "since": opened["since"],
                               "reason": "our customer's shop", "evidence": "ticket 7"}
    assert to_a["assertion"]["source"] == A
    [to_c] = of_type(inbox(db, ids, C), "indicator.disputed")
    assert (to_c["org"], to_c["tlp"], to_c["assertion"]["source"]) == ("bank-x", GREEN, C)
    [to_b] = inbox(db, ids, B)  # a watcher: that it is disputed, not by whom nor why
    assert (to_b["org"], to_b["watches"], to_b["tlp"]) == (None, [uid_b], GREEN)
    assert to_b["dispute"] == {"id": opened["id"], "status": "open", "since": opened["since"]}
    assert "assertion" not in to_b
    # A delists its assertion: the disputer and the other source hear of it, C as a source.
    disputes.decide(db, opened["id"], "delist", "our mistake", by=principal(A))
    [delisted] = of_type(inbox(db, ids, "bank-x"), "indicator.delisted")
    assert delisted["org"] == A and delisted["why"] == "delisted" and delisted["tlp"] == AMBER
    assert delisted["assertion"]["source"] == A and delisted["assertion"]["why"] == "delisted"
    assert delisted["dispute"] == {"id": opened["id"], "decision": "delist", "note": "our mistake"}
    assert [e["type"] for e in inbox(db, ids, C)] == ["indicator.disputed", "indicator.delisted"]
    # A hears of its own delisting only through its watch (as an owner, never of its own act).
    assert [(e["type"], e["watches"]) for e in inbox(db, ids, A)] == [
        ("indicator.reported", []), ("indicator.disputed", [uid_a]), ("indicator.delisted", [uid_a])]


# -- ends ------------------------------------------------------------------------------------
def test_the_expiry_job_announces_each_valid_until_once(db, ids):
    now = utcnow()
    report(db, A, "short-lived.example", valid_until=now + timedelta(minutes=1))
    report(db, A, "long-lived.example", valid_until=now + timedelta(days=3))
    watch(db, ids[C], "short-lived.example")
    assert announce_expired(db, now=now) == 0
    assert announce_expired(db, now=now + timedelta(minutes=2)) == 1
    [ended] = inbox(db, ids, C)
    assert (ended["type"], ended["value"], ended["why"], ended["org"]) == (
        "indicator.expired", "short-lived.example", "expired", A)
    assert ended["assertion"]["why"] == "expired"
    assert announce_expired(db, now=now + timedelta(minutes=3)) == 0  # announced once
    with db.write() as conn:  # a database without the mark: the first look only sets it
        conn.execute(t.counter.delete().where(t.counter.c.name == expiry_store.MARK))
    assert announce_expired(db, now=now + timedelta(days=4)) == 0
    assert announce_expired(db, now=now + timedelta(days=4, minutes=1)) == 0


def test_the_expiry_job_leaves_out_what_was_written_already_ended(db, ids):
    now = utcnow()
    with db.write() as conn:
        expiry_store.set_mark(conn, now - timedelta(minutes=1))
    report(db, A, "born-ended.example", valid_until=now - timedelta(seconds=10))  # its report said so
    report(db, A, "ends-later.example", valid_until=now + timedelta(seconds=1))
    assert announce_expired(db, now=now + timedelta(minutes=1)) == 1
    assert [e["value"] for e in every_event(db) if e["type"] == "indicator.expired"] == ["ends-later.example"]


def test_a_review_end_is_announced_by_the_daily_job(db, ids):
    report(db, A, "203.0.113.99", tlp=GREEN)  # an IP is reviewed within 30 days
    watch(db, ids[C], "203.0.113.99")
    later = utcnow() + timedelta(days=31)
    assert daily(db, retention_days=0, relist_days=30, record=lambda *_: None, now=later)["review_ended"] == 1
    [ended] = inbox(db, ids, C)
    assert (ended["type"], ended["why"], ended["assertion"]["why"]) == ("indicator.expired", "review", "review")
    assert announce_expired(db, now=later) == 0  # not announced twice


def _list(path, values) -> str:
    path.write_text("".join(f"{v}\n" for v in values))
    return "file://" + str(path)


def test_a_snapshot_feed_reports_expires_and_is_flagged(db, ids, tmp_path):
    path = tmp_path / "list.txt"
    full = [f"scam-{n}.example" for n in range(20)]
    add_feed(db, "snap", _list(path, full), "text", provider="partner")
    with db.read() as conn:
        partner = conn.execute(text("SELECT id FROM organization WHERE slug = 'partner'")).scalar_one()
    watch(db, ids[C], "scam-0.example")
    watch(db, ids[C], "scam-19.example")
    assert run_feed(db, "snap").new == 20
    _list(path, full[:19])
    assert run_feed(db, "snap").expired == 1
    types = [(e["type"], e["value"], e.get("why")) for e in inbox(db, ids, C)]
    assert types == [("indicator.reported", "scam-0.example", None), ("indicator.reported", "scam-19.example", None),
                     ("indicator.expired", "scam-19.example", "snapshot")]
    for _ in range(2):
        os.utime(path, ns=(1, os.stat(path).st_mtime_ns + 10**9))
        run_feed(db, "snap")
    _list(path, full[:1])  # a twentieth of the usual size: flagged, nothing expired
    flagged = run_feed(db, "snap")
    assert flagged.anomaly is not None and flagged.expired == 0
    [alert] = inbox(db, ids, "partner")
    assert (alert["type"], alert["tlp"], alert["org"], alert["feed"], alert["anomaly"]) == (
        "feed.flagged", AMBER, "partner", "snap", flagged.anomaly)
    assert (alert["run"]["rows"], alert["run"]["status"]) == (1, "ok") and partner
    assert inbox(db, ids, C)[-1]["type"] == "indicator.expired"  # the feed's trouble is its provider's alone


def test_a_failed_feed_run_alerts_its_provider(db, ids):
    with FeedServer() as server:
        server.route("/list.txt", Answer(500, b"down for maintenance"))
        add_feed(db, "broken", server.url + "/list.txt", "text", provider="partner", retries=0)
        run = run_feed(db, "broken")
    assert run.status == "failed"
    [alert] = inbox(db, ids, "partner")
    assert (alert["type"], alert["feed"], alert["error"], alert["run"]["status"]) == (
        "feed.failed", "broken", run.error, "failed")
    assert inbox(db, ids, "partner", cap=GREEN) == []  # TLP:AMBER, as a feed's run is
    assert all(e["type"] == "feed.failed" for e in every_event(db))


# -- hit alerts ------------------------------------------------------------------------------
def look(db, org: str | None, values, cap: str = AMBER_STRICT, *, when=None):
    """``org`` looks up ``values`` as a key capped at ``cap`` does, its hits tallied at ``when``."""
    viewer = Viewer(org, cap) if org else Viewer.operator()
    with db.read() as conn:
        answers = lookup(conn, list(values), viewer, region="TH")
    log = hits.HitLog(db, synchronous=True)
    log.record(org, answers, time=when or utcnow())
    log.close()
    return answers


def hit_events(db, ids, org: str, cap: str = RED) -> list[dict]:
    return [e for e in inbox(db, ids, org, cap) if e["type"] == "lookup.hit"]


def tallies(db) -> list[tuple]:
    with db.read() as conn:
        return [tuple(r) for r in conn.execute(select(t.hit_tally.c.looker_id, t.hit_tally.c.owner_id,
                                                      t.hit_tally.c.count))]


def test_hits_follow_the_tlp_rule_of_what_the_looker_saw(db, ids):
    report(db, A, "green-shop.example", tlp=GREEN)
    report(db, A, "amber-shop.example", tlp=AMBER)
    report(db, A, "red-shop.example", tlp=RED)
    look(db, "bank-x", ["green-shop.example", "amber-shop.example", "red-shop.example"], cap=GREEN)
    assert [e["value"] for e in hit_events(db, ids, A)] == ["green-shop.example"]
    look(db, B, ["amber-shop.example", "red-shop.example"])  # B's key sees AMBER, never A's RED
    got = hit_events(db, ids, A)
    assert [(e["value"], e["tlp"], e["org"], e["count"], e["match"]) for e in got] == [
        ("green-shop.example", GREEN, None, 1, "exact"), ("amber-shop.example", AMBER, None, 1, "exact")]
    assert got[1]["assertion"]["source"] == A and "previous" not in got[1]
    # A key of A capped at GREEN sees the hit on A's GREEN assertion only.
    assert [e["value"] for e in hit_events(db, ids, A, cap=GREEN)] == ["green-shop.example"]
    assert hit_events(db, ids, "bank-x") == hit_events(db, ids, B) == []


def test_no_hit_on_ones_own_values_nor_from_the_operator(db, ids):
    report(db, A, "own-shop.example")
    look(db, A, ["own-shop.example"], cap=RED)
    look(db, None, ["own-shop.example"])
    assert hit_events(db, ids, A) == [] and tallies(db) == [] and every_event(db)[-1]["type"] == "indicator.reported"


def test_a_hit_by_any_match_type(db, ids):
    report(db, A, "evil-bank.example", tlp=GREEN)
    report(db, A, "103.21.0.0/16", tlp=GREEN)
    look(db, B, ["https://login.evil-bank.example/th", "103.21.4.5"])
    assert [(e["value"], e["match"]) for e in hit_events(db, ids, A)] == [
        ("evil-bank.example", "parent-domain"), ("103.21.0.0/16", "cidr")]


@pytest.mark.parametrize(("share", "shown"), [("named", B), ("anonymous", None), ("none", "nothing")])
def test_the_lookers_share_setting_decides_what_the_owner_learns(db, ids, share, shown):
    set_org(db, B, share_hits=share)
    report(db, A, "shared-shop.example", tlp=GREEN)
    look(db, B, ["shared-shop.example"])
    got = hit_events(db, ids, A)
    if shown == "nothing":
        assert got == [] and tallies(db) == []
    else:
        assert [e["org"] for e in got] == [shown]


def test_repeated_lookups_are_counted_within_an_hour(db, ids):
    report(db, A, "busy-shop.example", tlp=GREEN)
    start = utcnow()
    look(db, B, ["busy-shop.example"], when=start)
    look(db, B, ["busy-shop.example"], when=start + timedelta(minutes=10))
    look(db, B, ["busy-shop.example", "busy-shop.example"], when=start + timedelta(minutes=59))
    [first] = hit_events(db, ids, A)
    assert first["count"] == 1
    assert tallies(db) == [(ids[B], ids[A], 4)]
    look(db, B, ["busy-shop.example"], when=start + timedelta(minutes=61))
    second = hit_events(db, ids, A)[-1]
    assert (second["count"], second["previous"]["count"]) == (1, 4)
    assert len(hit_events(db, ids, A)) == 2 and tallies(db) == [(ids[B], ids[A], 1)]
    # Another looker is tallied apart; lookups buffered together raise one event, counted.
    log = hits.HitLog(db, flush_interval=60)
    with db.read() as conn:
        answers = lookup(conn, ["busy-shop.example"], Viewer(C, AMBER), region="TH")
    for minute in (62, 63, 64):
        log.record(C, answers, time=start + timedelta(minutes=minute))
    assert log.pending == 3
    log.close()
    third = hit_events(db, ids, A)[-1]
    assert (third["count"], third["org"]) == (3, None) and len(hit_events(db, ids, A)) == 3
    # A write takes lookups up to max_batch hits: apart, the event counts the first, the tally all.
    log = hits.HitLog(db, flush_interval=60, max_batch=1)
    with db.read() as conn:
        answers = lookup(conn, ["busy-shop.example"], Viewer("bank-x", GREEN), region="TH")
    for minute in (65, 66, 67):
        log.record("bank-x", answers, time=start + timedelta(minutes=minute))
    log.close()
    assert hit_events(db, ids, A)[-1]["count"] == 1 and (ids["bank-x"], ids[A], 3) in tallies(db)


def test_the_daily_purge_drops_old_events_and_tallies(db, ids):
    report(db, A, "old-shop.example", tlp=GREEN)
    look(db, B, ["old-shop.example"], when=utcnow() - timedelta(days=2))
    assert len(inbox(db, ids, A)) == 1 and len(every_event(db)) == 1  # (a hit is A's alone)
    done = events.purge(db, event_days=30, now=utcnow())
    assert done == {"events_purged": 0, "tallies_purged": 1}
    assert events.purge(db, event_days=30, now=utcnow() + timedelta(days=31)) == {
        "events_purged": 2, "tallies_purged": 0}
    assert every_event(db) == inbox(db, ids, A) == []
    assert events.purge(db, event_days=0, now=utcnow() + timedelta(days=900))["events_purged"] == 0


def test_org_set_share_hits_is_listed_and_audited(cli, db):
    add_member_orgs(db)
    assert "learns its name" in cli("org", "set", A, "--share-hits", "named").stdout
    listed = {o["slug"]: o["share_hits"] for o in json.loads(cli("org", "list", "--json").stdout)}
    assert listed == {A: "named", B: "anonymous"}
    assert "hits named" in cli("org", "list").stdout
    assert "'loud' is not one of 'named', 'anonymous', 'none'" in cli("org", "set", A, "--share-hits", "loud",
                                                                       code=2).output
    audit = audit_events(db, {"action": "org-set", "limit": "10"})["events"]
    assert [row["subject"] for row in audit] == [{"org": A, "share_hits": "named"}]


def test_the_scheduler_runs_the_expiry_job_every_minute_and_purges_daily(db, ids):
    from registry import config
    from registry.scheduler import EXPIRY_JOB, FeedScheduler

    scheduler = FeedScheduler(db, settings=config.load({"DATABASE_URL": db.url, "EVENT_DAYS": "7"}))
    report(db, A, "soon-gone.example", valid_until=utcnow() + timedelta(seconds=1))
    watch(db, ids[C], "soon-gone.example")
    assert scheduler.expiry(now=utcnow() + timedelta(minutes=1)) == 1
    assert [e["type"] for e in inbox(db, ids, C)] == ["indicator.expired"]
    done = scheduler.review()
    assert (done["events_purged"], done["tallies_purged"]) == (0, 0)
    scheduler.start()
    try:
        assert scheduler.scheduler.get_job(EXPIRY_JOB).trigger.interval == timedelta(seconds=60)
    finally:
        scheduler.stop()


def test_two_processes_opening_one_tally_count_into_one_window(db, ids):
    if db.is_sqlite:
        pytest.skip("SQLite serialises writers: no two flushes meet")
    import threading
    import time

    report(db, A, "raced-shop.example", tlp=GREEN)
    start = utcnow()
    with db.read() as conn:
        answers = lookup(conn, ["raced-shop.example"], Viewer(B, AMBER), region="TH")
    other = threading.Thread(target=lambda: look(db, B, ["raced-shop.example"], when=start + timedelta(minutes=1)))
    with db.write() as conn:  # the first flush has opened the window and not committed yet
        hits.tally(conn, [(start, B, hits.hits_of(answers, B))])
        other.start()
        time.sleep(0.5)  # the second one's insert now waits for this commit, then fails and reads again
    other.join(timeout=30)
    [event] = hit_events(db, ids, A)
    assert event["count"] == 1 and tallies(db) == [(ids[B], ids[A], 2)]
