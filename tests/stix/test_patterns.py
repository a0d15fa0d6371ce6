"""Reading STIX patterns into registry values, and writing them (no database)."""

from __future__ import annotations

import re

import pytest
from stix2patterns.validator import run_validator

from registry.stix import mapping
from registry.stix.patterns import PatternValue, Unrepresentable, pattern_values


@pytest.mark.parametrize(("pattern", "values"), [
    ("[ipv4-addr:value = '203.0.113.7']", [("ipv4-addr", "203.0.113.7")]),
    ("[ipv4-addr:value ISSUBSET '198.51.100.0/24']", [("ipv4-addr", "198.51.100.0/24")]),
    ("[ipv6-addr:value ISSUBSET '2001:db8::/32']", [("ipv6-addr", "2001:db8::/32")]),
    ("[ipv4-addr:value = '223.166.0.0/15']", [("ipv4-addr", "223.166.0.0/15")]),  # apt1 writes CIDRs with =
    ("[phone-number:value = '+66812345678']", [("phone-number", "+66812345678")]),
    ("[phone-number:value LIKE '+85597123%']", [("phone-number", "+85597123*")]),
    ("[email-addr:value = 'boss@evil.example']", [("email-addr", "boss@evil.example")]),
    (r"[url:value = 'http://evil.example/a\'b\\c']", [("url", "http://evil.example/a'b\\c")]),
    ("[domain-name:value = 'a.example' OR ipv4-addr:value = '192.0.2.1' OR domain-name:value = 'a.example']",
     [("domain-name", "a.example"), ("ipv4-addr", "192.0.2.1")]),
    ("[domain-name:value = 'a.example'] OR [url:value = 'http://b.example/']",
     [("domain-name", "a.example"), ("url", "http://b.example/")]),
    ("[(ipv4-addr:value = '192.0.2.1' OR ipv4-addr:value = '192.0.2.2')]",
     [("ipv4-addr", "192.0.2.1"), ("ipv4-addr", "192.0.2.2")]),
    ("[ipv4-addr:value IN ('192.0.2.1', '192.0.2.2')]", [("ipv4-addr", "192.0.2.1"), ("ipv4-addr", "192.0.2.2")]),
    ("[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '47.42.59.162']",
     [("ipv4-addr", "47.42.59.162")]),
    ("[network-traffic:dst_ref.value = 'evil.example']", [(None, "evil.example")]),
    ("[email-message:from_ref.value = 'boss@evil.example']", [("email-addr", "boss@evil.example")]),
    ("  [ domain-name:value  =  'spaced.example' ]  ", [("domain-name", "spaced.example")]),
])
def test_representable_patterns(pattern, values):
    assert pattern_values(pattern) == [PatternValue(t, v) for t, v in values]


@pytest.mark.parametrize(("pattern", "reason"), [
    ("[file:hashes.md5 = '001dd76872d80801692ff942308c64e6']", "file:hashes.md5 is not a value"),
    ("[file:hashes.'SHA-256' = 'ef53']", "file:hashes.SHA-256 is not a value"),
    ("[x509-certificate:issuer = 'CN=WEBMAIL' AND x509-certificate:serial_number = '4c:0b']",
     "x509-certificate:issuer is not a value"),
    ("[ipv4-addr:value = '192.0.2.1' AND domain-name:value = 'a.example']", "AND of several conditions"),
    ("[network-traffic:dst_ref.value = '192.0.2.1' AND network-traffic:dst_port = 443]",
     "network-traffic:dst_port is not a value"),
    ("[ipv4-addr:value = '192.0.2.1'] AND [domain-name:value = 'a.example']", "AND between observations"),
    ("[ipv4-addr:value = '192.0.2.1'] FOLLOWEDBY [domain-name:value = 'a.example']", "FOLLOWEDBY"),
    ("[domain-name:value = 'a.example'] WITHIN 300 SECONDS", "qualifier WITHIN 300 SECONDS"),
    ("[domain-name:value = 'a.example'] REPEATS 5 TIMES", "qualifier REPEATS 5 TIMES"),
    ("[domain-name:value = 'a.example'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
     "qualifier START"),
    ("[domain-name:value MATCHES '^evil\\\\.']", "MATCHES on domain-name:value"),
    ("[domain-name:value NOT = 'a.example']", "NOT = on domain-name:value"),
    ("[domain-name:value LIKE '%.evil.example']", "LIKE on domain-name:value"),
    ("[phone-number:value LIKE '+855_7%']", "phone-number LIKE must be a number prefix"),
    ("[ipv4-addr:value ISSUPERSET '192.0.2.0/24']", "ISSUPERSET on ipv4-addr:value"),
    ("[domain-name:value ISSUBSET 'a.example']", "ISSUBSET on domain-name:value"),
    ("[ipv4-addr:value = 42]", "needs a string value"),
    ("", "no pattern"),
    ("not a pattern", "not a STIX pattern"),
    ("[ipv4-addr:value = ", "not a STIX pattern"),
    ("[ipv4-addr:value = '1.2.3.4'", "not a STIX pattern"),
    ("__import__('os').system('true')", "not a STIX pattern"),
])
def test_unrepresentable_patterns_say_why(pattern, reason):
    with pytest.raises(Unrepresentable, match=re.escape(reason)):
        pattern_values(pattern)


@pytest.mark.parametrize(("kind", "value", "pattern"), [
    ("ipv4", "203.0.113.7", "[ipv4-addr:value = '203.0.113.7']"),
    ("ipv4", "198.51.100.0/24", "[ipv4-addr:value ISSUBSET '198.51.100.0/24']"),
    ("ipv6", "2001:db8::/32", "[ipv6-addr:value ISSUBSET '2001:db8::/32']"),
    ("domain", "evil.example", "[domain-name:value = 'evil.example']"),
    ("url", "http://evil.example/it's", r"[url:value = 'http://evil.example/it\'s']"),
    ("email", "boss@evil.example", "[email-addr:value = 'boss@evil.example']"),
    ("phone", "+66812345678", "[phone-number:value = '+66812345678']"),
    ("phone", "+85597123*", "[phone-number:value LIKE '+85597123%']"),
])
def test_written_patterns_are_valid_and_read_back(kind, value, pattern):
    assert mapping.pattern(kind, value) == pattern
    assert run_validator(pattern, stix_version="2.1") == []
    (found,) = pattern_values(pattern)
    assert (mapping.KIND_OF_TYPE[found.stix_type], found.value) == (kind, value)


def test_indicator_types_from_labels():
    assert mapping.indicator_types([]) == ["malicious-activity"]
    assert mapping.indicator_types(["phishing"]) == ["malicious-activity"]
    assert mapping.indicator_types(["tor"]) == ["anonymization"]
    assert mapping.indicator_types(["phishing", "tor"]) == ["anonymization", "malicious-activity"]
    assert mapping.indicator_types(["scanner"]) == ["anomalous-activity"]
