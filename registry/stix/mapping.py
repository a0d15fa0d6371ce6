"""How a registry value reads in STIX: its SCO type, the Indicator pattern over it, the SCO
itself, and the indicator types its labels suggest. Used by the export and, in reverse, by
the import (``KIND_OF_TYPE``, ``numbered_platform``). The types and patterns of
each kind: docs/stix-taxii.md ("Types and patterns")."""

from __future__ import annotations

from functools import lru_cache

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from registry.domain.kinds import (
    BANK_ACCOUNT,
    CRYPTO_WALLET,
    DOMAIN,
    EMAIL,
    FILE_HASH,
    IPV4,
    IPV6,
    PHONE,
    URL,
    USER_ACCOUNT,
)
from registry.domain.normalize.bank_account import iban_from_bban
from registry.domain.normalize.bank_table import ASEAN, bank_coded
from registry.stix.extension import EXTENSIONS
from registry.stix.ids import sco_id, value_sco_id

STIX_TYPE = {
    IPV4: "ipv4-addr", IPV6: "ipv6-addr", DOMAIN: "domain-name", URL: "url", EMAIL: "email-addr",
    PHONE: "phone-number", BANK_ACCOUNT: "bank-account", CRYPTO_WALLET: "cryptocurrency-wallet",
    USER_ACCOUNT: "user-account", FILE_HASH: "file",
}
KIND_OF_TYPE = {stix_type: kind for kind, stix_type in STIX_TYPE.items()}

_NOUN = {
    IPV4: "IPv4 address", IPV6: "IPv6 address", DOMAIN: "Domain", URL: "URL", EMAIL: "Email address",
    PHONE: "Phone number", BANK_ACCOUNT: "Bank account", CRYPTO_WALLET: "Crypto wallet",
    USER_ACCOUNT: "Messaging or social account", FILE_HASH: "File",
}

# The registry's hash algorithms as STIX's hash-algorithm-ov spells them.
HASH_KEYS = {"md5": "MD5", "sha1": "SHA-1", "sha256": "SHA-256"}


# A platform that STIX's account-type-ov names has that name (X is its "twitter"); the others
# are written as the registry names them.
_ACCOUNT_TYPE = {"x": "twitter"}
# Accounts whose identifier is a number rather than a login: the phone-keyed platforms' E.164, a
# Signal account given by number, a Facebook profile's numeric id. STIX's user_id holds them.
_NUMBER_PLATFORMS = frozenset({"whatsapp", "zalo", "viber"})


def account_fields(value: str) -> tuple[str, str, str]:
    """(account_type, property, identifier) of a canonical user-account: ``account_login`` for a
    login, ``user_id`` for an account keyed by a number."""
    platform, _, ident = value.partition(":")
    numbered = platform in _NUMBER_PLATFORMS or ident[:1] == "+" or (platform == "facebook" and ident.isdigit())
    return _ACCOUNT_TYPE.get(platform, platform), "user_id" if numbered else "account_login", ident


def numbered_platform(platform: str) -> bool:
    """Whether a STIX ``user_id`` of ``platform`` is an identifier the registry keeps (a phone
    number or a Facebook profile id), not the platform's internal number of a login."""
    return platform in _NUMBER_PLATFORMS or platform in ("signal", "facebook")


def quote(value: str) -> str:
    """A STIX pattern string literal."""
    if "\\" in value or "'" in value:
        value = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{value}'"


def _hash_path(key: str) -> str:
    return f"hashes.{key}" if key.isalnum() else f"hashes.'{key}'"


def pattern(kind: str, value: str, others: tuple[str, ...] = ()) -> str:
    """``[ipv4-addr:value ISSUBSET '198.51.100.0/24']`` for ranges, a LIKE for phone number
    blocks (``+85597123*``), ``=`` otherwise. A file is named by its hashes: the value's, then
    ``others``, the other hashes of the same file, all in one observation joined by OR (as
    OpenCTI writes them); an account by its platform and login or number."""
    stix_type = STIX_TYPE[kind]
    if kind in (IPV4, IPV6) and "/" in value:
        return f"[{stix_type}:value ISSUBSET {quote(value)}]"
    if kind == PHONE and value.endswith("*"):
        return f"[{stix_type}:value LIKE {quote(value[:-1] + '%')}]"
    if kind == FILE_HASH:
        return "[" + " OR ".join(f"file:{_hash_path(key)} = {quote(digest)}"
                                 for key, digest in _stix_hashes(value, others).items()) + "]"
    if kind == USER_ACCOUNT:
        account_type, prop, ident = account_fields(value)
        return f"[user-account:account_type = {quote(account_type)} AND user-account:{prop} = {quote(ident)}]"
    return f"[{stix_type}:value = {quote(value)}]"


