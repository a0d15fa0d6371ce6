"""The kind names feeds use in their type columns, as the registry's kinds.

Partners name kinds their own way (ThreatFox ``ip:port``, TweetFeed ``ip``, MISP ``ip-dst``,
``hostname``, ``md5_hash``…). A feed row's kind hint goes through ``feed_kind``: a known name
becomes a registry kind (None for addresses: IPv4 or IPv6 is told by the value), a hash type
becomes a reason to skip the row (hashes are not values the registry keeps, and the row says
so instead of failing normalisation), and anything else is passed on as written, for
normalisation to report. A feed's ``kinds`` table adds to or overrides these names.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from registry.domain.kinds import DOMAIN, EMAIL, KINDS, PHONE, URL
from registry.ingest.records import Record, Skipped

_ADDRESS = ("ip", "ip4", "ip6", "ipv4", "ipv6", "ip_address", "ip-address", "ipaddress", "ip-src", "ip-dst",
            "ip:port", "ip-src|port", "ip-dst|port", "src_ip", "dst_ip", "cidr", "netblock", "network")
_NAMES: dict[str, str | None] = {
    **dict.fromkeys(_ADDRESS),
    **dict.fromkeys(("domain", "domain-name", "domain_name", "hostname", "host", "fqdn"), DOMAIN),
    **dict.fromkeys(("url", "uri", "link"), URL),
    **dict.fromkeys(("email", "e-mail", "email-src", "email-dst", "email_address", "email-addr"), EMAIL),
    **dict.fromkeys(("phone", "phone-number", "phone_number", "msisdn", "telephone", "tel"), PHONE),
}
_HASHES = frozenset({"md5", "sha1", "sha224", "sha256", "sha384", "sha512", "ssdeep", "imphash", "tlsh", "ja3",
                     "md5_hash", "sha1_hash", "sha256_hash", "filename", "file", "hash"})
SKIP = ""  # in a feed's `kinds` table: rows of this type are not values the registry keeps


def feed_kind(name: str, extra: Mapping[str, str] | None = None) -> tuple[bool, str | None]:
    """(keep, kind) for a row's type name: keep False means skip the row."""
    key = name.strip().lower()
    if extra and key in extra:
        kind = extra[key]
        return (kind != SKIP, kind or None)
    if key in KINDS:
        return True, key
    if key in _NAMES:
        return True, _NAMES[key]
    if key in _HASHES or key.endswith(("_hash", "-hash")):
        return False, None
    return True, name


def map_kinds(items: Iterable[Record | Skipped], extra: Mapping[str, str] | None = None) -> Iterator[Record | Skipped]:
    """Rows with their kind hints in the registry's kinds; hash rows become ``Skipped``."""
    extra = {k.lower(): v for k, v in (extra or {}).items()}
    for item in items:
        if isinstance(item, Record) and item.kind is not None:
            keep, kind = feed_kind(item.kind, extra)
            if not keep:
                yield Skipped(item.line_no, item.line, f"a {item.kind.strip()} value: not a kind the registry keeps "
                                                       "(IPs, domains, URLs, e-mail addresses, phone numbers)")
                continue
            item.kind = kind
        yield item
