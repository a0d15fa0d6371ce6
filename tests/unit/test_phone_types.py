"""The compiled number-type tables agree with phonenumbers.number_type, number for number."""

from __future__ import annotations

import random

import phonenumbers

from registry.domain.normalize import _number_type


def test_number_type_matches_phonenumbers_everywhere():
    rng = random.Random(20261201)
    codes = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
    seen = set()
    for _ in range(40_000):
        code = rng.choice(codes)
        national = str(rng.randrange(1, 10)) + "".join(str(rng.randrange(10)) for _ in range(rng.randrange(3, 12)))
        number = phonenumbers.PhoneNumber(country_code=code, national_number=int(national))
        expected = phonenumbers.number_type(number)
        assert _number_type(number) == expected, f"+{code} {national}"
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
            assert _number_type(number) == expected, (region, kind)


def test_e164_numbers_read_as_the_full_parser_reads_them():
    # Valid numbers take compiled tables and invalid ones skip phonenumbers.parse when it
    # would read the same number: values and rejection reasons must not change.
    from registry.domain.normalize import NormalizeError, _phone_reason, normalize

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
            expected = f"{text!r} is not a valid phone: {_phone_reason(parsed)}"
            invalid += 1
        else:
            expected = f"+{parsed.country_code}{phonenumbers.national_significant_number(parsed)}"
            valid += 1
        assert got == expected, text
    assert valid > 2_000 and invalid > 10_000
