"""Canonicalisation rules of ``registry.domain.normalize`` (docs/cli.md, "Canonical values").

Speed is not asserted here (timed tests are flaky on shared CI); it was measured with::

    .venv/bin/python -m timeit -s "from registry.domain.normalize import normalize" \\
        'normalize("203.0.113.7")'

Best of 25 x 20,000 runs on the development machine (a slow, shared 2-CPU box where a bare
``Value(...)`` costs 1.1 us): ipv4 address 2.0 us, ASCII domain 2.4-3.1 us,
``https://Login.Example.com:443/a?b=c`` 6.1 us, ipv4 CIDR 7.7 us, ipv6 17 us, IDN 31 us,
phone ``+66812345678`` 50 us and ``081-234-5678`` (region TH) 63-70 us (phonenumbers
parse + number_type + international format).
"""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from registry.domain.kinds import DOMAIN, EMAIL, IPV4, IPV6, PHONE, URL, Value, ip_bytes
from registry.domain.normalize import (
    NormalizeError,
    detect_kind,
    normalize,
    normalize_one,
    phone_display,
    refang,
)

FIXTURES = Path(__file__).parent.parent / "fixtures"


def one(raw: str, kind: str | None = None, region: str | None = None) -> Value:
    values = normalize(raw, kind, region)
    assert len(values) == 1, values
    return values[0]


def error(raw: str, kind: str | None = None, region: str | None = None) -> NormalizeError:
    with pytest.raises(NormalizeError) as info:
        normalize(raw, kind, region)
    return info.value


# --------------------------------------------------------------------------------------
# refang


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("hxxp://example.com/a", "http://example.com/a"),
        ("hxxps://example.com", "https://example.com"),
        ("hXXp://example.com", "http://example.com"),
        ("HXXPS://example.com", "https://example.com"),
        ("fxp://files.example.com", "ftp://files.example.com"),
        ("hxxps[:]//redirecting[.]page:443/x", "https://redirecting.page:443/x"),
        ("hxxp[://]example[.]com", "http://example.com"),
        ("1[.]2[.]3[.]4", "1.2.3.4"),
        ("58[.]60[.]184[.]214", "58.60.184.214"),
        ("185.183.162[.]169", "185.183.162.169"),
        ("example(.)com", "example.com"),
        ("example{.}com", "example.com"),
        ("example[dot]com", "example.com"),
        ("example [dot] com", "example.com"),
        ("user[@]example.com", "user@example.com"),
        ("user[at]example[.]com", "user@example.com"),
        ("http[:]//example.com[/]path", "http://example.com/path"),
        ("\ufeff1.2.3.4", "1.2.3.4"),
        ("exa\u200bmple.com", "example.com"),
        ("  1.2.3.4 \t", "1.2.3.4"),
        ('"1.2.3.4"', "1.2.3.4"),
        ("'example.com'", "example.com"),
        ("`example.com`", "example.com"),
        ("<http://example.com/>", "http://example.com/"),
        ('"<mailto:a@example.com>"', "mailto:a@example.com"),
        ("\u201cexample.com\u201d", "example.com"),
        ("\u00a0example.com\u00a0", "example.com"),
        ("example.com", "example.com"),
        # a lone quote is not a pair: left alone
        ('"example.com', '"example.com'),
    ],
)
def test_refang(raw, expected):
    assert refang(raw) == expected


def test_refang_keeps_ipv6_brackets():
    assert refang("[2001:db8::1]:443") == "[2001:db8::1]:443"


