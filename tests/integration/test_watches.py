"""Watches made by ``services.watches`` on SQLite and PostgreSQL: what each kind of watch catches,
proven end to end through ``services.events.emit`` and ``services.events.read``; the narrowing by
kinds, labels and sources; the TLP rule; duplicates, the cap, every validation error naming its
field; who may remove which watch (docs/api.md, "Watches")."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import text

from registry.domain import events as ev
from registry.domain.kinds import (
    BANK_ACCOUNT,
    CRYPTO_WALLET,
    DOMAIN,
    EMAIL,
    FILE_HASH,
    IPV4,
    KINDS,
    PHONE,
    URL,
    USER_ACCOUNT,
)
from registry.domain.times import utcnow
from registry.domain.tlp import AMBER, GREEN, RED, Viewer
from registry.services import events, watches
from registry.services.access import ON_SERVER
from registry.services.errors import Conflict, Forbidden, Invalid, NotFound
from registry.services.keys import Principal
from registry.services.orgs import add_org
from registry.storage import events as event_store
from tests.helpers import add_member_orgs, kind_value


@pytest.fixture
def orgs(db) -> dict[str, int]:
    add_member_orgs(db)
    add_org(db, "pnp-ph", "Philippine National Police", "PH")
    with db.read() as conn:
        return dict(conn.execute(text("SELECT slug, id FROM organization")).all())


def _add(db, org="ccib-th", actor="somchai", **given) -> watches.Added:
    with db.write() as conn:
        return watches.add(conn, org, actor, **given)


def _event(kind, value, *, tlp=GREEN, source="pdrm-my", labels=()):
    return ev.NewEvent(type=ev.REPORTED, time=utcnow(), tlp=tlp, source=source, org=source, kind=kind, value=value,
                       labels=labels)


def _routed(db, orgs, sent: list[ev.NewEvent], org="ccib-th", cap=AMBER) -> list[tuple[str, list[str]]]:
    """Emit ``sent``; (value, watch ids) of each that reached ``org``, read as its key capped at ``cap``."""
    with db.read() as conn:
        after = event_store.head(conn)
    with db.write() as conn:
        events.emit(conn, sent)
    with db.read() as conn:
        got, _ = events.read(conn, Viewer(org, cap), orgs[org], after=after)
    return [(e["value"], e["watches"]) for e in got]


def test_each_kind_of_watch_catches_what_it_covers(db, orgs):
    net = _add(db, value="103.21.0.0/16").watch
    host = _add(db, value="evil.example").watch
    block = _add(db, value="+85597*", labels=["call-centre-scam"]).watch
    account = _add(db, value="KBank 123-4-56789-0").watch
    label = _add(db, label="mule-account").watch
    assert (net["value"], net["kind"]) == ("103.21.0.0/16", IPV4)
    assert (block["value"], block["kind"], block["labels"]) == ("+85597*", PHONE, ["call-centre-scam"])
    assert (account["value"], account["kind"]) == ("acct:TH:KASI:1234567890", BANK_ACCOUNT)
    assert (label["value"], label["kind"], label["label"]) == (None, None, "mule-account")

    got = _routed(db, orgs, [
        _event(IPV4, "103.21.4.5"),  # inside the network
        _event(IPV4, "103.22.0.1"),  # outside
        _event(DOMAIN, "login.evil.example"),  # a host under the domain
        _event(URL, "https://a.b.evil.example/pay?x=1"),  # a URL under it
        _event(EMAIL, "support@evil.example"),  # an e-mail address at it
        _event(DOMAIN, "notevil.example"),  # another domain
        _event(PHONE, "+855971234567", labels=("call-centre-scam",)),  # in the block, with the label
        _event(PHONE, "+855971234568"),  # in the block, without it
        _event(PHONE, "+855981234567", labels=("call-centre-scam",)),  # another block
        _event(BANK_ACCOUNT, "acct:TH:KASI:1234567890"),  # the account
        _event(BANK_ACCOUNT, "acct:TH:-:1234567890"),  # its number, the bank unknown
        _event(BANK_ACCOUNT, "acct:TH:BKKB:9999999999", labels=("mule-account",)),  # the label
    ])
    assert got == [
        ("103.21.4.5", [net["id"]]), ("login.evil.example", [host["id"]]),
        ("https://a.b.evil.example/pay?x=1", [host["id"]]), ("support@evil.example", [host["id"]]),
        ("+855971234567", [block["id"]]), ("acct:TH:KASI:1234567890", [account["id"]]),
        ("acct:TH:-:1234567890", [account["id"]]), ("acct:TH:BKKB:9999999999", [label["id"]]),
    ]


def test_every_kind_is_watched_exactly(db, orgs):
    made = {kind: _add(db, value=kind_value(kind, 7)).watch for kind in KINDS}
    assert {kind: w["kind"] for kind, w in made.items()} == {kind: kind for kind in KINDS}
    got = _routed(db, orgs, [_event(kind, kind_value(kind, 7)) for kind in KINDS]
                  + [_event(kind, kind_value(kind, 8)) for kind in (CRYPTO_WALLET, USER_ACCOUNT, FILE_HASH)])
    assert got == [(kind_value(kind, 7), [made[kind]["id"]]) for kind in KINDS]


def test_narrowing_by_kinds_labels_and_sources(db, orgs):
    urls = _add(db, value="shop.example", kinds=["url"]).watch
    from_my = _add(db, value="198.51.100.0/24", sources=["pdrm-my"]).watch
    both = _add(db, label="phishing", kinds=["domain", "url"], sources=["pnp-ph", "pdrm-my"]).watch
    assert (urls["kinds"], from_my["sources"], both["kinds"], both["sources"]) == (
        ["url"], ["pdrm-my"], ["domain", "url"], ["pdrm-my", "pnp-ph"])
    got = _routed(db, orgs, [
        _event(DOMAIN, "a.shop.example"),  # a domain: the watch takes URLs only
        _event(URL, "https://a.shop.example/"),
        _event(IPV4, "198.51.100.7", source="pnp-ph"),  # another source
        _event(IPV4, "198.51.100.8"),
        _event(IPV4, "192.0.2.1", labels=("phishing",)),  # the label, another kind
        _event(DOMAIN, "phish.example", labels=("phishing", "bank"), source="pnp-ph"),
        _event(DOMAIN, "phish2.example", labels=("phishing",), source="ccib-th"),  # another source
    ])
    assert got == [("https://a.shop.example/", [urls["id"]]), ("198.51.100.8", [from_my["id"]]),
                   ("phish.example", [both["id"]])]


def test_routing_never_reveals_what_the_watcher_may_not_see(db, orgs):
    watch = _add(db, value="evil.example").watch
    _add(db, org="pdrm-my", actor="aisyah", value="evil.example")
    sent = [_event(DOMAIN, "red.evil.example", tlp=RED),  # pdrm-my's RED: its own org only
            _event(DOMAIN, "amber.evil.example", tlp=AMBER),
            _event(DOMAIN, "own.evil.example", tlp=RED, source="ccib-th")]
    assert _routed(db, orgs, sent, cap=RED) == [("amber.evil.example", [watch["id"]]),
                                                ("own.evil.example", [watch["id"]])]
    with db.read() as conn:
        green, _ = events.read(conn, Viewer("ccib-th", GREEN), orgs["ccib-th"])
        pdrm, _ = events.read(conn, Viewer("pdrm-my", RED), orgs["pdrm-my"])
    assert green == []  # a key capped at GREEN sees neither AMBER event
    assert [e["value"] for e in pdrm] == ["red.evil.example", "amber.evil.example"]  # not ccib-th's RED


def test_national_values_read_in_the_orgs_country(db, orgs):
    assert _add(db, value="081 234 5678").watch["value"] == "+66812345678"
    assert _add(db, org="pdrm-my", value="012-345 6789").watch["value"] == "+60123456789"


def test_the_same_watch_answers_the_one_the_org_has(db, orgs):
    first = _add(db, value="+85597*", labels=["call-centre-scam"], kinds=["phone"])
    again = _add(db, value="+855 97*", labels=["Call Centre Scam", "call-centre-scam"], kinds=["phone", "phone"],
                 actor="another")
    assert first.new and not again.new and again.watch == first.watch
    wider = _add(db, value="+85597*", labels=["call-centre-scam"])  # another narrowing: another watch
    theirs = _add(db, org="pdrm-my", value="+85597*", labels=["call-centre-scam"], kinds=["phone"])
    label, label_again = _add(db, label="mule-account"), _add(db, label="#Mule Account")
    assert wider.new and theirs.new and wider.watch["id"] != first.watch["id"] != theirs.watch["id"]
    assert label.new and not label_again.new and label_again.watch["id"] == label.watch["id"]
    with db.read() as conn:
        assert [w["id"] for w in watches.list_watches(conn, "ccib-th")] == [
            first.watch["id"], wider.watch["id"], label.watch["id"]]


def test_an_org_keeps_at_most_the_cap(db, orgs, monkeypatch):
    monkeypatch.setattr(watches, "MAX_WATCHES", 2)
    _add(db, value="a.example")
    _add(db, value="b.example")
    with pytest.raises(Conflict, match="ccib-th has 2 watches, the most an org may have"):
        _add(db, value="c.example")
    assert not _add(db, value="a.example").new  # the same one still answers
    assert _add(db, org="pdrm-my", value="c.example").new  # per org


@pytest.mark.parametrize(("given", "field", "message"), [
    ({}, "value", "give the value to watch"),
    ({"value": "  "}, "value", "give the value to watch"),
    ({"value": "evil.example", "label": "phishing"}, "label", "not both"),
    ({"value": "not a value at all"}, "value", "not a recognised indicator"),
    ({"value": "10.0.0.0-10.0.0.2"}, "value", "covers 2 networks (10.0.0.0/31, 10.0.0.2)"),
    ({"value": "co.th"}, "value", "co.th is a public suffix"),
    ({"value": "x" * 2049}, "value", "at most 2,048 characters"),
    ({"value": "evil.example", "kinds": ["domain", "ip"]}, "kinds", "unknown kind 'ip'"),
    ({"value": "evil.example", "kinds": "domain"}, "kinds", "must be a list"),
    ({"value": "evil.example", "labels": ["no/slashes"]}, "labels", "short slug"),
    ({"value": "evil.example", "labels": ["a-" + str(n) for n in range(300)]}, "labels", "at most 1000 characters"),
    ({"value": "evil.example", "sources": ["ccib-th", "nobody"]}, "sources", "no org 'nobody'"),
    ({"value": "evil.example", "sources": [3]}, "sources", "must hold text"),
    ({"label": "no/slashes"}, "label", "short slug"),
    ({"label": "###"}, "label", "short slug"),
    ({"label": "phishing", "labels": ["bank"]}, "labels", "a label watch is the label alone"),
])
def test_invalid_watches_name_the_field(db, orgs, given, field, message):
    with pytest.raises(Invalid, match=re.escape(message)) as raised:
        _add(db, **given)
    assert raised.value.field == field
    with db.read() as conn:
        assert watches.list_watches(conn, "ccib-th") == []


def test_an_unknown_org_is_named(db, orgs):
    with pytest.raises(NotFound, match="unknown org 'nobody'"):
        _add(db, org="nobody", value="evil.example")


def test_who_removes_which_watch_and_routing_follows(db, orgs):
    reader = Principal(org="ccib-th", role="reader", max_tlp="amber", actor="ccib-green")
    contributor = Principal(org="ccib-th", role="contributor", max_tlp="red", actor="somchai")
    theirs = _add(db, value="evil.example", actor="somchai").watch
    own = _add(db, value="198.51.100.0/24", actor="ccib-green").watch
    other_org = _add(db, org="pdrm-my", actor="aisyah", value="evil.example").watch
    assert [w for _, w in _routed(db, orgs, [_event(DOMAIN, "a.evil.example")])] == [[theirs["id"]]]

    with db.write() as conn, pytest.raises(Forbidden, match="a reader removes only the watches it made; somchai"):
        watches.remove(conn, "ccib-th", theirs["id"], by=reader)
    for uid, by in ((other_org["id"], contributor), ("no-such-watch", contributor), (other_org["id"], ON_SERVER),
                    (theirs["id"], Principal(org="pdrm-my", role="admin", max_tlp="red", actor="x"))):
        with db.write() as conn, pytest.raises(NotFound, match="no watch") as raised:
            watches.remove(conn, "ccib-th", uid, by=by)
        assert raised.value.field == "id"
    with db.write() as conn:
        assert watches.remove(conn, "ccib-th", own["id"], by=reader) == own
        assert watches.remove(conn, "ccib-th", theirs["id"], by=contributor) == theirs
    with db.read() as conn:
        assert watches.list_watches(conn, "ccib-th") == []
    # The watch index held in the database's caches follows the removal.
    assert _routed(db, orgs, [_event(DOMAIN, "b.evil.example"), _event(IPV4, "198.51.100.1")]) == []
    assert _routed(db, orgs, [_event(DOMAIN, "c.evil.example")], org="pdrm-my") == [
        ("c.evil.example", [other_org["id"]])]
    with db.write() as conn:
        watches.remove(conn, "pdrm-my", other_org["id"], by=ON_SERVER)


def test_two_adders_of_one_watch_at_once_make_one(db, orgs):
    """The second waits for the first's transaction (the org's row lock on PostgreSQL, the write
    lock on SQLite), then finds its watch."""
    second: list[watches.Added] = []
    with db.write() as conn:
        first = watches.add(conn, "ccib-th", "somchai", value="evil.example")
        racer = threading.Thread(target=lambda: second.append(_add(db, value="evil.example", actor="other")))
        racer.start()
        racer.join(0.5)
        assert racer.is_alive()  # held until the first commits
    racer.join(30)
    assert first.new and len(second) == 1 and not second[0].new and second[0].watch == first.watch
