"""The pivot graph (services.graph) and `registry graph` on both engines: one and two steps out, the
cap and truncated, the one TLP rule over relationships and over each node's score, the value read
as a lookup reads it (docs/design.md, "The pivot graph")."""

from __future__ import annotations

import orjson
import pytest

from registry.domain.operations import GRAPH_MAX_NODES
from registry.domain.tlp import AMBER, GREEN, RED, Viewer
from registry.services import graph, relationships
from registry.services.access import ON_SERVER
from registry.services.errors import Invalid
from registry.services.lookup import lookup
from registry.services.submit import Provenance, Submission, Submitter
from tests.helpers import add_member_orgs

PHONE, ACCOUNT, TELEGRAM, DOMAIN, HOST = (
    "+855971234567", "acct:TH:KASI:1234567890", "telegram:k7_support", "kbank-verify.example", "45.77.10.9")
CCIB = Viewer("ccib-th", RED)
PDRM = Viewer("pdrm-my", RED)


def _link(db, org: str, source: str, target: str, type_: str, tlp: str = GREEN, confidence: int = 50):
    return relationships.link(db, ON_SERVER, source, target, type_, org=org, tlp=tlp, confidence=confidence,
                              region="TH")


def _report(db, org: str, value: str, tlp: str, confidence: int) -> None:
    with db.write() as conn:
        submitter = Submitter(conn, Provenance(org=org, region="TH"))
        submitter.add(Submission(value=value, tlp=tlp, confidence=confidence))
        submitter.finish()


@pytest.fixture
def compound(db):
    """Compound K7: the phone pays to a KBank account and contacts a Telegram account (ccib-th,
    GREEN and AMBER); pdrm-my says, at RED, that the Telegram account runs the phishing domain;
    ccib-th that the domain is hosted on an address. The phone is reported by ccib-th at AMBER and
    by pdrm-my at RED."""
    add_member_orgs(db)
    _link(db, "ccib-th", PHONE, "KBank 123-4-56789-0", "pays-to", AMBER, 80)
    _link(db, "ccib-th", PHONE, "t.me/k7_support", "contacts", GREEN, 60)
    _link(db, "pdrm-my", TELEGRAM, DOMAIN, "same-operator", RED, 90)
    _link(db, "ccib-th", DOMAIN, HOST, "resolves-to", GREEN, 70)
    _report(db, "ccib-th", PHONE, AMBER, 60)
    _report(db, "pdrm-my", PHONE, RED, 95)
    return db


def _around(db, value: str, viewer: Viewer, depth=2, **kwargs) -> dict:
    with db.read() as conn:
        return graph.neighbourhood(conn, value, viewer, depth, **kwargs)


def _nodes(answer: dict) -> dict[str, int]:
    return {n["value"]: n["distance"] for n in answer["nodes"]}


def _edges(answer: dict) -> set[tuple[str, str, str, str]]:
    return {(e["source"], e["type"], e["target"], e["org"]) for e in answer["edges"]}


def test_one_and_two_steps_out(compound):
    one = _around(compound, "+855 97 123 4567", Viewer.operator(), 1)
    assert (one["value"], one["depth"], one["cap"], one["truncated"]) == (PHONE, 1, GRAPH_MAX_NODES, False)
    assert _nodes(one) == {PHONE: 0, ACCOUNT: 1, TELEGRAM: 1}
    assert one["nodes"][0]["value"] == PHONE
    assert [n["value"] for n in one["nodes"][1:]] == [ACCOUNT, TELEGRAM]  # the stronger statement first
    assert _edges(one) == {(PHONE, "pays-to", ACCOUNT, "ccib-th"), (PHONE, "contacts", TELEGRAM, "ccib-th")}
    edge = next(e for e in one["edges"] if e["type"] == "pays-to")
    assert (edge["tlp"], edge["confidence"]) == (AMBER, 80) and len(edge["id"]) == 36

    two = _around(compound, PHONE, Viewer.operator())
    assert two["depth"] == graph.DEFAULT_DEPTH == 2
    assert _nodes(two) == {PHONE: 0, ACCOUNT: 1, TELEGRAM: 1, DOMAIN: 2}  # HOST is three steps out
    assert (TELEGRAM, "same-operator", DOMAIN, "pdrm-my") in _edges(two)
    # Two steps out from the domain: the address, the Telegram account and, through it, the phone.
    assert _nodes(_around(compound, DOMAIN, Viewer.operator())) == {DOMAIN: 0, TELEGRAM: 1, HOST: 1, PHONE: 2}