# --------------------------------------------------------------------------------------
# detect_kind


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("http://example.com", URL),
        ("hxxp://example[.]com/x", URL),
        ("tcp://1.2.3.4:4444", URL),
        ("user@example.com", EMAIL),
        ("mailto:user@example.com", EMAIL),
        ("john[at]example[.]com", EMAIL),
        ("1.2.3.4", IPV4),
        ("1[.]2[.]3[.]4", IPV4),
        ("1.2.3.0/24", IPV4),
        ("1.2.3.4:8080", IPV4),
        ("1.2.3.4-1.2.3.9", IPV4),
        ("1.2.3.4 - 1.2.3.9", IPV4),
        ("010.1.1.1", IPV4),
        ("2001:db8::1", IPV6),
        ("2001:db8::/32", IPV6),
        ("[2001:db8::1]:443", IPV6),
        ("::ffff:1.2.3.4", IPV6),
        ("2001:db8::1-2001:db8::ff", IPV6),
        ("+66 81 234 5678", PHONE),
        ("0066812345678", PHONE),
        ("081-234-5678", PHONE),
        ("(02) 123-4567", PHONE),
        ("tel:+66812345678", PHONE),
        ("+855 97 123 ****", PHONE),
        ("+85597123XXXX", PHONE),
        ("example.com", DOMAIN),
        ("example(.)com", DOMAIN),
        ("b\u00fccher.example", DOMAIN),
        ("example.com:8080", DOMAIN),
        ("1.2.3.4.5", DOMAIN),
        ("localhost", None),
        ("foo bar", None),
        ("example.com/path", None),
        ("12345", None),
        ("javascript:alert(1)", None),
        ("", None),
        ("   ", None),
    ],
)
def test_detect_kind(raw, kind):
    assert detect_kind(raw) == kind


# --------------------------------------------------------------------------------------
# ipv4


@pytest.mark.parametrize(
    ("raw", "value", "prefix_len"),
    [
        ("203.0.113.7", "203.0.113.7", 32),
        ("1[.]2[.]3[.]4", "1.2.3.4", 32),
        ("1.2.3.4:8080", "1.2.3.4", 32),
        ('"1.2.3.4"', "1.2.3.4", 32),
        ("\ufeff1.2.3.4", "1.2.3.4", 32),
        ("<1.2.3.4>", "1.2.3.4", 32),
        ("203.0.113.0/24", "203.0.113.0/24", 24),
        ("203.0.113.77/24", "203.0.113.0/24", 24),  # host bits zeroed
        ("10.1.2.3/8", "10.0.0.0/8", 8),
        ("0.0.0.0/8", "0.0.0.0/8", 8),  # /8 is the widest accepted, bogons included
        ("1.2.3.4/32", "1.2.3.4", 32),  # /32 stored bare
        ("198.51.100.255/31", "198.51.100.254/31", 31),
        ("::ffff:1.2.3.4", "1.2.3.4", 32),  # IPv4-mapped v6 becomes IPv4
        ("::FFFF:1.2.3.4", "1.2.3.4", 32),
        ("[::ffff:1.2.3.4]:80", "1.2.3.4", 32),
        ("::ffff:1.2.3.0/120", "1.2.3.0/24", 24),
        ("0.0.0.1", "0.0.0.1", 32),
        ("255.255.255.254", "255.255.255.254", 32),
    ],
)
def test_ipv4(raw, value, prefix_len):
    for kind in (None, IPV4):
        v = one(raw, kind)
        assert (v.kind, v.value, v.prefix_len, v.display, v.detail) == (
            IPV4,
            value,
            prefix_len,
            None,
            None,
        )


def test_ipv4_bounds_are_mapped_16_byte_keys():
    v = one("203.0.113.7")
    assert v.range_start == v.range_end == ip_bytes(4, 0xCB007107)
    assert v.range_start == bytes(10) + b"\xff\xff" + bytes([203, 0, 113, 7])
    net = one("203.0.113.77/24")
    assert net.range_start == bytes(10) + b"\xff\xff" + bytes([203, 0, 113, 0])
    assert net.range_end == bytes(10) + b"\xff\xff" + bytes([203, 0, 113, 255])
    assert net.is_range and not v.is_range


def test_fast_and_slow_paths_build_equal_values():
    """The hot path builds Value without its __init__; it must be indistinguishable."""
    fast = one("203.0.113.7")
    slow = Value(IPV4, "203.0.113.7", None, 32, ip_bytes(4, 0xCB007107), ip_bytes(4, 0xCB007107))
    assert fast == slow and hash(fast) == hash(slow) and type(fast) is Value
    with pytest.raises(AttributeError):
        fast.value = "x"  # still frozen
    # the same address through the port-stripping (slow) path
    assert one("203.0.113.7:80") == fast
    assert one("example.com") == Value(DOMAIN, "example.com")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("192.0.2.0-192.0.2.130", ["192.0.2.0/25", "192.0.2.128/31", "192.0.2.130"]),
        ("192.0.2.0 - 192.0.2.130", ["192.0.2.0/25", "192.0.2.128/31", "192.0.2.130"]),
        ("192[.]0[.]2[.]0-192[.]0[.]2[.]255", ["192.0.2.0/24"]),
        ("10.0.0.5-10.0.0.5", ["10.0.0.5"]),
        ("192.0.2.10-20", ["192.0.2.10/31", "192.0.2.12/30", "192.0.2.16/30", "192.0.2.20"]),
        ("2001:db8::-2001:db8::1:ffff", ["2001:db8::/111"]),
        ("2001:db8::1-2001:db8::3", ["2001:db8::1", "2001:db8::2/127"]),
    ],
)
def test_ranges_split_into_cidrs(raw, expected):
    values = normalize(raw)
    assert [v.value for v in values] == expected
    # contiguous, in order, covering exactly the range
    for a, b in zip(values, values[1:], strict=False):
        assert int.from_bytes(a.range_end, "big") + 1 == int.from_bytes(b.range_start, "big")


