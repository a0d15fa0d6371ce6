"""Disputes and delisting through the services, on SQLite and PostgreSQL: a dispute shows on
lookups, each source decides for its own assertion (an operator for any), a delisting ends the
assertion as delisted with a new change number, the dispute closes when every source decided,
overdue disputes are flagged to the sources, and a delisted value's reports are held in a feed
run and an import until a person relists it with a reason (docs/design.md, "Disputes and
delisting")."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from registry.domain import standing
from registry.domain.times import utcnow
from registry.domain.tlp import Viewer
from registry.services import disputes
from registry.services.access import ON_SERVER
from registry.services.errors import Conflict, Forbidden, NotFound
from registry.services.feeds import run_feed
from registry.services.imports import import_file
from registry.services.keys import Principal
from registry.services.lookup import lookup
from registry.services.orgs import add_org
from registry.services.submit import Provenance, Submission, submit
from registry.storage import tables as t
from tests.feeds.support import add_feed
from tests.helpers import add_member_orgs

VALUE = "+66812223344"


def who(org: str, role: str = "contributor", max_tlp: str = "amber+strict") -> Principal:
    return Principal(org=org, role=role, max_tlp=max_tlp, actor=f"{org}-{role}", country="TH")


def report(db, org: str, value: str = VALUE, tlp: str = "amber", **kwargs):
    with db.write() as conn:
        return submit(conn, Provenance(org=org, region="TH", tlp=tlp, **kwargs), [Submission(value=value)])


def answer(db, principal: Principal, value: str = VALUE) -> dict:
    with db.read() as conn:
        return lookup(conn, [value], principal.viewer, region="TH")[0]


def assertions(db, value: str = VALUE) -> dict[str, dict]:
    """Each source's direct assertion on ``value``, every column as stored, by org slug (a
    feed's by ``org/feed``)."""
    a, o, i = t.assertion.c, t.organization.c, t.indicator.c
    with db.read() as conn:
        rows = conn.execute(select(o.slug, t.assertion).join(t.organization, o.id == a.org_id)
                            .join(t.indicator, i.id == a.indicator_id).where(i.value == value))
        return {f"{row.slug}/{row.feed}".rstrip("/"): dict(row._mapping) for row in rows}


@pytest.fixture
def members(db):
    add_member_orgs(db)
    add_org(db, "bank-x", "Bank X fraud team", "TH")
    add_org(db, "pnp-ph", "Philippine National Police ACG", "PH")
    report(db, "ccib-th")
    report(db, "pdrm-my", tlp="green")
    return db


def test_a_dispute_shows_on_lookups_and_each_source_decides_for_its_own(members):
    db = members
    before = answer(db, who("ccib-th"))
    assert before["disputed"] is None and before["listed"]
    made = disputes.open_dispute(db, "081-222-3344", reason="my number since May", evidence="SIM receipt",
                                 by=who("bank-x", "reader"), region="TH")
    assert (made["value"], made["status"]) == (VALUE, "open")
    during = answer(db, who("ccib-th"))
    assert during["disputed"] == {"id": made["id"], "since": made["since"], "status": "open"}
    assert during["score"] == before["score"]  # unchanged until a source decides
    # A dispute is refused twice, naming the open one.
    with pytest.raises(Conflict, match=made["id"]):
        disputes.open_dispute(db, VALUE, reason="again", by=who("pnp-ph", "reader"))

    # The sources and the disputer see who disputed and why; another member only that it is.
    for org in ("ccib-th", "pdrm-my", "bank-x"):
        shown = disputes.list_disputes(db, who(org, "reader"), status="open")
        assert [(d["id"], d["reason"], d["disputer"]["org"]) for d in shown] == [(made["id"], "my number since May",
                                                                                 "bank-x")]
    other = disputes.list_disputes(db, who("pnp-ph", "reader"))
    assert [d["id"] for d in other] == [made["id"]] and "reason" not in other[0] and "disputer" not in other[0]
    assert other[0]["awaiting"] == ["ccib-th", "pdrm-my"]

    # Another org cannot decide for someone else's assertion, a reader not even for its own.
    with pytest.raises(Forbidden, match="bank-x has no assertion in force"):
        disputes.decide(db, made["id"], "delist", by=who("bank-x"))
    with pytest.raises(Forbidden, match="own org"):
        disputes.decide(db, made["id"], "delist", by=who("bank-x"), org="ccib-th")
    with pytest.raises(Forbidden, match="contributor role"):
        disputes.decide(db, made["id"], "delist", by=who("ccib-th", "reader"))

    seq_before = assertions(db)["ccib-th"]["seq"]
    decided = disputes.decide(db, made["id"], "delist", "recycled number, confirmed with the carrier",
                              by=who("ccib-th"))
    assert decided["applied"] == {"decision": "delist", "orgs": ["ccib-th"], "assertions": 1}
    assert (decided["status"], decided["awaiting"]) == ("open", ["pdrm-my"])
    ended = assertions(db)["ccib-th"]
    assert ended["end_reason"] == "delisted" and ended["valid_until"] <= utcnow() and ended["seq"] > seq_before
    assert assertions(db)["pdrm-my"]["end_reason"] is None
    with pytest.raises(Conflict, match="decided .* already"):
        disputes.decide(db, made["id"], "uphold", by=who("ccib-th"))

    upheld = disputes.decide(db, made["id"], "uphold", "seen in three cases this month", by=who("pdrm-my"))
    assert (upheld["status"], upheld["outcome"], upheld["awaiting"]) == ("closed", "mixed", [])
    assert [(d["org"], d["decision"]) for d in upheld["decisions"]] == [("ccib-th", "delist"), ("pdrm-my", "uphold")]
    assert "actor" not in upheld["decisions"][0] and upheld["decisions"][1]["actor"] == "pdrm-my-contributor"
    after = answer(db, who("ccib-th"))
    assert after["disputed"] is None
    # ccib-th's assertion counts no more (it is history, delisted); pdrm-my's still lists the value.
    scored = {item["source"]: item["points"] for item in after["explanation"] if "source" in item}
    assert "ccib-th" not in scored and scored["pdrm-my"] > 0 and after["listed"]
    assert [a["source"] for a in after["matches"][0]["assertions"]] == ["pdrm-my"]
    assert [(h["source"], h["why"]) for h in after["history"]] == [("ccib-th", "delisted")]
    assert disputes.list_disputes(db, who("ccib-th"), status="open") == []
    assert [d["id"] for d in disputes.list_disputes(db, who("ccib-th"), status="closed")] == [made["id"]]
    with pytest.raises(Conflict, match="closed"):
        disputes.decide(db, made["id"], "delist", by=who("pdrm-my"))


