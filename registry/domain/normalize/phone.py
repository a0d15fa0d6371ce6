"""Phone numbers: E.164 (``+66812345678``), blocks as ``+85597123*``.

National numbers take their region from the caller. The common spellings are read from
compiled metadata (``phone_fast``); anything else, and every number those paths cannot vouch
for, goes through ``phonenumbers.parse``, whose reading and reasons are the reference.
"""

from __future__ import annotations

import re

import phonenumbers

from registry.domain.kinds import PHONE, Value, new_value
from registry.domain.normalize.errors import Invalid
from registry.domain.normalize.handlers import Kind
from registry.domain.normalize.phone_fast import (
    SEPARATORS,
    UNKNOWN,
    check_region,
    country_code,
    e164_number,
    national_number,
    number_type,
    parsed_alike,
    phone_value,
)

_PHONE_SHAPE = re.compile(
    r"(?:tel:\s*)?\+?[\d\s().\-/]*\d[\d\s().\-/]*"
    r"(?:\*+|x+|\s*(?:;ext=|ext\.?|extension|x|\#)\s*\d{1,7}|(?:[\s.\-]*(?:\*+|x+))+)?\s*",
    re.IGNORECASE,
)
_SHORT_BLOCK = re.compile(r"[\d\s.\-()]*\d[\s.\-]*(?:\*+|[xX]{2,})")
_PHONE_BODY = re.compile(r"\+?[\d\s().\-/]*\d[\d\s().\-/]*")
_PHONE_EXT = re.compile(r"(?:;ext=|ext\.?|extension|x|\#)\s*\d{1,7}\s*$", re.IGNORECASE)
_PHONE_BLOCK = re.compile(r"(?:[\s.\-]*(?:\*+|[xX]+))+\s*$")

_NSN = phonenumbers.national_significant_number
_VR = phonenumbers.ValidationResult
_PARSE_ERRORS = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
    phonenumbers.NumberParseException.NOT_A_NUMBER: "not a phone number",
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the international prefix",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "too short",
    phonenumbers.NumberParseException.TOO_LONG: "too long",
}
_LENGTH_WHY = {
    _VR.TOO_SHORT: "too short",
    _VR.TOO_LONG: "too long",
    _VR.INVALID_LENGTH: "invalid length",
}
_NO_REGION = "national number without a region (give --region or use +CC)"


def looks_phone(s: str) -> bool:
    """``tel:``; digits and separators starting with ``+`` or ``00`` or holding >= 6 digits;
    or a short block such as ``8123 ****``. Asked before domain: ``097.123.4567`` is a number."""
    if s[:4].lower() == "tel:":
        return True
    if _PHONE_SHAPE.fullmatch(s):
        lead = s.lstrip(" (")
        digits = sum(c.isdigit() for c in s)
        if lead[:1] == "+" or lead[:2] == "00" or digits >= 6:
            return True
        if digits >= 3 and _SHORT_BLOCK.fullmatch(s):  # a short national block: "8123 ****"
            return True
    return False


def _where(cc: int) -> str:
    region = phonenumbers.region_code_for_country_code(cc)
    return region if region != "ZZ" else f"+{cc}"


def phone_reason(num: phonenumbers.PhoneNumber) -> str:
    """Why a parsed number is not valid, in phonenumbers' own terms."""
    where = _where(num.country_code)
    why = phonenumbers.is_possible_number_with_reason(num)
    if why in (_VR.IS_POSSIBLE, _VR.IS_POSSIBLE_LOCAL_ONLY):
        return f"not a valid number for region {where}"
    if why == _VR.INVALID_COUNTRY_CODE:
        return f"unknown country code +{num.country_code}"
    return f"not a possible number for {where} ({_LENGTH_WHY.get(why, 'invalid')})"


def _parse_phone(text: str, region: str | None) -> phonenumbers.PhoneNumber:
    try:
        return phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as e:
        raise Invalid(_PARSE_ERRORS.get(e.error_type, str(e))) from None


def _phone_block(body: str, region: str | None) -> Value:
    body = body.strip()
    if not _PHONE_BODY.fullmatch(body):
        raise Invalid("not a phone number block")
    digits = phonenumbers.normalize_digits_only(body)
    if body.lstrip("(")[:1] == "+":
        pass
    elif digits[:2] == "00":
        digits = digits[2:]
    else:
        if region is None:
            raise Invalid(_NO_REGION)
        meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
        national_prefix = meta.national_prefix if meta is not None else None
        if national_prefix and digits.startswith(national_prefix):
            digits = digits[len(national_prefix) :]
        digits = f"{meta.country_code}{digits}"
    cc = country_code(digits)
    if cc is None:
        raise Invalid("unknown country code")
    if len(digits) - len(str(cc)) < 2:
        raise Invalid("a block needs the country code and at least 2 more digits")
    if len(digits) > 15:
        raise Invalid("too long (E.164 numbers have at most 15 digits)")
    return new_value(PHONE, f"+{digits}*", None, len(digits), None, None, "block")


def normalize_phone(s: str, region: str | None, explicit: bool) -> tuple[Value, ...]:
    t = s
    if t[:4].lower() == "tel:":
        t = t[4:].lstrip()
    if region is not None:
        region = check_region(region)
    if _PHONE_EXT.search(t):
        raise Invalid("extensions are not accepted")
    block = _PHONE_BLOCK.search(t)
    if block is not None:
        return (_phone_block(t[: block.start()], region),)
    if not _PHONE_BODY.fullmatch(t):
        if any(c.isalpha() for c in t):
            raise Invalid("contains letters")
        raise Invalid("contains characters that are not part of a phone number")
    lead = t.lstrip(" (")
    double_zero = lead[:2] == "00"
    if double_zero:
        text = "+" + lead[2:]
    elif lead[:1] == "+":
        text = t
    elif region is None:
        raise Invalid(_NO_REGION)
    else:
        text = t
    e164 = text[:1] == "+"
    num = e164_number(text.translate(SEPARATORS)) if e164 else national_number(text, region)
    ntype = number_type(num) if num is not None else UNKNOWN
    if ntype == UNKNOWN and e164 and not double_zero and num is not None and parsed_alike(num):
        raise Invalid(phone_reason(num))  # invalid, and the full parser would read the same number
    if ntype == UNKNOWN:  # no fast path, or an odd number: the full parser gives the exact reason
        num = _parse_phone(text, region)
        ntype = phonenumbers.number_type(num)  # UNKNOWN exactly when is_valid_number is False
    if ntype == UNKNOWN and double_zero and region is not None:
        # "00" may be part of a national number or the region's own IDD (SG 001, ...)
        try:
            other = phonenumbers.parse(t, region)
        except phonenumbers.NumberParseException:
            other = None
        if other is not None and (other_type := phonenumbers.number_type(other)) != UNKNOWN:
            num, ntype = other, other_type
    if ntype == UNKNOWN:
        raise Invalid(phone_reason(num))
    if num.extension:
        raise Invalid("extensions are not accepted")
    return (phone_value(f"+{num.country_code}{_NSN(num)}", ntype),)


KIND = Kind(PHONE, "a phone number", looks_phone, normalize_phone)