def test_range_bounds():
    first, second, third = normalize("192.0.2.0-192.0.2.130")
    assert (first.prefix_len, second.prefix_len, third.prefix_len) == (25, 31, 32)
    assert first.range_start == ip_bytes(4, 0xC0000200)
    assert third.range_end == ip_bytes(4, 0xC0000282)


# --------------------------------------------------------------------------------------
# ipv6


@pytest.mark.parametrize(
    ("raw", "value", "prefix_len"),
    [
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1", 128),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1", 128),
        ("2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1", 128),  # longest zero run compressed
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1", 128),  # first of equal runs
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1", 128),  # a single 0 stays
        ("[2001:db8::1]", "2001:db8::1", 128),
        ("[2001:db8::1]:443", "2001:db8::1", 128),
        ("2001:db8::1/128", "2001:db8::1", 128),
        ("2001:db8::5/32", "2001:db8::/32", 32),
        ("2001:678:6c4::/48", "2001:678:6c4::/48", 48),
        ("[2001:db8::]/32", "2001:db8::/32", 32),
        ("2001::/16", "2001::/16", 16),
        ("::1", "::1", 128),
    ],
)
def test_ipv6(raw, value, prefix_len):
    for kind in (None, IPV6):
        v = one(raw, kind)
        assert (v.kind, v.value, v.prefix_len) == (IPV6, value, prefix_len)


def test_ipv6_bounds():
    v = one("2001:db8::5/32")
    assert v.range_start == bytes.fromhex("20010db8") + bytes(12)
    assert v.range_end == bytes.fromhex("20010db8") + b"\xff" * 12
    single = one("2001:db8::1")
    assert single.range_start == single.range_end == ip_bytes(6, 0x20010DB8 << 96 | 1)


def test_ipv4_mapped_with_kind_ipv6_gives_ipv4():
    assert one("::ffff:1.2.3.4", IPV6).kind == IPV4


# --------------------------------------------------------------------------------------
# domains


@pytest.mark.parametrize(
    ("raw", "value", "display"),
    [
        ("example.com", "example.com", None),
        ("Example.COM", "example.com", None),
        ("example.com.", "example.com", None),
        ("WWW.Example.co.th", "www.example.co.th", None),
        ("example[.]com", "example.com", None),
        ("example(.)com", "example.com", None),
        ("example.com:8080", "example.com", None),
        ("_dmarc.example.com", "_dmarc.example.com", None),
        ("a.b", "a.b", None),
        ("0ee307c.wcomhost.com", "0ee307c.wcomhost.com", None),
        ("38.54.8.194.sslip.io", "38.54.8.194.sslip.io", None),
        ("my-site.example", "my-site.example", None),
        ("b\u00fccher.example", "xn--bcher-kva.example", "b\u00fccher.example"),
        ("B\u00dcCHER.Example", "xn--bcher-kva.example", "b\u00fccher.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example", "b\u00fccher.example"),
        ("XN--BCHER-KVA.example", "xn--bcher-kva.example", "b\u00fccher.example"),
        ("m.xn--wqr44au58h7ev.com", "m.xn--wqr44au58h7ev.com", "m.\u9f99\u541f\u864e\u5578.com"),
        (
            "\u0e15\u0e31\u0e27\u0e2d\u0e22\u0e48\u0e32\u0e07.\u0e44\u0e17\u0e22",
            "xn--72c1a1bt4awk9o.xn--o3cw4h",
            "\u0e15\u0e31\u0e27\u0e2d\u0e22\u0e48\u0e32\u0e07.\u0e44\u0e17\u0e22",
        ),
        ("b\u00fccher\u3002example", "xn--bcher-kva.example", "b\u00fccher.example"),
        (
            "_dmarc.b\u00fccher.example",
            "_dmarc.xn--bcher-kva.example",
            "_dmarc.b\u00fccher.example",
        ),
        ("a" * 63 + ".example", "a" * 63 + ".example", None),
    ],
)
def test_domain(raw, value, display):
    for kind in (None, DOMAIN):
        v = one(raw, kind)
        assert (v.kind, v.value, v.display, v.prefix_len, v.range_start) == (
            DOMAIN,
            value,
            display,
            None,
            None,
        )


