"""The storage, submit and lookup contract, run on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from registry.domain.tlp import Viewer
from registry.services.errors import Conflict, Invalid, NotFound
from registry.services.lookup import lookup, search_within
from registry.services.orgs import add_org
from registry.services.submit import Provenance, Submission, submit
from registry.storage import tables as t

NOW = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
OPERATOR = Viewer.operator()


@pytest.fixture
def orgs(db):
    add_org(db, "ccib-th", "Royal Thai Police CCIB", "TH")
    add_org(db, "pdrm-my", "Royal Malaysia Police", "MY")
    add_org(db, "spamhaus", "The Spamhaus Project")
    return db


def put(db, org, values, now=NOW, **prov):
    with db.write() as conn:
        return submit(conn, Provenance(org=org, **prov), [Submission(v) for v in values], now=now)


def count(db, table) -> int:
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def look(db, *values, viewer=OPERATOR, now=NOW, region=None, kind=None, platform=None):
    with db.read() as conn:
        return lookup(conn, list(values), viewer, now=now, region=region, kind=kind, platform=platform)


def found(answers) -> list[list[tuple[str, str]]]:
    """Each answer's matches as (match type, matched value), in their order."""
    return [[(m["match"], m["value"]) for m in a["matches"]] for a in answers]


def test_org_rules(db):
    add_org(db, "ccib-th", "Royal Thai Police CCIB", "th")
    with pytest.raises(Conflict):
        add_org(db, "ccib-th", "again", "TH")
    with pytest.raises(Invalid, match="slug"):
        add_org(db, "CCIB TH", "bad slug")
    with pytest.raises(Invalid, match="country"):
        add_org(db, "x-org", "X", "THA")
    with pytest.raises(NotFound, match="registry org add"):
        put(db, "nobody", ["1.2.3.4"])


def test_submit_new_then_unchanged_then_updated(orgs):
    first = put(orgs, "ccib-th", ["081-234-5678", "hxxp://kbank-verify[.]example/a", "1.10.16.0/20"], confidence=70)
    assert (first.read, first.new, first.unchanged, first.rejected) == (3, 3, 0, 0)
    again = put(orgs, "ccib-th", ["0812345678", "http://kbank-verify.example/a", "1.10.16.0/20"], confidence=70)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 3)
    assert count(orgs, t.indicator) == 3 and count(orgs, t.assertion) == 3
    changed = put(orgs, "ccib-th", ["+66 81 234 5678"], confidence=90)
    assert (changed.new, changed.updated) == (0, 1)
    [answer] = look(orgs, "081 234 5678", region="TH")
    [assertion] = answer["matches"][0]["assertions"]
    assert assertion["confidence"] == 90 and assertion["times_reported"] == 3


def test_second_source_adds_an_assertion_not_an_indicator(orgs):
    put(orgs, "ccib-th", ["+66812345678"], confidence=60)
    report = put(orgs, "pdrm-my", ["+66812345678"], confidence=60)
    assert report.new == 1
    assert count(orgs, t.indicator) == 1 and count(orgs, t.assertion) == 2
    [answer] = look(orgs, "+66812345678")
    assert sorted(a["source"] for a in answer["matches"][0]["assertions"]) == ["ccib-th", "pdrm-my"]
    assert answer["score"] == 84 + 5  # 1 - 0.4², plus a second agency


def test_duplicates_within_one_submission_are_merged(orgs):
    report = put(orgs, "ccib-th", ["evil.example", "EVIL.example", "evil[.]example"])
    assert (report.read, report.new, report.unchanged) == (3, 1, 2)
    assert count(orgs, t.assertion) == 1


def test_rejects_are_counted_with_value_kind_and_reason(orgs):
    report = put(orgs, "ccib-th", ["1.2.3.4", "not a value", "999.1.1.1"])
    assert (report.new, report.rejected) == (1, 2)
    reasons = [r.reason for r in report.rejects]
    assert all("not a" in r or "invalid" in r.lower() or "valid" in r for r in reasons), reasons
    assert "'999.1.1.1'" in reasons[1]


def test_range_a_b_splits_into_cidrs(orgs):
    report = put(orgs, "spamhaus", ["192.0.2.0-192.0.2.130"])
    assert report.read == 1 and count(orgs, t.indicator) == 3


