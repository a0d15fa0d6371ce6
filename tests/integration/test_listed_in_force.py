"""Listed means in force (docs/design.md), on SQLite and PostgreSQL: an assertion that expired,
was ended by its snapshot feed, passed its review date or was delisted lists nothing in any read
path (lookup, search, every export format, STIX and TAXII) and shows as history; review dates are
written with every report and moved on by re-reports and confirmations; the daily job records
review ends and purges old history, audited."""

from __future__ import annotations

import csv
import io
import time
from datetime import timedelta

import dns.zone
import orjson
import pytest
from netaddr import IPSet
from sqlalchemy import select

from registry.domain.opaque import ASSERTION, Sealer
from registry.domain.standing import (
    DEFAULT_REVIEW_DAYS,
    DELISTED,
    END_REASONS,
    EXPIRED,
    REVIEW,
    SNAPSHOT,
)
from registry.domain.times import iso, utcnow
from registry.domain.tlp import Viewer
from registry.services import exports, review
from registry.services.errors import Conflict, Forbidden, NotFound
from registry.services.keys import Principal
from registry.services.lookup import lookup
from registry.services.search import Filters, search_indicators
from registry.services.stix_export import iter_objects
from registry.services.submit import Provenance, Submission, submit
from registry.storage import tables as t
from tests.helpers import add_member_orgs, end_assertions
from tests.stix.support import validate

OPERATOR = Viewer.operator()
SEALER = Sealer("test-secret-" + "x" * 32)
ENDED = {why: f"{why}.listed-rule.example" for why in END_REASONS}
LIVE = "live.listed-rule.example"
MIXED = "mixed.listed-rule.example"  # ccib-th's delisted, pdrm-my's in force
NETS = {"45.1.1.0/24": None, "45.1.2.0/24": EXPIRED, "45.1.3.0/24": REVIEW}  # network → why it ended


@pytest.fixture
def now():
    return utcnow()


@pytest.fixture
def scene(db, now):
    """ccib-th's reports two days old, the ended ones ended an hour ago."""
    add_member_orgs(db)
    put(db, "ccib-th", [LIVE, MIXED, *ENDED.values(), *NETS], now - timedelta(days=2))
    put(db, "pdrm-my", [MIXED], now - timedelta(days=2))
    ends = {value: why for why, value in ENDED.items()} | {net: why for net, why in NETS.items() if why}
    end_assertions(db, ends, now - timedelta(hours=1))
    with db.write() as conn:  # only ccib-th's report of MIXED is delisted
        conn.execute(t.assertion.update().where(
            t.assertion.c.org_id == select(t.organization.c.id).where(t.organization.c.slug == "ccib-th").scalar_subquery(),
            t.assertion.c.indicator_id == select(t.indicator.c.id).where(t.indicator.c.value == MIXED).scalar_subquery(),
        ).values(valid_until=now - timedelta(hours=1), end_reason=DELISTED))
    return db


def put(db, org, values, when, **prov):
    with db.write() as conn:
        return submit(conn, Provenance(org=org, labels=("listed-rule",), **prov), [Submission(v) for v in values],
                      now=when)


def look(db, *values, viewer=OPERATOR):
    with db.read() as conn:
        return lookup(conn, list(values), viewer)


@pytest.mark.parametrize("why", END_REASONS)
def test_an_ended_assertion_is_history_not_listed(scene, now, why):
    single = look(scene, ENDED[why])[0]
    batch = look(scene, ENDED[why], LIVE)[0]
    for answer in (single, batch):
        assert (answer["listed"], answer["score"], answer["matches"], answer["explanation"]) == (False, 0, [], [])
        [ended] = answer["history"]
        assert (ended["match"], ended["value"], ended["source"], ended["why"]) == (
            "exact", ENDED[why], "ccib-th", why)
        assert ended["ended"] == iso(now - timedelta(hours=1))
        assert ended["first_seen"] == iso(now - timedelta(days=2))


