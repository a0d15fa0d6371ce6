"""Golden tests of the bank-account kind (registry/domain/normalize/bank_account.py), not yet
registered: the module's normaliser, detector and from_parts are called directly.

Sources of the cases: the banks' own account-number formats (Thai commercial banks print
XXX-X-XXXXX-X, ten digits; the Government Savings Bank and BAAC twelve), the Bank of
Thailand's 3-digit bank codes (002 BBL, 004 KBank, 006 KTB, 014 SCB, 025 BAY, 030 GSB) and Bank
Indonesia's sandi bank (014 BCA, 008 Mandiri), the SWIFT BIC directory (KASITHBK, SICOTHBK,
MBBEMYKL, CENAIDJA, BFTVVNVX, …) and the SWIFT IBAN Registry's example IBAN of each country.
"""

from __future__ import annotations

import pytest

from registry.domain.kinds import Value
from registry.domain.normalize import bank_table
from registry.domain.normalize.bank_account import (
    BANK_ACCOUNT,
    KIND,
    WALLET,
    from_parts,
    looks_bank_account,
    normalize_bank_account,
)
from registry.domain.normalize.errors import Invalid


def canon(text: str, region: str | None = None) -> str:
    (value,) = normalize_bank_account(text, region, True)
    assert value.kind == BANK_ACCOUNT
    return value.value


def reason(text: str, region: str | None = None) -> str:
    with pytest.raises(Invalid) as e:
        normalize_bank_account(text, region, True)
    return e.value.reason