def test_links_among_the_outer_ring_are_edges(compound):
    _link(compound, "ccib-th", ACCOUNT, "t.me/k7_support", "related-to")  # two neighbours of the phone
    _link(compound, "ccib-th", DOMAIN, "pay-k7.example", "redirects-to")
    _link(compound, "ccib-th", HOST, "pay-k7.example", "hosts")  # two values two steps from the telegram
    one = _around(compound, PHONE, CCIB, 1)
    assert (ACCOUNT, "related-to", TELEGRAM, "ccib-th") in _edges(one)
    two = _around(compound, TELEGRAM, Viewer.operator())
    assert _nodes(two) == {TELEGRAM: 0, PHONE: 1, ACCOUNT: 1, DOMAIN: 1, HOST: 2, "pay-k7.example": 2}
    assert {(HOST, "hosts", "pay-k7.example", "ccib-th"), (DOMAIN, "redirects-to", "pay-k7.example", "ccib-th"),
            (ACCOUNT, "related-to", TELEGRAM, "ccib-th")} <= _edges(two)
    assert len(two["edges"]) == len({e["id"] for e in two["edges"]})  # each statement once


def test_what_the_viewer_may_not_see_is_not_in_the_graph(compound):
    # pdrm-my's RED statement is pdrm-my's alone: not an edge for ccib-th, and the domain, reached
    # only through it, is no node; the address beyond it neither.
    for_ccib = _around(compound, PHONE, CCIB)
    assert _nodes(for_ccib) == {PHONE: 0, ACCOUNT: 1, TELEGRAM: 1}
    assert all(e["org"] == "ccib-th" for e in for_ccib["edges"])
    assert _nodes(_around(compound, PHONE, PDRM)) == {PHONE: 0, ACCOUNT: 1, TELEGRAM: 1, DOMAIN: 2}
    # A GREEN-capped key sees neither the AMBER payment nor the RED statement.
    assert _nodes(_around(compound, PHONE, Viewer("bank-x", GREEN))) == {PHONE: 0, TELEGRAM: 1}
    # The domain asked for directly: the Telegram account is linked only through the hidden statement.
    assert _nodes(_around(compound, DOMAIN, CCIB)) == {DOMAIN: 0, HOST: 1}


def test_each_node_scores_what_the_viewers_own_lookup_says(compound):
    for viewer in (CCIB, PDRM, Viewer("bank-x", GREEN)):
        answer = _around(compound, PHONE, viewer, 1)
        with compound.read() as conn:
            looked = lookup(conn, [n["value"] for n in answer["nodes"]], viewer)
        assert [(n["listed"], n["score"]) for n in answer["nodes"]] == [(a["listed"], a["score"]) for a in looked]
    ccib, pdrm, bank = (_around(compound, PHONE, v, 1)["nodes"][0] for v in (CCIB, PDRM, Viewer("bank-x", GREEN)))
    assert ccib["listed"] and pdrm["listed"] and ccib["score"] < pdrm["score"]  # pdrm's own RED report counts for pdrm
    assert (bank["listed"], bank["score"]) == (False, 0)  # AMBER and RED reports: hidden, so not listed


def test_the_cap_keeps_the_nearest_and_strongest_and_says_truncated(db):
    add_member_orgs(db)
    weak = [f"weak{i}.hub.example" for i in range(5)]
    strong = [f"n{i}.hub.example" for i in range(GRAPH_MAX_NODES)]
    for value in weak:
        _link(db, "ccib-th", "hub.example", value, "hosts", confidence=10)
    for value in strong:
        _link(db, "ccib-th", "hub.example", value, "hosts", confidence=60)
    _link(db, "ccib-th", "n0.hub.example", "beyond.example", "redirects-to")
    answer = _around(db, "hub.example", CCIB)
    assert len(answer["nodes"]) == GRAPH_MAX_NODES and answer["truncated"] and answer["cap"] == GRAPH_MAX_NODES
    kept = _nodes(answer)
    assert not set(weak) & set(kept) and "beyond.example" not in kept  # nearer and stronger first
    assert set(kept) == {"hub.example", *strong[: GRAPH_MAX_NODES - 1]}  # equal confidence: the older first
    assert len(answer["edges"]) == GRAPH_MAX_NODES - 1
    # Exactly at the cap after one step, with more two steps out: truncated too.
    exact = _around(db, "n0.hub.example", CCIB)
    assert _nodes(exact)["beyond.example"] == 1 and len(exact["nodes"]) == GRAPH_MAX_NODES and exact["truncated"]
    # One step out from a value with fewer neighbours than the cap: whole.
    small = _around(db, "beyond.example", CCIB)
    assert _nodes(small) == {"beyond.example": 0, "n0.hub.example": 1, "hub.example": 2} and not small["truncated"]


