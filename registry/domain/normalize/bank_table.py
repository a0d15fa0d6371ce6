"""The bank table of the ``bank-account`` kind: ASEAN banks and e-wallets, read once.

The rows live in ``registry/domain/data/asean_banks.csv`` (its header cites the sources and says
what is covered); this module loads them and answers the questions the normaliser asks: which
bank a written name, short name, BIC or national bank code means, and how many digits an
account number may have there. See docs/design.md ("The money and messaging kinds").
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections import defaultdict
from functools import cache, lru_cache
from importlib import resources
from typing import NamedTuple

from registry.domain.normalize.errors import Invalid

ASEAN: tuple[str, ...] = ("BN", "KH", "ID", "LA", "MY", "MM", "PH", "SG", "TH", "VN")

# Account-number digits per country when the bank is unknown or the table gives no length: the
# span of the account formats the banks of the country publish (the table's sources; in Vietnam
# a customer may pick a "nice number", so the span is wide; Thailand: 10 digits at the
# commercial banks, 12 at the state savings, housing and agricultural banks, up to 14 at two).
COUNTRY_DIGITS: dict[str, tuple[int, int]] = {
    "BN": (8, 16),
    "KH": (9, 16),
    "ID": (10, 16),
    "LA": (10, 18),
    "MY": (10, 17),
    "MM": (10, 20),
    "PH": (10, 16),
    "SG": (9, 12),
    "TH": (10, 14),
    "VN": (6, 19),
}

# Countries whose account writing may put the bank's national code first ("004-1-23456-789-0").
NATIONAL_CODE_COUNTRIES: tuple[str, ...] = ("TH", "ID")

_THAI_BANK = "ธนาคาร"  # "bank": "ธนาคารกสิกรไทย" and "กสิกรไทย" name one bank


class Bank(NamedTuple):
    """One row of the table."""

    country: str
    code: str  # BIC institution code, or the table's registry code for a wallet without a BIC
    is_bic: bool
    bic: str
    name: str
    local_name: str
    short_names: tuple[str, ...]
    national_code: str
    digits: tuple[int, int]
    phone_wallet: bool  # accounts keyed by a phone number (their NUMBER is its E.164)
    number_too: bool  # a phone wallet that also takes plain account numbers (Wing)


def name_key(text: str) -> str:
    """How a written bank name is compared: NFC, casefolded, without spaces, punctuation or a
    leading Thai "ธนาคาร" ("bank")."""
    s = unicodedata.normalize("NFC", text).casefold()
    s = "".join(c for c in s if c.isalnum() or unicodedata.category(c)[0] == "M")
    return s.removeprefix(_THAI_BANK) or s


def _unaccented(key: str) -> str:
    """``key`` without Latin diacritics ("ngânhàng" -> "nganhang"; "đ" -> "d"); Thai, Khmer,
    Lao and Burmese keys keep their marks (their vowels are marks)."""
    if not key.isascii() and all(
        c.isascii() or "LATIN" in unicodedata.name(c, "") or unicodedata.category(c)[0] == "M"
        for c in key
    ):
        bare = unicodedata.normalize("NFKD", key.replace("đ", "d"))
        return "".join(c for c in bare if unicodedata.category(c)[0] != "M")
    return key


def _digits(spec: str, country: str) -> tuple[int, int]:
    if not spec:
        return COUNTRY_DIGITS[country]
    low, _, high = spec.partition("-")
    return int(low), int(high or low)


def _read_rows() -> list[Bank]:
    text = resources.files("registry.domain").joinpath("data/asean_banks.csv").read_text("utf-8")
    lines = [line for line in io.StringIO(text) if not line.startswith("#")]
    banks = []
    for row in csv.DictReader(lines):
        country = row["country"]
        banks.append(
            Bank(
                country,
                row["code"],
                row["code_type"] == "bic",
                row["bic"],
                row["name_en"],
                row["name_local"],
                tuple(s for s in row["short_names"].split(";") if s),
                row["national_code"],
                _digits(row["digits"], country),
                row["phone_wallet"] in ("yes", "also"),
                row["phone_wallet"] == "also",
            )
        )
    return banks


class Table(NamedTuple):
    banks: tuple[Bank, ...]
    by_name: dict[str, tuple[Bank, ...]]
    by_code: dict[tuple[str, str], Bank]
    by_national: dict[tuple[str, str], Bank]


@cache
def table() -> Table:
    """The table and its indexes (read on first use: importing the package stays cheap)."""
    banks = tuple(_read_rows())
    by_name: dict[str, list[Bank]] = defaultdict(list)
    by_code: dict[tuple[str, str], Bank] = {}
    by_national: dict[tuple[str, str], Bank] = {}
    for bank in banks:
        for written in (bank.name, bank.local_name, *bank.short_names):
            if not written:
                continue
            for key in {name_key(written), _unaccented(name_key(written))}:
                if bank not in by_name[key]:
                    by_name[key].append(bank)
        if (bank.country, bank.code) in by_code:  # one row per code: a canonical value names it
            raise ValueError(f"bank table: {bank.code} in {bank.country} twice")
        by_code[bank.country, bank.code] = bank
        if bank.national_code:
            by_national[bank.country, bank.national_code] = bank
    return Table(
        banks,
        {k: tuple(v) for k, v in by_name.items()},
        by_code,
        by_national,
    )


def _one(found: tuple[Bank, ...], written: str, region: str | None) -> Bank:
    """The one bank of ``found`` (rows of one name), the region choosing between countries."""
    if region is not None:
        here = tuple(b for b in found if b.country == region)
        if here:
            found = here
    countries = sorted({b.country for b in found})
    if len(countries) > 1:
        raise Invalid(
            f"{written!r} names a bank or wallet in {', '.join(countries)}: give the region"
        )
    return found[0]


# Words people add to a bank's name or leave out: "Mandiri Bank", "Bank ABA", "Ngân hàng
# Vietcombank", "ธ.กสิกรไทย" (ธ. abbreviates ธนาคาร).
_AROUND_NAMES = ("bank", "nganhang", "ธ")


def _keys(written: str) -> list[str]:
    key = name_key(written)
    keys = [key, _unaccented(key)]
    for word in _AROUND_NAMES:
        keys += [k.removeprefix(word) for k in keys[:2] if k.startswith(word)]
        keys += [k.removesuffix(word) for k in keys[:2] if k.endswith(word)]
    return [k for k in keys if k]


def bank_named(written: str, region: str | None) -> Bank | None:
    """The bank a written name or short name means; None when the table knows no such name."""
    by_name = table().by_name
    for key in _keys(written):
        found = by_name.get(key)
        if found:
            return _one(found, written, region)
    return None


def bank_coded(country: str, code: str) -> Bank | None:
    """The table's row for a BIC institution code or registry code in ``country``."""
    return table().by_code.get((country, code))


