"""The account a platform's link points to: ``t.me/NAME``, ``wa.me/NUMBER``, ….

A link to a post names its account (``t.me/NAME/12``); invite links, group joins and the
platforms' own pages are not accounts (they stay URLs), and :func:`link_account` says so in
its reason. See docs/design.md ("The money and messaging kinds").
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote

from registry.domain.normalize.errors import Invalid

_TELEGRAM_HOSTS = frozenset({"t.me", "telegram.me", "telegram.dog"})
_FACEBOOK_HOSTS = frozenset({"facebook.com", "fb.com", "m.facebook.com", "web.facebook.com",
                             "mbasic.facebook.com", "touch.facebook.com"})
_X_HOSTS = frozenset({"x.com", "twitter.com", "mobile.twitter.com", "mobile.x.com"})
_HOSTS = {
    **{h: "telegram" for h in _TELEGRAM_HOSTS}, "line.me": "line",
    **{h: "facebook" for h in _FACEBOOK_HOSTS}, "instagram.com": "instagram",
    "instagr.am": "instagram", "tiktok.com": "tiktok", "m.tiktok.com": "tiktok",
    **{h: "x" for h in _X_HOSTS}, "zalo.me": "zalo", "wa.me": "whatsapp",
    "api.whatsapp.com": "whatsapp", "chat.whatsapp.com": "whatsapp", "signal.me": "signal",
}
# First path segments that are a platform's own pages, not an account.
_NOT_ACCOUNTS = {
    "telegram": {"addstickers", "addemoji", "addtheme", "addlist", "setlanguage", "share",
                 "proxy", "socks", "iv", "login", "c", "bg", "confirmphone", "contact", "boost",
                 "giftcode", "invoice", "m"},
    "facebook": {"groups", "events", "watch", "share", "sharer", "sharer.php", "photo",
                 "photo.php", "story.php", "permalink.php", "login", "login.php", "marketplace",
                 "gaming", "help", "policies", "privacy", "hashtag", "reel", "reels", "stories",
                 "dialog", "plugins", "ads", "business", "settings", "messages", "notifications",
                 "friends", "home.php", "search", "l.php", "video.php", "media", "fundraisers",
                 "p", "tr"},
    "instagram": {"p", "reel", "reels", "stories", "explore", "accounts", "direct", "tv",
                  "about", "developer", "legal", "web"},
    "x": {"i", "home", "explore", "search", "hashtag", "intent", "share", "settings",
          "messages", "notifications", "login", "signup", "tos", "privacy", "compose",
          "account", "logout", "download"},
}
_URL = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.\-]*://)?(?:[^/?#@]*@)?([^/?#:]+)(?::\d+)?(.*)", re.S)


def platform_host(host: str) -> str | None:
    """The platform whose links ``host`` serves (``www.`` ignored; ``NAME.t.me`` too)."""
    host = host.lower().removeprefix("www.")
    found = _HOSTS.get(host)
    if found is None and host.endswith(".t.me") and host.count(".") == 2:
        return "telegram"
    return found


def _segments(rest: str) -> tuple[list[str], str, str]:
    path, _, fragment = rest.partition("#")
    path, _, query = path.partition("?")
    return [unquote(p) for p in path.split("/") if p], query, fragment


def link_account(text: str) -> tuple[str, str]:
    """(platform, identifier as written) of a platform link, with or without a scheme; raises
    ``Invalid`` for a link that is not an account's."""
    m = _URL.fullmatch(text)
    platform = platform_host(m.group(1)) if m else None
    if m is None or platform is None:
        raise Invalid("not a link of a known platform")
    host = m.group(1).lower().removeprefix("www.")
    parts, query, fragment = _segments(m.group(2))
    first = parts[0] if parts else ""
    if platform == "telegram" and host.endswith(".t.me") and host not in _TELEGRAM_HOSTS:
        return platform, host[: -len(".t.me")]
    if not first and not (platform == "whatsapp" or platform == "signal"):
        raise Invalid("a link to the platform, not to an account")
    if first.lower() in _NOT_ACCOUNTS.get(platform, ()):
        raise Invalid(f"a {platform} page ({first!r}), not an account (it stays a URL)")
    if platform == "telegram":
        if first.startswith("+") or first.lower() == "joinchat":
            raise Invalid("a Telegram invite link, not an account (it stays a URL)")
        if first.lower() == "s" and len(parts) > 1:  # the web preview of a channel
            return platform, parts[1]
        return platform, first
    if platform == "line":
        return platform, _line(parts)
    if platform == "facebook":
        return platform, _facebook(parts, query)
    if platform == "tiktok":
        if not first.startswith("@"):
            raise Invalid("a TikTok link without an @account (a short or video link)")
        return platform, first[1:]
    if platform == "whatsapp":
        return platform, _whatsapp(host, first, query)
    if platform == "zalo":
        if not first.isdigit():
            raise Invalid("a Zalo link that is not a phone number (a group or official account)")
        return platform, first
    if platform == "signal":
        if not fragment.startswith("p/"):
            raise Invalid("a Signal link without a phone number (#p/+…)")
        return platform, fragment[2:]
    return platform, first  # instagram, x