def test_lookup_matches_every_kind_of_probe(orgs):
    put(orgs, "spamhaus", ["1.10.16.0/20", "2001:678:6c4::/48"], confidence=80, tlp="clear", labels=("spam-infrastructure",))
    put(orgs, "ccib-th", ["evil.example", "login.kbank-secure.example", "+85597123*", "+66812345678"], confidence=80)
    answers = look(orgs, "1.10.16.77", "2001:678:6c4:1::5", "sub.evil.example",
                   "https://login.kbank-secure.example/x", "+855 97 123 4567", "081-234-5678", "203.0.113.9",
                   region="TH")
    matches = [[(m["match"], m["value"]) for m in a["matches"]] for a in answers]
    assert matches == [
        [("cidr", "1.10.16.0/20")],
        [("cidr", "2001:678:6c4::/48")],
        [("parent-domain", "evil.example")],
        [("url-host", "login.kbank-secure.example")],
        [("phone-prefix", "+85597123*")],
        [("exact", "+66812345678")],
        [],
    ]
    assert [a["listed"] for a in answers] == [True] * 6 + [False]
    assert answers[0]["matches"][0]["assertions"][0]["labels"] == ["spam-infrastructure"]
    assert answers[6]["allowlisted"] and "documentation" in answers[6]["allowlist_reason"]


def test_a_url_lists_its_matches_in_match_type_order(orgs):
    put(orgs, "ccib-th", ["https://pay.evil.example/x", "pay.evil.example", "evil.example", "1.10.16.0/20",
                          "1.10.16.5"], confidence=80)
    url, ip_url = look(orgs, "https://pay.evil.example/x", "http://1.10.16.5/a")
    assert [m["match"] for m in url["matches"]] == ["exact", "parent-domain", "url-host"]
    assert [m["match"] for m in ip_url["matches"]] == ["cidr", "url-host"]


def test_lookup_answers_in_input_order_with_errors_in_place(orgs):
    put(orgs, "ccib-th", ["evil.example"])
    answers = look(orgs, "evil.example", "???", "191", "nothing.example")
    assert [a["query"] for a in answers] == ["evil.example", "???", "191", "nothing.example"]
    assert "error" in answers[1]
    assert answers[2]["allowlisted"] and not answers[2]["listed"]
    assert answers[3]["listed"] is False and answers[3]["matches"] == []


def test_hidden_assertions_look_exactly_like_unknown_values(orgs):
    put(orgs, "ccib-th", ["red.example"], tlp="red")
    put(orgs, "ccib-th", ["amber.example"], tlp="amber")
    other = Viewer("pdrm-my", "amber+strict")
    capped = Viewer("bank-x", "green")
    unknown = look(orgs, "never-listed.example", viewer=other)[0]
    for viewer, value in [(other, "red.example"), (capped, "red.example"), (capped, "amber.example")]:
        answer = look(orgs, value, viewer=viewer)[0]
        assert {k: v for k, v in answer.items() if k not in ("query", "value")} == {
            k: v for k, v in unknown.items() if k not in ("query", "value")
        }
    assert look(orgs, "red.example", viewer=Viewer("ccib-th", "red"))[0]["listed"]
    assert look(orgs, "amber.example", viewer=other)[0]["listed"]


def test_allowlisted_values_are_stored_and_flagged_not_dropped(orgs):
    report = put(orgs, "spamhaus", ["10.0.0.0/8", "8.8.8.8", "1.10.16.0/20"])
    assert (report.allowlisted, report.new) == (2, 1)
    [answer] = look(orgs, "10.1.2.3")
    assert answer["listed"] and answer["allowlisted"] and answer["score"] == 0


def test_an_expired_assertion_lists_nothing_and_shows_as_history(orgs):
    """Listed means in force (docs/design.md): past its valid_until, an assertion is history."""
    until = NOW - timedelta(days=1)
    with orgs.write() as conn:
        submit(conn, Provenance(org="ccib-th"), [Submission("old.example", valid_until=until)], now=NOW - timedelta(days=2))
    [answer] = look(orgs, "old.example")
    assert (answer["listed"], answer["score"], answer["matches"]) == (False, 0, [])
    [ended] = answer["history"]
    assert (ended["match"], ended["value"], ended["source"], ended["why"]) == ("exact", "old.example", "ccib-th", "expired")
    assert ended["ended"] == ended["valid_until"] == "2026-11-21T06:00:00Z"


def test_search_within_a_network(orgs):
    put(orgs, "spamhaus", ["198.18.0.0/15", "1.10.16.0/20", "1.10.16.5", "1.10.17.0/24", "1.11.0.1", "2001:db8::1"])
    with orgs.read() as conn:
        result = search_within(conn, "1.10.16.0/20", OPERATOR, now=NOW)
    assert [r["value"] for r in result["results"]] == ["1.10.16.0/20", "1.10.16.5", "1.10.17.0/24"]
    with orgs.read() as conn, pytest.raises(Invalid, match="not an IP network"):
        search_within(conn, "evil.example", OPERATOR)