def bank_by_national_code(country: str, code: str) -> Bank | None:
    return table().by_national.get((country, code))


def digits_for(country: str, bank: Bank | None) -> tuple[int, int] | None:
    """How many digits an account number may have (None: no rule known for ``country``)."""
    if bank is not None:
        return bank.digits
    return COUNTRY_DIGITS.get(country)


def check_length(number: str, country: str, bank: Bank | None) -> None:
    """Raise ``Invalid`` when ``number`` (digits) is too short or too long for the bank or
    country."""
    span = digits_for(country, bank)
    if span is None:
        return
    low, high = span
    where = f"{bank.name} ({country})" if bank is not None else country
    want = f"{low}" if low == high else f"{low} to {high}"
    if len(number) < low:
        raise Invalid(
            f"account number too short for {where}: {len(number)} digits, expected {want}"
        )
    if len(number) > high:
        raise Invalid(f"account number too long for {where}: {len(number)} digits, expected {want}")


@lru_cache(maxsize=512)
def number_codes(country: str, length: int) -> tuple[str, ...]:
    """The codes of the banks and wallets of ``country`` that take a plain account number of
    ``length`` digits, in table order: where a lookup of digits whose bank is unknown looks
    (docs/design.md, "Data flow of a lookup"). A bank the table does not list is not among
    them (a BIC's code kept for an unlisted bank is found only by its own code)."""
    return tuple(
        bank.code
        for bank in table().banks
        if bank.country == country
        and (not bank.phone_wallet or bank.number_too)
        and bank.digits[0] <= length <= bank.digits[1]
    )


@cache
def phone_wallet_codes() -> dict[str, tuple[str, ...]]:
    """Country → the codes of its phone-keyed e-wallets (whose NUMBER is a phone's E.164), in
    table order."""
    found: dict[str, list[str]] = defaultdict(list)
    for bank in table().banks:
        if bank.phone_wallet:
            found[bank.country].append(bank.code)
    return {country: tuple(codes) for country, codes in found.items()}