def test_domain_length_limits():
    name = ".".join(["a" * 63] * 3 + ["b" * 61])  # 253 characters
    assert len(name) == 253
    assert one(name).value == name
    assert "longer than 253" in error(name + "b").reason
    assert "longer than 63" in error("a" * 64 + ".example").reason


def test_domain_kind_given_a_url_takes_the_host():
    assert one("http://X.Example/a?b", DOMAIN) == Value(DOMAIN, "x.example")
    assert one("hxxps://b\u00fccher[.]example/", DOMAIN).value == "xn--bcher-kva.example"
    assert one("www.example.com/", DOMAIN).value == "www.example.com"


# --------------------------------------------------------------------------------------
# URLs


@pytest.mark.parametrize(
    ("raw", "value", "display"),
    [
        ("http://Example.com", "http://example.com", None),  # no slash added
        ("http://example.com/", "http://example.com/", None),
        ("HTTP://EXAMPLE.COM/Path?Q=A#Frag", "http://example.com/Path?Q=A#Frag", None),
        ("hxxp://example[.]com/a", "http://example.com/a", None),
        ("hxxps[:]//redirecting[.]page:443/x", "https://redirecting.page/x", None),
        ("http://example.com:80/a", "http://example.com/a", None),
        ("https://example.com:443/", "https://example.com/", None),
        ("ftp://example.com:21/f", "ftp://example.com/f", None),
        ("http://example.com:443/", "http://example.com:443/", None),
        ("https://example.com:8443/a", "https://example.com:8443/a", None),
        ("http://example.com:0080/", "http://example.com/", None),
        ("http://example.com.:8080", "http://example.com:8080", None),
        ("http://User:Pw@Example.com/", "http://User:Pw@example.com/", None),
        ("http://1.2.3.4:8080/x", "http://1.2.3.4:8080/x", None),
        ("http://45.76.149.154:5000/a", "http://45.76.149.154:5000/a", None),
        ("http://[2001:DB8::1]:8080/", "http://[2001:db8::1]:8080/", None),
        ("http://[2001:db8::1]/", "http://[2001:db8::1]/", None),
        ("http://[::ffff:1.2.3.4]/", "http://1.2.3.4/", None),
        ("tcp://1.2.3.4:4444", "tcp://1.2.3.4:4444", None),
        ("wss://example.com:443/ws", "wss://example.com/ws", None),
        ("sftp://example.com:22/", "sftp://example.com:22/", None),
        ("http://example.com/a%20b?x=%2F", "http://example.com/a%20b?x=%2F", None),
        (
            "http://example.com/\u043f\u0443\u0442\u044c",
            "http://example.com/\u043f\u0443\u0442\u044c",
            None,
        ),
        (
            "http://B\u00fccher.example:80/Weg",
            "http://xn--bcher-kva.example/Weg",
            "http://b\u00fccher.example/Weg",
        ),
        (
            "http://m.xn--wqr44au58h7ev.com/",
            "http://m.xn--wqr44au58h7ev.com/",
            "http://m.\u9f99\u541f\u864e\u5578.com/",
        ),
    ],
)
def test_url(raw, value, display):
    for kind in (None, URL):
        v = one(raw, kind)
        assert (v.kind, v.value, v.display) == (URL, value, display)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("example.com", "http://example.com"),
        ("Example.com/a?b", "http://example.com/a?b"),
        ("example.com:8080/x", "http://example.com:8080/x"),
        ("//example.com/x", "http://example.com/x"),
        ("1.2.3.4/x", "http://1.2.3.4/x"),
        ("2001:db8::1", "http://[2001:db8::1]"),
    ],
)
def test_url_without_scheme_needs_kind_url(raw, value):
    assert one(raw, URL).value == value


