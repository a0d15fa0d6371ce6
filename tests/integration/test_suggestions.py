"""Suggested links on both engines: each rule, what the TLP rule hides from each, and no
suggestion once the pair is related (docs/design.md, "Suggested links")."""

from __future__ import annotations

import pytest

from registry.domain.tlp import AMBER, CLEAR, GREEN, RED
from registry.services import relationships
from registry.services.access import ON_SERVER
from registry.services.cosubmissions import Together
from registry.services.errors import Invalid, Unparsable
from registry.services.keys import Principal
from registry.services.sightings import add_sighting
from registry.services.submit import Provenance, Submission, Submitter
from registry.services.suggestions import suggest
from tests.helpers import add_member_orgs

CCIB = Principal(org="ccib-th", role="contributor", max_tlp=RED, actor="reg_ccib", country="TH")
CCIB_GREEN = Principal(org="ccib-th", role="reader", max_tlp=GREEN, actor="reg_ccib2", country="TH")
PDRM = Principal(org="pdrm-my", role="contributor", max_tlp=RED, actor="reg_pdrm", country="MY")

PHONE = "+66812345678"
WHATSAPP = "whatsapp:+66812345678"
WALLET = "acct:TH:TRUEMONEY:+66812345678"


def report(db, org: str, values, *, tlp: str = AMBER, together: bool = False) -> None:
    """``org`` submits ``values`` (value, or (value, tlp)) in one submission."""
    with db.write() as conn:
        submitter = Submitter(conn, Provenance(org=org, tlp=tlp, region="TH"), together=Together() if together else None)
        for item in values:
            value, level = item if isinstance(item, tuple) else (item, None)
            submitter.add(Submission(value=value, tlp=level))
        submitter.finish()


def suggested(db, value: str, by) -> dict[str, dict]:
    """The suggestions for ``value``, by the other value."""
    return {s["value"]: s for s in suggest(db, value, by, region="TH")["suggestions"]}


def rules_of(item: dict) -> list[str]:
    return [w["rule"] for w in item["why"]]


def test_same_number_suggests_the_listed_accounts_of_a_phone_and_the_phone_of_an_account(db):
    add_member_orgs(db)
    report(db, "ccib-th", [PHONE, WHATSAPP], tlp=GREEN)
    report(db, "pdrm-my", [WALLET], tlp=RED)  # pdrm's alone
    got = suggested(db, PHONE, CCIB)
    assert list(got) == [WHATSAPP]
    item = got[WHATSAPP]
    assert (item["source"], item["target"], item["type"], item["kind"], item["listed"]) == (
        PHONE, WHATSAPP, "same-operator", "user-account", True)
    assert item["why"] == [{"rule": "same-number", "text": f"keyed by the same phone number, {PHONE}"}]
    # From the account's side the phone is still the source.
    back = suggested(db, WHATSAPP, CCIB)[PHONE]
    assert (back["source"], back["target"], back["type"]) == (PHONE, WHATSAPP, "same-operator")
    # pdrm sees its RED wallet as well; ccib never does.
    assert sorted(suggested(db, PHONE, PDRM)) == sorted([WHATSAPP, WALLET])
    assert WALLET not in suggested(db, WHATSAPP, CCIB)
    # A value not listed at all still gets the listed accounts of its number (a lookup shows them).
    assert list(suggested(db, "+66812345679", CCIB)) == []


