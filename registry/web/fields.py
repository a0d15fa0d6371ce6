"""Reading the fields of a JSON request body: a wrong type, range or value answers 400 with the
field's name (as the client wrote it: ``indicators[3].tlp``) and what it takes.

Each reader takes the parsed value, None when the field is absent or null (then the reader
answers None and the view applies its default), and checks it fully here, so that no Python
message ("'int' object has no attribute 'strip'") and no value the services cannot hold gets
past the web layer.
"""

from __future__ import annotations

from datetime import datetime

import orjson
from flask import request

from registry.domain import grading, json_input
from registry.domain import tlp as tlp_mod
from registry.domain.kinds import USER_ACCOUNT
from registry.domain.normalize.account_rules import ALIASES, PLATFORMS, platform_name
from registry.domain.normalize.errors import Invalid as UnknownPlatform
from registry.domain.times import parse_time
from registry.services.errors import Invalid

TIME_EXAMPLE = "2026-11-05T10:00:00Z"


def shown(value: object) -> str:
    """A received value in a message: short text and numbers as written, containers by kind."""
    if isinstance(value, str) or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        written = orjson.dumps(value).decode() if isinstance(value, str) else repr(value)
        return written if len(written) <= 40 else written[:40] + "\u2026"
    if value == [] or value == {}:
        return f"an empty {'list' if value == [] else 'object'}"
    return json_input.type_name(value)


def text(value: object, field: str, *, max_len: int, required: bool = False, what: str = "text") -> str | None:
    """A string of at most ``max_len`` characters, without NUL (PostgreSQL text cannot hold one)."""
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > max_len:
        empty = "non-empty " if required else ""
        got = "" if isinstance(value, str) else f", not {shown(value)}"
        raise Invalid(f"{field} must be {empty}{what} of at most {max_len} characters{got}", field=field)
    if "\x00" in value:
        raise Invalid(f"{field} must not contain NUL characters", field=field)
    return value


def query_whole(name: str, default: int, low: int, high: int) -> int:
    """The query parameter ``name``: a whole number from ``low`` to ``high``, ``default`` when
    absent or empty."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18 or not low <= int(raw) <= high:
        raise Invalid(f"{name} must be a whole number from {low} to {high}, not {raw[:40]!r}", field=name)
    return int(raw)


def whole(value: object, field: str, low: int, high: int) -> int | None:
    """A whole number from ``low`` to ``high``; 16.0 is 16 (JSON Schema's integer includes it)."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Invalid(f"{field} must be a whole number from {low} to {high}, not {shown(value)}", field=field)
    return value


def reliability(value: object, field: str) -> str | None:
    """A source reliability of the Admiralty grading: one of ``A`` … ``F``, as written."""
    if value is None or (isinstance(value, str) and value in grading.RELIABILITY):
        return value
    raise Invalid(f"{field} must be one of {', '.join(grading.RELIABILITY)} (the Admiralty source grading: A "
                  f"completely reliable … E unreliable, F cannot be judged), not {shown(value)}", field=field,
                  details={"allowed": list(grading.RELIABILITY)})


def credibility(value: object, field: str) -> int | None:
    """An information credibility of the Admiralty grading: a whole number from 1 to 6."""
    try:
        return whole(value, field, 1, 6)
    except Invalid as exc:
        raise Invalid(f"{exc.message} (the Admiralty information grading: 1 confirmed … 5 improbable, 6 cannot "
                      f"be judged)", field=field) from None


def tlp(value: object, field: str) -> str | None:
    """A TLP 2.0 level, in any spelling ``parse_tlp`` takes (``AMBER``, ``tlp:amber``, ``white``)."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return tlp_mod.parse_tlp(value)
        except ValueError:
            pass
    raise Invalid(f"{field} must be one of {', '.join(tlp_mod.LEVELS)}, not {shown(value)}", field=field,
                  details={"allowed": list(tlp_mod.LEVELS)})


def region(value: object, field: str) -> str | None:
    """An ISO 3166 alpha-2 code, in capitals."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) != 2 or not value.isascii() or not value.isalpha():
        raise Invalid(f"{field} must be an ISO 3166 alpha-2 code such as TH, not {shown(value)}", field=field)
    return value.upper()


def platform(value: object, field: str, kind: str | None) -> str | None:
    """A messaging or social platform (``telegram``; ``tg`` and the other short names too), given
    only where the value is read as a user-account (``kind`` none or user-account)."""
    if value is None:
        return None
    allowed = [*PLATFORMS, *ALIASES]
    try:
        if not isinstance(value, str):
            raise UnknownPlatform("not text")
        name = platform_name(value)
    except UnknownPlatform:
        raise Invalid(f"{field} must be one of {', '.join(PLATFORMS)}, not {shown(value)}", field=field,
                      details={"allowed": allowed}) from None
    if kind not in (None, USER_ACCOUNT):
        raise Invalid(f"{field} ({name}) is given only with kind {USER_ACCOUNT}, not {kind}", field=field)
    return name


def time(value: object, field: str) -> datetime | None:
    """An ISO 8601 date or time within years 1-9999 once in UTC."""
    if value is None:
        return None
    if isinstance(value, str) and "\x00" not in value:
        try:
            return parse_time(value)
        except (ValueError, OverflowError):
            pass
    raise Invalid(f"{field} must be an ISO 8601 date or time such as {TIME_EXAMPLE} (years 1 to 9999), "
                  f"not {shown(value)}", field=field)


def strings(value: object, field: str, *, example: str, at_least_one: bool = True) -> list[str]:
    """A list of strings; a wrong item is named by its index (``values[3]``)."""
    if not isinstance(value, list) or (at_least_one and not value):
        one = ", at least one" if at_least_one else ""
        raise Invalid(f'{field} must be a list of strings such as ["{example}"]{one}, not {shown(value)}', field=field)
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise Invalid(f"{field}[{i}] must be a string, not {shown(item)}", field=f"{field}[{i}]")
    return value