def test_url_without_scheme_is_not_a_url_when_detecting():
    assert one("example.com").kind == DOMAIN
    e = error("example.com/path")
    assert e.kind is None and "without a scheme" in e.reason


def test_phishing_feeds_all_urls():
    """Every line of the two OpenPhish samples is a URL; one host is punycode."""
    for name in ("openphish_feed_2026-08-22.txt", "openphish_feed_2025-05-30_ip_and_punycode.txt"):
        lines = (FIXTURES / "phishing" / name).read_text(encoding="utf-8").splitlines()
        values = [one(line) for line in lines]
        assert len(values) == 300 and {v.kind for v in values} == {URL}
    displays = [v.display for v in values if v.display]
    assert displays == ["http://m.\u9f99\u541f\u864e\u5578.com/"]
    assert "http://38.54.8.194.sslip.io/" in {v.value for v in values}


def test_atomspam_truncated_urls_are_rejected():
    """SOURCES.md: 63 of the 300 AtomSpam URLs end with U+2026; one is defanged."""
    path = FIXTURES / "phishing" / "criticalpath_AtomSpam_urls_first300lines.txt"
    accepted, truncated = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            accepted.append(one(line))
        except NormalizeError as e:
            assert (e.kind, e.reason) == (URL, "truncated (ends with \u2026)")
            truncated.append(line)
    assert (len(accepted), len(truncated)) == (237, 63)
    assert "http://basvur.mobildeniz.giris.44-204-107-53.plesk.page/" in {v.value for v in accepted}


# --------------------------------------------------------------------------------------
# email


@pytest.mark.parametrize(
    ("raw", "value", "display"),
    [
        ("user@example.com", "user@example.com", None),
        ("User.Name+tag@Example.COM", "User.Name+tag@example.com", None),  # local part as given
        ("<user@example.com>", "user@example.com", None),
        ("mailto:user@example.com", "user@example.com", None),
        ("MAILTO:user@example.com?subject=hi", "user@example.com", None),
        ("user[@]example[.]com", "user@example.com", None),
        ("john[at]example[.]com", "john@example.com", None),
        ("info@b\u00fccher.example", "info@xn--bcher-kva.example", "info@b\u00fccher.example"),
    ],
)
def test_email(raw, value, display):
    for kind in (None, EMAIL):
        v = one(raw, kind)
        assert (v.kind, v.value, v.display) == (EMAIL, value, display)


# --------------------------------------------------------------------------------------
# phone (regions are covered in test_phone_regions.py)


def test_phone_basics():
    v = one("+66 81 234 5678")
    assert phone_display(v.value) == "+66 81 234 5678"
    assert (v.kind, v.value, v.display, v.detail, v.prefix_len) == (
        PHONE,
        "+66812345678",
        None,
        "mobile",
        None,
    )
    assert not v.is_range
    assert one("tel:+66-81-234-5678").value == "+66812345678"
    assert one("081-234-5678", region="th").value == "+66812345678"  # region case-insensitive
    assert one("02-123-4567", PHONE, "TH").detail == "fixed_line"


@pytest.mark.parametrize(
    ("raw", "region", "value", "prefix_len"),
    [
        ("+855 97 123 ****", None, "+85597123*", 8),
        ("+85597123*", None, "+85597123*", 8),
        ("+85597123XXXX", None, "+85597123*", 8),
        ("+855-97-123-xxxx", None, "+85597123*", 8),
        ("00855 97 123 ****", None, "+85597123*", 8),
        ("097 123 *", "KH", "+85597123*", 8),
        ("081-234-xxxx", "TH", "+6681234*", 7),
        ("+66 81*", None, "+6681*", 4),
    ],
)
def test_phone_blocks(raw, region, value, prefix_len):
    v = one(raw, PHONE, region)
    assert (v.kind, v.value, v.prefix_len, v.detail) == (PHONE, value, prefix_len, "block")
    assert v.is_range
    assert one(raw, None, region) == v


# --------------------------------------------------------------------------------------
# kind given explicitly


