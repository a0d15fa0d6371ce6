"""Golden tests of the user-account kind (not yet registered): each platform's identifier
rules (sources in registry/domain/normalize/account_rules.py) and its links."""

from __future__ import annotations

import pytest

from registry.domain.normalize import domain, email, ip, phone, url
from registry.domain.normalize.errors import Invalid
from registry.domain.normalize.user_account import (
    KIND,
    USER_ACCOUNT,
    account_of_url,
    normalize_account,
)

EXISTING = (ip.IPV4_KIND, url.KIND, email.KIND, ip.IPV6_KIND, phone.KIND, domain.KIND)


def canon(text: str, platform: str | None = None, region: str | None = None) -> str:
    if platform is None:
        assert KIND.detect(text), text
        (value,) = KIND.normalize(text, region, True)
    else:
        value = normalize_account(text, platform, region)
    assert value.kind == USER_ACCOUNT
    return value.value


def reason(text: str, platform: str | None = None) -> str:
    with pytest.raises(Invalid) as e:
        normalize_account(text, platform)
    return e.value.reason


@pytest.mark.parametrize(("text", "platform", "want"), [
    # Telegram: 5-32 of a-z, 0-9, _, case-insensitive (core.telegram.org account.updateUsername).
    ("telegram:KBank_Support_TH", None, "telegram:kbank_support_th"),
    ("@KBank_Support_TH", "telegram", "telegram:kbank_support_th"),
    ("KBank_Support_TH", "Telegram", "telegram:kbank_support_th"),
    ("t.me/kbank_support_th", None, "telegram:kbank_support_th"),
    ("telegram.me/kbank_support_th", None, "telegram:kbank_support_th"),
    ("t.me/s/kbank_support_th", None, "telegram:kbank_support_th"),  # a channel's web preview
    ("kbank_support_th.t.me/", None, "telegram:kbank_support_th"),
    # LINE: personal IDs lowercase (line.me/ti/p/~ID); official accounts keep their "@".
    ("line.me/ti/p/~Scam.Officer", None, "line:scam.officer"),
    ("line:~scam_officer", None, "line:scam_officer"),
    ("line.me/R/ti/p/@abc1234x", None, "line:@abc1234x"),
    ("@abc1234x", "line", "line:@abc1234x"),
    # Facebook: periods and capitals don't count (Facebook Help, "Username").
    ("facebook.com/John.Smith55", None, "facebook:johnsmith55"),
    ("facebook:johnsmith55", None, "facebook:johnsmith55"),
    ("m.facebook.com/profile.php?id=100012345678901", None, "facebook:100012345678901"),
    # Instagram, TikTok, X: case-insensitive usernames.
    ("instagram.com/Scam.Shop_TH", None, "instagram:scam.shop_th"),
    ("tiktok.com/@Scam.Shop/video/7300000000000000000", None, "tiktok:scam.shop"),
    ("x.com/ScamBank", None, "x:scambank"),
    ("twitter.com/ScamBank/status/1", None, "x:scambank"),
    ("twitter:ScamBank", None, "x:scambank"),
    ("@ScamBank", "twitter", "x:scambank"),
    # WeChat IDs are kept as written.
    ("wechat:Scam_Officer1", None, "wechat:Scam_Officer1"),
    # Accounts keyed by a phone: its E.164 (wa.me writes it without "+", zalo.me nationally).
    ("wa.me/66812345678", None, "whatsapp:+66812345678"),
    ("api.whatsapp.com/send?phone=66812345678", None, "whatsapp:+66812345678"),
    ("whatsapp:+66 81 234 5678", None, "whatsapp:+66812345678"),
    ("zalo.me/0912345678", None, "zalo:+84912345678"),
    ("zalo.me/84912345678", None, "zalo:+84912345678"),
    ("viber:+66812345678", None, "viber:+66812345678"),
    ("signal:+66812345678", None, "signal:+66812345678"),
    ("signal.me/#p/+66812345678", None, "signal:+66812345678"),
    ("signal:Alice.01", None, "signal:alice.01"),  # a Signal username: nickname.digits
])
def test_accounts(text, platform, want):
    assert canon(text, platform) == want
    assert canon(want) == want  # a canonical value normalises to itself


