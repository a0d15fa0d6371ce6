"""Probe keys of the account kinds: the same digits at a bank known or not (account-number),
a phone and the wallets and accounts keyed by it (same-number), a platform's link and the
account it points to (url-account). The storage contract suite runs them against a database
(tests/integration/test_registry_contract.py)."""

from __future__ import annotations

import pytest

from registry.domain.keys import PrefixLengths, number_key_prefixes, probe_keys
from registry.domain.kinds import (
    ACCOUNT_NUMBER,
    EXACT,
    MATCH_TYPES,
    SAME_NUMBER,
    URL_ACCOUNT,
    Value,
)
from registry.domain.normalize import normalize_one
from registry.domain.scoring import match_weight

NONE = PrefixLengths()
ALL = frozenset(number_key_prefixes())  # every kind of phone-keyed wallet and account listed
EVERY = PrefixLengths(numbers=ALL)
TH_WALLETS = ["acct:TH:TRUEMONEY:", "acct:TH:PROMPTPAY:", "acct:TH:RABBITLINEPAY:", "acct:TH:SHOPEEPAY:"]
PHONE_ACCOUNTS = ["whatsapp:", "zalo:", "viber:", "signal:"]
NUMBER = "+66812345678"


def keys(raw: str, kind: str | None = None, region: str | None = None, lengths: PrefixLengths = EVERY):
    return probe_keys(normalize_one(raw, kind, region), lengths)


# -- account-number ---------------------------------------------------------------------------

def test_an_account_at_a_known_bank_probes_the_same_number_with_the_bank_unknown():
    assert keys("KBank 123-4-56789-0") == [
        ("acct:TH:KASI:1234567890", EXACT), ("acct:TH:-:1234567890", ACCOUNT_NUMBER)]


def test_digits_whose_bank_is_unknown_probe_every_bank_of_the_country_that_takes_them():
    ten = keys("123-4-56789-0", "bank-account", "TH")
    assert ten[0] == ("acct:TH:-:1234567890", EXACT)
    banks = [key.split(":")[2] for key, match in ten[1:] if match == ACCOUNT_NUMBER]
    assert len(banks) == len(ten) - 1 and len(set(banks)) == len(banks)
    assert {"BKKB", "KASI", "KRTH", "SICO", "TFPC"} <= set(banks)  # TFPC takes 10 to 14 digits
    assert "GSBA" not in banks and "BAAB" not in banks  # 12-digit banks
    assert not {"TRUEMONEY", "PROMPTPAY"} & set(banks)  # phone-keyed wallets hold no digits
    twelve = [key.split(":")[2] for key, _ in keys("123456789012", "bank-account", "TH")[1:]]
    assert {"GSBA", "BAAB", "TFPC"} <= set(twelve) and "KASI" not in twelve
    assert all(key.endswith(":123456789012") and key.startswith("acct:TH:") for key, _ in keys(
        "123456789012", "bank-account", "TH")[1:])


def test_the_digits_of_a_wallet_that_also_takes_account_numbers_probe_as_an_account():
    assert keys("acct:KH:WING:123456789") == [
        ("acct:KH:WING:123456789", EXACT), ("acct:KH:-:123456789", ACCOUNT_NUMBER)]
    assert ("acct:KH:WING:123456789", ACCOUNT_NUMBER) in keys("123456789", "bank-account", "KH")


def test_a_country_outside_the_bank_table_has_no_banks_to_probe():
    unknown = Value("bank-account", "acct:DE:-:370400440532013000")  # an IBAN whose bank schwifty lacks
    assert probe_keys(unknown, NONE) == [(unknown.value, EXACT)]


# -- same-number -----------------------------------------------------------------------------

def test_a_phone_probes_the_wallets_of_its_country_and_the_phone_keyed_accounts():
    assert keys(NUMBER) == [(NUMBER, EXACT)] + [
        (prefix + NUMBER, SAME_NUMBER) for prefix in TH_WALLETS + PHONE_ACCOUNTS]


def test_its_number_blocks_come_before_the_same_number_keys():
    found = keys(NUMBER, lengths=PrefixLengths(phone=frozenset({5}), numbers=ALL))
    assert found[:2] == [(NUMBER, EXACT), ("+66812*", "phone-prefix")] and found[2][1] == SAME_NUMBER


def test_a_number_of_a_country_without_wallets_probes_the_accounts_only():
    number = "+6561234567"  # Singapore: no phone-keyed wallet in the table
    assert keys(number)[1:] == [(prefix + number, SAME_NUMBER) for prefix in PHONE_ACCOUNTS]
    assert keys("+14155552671")[1:] == [(p + "+14155552671", SAME_NUMBER) for p in PHONE_ACCOUNTS]


