"""phonenumbers' metadata compiled for the phone fast paths, which read a number and its type
without ``phonenumbers.parse`` (its costliest step: docs/performance.md) where the answer is certain to be the same:
a number already in E.164 form, a national number of a region with a plain national prefix.

``number_type`` and the display formats (``phone_format``) agree with phonenumbers number for
number (tests/unit/test_phone_types.py); codes shared by several regions (+1, +7, +44) are
left to phonenumbers.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

from registry.domain.kinds import PHONE, Value, new_value
from registry.domain.normalize.errors import Invalid

_PNT = phonenumbers.PhoneNumberType
_TYPE_NAMES = {getattr(_PNT, n): n.lower() for n in dir(_PNT) if n.isupper()}
UNKNOWN = _PNT.UNKNOWN
_VR = phonenumbers.ValidationResult
SEPARATORS = str.maketrans("", "", " -.()")
_E164 = re.compile(r"\+[1-9]\d{6,14}")

# phonenumbers.number_type, in its order: the special types first, then fixed line / mobile.
_SPECIAL_TYPES = (
    ("premium_rate", _PNT.PREMIUM_RATE), ("toll_free", _PNT.TOLL_FREE), ("shared_cost", _PNT.SHARED_COST),
    ("voip", _PNT.VOIP), ("personal_number", _PNT.PERSONAL_NUMBER), ("pager", _PNT.PAGER), ("uan", _PNT.UAN),
    ("voicemail", _PNT.VOICEMAIL),
)


@lru_cache(maxsize=512)
def check_region(region: str) -> str:
    """The region code in capitals; ``Invalid`` when phonenumbers does not know it."""
    code = region.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise Invalid(f"unknown region {region!r} (expected an ISO 3166 alpha-2 code)")
    return code


def country_code(digits: str) -> int | None:
    for size in (1, 2, 3):
        cc = int(digits[:size]) if len(digits) >= size else None
        if cc is not None and cc in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return cc
    return None


# --------------------------------------------------------------------------------------
# number types from compiled tables


def _desc_check(desc):
    """(possible lengths, compiled pattern) of a PhoneNumberDesc, or None where it never matches."""
    if desc is None or not desc.national_number_pattern:
        return None
    return frozenset(desc.possible_length), re.compile(desc.national_number_pattern)


@lru_cache(maxsize=512)
def _type_table(country_code: int):
    """The metadata number_type consults for a country code served by one region, compiled
    once; None where phonenumbers must decide (shared codes such as +1, +7, +44)."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code)
    if not regions or len(regions) != 1:
        return None
    meta = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(country_code, regions[0])
    if meta is None:
        return None
    specials = tuple((check, ntype) for name, ntype in _SPECIAL_TYPES if (check := _desc_check(getattr(meta, name))))
    return (_desc_check(meta.general_desc), specials, _desc_check(meta.fixed_line), _desc_check(meta.mobile),
            bool(meta.same_mobile_and_fixed_line_pattern))


def _matches(check, nsn: str) -> bool:
    if check is None:
        return False
    lengths, pattern = check
    return (not lengths or len(nsn) in lengths) and pattern.fullmatch(nsn) is not None


def number_type(num: phonenumbers.PhoneNumber) -> int:
    """``phonenumbers.number_type`` for the fast paths' numbers (no leading zero), from
    compiled tables: a quarter of its cost, on every phone number of every feed."""
    table = _type_table(num.country_code) if not num.italian_leading_zero else None
    if table is None:
        return phonenumbers.number_type(num)
    return _table_type(table, str(num.national_number))


def _table_type(table, nsn: str) -> int:
    general, specials, fixed, mobile, same = table
    if not _matches(general, nsn):
        return UNKNOWN
    for check, ntype in specials:
        if _matches(check, nsn):
            return ntype
    if _matches(fixed, nsn):
        return _PNT.FIXED_LINE_OR_MOBILE if same or _matches(mobile, nsn) else _PNT.FIXED_LINE
    if not same and _matches(mobile, nsn):
        return _PNT.MOBILE
    return UNKNOWN


@lru_cache(maxsize=512)
def region_metadata(country_code: int):
    """The metadata of the one region behind a country code (None for shared codes)."""
    if _type_table(country_code) is None:
        return None
    region = phonenumbers.COUNTRY_CODE_TO_REGION_CODE[country_code][0]
    return phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)


# --------------------------------------------------------------------------------------
# parse's own steps, for invalid E.164 numbers

