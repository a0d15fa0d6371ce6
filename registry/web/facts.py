"""What a canonical value says about itself, as the pages show it beside the value: a bank
account's bank and country (from the bank table), an e-wallet marked, a crypto wallet's chain, a
messaging account's platform with a link to its public page, a file hash's algorithm.

Read from the canonical text alone (and the shipped tables), so an answer about a value shows
the same facts whoever asks: nothing here reads the database. See docs/web.md.
"""

from __future__ import annotations

from typing import NamedTuple

import pycountry

from registry.domain.kinds import BANK_ACCOUNT, CRYPTO_WALLET, FILE_HASH, USER_ACCOUNT
from registry.domain.normalize import phone_display
from registry.domain.normalize.account_links import account_page
from registry.domain.normalize.bank_table import bank_coded

PLATFORM_NAMES = {
    "telegram": "Telegram", "line": "LINE", "whatsapp": "WhatsApp", "facebook": "Facebook",
    "instagram": "Instagram", "tiktok": "TikTok", "x": "X (Twitter)", "wechat": "WeChat", "zalo": "Zalo",
    "viber": "Viber", "signal": "Signal",
}
CHAIN_NAMES = {
    "btc": "Bitcoin", "ltc": "Litecoin", "tron": "TRON (USDT-TRC20 and other TRC-20 tokens)",
    "evm": "Ethereum and EVM chains (ERC-20, BEP-20, Polygon, …: one address on each)",
    "sol": "Solana", "ton": "TON", "xmr": "Monero",
}
_CHAIN_TAGS = {"btc": "Bitcoin", "ltc": "Litecoin", "tron": "TRON", "evm": "EVM", "sol": "Solana", "ton": "TON",
               "xmr": "Monero"}
ALGORITHM_NAMES = {"md5": "MD5", "sha1": "SHA-1", "sha256": "SHA-256"}
E_WALLET = "e-wallet"


class Fact(NamedTuple):
    """One line of the facts: a name, its text, and a link (an https page of the platform's) or None."""

    name: str
    text: str
    link: str | None = None


class Described(NamedTuple):
    """``tag``: a short mark shown beside the kind ("e-wallet", "TRON", "Telegram", "SHA-256");
    ``facts``: the lines the indicator page lists."""

    tag: str | None
    facts: tuple[Fact, ...]


NOTHING = Described(None, ())


def country_name(code: str) -> str:
    """``Thailand (TH)``; the code alone where ISO 3166 has no such country."""
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    return f"{getattr(country, 'common_name', None) or country.name} ({code})"


def describe(kind: str, value: str) -> Described:
    """The tag and facts of a canonical value of ``kind``; nothing for the kinds whose value says
    it all (IPs, domains, URLs, phones, e-mail addresses) or a value of another shape."""
    head, sep, rest = value.partition(":")
    if not sep:
        return NOTHING
    if kind == BANK_ACCOUNT:
        return _bank_account(value)
    if kind == CRYPTO_WALLET and head in CHAIN_NAMES:
        return Described(_CHAIN_TAGS[head], (Fact("Chain", CHAIN_NAMES[head]), Fact("Address", rest)))
    if kind == USER_ACCOUNT and head in PLATFORM_NAMES:
        facts = [Fact("Platform", PLATFORM_NAMES[head]), Fact("Account", rest)]
        if rest[:1] == "+":
            facts.append(Fact("Phone number", phone_display(rest) or rest))
        page = account_page(head, rest)
        if page:
            facts.append(Fact("Public page", page, page))
        return Described(PLATFORM_NAMES[head], tuple(facts))
    if kind == FILE_HASH and head in ALGORITHM_NAMES:
        return Described(ALGORITHM_NAMES[head], (Fact("Algorithm", ALGORITHM_NAMES[head]), Fact("Digest", rest)))
    return NOTHING


def _bank_account(value: str) -> Described:
    parts = value.split(":")
    if len(parts) != 4:
        return NOTHING
    _, country, code, number = parts
    facts = [Fact("Country", country_name(country))]
    bank = bank_coded(country, code) if code != "-" else None
    if code == "-":
        facts.append(Fact("Bank", f"unknown: the number matches at any bank in {country}"))
    elif bank is None:
        facts.append(Fact("Bank", f"SWIFT BIC institution code {code} (not in the ASEAN bank table)"))
    else:
        local = f" ({bank.local_name})" if bank.local_name and bank.local_name != bank.name else ""
        facts.append(Fact("E-wallet" if bank.phone_wallet and number[:1] == "+" else "Bank", bank.name + local))
        facts.append(Fact("BIC" if bank.is_bic else "Registry code", bank.bic or code))
    wallet = number[:1] == "+"
    if wallet:
        facts.append(Fact("Keyed by the phone number", phone_display(number) or number))
    else:
        facts.append(Fact("Account number", number))
    return Described(E_WALLET if wallet else "bank account", tuple(facts))
