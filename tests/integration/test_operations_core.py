"""The operations and relationships core on both engines: create, members, visibility under the
one TLP rule, who may change, relationships stated once per org and type."""

from __future__ import annotations

import pytest

from registry.domain.tlp import AMBER, GREEN, RED, Viewer
from registry.services import operations, relationships
from registry.services.access import ON_SERVER
from registry.services.errors import Forbidden, Invalid, NotFound
from registry.services.keys import Principal
from registry.storage import indicators as ind_store
from registry.storage import relationships as rel_store
from tests.helpers import add_member_orgs

CCIB = Principal(org="ccib-th", role="contributor", max_tlp=RED, actor="reg_ccib")
CCIB_GREEN = Principal(org="ccib-th", role="contributor", max_tlp=GREEN, actor="reg_ccib2")
CCIB_READER = Principal(org="ccib-th", role="reader", max_tlp=RED, actor="reg_ccib3")
PDRM = Principal(org="pdrm-my", role="contributor", max_tlp=RED, actor="reg_pdrm")


def test_operation_life_and_visibility(db):
    add_member_orgs(db)
    made = operations.create(db, CCIB, name="Compound K7, Sihanoukville", tlp=AMBER, labels=["call-centre-scam"])
    uid = made["id"]
    got = operations.add_values(db, uid, ["+855971234567", "KBank 123-4-56789-0", "t.me/k7_support",
                                          "kbank-verify.example", "not a value at all"], CCIB, region="TH")
    assert sorted(got["added"]) == sorted(["+855971234567", "acct:TH:KASI:1234567890", "telegram:k7_support",
                                           "kbank-verify.example"])
    assert [r["value"] for r in got["rejected"]] == ["not a value at all"]
    again = operations.add_values(db, uid, ["+855971234567"], CCIB)
    assert again["added"] == [] and again["already"] == ["+855971234567"]
    with db.read() as conn:
        ids = ind_store.indicator_ids(conn, ["+855971234567"])
        member_of = operations.memberships(conn, list(ids.values()), Viewer("pdrm-my", AMBER))
        hidden = operations.memberships(conn, list(ids.values()), Viewer("pdrm-my", GREEN))
    assert member_of == {ids["+855971234567"]: [{"id": uid, "name": "Compound K7, Sihanoukville", "org": "ccib-th",
                                                  "tlp": AMBER}]}
    assert hidden == {}
    assert [o["id"] for o in operations.listing(db, PDRM)] == [uid]
    assert operations.listing(db, CCIB_GREEN) == []
    with pytest.raises(NotFound):
        operations.add_values(db, uid, ["1.2.3.4"], CCIB_GREEN)  # cannot see it: it does not exist for them
    with pytest.raises(Forbidden):
        operations.add_values(db, uid, ["1.2.3.4"], PDRM)  # sees it, but it is ccib's
    with pytest.raises(Forbidden):
        operations.set_status(db, uid, "closed", CCIB_READER)
    assert operations.set_status(db, uid, "closed", CCIB)["status"] == "closed"
    assert operations.listing(db, ON_SERVER, status="closed", value="+855971234567")[0]["id"] == uid
    operations.remove_value(db, uid, "+855971234567", CCIB)
    assert operations.listing(db, ON_SERVER, value="+855971234567") == []
    red = operations.create(db, CCIB, name="red op", tlp=RED)
    assert red["id"] not in [o["id"] for o in operations.listing(db, PDRM)]
    with pytest.raises(Invalid):
        operations.create(db, CCIB_GREEN, name="too high", tlp=AMBER)


def test_relationships_once_per_org_and_type(db):
    add_member_orgs(db)
    first = relationships.link(db, CCIB, "+855971234567", "KBank 123-4-56789-0", "pays-to", tlp=AMBER, region="TH")
    again = relationships.link(db, CCIB, "+855971234567", "KBank 123-4-56789-0", "Pays To", tlp=AMBER,
                               confidence=80, region="TH")
    other = relationships.link(db, PDRM, "+855971234567", "KBank 123-4-56789-0", "pays-to", tlp=RED, region="TH")
    assert first["status"] == "new" and again == {**first, "status": "updated", "confidence": 80}
    assert other["id"] != first["id"]
    with db.read() as conn:
        ids = ind_store.indicator_ids(conn, ["+855971234567"])
        seen_by_ccib = rel_store.touching(conn, list(ids.values()), Viewer("ccib-th", RED))
        counts = rel_store.counts(conn, list(ids.values()), Viewer("pdrm-my", RED))
    assert [r.org for r in seen_by_ccib] == ["ccib-th"]  # pdrm's RED statement is pdrm's alone
    assert counts == {ids["+855971234567"]: 2}
    with pytest.raises(Invalid):
        relationships.link(db, CCIB, "a.example", "b.example", "owns")
    with pytest.raises(Invalid):
        relationships.link(db, CCIB, "a.example", "a.example", "related-to")
    with pytest.raises(Forbidden):
        relationships.link(db, CCIB_READER, "a.example", "b.example", "related-to")


def test_operation_and_relationship_changes_join_the_event_stream(db):
    """A value put in an operation and a relationship stated reach the values' watchers (and the
    owners of the values), at the operation's and the statement's level."""
    import uuid as uuid_mod

    from registry.domain import events as ev
    from registry.domain.normalize import normalize
    from registry.domain.times import utcnow
    from registry.services import events
    from registry.storage import orgs as org_store
    from registry.storage import watches as watch_store

    add_member_orgs(db)
    with db.write() as conn:
        pdrm = org_store.get(conn, "pdrm-my").id
        for raw in ("+855971234567", "k7-verify.example"):
            value = normalize(raw)[0]
            watch_store.insert(conn, uid=str(uuid_mod.uuid4()), org_id=pdrm, key=value.value, kind=value.kind,
                               kinds="", labels="", sources="", created=utcnow())
    made = operations.create(db, CCIB, name="Compound K7", tlp=AMBER)
    operations.add_values(db, made["id"], ["+855971234567"], CCIB)
    hidden = operations.create(db, CCIB, name="red op", tlp=RED)
    operations.add_values(db, hidden["id"], ["k7-verify.example"], CCIB)  # RED: never reaches pdrm
    relationships.link(db, CCIB, "+855971234567", "k7-verify.example", "contacts", tlp=GREEN)
    with db.read() as conn:
        got, _ = events.read(conn, Viewer("pdrm-my", AMBER), pdrm)
    shown = [(e["type"], e["value"]) for e in got]
    assert shown == [(ev.OPERATION_MEMBER, "+855971234567"), (ev.RELATIONSHIP, "+855971234567"),
                     (ev.RELATIONSHIP, "k7-verify.example")]
    assert got[0]["operation"] == {"id": made["id"], "name": "Compound K7", "org": "ccib-th", "tlp": AMBER}
    assert got[1]["relationship"]["type"] == "contacts" and got[1]["org"] == "ccib-th" and got[1]["tlp"] == GREEN
