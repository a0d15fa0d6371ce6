"""Lookup probe keys: every value a query could match, each with its match type.

Canonical values are unique across kinds (an IP never looks like a domain, a phone starts
with ``+``, a URL has a scheme, an email an ``@``; the normalize package holds every kind it
registers to this), so a probe key is a canonical value and one indexed ``value IN (…)``
query finds every match. A kind without parents (no network, domain or number block above
its values) and no other value naming the same thing (an account's number at an unknown
bank, the accounts keyed by a phone number, the account a link points to) needs nothing
here: it probes its own value. The match types: docs/design.md ("Data flow of a lookup").
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

import idna
import phonenumbers

from registry.domain.kinds import (
    ACCOUNT_NUMBER,
    BANK_ACCOUNT,
    CIDR,
    DOMAIN,
    EMAIL,
    EXACT,
    IPV4,
    IPV6,
    PARENT_DOMAIN,
    PHONE,
    PHONE_PREFIX,
    SAME_NUMBER,
    URL,
    URL_ACCOUNT,
    URL_HOST,
    USER_ACCOUNT,
    Value,
    bytes_to_int,
    ip_bytes,
)
from registry.domain.networks import NetworkSet
from registry.domain.normalize import bank_table
from registry.domain.normalize.account_links import platform_host
from registry.domain.normalize.account_rules import PHONE_PLATFORMS
from registry.domain.normalize.user_account import account_of_url


@dataclass(frozen=True)
class PrefixLengths:
    """What storage holds that probes depend on: prefix lengths of IP networks by family and
    of phone blocks by digit count, and ``numbers``, the prefixes under which listed wallets
    and accounts name a phone number (``acct:TH:TRUEMONEY:``, ``whatsapp:``: of
    ``number_key_prefixes()``).

    Probing only these keeps an address lookup to a handful of index probes, and a phone's
    to its own value and blocks until a wallet or an account keyed by a phone is listed.
    """

    ipv4: frozenset[int] = field(default_factory=frozenset)
    ipv6: frozenset[int] = field(default_factory=frozenset)
    phone: frozenset[int] = field(default_factory=frozenset)
    numbers: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        # (length, mask) pairs in order, computed once per lookup batch, not once per value.
        object.__setattr__(self, "_v4", tuple((n, (0xFFFFFFFF << (32 - n)) & 0xFFFFFFFF) for n in sorted(self.ipv4)))
        object.__setattr__(
            self, "_v6", tuple((n, ((1 << 128) - 1) ^ ((1 << (128 - n)) - 1)) for n in sorted(self.ipv6))
        )
        object.__setattr__(self, "_phone", tuple(sorted(self.phone, reverse=True)))
        # Calling code → the present prefixes of its numbers' wallets and accounts (the key
        # "" for codes without wallets), so a phone's same-number keys are a few dict probes.
        present = {}
        if self.numbers:
            for calling, prefixes in (*_number_prefixes_by_code().items(), ("", _PHONE_ACCOUNTS)):
                present[calling] = tuple(p for p in prefixes if p in self.numbers)
        object.__setattr__(self, "_numbers", present)

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, int]], numbers: Iterable[str] = ()) -> PrefixLengths:
        sets: dict[str, set[int]] = {IPV4: set(), IPV6: set(), PHONE: set()}
        for kind, length in rows:
            if kind in sets and length is not None:
                sets[kind].add(int(length))
        return cls(frozenset(sets[IPV4]), frozenset(sets[IPV6]), frozenset(sets[PHONE]), frozenset(numbers))


Probe = tuple[str, str]  # (canonical value to look for, match type)


def probe_keys(value: Value, lengths: PrefixLengths, networks: NetworkSet | None = None) -> list[Probe]:
    """All probe keys for one canonical value, the value itself first and the rest in the
    order of ``MATCH_TYPES`` (answers list their matches in that order without sorting).

    With ``networks`` (the listed networks held in memory) an address probes only the
    networks known to contain it; without, one key per prefix length present.
    """
    keys: list[Probe] = [(value.value, EXACT)]
    if value.kind in (IPV4, IPV6):
        keys.extend(_ip_supernets(value, lengths, networks))
    elif value.kind == DOMAIN:
        keys.extend((parent, PARENT_DOMAIN) for parent in parent_domains(value.value))
    elif value.kind == URL:
        keys.extend(_url_keys(value.value, lengths, networks))
    elif value.kind == EMAIL:
        domain = value.value.rpartition("@")[2]
        keys.append((domain, PARENT_DOMAIN))
        keys.extend((parent, PARENT_DOMAIN) for parent in parent_domains(domain))
    elif value.kind == PHONE:
        keys.extend(_phone_prefixes(value.value, lengths))
        number = value.value
        if lengths.numbers and number[-1] != "*":  # a block is no one's account
            keys.extend([(prefix + number, SAME_NUMBER) for prefix in _present_prefixes(number, lengths)])
    elif value.kind == BANK_ACCOUNT:
        keys.extend(_account_keys(value.value, lengths))
    elif value.kind == USER_ACCOUNT:
        ident = value.value.partition(":")[2]
        if ident[:1] == "+":  # an account keyed by a phone number (whatsapp:+66…)
            keys.extend(_same_number(ident, value.value, lengths))
    return keys


def _account_keys(canonical: str, lengths: PrefixLengths) -> list[Probe]:
    """A bank account's ``account-number`` keys: with its bank known, the same number with
    the bank unknown; with the bank unknown, the same number at each bank of the country the
    bank table lists (one that takes numbers of its length). A phone-keyed wallet's number
    gives its ``same-number`` keys instead."""
    _, country, code, number = canonical.split(":")
    if number[:1] == "+":
        return _same_number(number, canonical, lengths)
    if code != "-":
        return [(f"acct:{country}:-:{number}", ACCOUNT_NUMBER)]
    return [(f"acct:{country}:{bank}:{number}", ACCOUNT_NUMBER)
            for bank in bank_table.number_codes(country, len(number))]


def _same_number(e164: str, own: str, lengths: PrefixLengths) -> list[Probe]:
    """Every value keyed by the phone number ``e164`` but ``own`` (a wallet or an account of
    that number): the phone, and each listed kind of phone-keyed e-wallet of its country and
    of phone-keyed platform account (``same-number``)."""
    keys = [(e164, SAME_NUMBER)]
    if lengths.numbers:
        keys.extend((key, SAME_NUMBER) for key in (p + e164 for p in _present_prefixes(e164, lengths)) if key != own)
    return keys


def _present_prefixes(e164: str, lengths: PrefixLengths) -> tuple[str, ...]:
    """The prefixes present (``lengths.numbers``) of the wallets and accounts ``e164`` could
    key: calling codes are prefix-free, so the first one found is the number's (one found
    empty has no platform's prefix either, as ``present[""]`` then has none)."""
    present = lengths._numbers
    found = present.get(e164[1:3]) or present.get(e164[1:4]) or present.get(e164[1:2])
    return present[""] if found is None else found