# National forms of one account landing on one canonical value.
SAME_ACCOUNT = [
    # Kasikornbank (BIC KASITHBK, BOT code 004): its own XXX-X-XXXXX-X format, Thai and short names
    (
        "acct:TH:KASI:1234567890",
        None,
        [
            "KBank 123-4-56789-0",
            "K-Bank 1234567890",
            "กสิกรไทย 1234567890",
            "ธนาคารกสิกรไทย 123-4-56789-0",
            "Kasikornbank 123 4 56789 0",
            "kbank: 1234567890",
            "1234567890 KBank",
            "004-1-23456-789-0",
            "004 1234567890",
        ],
    ),
    # Siam Commercial Bank (SICOTHBK, 014), Bangkok Bank (BKKBTHBK, 002), Krungsri (AYUDTHBK, 025)
    (
        "acct:TH:SICO:4081234567",
        None,
        ["SCB 408-1-23456-7", "ไทยพาณิชย์ 4081234567", "ธนาคารไทยพาณิชย์ 408-123456-7"],
    ),
    ("acct:TH:SICO:4081234567", "TH", ["014-4-08123-456-7"]),
    (
        "acct:TH:BKKB:1234567890",
        None,
        [
            "BBL 123-4-56789-0",
            "Bangkok Bank 1234567890",
            "ธนาคารกรุงเทพ 123-4-56789-0",
            "002-1234567890",
        ],
    ),
    (
        "acct:TH:AYUD:1234567890",
        None,
        ["Krungsri 123-4-56789-0", "BAY 1234567890", "กรุงศรี 1234567890", "025-1234567890"],
    ),
    # Government Savings Bank (GSBATHBK, 030): twelve digits
    (
        "acct:TH:GSBA:020123456789",
        None,
        ["GSB 0201-2345-6789", "ออมสิน 020123456789", "030-020123456789"],
    ),
    # Maybank (MBBEMYKL): twelve digits, Malay legal name
    (
        "acct:MY:MBBE:514012345678",
        None,
        ["Maybank 514012345678", "Maybank 5140 1234 5678", "Malayan Banking Berhad 514012345678"],
    ),
    # Bank Central Asia (CENAIDJA, sandi 014): ten digits
    ("acct:ID:CENA:1234567890", None, ["BCA 123-456-7890", "Bank Central Asia 1234567890"]),
    ("acct:ID:CENA:1234567890", "ID", ["014-1234567890"]),
    # Bank Mandiri (BMRIIDJA, 008): thirteen digits
    ("acct:ID:BMRI:1230012345678", None, ["Mandiri 123-00-1234567-8", "008 1230012345678"]),
    # Vietcombank (BFTVVNVX): English, Vietnamese with and without its diacritics
    (
        "acct:VN:BFTV:0011004123456",
        None,
        [
            "Vietcombank 0011004123456",
            "VCB 0011 0041 23456",
            "Ngân hàng TMCP Ngoại thương Việt Nam 0011004123456",
            "ngan hang tmcp ngoai thuong viet nam 0011004123456",
        ],
    ),
    # ABA Bank (ABAAKHPP): nine digits; Khmer name
    ("acct:KH:ABAA:000123456", None, ["ABA 000 123 456", "ធនាគារ អេ ប៊ី អេ 000123456"]),
    # BDO (BNORPHMM), DBS and POSB (one bank, BIC DBSSSGSG; POSB numbers have 9 digits), KBZ (KBZBMMMY), BCEL (COEBLALA), BIBD
    ("acct:PH:BNOR:001234567890", None, ["BDO 0012-3456-7890"]),
    ("acct:SG:DBSS:0721234567", None, ["DBS 072-123456-7"]),
    ("acct:SG:DBSS:123456789", None, ["POSB 123-45678-9"]),
    (
        "acct:MM:KBZB:02730102712345678",
        None,
        ["KBZ 027 301 02712345678", "ကမ္ဘောဇဘဏ် 02730102712345678"],
    ),
    ("acct:LA:COEB:010120001234567001", None, ["BCEL 010.12.00.01234567.001"]),
    ("acct:BN:BIBD:00001012345678", None, ["BIBD 0000 1012 3456 78"]),
    # A BIC written in full or its 4-letter code (from_parts covers the columns)
    ("acct:TH:KASI:1234567890", None, ["KASITHBK 1234567890", "KASITHBKXXX 123-4-56789-0"]),
    # Words around a name; a short name that starts like an IBAN ("MB01 …": MB Bank, VN)
    (
        "acct:TH:KASI:1234567890",
        None,
        [
            "Kasikorn Bank 1234567890",
            "Bank KBank 1234567890",
            "ธ.กสิกรไทย 123-4-56789-0",
            "กสิกรไทย ๑๒๓-๔-๕๖๗๘๙-๐",  # Thai digits
        ],
    ),
    (
        "acct:ID:BMRI:1230012345678",
        None,
        ["Bank Mandiri 1230012345678", "Mandiri Bank 1230012345678"],
    ),
    (
        "acct:VN:MSCB:0123456789",
        None,
        ["MB01 2345 6789", "MB Bank 0123456789", "Ngân hàng MB 0123456789"],
    ),
    # Wing Bank (WINGKHPP) keys its wallets by phone and also has plain account numbers
    ("acct:KH:WING:123456789012", None, ["Wing 1234 5678 9012"]),
    ("acct:KH:WING:012345678", None, ["acct:KH:WING:012345678"]),
    # Digits alone with the country given: bank unknown
    ("acct:TH:-:1234567890", "TH", ["1234567890", "123-4-56789-0"]),
    ("acct:VN:-:19031234567012", "VN", ["1903 1234 5670 12"]),
]


@pytest.mark.parametrize(
    ("expected", "region", "text"),
    [(exp, region, text) for exp, region, texts in SAME_ACCOUNT for text in texts],
)
def test_national_forms_land_on_one_canonical_value(expected, region, text):
    assert canon(text, region) == expected
    assert canon(expected) == expected  # a canonical value normalises to itself