def test_one_report_in_force_lists_it_and_alone_makes_the_score(scene):
    live, mixed = look(scene, LIVE, MIXED)
    assert live["listed"] and live["history"] == [] and live["score"] > 0
    assert mixed["listed"] is True
    [match] = mixed["matches"]
    assert [a["source"] for a in match["assertions"]] == ["pdrm-my"]
    assert [e["source"] for e in mixed["explanation"]] == ["pdrm-my"]
    assert [(h["source"], h["why"]) for h in mixed["history"]] == [("ccib-th", DELISTED)]
    # A wider listing that ended is history of the match it came by.
    [inside] = look(scene, "45.1.2.9")
    assert (inside["listed"], [(h["match"], h["value"], h["why"]) for h in inside["history"]]) == (
        False, [("cidr", "45.1.2.0/24", EXPIRED)])


def test_search_says_listed_and_shows_history(scene, now):
    with scene.read() as conn:
        page = search_indicators(conn, OPERATOR, Filters.parse({"label": "listed-rule", "limit": "100"}), now=now)
    found = {i["value"]: i for i in page["indicators"]}
    assert set(found) == {LIVE, MIXED, *ENDED.values(), *NETS}  # ended ones are found, as history
    for why, value in ENDED.items():
        item = found[value]
        assert (item["listed"], item["score"], item["assertions"]) == (False, 0, [])
        assert [h["why"] for h in item["history"]] == [why]
    assert found[LIVE]["listed"] and found[LIVE]["history"] == []
    assert found[MIXED]["listed"] and [h["source"] for h in found[MIXED]["history"]] == ["ccib-th"]
    with scene.read() as conn:
        scored = search_indicators(conn, OPERATOR, Filters.parse({"label": "listed-rule", "min_score": "1"}), now=now)
    assert {i["value"] for i in scored["indicators"]} == {LIVE, MIXED, "45.1.1.0/24"}


def export(db, fmt, now, **args) -> bytes:
    with db.read() as conn:
        return b"".join(exports.stream(conn, OPERATOR, fmt, exports.ExportQuery.parse(args), now=now))


def test_every_export_format_lists_only_what_is_in_force(scene, now):
    in_force = {LIVE, MIXED, "45.1.1.0/24"}
    assert set(export(scene, "text", now).decode().split()) == in_force
    assert IPSet(export(scene, "cidr", now).decode().split()) == IPSet(["45.1.1.0/24"])
    zone = dns.zone.from_text(export(scene, "rpz", now).decode(), origin="rpz.registry.local.")
    assert {str(n) for n in zone.nodes if str(n) != "@" and not str(n).startswith("*.")} == {
        LIVE, MIXED}
    rows = list(csv.DictReader(io.StringIO(export(scene, "csv", now, raw="true").decode())))
    assert {r["value"]: r["sources"] for r in rows} == {LIVE: "ccib-th", MIXED: "pdrm-my", "45.1.1.0/24": "ccib-th"}
    lines = [orjson.loads(line) for line in export(scene, "json", now).splitlines()]
    assert {line["value"] for line in lines} == in_force
    assert all("why" not in a for line in lines for a in line["assertions"])
    with scene.read() as conn:
        events = exports.misp_events(conn, OPERATOR, exports.ExportQuery(), now=now)
    assert sum(e.attributes for e in events) == 3  # LIVE and the network (ccib-th's event), MIXED (pdrm-my's)
    # Asked for, the ended ones come too, marked, and weigh nothing.
    everything = [orjson.loads(line) for line in export(scene, "json", now, include_expired="true").splitlines()]
    by_value = {line["value"]: line for line in everything}
    assert set(by_value) == in_force | set(ENDED.values()) | set(NETS)
    for why, value in ENDED.items():
        assert ([a["why"] for a in by_value[value]["assertions"]], by_value[value]["score"]) == ([why], 0)
    assert sorted(a.get("why", "") for a in by_value[MIXED]["assertions"]) == ["", DELISTED]
    assert set(export(scene, "text", now, include_expired="true").decode().split()) == set(by_value)


