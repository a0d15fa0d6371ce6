"""Each platform's rules for an account identifier: its characters, its length, its case.

Sources (the platforms' own help pages, as of 2026): Telegram's ``account.updateUsername``
(core.telegram.org: a-z, 0-9 and underscores, 5 to 32, case-insensitive); LINE's "Setting
an ID" help (up to 20 lowercase letters, digits, ``.``, ``-``, ``_``; official accounts'
IDs start with ``@``); Facebook's "Username" help (letters, digits and periods, at least 5;
periods and capitals "don't count": john.smith55 is johnsmith55); Instagram (letters,
digits, periods and underscores, at most 30); TikTok (letters, digits, underscores and
periods, 2 to 24, no period at the end); X (letters, digits and underscores, at most 15,
case-insensitive); WeChat ("WeChat ID": 6 to 20 letters, digits, underscores or hyphens,
starting with a letter; kept as written); Signal usernames (a nickname of 3 to 32 letters,
digits or underscores, a period and at least 2 digits, case-insensitive). WhatsApp, Zalo
and Viber accounts, and Signal accounts given by number, are phone numbers: their E.164.
See docs/design.md ("The money and messaging kinds").
"""

from __future__ import annotations

import re
from collections.abc import Callable

from registry.domain.normalize import phone
from registry.domain.normalize.errors import Invalid

PLATFORMS = (
    "telegram", "line", "whatsapp", "facebook", "instagram", "tiktok", "x", "wechat", "zalo",
    "viber", "signal",
)
# The platforms whose accounts may be phone numbers (their identifier is then the E.164): every
# WhatsApp, Zalo and Viber account, a Signal account given by number. A lookup of a number
# probes them (registry.domain.keys, match type same-number).
PHONE_PLATFORMS = ("whatsapp", "zalo", "viber", "signal")
# Other names people give a platform: for the --platform flag only, never in ``platform:id``
# text (``fb::1`` is an IPv6 address).
ALIASES = {"twitter": "x", "fb": "facebook", "ig": "instagram", "tg": "telegram",
           "wa": "whatsapp", "weixin": "wechat"}
_PHONE_REGION = {"zalo": "VN"}  # zalo.me links carry Vietnamese national numbers


def _checked(pattern: str, why: str) -> Callable[[str], str]:
    shape = re.compile(pattern)

    def check(ident: str) -> str:
        if shape.fullmatch(ident) is None:
            raise Invalid(why)
        return ident

    return check


_TELEGRAM = _checked(r"[A-Za-z][A-Za-z0-9_]{4,31}", "a Telegram username has 5 to 32 letters, "
                     "digits or underscores, starting with a letter")
_LINE = _checked(r"@?[A-Za-z0-9._\-]{1,20}", "a LINE ID has up to 20 letters, digits, '.', '-' "
                 "or '_' (an official account's starts with '@')")
_FACEBOOK = _checked(r"[A-Za-z0-9.]{5,50}", "a Facebook username has at least 5 letters, "
                     "digits or periods (or give the numeric profile id)")
_INSTAGRAM = _checked(r"[A-Za-z0-9._]{1,30}", "an Instagram username has up to 30 letters, "
                      "digits, periods or underscores")
_TIKTOK = _checked(r"[A-Za-z0-9._]{1,23}[A-Za-z0-9_]", "a TikTok username has 2 to 24 letters, "
                   "digits, underscores or periods, not ending with a period")
_X = _checked(r"[A-Za-z0-9_]{1,15}", "an X username has up to 15 letters, digits or underscores")
_WECHAT = _checked(r"[A-Za-z][A-Za-z0-9_\-]{5,19}", "a WeChat ID has 6 to 20 letters, digits, "
                   "underscores or hyphens, starting with a letter")
_SIGNAL_NAME = _checked(r"[A-Za-z_][A-Za-z0-9_]{2,31}\.[0-9]{2,9}", "a Signal username is a "
                        "nickname of 3 to 32 letters, digits or underscores, a period and digits")


def phone_identifier(ident: str, region: str | None, platform: str) -> str:
    """The E.164 number of an account keyed by a phone. Digits without ``+`` or a leading 0
    are international, as wa.me and zalo.me links write them."""
    text = ident
    if text[:1].isdigit() and text[:1] != "0":
        text = "+" + text
    value = phone.normalize_phone(text, region or _PHONE_REGION.get(platform), True)[0]
    if value.value.endswith("*"):
        raise Invalid("a number block is not an account")
    return value.value


def _facebook(ident: str) -> str:
    if ident.isdigit():  # a numeric profile id (profile.php?id=…)
        return ident
    # Facebook: "periods (.) and capitalization don't count as a part of a username"
    return _FACEBOOK(ident).replace(".", "").lower()


def _signal(ident: str, region: str | None) -> str:
    if "." in ident and not ident[:1].isdigit() and ident[:1] != "+":
        return _SIGNAL_NAME(ident).lower()
    return phone_identifier(ident, region, "signal")


def platform_name(name: str) -> str:
    """The platform a name given by a person means (``Twitter`` -> ``x``)."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    if key not in PLATFORMS:
        raise Invalid(f"unknown platform {name!r} (one of {', '.join(PLATFORMS)})")
    return key


def identifier(platform: str, ident: str, region: str | None) -> str:
    """The canonical identifier of ``ident`` on ``platform`` (a name from ``PLATFORMS``)."""
    ident = ident.strip()
    if not ident:
        raise Invalid("no account identifier")
    if platform == "telegram":
        return _TELEGRAM(ident.removeprefix("@")).lower()
    if platform == "line":
        return _LINE(ident.removeprefix("~")).lower()
    if platform == "facebook":
        return _facebook(ident.removeprefix("@"))
    if platform == "instagram":
        return _INSTAGRAM(ident.removeprefix("@")).lower()
    if platform == "tiktok":
        return _TIKTOK(ident.removeprefix("@")).lower()
    if platform == "x":
        return _X(ident.removeprefix("@")).lower()
    if platform == "wechat":
        return _WECHAT(ident.removeprefix("@"))
    if platform == "signal":
        return _signal(ident.removeprefix("@"), region)
    return phone_identifier(ident, region, platform)  # whatsapp, zalo, viber
