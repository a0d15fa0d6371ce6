"""Bank and e-wallet accounts: ``acct:CC:BANK:NUMBER``.

CC is the ISO 3166 alpha-2 country; BANK the 4-letter institution code of the bank's SWIFT
BIC, the registry code the bank table gives an e-wallet without a BIC, or ``-`` when the bank
is unknown; NUMBER the account number as digits, or for a phone-keyed e-wallet the phone's
E.164 (``acct:TH:TRUEMONEY:+66812345678``). An IBAN keeps its BBAN as NUMBER (letters and all,
where the country's BBAN has letters) and takes BANK from the BIC schwifty's bank registry
gives it. Which forms are read: docs/design.md ("The money and messaging kinds"). The bank table: ``bank_table``.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

from registry.domain.kinds import BANK_ACCOUNT, PHONE, Value
from registry.domain.normalize import bank_table
from registry.domain.normalize.bank_table import ASEAN, Bank, bank_named
from registry.domain.normalize.errors import Invalid
from registry.domain.normalize.handlers import Kind
from registry.domain.normalize.phone import normalize_phone
from registry.domain.normalize.phone_fast import check_region

WALLET = "e-wallet"  # Value.detail of a phone-keyed e-wallet account

_CANONICAL = re.compile(r"acct:([A-Za-z]{2}):([A-Za-z0-9]{1,16}|-):(\+?[A-Za-z0-9]{1,34})")
_IBAN_TEXT = re.compile(r"(?:IBAN[\s:]*)?([A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){10,30})", re.I)
_IBAN_WRITTEN = re.compile(r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4})+(?: ?[A-Z0-9]{1,3})?")
_NUMBER = r"\+?\(?\d[\d\s\-./()]*\d"
_NAME_FIRST = re.compile(rf"(?P<name>\S.*?)[\s:#]*(?P<number>{_NUMBER})")
_NUMBER_FIRST = re.compile(rf"(?P<number>{_NUMBER})\s+(?P<name>\D*[^\d\s])")
_CODE_FIRST = re.compile(r"(?P<code>\d{3})[\s\-]+(?P<rest>\d[\d\s\-]*\d)")
_BIC_SHAPE = re.compile(r"[A-Za-z]{6}[A-Za-z0-9]{2}(?:[A-Za-z0-9]{3})?")
_NUMBER_ALONE = re.compile(_NUMBER)
_LETTER = re.compile(r"[^\W\d_]")

# schwifty (IBANs, BICs) is imported where a value may be one, not with this module: importing
# it (and its registries) would slow every command's start for values few lines hold.
_IBAN_REASONS = {  # schwifty's exception names
    "InvalidChecksumDigits": "wrong IBAN checksum (the check digits do not match)",
    "InvalidCountryCode": "not an IBAN country",
    "InvalidLength": "wrong length for an IBAN of its country",
}
_FORMS = (
    "expected a bank name and number ('KBank 123-4-56789-0'), a bank code and number, "
    "an IBAN or acct:CC:BANK:NUMBER"
)


def _value(country: str, code: str, number: str, bank: Bank | None, written: str) -> Value:
    wallet = bank is not None and bank.phone_wallet and number[:1] == "+"
    display = f"{bank.name} {written}" if bank is not None else None
    detail = WALLET if wallet else None
    return Value(BANK_ACCOUNT, f"acct:{country}:{code}:{number}", display, detail=detail)


def _ascii_digits(written: str) -> str:
    """The digits of ``written`` in ASCII, separators dropped (Thai "๑๒๓" is "123")."""
    return "".join(str(unicodedata.decimal(c)) for c in written if c.isdecimal())


def _wallet_phone(text: str, bank: Bank) -> str:
    """The E.164 of the phone keying a wallet account, which must be a number of its country."""
    try:
        phone = normalize_phone(text, bank.country, True)[0]
    except Invalid as e:
        raise Invalid(f"{bank.name} accounts are phone numbers: {e.reason}") from None
    if phone.value.endswith("*"):
        raise Invalid(f"{bank.name} accounts are phone numbers: a number block is not an account")
    if not phone.value.startswith(f"+{phonenumbers.country_code_for_region(bank.country)}"):
        raise Invalid(f"{bank.name} accounts are phone numbers of {bank.country}: {phone.value}")
    return phone.value


def _plain(country: str, code: str, bank: Bank | None, written: str) -> Value:
    """An account number (digits once its separators are gone) at ``bank`` or BIC ``code``."""
    if "+" in written:
        raise Invalid("an account number has no '+' (only a phone-keyed e-wallet's number has)")
    number = _ascii_digits(written)
    bank_table.check_length(number, country, bank)
    return _value(country, code, number, bank, written)


def _account(country: str, code: str, bank: Bank | None, written: str) -> Value:
    """The account ``written`` (as people write it) at ``bank`` (or BIC code ``code``)."""
    if bank is not None and bank.phone_wallet:
        try:
            return _value(country, code, _wallet_phone(written, bank), bank, written)
        except Invalid:
            # a wallet that is also a bank (Wing) takes an account number too
            if not bank.number_too or written.lstrip("(")[:1] == "+":
                raise
    return _plain(country, code, bank, written)


def _from_iban(text: str) -> Value:
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    try:
        iban = IBAN(text)
    except SchwiftyException as e:
        reason = _IBAN_REASONS.get(type(e).__name__)
        raise Invalid(reason or f"not a valid IBAN ({e})") from None
    bic = iban.bic
    code = bic.bank_code if bic is not None else "-"
    canonical = f"acct:{iban.country_code}:{code}:{iban.bban}"
    return Value(BANK_ACCOUNT, canonical, iban.formatted, detail="iban")


def _iban_text(s: str) -> str | None:
    """The IBAN in ``s`` ("IBAN: GB29 NWBK …"): two letters and two check digits, then letters
    in the BBAN or an IBAN country ("MB01 2345 6789" is MB Bank's account, not an IBAN)."""
    m = _IBAN_TEXT.fullmatch(s)
    if m is None:
        return None
    iban = m[1]
    if not iban[2:].replace(" ", "").isdigit() or iban[:2].upper() in _iban_countries():
        return iban
    return None


def _iban_countries():
    from schwifty import registry

    return registry.get_countries()


def iban_from_bban(country: str, bban: str) -> str:
    """The IBAN of ``bban`` in ``country`` (ISO 7064 MOD 97-10 check digits)."""
    moved = "".join(str(int(c, 36)) for c in f"{bban}{country}00")
    return f"{country}{98 - int(moved) % 97:02d}{bban}"


def _canonical(s: str) -> Value:
    m = _CANONICAL.fullmatch(s)
    if m is None:
        raise Invalid("not of the form acct:CC:BANK:NUMBER")
    country, code, number = m[1].upper(), m[2].upper(), m[3].upper()
    if country not in ASEAN:
        if country not in _iban_countries():
            raise Invalid(f"no account rules for {country} (ASEAN members, or an IBAN country)")
        value = _from_iban(iban_from_bban(country, number))
        if value.value != f"acct:{country}:{code}:{number}":
            raise Invalid(f"the IBAN of this account gives {value.value}")
        return value
    if code == "-":
        bank = None
    else:
        bank = bank_table.bank_coded(country, code)
        if bank is None and not (len(code) == 4 and code.isalpha()):
            raise Invalid(f"unknown bank code {code} in {country}")
    if bank is not None and bank.phone_wallet and number[:1] == "+":
        if _wallet_phone(number, bank) != number:
            raise Invalid(f"{number} is not written as E.164")
        return _value(country, code, number, bank, number)
    if bank is not None and bank.phone_wallet and not bank.number_too:
        raise Invalid(f"{bank.name} accounts are phone numbers in E.164 (+CC…)")
    if not number.isdigit():
        raise Invalid("the account number must be digits")
    return _plain(country, code, bank, number)


def _resolve(bank_text: str, country: str | None, strict: bool) -> tuple[str, str, Bank | None]:
    """(country, code, row) of a bank written as a name, short name, BIC, BIC institution code
    or national bank code. ``country`` chooses between countries; when ``strict`` (a file's
    country column) it must be the bank's, else (a default region) a named bank's own wins."""
    bank = bank_named(bank_text, country)
    if bank is None and country is not None:
        key = bank_text.strip().upper()
        bank = (
            bank_table.bank_by_national_code(country, key)
            if key.isdigit()
            else bank_table.bank_coded(country, key)
        )
    if bank is not None:
        if strict and country is not None and bank.country != country:
            raise Invalid(f"{bank_text!r} is a bank of {bank.country}, not {country}")
        return bank.country, bank.code, bank
    if _BIC_SHAPE.fullmatch(bank_text.strip()):
        from schwifty import BIC
        from schwifty.exceptions import SchwiftyException

        try:
            bic = BIC(bank_text.strip())
        except SchwiftyException as e:
            raise Invalid(f"not a valid BIC {bank_text!r} ({e})") from None
        if strict and country is not None and bic.country_code != country:
            raise Invalid(f"BIC {bic} is of {bic.country_code}, not {country}")
        if bic.country_code not in ASEAN:
            raise Invalid(f"BIC {bic} is not of an ASEAN member: give the IBAN")
        row = bank_table.bank_coded(bic.country_code, bic.bank_code)
        return bic.country_code, bic.bank_code, row
    where = f" in {country}" if country is not None else ""
    raise Invalid(f"unknown bank {bank_text.strip()!r}{where} (not in the bank table)")


def _digits_alone(written: str, country: str | None) -> Value:
    if written.lstrip("(")[:1] == "+":
        raise Invalid("a phone number alone is not an account: name the wallet ('TrueMoney +66…')")
    if country is None:
        raise Invalid("an account number alone needs its bank or its country (give the region)")
    if country not in ASEAN:
        raise Invalid(f"no account-number rules for {country}: give the IBAN")
    return _account(country, "-", None, written)


def _code_first(code: str, rest: str, country: str | None) -> Value | None:
    """ "004-1-23456-789-0": a national bank code, then the account at that bank (countries in
    ``NATIONAL_CODE_COUNTRIES``); None when no bank of such a code takes ``rest``."""
    countries = (country,) if country is not None else bank_table.NATIONAL_CODE_COUNTRIES
    number, code = _ascii_digits(rest), _ascii_digits(code)
    fits = []
    for cc in countries:
        bank = bank_table.bank_by_national_code(cc, code)
        if bank is not None and bank.digits[0] <= len(number) <= bank.digits[1]:
            fits.append(bank)
    if len(fits) > 1:
        names = ", ".join(f"{b.name} ({b.country})" for b in fits)
        raise Invalid(f"bank code {code} is {names}: give the region")
    return _account(fits[0].country, fits[0].code, fits[0], rest) if fits else None


def _named(s: str) -> tuple[str, str] | None:
    """(bank as written, number as written) of "KBank 123-4-56789-0" or "1234567890 KBank"."""
    for form in (_NAME_FIRST, _NUMBER_FIRST):
        m = form.fullmatch(s)
        if m is not None and any(c.isalpha() for c in m["name"]):
            return m["name"].strip(" :#-"), m["number"]
    return None


def normalize_bank_account(s: str, region: str | None, explicit: bool) -> tuple[Value, ...]:
    country = check_region(region) if region is not None else None
    if s[:5].lower() == "acct:":
        return (_canonical(s),)
    iban = _iban_text(s)
    if iban is not None:
        return (_from_iban(iban),)
    coded = _CODE_FIRST.fullmatch(s)
    if coded is not None and (country is None or country in bank_table.NATIONAL_CODE_COUNTRIES):
        value = _code_first(coded["code"], coded["rest"], country)
        if value is not None:
            return (value,)
    if _NUMBER_ALONE.fullmatch(s):
        return (_digits_alone(s, country),)
    named = _named(s)
    if named is None:
        raise Invalid(f"not a bank account: {_FORMS}")
    bank_text, written = named
    found_country, code, bank = _resolve(bank_text, country, strict=False)
    return (_account(found_country, code, bank, written),)


def from_parts(country: str | None, bank: str | None, number: str, region: str | None = None) -> Value:
    """The account of a file row with separate columns: ``country`` (ISO 3166 alpha-2, may be
    empty when the bank names it), ``bank`` (a name, short name, BIC, BIC institution code or
    national bank code; empty: unknown) and ``number``. ``region`` (the import's default
    country) stands in for an empty ``country``: it chooses between countries, and a named
    bank's own country wins over it. Raises ``Invalid`` with the reason."""
    cc = check_region(country) if country and country.strip() else None
    written = (number or "").strip()
    if not written:
        raise Invalid("missing account number")
    iban = _iban_text(written)
    if iban is not None:
        return _from_iban(iban)  # an IBAN names its bank, whatever the bank column says
    default = cc or (check_region(region) if region else None)
    if not (bank or "").strip():
        return _digits_alone(written, default)
    found_country, code, row = _resolve(bank, default, strict=cc is not None)
    return _account(found_country, code, row, written)


def iban_of(canonical: str) -> str | None:
    """The IBAN (compact) of a canonical account of an IBAN country, None for an ASEAN
    member's account (none of them uses IBANs): the MISP export writes such values as ``iban``."""
    _, country, _, number = canonical.split(":", 3)
    if country in ASEAN:
        return None
    return iban_from_bban(country, number)


def looks_bank_account(s: str) -> bool:
    """The canonical form, an IBAN as written (capitals, its country's length), or a bank or
    wallet the table knows followed (or preceded) by a number. Digits alone never: they stay
    phones, or nothing, unless the kind is given."""
    if _LETTER.search(s) is None:  # digits alone: most feed lines stop here
        return False
    if s[:5].lower() == "acct:":
        return "@" not in s  # "acct:user@host" is a WebFinger account, not this
    if _IBAN_WRITTEN.fullmatch(s):
        compact = s.replace(" ", "")
        country = compact[:2]
        from schwifty import registry

        if country in registry.get_countries() and len(compact) == registry.get_iban_spec(country).iban_length:
            return True
    if not (s[-1].isdigit() or s[0].isdigit() or s[0] == "+"):
        return False
    named = _named(s)
    if named is None or sum(c.isdigit() for c in named[1]) < 4:
        return False
    try:
        return bank_named(named[0], None) is not None
    except Invalid:  # a name of several countries' wallets ("ShopeePay"): still an account
        return True


KIND = Kind(
    BANK_ACCOUNT, "a bank account", looks_bank_account, normalize_bank_account, frozenset({PHONE})
)