# Phone-keyed e-wallets: the number is the phone's E.164, its region the wallet's country.
WALLETS = [
    ("TrueMoney 0812345678", None, "acct:TH:TRUEMONEY:+66812345678"),
    ("ทรูมันนี่ 081-234-5678", None, "acct:TH:TRUEMONEY:+66812345678"),
    ("TrueMoney +66 81 234 5678", None, "acct:TH:TRUEMONEY:+66812345678"),
    ("PromptPay 081-234-5678", None, "acct:TH:PROMPTPAY:+66812345678"),
    ("พร้อมเพย์ 0812345678", None, "acct:TH:PROMPTPAY:+66812345678"),
    ("Rabbit LINE Pay 0961234567", None, "acct:TH:RABBITLINEPAY:+66961234567"),
    ("GCash +639171234567", None, "acct:PH:GXCH:+639171234567"),
    ("GCash 0917 123 4567", None, "acct:PH:GXCH:+639171234567"),
    ("Maya 09171234567", None, "acct:PH:PAPH:+639171234567"),
    ("DANA 081234567890", None, "acct:ID:DANAID:+6281234567890"),
    ("OVO 0812-3456-7890", None, "acct:ID:OVOID:+6281234567890"),
    ("GoPay 081234567890", None, "acct:ID:GOPAY:+6281234567890"),
    ("LinkAja 081234567890", None, "acct:ID:LINKAJA:+6281234567890"),
    ("Touch 'n Go 012-345 6789", None, "acct:MY:TNGEWALLET:+60123456789"),
    ("TNG 0123456789", None, "acct:MY:TNGEWALLET:+60123456789"),
    ("Boost 0123456789", None, "acct:MY:BOOST:+60123456789"),
    ("MoMo 0912 345 678", None, "acct:VN:MOMOVN:+84912345678"),
    ("Ví MoMo 0912345678", None, "acct:VN:MOMOVN:+84912345678"),
    ("ZaloPay 0912345678", None, "acct:VN:ZALOPAY:+84912345678"),
    ("Wing 012 345 678", None, "acct:KH:WING:+85512345678"),
    ("Pi Pay 012345678", None, "acct:KH:PIPAY:+85512345678"),
    ("KBZPay 09791234567", None, "acct:MM:KBZPAY:+959791234567"),
    ("WavePay 09791234567", None, "acct:MM:WAVEPAY:+959791234567"),
    ("U-Money 020 5512 3456", None, "acct:LA:UMONEY:+8562055123456"),
    ("M-Money 02055123456", None, "acct:LA:MMONEY:+8562055123456"),
    # One name, several countries: the region chooses
    ("ShopeePay 0812345678", "TH", "acct:TH:SHOPEEPAY:+66812345678"),
    ("ShopeePay 09171234567", "PH", "acct:PH:SHPH:+639171234567"),
    ("GrabPay 0123456789", "MY", "acct:MY:GRABPAY:+60123456789"),
]


@pytest.mark.parametrize(("text", "region", "expected"), WALLETS)
def test_phone_keyed_wallets(text, region, expected):
    (value,) = normalize_bank_account(text, region, True)
    assert (value.value, value.detail) == (expected, WALLET)
    assert canon(expected) == expected
    assert looks_bank_account(text)


def test_every_wallet_of_the_table_is_read():
    phones = {
        "TH": "0812345678",
        "ID": "081234567890",
        "MY": "0123456789",
        "PH": "09171234567",
        "VN": "0912345678",
        "KH": "012345678",
        "MM": "09791234567",
        "LA": "02055123456",
    }
    wallets = [b for b in bank_table.table().banks if b.phone_wallet]
    assert {b.country for b in wallets} == set(phones)
    for bank in wallets:
        value = from_parts(bank.country, bank.name, phones[bank.country])
        assert value.value.startswith(f"acct:{bank.country}:{bank.code}:+")


# The SWIFT IBAN Registry's example IBAN of each country; BANK from schwifty's bank registry.
IBANS = [
    ("GB29 NWBK 6016 1331 9268 19", "acct:GB:NWBK:NWBK60161331926819"),
    ("GB29NWBK60161331926819", "acct:GB:NWBK:NWBK60161331926819"),
    ("IBAN: gb29 nwbk 6016 1331 9268 19", "acct:GB:NWBK:NWBK60161331926819"),
    ("DE89 3704 0044 0532 0130 00", "acct:DE:COBA:370400440532013000"),
    ("FR14 2004 1010 0505 0001 3M02 606", "acct:FR:PSST:20041010050500013M02606"),
    ("NO93 8601 1117 947", "acct:NO:DABA:86011117947"),
    ("NL91 ABNA 0417 1643 00", "acct:NL:ABNA:ABNA0417164300"),
    ("BE68 5390 0754 7034", "acct:BE:-:539007547034"),  # no BIC in schwifty's registry
]