def test_change_sequence_grows_only_with_news(orgs):
    from registry.storage.db import current_seq

    put(orgs, "ccib-th", ["a.example", "b.example"])
    with orgs.read() as conn:
        after_first = current_seq(conn)
    put(orgs, "ccib-th", ["a.example", "b.example"])
    with orgs.read() as conn:
        assert current_seq(conn) == after_first
    put(orgs, "ccib-th", ["a.example"], confidence=99)
    with orgs.read() as conn:
        assert current_seq(conn) == after_first + 1


def test_failed_transaction_leaves_nothing(orgs):
    with pytest.raises(RuntimeError), orgs.write() as conn:
        submit(conn, Provenance(org="ccib-th"), [Submission("x.example")], now=NOW)
        raise RuntimeError("crash mid-import")
    assert count(orgs, t.indicator) == 0


def test_networks_listed_after_a_lookup_are_found_by_the_next(orgs):
    assert look(orgs, "45.76.149.154")[0]["listed"] is False
    put(orgs, "spamhaus", ["45.76.0.0/16"])
    [answer] = look(orgs, "45.76.149.154")
    assert [(m["match"], m["value"]) for m in answer["matches"]] == [("cidr", "45.76.0.0/16")]


def test_label_filter_is_a_label_not_a_pattern(orgs):
    from registry.services.search import Filters, search_indicators

    put(orgs, "ccib-th", ["one.example"], labels=("a-b",))
    with orgs.read() as conn:
        exact = search_indicators(conn, OPERATOR, Filters.parse({"label": "a-b"}))
        wildcard = search_indicators(conn, OPERATOR, Filters.parse({"label": "a_b"}))
        percent = search_indicators(conn, OPERATOR, Filters.parse({"label": "%"}))
    assert [i["value"] for i in exact["indicators"]] == ["one.example"]
    assert wildcard["indicators"] == [] and percent["indicators"] == []


# -- the account kinds' match types (docs/design.md, "Data flow of a lookup") ----------------------

def test_account_number_matches_the_same_digits_with_the_bank_unknown_both_ways(orgs):
    put(orgs, "ccib-th", ["KBank 123-4-56789-0"], confidence=80)  # acct:TH:KASI:1234567890
    put(orgs, "ccib-th", ["222-333-4445"], kind="bank-account", region="TH", confidence=80)  # bank unknown
    answers = look(orgs, "acct:TH:-:1234567890", "SCB 222-333-4445", "KBank 1234567890")
    assert found(answers) == [
        [("account-number", "acct:TH:KASI:1234567890")],
        [("account-number", "acct:TH:-:2223334445")],
        [("exact", "acct:TH:KASI:1234567890")],
    ]
    assert [a["score"] for a in answers] == [64, 64, 80]  # account-number weighs 0.8
    # digits alone, the kind and the region given: any bank of the region's country
    alone = look(orgs, "1234567890", "2223334445", kind="bank-account", region="TH")
    assert found(alone) == [[("account-number", "acct:TH:KASI:1234567890")], [("exact", "acct:TH:-:2223334445")]]
    assert alone[0]["value"] == "acct:TH:-:1234567890"


def test_account_number_needs_the_same_country_and_no_other_known_bank(orgs):
    put(orgs, "ccib-th", ["KBank 123-4-56789-0", "acct:TH:-:2223334445"])
    answers = look(orgs, "SCB 123-4-56789-0", "acct:MY:-:1234567890", "acct:MY:-:2223334445",
                   "acct:TH:-:1234567899")
    assert found(answers) == [[], [], [], []]
    # without a region, digits alone are no account: an error naming the kind, not a match
    [alone] = look(orgs, "1234567890", kind="bank-account")
    assert "bank-account" in alone["error"] and "region" in alone["error"]
    # an emergency number asked as an account is that kind's error, not an allowlisted phone
    [emergency] = look(orgs, "191", kind="bank-account", region="TH")
    assert "too short" in emergency["error"] and "allowlisted" not in emergency


