"""Accounts on messaging and social platforms: canonical ``PLATFORM:IDENTIFIER``.

Read from ``telegram:name``, from a platform's link (``t.me/NAME``, ``wa.me/NUMBER``, …:
``account_links``) and, when the platform is given apart (the ``--platform`` flag), from
``@name`` or a bare identifier (:func:`normalize_account`). Each platform's own rules
(``account_rules``) decide the characters and the case; an account keyed by a phone number
(WhatsApp, Zalo, Viber, Signal by number) is that number's E.164. :func:`account_of_url`
gives the account a canonical URL points to, for lookups that probe it. See docs/design.md
("The money and messaging kinds").
"""

from __future__ import annotations

import re

from registry.domain.kinds import URL, USER_ACCOUNT, Value, new_value
from registry.domain.normalize.account_links import link_account, platform_host
from registry.domain.normalize.account_rules import PLATFORMS, identifier, platform_name
from registry.domain.normalize.errors import Invalid
from registry.domain.normalize.handlers import Kind

# ``twitter:`` is read as ``x:``; other aliases only with the platform given apart.
_PREFIXED = re.compile(r"(" + "|".join((*PLATFORMS, "twitter")) + r")\s*:\s*(\S.*)",
                       re.IGNORECASE | re.DOTALL)
_PREFIX_OR_PATH = re.compile(r"[:/?#\s]")  # a platform: prefix, or what follows a link's host
_HOST = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.\-]*://)?(?:[^/?#@]*@)?([^/?#:\s]+)")


def _value(platform: str, ident: str, region: str | None) -> Value:
    canonical = f"{platform}:{identifier(platform, ident, region)}"
    return new_value(USER_ACCOUNT, canonical, None, None, None, None, None)


def _is_link(s: str, with_path: bool = True) -> bool:
    """A platform's link; ``with_path`` False also takes a bare host (``NAME.t.me``)."""
    m = _HOST.match(s)
    if m is None or platform_host(m.group(1)) is None:
        return False
    return m.end() < len(s) or not with_path


def looks_account(s: str) -> bool:
    """``platform:identifier``, or a platform's link written without ``scheme://`` (one with
    a scheme is a URL, which probes the account: :func:`account_of_url`)."""
    if _PREFIX_OR_PATH.search(s) is None:  # most feed lines: no regex over the platform names
        return False
    if _PREFIXED.fullmatch(s):
        return True
    return "://" not in s and _is_link(s)


def normalize_account(text: str, platform: str | None, region: str | None = None) -> Value:
    """The account ``text`` names: ``@name`` or a bare identifier need ``platform``; a
    ``platform:`` prefix or a link must agree with it."""
    s = text.strip()
    want = platform_name(platform) if platform else None
    m = _PREFIXED.fullmatch(s)
    if m is not None:
        named, ident = platform_name(m.group(1)), m.group(2)
    elif _is_link(s, with_path=False):
        named, ident = link_account(s)
    elif want is None:
        if s[:1] == "@":
            raise Invalid("an @name needs its platform (give --platform)")
        raise Invalid(f"not an account (give platform:identifier, one of {', '.join(PLATFORMS)})")
    else:
        named, ident = want, s
    if want is not None and named != want:
        raise Invalid(f"a {named} account, given as {want}")
    return _value(named, ident, region)


def normalize_user_account(s: str, region: str | None, explicit: bool) -> tuple[Value, ...]:
    return (normalize_account(s, None, region),)


def account_of_url(url_value: str) -> Value | None:
    """The account a canonical URL points to (``https://t.me/kbank_support_th/12`` ->
    ``telegram:kbank_support_th``), or None: not a platform's link, or not an account's."""
    try:
        platform, ident = link_account(url_value)
        return _value(platform, ident, None)
    except Invalid:
        return None


# A URL given as an account is read as a platform's link: the reason is this kind's own.
KIND = Kind(USER_ACCOUNT, "a messaging or social account", looks_account, normalize_user_account,
            explains=frozenset({URL}))