def test_national_phone_numbers_take_the_region():
    assert canon("0812345678", "whatsapp", "TH") == "whatsapp:+66812345678"
    assert canon("whatsapp:0812345678", None, "TH") == "whatsapp:+66812345678"


@pytest.mark.parametrize(("text", "platform", "why"), [
    ("@kbank_support", None, "needs its platform"),
    ("telegram:abc", None, "5 to 32"),
    ("telegram:1abcdef", None, "starting with a letter"),
    ("t.me/joinchat/AAAAAEvZ3Yx", None, "invite"),
    ("t.me/+AbCdEfGhIjK", None, "invite"),
    ("t.me/addstickers/Pack", None, "not an account"),
    ("chat.whatsapp.com/AbCdEf", None, "group invite"),
    ("line.me/ti/g/AbCdEf", None, "not an account"),
    ("line.me/ti/p/AbCdEfGh", None, "QR-code"),
    ("facebook.com/groups/123", None, "not an account"),
    ("tiktok.com/video/1", None, "without an @account"),
    ("x:this_name_is_too_long", None, "up to 15"),
    ("wechat:abc", None, "6 to 20"),
    ("whatsapp:0812345678", None, "region"),
    ("myspace:someone", None, "not an account"),
    ("@someone", "myspace", "unknown platform"),
    ("telegram:kbank_support", "line", "given as line"),
])
def test_rejections_give_reasons(text, platform, why):
    assert why in reason(text, platform)


def test_account_of_url():
    assert account_of_url("https://t.me/kbank_support_th/12").value == "telegram:kbank_support_th"
    assert account_of_url("https://wa.me/66812345678").value == "whatsapp:+66812345678"
    assert account_of_url("https://www.facebook.com/John.Smith55").value == "facebook:johnsmith55"
    for not_account in ("https://t.me/joinchat/AAAAAEvZ3Yx", "https://t.me/+AbCd",
                        "https://example.com/kbank", "https://t.me/", "https://x.com/i/flow",
                        "https://t.me/ab"):
        assert account_of_url(not_account) is None, not_account


def test_a_bare_telegram_subdomain_is_a_domain_unless_given_as_an_account():
    assert not KIND.detect("kbank_support_th.t.me")
    assert canon("kbank_support_th.t.me", "telegram") == "telegram:kbank_support_th"
    assert "not to an account" in reason("t.me", "telegram")


def test_links_with_a_scheme_are_left_to_the_url_kind():
    assert not KIND.detect("https://t.me/kbank_support_th")
    assert KIND.normalize("https://t.me/kbank_support_th", None, True)[0].value == (
        "telegram:kbank_support_th")  # given as a user-account, the link is read


# Detection order matters for the next session: these existing detectors claim canonical
# user-account values, so user-account must be asked before email and domain.
KNOWN_CLASHES = {
    "line:@abc1234x": ["email"],  # any "@"
    "line:scam.officer": ["domain"],  # a dot, no slash
    "instagram:scam.shop_th": ["domain"],
    "tiktok:scam.shop": ["domain"],
    "signal:alice.01": ["domain"],
}


def test_which_existing_kinds_claim_canonical_values():
    values = ["telegram:kbank_support_th", "facebook:johnsmith55", "x:scambank",
              "wechat:Scam_Officer1", "whatsapp:+66812345678", "zalo:+84912345678",
              "viber:+66812345678", "signal:+66812345678", *KNOWN_CLASHES]
    for value in values:
        assert canon(value) == value
        claimed = [k.name for k in EXISTING if k.detect(value)]
        assert claimed == KNOWN_CLASHES.get(value, []), value