def test_same_number_matches_a_phone_its_wallets_and_its_whatsapp_both_ways(orgs):
    put(orgs, "ccib-th", ["+66812345678", "wa.me/66861234567"], confidence=80)
    put(orgs, "pdrm-my", ["TrueMoney 089-123-4567"], region="TH", confidence=80)  # acct:TH:TRUEMONEY:+66891234567
    answers = look(orgs, "TrueMoney 081-234-5678", "whatsapp:+66812345678", "+66891234567",
                   "PromptPay 0891234567", "wa.me/66891234567", "0861234567", "TrueMoney 0861234567",
                   region="TH")
    assert found(answers) == [
        [("same-number", "+66812345678")],  # wallet -> phone
        [("same-number", "+66812345678")],  # whatsapp -> phone
        [("same-number", "acct:TH:TRUEMONEY:+66891234567")],  # phone -> wallet
        [("same-number", "acct:TH:TRUEMONEY:+66891234567")],  # wallet -> wallet of the same number
        [("same-number", "acct:TH:TRUEMONEY:+66891234567")],  # whatsapp -> wallet
        [("same-number", "whatsapp:+66861234567")],  # phone -> whatsapp
        [("same-number", "whatsapp:+66861234567")],  # wallet -> whatsapp
    ]
    assert answers[0]["score"] == 72  # same-number weighs 0.9
    # the number itself and its wallet listed: both matches, the exact one first, one score
    put(orgs, "pdrm-my", ["TrueMoney 0812345678"], region="TH", confidence=60)
    [both] = look(orgs, "+66812345678")
    assert found([both]) == [[("exact", "+66812345678"), ("same-number", "acct:TH:TRUEMONEY:+66812345678")]]
    assert both["score"] == 96  # 100 × (1 − 0.2 × 0.46), plus 5 for a second agency


def test_same_number_needs_the_same_number(orgs):
    put(orgs, "ccib-th", ["+66812345678", "TrueMoney 0891234567", "whatsapp:+66861234567"], region="TH")
    answers = look(orgs, "+66812345679", "+60123456789", "TrueMoney 0891234568", "zalo:+66861234568",
                   "+85597123*", region="TH")
    assert found(answers) == [[], [], [], [], []]


def test_wallets_and_accounts_listed_after_a_lookup_are_found_by_the_next(orgs):
    put(orgs, "ccib-th", ["+66812345678"])
    assert found(look(orgs, "+66812345678", "whatsapp:+66812345678")) == [[("exact", "+66812345678")],
                                                                            [("same-number", "+66812345678")]]
    put(orgs, "pdrm-my", ["acct:TH:PROMPTPAY:+66812345678"])  # the first PromptPay wallet listed
    assert found(look(orgs, "+66812345678"))[0][1:] == [("same-number", "acct:TH:PROMPTPAY:+66812345678")]
    put(orgs, "pdrm-my", ["viber:+66812345678"])
    assert found(look(orgs, "whatsapp:+66812345678")) == [[
        ("same-number", "+66812345678"), ("same-number", "acct:TH:PROMPTPAY:+66812345678"),
        ("same-number", "viber:+66812345678")]]


def test_url_account_finds_the_account_a_platform_link_points_to(orgs):
    put(orgs, "ccib-th", ["telegram:kbank_support_th", "telegram:abcdefghij", "whatsapp:+66812345678"], confidence=80)
    answers = look(orgs, "https://t.me/kbank_support_th/12", "https://wa.me/66812345678?text=hi",
                   "@KBank_Support_TH", "https://t.me/joinchat/abcdefghij", "https://t.me/+abcdefghij")
    assert found(answers[:2]) == [[("url-account", "telegram:kbank_support_th")],
                                  [("url-account", "whatsapp:+66812345678")]]
    assert answers[0]["kind"] == "url" and answers[0]["score"] == 72  # url-account weighs 0.9
    assert "error" in answers[2]  # an @name without its platform is no account
    assert found(answers[3:]) == [[], []]  # invite links stay URLs: no account is probed
    [named] = look(orgs, "@KBank_Support_TH", platform="telegram")
    assert found([named]) == [[("exact", "telegram:kbank_support_th")]]


def test_a_lookup_names_an_unknown_kind_or_platform(orgs):
    with pytest.raises(Invalid, match="'bank-acount'") as kind:
        look(orgs, "1234567890", kind="bank-acount")
    assert kind.value.field == "kind"
    with pytest.raises(Invalid, match="unknown platform 'myspace'") as platform:
        look(orgs, "@name", platform="myspace")
    assert platform.value.field == "platform"
    with pytest.raises(Invalid, match="only with kind user-account"):
        look(orgs, "@name", kind="phone", platform="telegram")
