"""Turn one raw indicator string into canonical ``Value`` objects: :func:`normalize`.

Every feed line, API submission and search box goes through it. Canonical forms are listed in
docs/cli.md ("Canonical values"); a value that cannot be canonicalised raises
:class:`NormalizeError` naming the value, the kind tried and why.

One module per kind (``ip``: ipv4 and ipv6, ``url``, ``email``, ``phone``, ``domain``,
``bank_account``, ``crypto_wallet``, ``user_account``, ``file_hash``), each
giving a ``handlers.Kind`` (detector, normaliser, label) that the ``register`` call below adds;
shared rules live beside them (``defang``: ``refang``; ``names``: domain names for the domain,
URL and email kinds; ``phone_fast`` and ``phone_format``: compiled phonenumbers metadata).
A new kind is one module plus its place in that call, and its name in ``kinds.KINDS`` (the
other places it needs: docs/design.md, "Where to add… A kind"). Its
canonical values must never equal another kind's (a lookup probes bare values): a canonical
value normalises to itself, detected as its own kind.

Detection (no kind given) asks the kinds in the order registered, the first to claim wins:

    1. ipv4           dotted quad, with /prefix or :port, or an a-b range of them
    2. url            scheme:// (a "://" after what is not a scheme: no kind at all)
    3. user-account   platform:identifier, or a platform's link without a scheme (t.me/NAME);
                      before email and domain, which would claim "line:@id", "instagram:a.b"
    4. email          any "@"
    5. ipv6           colon-hex, bracketed, with /prefix or port, or an a-b range of them
    6. file-hash      algorithm:hex, or bare hex of exactly 32, 40 or 64 digits (before phone,
                      which would claim a hash of digits only)
    7. crypto-wallet  chain:address, a labelled address ("USDT-TRC20: T…"), a payment URI, or an
                      address whose shape and checksum say its chain
    8. bank-account   acct:CC:BANK:NUMBER, an IBAN in capitals, or a bank the table knows next
                      to a number (digits alone are a phone, or a bank account only when given)
    9. phone          tel:, or digits and separators starting +/00 or with >= 6 digits, or a block
                      such as "8123 ****"
   10. domain         a dot and no whitespace, slash or "@"

Before any detection, the commonest feed lines take hand-written fast paths: a canonical
dotted quad (split on dots, octets looked up in a dict: no ``ipaddress``), a valid E.164
number of a single-region country code (compiled metadata: no ``phonenumbers.parse``), a plain
ASCII domain (one regex: no ``idna``). What each kind costs is measured in docs/performance.md
("Normalisation").
"""

from __future__ import annotations

import re

from registry.domain.kinds import (
    BANK_ACCOUNT,
    DOMAIN,
    EMAIL,
    IPV4,
    KINDS,
    PHONE,
    USER_ACCOUNT,
    Value,
    new_value,
)
from registry.domain.normalize import (
    account_rules,
    bank_account,
    crypto_wallet,
    domain,
    email,
    file_hash,
    ip,
    phone,
    url,
    user_account,
)
from registry.domain.normalize.defang import refang
from registry.domain.normalize.errors import Invalid, NormalizeError
from registry.domain.normalize.handlers import NORMALISERS, detect, explains, label, register
from registry.domain.normalize.ip import V4_ALL, V4_MAPPED, v4_fast
from registry.domain.normalize.names import is_ldh_name
from registry.domain.normalize.phone_fast import e164_fast
from registry.domain.normalize.phone_format import phone_display

__all__ = ["NormalizeError", "detect_kind", "normalize", "normalize_one", "phone_display", "refang"]

register(
    ip.IPV4_KIND, url.KIND, user_account.KIND, email.KIND, ip.IPV6_KIND, file_hash.KIND,
    crypto_wallet.KIND, bank_account.KIND, phone.KIND, domain.KIND,
)


def detect_kind(text: str) -> str | None:
    """Guess the kind of one (possibly defanged) value; ``None`` when nothing fits (the
    order is in the module docstring)."""
    s = refang(text)
    return detect(s) if s else None


def _undetected_reason(s: str) -> str:
    head = s.split("/", 1)[0]
    if "/" in s and head and domain.looks_domain(head):
        return "not a recognised indicator (looks like a URL without a scheme; give kind 'url')"
    if any(c.isspace() for c in s):
        return "not a recognised indicator (contains whitespace)"
    return "not a recognised indicator"


