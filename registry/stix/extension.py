"""The registry's own STIX objects: its Identity and the extension definitions that declare the
SCOs STIX 2.1 has none of: ``phone-number``, and the ``bank-account`` and
``cryptocurrency-wallet`` OpenCTI uses (docs/stix-taxii.md, "Types and patterns"), and the
property extension ``admiralty-grading`` that carries an Indicator's Admiralty grading
(docs/stix-taxii.md, "Grading"). All are constants, so every export carries the same bytes for
them. Each one's JSON schema ships beside this module as ``NAME.schema.json``, named by its
``$id`` (``schema_urn``)."""

from __future__ import annotations

from pathlib import Path

from registry.domain.grading import with_grades
from registry.stix.ids import (
    BANK_ACCOUNT_EXTENSION,
    CRYPTO_WALLET_EXTENSION,
    GRADING_EXTENSION,
    PHONE_EXTENSION,
    REGISTRY_IDENTITY,
)

_CREATED = "2026-01-01T00:00:00.000Z"
_MODIFIED = "2026-12-07T00:00:00.000Z"  # the Identity's description now names the grading extension


def schema_path(sco_type: str) -> Path:
    return Path(__file__).with_name(f"{sco_type}.schema.json")


def schema_urn(sco_type: str) -> str:
    """A schema's own $id: a name that never moves, unlike a URL of a deployment."""
    return f"urn:x-registry:stix:{sco_type}:1.0.0"


SCHEMA_PATH = schema_path("phone-number")
SCHEMA_URN = schema_urn("phone-number")

REGISTRY_IDENTITY_OBJECT = {
    "type": "identity", "spec_version": "2.1", "id": REGISTRY_IDENTITY, "created": _CREATED,
    "modified": _MODIFIED, "name": "ASEAN cybercrime indicator registry", "identity_class": "system",
    "description": "The registry software shared by ASEAN police cybercrime units; it defines the phone-number, "
                   "bank-account and cryptocurrency-wallet SCOs, and the admiralty-grading property extension "
                   "of Indicators.",
}


def _definition(stix_id: str, name: str, description: str, extension_type: str = "new-sco") -> dict:
    return {
        "type": "extension-definition", "spec_version": "2.1", "id": stix_id,
        "created_by_ref": REGISTRY_IDENTITY, "created": _CREATED, "modified": _CREATED,
        "name": name,
        "description": f"{description} The JSON schema ships with the registry as registry/stix/{name}.schema.json.",
        "schema": schema_urn(name), "version": "1.0.0", "extension_types": [extension_type],
    }


PHONE_EXTENSION_OBJECT = _definition(
    PHONE_EXTENSION, "phone-number",
    "A phone-number SCO: property value holds the number in E.164 form (+66812345678); its id is the STIX "
    "deterministic UUIDv5 over {\"value\": ...}, as OpenCTI's.",
)
BANK_ACCOUNT_EXTENSION_OBJECT = _definition(
    BANK_ACCOUNT_EXTENSION, "bank-account",
    "A bank or e-wallet account, as OpenCTI's Bank-Account observable: iban (when the account has one), bic, "
    "account_number (digits, or the E.164 number of a phone-keyed e-wallet), and value, the registry's "
    "acct:COUNTRY:BANK:NUMBER. Its id is the STIX deterministic UUIDv5 over {\"iban\": ...} when it has an IBAN "
    "(as OpenCTI's), else over {\"value\": ...}.",
)
CRYPTO_WALLET_EXTENSION_OBJECT = _definition(
    CRYPTO_WALLET_EXTENSION, "cryptocurrency-wallet",
    "A cryptocurrency wallet, as OpenCTI's Cryptocurrency-Wallet observable: value holds CHAIN:ADDRESS (btc, ltc, "
    "evm, tron, sol, ton, xmr), the chain the address was reported on; its id is the STIX deterministic UUIDv5 "
    "over {\"value\": ...}.",
)

GRADING_EXTENSION_OBJECT = _definition(
    GRADING_EXTENSION, "admiralty-grading",
    "The Admiralty (NATO) grading police intelligence carries, on an Indicator: reliability, the source's (A "
    "completely reliable, B usually reliable, C fairly reliable, D not usually reliable, E unreliable, F reliability "
    "cannot be judged), and credibility, the information's (1 confirmed by other sources, 2 probably true, 3 possibly "
    "true, 4 doubtful, 5 improbable, 6 truth cannot be judged); either may be absent. The Indicator's confidence is "
    "its source's, or when the source gave none, the one STIX 2.1's Admiralty Credibility scale maps the "
    "credibility to (1: 90, 2: 70, 3: 50, 4: 30, 5: 10).",
    "property-extension",
)

# The extension definition of each SCO type that needs one, by type.
EXTENSIONS: dict[str, dict] = {
    "phone-number": PHONE_EXTENSION_OBJECT,
    "bank-account": BANK_ACCOUNT_EXTENSION_OBJECT,
    "cryptocurrency-wallet": CRYPTO_WALLET_EXTENSION_OBJECT,
}
# The property extensions of exported objects, by id.
PROPERTY_EXTENSIONS: dict[str, dict] = {GRADING_EXTENSION: GRADING_EXTENSION_OBJECT}
EXTENSIONS_BY_ID: dict[str, dict] = {**{obj["id"]: obj for obj in EXTENSIONS.values()}, **PROPERTY_EXTENSIONS}


def grading_extension(reliability: str | None, credibility: int | None) -> dict:
    """An Indicator's ``extensions`` holding its grading (either given)."""
    return {GRADING_EXTENSION: with_grades({"extension_type": "property-extension"}, reliability, credibility)}


def _with_creator(definition: dict, seen: set[str]) -> list[dict]:
    """``definition`` (not in ``seen``), after the registry Identity that creates it unless
    ``seen`` holds that already; both added to ``seen``."""
    seen.add(definition["id"])
    if REGISTRY_IDENTITY_OBJECT["id"] in seen:
        return [definition]
    seen.add(REGISTRY_IDENTITY_OBJECT["id"])
    return [REGISTRY_IDENTITY_OBJECT, definition]


def definitions_for(sco_type: str, seen: set[str]) -> list[dict]:
    """The objects an SCO of ``sco_type`` needs before it in a bundle or page and not in ``seen``
    yet (added to it): its extension definition, after the registry Identity that creates it;
    none for a type STIX has."""
    extension = EXTENSIONS.get(sco_type)
    if extension is None or extension["id"] in seen:
        return []
    return _with_creator(extension, seen)


def property_definitions_for(obj: dict, seen: set[str]) -> list[dict]:
    """The definitions of the registry's property extensions ``obj`` carries and not in ``seen``
    yet (added to it), after the registry Identity that creates them."""
    out: list[dict] = []
    for stix_id in obj.get("extensions") or ():
        if stix_id in PROPERTY_EXTENSIONS and stix_id not in seen:
            out.extend(_with_creator(PROPERTY_EXTENSIONS[stix_id], seen))
    return out