def test_a_step_reading_too_many_relationships_says_truncated(compound, monkeypatch):
    monkeypatch.setattr(graph, "ROWS_PER_STEP", 1)
    answer = _around(compound, PHONE, Viewer.operator())
    assert answer["truncated"] and _nodes(answer) == {PHONE: 0, ACCOUNT: 1}


def test_the_value_is_read_as_a_lookup_reads_it(db):
    add_member_orgs(db)
    # Unknown, or known with nothing linked: the value alone, answered as its lookup is.
    alone = _around(db, "9.9.9.9", CCIB)
    assert alone == {"value": "9.9.9.9", "depth": 2, "nodes": [{"kind": "ipv4", "value": "9.9.9.9", "listed": False,
                     "score": 0, "distance": 0}], "edges": [], "truncated": False, "cap": GRAPH_MAX_NODES}
    _report(db, "ccib-th", "evil.example", GREEN, 80)
    covered = _around(db, "login.evil.example", CCIB)  # not stored, but a wider listing covers it
    assert covered["nodes"][0]["listed"] and covered["nodes"][0]["score"] > 0 and covered["edges"] == []
    # A hash of a known file is that file, as its lookup's same-file match.
    sha256, md5 = "a" * 64, "b" * 32
    _report(db, "ccib-th", f"sha256:{sha256} md5:{md5}", GREEN, 70)
    _link(db, "ccib-th", "evil.example", f"sha256:{sha256}", "hosts")
    by_md5 = _around(db, f"md5:{md5}", CCIB, 1)
    assert by_md5["value"] == f"sha256:{sha256}" and _nodes(by_md5) == {f"sha256:{sha256}": 0, "evil.example": 1}
    with pytest.raises(Invalid) as bad:
        _around(db, "not a value at all", CCIB)
    assert bad.value.field == "value"
    with pytest.raises(Invalid) as empty:
        _around(db, "  ", CCIB)
    assert empty.value.field == "value"
    for depth in (0, 3, "two", True, 1.5):
        with pytest.raises(Invalid) as wrong:
            _around(db, "9.9.9.9", CCIB, depth)
        assert wrong.value.field == "depth" and "depth must be 1 or 2" in wrong.value.message
    assert graph.depth_of(None) == graph.depth_of("") == 2 and graph.depth_of("1") == graph.depth_of(1) == 1


def test_registry_graph(compound, cli):
    shown = cli("graph", PHONE).output
    assert shown.splitlines()[0] == f"{PHONE}  [phone]  LISTED  score {_around(compound, PHONE, Viewer.operator())['nodes'][0]['score']}"
    assert "1 step out:" in shown and "2 steps out:" in shown
    assert f"  {ACCOUNT}  [bank-account]  not listed  score 0\n      <- pays-to {PHONE}  (ccib-th, TLP:AMBER)" in shown
    assert f"  {DOMAIN}  [domain]  not listed  score 0\n      <- same-operator {TELEGRAM}  (pdrm-my, TLP:RED)" in shown
    assert shown.rstrip().endswith("4 nodes, 3 relationships (cap 200 nodes)")
    as_ccib = cli("graph", PHONE, "--org", "ccib-th").output
    assert DOMAIN not in as_ccib and "3 nodes, 2 relationships" in as_ccib
    one = orjson.loads(cli("graph", PHONE, "--depth", "1", "--json").output)
    assert one == _around(compound, PHONE, Viewer.operator(), 1)
    assert "nothing linked to it that you may see" in cli("graph", "9.9.9.9").output
    assert "depth" in cli("graph", PHONE, "--depth", "3", code=2).output
    assert "unknown org 'nobody'" in cli("graph", PHONE, "--org", "nobody", code=2).output
    assert "is not a valid indicator" in cli("graph", "not a value at all", code=2).output