def test_kind_mismatches():
    assert "looks like an ipv4 address" in error("1.2.3.4", DOMAIN).reason
    assert "looks like an ipv4 address" in error("1.2.3.4", IPV6).reason
    assert "looks like an ipv6 address" in error("2001:db8::1", IPV4).reason
    assert "looks like a domain" in error("example.com", IPV4).reason
    assert "looks like a domain" in error("example.com", PHONE, "TH").reason
    assert "looks like an email address" in error("a@example.com", DOMAIN).reason
    assert "looks like an email address" in error("a@example.com", URL).reason
    assert "looks like a phone number" in error("+66812345678", DOMAIN).reason
    assert one("1.2.3.4", IPV4).value == "1.2.3.4"
    assert one("example.com", URL).value == "http://example.com"


def test_unknown_kind():
    e = error("1.2.3.4", "hostname")
    assert e.kind == "hostname" and "unknown kind" in e.reason


# --------------------------------------------------------------------------------------
# rejections: every message names the value, the kind tried and a reason

REJECTIONS = [
    # (raw, kind given, region, kind in the error, reason fragment)
    ("", None, None, None, "empty value"),
    ("  \ufeff ", None, None, None, "empty value"),
    ('""', IPV4, None, IPV4, "empty value"),
    ("localhost", None, None, None, "not a recognised indicator"),
    ("foo bar", None, None, None, "not a recognised indicator"),
    ("010.1.1.1", None, None, IPV4, "leading zero"),
    ("1.2.3.04", IPV4, None, IPV4, "leading zero"),
    ("256.1.1.1", None, None, IPV4, "greater than 255"),
    ("0.0.0.0", None, None, IPV4, "not an indicator"),
    ("255.255.255.255", None, None, IPV4, "not an indicator"),
    ("0.0.0.0/32", None, None, IPV4, "not an indicator"),
    ("0.0.0.0/0", None, None, IPV4, "too broad"),
    ("10.0.0.0/7", None, None, IPV4, "too broad"),
    ("1.2.3.4/33", None, None, IPV4, "invalid prefix"),
    ("1.2.3.4:99999", None, None, IPV4, "invalid port"),
    ("1.2.3.9-1.2.3.4", None, None, IPV4, "start is after its end"),
    ("0.0.0.0-255.255.255.255", None, None, IPV4, "too broad"),
    ("fe80::1%eth0", None, None, IPV6, "zone id"),
    ("2001:db8::/15", None, None, IPV6, "too broad"),
    ("::/0", None, None, IPV6, "too broad"),
    ("::", IPV6, None, IPV6, "not an indicator"),
    ("2001:db8::g", IPV6, None, IPV6, "not a valid ipv6"),
    ("2001:db8:::1", None, None, IPV6, "not a valid ipv6"),
    ("xn--zz.example", None, None, DOMAIN, "not valid punycode"),
    ("xn--bcher-kv.example", None, None, DOMAIN, "not valid punycode"),
    ("xn--abc-.example", DOMAIN, None, DOMAIN, "not valid punycode"),
    ("example..com", DOMAIN, None, DOMAIN, "empty label"),
    (".example.com", None, None, DOMAIN, "empty label"),
    ("-example.com", None, None, DOMAIN, "hyphen"),
    ("example-.com", None, None, DOMAIN, "hyphen"),
    ("exa$mple.com", None, None, DOMAIN, "invalid character '$'"),
    ("*.example.com", None, None, DOMAIN, "wildcards"),
    ("example.123", None, None, DOMAIN, "all-numeric"),
    ("example.c_m", None, None, DOMAIN, "underscore in the top-level label"),
    ("localhost", DOMAIN, None, DOMAIN, "at least two labels"),
    ("\U0001f4a9.example", None, None, DOMAIN, "not a valid IDNA 2008 label"),
    ("example.com/path", DOMAIN, None, DOMAIN, "has a path"),
    ("http://1.2.3.4/", DOMAIN, None, DOMAIN, "host is an ipv4 address"),
    ("javascript:alert(1)", URL, None, URL, "unsupported scheme 'javascript'"),
    ("javascript://alert(1)", None, None, URL, "unsupported scheme 'javascript'"),
    ("mailto:a@example.com", URL, None, URL, "unsupported scheme 'mailto'"),
    ("data:text/html,hi", URL, None, URL, "unsupported scheme 'data'"),
    ("gopher://example.com/", None, None, URL, "unsupported scheme 'gopher'"),
    ("http://", None, None, URL, "no host"),
    ("http://:80/x", None, None, URL, "no host"),
    ("http://example.com:99999/", None, None, URL, "invalid port"),
    ("http://exa mple.com/", None, None, URL, "invalid character ' '"),
    ("http://example.com/a\tb", None, None, URL, "control"),
    ("http://010.1.1.1/", None, None, URL, "leading zero"),
    ("http://example.com/pa\u2026", None, None, URL, "truncated (ends with \u2026)"),
    ("http://example.com/pa\u2026", URL, None, URL, "truncated (ends with \u2026)"),
    ("a@b@example.com", None, None, EMAIL, "more than one '@'"),
    ("@example.com", None, None, EMAIL, "missing local part"),
    ("user@", None, None, EMAIL, "missing domain"),
    ("user@localhost", None, None, EMAIL, "at least two labels"),
    ("us er@example.com", EMAIL, None, EMAIL, "whitespace"),
    ("example.com", EMAIL, None, EMAIL, "looks like a domain"),
    ("user@[1.2.3.4]", None, None, EMAIL, "address literals"),
    ("0812345678", None, None, PHONE, "national number without a region"),
    ("081-234-5678", PHONE, None, PHONE, "national number without a region"),
    ("191", PHONE, "TH", PHONE, "not a possible number for TH"),
    ("1669", PHONE, "TH", PHONE, "not a possible number for TH"),
    ("999", PHONE, "MY", PHONE, "not a possible number for MY"),
    ("112", PHONE, "VN", PHONE, "not a possible number for VN"),
    ("911", PHONE, "US", PHONE, "not a possible number for US"),
    ("+6681234567890123", None, None, PHONE, "not a possible number for TH (too long)"),
    ("+66 81 234", None, None, PHONE, "not a possible number for TH (too short)"),
    ("+66 2 999 9999 99", None, None, PHONE, "not a valid number for region TH"),
    ("+1 555 123 4567 ext 12", None, None, PHONE, "extensions are not accepted"),
    ("+1 555 123 4567 x12", PHONE, None, PHONE, "extensions are not accepted"),
    ("tel:+1-555-123-4567;ext=12", None, None, PHONE, "extensions are not accepted"),
    ("+1-800-FLOWERS", PHONE, None, PHONE, "contains letters"),
    ("+999 1234 5678", None, None, PHONE, "unknown country code"),
    ("081-234-5678", PHONE, "XX", PHONE, "unknown region 'XX'"),
    ("+85 5*", PHONE, None, PHONE, "at least 2 more digits"),
    ("+66 8*", None, None, PHONE, "at least 2 more digits"),
    ("097 123 *", None, None, PHONE, "national number without a region"),
]