def test_a_url_is_suggested_its_listed_host_parent_domain_address_and_network(db):
    add_member_orgs(db)
    report(db, "ccib-th", ["login.kbank-verify.example", "kbank-verify.example", "203.0.113.5", "203.0.113.0/24"],
           tlp=GREEN)
    report(db, "ccib-th", ["hidden-host.example"], tlp=RED)
    got = suggested(db, "https://login.kbank-verify.example/x", PDRM)
    assert {v: (s["source"], s["target"], s["type"], [w.get("match") for w in s["why"]]) for v, s in got.items()} == {
        "login.kbank-verify.example": ("login.kbank-verify.example", "https://login.kbank-verify.example/x", "hosts",
                                       ["url-host"]),
        "kbank-verify.example": ("kbank-verify.example", "https://login.kbank-verify.example/x", "hosts",
                                 ["parent-domain"]),
    }
    by_address = suggested(db, "http://203.0.113.5/pay", PDRM)
    assert sorted(by_address) == ["203.0.113.0/24", "203.0.113.5"]
    assert [w["text"] for w in by_address["203.0.113.0/24"]["why"]] == ["203.0.113.0/24 holds the URL's host address"]
    assert suggested(db, "https://hidden-host.example/", PDRM) == {}
    assert list(suggested(db, "https://hidden-host.example/", CCIB)) == ["hidden-host.example"]
    # A domain is not suggested its parent: the rule is a URL's.
    assert suggested(db, "login.kbank-verify.example", PDRM) == {}


def test_values_sighted_in_one_case_of_one_org(db):
    add_member_orgs(db)
    for value in ("+66811111111", "kbank-verify.example"):
        add_sighting(db, org="ccib-th", value=value, case_ref="K7-2026", tlp=GREEN)
    add_sighting(db, org="ccib-th", value="+66822222222", case_ref="K7-2026", tlp=RED)  # ccib's alone
    add_sighting(db, org="ccib-th", value="+66833333333", case_ref="", tlp=GREEN)  # no case
    add_sighting(db, org="pdrm-my", value="+66844444444", case_ref="K7-2026", tlp=GREEN)  # another org's case
    own = suggested(db, "+66811111111", CCIB)
    assert sorted(own) == ["+66822222222", "kbank-verify.example"]
    item = own["kbank-verify.example"]
    assert (item["type"], item["listed"], rules_of(item)) == ("related-to", False, ["same-case"])
    assert item["why"][0]["case_ref"] == "K7-2026" and item["why"][0]["text"] == "both sighted by ccib-th in case K7-2026"
    # Another org sees the GREEN sightings, but neither the RED one nor the case reference.
    theirs = suggested(db, "+66811111111", PDRM)
    assert list(theirs) == ["kbank-verify.example"]
    assert "case_ref" not in theirs["kbank-verify.example"]["why"][0]
    assert theirs["kbank-verify.example"]["why"][0]["text"] == "both sighted by ccib-th in one case"
    # A value sighted only under a hidden sighting suggests nothing, nor is it suggested.
    assert suggested(db, "+66822222222", PDRM) == {}
    assert suggested(db, "+66833333333", CCIB) == {}


def test_values_submitted_together_and_who_may_see_the_submission(db):
    add_member_orgs(db)
    report(db, "ccib-th", ["a1.example", ("a2.example", RED), ("a3.example", CLEAR)], tlp=GREEN, together=True)
    report(db, "ccib-th", ["a1.example", "a3.example"], tlp=GREEN, together=True)
    report(db, "ccib-th", ["a1.example", "lonely.example"], tlp=GREEN)  # no Together: not recorded
    own = suggested(db, "a1.example", CCIB)
    assert sorted(own) == ["a2.example", "a3.example"]
    why = own["a3.example"]["why"]
    assert [(w["rule"], w["org"], w["times"]) for w in why] == [("submitted-together", "ccib-th", 2)]
    assert why[0]["text"].startswith("submitted together by ccib-th (2 times, last) on ")
    assert own["a3.example"]["listed"] and own["a3.example"]["type"] == "related-to"
    assert sorted(suggested(db, "a1.example", PDRM)) == ["a3.example"]  # the RED row is ccib's
    assert suggested(db, "a2.example", PDRM) == {}  # its own row is hidden: nothing said about it
    assert sorted(suggested(db, "a1.example", CCIB_GREEN)) == ["a3.example"]