_PHONE_ACCOUNTS = tuple(f"{platform}:" for platform in PHONE_PLATFORMS)


@lru_cache(maxsize=1)
def _number_prefixes_by_code() -> dict[str, tuple[str, ...]]:
    """Calling code (digits) → ``acct:CC:WALLET:`` for each phone-keyed e-wallet of its
    country, then ``PLATFORM:`` for each phone-keyed platform (codes without a wallet are left
    out: ``_PHONE_ACCOUNTS`` serves them). Read from the bank table on first use."""
    wallets: dict[str, tuple[str, ...]] = {}
    for country, codes in bank_table.phone_wallet_codes().items():
        calling = str(phonenumbers.country_code_for_region(country))
        wallets[calling] = (*wallets.get(calling, ()), *(f"acct:{country}:{code}:" for code in codes))
    return {calling: (*found, *_PHONE_ACCOUNTS) for calling, found in wallets.items()}


@lru_cache(maxsize=1)
def number_key_prefixes() -> tuple[str, ...]:
    """Every prefix under which a wallet or an account names a phone number
    (``acct:TH:TRUEMONEY:``, ``whatsapp:``): storage says which are present
    (``PrefixLengths.numbers``)."""
    return tuple(sorted({p for found in _number_prefixes_by_code().values() for p in found} | set(_PHONE_ACCOUNTS)))