def sco(kind: str, value: str, others: tuple[str, ...] = ()) -> dict | None:
    """The SCO for a value; None for a phone number block, which is no single number.
    ``others``: a file's other hashes, as for ``pattern``."""
    stix_type = STIX_TYPE[kind]
    if kind == PHONE and value.endswith("*"):
        return None
    if kind == FILE_HASH:
        hashes = _stix_hashes(value, others)
        out = {"type": stix_type, "spec_version": "2.1", "id": _file_id(hashes), "hashes": hashes}
    elif kind == USER_ACCOUNT:
        account_type, prop, ident = account_fields(value)
        fields = {"account_type": account_type, prop: ident}
        out = {"type": stix_type, "spec_version": "2.1", "id": sco_id(stix_type, fields), **fields}
    elif kind == BANK_ACCOUNT:
        out = dict(_bank_account(value))
    else:
        out = {"type": stix_type, "spec_version": "2.1", "id": value_sco_id(stix_type, value), "value": value}
    extension = EXTENSIONS.get(stix_type)  # a type STIX lacks: declared by the registry
    if extension is not None:
        out["extensions"] = {extension["id"]: {"extension_type": "new-sco"}}
    return out


def _stix_hashes(value: str, others: tuple[str, ...]) -> dict[str, str]:
    """A file's canonical hashes (the value's, then ``others``) as a STIX ``hashes`` dictionary."""
    return {HASH_KEYS[name]: digest for name, _, digest in (one.partition(":") for one in (value, *others))}


def _file_id(hashes: dict[str, str]) -> str:
    """The deterministic id of a file SCO: over one of its hashes, MD5 first, then SHA-1, then
    SHA-256, as the stix2 library picks it (so a file has one id whichever hashes are known)."""
    for key in ("MD5", "SHA-1", "SHA-256"):
        if key in hashes:
            return sco_id("file", {"hashes": {key: hashes[key]}})
    raise ValueError("a file SCO needs a hash")


@lru_cache(maxsize=4096)  # an export names the same accounts again for each source
def _bank_account(value: str) -> tuple[tuple[str, object], ...]:
    """The bank-account SCO's properties (OpenCTI's iban, bic, account_number, and value, the
    canonical account) without its extension. An account outside ASEAN is stored from its IBAN
    (domain.normalize.bank_account), so it has one; ASEAN accounts have none."""
    _acct, country, code, number = value.split(":", 3)
    fields: dict[str, object] = {"type": "bank-account", "spec_version": "2.1"}
    if country in ASEAN:
        row = bank_coded(country, code) if code != "-" else None
        bic = row.bic if row is not None and row.is_bic else None
        fields["id"] = value_sco_id("bank-account", value)
        fields["value"] = value
        fields["account_number"] = number
    else:
        iban = iban_from_bban(country, number)
        try:  # the BIC schwifty's bank registry gives the IBAN's bank, as the account was read
            found = IBAN(iban).bic
        except SchwiftyException:
            found = None
        bic = str(found) if found is not None else None
        fields["id"] = sco_id("bank-account", {"iban": iban})
        fields["value"] = value
        fields["iban"] = iban
    if bic:
        fields["bic"] = bic
    return tuple(fields.items())


def default_description(kind: str, source_name: str) -> str:
    """What an Indicator without a description says (stix2-validator wants one); the import
    recognises it and stores nothing, so a round trip adds no text."""
    return f"{_NOUN[kind]} reported to the registry by {source_name}."


def is_default_description(text: str, source_name: str) -> bool:
    """Whether ``text`` is ``default_description`` for some kind and this source."""
    return any(text == default_description(kind, source_name) for kind in _NOUN)


# Labels that say more than "malicious" (indicator-type-ov). A label not listed here adds
# nothing; with no listed label at all the type is malicious-activity, what a registry of
# suspicious values mostly holds. An allowlisted value exports as "benign" (see export.py).
_TYPE_OF_LABEL = {
    "tor": "anonymization", "tor-exit": "anonymization", "vpn": "anonymization",
    "proxy": "anonymization", "anonymizer": "anonymization", "anonymization": "anonymization",
    "compromised": "compromised", "hacked": "compromised",
    "scanner": "anomalous-activity", "scanning": "anomalous-activity",
    "anomalous-activity": "anomalous-activity",
    "attribution": "attribution",
}
MALICIOUS = ("malicious-activity",)
BENIGN = ("benign",)


def indicator_types(labels: tuple[str, ...] | list[str]) -> list[str]:
    found = {_TYPE_OF_LABEL[label] for label in labels if label in _TYPE_OF_LABEL}
    if not found:
        return list(MALICIOUS)
    if any(label not in _TYPE_OF_LABEL for label in labels):
        found.add("malicious-activity")  # e.g. phishing + tor: both
    return sorted(found)
