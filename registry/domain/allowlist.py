"""Values never flagged: private, loopback, bogon and documentation ranges, public resolvers,
major domains and the emergency numbers of member countries.

A hit on the allowlist is reported as ``allowlisted`` with its reason, never silently dropped.
Local additions (stored in the database) join the shipped entries in one ``Allowlist``.
"""

from __future__ import annotations

import bisect
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from registry.domain.kinds import (
    BANK_ACCOUNT,
    CRYPTO_WALLET,
    DOMAIN,
    EMAIL,
    FILE_HASH,
    IPV4,
    IPV6,
    PHONE,
    URL,
    USER_ACCOUNT,
    Value,
    bytes_to_int,
    ip_bytes,
)

BUILTIN_NETWORKS: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", "'this' network (RFC 791)"),
    ("10.0.0.0/8", "private (RFC 1918)"),
    ("100.64.0.0/10", "carrier-grade NAT (RFC 6598)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private (RFC 1918)"),
    ("192.0.0.0/24", "IETF protocol assignments"),
    ("192.0.2.0/24", "documentation (TEST-NET-1)"),
    ("192.168.0.0/16", "private (RFC 1918)"),
    ("198.18.0.0/15", "benchmarking (RFC 2544)"),
    ("198.51.100.0/24", "documentation (TEST-NET-2)"),
    ("203.0.113.0/24", "documentation (TEST-NET-3)"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
    ("::/128", "unspecified address"),
    ("::1/128", "loopback"),
    ("100::/64", "discard-only (RFC 6666)"),
    ("2001:db8::/32", "documentation"),
    ("fc00::/7", "unique local"),
    ("fe80::/10", "link-local"),
    ("ff00::/8", "multicast"),
    ("8.8.8.8/32", "public resolver (Google)"),
    ("8.8.4.4/32", "public resolver (Google)"),
    ("1.1.1.1/32", "public resolver (Cloudflare)"),
    ("1.0.0.1/32", "public resolver (Cloudflare)"),
    ("9.9.9.9/32", "public resolver (Quad9)"),
    ("149.112.112.112/32", "public resolver (Quad9)"),
    ("208.67.222.222/32", "public resolver (OpenDNS)"),
    ("208.67.220.220/32", "public resolver (OpenDNS)"),
    ("2001:4860:4860::8888/128", "public resolver (Google)"),
    ("2001:4860:4860::8844/128", "public resolver (Google)"),
    ("2606:4700:4700::1111/128", "public resolver (Cloudflare)"),
    ("2606:4700:4700::1001/128", "public resolver (Cloudflare)"),
    ("2620:fe::fe/128", "public resolver (Quad9)"),
)

# A domain here also covers its subdomains; a URL on such a host is NOT allowlisted, because
# phishing pages live on shared hosts (forms, storage, docs) and must stay reportable.
BUILTIN_DOMAINS: tuple[tuple[str, str], ...] = tuple(
    (d, "major service") for d in (
        "google.com", "youtube.com", "gmail.com", "facebook.com", "instagram.com", "whatsapp.com",
        "microsoft.com", "office.com", "live.com", "apple.com", "icloud.com", "amazon.com",
        "cloudflare.com", "wikipedia.org", "line.me", "zalo.me", "shopee.com", "lazada.com",
    )
) + tuple(
    (d, "government of a member country") for d in (
        "go.th", "gov.my", "gov.ph", "gov.kh", "gov.vn", "go.id", "gov.sg", "gov.mm", "gov.la",
        "gov.bn", "go.jp", "gov.cn",
    )
) + (("interpol.int", "Interpol"), ("aseanapol.org", "ASEANAPOL"))

# Emergency and police short codes: no E.164 form, so they are checked on the raw digits.
EMERGENCY_NUMBERS: dict[str, str] = {
    "191": "police (TH, MM)", "1669": "medical emergency (TH)", "199": "fire (TH, MM)",
    "1155": "tourist police (TH)", "999": "emergency (MY, SG, BN)", "112": "emergency (international)",
    "911": "emergency (PH, US)", "117": "police (KH)", "118": "fire (KH)", "119": "ambulance (KH, JP)",
    "113": "police (VN)", "114": "fire (VN)", "115": "ambulance (VN)", "110": "police (ID, JP, CN)",
    "995": "ambulance (SG)", "993": "police (BN)", "1191": "police (LA)", "1195": "ambulance (LA)",
    "120": "ambulance (CN)",
}