def test_stix_ends_with_valid_until_and_revokes_a_delisting(scene, now):
    """The bundle holds what is in force; with include_expired (and over TAXII) an ended
    Indicator carries its end as valid_until and a delisted one is revoked: a valid bundle. (A
    review end is carried once the daily job recorded it: the next test.)"""
    bundle = validate(export(scene, "stix", now))
    names = sorted(o["name"] for o in bundle["objects"] if o["type"] == "indicator")
    assert names == sorted([LIVE, MIXED, "45.1.1.0/24"])
    full = validate(export(scene, "stix", now, include_expired="true"))
    indicators = [o for o in full["objects"] if o["type"] == "indicator"]
    ended_at = (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    for obj in indicators:
        source = "ccib" if obj["created_by_ref"] == ccib_identity(full) else "pdrm"
        why = next((w for w, v in ENDED.items() if v == obj["name"]), NETS.get(obj["name"]))
        if obj["name"] == MIXED and source == "ccib":
            why = DELISTED
        assert obj.get("revoked", False) == (why == DELISTED), obj["name"]
        if why in (EXPIRED, SNAPSHOT, DELISTED):
            assert obj["valid_until"].startswith(ended_at), obj
        else:
            assert "valid_until" not in obj, obj
    assert sum(1 for o in indicators if o.get("revoked")) == 2  # DELISTED's and ccib-th's of MIXED
    # TAXII serves every version the viewer may see, the revoked ones too.
    with scene.read() as conn:
        served = [e.obj for e in iter_objects(conn, OPERATOR) if e.obj["type"] == "indicator"]
    assert sorted((o["name"], o.get("revoked", False)) for o in served) == sorted(
        (o["name"], o.get("revoked", False)) for o in indicators)


def ccib_identity(bundle: dict) -> str:
    return next(o["id"] for o in bundle["objects"] if o["type"] == "identity" and o["name"].startswith("Royal Thai"))


# -- review dates --------------------------------------------------------------------------------
def review_dates(db, *values) -> dict[str, object]:
    a, i = t.assertion.c, t.indicator.c
    with db.read() as conn:
        rows = conn.execute(select(i.value, a.review_at, a.seq, a.end_reason)
                            .join_from(t.assertion, t.indicator, i.id == a.indicator_id).where(i.value.in_(values)))
        return {row.value: row for row in rows}


def test_each_report_gets_a_review_date_and_a_re_report_moves_it_on(db, now):
    add_member_orgs(db)
    days = {**DEFAULT_REVIEW_DAYS, "domain": 10.0}
    first = now - timedelta(days=20)
    put(db, "ccib-th", ["a.review.example", "1.2.3.4", "b.review.example"], first, review_days=days)
    rows = review_dates(db, "a.review.example", "1.2.3.4", "b.review.example")
    assert rows["a.review.example"].review_at == first + timedelta(days=10)
    assert rows["1.2.3.4"].review_at == first + timedelta(days=30)  # an IP: REVIEW_DAYS's ipv4
    # Ten days on, the domains' reviews passed: ended, history.
    answer = look(db, "a.review.example")[0]
    assert (answer["listed"], answer["history"][0]["why"], answer["history"][0]["ended"]) == (
        False, REVIEW, iso(first + timedelta(days=10)))
    # A re-report confirms: the ended one is in force again (an update, a new change number).
    again = put(db, "ccib-th", ["a.review.example", "1.2.3.4"], now, review_days=days)
    assert (again.updated, again.unchanged) == (1, 1)
    after = review_dates(db, "a.review.example", "1.2.3.4")
    assert after["a.review.example"].review_at == now + timedelta(days=10)
    assert after["a.review.example"].seq > rows["a.review.example"].seq
    assert after["1.2.3.4"].review_at == now + timedelta(days=30)
    assert after["1.2.3.4"].seq == rows["1.2.3.4"].seq  # in force and unchanged: no news
    assert look(db, "a.review.example")[0]["listed"] is True


def principal(org, role="contributor", cap="amber+strict"):
    return Principal(org=org, role=role, max_tlp=cap, actor=f"{org}-{role}")


def test_the_review_listing_and_confirming(db, now):
    add_member_orgs(db)
    put(db, "ccib-th", ["due.review.example", "later.review.example"], now - timedelta(days=170))
    put(db, "ccib-th", ["passed.review.example"], now - timedelta(days=200))
    put(db, "ccib-th", ["red.review.example"], now - timedelta(days=175), tlp="red")
    put(db, "ccib-th", ["delisted.review.example"], now - timedelta(days=200))
    end_assertions(db, {"delisted.review.example": DELISTED, "later.review.example": EXPIRED}, now)
    listing = review.due(db, Viewer("ccib-th", "amber+strict"), "ccib-th", days=30, sealer=SEALER)
    assert [(a["value"], a["status"]) for a in listing["assertions"]] == [
        ("passed.review.example", "ended"), ("due.review.example", "due")]  # no red for an amber cap
    full = review.due(db, OPERATOR, "ccib-th", days=30, sealer=SEALER)
    assert [a["value"] for a in full["assertions"]] == [
        "passed.review.example", "red.review.example", "due.review.example"]
    assert review.due(db, OPERATOR, "ccib-th", days=0, sealer=SEALER)["count"] == 1
    ids = {a["value"]: a["id"] for a in full["assertions"]}
    before = review_dates(db, "passed.review.example")["passed.review.example"]
    # Who may: a contributor of the source org (seeing it), or an operator.
    with pytest.raises(NotFound):
        review.confirm(db, principal("ccib-th"), ids["red.review.example"], sealer=SEALER)  # hidden by the cap
    with pytest.raises(NotFound):
        review.confirm(db, principal("ccib-th"), "not-a-token", sealer=SEALER)
    with pytest.raises(Forbidden):
        review.confirm(db, principal("pdrm-my"), ids["passed.review.example"], sealer=SEALER)
    with pytest.raises(Forbidden):
        review.confirm(db, principal("ccib-th", "reader"), ids["passed.review.example"], sealer=SEALER)
    done = review.confirm(db, principal("ccib-th"), ids["passed.review.example"], sealer=SEALER, now=now)
    assert (done["status"], done["review_at"]) == ("due", iso(now + timedelta(days=180)))
    after = review_dates(db, "passed.review.example")["passed.review.example"]
    assert after.seq > before.seq and after.end_reason is None
    assert look(db, "passed.review.example")[0]["listed"] is True
    # An operator confirms any org's, as far as its cap lets it see (another org's red: never).
    assert review.confirm(db, principal("registry-ops", "operator", "red"), ids["due.review.example"],
                          sealer=SEALER)["value"] == "due.review.example"
    with pytest.raises(NotFound):
        review.confirm(db, principal("registry-ops", "operator", "red"), ids["red.review.example"], sealer=SEALER)
    assert review.confirm(db, principal("ccib-th", cap="red"), ids["red.review.example"],
                          sealer=SEALER)["value"] == "red.review.example"
    # A delisting is not undone by a confirmation.
    with db.read() as conn:
        delisted_id = conn.execute(select(t.assertion.c.id).join_from(t.assertion, t.indicator).where(
            t.indicator.c.value == "delisted.review.example")).scalar_one()
    with pytest.raises(Conflict, match="delisted"):
        review.confirm(db, principal("ccib-th"), SEALER.seal(delisted_id, ASSERTION), sealer=SEALER)


def test_the_daily_job_records_review_ends_and_purges_old_history(db, now):
    add_member_orgs(db)
    put(db, "ccib-th", ["old.purge.example", "recent.purge.example", "delisted.purge.example"],
        now - timedelta(days=100))
    put(db, "ccib-th", ["reviewed.purge.example"], now - timedelta(days=400))
    put(db, "ccib-th", ["live.purge.example"], now)
    end_assertions(db, {"old.purge.example": SNAPSHOT, "delisted.purge.example": DELISTED}, now - timedelta(days=40))
    end_assertions(db, {"recent.purge.example": EXPIRED}, now - timedelta(days=5))
    before = review_dates(db, "reviewed.purge.example")["reviewed.purge.example"]
    events = []
    done = review.daily(db, retention_days=30, relist_days=60, record=lambda subject, n: events.append((subject, n)),
                        now=now)
    # reviewed.purge.example's review date passed 220 days ago: its end recorded, then purged
    # with the snapshot's end; the delisting is kept for the re-listing days, the recent end too.
    assert done == {"review_ended": 1, "purged": 2}
    assert [(s["count"], sorted(s["values"]), n) for s, n in events] == [
        (2, ["ccib-th old.purge.example", "ccib-th reviewed.purge.example"], 2)]
    assert events[0][0]["retention_days"] == 30
    left = review_dates(db, *(f"{name}.purge.example" for name in ("old", "recent", "live", "delisted", "reviewed")))
    assert set(left) == {"recent.purge.example", "live.purge.example", "delisted.purge.example"}
    assert before.end_reason is None
    # The purged values are unknown now: their indicators stay, with nothing to show.
    old = look(db, "old.purge.example")[0]
    assert (old["listed"], old["matches"], old["history"]) == (False, [], [])
    with db.read() as conn:
        assert conn.execute(select(t.indicator.c.id).where(t.indicator.c.value == "old.purge.example")).first()


def test_the_daily_job_gives_a_review_end_a_change_number(db, now):
    add_member_orgs(db)
    put(db, "ccib-th", ["lapsed.purge.example"], now - timedelta(days=200))
    before = review_dates(db, "lapsed.purge.example")["lapsed.purge.example"]
    assert review.daily(db, retention_days=0, relist_days=30, record=None, now=now) == {"review_ended": 1, "purged": 0}
    after = review_dates(db, "lapsed.purge.example")["lapsed.purge.example"]
    assert (after.end_reason, after.seq > before.seq) == (REVIEW, True)
    # Recorded once: the next day's job finds nothing new.
    assert review.daily(db, retention_days=0, relist_days=30, record=None, now=now)["review_ended"] == 0
    with db.read() as conn:
        [obj] = [e.obj for e in iter_objects(conn, OPERATOR, since_seq=before.seq)]
    assert obj["valid_until"].startswith((now - timedelta(days=20)).strftime("%Y-%m-%dT%H:%M:%S"))


def test_the_scheduler_runs_the_review_job_daily_from_its_start(db, now):
    from registry import config
    from registry.scheduler import REVIEW_JOB, FeedScheduler
    from registry.services.audit import events

    add_member_orgs(db)
    put(db, "ccib-th", ["lapsed.scheduled.example"], now - timedelta(days=400))  # reviewed by now - 220 days
    scheduler = FeedScheduler(db, settings=config.load({"DATABASE_URL": db.url, "RETENTION_DAYS": "30"}))
    scheduler.start()
    try:
        job = scheduler.scheduler.get_job(REVIEW_JOB)
        assert job.trigger.interval == timedelta(days=1)
        deadline = time.monotonic() + 20  # the first run starts at once, on the scheduler's thread
        while not events(db, action="review-purge")["events"] and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.stop()
    [event] = events(db, action="review-purge")["events"]
    assert (event["actor"], event["subject"]["values"]) == ("scheduler", ["ccib-th lapsed.scheduled.example"])
    assert review_dates(db, "lapsed.scheduled.example") == {}
