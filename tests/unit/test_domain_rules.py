"""TLP visibility, probe keys, scoring and the allowlist: pure domain rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from registry.domain import tlp
from registry.domain.allowlist import Allowlist, Entry, emergency_reason
from registry.domain.keys import PrefixLengths, parent_domains, probe_keys
from registry.domain.kinds import Value, ip_bytes
from registry.domain.scoring import Evidence, match_weight, score

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def v4(text: str, prefix: int = 32) -> Value:
    a, b, c, d = (int(x) for x in text.split("."))
    n = (a << 24) | (b << 16) | (c << 8) | d
    end = n | ((1 << (32 - prefix)) - 1)
    value = text if prefix == 32 else f"{text}/{prefix}"
    return Value("ipv4", value, prefix_len=prefix, range_start=ip_bytes(4, n), range_end=ip_bytes(4, end))


# -- TLP -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("spelling", "level"),
    [("CLEAR", "clear"), ("white", "clear"), ("TLP:AMBER", "amber"), ("amber+strict", "amber+strict"),
     ("Amber-Strict", "amber+strict"), ("tlp:red", "red"), ("green", "green")],
)
def test_parse_tlp_accepts_tlp1_tlp2_and_misp_spellings(spelling, level):
    assert tlp.parse_tlp(spelling) == level


def test_parse_tlp_names_the_choices():
    with pytest.raises(ValueError, match="clear, green, amber, amber\\+strict, red"):
        tlp.parse_tlp("purple")


def test_visibility_rule_matrix():
    source = tlp.Viewer("ccib-th", tlp.AMBER_STRICT)
    other = tlp.Viewer("pdrm-my", tlp.AMBER_STRICT)
    capped = tlp.Viewer("bank-x", tlp.GREEN)
    operator = tlp.Viewer.operator()
    seen = {
        name: [level for level in tlp.LEVELS if viewer.can_see(level, "ccib-th")]
        for name, viewer in [("source", source), ("other", other), ("capped", capped), ("operator", operator)]
    }
    # RED reaches only its source org, and only when the cap allows RED at all.
    assert seen["source"] == ["clear", "green", "amber", "amber+strict"]
    assert seen["other"] == ["clear", "green", "amber", "amber+strict"]
    assert seen["capped"] == ["clear", "green"]
    assert seen["operator"] == list(tlp.LEVELS)
    assert tlp.Viewer("ccib-th", tlp.RED).can_see("red", "ccib-th")
    assert not tlp.Viewer("pdrm-my", tlp.RED).can_see("red", "ccib-th")


# -- probe keys --------------------------------------------------------------------------------
def test_ip_probes_only_present_prefix_lengths():
    lengths = PrefixLengths(ipv4=frozenset({20, 24}))
    keys = probe_keys(v4("1.10.16.77"), lengths)
    assert keys == [("1.10.16.77", "exact"), ("1.10.16.0/20", "cidr"), ("1.10.16.0/24", "cidr")]


def test_cidr_probes_supernets_but_not_subnets():
    lengths = PrefixLengths(ipv4=frozenset({16, 24, 28}))
    keys = probe_keys(v4("198.51.100.0", 24), lengths)
    assert keys == [("198.51.100.0/24", "exact"), ("198.51.0.0/16", "cidr")]


def test_domain_probes_parents_down_to_registrable_domain():
    keys = probe_keys(Value("domain", "a.b.evil.example"), PrefixLengths())
    assert keys == [("a.b.evil.example", "exact"), ("b.evil.example", "parent-domain"), ("evil.example", "parent-domain")]
    assert parent_domains("login.bank.co.th") == ["bank.co.th"]
    assert parent_domains("bank.co.th") == []


def test_url_probes_host_and_its_parents():
    keys = probe_keys(Value("url", "https://login.kbank-secure.example/x"), PrefixLengths())
    assert keys == [
        ("https://login.kbank-secure.example/x", "exact"),
        ("kbank-secure.example", "parent-domain"),
        ("login.kbank-secure.example", "url-host"),
    ]


def test_url_with_ip_host_probes_the_address_and_its_networks():
    keys = probe_keys(Value("url", "http://45.76.149.154:5000/x"), PrefixLengths(ipv4=frozenset({24})))
    assert keys[1:] == [("45.76.149.0/24", "cidr"), ("45.76.149.154", "url-host")]


def test_phone_probes_number_blocks():
    keys = probe_keys(Value("phone", "+85597123456"), PrefixLengths(phone=frozenset({8, 11, 5})))
    assert keys == [("+85597123456", "exact"), ("+85597123*", "phone-prefix"), ("+85597*", "phone-prefix")]


# -- scoring -----------------------------------------------------------------------------------
def ev(source, confidence, age_days=0, match="exact", kind="phone", valid_until=None, prefix=None):
    return Evidence(source, None, kind, confidence, NOW - timedelta(days=age_days), valid_until, match, prefix)


def test_single_fresh_exact_report_scores_its_confidence():
    points, explanation = score([ev("ccib-th", 80)], now=NOW)
    assert points == 80
    assert explanation[0]["source"] == "ccib-th" and explanation[0]["points"] == 80


def test_decay_halves_after_one_half_life():
    points, _ = score([ev("ccib-th", 80, age_days=180)], now=NOW, half_lifes={"phone": 180})
    assert points == 40


def test_independent_agencies_combine_and_earn_a_bounded_boost():
    points, explanation = score([ev("ccib-th", 50), ev("pdrm-my", 50)], now=NOW)
    assert points == 75 + 5  # 1 - 0.5 * 0.5, plus one extra agency
    assert any("2 sources" in item.get("reason", "") for item in explanation)


def test_one_agency_twice_counts_once():
    points, _ = score([ev("ccib-th", 50), ev("ccib-th", 60)], now=NOW)
    assert points == 60


def test_expired_assertion_counts_zero():
    points, explanation = score([ev("ccib-th", 90, valid_until=NOW - timedelta(days=1))], now=NOW)
    assert points == 0
    assert explanation[0]["note"].startswith("expired")


def test_sightings_boost_is_bounded():
    points, _ = score([ev("ccib-th", 50)], now=NOW, sightings=100)
    assert points == 60


def test_allowlisted_scores_zero_with_reason():
    points, explanation = score([ev("ccib-th", 90)], now=NOW, allowlisted="public resolver (Google)")
    assert points == 0 and "public resolver" in explanation[0]["reason"]


def test_wide_networks_weigh_less_than_narrow_ones():
    assert match_weight("cidr", "ipv4", 24) > match_weight("cidr", "ipv4", 16) >= 0.3
    assert match_weight("exact", "ipv4", 32) == 1.0


# -- allowlist ---------------------------------------------------------------------------------
def test_allowlist_covers_private_documentation_and_resolvers():
    allow = Allowlist()
    assert "private" in allow.reason_for(v4("10.1.2.3"))
    assert "documentation" in allow.reason_for(v4("203.0.113.7"))
    assert "resolver" in allow.reason_for(v4("8.8.8.8"))
    assert allow.reason_for(v4("8.8.8.9")) is None
    assert allow.reason_for(v4("10.0.0.0", 8)) is not None
    assert allow.reason_for(v4("1.10.16.0", 20)) is None


def test_allowlisted_domain_covers_subdomains_but_not_urls_on_it():
    allow = Allowlist()
    assert allow.reason_for(Value("domain", "docs.google.com")) == "major service"
    assert allow.reason_for(Value("domain", "google.com.evil.example")) is None
    assert allow.reason_for(Value("url", "https://docs.google.com/forms/d/x")) is None


def test_local_entries_join_the_shipped_ones():
    allow = Allowlist([Entry("domain", "registry.example", "our own infrastructure")])
    assert allow.reason_for(Value("domain", "api.registry.example")) == "our own infrastructure"


@pytest.mark.parametrize("raw", ["191", "1669", "999", "112", "911", " 1155 "])
def test_emergency_numbers_are_allowlisted(raw):
    assert emergency_reason(raw).startswith("emergency number")


def test_ordinary_numbers_are_not_emergency_numbers():
    assert emergency_reason("0812345678") is None
    assert emergency_reason("1234") is None


def test_parse_time_turns_out_of_range_times_into_value_errors():
    from registry.domain.times import parse_time

    assert parse_time("2026-11-01").isoformat() == "2026-11-01T00:00:00+00:00"
    assert parse_time("2026-11-01T07:00:00+07:00").hour == 0
    for bad in ("0001-01-01T00:00:00+14:00", "yesterday", "2026-13-01"):
        with pytest.raises(ValueError, match="ISO 8601"):
            parse_time(bad)


def test_probes_come_in_match_order_for_every_kind():
    # Answers list their matches in probe order: it must be MATCH_TYPES order.
    from registry.domain.kinds import MATCH_TYPES
    from registry.domain.normalize import normalize_one

    lengths = PrefixLengths(ipv4=frozenset({8, 16, 24}), ipv6=frozenset({32, 48}), phone=frozenset({5, 8}))
    for text in ("1.10.16.77", "2001:db8:1::5", "a.b.evil.example", "https://login.a.evil.example/x",
                 "http://45.76.149.154:5000/x", "http://[2001:db8:1::5]/x", "user@a.evil.example", "+85597123456"):
        order = [MATCH_TYPES.index(match) for _, match in probe_keys(normalize_one(text), lengths)]
        assert order == sorted(order), text
