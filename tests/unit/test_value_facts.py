"""What the pages show beside a value of the new kinds (registry.web.facts), and the public page
link of an account (account_links.account_page), which must name the very account it is shown for."""

from __future__ import annotations

import pytest

from registry.domain.normalize import normalize_one
from registry.domain.normalize.account_links import account_page
from registry.domain.normalize.account_rules import PLATFORMS
from registry.domain.normalize.user_account import account_of_url
from registry.web.facts import describe

ACCOUNTS = [
    "telegram:kbank_support_th", "line:@kbank.th", "line:somchai.k", "facebook:100012345678",
    "facebook:kbankofficial", "instagram:kbank.th", "tiktok:kbank_th", "x:kbank_th", "whatsapp:+66812345678",
    "zalo:+84912345678", "signal:+66812345678",
]
NO_PAGE = ["viber:+66812345678", "wechat:kbank_th1", "signal:someone.01"]


@pytest.mark.parametrize("value", ACCOUNTS)
def test_an_accounts_page_reads_back_as_the_same_account(value):
    platform, _, ident = value.partition(":")
    page = account_page(platform, ident)
    assert page.startswith("https://")
    url = normalize_one(page)
    assert url.kind == "url" and account_of_url(url.value).value == value


@pytest.mark.parametrize("value", NO_PAGE)
def test_no_page_where_the_platform_has_none_naming_the_account(value):
    platform, _, ident = value.partition(":")
    assert account_page(platform, ident) is None


def test_every_platform_is_covered_here():
    assert {v.partition(":")[0] for v in ACCOUNTS + NO_PAGE} == set(PLATFORMS)


def _facts(kind: str, value: str) -> dict[str, str]:
    return {f.name: f.text for f in describe(kind, value).facts}


def test_a_bank_account_names_its_bank_and_country():
    value = normalize_one("KBank 123-4-56789-0").value
    assert describe("bank-account", value).tag == "bank account"
    assert _facts("bank-account", value) == {"Country": "Thailand (TH)", "Bank": "Kasikornbank (ธนาคารกสิกรไทย)",
                                             "BIC": "KASITHBK", "Account number": "1234567890"}
    unknown = normalize_one("5140 1234 5678", "bank-account", "MY").value
    assert _facts("bank-account", unknown)["Bank"] == "unknown: the number matches at any bank in MY"
    iban = normalize_one("DE89370400440532013000").value  # a BIC outside the ASEAN table
    assert _facts("bank-account", iban) == {"Country": "Germany (DE)", "Account number": "370400440532013000",
                                            "Bank": "SWIFT BIC institution code COBA (not in the ASEAN bank table)"}


def test_an_e_wallet_is_marked_with_its_phone():
    value = normalize_one("TrueMoney 081-234-5678", None, "TH").value
    described = describe("bank-account", value)
    assert described.tag == "e-wallet"
    assert {f.name: f.text for f in described.facts} == {
        "Country": "Thailand (TH)", "E-wallet": "TrueMoney Wallet (ทรูมันนี่)", "Registry code": "TRUEMONEY",
        "Keyed by the phone number": "+66 81 234 5678"}
    gcash = describe("bank-account", normalize_one("GCash 0917 123 4567", None, "PH").value)
    assert gcash.tag == "e-wallet" and {f.name: f.text for f in gcash.facts}["BIC"] == "GXCHPHM2"


def test_wallets_accounts_and_hashes():
    tron = describe("crypto-wallet", "tron:TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t")
    assert tron.tag == "TRON" and tron.facts[0].text.startswith("TRON (USDT-TRC20")
    assert describe("crypto-wallet", "evm:0x" + "0" * 40).tag == "EVM"
    telegram = describe("user-account", "telegram:kbank_support_th")
    assert telegram.tag == "Telegram"
    assert [(f.name, f.link) for f in telegram.facts if f.link] == [("Public page", "https://t.me/kbank_support_th")]
    assert _facts("user-account", "whatsapp:+66812345678")["Phone number"] == "+66 81 234 5678"
    assert describe("file-hash", "md5:" + "0" * 32).tag == "MD5"
    for kind, value in (("ipv4", "1.2.3.4"), ("url", "https://t.me/x"), ("bank-account", "acct:TH"),
                        ("user-account", "myspace:x")):
        assert describe(kind, value) == (None, ()), value
