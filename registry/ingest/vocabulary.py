"""The kind names feeds use in their type columns, as the registry's kinds.

Partners name kinds their own way (ThreatFox ``ip:port``, TweetFeed ``ip``, MISP ``ip-dst``,
``hostname``, ``md5``, ``btc``, ``bank-account-nr``…). A feed row's kind hint goes through
``feed_kind``: a known name becomes a registry kind (None for addresses: IPv4 or IPv6 is told
by the value), a platform's name (``telegram``, ``line id``) a user-account of that platform
(``feed_platform``), a type the registry does not keep (``sha512``, ``ssdeep``, ``filename``)
a reason to skip the row (the row says so instead of failing normalisation), and anything else
is passed on as written, for normalisation to report. Names are compared in lowercase with
spaces and underscores as hyphens (``Bank Account``, ``bank_account``, ``bank-account``). A
feed's ``kinds`` table adds to or overrides these names. docs/feeds.md lists them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping

from registry.domain.kinds import (
    BANK_ACCOUNT,
    CRYPTO_WALLET,
    DOMAIN,
    EMAIL,
    FILE_HASH,
    KINDS,
    PHONE,
    URL,
    USER_ACCOUNT,
)
from registry.domain.normalize.account_rules import ALIASES, PLATFORMS
from registry.ingest.records import Record, Skipped

_SEPARATORS = re.compile(r"[\s_]+")


def name_key(name: str) -> str:
    """A type name as compared: lowercase, spaces and underscores as one hyphen."""
    return _SEPARATORS.sub("-", name.strip().lower())


def _names(kind: str | None, *names: str) -> dict[str, str | None]:
    return dict.fromkeys(map(name_key, names), kind)


_ADDRESS = ("ip", "ip4", "ip6", "ipv4", "ipv6", "ip_address", "ipaddress", "ip-src", "ip-dst",
            "ip:port", "ip-src|port", "ip-dst|port", "src_ip", "dst_ip", "cidr", "netblock", "network")
#: A platform's own name, or a type naming its accounts, → the platform.
_PLATFORM_NAMES: dict[str, str] = {
    **{name_key(p): p for p in PLATFORMS if p != "x"},  # a bare "x" is too likely something else
    **{name_key(alias): p for alias, p in ALIASES.items() if len(alias) > 2},
    **{name_key(f"{p} {suffix}"): ALIASES.get(p, p) for p in (*PLATFORMS, "twitter")
       for suffix in ("account", "id", "handle")},
}
_NAMES: dict[str, str | None] = {
    **_names(None, *_ADDRESS),
    **_names(DOMAIN, "domain", "domain-name", "domain_name", "hostname", "host", "fqdn"),
    **_names(URL, "url", "uri", "link"),
    **_names(EMAIL, "email", "e-mail", "email-src", "email-dst", "email_address", "email-addr"),
    **_names(PHONE, "phone", "phone-number", "phone_number", "msisdn", "telephone", "tel"),
    **_names(BANK_ACCOUNT, "bank account", "bank-account-nr", "bank account number", "account number",
             "account_no", "acct", "iban", "mule account", "mule", "e-wallet", "ewallet", "promptpay"),
    **_names(CRYPTO_WALLET, "crypto wallet", "cryptocurrency-wallet", "wallet", "coin-address", "btc", "bitcoin",
             "xmr", "monero", "eth", "ethereum", "erc20", "bep20", "usdt", "trc20", "trx", "tron", "ltc", "litecoin",
             "sol", "solana", "ton", "crypto", "cryptocurrency", "btc-address", "crypto-address"),
    **_names(USER_ACCOUNT, "user account", "username", "handle", "social media account",
             "messenger account", "twitter-id", *_PLATFORM_NAMES),
    **_names(FILE_HASH, "file hash", "hash", "md5", "sha1", "sha-1", "sha256", "sha-256", "md5_hash", "sha1_hash",
             "sha256_hash", "filename|md5", "filename|sha1", "filename|sha256"),
}
#: Types of values the registry does not keep: other hashes and fingerprints, file names.
_NOT_KEPT = frozenset(map(name_key, ("sha224", "sha384", "sha512", "sha3-256", "ssdeep", "imphash", "tlsh",
                                     "ja3", "ja3-fingerprint-md5", "authentihash", "vhash", "pehash", "filename",
                                     "file", "filename|ssdeep", "filename|imphash", "filename|sha512")))
_KEPT = "IPs, domains, URLs, e-mail addresses, phone numbers, bank accounts, crypto wallets, user accounts and " \
        "MD5, SHA-1 or SHA-256 file hashes"
SKIP = ""  # in a feed's `kinds` table: rows of this type are not values the registry keeps


def feed_kind(name: str, extra: Mapping[str, str] | None = None) -> tuple[bool, str | None]:
    """(keep, kind) for a row's type name: keep False means skip the row."""
    key = name.strip().lower()
    if extra and key in extra:
        kind = extra[key]
        return (kind != SKIP, kind or None)
    if key in KINDS:
        return True, key
    key = name_key(key)
    if key in _NAMES:
        return True, _NAMES[key]
    if key in _NOT_KEPT or key.endswith("-hash") or key.startswith("filename|"):
        return False, None
    return True, name


def feed_platform(name: str) -> str | None:
    """The platform a type name means (``telegram``, ``Line ID``, ``twitter-id``), or None."""
    return _PLATFORM_NAMES.get(name_key(name))


def map_kinds(items: Iterable[Record | Skipped], extra: Mapping[str, str] | None = None) -> Iterator[Record | Skipped]:
    """Rows with their kind hints in the registry's kinds; rows of types not kept become ``Skipped``.
    A platform's name gives the row that platform; a MISP ``filename|sha256`` value keeps its hash."""
    extra = {k.lower(): v for k, v in (extra or {}).items()}
    for item in items:
        if isinstance(item, Record) and item.kind is not None:
            written = item.kind
            keep, kind = feed_kind(written, extra)
            if not keep:
                yield Skipped(item.line_no, item.line, f"a {written.strip()} value: not a kind the registry keeps "
                                                       f"({_KEPT})")
                continue
            item.kind = kind
            if kind == USER_ACCOUNT and item.platform is None:
                item.platform = feed_platform(written)
            elif kind == FILE_HASH and written.strip().lower().startswith("filename|"):
                item.value = item.value.rpartition("|")[2].strip()  # NAME|HASH: the file's name is not a value
        yield item
