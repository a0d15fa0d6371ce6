"""Phone numbers for people: :func:`phone_display` (``+66 81 234 5678``).

Canonical values carry no display form (formatting costs as much again as validating, on
every feed line); the output layer asks here for the few values it shows.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

from registry.domain.normalize.phone_fast import e164_parts, phone_number, region_metadata

_INTL = phonenumbers.PhoneNumberFormat.INTERNATIONAL


@lru_cache(maxsize=65536)
def phone_display(e164: str) -> str | None:
    """``+66812345678`` → ``+66 81 234 5678`` (international format), for showing people."""
    parts = e164_parts(e164)  # canonical values take the fast path; parse only odd ones
    if parts is not None and (shown := formatted(*parts)) is not None:
        return shown
    try:
        return phonenumbers.format_number(phone_number(*parts) if parts else phonenumbers.parse(e164, None), _INTL)
    except phonenumbers.NumberParseException:
        return None


def formatted(country_code: int, nsn: str) -> str | None:
    """``phonenumbers.format_number(…, INTERNATIONAL)`` from compiled formats (a third of its
    cost: a batch lookup shows every number it answers); None where phonenumbers must decide."""
    formats = _display_formats(country_code)
    if formats is None:
        return None
    for leading, pattern, template in formats:  # phonenumbers' own choice: the first that fits
        if (leading is None or leading.match(nsn)) and (groups := pattern.fullmatch(nsn)):
            return None if template is None else f"+{country_code} {template.format(*groups.groups())}"
    return f"+{country_code} {nsn}"


@lru_cache(maxsize=512)
def _display_formats(country_code: int):
    """(leading digits, pattern, format) of each international format, compiled, for a country
    code served by one region (as the number-type tables); None otherwise."""
    meta = region_metadata(country_code)
    if meta is None:
        return None
    return tuple(
        (re.compile(f.leading_digits_pattern[-1]) if f.leading_digits_pattern else None, re.compile(f.pattern),
         _as_format_string(f.format))
        for f in (meta.intl_number_format or meta.number_format)
    )


def _as_format_string(template: str) -> str | None:
    """A metadata format (``\\1 \\2-\\3``) as a str.format string (``{0} {1}-{2}``), cheaper
    than re.sub's template; None for "NA" (not formatted internationally)."""
    if template == "NA":
        return None
    escaped = template.replace("{", "{{").replace("}", "}}")
    return re.sub(r"\\(\d)", lambda m: "{" + str(int(m.group(1)) - 1) + "}", escaped)
