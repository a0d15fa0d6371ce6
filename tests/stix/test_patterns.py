"""Reading STIX patterns into registry values, and writing them (no database)."""

from __future__ import annotations

import re

import pytest
from stix2patterns.validator import run_validator

from registry.stix import mapping
from registry.stix.patterns import PatternValue, Unrepresentable, pattern_values

MD5, SHA1 = "001dd76872d80801692ff942308c64e6", "da39a3ee5e6b4b0d3255bfef95601890afd80709"
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


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
    # files by their hashes: APT1's md5, Talos' SHA256, STIX's 'SHA-256'
    ("[file:hashes.md5 = '001dd76872d80801692ff942308c64e6']", [("file", f"md5:{MD5}")]),
    ("[file:hashes.SHA256 = 'ef53']", [("file", "sha256:ef53")]),  # the kind checks the length
    # one file's hashes: OR in one observation (OpenCTI), AND with its name and content (MISP)
    (f"[file:hashes.'SHA-256' = '{SHA256}' OR file:hashes.MD5 = '{MD5}']", [("file", f"sha256:{SHA256} md5:{MD5}")]),
    (f"[file:hashes.'SHA-256' = '{SHA256}' OR file:hashes.'SHA-512' = 'ab' OR file:hashes.MD5 = '{MD5}']",
     [("file", f"sha256:{SHA256} md5:{MD5}")]),
    (f"[file:hashes.MD5 = '{MD5}' AND file:hashes.'SHA-1' = '{SHA1}' AND file:name = 'oui' AND "
     f"(file:content_ref.payload_bin = 'UEsDBA==' AND file:content_ref.hashes.MD5 = '{MD5}')]",
     [("file", f"md5:{MD5} sha1:{SHA1}")]),
    (f"[file:name = 'filename4' AND file:hashes.'SHA-256' = '{SHA256}']", [("file", f"sha256:{SHA256}")]),
    # the same algorithm twice, or two observations: two files
    (f"[file:hashes.MD5 = '{MD5}' OR file:hashes.MD5 = '00dbb9e1c09dbdafb360f3163ba5a3de']",
     [("file", f"md5:{MD5}"), ("file", "md5:00dbb9e1c09dbdafb360f3163ba5a3de")]),
    (f"[file:hashes.MD5 = '{MD5}'] OR [file:hashes.'SHA-256' = '{SHA256}']",
     [("file", f"md5:{MD5}"), ("file", f"sha256:{SHA256}")]),
    # accounts: platform and login (MISP adds more), or a number where that is the account
    ("[user-account:account_type = 'telegram' AND user-account:account_login = 'Scam_Boss']",
     [("user-account", "telegram:Scam_Boss")]),
    ("[user-account:account_type = 'telegram' AND user-account:user_id = '1234567890' AND "
     "user-account:account_login = 'T3l3gr4mUs3r' AND user-account:x_misp_phone = '0112233445']",
     [("user-account", "telegram:T3l3gr4mUs3r")]),
    ("[user-account:account_login = 'octocat' AND user-account:account_type = 'twitter']",
     [("user-account", "x:octocat")]),
    ("[user-account:account_type = 'facebook' AND user-account:user_id = '1392781243']",
     [("user-account", "facebook:1392781243")]),
    ("[user-account:account_type = 'whatsapp' AND user-account:user_id = '+66812345678']",
     [("user-account", "whatsapp:+66812345678")]),
    # bank accounts: OpenCTI's iban, or a number and BIC; crypto wallets as written
    ("[bank-account:iban = 'GB29NWBK60161331926819']", [("bank-account", "GB29NWBK60161331926819")]),
    ("[bank-account:account_number = '1234567890' AND bank-account:bic = 'KASITHBK']",
     [("bank-account", "KASITHBK 1234567890")]),
    ("[bank-account:value = 'acct:TH:KASI:1234567890']", [("bank-account", "acct:TH:KASI:1234567890")]),
    ("[cryptocurrency-wallet:value = '1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa']",
     [("cryptocurrency-wallet", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")]),
])
def test_representable_patterns(pattern, values):
    assert pattern_values(pattern) == [PatternValue(t, v) for t, v in values]


@pytest.mark.parametrize(("pattern", "reason"), [
    ("[file:name = 'CBricksDoc']", "file:name is not a value the registry keeps (a file is kept by its MD5"),
    ("[file:hashes.'SHA-512' = 'ab']", "a file with hashes SHA-512: a file is kept by its MD5, SHA-1 or SHA-256"),
    ("[file:name = 'a.exe' AND file:size = 3]", "a file named by none of its hashes"),
    (f"[file:hashes.MD5 = '{MD5}' AND file:hashes.MD5 = 'ab']", "two different file:hashes.MD5 in one observation"),
    (f"[file:hashes.MD5 != '{MD5}']", "!= on file:hashes.MD5"),
    (f"[file:hashes.MD5 = '{MD5}' AND ipv4-addr:value = '192.0.2.1']", "AND of several conditions"),
    ("[user-account:account_login = 'octocat']", "a user-account without account_type names no platform"),
    ("[user-account:account_type = 'gitlab' AND user-account:account_login = 'j0hnd0e']",
     "account_type 'gitlab': not a platform the registry keeps"),
    ("[user-account:account_type = 'telegram' AND user-account:user_id = '1234567890']",
     "a user_id on telegram is the platform's own number for the account"),
    ("[user-account:account_type = 'line']", "a line user-account without account_login or user_id"),
    ("[bank-account:bic = 'KASITHBK']", "a bank-account without value, iban or account_number"),
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
    ("bank-account", "acct:TH:KASI:1234567890", "[bank-account:value = 'acct:TH:KASI:1234567890']"),
    ("crypto-wallet", "ltc:3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",  # the chain travels: 3… alone reads as Bitcoin
     "[cryptocurrency-wallet:value = 'ltc:3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy']"),
    ("user-account", "x:scam_boss", "[user-account:account_type = 'twitter' AND user-account:account_login = 'scam_boss']"),
    ("user-account", "signal:+66812345678",
     "[user-account:account_type = 'signal' AND user-account:user_id = '+66812345678']"),
    ("file-hash", f"sha1:{SHA1}", f"[file:hashes.'SHA-1' = '{SHA1}']"),
])
def test_written_patterns_are_valid_and_read_back(kind, value, pattern):
    assert mapping.pattern(kind, value) == pattern
    assert run_validator(pattern, stix_version="2.1") == []
    (found,) = pattern_values(pattern)
    assert (mapping.KIND_OF_TYPE[found.stix_type], found.value) == (kind, value)


def test_a_files_hashes_are_one_pattern_read_back_as_one_file():
    from registry.domain.normalize import normalize_one
    from registry.domain.normalize.file_hash import other_hashes

    pattern = mapping.pattern("file-hash", f"sha256:{SHA256}", (f"md5:{MD5}", f"sha1:{SHA1}"))
    assert pattern == (f"[file:hashes.'SHA-256' = '{SHA256}' OR file:hashes.MD5 = '{MD5}' "
                       f"OR file:hashes.'SHA-1' = '{SHA1}']")
    assert run_validator(pattern, stix_version="2.1") == []
    (found,) = pattern_values(pattern)
    value = normalize_one(found.value, mapping.KIND_OF_TYPE[found.stix_type])
    assert (value.value, set(other_hashes(value))) == (f"sha256:{SHA256}", {f"md5:{MD5}", f"sha1:{SHA1}"})


def test_indicator_types_from_labels():
    assert mapping.indicator_types([]) == ["malicious-activity"]
    assert mapping.indicator_types(["phishing"]) == ["malicious-activity"]
    assert mapping.indicator_types(["tor"]) == ["anonymization"]
    assert mapping.indicator_types(["phishing", "tor"]) == ["anonymization", "malicious-activity"]
    assert mapping.indicator_types(["scanner"]) == ["anomalous-activity"]