def test_a_large_submission_is_not_recorded_as_together(db):
    add_member_orgs(db)
    report(db, "ccib-th", [f"bulk{n}.example" for n in range(101)], tlp=GREEN, together=True)
    assert suggested(db, "bulk0.example", CCIB) == {}
    report(db, "ccib-th", [f"small{n}.example" for n in range(100)], tlp=GREEN, together=True)
    assert len(suggest(db, "small0.example", CCIB)["suggestions"]) == 50
    assert suggest(db, "small0.example", CCIB)["truncated"] is True


def test_not_suggested_once_related_by_a_relationship_the_viewer_sees(db):
    add_member_orgs(db)
    report(db, "ccib-th", [PHONE, WHATSAPP], tlp=GREEN)
    report(db, "ccib-th", [PHONE, "kbank-verify.example"], tlp=GREEN, together=True)
    assert sorted(suggested(db, PHONE, PDRM)) == ["kbank-verify.example", WHATSAPP]
    relationships.link(db, CCIB, WHATSAPP, PHONE, "contacts", tlp=RED)  # any type, either way: ccib's RED
    relationships.link(db, PDRM, "kbank-verify.example", PHONE, "related-to", tlp=GREEN)
    assert suggested(db, PHONE, CCIB) == {}
    assert list(suggested(db, PHONE, PDRM)) == [WHATSAPP]  # ccib's RED statement is not pdrm's to see
    assert suggested(db, PHONE, ON_SERVER) == {}


def test_several_rules_make_one_suggestion_typed_by_the_strongest(db):
    add_member_orgs(db)
    report(db, "ccib-th", [PHONE, WHATSAPP], tlp=GREEN, together=True)
    add_sighting(db, org="ccib-th", value=PHONE, case_ref="K7", tlp=GREEN)
    add_sighting(db, org="ccib-th", value=WHATSAPP, case_ref="K7", tlp=GREEN)
    item = suggested(db, WHATSAPP, CCIB)[PHONE]
    assert rules_of(item) == ["same-number", "same-case", "submitted-together"]
    assert (item["source"], item["target"], item["type"]) == (PHONE, WHATSAPP, "same-operator")


def test_bad_values(db):
    add_member_orgs(db)
    with pytest.raises(Unparsable):
        suggest(db, "not a value at all", CCIB)
    with pytest.raises(Invalid):
        suggest(db, "  ", CCIB)
    with pytest.raises(Invalid):
        suggest(db, "10.0.0.1-10.0.0.9", CCIB)


def _cosubmissions(db) -> int:
    from sqlalchemy import func, select

    from registry.storage import tables as t

    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(t.cosubmission)).scalar_one()


def test_feed_runs_and_file_imports_record_nothing_together(db, tmp_path):
    from registry.services.feeds import run_feed
    from registry.services.stix_import import import_bundle
    from tests.feeds.support import add_feed

    add_member_orgs(db)
    listed = tmp_path / "list.txt"
    listed.write_text("feed-a.example\nfeed-b.example\nfeed-c.example\n")
    add_feed(db, "small-list", f"file://{listed}", "text", tlp="green")
    assert run_feed(db, "small-list").new == 3
    bundle = {"type": "bundle", "id": "bundle--5d0f3d5e-2b1c-4c59-9a43-3f2b7e0b1c11", "objects": [
        {"type": "indicator", "spec_version": "2.1", "id": f"indicator--5d0f3d5e-2b1c-4c59-9a43-3f2b7e0b1c2{n}",
         "created": "2026-11-01T00:00:00Z", "modified": "2026-11-01T00:00:00Z", "pattern_type": "stix",
         "pattern": f"[domain-name:value = 'file-{n}.example']", "valid_from": "2026-11-01T00:00:00Z"}
        for n in range(3)]}
    assert import_bundle(db, bundle, default_org="ccib-th").new == 3  # `registry import` of a STIX file
    assert _cosubmissions(db) == 0
    assert suggested(db, "feed-a.example", ON_SERVER) == {} and suggested(db, "file-0.example", ON_SERVER) == {}