def test_a_delisting_by_every_source_leaves_the_value_scoring_nothing(members):
    db = members
    made = disputes.open_dispute(db, VALUE, reason="victim's own account", by=who("bank-x", "reader"))
    disputes.decide(db, made["id"], "delist", by=who("ccib-th"))
    closed = disputes.decide(db, made["id"], "delist", by=who("pdrm-my"))
    assert (closed["status"], closed["outcome"]) == ("closed", "delisted")
    now = utcnow()
    assert {standing.ended(a["valid_until"], a["review_at"], a["end_reason"], now)
            for a in assertions(db).values()} == {"delisted"}  # the one rule: no longer in force
    seen = answer(db, who("pnp-ph", "reader"))
    assert seen["score"] == 0 and seen["disputed"] is None
    # Listed means in force: no longer listed, both reports in its history as delisted.
    assert seen["listed"] is False and seen["matches"] == []
    assert sorted((h["source"], h["why"]) for h in seen["history"]) == [("ccib-th", "delisted"),
                                                                       ("pdrm-my", "delisted")]
    # Nothing in force is left to dispute.
    with pytest.raises(Conflict, match="not listed now"):
        disputes.open_dispute(db, VALUE, reason="again", by=who("pnp-ph", "reader"))


def test_an_operator_decides_for_any_org(members):
    db = members
    made = disputes.open_dispute(db, VALUE, reason="wrong digit", by=who("bank-x", "reader"))
    ops = Principal(org="registry-ops", role="operator", max_tlp="red", actor="ops")
    add_org(db, "registry-ops", "Registry operators")
    one = disputes.decide(db, made["id"], "delist", "for ccib-th, on its request", by=ops, org="ccib-th")
    assert one["applied"]["orgs"] == ["ccib-th"] and one["status"] == "open"
    # The server's command line, for every org left: the dispute closes.
    rest = disputes.decide(db, made["id"], "uphold", "the rest stands", by=ON_SERVER, actor="cli:root")
    assert (rest["applied"]["orgs"], rest["status"]) == (["pdrm-my"], "closed")
    assert assertions(db)["pdrm-my"]["end_reason"] is None


def test_a_value_hidden_from_the_caller_is_unknown_to_a_dispute(members):
    db = members
    report(db, "ccib-th", "hidden-call-centre.example", tlp="red")
    with pytest.raises(NotFound) as hidden:
        disputes.open_dispute(db, "hidden-call-centre.example", reason="x", by=who("pdrm-my", "reader"))
    with pytest.raises(NotFound) as unknown:
        disputes.open_dispute(db, "never-reported.example", reason="x", by=who("pdrm-my", "reader"))
    assert str(hidden.value).replace("hidden-call-centre", "N") == str(unknown.value).replace("never-reported", "N")
    # Its own org sees it (RED from itself) and may dispute it; the others do not see the dispute.
    made = disputes.open_dispute(db, "hidden-call-centre.example", reason="our mistake",
                                 by=who("ccib-th", "reader", "red"))
    assert disputes.list_disputes(db, who("pdrm-my", "reader")) == []
    with pytest.raises(NotFound):
        disputes.decide(db, made["id"], "delist", by=who("pdrm-my"))
    with pytest.raises(NotFound):
        disputes.get_dispute(db, made["id"], who("pdrm-my", "reader"))


