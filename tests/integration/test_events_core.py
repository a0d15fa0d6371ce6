"""The event core on both engines: routing by watches (through probe keys) and to the owners of
an indicator, the TLP rule over what an event reveals, reading in order with ``next``."""

from __future__ import annotations

import uuid

from registry.domain import events as ev
from registry.domain.kinds import DOMAIN, IPV4, PHONE, URL
from registry.domain.normalize import normalize
from registry.domain.times import utcnow
from registry.domain.tlp import AMBER, GREEN, RED, Viewer
from registry.services import events
from registry.services.orgs import add_org
from registry.storage import watches as watch_store
from tests.helpers import add_member_orgs


def _watch(conn, org_id, raw=None, *, label=None, kinds="", labels="", sources=""):
    row = dict(uid=str(uuid.uuid4()), org_id=org_id, label=label, kinds=kinds, labels=labels, sources=sources,
               created=utcnow())
    if raw is not None:
        value = normalize(raw)[0]
        row.update(key=value.value, kind=value.kind, prefix_len=value.prefix_len, range_start=value.range_start)
    watch_store.insert(conn, **row)
    return row["uid"]


def _event(kind, value, *, tlp=GREEN, source="pdrm-my", labels=(), **more):
    return ev.NewEvent(type=ev.REPORTED, time=utcnow(), tlp=tlp, source=source, org=source, kind=kind, value=value,
                       labels=labels, **more)


def _orgs(db):
    add_member_orgs(db)
    add_org(db, "pnp-ph", "Philippine National Police", "PH")
    with db.read() as conn:
        from sqlalchemy import text

        return dict(conn.execute(text("SELECT slug, id FROM organization")).all())


def test_watches_route_by_probe_keys_and_labels(db):
    ids = _orgs(db)
    th, my, ph = ids["ccib-th"], ids["pdrm-my"], ids["pnp-ph"]
    with db.write() as conn:
        net = _watch(conn, th, "103.21.0.0/16")
        block = _watch(conn, th, "+85597*")
        dom = _watch(conn, ph, "evil.example", kinds=",url,")
        label = _watch(conn, ph, label="call-centre-scam")
        events.emit(conn, [
            _event(IPV4, "103.21.4.5", labels=("call-centre-scam",)),  # th by network, ph by label
            _event(PHONE, "+855971234567"),  # th by block
            _event(URL, "https://a.evil.example/login"),  # ph: a URL under the domain
            _event(DOMAIN, "evil.example"),  # ph's watch takes URLs only
            _event(IPV4, "8.8.8.8"),  # no one
        ])
    with db.read() as conn:
        th_events, th_next = events.read(conn, Viewer("ccib-th", AMBER), th)
        ph_events, _ = events.read(conn, Viewer("pnp-ph", AMBER), ph)
        my_events, _ = events.read(conn, Viewer("pdrm-my", AMBER), my)
    assert [(e["value"], e["watches"]) for e in th_events] == [("103.21.4.5", [net]), ("+855971234567", [block])]
    assert [(e["value"], e["watches"]) for e in ph_events] == [("103.21.4.5", [label]),
                                                              ("https://a.evil.example/login", [dom])]
    assert my_events == []
    assert th_next == 5  # past the events it does not receive too
    first = th_events[0]
    assert set(first) >= {"seq", "type", "time", "kind", "value", "org", "tlp", "watches"}
    assert first["type"] == "indicator.reported" and first["org"] == "pdrm-my" and first["tlp"] == GREEN


def test_tlp_rule_over_routed_events(db):
    ids = _orgs(db)
    th, my = ids["ccib-th"], ids["pdrm-my"]
    with db.write() as conn:
        _watch(conn, th, "evil.example")
        events.emit(conn, [
            _event(DOMAIN, "red.evil.example", tlp=RED),  # pdrm's RED: never routed to ccib
            _event(DOMAIN, "amber.evil.example", tlp=AMBER),
            _event(DOMAIN, "own.evil.example", tlp=RED, source="ccib-th"),
        ])
    with db.read() as conn:
        wide, _ = events.read(conn, Viewer("ccib-th", RED), th)
        green, green_next = events.read(conn, Viewer("ccib-th", GREEN), th)
        peer, _ = events.read(conn, Viewer("pdrm-my", RED), my, everything=True)
    assert [e["value"] for e in wide] == ["amber.evil.example", "own.evil.example"]
    assert green == [] and green_next == 3
    assert [e["value"] for e in peer] == ["red.evil.example", "amber.evil.example"]


def test_owners_hear_of_a_report_they_may_see(db):
    ids = _orgs(db)
    th, my = ids["ccib-th"], ids["pdrm-my"]
    from registry.services.submit import Provenance, Submission, submit

    with db.write() as conn:
        submit(conn, Provenance(org="ccib-th", tlp=AMBER), [Submission("scam.example")])
        submit(conn, Provenance(org="ccib-th", tlp=RED), [Submission("hidden.example")])
    with db.read() as conn:
        got = events.owners(conn, ["scam.example", "hidden.example"], my, Viewer("pdrm-my", RED), utcnow())
    assert got == {"scam.example": ((th, "ccib-th"),)}
    with db.write() as conn:
        events.emit(conn, [_event(DOMAIN, "scam.example", owners=got["scam.example"], actor_id=my)])
    with db.read() as conn:
        th_events, _ = events.read(conn, Viewer("ccib-th", AMBER), th)
    assert [(e["value"], e["watches"]) for e in th_events][-1] == ("scam.example", [])
