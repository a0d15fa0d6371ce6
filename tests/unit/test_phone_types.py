"""The compiled number-type tables and display formats agree with phonenumbers, number for number."""

from __future__ import annotations

import random

import phonenumbers

from registry.domain.normalize import phone_display
from registry.domain.normalize.phone_fast import number_type
from registry.domain.normalize.phone_format import formatted


def test_number_type_matches_phonenumbers_everywhere():
    rng = random.Random(20261201)
    codes = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
    seen = set()
    for _ in range(40_000):
        code = rng.choice(codes)
        national = str(rng.randrange(1, 10)) + "".join(str(rng.randrange(10)) for _ in range(rng.randrange(3, 12)))
        number = phonenumbers.PhoneNumber(country_code=code, national_number=int(national))
        expected = phonenumbers.number_type(number)
        assert number_type(number) == expected, f"+{code} {national}"
        seen.add(expected)
    # The sample reaches the special types too, not only mobile / fixed line / invalid.
    assert {phonenumbers.PhoneNumberType.TOLL_FREE, phonenumbers.PhoneNumberType.PREMIUM_RATE} <= seen


def test_example_numbers_of_member_and_partner_countries():
    kinds = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE,
             phonenumbers.PhoneNumberType.TOLL_FREE)
    for region in ("TH", "KH", "MY", "PH", "VN", "ID", "SG", "MM", "LA", "BN", "JP", "CN", "US", "GB"):
        for kind in kinds:
            number = phonenumbers.example_number_for_type(region, kind)
            if number is None:
                continue
            expected = phonenumbers.number_type(number)
            assert expected != phonenumbers.PhoneNumberType.UNKNOWN
            assert number_type(number) == expected, (region, kind)


def test_e164_numbers_read_as_the_full_parser_reads_them():
    # Valid numbers take compiled tables and invalid ones skip phonenumbers.parse when it
    # would read the same number: values and rejection reasons must not change.
    from registry.domain.normalize import NormalizeError, normalize
    from registry.domain.normalize.phone import phone_reason

    rng = random.Random(7)
    codes = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
    valid = invalid = 0
    for _ in range(30_000):
        code = rng.choice(codes + [66, 855, 60, 63, 84, 62, 95, 856] * 20)
        text = f"+{code}" + str(rng.randrange(1, 10)) + "".join(str(rng.randrange(10)) for _ in range(rng.randrange(4, 11)))
        try:
            parsed = phonenumbers.parse(text, None)
        except phonenumbers.NumberParseException:
            continue
        if len(text) > 16:
            continue
        try:
            got = normalize(text, "phone", None)[0].value
        except NormalizeError as exc:
            got = str(exc)
        if phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.UNKNOWN:
            expected = f"{text!r} is not a valid phone: {phone_reason(parsed)}"
            invalid += 1
        else:
            expected = f"+{parsed.country_code}{phonenumbers.national_significant_number(parsed)}"
            valid += 1
        assert got == expected, text
    assert valid > 2_000 and invalid > 10_000


def test_display_matches_phonenumbers_everywhere():
    # Compiled international formats: the same text as format_number for every kind of number,
    # in every country (random national numbers, valid or not, and each region's examples).
    rng = random.Random(20261202)
    codes = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
    numbers = []
    for _ in range(30_000):
        code = rng.choice(codes + [66, 855, 60, 63, 84, 62, 95, 856, 81, 86] * 20)
        national = str(rng.randrange(1, 10)) + "".join(str(rng.randrange(10)) for _ in range(rng.randrange(3, 12)))
        numbers.append(phonenumbers.PhoneNumber(country_code=code, national_number=int(national)))
    for region in phonenumbers.SUPPORTED_REGIONS:
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE,
                     phonenumbers.PhoneNumberType.TOLL_FREE, phonenumbers.PhoneNumberType.PREMIUM_RATE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None and not example.italian_leading_zero:
                numbers.append(example)
    compiled = spaced = 0
    for number in numbers:
        e164 = f"+{number.country_code}{number.national_number}"
        expected = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        fast = formatted(number.country_code, str(number.national_number))
        if fast is not None:  # None: a code shared by several regions, left to phonenumbers
            assert fast == expected, e164
            compiled += 1
        assert phone_display(e164) == expected, e164
        spaced += expected.count(" ") > 1
    assert compiled > 0.8 * len(numbers)
    assert spaced > 3_000  # numbers formatted in groups, not only prefixed


def test_canonical_e164_fast_path_gives_the_full_paths_value():
    from registry.domain.normalize import normalize
    from registry.domain.normalize.errors import Invalid
    from registry.domain.normalize.phone import normalize_phone
    from registry.domain.normalize.phone_fast import e164_fast

    rng = random.Random(11)
    codes = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
    fast = 0
    for n in range(20_000):
        code = rng.choice(codes + [66, 855, 60, 63, 84, 62, 95, 856, 81, 86] * 20)
        text = f"+{code}" + str(rng.randrange(1, 10)) + "".join(str(rng.randrange(10)) for _ in range(rng.randrange(4, 11)))
        region = (None, "TH", "kh")[n % 3]
        got = e164_fast(text, region)
        try:
            full = normalize_phone(text, region, False)
        except Invalid:
            full = None
        if got is not None:
            assert (got,) == full, text
            assert normalize(text, None, region) == full
            fast += 1
    assert fast > 1_000  # valid numbers of single-region codes do take it (most random ones are invalid)
    assert e164_fast("+66812345678", "ZZ") is None  # the full path names the unknown region