def test_an_overdue_dispute_is_flagged_to_the_sources_still_to_decide(members):
    db = members
    made = disputes.open_dispute(db, VALUE, reason="not mine", by=who("bank-x", "reader"))
    disputes.decide(db, made["id"], "uphold", by=who("ccib-th"))
    assert disputes.flag_overdue(db, 10) == {"flagged": [], "closed": []}  # not yet
    later = utcnow() + timedelta(days=11)
    assert not disputes.list_disputes(db, who("bank-x", "reader"), dispute_days=10)[0]["overdue"]
    result = disputes.flag_overdue(db, 10, now=later)
    assert [(d["id"], d["orgs"]) for d in result["flagged"]] == [(made["id"], ["pdrm-my"])]
    shown = disputes.list_disputes(db, who("bank-x", "reader"), dispute_days=10)[0]
    assert shown["overdue"] and shown["flagged"] is not None
    assert disputes.flag_overdue(db, 10, now=later)["flagged"] == []  # flagged once

    from registry.services.audit import AuditLog, events

    log = AuditLog(db, synchronous=True)
    disputes.record_flags(log, result, actor="registry")
    log.close()
    rows = events(db, action="dispute-overdue")["events"]
    assert [(e["org"], e["subject"]["id"]) for e in rows] == [("pdrm-my", made["id"])]


def _delist_all(db, value: str = VALUE) -> None:
    made = disputes.open_dispute(db, value, reason="not a scammer", by=who("bank-x", "reader"))
    disputes.decide(db, made["id"], "delist", by=ON_SERVER, actor="cli:test")


def test_a_feed_run_holds_a_delisted_value_it_reports_again(members, tmp_path):
    db = members
    listed = tmp_path / "list.txt"
    listed.write_text(f"{VALUE}\nother-scam.example\n")
    add_feed(db, "partner-phones", f"file://{listed}", "text", provider="pdrm-my", batch_size=1)
    first = run_feed(db, "partner-phones")
    assert (first.new, first.held) == (2, 0)
    _delist_all(db)
    before = assertions(db)
    assert set(before) == {"ccib-th", "pdrm-my", "pdrm-my/partner-phones"}
    assert {a["end_reason"] for a in before.values()} == {"delisted"}
    listed.write_text(f"# today's list\n{VALUE}\nother-scam.example\n")  # changed: read again
    again = run_feed(db, "partner-phones")
    assert (again.status, again.held, again.unchanged, again.new) == ("ok", 1, 1, 0)
    assert again.to_dict()["held"] == 1
    assert assertions(db) == before  # every assertion stays ended, none is added
    from registry.services.feeds import feed_runs

    assert feed_runs(db, "partner-phones", Viewer.operator())["runs"][0]["held"] == 1  # the feed_run row's
    from registry.services.audit import events

    held = events(db, action="held")["events"]
    assert [(e["org"], e["actor"], e["subject"]["values"]) for e in held] == [("pdrm-my", "feed:partner-phones",
                                                                              [VALUE])]


def test_an_import_holds_it_and_a_person_relists_it_with_a_reason(members, tmp_path):
    db = members
    _delist_all(db)
    path = tmp_path / "numbers.txt"
    path.write_text(f"{VALUE}\n+66812223355\n")
    _, held = import_file(db, path, Provenance(org="bank-x", region="TH"), relist_days=30)
    assert (held.held, held.new, held.to_dict()["held"]) == (1, 1, 1)
    assert "bank-x" not in assertions(db)  # no new assertion for the held value
    # Past the relist days a report relists it as any other.
    _, later = import_file(db, path, Provenance(org="bank-x", region="TH"), relist_days=0)
    assert (later.held, later.new) == (0, 1)
    assert assertions(db)["bank-x"]["end_reason"] is None

    # A person's submission: held, saying how to relist; then relisted with a reason.
    with db.write() as conn:
        refused = submit(conn, Provenance(org="ccib-th", region="TH"), [Submission(value=VALUE)], keep_results=True,
                         relist_days=30)
    assert refused.held == 1 and refused.results[0]["status"] == "held"
    assert '"relist": true' in refused.results[0]["reason"] and assertions(db)["ccib-th"]["end_reason"] == "delisted"
    seq = assertions(db)["ccib-th"]["seq"]
    with db.write() as conn:
        relisted = submit(conn, Provenance(org="ccib-th", region="TH"),
                          [Submission(value=VALUE, relist="seen again in case CCIB-2026-201")], keep_results=True,
                          relist_days=30)
    assert relisted.results[0]["status"] == "updated" and relisted.held == 0
    assert relisted.relisted == [{"value": VALUE, "reason": "seen again in case CCIB-2026-201"}]
    now_in_force = assertions(db)["ccib-th"]
    assert now_in_force["end_reason"] is None and now_in_force["valid_until"] is None and now_in_force["seq"] > seq
    assert answer(db, who("ccib-th"))["score"] > 0