# How a value of each kind meets the list: IPs by range, domains with their parents, these by
# their exact canonical value. A new kind takes a place here (docs/design.md, "A kind").
RANGE_KINDS = frozenset({IPV4, IPV6})
EXACT_KINDS = frozenset({URL, PHONE, EMAIL, BANK_ACCOUNT, CRYPTO_WALLET, USER_ACCOUNT, FILE_HASH})


@dataclass(frozen=True)
class Entry:
    kind: str
    value: str
    reason: str


class Allowlist:
    """Answers ``reason_for(value)``: the reason a canonical value is allowlisted, or None."""

    def __init__(self, entries: Iterable[Entry] = ()) -> None:
        self.entries = list(entries)  # the local additions, to rebuild this list elsewhere
        entries = self.entries
        self._domains: dict[str, str] = {}
        self._exact: dict[str, str] = {}
        ranges: list[tuple[int, int, str]] = []
        for domain, reason in BUILTIN_DOMAINS:
            self._domains[domain] = reason
        ranges.extend(_builtin_ranges())
        for entry in entries:
            if entry.kind in RANGE_KINDS:
                ranges.append((*_bounds(entry.value), entry.reason))
            elif entry.kind == DOMAIN:
                self._domains[entry.value] = entry.reason
            else:
                self._exact[entry.value] = entry.reason
        ranges.sort()
        self._starts = [r[0] for r in ranges]
        self._ranges = ranges
        # Highest end among ranges[0..j]: lets the backwards walk stop early.
        self._max_end: list[int] = []
        top = -1
        for _, r_end, _ in ranges:
            top = max(top, r_end)
            self._max_end.append(top)

    def reason_for(self, value: Value) -> str | None:
        if value.kind in RANGE_KINDS:
            return self._range_reason(bytes_to_int(value.range_start), bytes_to_int(value.range_end))
        if value.kind == DOMAIN:
            return self._domain_reason(value.value)
        if value.kind in EXACT_KINDS:
            return self._exact.get(value.value)
        return None  # a kind not sorted here is never allowlisted (tests hold every kind to a place)

    def _range_reason(self, start: int, end: int) -> str | None:
        # Ranges may nest: walk back from the last range starting at or before ``start``
        # until no earlier range reaches far enough.
        j = bisect.bisect_right(self._starts, start) - 1
        while j >= 0 and self._max_end[j] >= end:
            _, r_end, reason = self._ranges[j]
            if end <= r_end:
                return reason
            j -= 1
        return None

    def _domain_reason(self, domain: str) -> str | None:
        name = domain
        while True:
            reason = self._domains.get(name)
            if reason:
                return reason
            _, dot, name = name.partition(".")
            if not dot:
                return None


def emergency_reason(raw: str) -> str | None:
    """The reason a raw value is an emergency short code (``191``, ``1669``), else None."""
    digits = "".join(ch for ch in raw if ch.isdigit())
    if digits and len(digits) <= 4 and digits == raw.strip().replace(" ", "").replace("-", ""):
        return f"emergency number: {EMERGENCY_NUMBERS[digits]}" if digits in EMERGENCY_NUMBERS else None
    return None


@lru_cache(maxsize=1)
def _builtin_ranges() -> tuple[tuple[int, int, str], ...]:
    """The shipped networks as integer bounds, parsed once per process."""
    return tuple((*_bounds(network), reason) for network, reason in BUILTIN_NETWORKS)


def _bounds(network: str) -> tuple[int, int]:
    net = ipaddress.ip_network(network, strict=False)
    start = bytes_to_int(ip_bytes(net.version, int(net.network_address)))
    end = bytes_to_int(ip_bytes(net.version, int(net.broadcast_address)))
    return start, end