def _ip_supernets(value: Value, lengths: PrefixLengths, networks: NetworkSet | None) -> list[Probe]:
    if networks is not None:
        return [(network, CIDR) for network in networks.containing(value)]
    match = CIDR
    own = value.prefix_len
    if value.kind == IPV4:
        number = bytes_to_int(value.range_start) & 0xFFFFFFFF
        out = []
        for length, mask in lengths._v4:
            if length >= own:
                break
            net = number & mask
            out.append((f"{net >> 24}.{(net >> 16) & 255}.{(net >> 8) & 255}.{net & 255}/{length}", match))
        return out
    number = bytes_to_int(value.range_start)
    out = []
    for length, mask in lengths._v6:
        if length >= own:
            break
        out.append((f"{ipaddress.IPv6Address(number & mask).compressed}/{length}", match))
    return out


def _phone_prefixes(value: str, lengths: PrefixLengths) -> list[Probe]:
    digits = value[1:].rstrip("*")
    return [(f"+{digits[:length]}*", PHONE_PREFIX) for length in lengths._phone if length < len(digits)]


def _url_keys(url: str, lengths: PrefixLengths, networks: NetworkSet | None) -> list[Probe]:
    host = urlsplit(url).hostname
    if not host:
        return []
    if host[0].isdigit() or ":" in host:
        ip = _host_ip(host)
        if ip is not None:
            return [*_ip_supernets(ip, lengths, networks), (ip.value, URL_HOST)]
    keys = [*((parent, PARENT_DOMAIN) for parent in parent_domains(host)), (host, URL_HOST)]
    if platform_host(host) is not None:  # a platform's link: the account it points to, if any
        account = account_of_url(url)
        if account is not None:
            keys.append((account.value, URL_ACCOUNT))
    return keys


def _host_ip(host: str) -> Value | None:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    kind = IPV4 if address.version == 4 else IPV6
    start = ip_bytes(address.version, int(address))
    return Value(kind, address.compressed, prefix_len=address.max_prefixlen, range_start=start, range_end=start)


def parent_domains(domain: str) -> list[str]:
    """Parents of a domain down to its registrable domain, nearest first.

    ``a.b.evil.example`` → ``b.evil.example``, ``evil.example``. A name under an unknown
    TLD treats its last label as the public suffix, so ``.example`` names still stop at
    ``evil.example`` instead of probing the TLD itself.
    """
    registrable = registrable_domain(domain)
    labels = domain.split(".")
    out = []
    for i in range(1, len(labels)):
        parent = ".".join(labels[i:])
        if len(parent) < len(registrable):
            break
        out.append(parent)
    return out


@lru_cache(maxsize=65536)
def registrable_domain(domain: str) -> str:
    """The public suffix and one label before it; the last two labels where the name has no
    known suffix or is one itself (what tldextract gives for canonical names)."""
    labels = domain.split(".")
    start = _suffix_start(labels)
    if 0 < start < len(labels):
        return ".".join(labels[start - 1 :])
    return ".".join(labels[-2:])


def _suffix_start(labels: list[str]) -> int:
    """Index of the first label of the public suffix (``len(labels)``: none), walking the
    rules from the right as tldextract's trie does: the longest rule, where a wildcard
    (``*.kawasaki.jp``) takes any one label unless an exception (``!city.kawasaki.jp``)
    names it. Set lookups on the joined labels cost far less than a call to tldextract, which
    first parses the name as a URL (docs/performance.md); a batch lookup asks this of every domain it answers."""
    rules, paths = _suffix_rules()
    start = len(labels)
    path = ""
    for i in range(len(labels) - 1, -1, -1):
        label = labels[i]
        if label.startswith("xn--"):  # the rules are in Unicode
            label = _unicode_label(label)
        candidate = f"{label}.{path}" if path else label
        if candidate in paths:
            path = candidate
            if candidate in rules:
                start = i
            continue
        if (f"*.{path}" if path else "*") in rules:
            return i + 1 if f"!{candidate}" in rules else i
        break
    return start


def _unicode_label(label: str) -> str:
    try:
        return idna.decode(label)
    except (UnicodeError, IndexError):
        return label


@lru_cache(maxsize=1)
def _suffix_rules() -> tuple[frozenset[str], frozenset[str]]:
    """(the public suffix rules, private ones included, with their ``*.`` and ``!`` marks;
    every right-hand part of a rule, the places a walk from the right may pass through)."""
    rules = frozenset(_extractor().tlds)
    paths = frozenset(".".join(labels[i:]) for labels in (rule.split(".") for rule in rules) for i in range(len(labels)))
    return rules, paths


@lru_cache(maxsize=1)
def _extractor():
    import tldextract

    # The bundled public suffix snapshot only: no network, no cache folder.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)