def _line(parts: list[str]) -> str:
    if parts[:1] == ["R"]:
        parts = parts[1:]
    if parts[:2] != ["ti", "p"] or len(parts) < 3:
        raise Invalid("a LINE link that is not an account (line.me/ti/p/~ID or @ID)")
    ident = parts[2]
    if ident[:1] not in "~@":
        raise Invalid("a LINE QR-code link (an opaque token, not a LINE ID)")
    return ident


def _facebook(parts: list[str], query: str) -> str:
    first = parts[0]
    if first == "profile.php":
        ids = parse_qs(query).get("id")
        if not ids or not ids[0].isdigit():
            raise Invalid("a Facebook profile.php link without a numeric id")
        return ids[0]
    if first in ("people", "pages") and len(parts) >= 3 and parts[2].isdigit():
        return parts[2]  # people/NAME/ID, pages/NAME/ID: the id names the account
    return first


def _whatsapp(host: str, first: str, query: str) -> str:
    if host == "chat.whatsapp.com":
        raise Invalid("a WhatsApp group invite, not an account (it stays a URL)")
    if host == "api.whatsapp.com":
        numbers = parse_qs(query).get("phone")
        if not numbers:
            raise Invalid("a WhatsApp link without a phone number")
        return numbers[0].strip()
    if not first.lstrip("+").isdigit():
        raise Invalid("a wa.me link that is not a phone number (a business short link)")
    return first


# An account's public page by platform, from its canonical identifier; a phone-keyed
# platform's from the number's digits (E.164 without "+"), where the platform has one.
_PAGES = {"telegram": "https://t.me/{}", "instagram": "https://www.instagram.com/{}",
          "tiktok": "https://www.tiktok.com/@{}", "x": "https://x.com/{}"}
_NUMBER_PAGES = {"whatsapp": "https://wa.me/{}", "zalo": "https://zalo.me/{}",
                 "signal": "https://signal.me/#p/+{}"}


def account_page(platform: str, ident: str) -> str | None:
    """The https link of a canonical account's public page (the inverse of :func:`link_account`:
    reading the link back names the same account), or None where the platform has none that
    names the account (Viber, WeChat, a Signal username). Built from the canonical identifier,
    whose characters each platform's rules restrict, so nothing but that identifier goes in."""
    if platform == "line":
        return f"https://line.me/R/ti/p/{ident}" if ident[:1] == "@" else f"https://line.me/ti/p/~{ident}"
    if platform == "facebook":
        return f"https://www.facebook.com/profile.php?id={ident}" if ident.isdigit() else f"https://www.facebook.com/{ident}"
    if platform in _PAGES:
        return _PAGES[platform].format(ident)
    if platform in _NUMBER_PAGES and ident[:1] == "+" and ident[1:].isdigit():
        return _NUMBER_PAGES[platform].format(ident[1:])
    return None
