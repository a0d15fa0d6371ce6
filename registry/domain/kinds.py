"""Indicator kinds and the canonical value every other layer passes around.

Pure Python: no Flask, no SQL. A ``Value`` is what ``normalize`` produces and what
storage persists; IP ranges carry their bounds as 16-byte big-endian integers with IPv4
mapped into the IPv6 space (``::ffff:a.b.c.d``) so one byte ordering serves both families.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

IPV4 = "ipv4"
IPV6 = "ipv6"
DOMAIN = "domain"
URL = "url"
PHONE = "phone"
EMAIL = "email"
BANK_ACCOUNT = "bank-account"
CRYPTO_WALLET = "crypto-wallet"
USER_ACCOUNT = "user-account"
FILE_HASH = "file-hash"

# Each kind is read by its module in domain/normalize, registered there in detection order.
KINDS: tuple[str, ...] = (IPV4, IPV6, DOMAIN, URL, PHONE, EMAIL, BANK_ACCOUNT, CRYPTO_WALLET, USER_ACCOUNT, FILE_HASH)

# Match types of a lookup, from the most to the least specific.
EXACT = "exact"
CIDR = "cidr"
PARENT_DOMAIN = "parent-domain"
URL_HOST = "url-host"
PHONE_PREFIX = "phone-prefix"
ACCOUNT_NUMBER = "account-number"  # the same digits at the same bank, or with the bank unknown
SAME_NUMBER = "same-number"  # a phone and the e-wallet or WhatsApp account keyed by it
URL_ACCOUNT = "url-account"  # a platform link and the account it points to
SAME_FILE = "same-file"  # another hash of the listed file (domain.same_file)
MATCH_TYPES: tuple[str, ...] = (
    EXACT, CIDR, PARENT_DOMAIN, URL_HOST, PHONE_PREFIX, ACCOUNT_NUMBER, SAME_NUMBER, URL_ACCOUNT, SAME_FILE,
)

_V4_MAPPED = 0xFFFF << 32


class Value(NamedTuple):
    """One canonical indicator value.

    ``prefix_len``: for IPs the network prefix (32 or 128 for a single address); for a
    phone number block (``+85597123*``) the number of digits fixed; ``None`` otherwise.
    ``range_start``/``range_end``: 16-byte bounds for IPs, ``None`` for other kinds.
    ``display``: a human form when it differs from ``value`` (Unicode domain, national
    phone format). ``detail``: extra facts worth keeping (the phone number type).

    A named tuple, not a dataclass: imports build, pickle (to and from the normalising
    workers) and compare millions of them, and a tuple does all three in C.
    """

    kind: str
    value: str
    display: str | None = None
    prefix_len: int | None = None
    range_start: bytes | None = None
    range_end: bytes | None = None
    detail: str | None = None

    @property
    def is_range(self) -> bool:
        """A CIDR wider than one address, or a phone number block."""
        if self.kind == IPV4:
            return self.prefix_len is not None and self.prefix_len < 32
        if self.kind == IPV6:
            return self.prefix_len is not None and self.prefix_len < 128
        if self.kind == PHONE:
            return self.value.endswith("*")
        return False

    def __reduce__(self):
        # Import workers send Values back by the hundred thousand: rebuilt by tuple.__new__ (C)
        # instead of the named tuple's generated __new__ (Python), unpickling is cheaper.
        return (tuple.__new__, (Value, tuple(self)))


_new_tuple = tuple.__new__
#: A ``Value`` from the plain tuple of its seven fields (what worker processes send back).
value_from_fields = partial(_new_tuple, Value)


def new_value(kind, value, display, prefix_len, range_start, range_end, detail) -> Value:
    """``Value(...)`` with all seven fields positional, without the keyword handling (hot paths)."""
    return _new_tuple(Value, (kind, value, display, prefix_len, range_start, range_end, detail))


def ip_bytes(version: int, number: int) -> bytes:
    """16-byte big-endian key for an address; IPv4 is mapped into ``::ffff:0:0/96``."""
    if version == 4:
        number |= _V4_MAPPED
    return number.to_bytes(16, "big")


def bytes_to_int(raw: bytes) -> int:
    return int.from_bytes(raw, "big")