_KEEPS_PREFIX = (_VR.TOO_SHORT, _VR.IS_POSSIBLE_LOCAL_ONLY, _VR.INVALID_LENGTH)
# The two steps of phonenumbers.parse that parsed_alike repeats: private names of
# phonenumbers.phonenumberutil (it has no public ones for them).
_PARSE_STEP_NAMES = ("_maybe_strip_national_prefix_carrier_code", "_test_number_length")


@lru_cache(maxsize=1)
def _parse_steps():
    """(strip national prefix or carrier code, test number length), looked up on first use,
    not at import; None when a phonenumbers release lacks either, and parsed_alike then
    leaves every number to the public parser (the same answers, slower)."""
    util = phonenumbers.phonenumberutil
    steps = tuple(getattr(util, name, None) for name in _PARSE_STEP_NAMES)
    return None if None in steps else steps


def parsed_alike(num: phonenumbers.PhoneNumber) -> bool:
    """Whether phonenumbers.parse reads ``+<code><national>`` as this very number: true unless
    it would strip a national prefix or carrier code from the national part (parse's own
    rule, applied here without the rest of parse, a third of an invalid number's cost).
    False also when that rule cannot be reached: the caller then asks phonenumbers.parse."""
    meta = region_metadata(num.country_code)
    if meta is None:
        return False
    steps = _parse_steps()
    if steps is None:
        return False
    strip, test_length = steps
    national = str(num.national_number)
    _, stripped, _ = strip(national, meta)
    return stripped == national or test_length(stripped, meta) in _KEEPS_PREFIX


# --------------------------------------------------------------------------------------
# reading numbers without phonenumbers.parse


def phone_number(country_code: int, nsn: str) -> phonenumbers.PhoneNumber:
    return phonenumbers.PhoneNumber(country_code=country_code, national_number=int(nsn))


def e164_parts(text: str) -> tuple[int, str] | None:
    """(country code, national significant number) of a number already in E.164 form.

    Only ``+`` and digits qualify; national numbers with a leading zero after the country
    code (Italy's) and anything with separators are left to the full parser.
    """
    if not _E164.fullmatch(text):
        return None
    digits = text[1:]
    cc = country_code(digits)
    if cc is None:
        return None
    national = digits[len(str(cc)) :]
    if not national or national[0] == "0":
        return None
    return cc, national


def e164_number(text: str) -> phonenumbers.PhoneNumber | None:
    """The number for what :func:`e164_parts` accepts, without phonenumbers.parse."""
    parts = e164_parts(text)
    return None if parts is None else phone_number(*parts)


def e164_fast(s: str, region: str | None) -> Value | None:
    """A valid number already in canonical E.164 form, straight from the compiled tables (a
    third of the phone normaliser's cost); None leaves it, and every invalid one, to the
    full path."""
    if region is not None:
        try:
            check_region(region)
        except Invalid:
            return None  # the full path names the unknown region
    parts = e164_parts(s)
    if parts is None:
        return None
    table = _type_table(parts[0])
    if table is None:
        return None
    ntype = _table_type(table, parts[1])
    if ntype == UNKNOWN:
        return None
    return new_value(PHONE, s, None, None, None, None, _TYPE_NAMES.get(ntype, "unknown"))  # phone_value, inline


def phone_value(e164: str, ntype: int) -> Value:
    """The canonical value of a valid number (no display form: see ``phone_format``)."""
    return new_value(PHONE, e164, None, None, None, None, _TYPE_NAMES.get(ntype, "unknown"))


@lru_cache(maxsize=512)
def _national_rule(region: str) -> tuple[int, str] | None:
    """(country code, national prefix) when a region's numbers parse by plain prefix stripping."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if meta is None or not meta.national_prefix:
        return None
    if meta.national_prefix_for_parsing not in (None, meta.national_prefix) or meta.national_prefix_transform_rule:
        return None  # carrier codes, transforms (JP, CN, …): the full parser knows them
    return meta.country_code, meta.national_prefix


def national_number(text: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    """A national number (``081-234-5678``, region TH) without phonenumbers.parse, when the
    region's rule is plain prefix stripping; None sends the text through the full parser."""
    if region is None:
        return None
    rule = _national_rule(region)
    if rule is None:
        return None
    digits = text.translate(SEPARATORS)
    cc, prefix = rule
    if not digits.isdigit() or not digits.startswith(prefix) or not 6 <= len(digits) <= 15:
        return None
    national = digits[len(prefix) :]
    if not national or national[0] == "0":
        return None
    return phonenumbers.PhoneNumber(country_code=cc, national_number=int(national))