@pytest.mark.parametrize(("raw", "kind", "region", "err_kind", "reason"), REJECTIONS)
def test_rejections_name_value_kind_and_reason(raw, kind, region, err_kind, reason):
    e = error(raw, kind, region)
    assert (e.value, e.kind) == (raw, err_kind)
    assert reason in e.reason
    message = str(e)
    assert message == f"{raw!r} is not a valid {err_kind or 'indicator'}: {e.reason}"
    assert repr(raw) in message and reason in message
    assert isinstance(e, ValueError)


def test_normalize_error_format_and_pickle():
    e = NormalizeError("1.2.3", "ipv4", "an ipv4 address has four dot-separated octets")
    assert str(e) == "'1.2.3' is not a valid ipv4: an ipv4 address has four dot-separated octets"
    assert str(NormalizeError("x", None, "why")) == "'x' is not a valid indicator: why"
    back = pickle.loads(pickle.dumps(e))
    assert (back.value, back.kind, back.reason, str(back)) == (e.value, e.kind, e.reason, str(e))


def test_non_string_input():
    with pytest.raises(NormalizeError, match="expected a string"):
        normalize(None)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------
# normalize_one


def test_normalize_one():
    assert normalize_one("1.2.3.4") == one("1.2.3.4")
    assert normalize_one("192.0.2.0-192.0.2.255").value == "192.0.2.0/24"
    with pytest.raises(NormalizeError, match="expands to 3 values") as info:
        normalize_one("192.0.2.0-192.0.2.130")
    assert info.value.kind == IPV4
    with pytest.raises(NormalizeError, match="empty value"):
        normalize_one("  ")