def normalize(
    raw: str, kind: str | None = None, region: str | None = None, platform: str | None = None,
    *, bank: str | None = None, country: str | None = None,
) -> tuple[Value, ...]:
    """Canonical values for one raw indicator (an a-b IP range gives several CIDRs).

    ``kind`` forces the kind (one of ``KINDS``); ``None`` detects it. ``region`` is the
    ISO 3166 alpha-2 default region for national phone numbers (and bank accounts).
    ``platform`` (telegram, line, …) makes the value a user-account of that platform, so
    ``@name`` reads; a kind other than user-account with it is an error. ``bank`` and
    ``country`` (a file row's separate bank and country cells; either makes ``raw`` the
    account number of a bank-account, ``bank_account.from_parts``) likewise. Raises
    :class:`NormalizeError` naming the value, the kind tried and the reason.
    """
    if not isinstance(raw, str):
        raise NormalizeError(repr(raw), kind, f"expected a string, got {type(raw).__name__}")
    if kind is not None and kind not in NORMALISERS:
        raise NormalizeError(raw, kind, f"unknown kind (expected one of {', '.join(KINDS)})")
    s = refang(raw)
    if bank or country:
        if kind not in (None, BANK_ACCOUNT):
            raise NormalizeError(raw, kind, f"a bank or country column is given only with kind {BANK_ACCOUNT}")
        try:
            return (bank_account.from_parts(country, bank, s, region),)
        except Invalid as e:
            where = ", ".join(f"{name} {text!r}" for name, text in (("bank", bank), ("country", country)) if text)
            raise NormalizeError(raw, BANK_ACCOUNT, f"{e.reason} ({where})") from None
    if platform:
        if kind not in (None, USER_ACCOUNT):
            raise NormalizeError(raw, kind, f"a platform ({platform}) is given only with kind {USER_ACCOUNT}")
        try:
            if not s:
                raise Invalid("empty value")
            return (user_account.normalize_account(s, platform, region),)
        except Invalid as e:
            raise NormalizeError(raw, USER_ACCOUNT, e.reason) from None
    # Fast paths for the commonest feed lines, checked before any detection (inline: a call
    # each would cost a tenth of the dotted quad's time):
    if kind is None or kind == IPV4:  # a plain dotted quad (canonical as written)
        n = v4_fast(s)
        if n is not None and 0 < n < V4_ALL:
            key = (n | V4_MAPPED).to_bytes(16, "big")  # == ip_bytes(4, n)
            return (new_value(IPV4, s, None, 32, key, key, None),)
    if (kind is None or kind == PHONE) and s[:1] == "+" and s[1:].isdigit():  # E.164 as written
        value = e164_fast(s, region)
        if value is not None:
            return (value,)
    if (kind is None or kind == DOMAIN) and s.isascii():
        # An ASCII name matching the LDH regex needs no idna. Without a kind it must not
        # be something detection would call a phone ("097.123.xxxx" is a number block):
        # phone shapes start with a digit, "+" or "(" and end in digits, x's or "*", so
        # a name starting with a letter or ending in a TLD of letters (not only x's) is
        # a domain.
        h = s.lower()
        if "xn--" not in h and len(h) <= 253 and is_ldh_name(h):
            tld = h[h.rfind(".") + 1 :]
            if (tld.isalpha() and tld.strip("x")) or (
                not tld.isdigit() and (kind is not None or h[0].isalpha())
            ):
                return (new_value(DOMAIN, h, None, None, None, None, None),)
    explicit = kind is not None
    try:
        if not s:
            raise Invalid("empty value")
        if s[-1] == "\u2026":
            if kind is None and len(s) > 1:
                kind = detect(s[:-1].rstrip())
            raise Invalid("truncated (ends with \u2026)")
        if kind is None:
            kind = detect(s)
            if kind is None:
                raise Invalid(_undetected_reason(s))
        if not s.isprintable():
            raise Invalid("contains control or invisible characters")
        return NORMALISERS[kind](s, region, explicit)
    except Invalid as e:
        reason = e.reason
        if explicit and not reason.startswith("looks like"):
            seen = detect(s) if s else None
            if seen is not None and seen != kind and not explains(kind, seen):
                reason = f"looks like {label(seen)}; {reason}"
        elif not explicit and s:
            reason += _other_candidates(s, kind, region)
        raise NormalizeError(raw, kind, reason) from None


_HANDLE = re.compile(r"@[\w.]+")
_NATIONAL_DIGITS = re.compile(r"\d[\d\s\-./]*\d")


def _other_candidates(s: str, detected: str | None, region: str | None) -> str:
    """What else a detected value that failed may be, when only its kind would tell: digits that
    are no phone may be a bank account, an ``@name`` an account on some platform."""
    if detected == PHONE and _NATIONAL_DIGITS.fullmatch(s) and 6 <= sum(c.isdigit() for c in s) <= 20:
        return "; or a bank account number: give the kind bank-account (with the bank or the region)"
    if detected == EMAIL and _HANDLE.fullmatch(s):
        return f"; an @name is a messaging account: give its platform ({', '.join(account_rules.PLATFORMS)})"
    return ""


def normalize_one(
    raw: str, kind: str | None = None, region: str | None = None, platform: str | None = None
) -> Value:
    """Like :func:`normalize` but for exactly one value (an a-b range must be one CIDR)."""
    values = normalize(raw, kind, region, platform)
    if len(values) != 1:
        raise NormalizeError(
            raw, values[0].kind, f"expands to {len(values)} values (a range that is not one CIDR)"
        )
    return values[0]
