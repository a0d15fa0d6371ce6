"""Phone numbers from the member countries (and JP, CN) land on one E.164 value.

The example numbers come from the phonenumbers metadata itself (the same
``<exampleNumber>`` entries as tests/fixtures/phone/libphonenumber_*_excerpt.xml), written
the ways people and feeds write them: national, international, ``00`` prefix, with dashes,
dots and spaces.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import phonenumbers
import pytest
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from registry.domain.kinds import PHONE
from registry.domain.normalize import NormalizeError, normalize, normalize_one, phone_display

PHONE_FIXTURES = Path(__file__).parent.parent / "fixtures" / "phone"

REGIONS = ("TH", "KH", "MY", "PH", "VN", "ID", "SG", "MM", "LA", "JP", "CN")
TYPES = {"mobile": PhoneNumberType.MOBILE, "fixed_line": PhoneNumberType.FIXED_LINE}


def _variants(region: str, number: phonenumbers.PhoneNumber) -> dict[str, tuple[str, str | None]]:
    """Spellings of one number: name -> (text, region passed to normalize)."""
    national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    national_digits = re.sub(r"\D", "", national)
    grouped = " ".join(national_digits[i : i + 3] for i in range(0, len(national_digits), 3))
    return {
        "national": (national, region),
        "national digits only": (national_digits, region),
        "national dashes": (re.sub(r"[\s()]+", "-", national).strip("-"), region),
        "national spaces in threes": (grouped, region),
        "international": (international, None),
        "international with region": (international, region),
        "international dashes": (re.sub(r"\s+", "-", international), None),
        "international dots": (re.sub(r"[\s\-]+", ".", international), None),
        "e164": (e164, None),
        "00 prefix": ("00" + e164[1:], None),
        "00 prefix spaced, with region": ("00 " + international[1:], region),
        "tel uri": ("tel:" + re.sub(r"\s+", "-", international), None),
    }


CASES = [
    (region, type_name, name, text, given_region)
    for region in REGIONS
    for type_name, number_type in TYPES.items()
    for name, (text, given_region) in _variants(
        region, phonenumbers.example_number_for_type(region, number_type)
    ).items()
]


@pytest.mark.parametrize(("region", "type_name", "variant", "text", "given_region"), CASES)
def test_national_and_international_forms_agree(region, type_name, variant, text, given_region):
    number = phonenumbers.example_number_for_type(region, TYPES[type_name])
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    for kind in (None, PHONE):
        value = normalize_one(text, kind, given_region)
        assert value.kind == PHONE
        assert value.value == e164, (variant, text)
        assert value.display is None  # derived on output: see phone_display
        assert phone_display(value.value) == phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
        assert value.detail in (type_name, "fixed_line_or_mobile")
        assert value.prefix_len is None and not value.is_range


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("type_name", sorted(TYPES))
def test_national_dots_with_kind_phone(region, type_name):
    """Dotted national numbers: with kind='phone' always a phone."""
    number = phonenumbers.example_number_for_type(region, TYPES[type_name])
    national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    dotted = re.sub(r"[\s\-()]+", ".", national).strip(".")
    value = normalize_one(dotted, PHONE, region)
    assert value.value == phonenumbers.format_number(number, PhoneNumberFormat.E164)


def test_four_dotted_groups_are_an_ip_shape_when_detecting():
    """Known ambiguity: the Lao mobile 020 23 123 456 dotted looks like an IPv4 address."""
    with pytest.raises(NormalizeError) as info:
        normalize("020.23.123.456", region="LA")
    assert info.value.kind == "ipv4" and "leading zero" in info.value.reason
    assert normalize_one("020.23.123.456", PHONE, "LA").value == "+8562023123456"


def test_example_types_are_the_expected_ones():
    """Mobile examples are typed mobile (or fixed_line_or_mobile where ambiguous)."""
    details = {
        region: normalize_one(
            phonenumbers.format_number(
                phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE),
                PhoneNumberFormat.E164,
            )
        ).detail
        for region in REGIONS
    }
    assert details == dict.fromkeys(REGIONS, "mobile")


@pytest.mark.parametrize(
    ("text", "region", "e164", "detail"),
    [
        ("081-234-5678", "TH", "+66812345678", "mobile"),
        ("0812345678", "TH", "+66812345678", "mobile"),
        ("02-123-4567", "TH", "+6621234567", "fixed_line"),
        ("(02) 123 4567", "TH", "+6621234567", "fixed_line"),
        ("+66 81 234 5678", None, "+66812345678", "mobile"),
        ("+66 81 234 5678", "KH", "+66812345678", "mobile"),  # +CC ignores the region
        ("0066812345678", None, "+66812345678", "mobile"),
        ("0066812345678", "TH", "+66812345678", "mobile"),
        ("0066812345678", "ID", "+66812345678", "mobile"),  # ID's own IDD is 00[89]
        ("+66 (0)81 234 5678", None, "+66812345678", "mobile"),  # the "(0)" habit
        ("+66 081 234 5678", None, "+66812345678", "mobile"),
        ("tel:+66812345678", None, "+66812345678", "mobile"),
        ("001 65 6123 4567", "SG", "+6561234567", "fixed_line"),  # SG IDD 001
        ("\uff10\uff18\uff11-234-5678", "TH", "+66812345678", "mobile"),  # full-width digits
        ("081\u00a0234\u00a05678", "TH", "+66812345678", "mobile"),  # no-break spaces
    ],
)
def test_thai_and_other_hand_written_numbers(text, region, e164, detail):
    value = normalize_one(text, None, region)
    assert (value.kind, value.value, value.detail) == (PHONE, e164, detail)


def test_display_is_international_format():
    assert phone_display(normalize_one("081-234-5678", region="TH").value) == "+66 81 234 5678"
    assert phone_display(normalize_one("02-123-4567", region="TH").value) == "+66 2 123 4567"


@pytest.mark.parametrize(
    ("text", "region", "value", "prefix_len"),
    [
        ("+855 97 123 ****", None, "+85597123*", 8),
        ("+855 97 123 ****", "TH", "+85597123*", 8),
        ("097 123 ****", "KH", "+85597123*", 8),
        ("097-123-XXXX", "KH", "+85597123*", 8),
        ("0066 81 234 ****", None, "+6681234*", 7),
        ("8123 ****", "SG", "+658123*", 6),  # SG has no national prefix
        ("+63 917 ***", None, "+63917*", 5),
    ],
)
def test_number_blocks(text, region, value, prefix_len):
    block = normalize_one(text, None, region)
    assert (block.kind, block.value, block.prefix_len, block.detail) == (
        PHONE,
        value,
        prefix_len,
        "block",
    )
    assert block.is_range and block.display is None


@pytest.mark.parametrize(
    ("text", "region", "reason"),
    [
        ("191", "TH", "not a possible number for TH (too short)"),
        ("1669", "TH", "not a possible number for TH (too short)"),
        ("999", "SG", "not a possible number for SG (too short)"),
        ("112", "KH", "not a possible number for KH (too short)"),
        ("0812345678", None, "national number without a region (give --region or use +CC)"),
        ("02-123-4567", None, "national number without a region"),
        ("011-123-4567", "TH", "not a valid number for region TH"),
    ],
)
def test_short_codes_and_unknown_regions_fail_clearly(text, region, reason):
    with pytest.raises(NormalizeError) as info:
        normalize(text, PHONE, region)
    e = info.value
    assert (e.value, e.kind) == (text, PHONE)
    assert reason in e.reason
    assert repr(text) in str(e) and "phone" in str(e)


# --------------------------------------------------------------------------------------
# real scam / spam lists


def test_th_scam_vcard_all_26_numbers():
    """26 ``TEL;HOME:`` values in Thai national format; all valid Thai numbers.

    Checked by hand: the 0x0/06x/08x/09x ones are 10-digit mobiles (060 = VoIP range),
    the 02x/03x ones 9-digit landlines written in an odd 3-3-3 grouping (``020-795-271``
    is Bangkok 02 079 5271).
    """
    text = (PHONE_FIXTURES / "th_scam_numbers_mijchachip.vcf").read_text(encoding="utf-8")
    raw = [line.split(":", 1)[1] for line in text.splitlines() if line.startswith("TEL;HOME:")]
    assert len(raw) == 26
    values = [normalize_one(number, PHONE, "TH") for number in raw]
    assert all(v.value.startswith("+66") and len(v.value) in (11, 12) for v in values)
    assert Counter(v.detail for v in values) == {"mobile": 15, "fixed_line": 8, "voip": 3}
    assert values[0].value == "+6620795271" and phone_display(values[0].value) == "+66 2 079 5271"
    assert values[1].value == "+66921311014" and phone_display(values[1].value) == "+66 92 131 1014"
    assert len({v.value for v in values}) == 26


def test_turkish_spam_numbers_all_valid():
    """199 E.164 ``+90`` numbers; all valid (mostly 850 VoIP/UAN lines)."""
    with (PHONE_FIXTURES / "tr_spam_numbers_SpamBlocker.csv").open(encoding="utf-8") as f:
        raw = [row["number"] for row in csv.DictReader(f)]
    assert len(raw) == 199
    values = [normalize_one(number) for number in raw]
    assert all(v.value == number for v, number in zip(values, raw, strict=True))
    assert Counter(v.detail for v in values) == {"voip": 138, "fixed_line": 59, "mobile": 2}
    # the one-line fossify export holds the same numbers
    joined = (PHONE_FIXTURES / "tr_spam_numbers_fossify_import_single_line.txt").read_text()
    assert {normalize_one(n).value for n in joined.strip().split(",")} == set(raw)


def test_ftc_dnc_company_numbers():
    """FTC Do-Not-Call complaints, region US: 940 accepted, 59 rejected of 999 rows.

    SOURCES.md's 52 "blank or bad-length" rows are the 44 blanks plus 8 numbers that are
    not 10 digits; 7 ten-digit numbers are also invalid in the NANP (area code 950, 298 or
    starting with 1, exchange 158 starting with 1). Checked by hand on each of them.
    """
    path = PHONE_FIXTURES / "us_ftc_dnc_complaint_numbers_2021-07-08_first1000lines.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 999
    accepted, rejected = [], {}
    for row in rows:
        number = row["Company_Phone_Number"]
        try:
            accepted.append(normalize_one(number, PHONE, "US"))
        except NormalizeError as e:
            rejected.setdefault(e.reason, []).append(number)
    assert len(accepted) == 940
    assert sum(map(len, rejected.values())) == 59
    assert len(rejected.pop("empty value")) == 44
    assert rejected == {
        "not a possible number for US (too long)": [
            "70611454600144",
            "862083116688",
            "98998081922",
            "33666832551",
        ],
        "not a possible number for US (too short)": ["410100022", "262966", "533988925"],
        "not a valid number for region US": [
            "9508409827",
            "8051587621",
            "2987190219",
            "1420702314",
            "2780914",  # 7 digits: possible only as a local number
            "1410200500",
            "1273805173",
            "1407289568",
        ],
    }
    assert all(v.value.startswith("+1") and len(v.value) == 12 for v in accepted)
    assert Counter(v.detail for v in accepted) == {
        "fixed_line_or_mobile": 881,
        "toll_free": 58,
        "mobile": 1,
    }
    assert accepted[0].value == "+14703352559"