@pytest.mark.parametrize(("text", "expected"), IBANS)
def test_iban_examples(text, expected):
    (value,) = normalize_bank_account(text, None, True)
    assert (value.value, value.detail) == (expected, "iban")
    assert canon(expected) == expected
    assert from_parts(None, "", text).value == expected


REJECTIONS = [
    ("GB29 NWBK 6016 1331 9268 18", None, "wrong IBAN checksum"),
    ("DE89 3704 0044 0532 0130 0", None, "wrong length for an IBAN"),
    ("Foobank 1234567890", None, "unknown bank 'Foobank'"),
    ("KBank 12345", None, "account number too short for Kasikornbank (TH): 5 digits, expected 10"),
    ("KBank 123-4-56789-01", None, "too long for Kasikornbank (TH): 11 digits, expected 10"),
    (
        "ออมสิน 1234567890",
        None,
        "too short for Government Savings Bank (TH): 10 digits, expected 12",
    ),
    ("12345", "TH", "account number too short for TH: 5 digits, expected 10 to 14"),
    ("1234567890", None, "needs its bank or its country (give the region)"),
    ("1234567890", "US", "no account-number rules for US: give the IBAN"),
    ("+66812345678", "TH", "a phone number alone is not an account"),
    ("TrueMoney +639171234567", None, "TrueMoney Wallet accounts are phone numbers of TH"),
    ("GCash 12345", None, "GCash accounts are phone numbers"),
    ("PromptPay 1234567890123", None, "PromptPay accounts are phone numbers"),
    (
        "ShopeePay 0812345678",
        None,
        "'ShopeePay' names a bank or wallet in ID, MY, PH, TH: give the region",
    ),
    ("014-1234567890", None, "bank code 014 is Siam Commercial Bank (TH), Bank Central Asia (ID)"),
    ("KBank +66812345678", None, "an account number has no '+'"),
    ("acct:TH:ZZZZZZ:1234567890", None, "unknown bank code ZZZZZZ in TH"),
    ("acct:TH:TRUEMONEY:0812345678", None, "phone numbers in E.164"),
    ("acct:TH:KASI:12345", None, "too short for Kasikornbank"),
    ("acct:XX:-:1234", None, "no account rules for XX"),
    ("acct:GB:ABCD:NWBK60161331926819", None, "the IBAN of this account gives acct:GB:NWBK:"),
    ("acct:TH:KASI", None, "not of the form acct:CC:BANK:NUMBER"),
    ("KBank", None, "not a bank account"),
]


@pytest.mark.parametrize(("text", "region", "why"), REJECTIONS)
def test_rejections_say_why(text, region, why):
    assert why in reason(text, region)


def test_from_parts_reads_file_columns():
    expected = "acct:TH:KASI:1234567890"
    for country, bank in [
        ("TH", "KBank"),
        ("th", "กสิกรไทย"),
        ("TH", "004"),
        ("TH", "KASI"),
        ("TH", "KASITHBK"),
        ("", "Kasikornbank"),
        (None, "KASITHBKXXX"),
    ]:
        assert from_parts(country, bank, "123-4-56789-0").value == expected, (country, bank)
    assert from_parts("TH", "", "1234567890").value == "acct:TH:-:1234567890"
    assert from_parts("TH", "BKCHTHBK", "1234567890").value == "acct:TH:BKCH:1234567890"
    assert from_parts("PH", "GCash", "0917 123 4567").value == "acct:PH:GXCH:+639171234567"
    assert from_parts("GB", "NatWest", "GB29 NWBK 6016 1331 9268 19").value == (
        "acct:GB:NWBK:NWBK60161331926819"
    )
    assert from_parts("TH", "ShopeePay", "0812345678").value == "acct:TH:SHOPEEPAY:+66812345678"
    with pytest.raises(Invalid, match="is a bank of TH, not MY"):
        from_parts("MY", "KBank", "1234567890")
    with pytest.raises(Invalid, match="BIC MBBEMYKL is of MY, not TH"):
        from_parts("TH", "MBBEMYKL", "514012345678")
    with pytest.raises(Invalid, match="missing account number"):
        from_parts("TH", "KBank", " ")
    with pytest.raises(Invalid, match="unknown region"):
        from_parts("QQ", "KBank", "1234567890")