def test_only_the_kinds_of_wallet_and_account_listed_are_probed():
    assert keys(NUMBER, lengths=NONE) == [(NUMBER, EXACT)]  # none listed: the phone alone
    assert keys("TrueMoney 0812345678", None, "TH", NONE)[1:] == [(NUMBER, SAME_NUMBER)]  # the phone always
    some = PrefixLengths(numbers=frozenset({"acct:TH:PROMPTPAY:", "whatsapp:", "acct:MY:BOOST:"}))
    assert keys(NUMBER, lengths=some)[1:] == [
        ("acct:TH:PROMPTPAY:" + NUMBER, SAME_NUMBER), ("whatsapp:" + NUMBER, SAME_NUMBER)]
    assert keys("whatsapp:+66812345678", lengths=some)[1:] == [
        (NUMBER, SAME_NUMBER), ("acct:TH:PROMPTPAY:" + NUMBER, SAME_NUMBER)]
    assert keys("+6561234567", lengths=some)[1:] == [("whatsapp:+6561234567", SAME_NUMBER)]
    only_boost = PrefixLengths(numbers=frozenset({"acct:MY:BOOST:"}))
    assert keys(NUMBER, lengths=only_boost) == [(NUMBER, EXACT)]  # another country's wallet
    assert keys("+60123456789", lengths=only_boost)[1:] == [("acct:MY:BOOST:+60123456789", SAME_NUMBER)]


def test_every_prefix_is_a_wallet_of_the_table_or_a_phone_keyed_platform():
    prefixes = number_key_prefixes()
    assert {"acct:TH:TRUEMONEY:", "acct:PH:GXCH:", "acct:KH:WING:", "whatsapp:", "zalo:", "viber:",
            "signal:"} <= set(prefixes)
    assert not any(p.startswith(("acct:TH:KASI:", "telegram:", "acct:SG:")) for p in prefixes)


def test_a_number_block_is_no_ones_account():
    assert [match for _, match in keys("+85597123*")] == [EXACT]


def test_a_three_digit_calling_code_finds_its_wallets():
    wallets = [key for key, _ in keys("+85512345678")[1:] if key.startswith("acct:")]
    assert wallets == ["acct:KH:WING:+85512345678", "acct:KH:PIPAY:+85512345678"]


@pytest.mark.parametrize(("raw", "region"), [
    ("TrueMoney 081-234-5678", "TH"), ("wa.me/66812345678", None), ("viber:+66812345678", None),
    ("signal:+66812345678", None), ("zalo:+66812345678", None),
])
def test_a_phone_keyed_wallet_or_account_probes_the_phone_and_every_other_key_of_its_number(raw, region):
    found = keys(raw, None, region)
    own = found[0][0]
    assert found[0][1] == EXACT and own.endswith(NUMBER)
    expected = [NUMBER] + [prefix + NUMBER for prefix in TH_WALLETS + PHONE_ACCOUNTS]
    assert found[1:] == [(key, SAME_NUMBER) for key in expected if key != own]


def test_an_account_not_keyed_by_a_phone_probes_itself():
    assert keys("telegram:kbank_support_th") == [("telegram:kbank_support_th", EXACT)]
    assert keys("signal:scammer.01") == [("signal:scammer.01", EXACT)]  # a Signal username


# -- url-account ------------------------------------------------------------------------------

def test_a_platform_link_probes_the_account_it_points_to_last():
    assert keys("https://t.me/kbank_support_th/12") == [
        ("https://t.me/kbank_support_th/12", EXACT), ("t.me", "url-host"),
        ("telegram:kbank_support_th", URL_ACCOUNT)]
    assert keys("https://wa.me/66812345678")[-1] == ("whatsapp:+66812345678", URL_ACCOUNT)
    assert keys("https://www.facebook.com/profile.php?id=100012345678")[-1] == ("facebook:100012345678", URL_ACCOUNT)


@pytest.mark.parametrize("url", [
    "https://t.me/+AbCdEfGhIjK", "https://t.me/joinchat/AbCdEf", "https://chat.whatsapp.com/AbCdEfGh",
    "https://www.facebook.com/groups/123456", "https://t.me/", "https://kbank-secure.example/t.me/name",
])
def test_invites_groups_and_other_urls_probe_no_account(url):
    assert URL_ACCOUNT not in {match for _, match in keys(url)}


# -- the order contract and the weights ---------------------------------------------------------

@pytest.mark.parametrize(("raw", "kind", "region"), [
    (NUMBER, None, None), ("TrueMoney 0812345678", None, "TH"), ("wa.me/66812345678", None, None),
    ("KBank 123-4-56789-0", None, None), ("1234567890", "bank-account", "TH"),
    ("https://t.me/kbank_support_th/12", None, None),
])
def test_value_first_then_match_types_in_their_order_without_repeats(raw, kind, region):
    found = keys(raw, kind, region, PrefixLengths(phone=frozenset({4, 7}), numbers=ALL))
    assert found[0] == (normalize_one(raw, kind, region).value, EXACT)
    order = [MATCH_TYPES.index(match) for _, match in found]
    assert order == sorted(order) and EXACT not in {match for _, match in found[1:]}
    assert len({key for key, _ in found}) == len(found)


def test_weights_of_the_new_match_types():
    assert match_weight(SAME_NUMBER, "bank-account", None) == match_weight(URL_ACCOUNT, "user-account", None) == 0.9
    assert match_weight(ACCOUNT_NUMBER, "bank-account", None) == 0.8
    assert match_weight(ACCOUNT_NUMBER, "bank-account", None) < match_weight(SAME_NUMBER, "phone", None) < 1.0
