"""The webhook rules (registry.domain.webhooks): where a webhook may point, the signature, the
delivery id, the back-off and when the registry gives up, the watches a registration names."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from registry.domain import webhooks as rules


def _refusal(url: str, addresses, *, loopback: bool = False) -> str | None:
    return rules.refusal(rules.parse_url(url, allow_loopback=loopback), addresses, allow_loopback=loopback)


@pytest.mark.parametrize(("url", "why"), [
    ("http://hooks.bank.example/registry", "must be https"),
    ("ftp://hooks.bank.example/", "must be https"),
    ("hooks.bank.example/registry", "must be https"),
    ("https://user:pw@hooks.bank.example/", "must not carry credentials"),
    ("https://hooks.bank.example/#frag", "fragment"),
    ("https:///path", "has no host"),
    ("https://hooks.bank.example:99999/", "not a valid URL"),
    ("https://hooks bank.example/", "spaces"),
    ("https://bänk.example/", "xn--"),
    ("", "https URL"),
    (42, "https URL"),
    ("https://a.example/" + "x" * 2048, "at most 2048"),
])
def test_malformed_or_plain_urls_are_refused(url, why):
    with pytest.raises(rules.UrlRefused, match=why):
        rules.parse_url(url, allow_loopback=False)


def test_a_url_is_split_into_what_a_delivery_needs():
    assert rules.parse_url("https://Hooks.Bank.example/in?team=fraud", allow_loopback=False) == rules.Target(
        "https", "hooks.bank.example", 443, "/in?team=fraud")
    assert rules.parse_url("https://[2001:db8::1]:8443", allow_loopback=False) == rules.Target(
        "https", "2001:db8::1", 8443, "/")
    assert rules.parse_url("http://127.0.0.1:9000/h", allow_loopback=True).port == 9000


@pytest.mark.parametrize(("address", "why"), [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("10.1.2.3", "private"), ("192.168.0.10", "private"),
    ("172.16.5.4", "private"), ("169.254.169.254", "link-local"), ("fe80::1%eth0", "link-local"),
    ("fc00::1", "private"), ("100.64.0.1", "not a global"), ("0.0.0.0", "private"), ("224.0.0.1", "not a global"),
    ("::ffff:10.0.0.1", "private"), ("::ffff:127.0.0.1", "loopback"), ("240.0.0.1", "private"),
])
def test_only_global_addresses_are_delivered_to(address, why):
    assert why in _refusal("https://hooks.bank.example/", [address])


def test_every_address_of_a_name_must_pass_and_a_name_must_resolve():
    assert _refusal("https://hooks.bank.example/", ["93.184.216.34", "2606:2800:220:1::248"]) is None
    assert "hooks.bank.example (10.0.0.7) is a private address" in _refusal("https://hooks.bank.example/",
                                                                            ["93.184.216.34", "10.0.0.7"])
    assert _refusal("https://nowhere.example/", []) == "nowhere.example does not resolve to an address"
    assert _refusal("https://10.0.0.7/", ["10.0.0.7"]) == "url's host 10.0.0.7 is a private address"


def test_loopback_with_the_setting_and_only_loopback_takes_plain_http():
    assert _refusal("http://127.0.0.1:8080/hook", ["127.0.0.1"], loopback=True) is None
    assert _refusal("https://localhost/hook", ["127.0.0.1", "::1"], loopback=True) is None
    assert "must be https" in _refusal("http://93.184.216.34/hook", ["93.184.216.34"], loopback=True)
    assert "private" in _refusal("http://10.0.0.7/hook", ["10.0.0.7"], loopback=True)  # loopback only, not private
    assert "loopback" in _refusal("https://localhost/hook", ["127.0.0.1"])
    with pytest.raises(rules.UrlRefused, match="must be https"):
        rules.parse_url("http://127.0.0.1/hook", allow_loopback=False)


def test_the_signature_is_hmac_sha256_of_the_body():
    body = b'{"seq":7,"type":"lookup.hit"}'
    expected = hmac.new(b"whsec_s3cret", body, hashlib.sha256).hexdigest()
    assert rules.signature("whsec_s3cret", body) == f"sha256={expected}"
    assert rules.signature("whsec_other", body) != rules.signature("whsec_s3cret", body)


def test_a_delivery_id_is_the_same_for_every_attempt_and_differs_per_event_and_webhook():
    first = rules.delivery_id("3b1e0f3c-webhook", 41)
    assert first == rules.delivery_id("3b1e0f3c-webhook", 41)
    assert len({first, rules.delivery_id("3b1e0f3c-webhook", 42), rules.delivery_id("another", 41)}) == 3


def test_backoff_doubles_to_its_cap_and_the_registry_gives_up_after_the_window():
    backoff = rules.Backoff()
    assert [backoff.delay(n).total_seconds() for n in (1, 2, 3, 12, 13, 40, 10_000)] == [
        1, 2, 4, 2048, 3600, 3600, 3600]
    since = datetime(2026, 12, 1, tzinfo=UTC)
    assert not rules.gives_up(since, since + timedelta(hours=23, minutes=59), 24)
    assert rules.gives_up(since, since + timedelta(hours=24), 24)
    assert rules.gives_up(since, since + timedelta(minutes=30), 0.5)


def test_watches_of_a_registration():
    assert rules.watches_given(None) is None and rules.watches_given("all") is None
    assert rules.watches_given(["a", "b", "a"]) == ("a", "b")
    for bad in ([], "some", [1], ["x" * 37], ["a,b"], {"a": 1}, ["w"] * 101):
        with pytest.raises(ValueError):
            rules.watches_given(bad)
    stored = rules.watches_text(("a", "b"))
    assert stored == ",a,b," and rules.watches_shown(stored) == ["a", "b"] and rules.watches_shown(None) == "all"
    assert rules.wanted(["b"], stored) and not rules.wanted(["c"], stored) and not rules.wanted([], stored)
    assert rules.wanted([], None)