@pytest.mark.parametrize(
    "text",
    [
        "KBank 123-4-56789-0",
        "กสิกรไทย 1234567890",
        "Maybank 514012345678",
        "TrueMoney 0812345678",
        "GCash +639171234567",
        "ShopeePay 0812345678",
        "1234567890 SCB",
        "GB29NWBK60161331926819",
        "GB29 NWBK 6016 1331 9268 19",
        "GB29 NWBK 6016 1331 9268 18",
        "acct:TH:KASI:1234567890",
        "KBank 12345",
        "MB01 2345 6789",
    ],
)
def test_detects_only_what_is_unambiguously_an_account(text):
    assert looks_bank_account(text) is True


@pytest.mark.parametrize(
    "text",
    [
        "1234567890",
        "123-4-56789-0",
        "004-1-23456-789-0",
        "+66812345678",
        "0812345678",
        "Foobank 1234567890",
        "KBank",
        "KBank 12",
        "gb29nwbk60161331926819",  # IBANs are written in capitals
        "GB29NWBK6016133192681",  # not a GB IBAN's length
        "d41d8cd98f00b204e9800998ecf8427e",  # an MD5 (RFC 1321's empty string)
        "example.com",
        "user@example.com",
        "acct:alice@example.com",  # a WebFinger account (RFC 7565)
    ],
)
def test_digits_alone_and_other_text_are_not_detected(text):
    assert looks_bank_account(text) is False


def test_kind_is_described_like_the_others():
    assert KIND.name == "bank-account"
    assert KIND.detect is looks_bank_account and KIND.normalize is normalize_bank_account
    assert isinstance(normalize_bank_account("KBank 1234567890", None, True)[0], Value)


def test_bank_table_rows_are_consistent():
    table = bank_table.table()
    assert {b.country for b in table.banks} == set(bank_table.ASEAN)
    for bank in table.banks:
        if bank.is_bic:
            # BIC: 4-letter institution code, the country, 2 location characters
            assert (bank.bic[:4], bank.bic[4:6], len(bank.bic)) == (bank.code, bank.country, 8)
        else:
            # a registry code is never 4 characters long: it cannot equal a BIC institution code
            assert len(bank.code) != 4 and bank.phone_wallet and not bank.bic, bank
        assert bank.code.isalnum() and bank.code.isupper()
        assert bank.phone_wallet or not bank.number_too, bank
        low, high = bank.digits
        assert 6 <= low <= high <= 20
    for country in bank_table.ASEAN:
        assert any(b.country == country and b.is_bic for b in table.banks), country
    # one name or short name names one bank in a country
    for key, banks in table.by_name.items():
        countries = [b.country for b in banks]
        assert len(countries) == len(set(countries)), (key, banks)
    codes = [(b.country, b.national_code) for b in table.banks if b.national_code]
    assert len(codes) == len(set(codes))
    assert {c for c, _ in codes} == set(bank_table.NATIONAL_CODE_COUNTRIES)


@pytest.mark.parametrize(
    ("country", "code", "bic"),
    # the Bank of Thailand's codes named in issue 14, and Bank Indonesia's for the big four
    [
        ("TH", "002", "BKKBTHBK"),
        ("TH", "004", "KASITHBK"),
        ("TH", "006", "KRTHTHBK"),
        ("TH", "011", "TMBKTHBK"),
        ("TH", "014", "SICOTHBK"),
        ("TH", "025", "AYUDTHBK"),
        ("ID", "002", "BRINIDJA"),
        ("ID", "008", "BMRIIDJA"),
        ("ID", "009", "BNINIDJA"),
        ("ID", "014", "CENAIDJA"),
    ],
)
def test_national_codes(country, code, bic):
    assert bank_table.bank_by_national_code(country, code).bic == bic
