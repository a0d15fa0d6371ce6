"""Incoming STIX objects read as drafts for the import (services.stix_import): what an
Indicator, an observable or a Sighting says, checked and cut to what the registry stores. A
bundle from anywhere is not trusted: a property of the wrong type counts as absent. Nothing
here reads a database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from registry.domain import grading
from registry.domain.kinds import BANK_ACCOUNT, CRYPTO_WALLET
from registry.domain.labels import is_label, label_slug
from registry.stix import mapping
from registry.stix.ids import GRADING_EXTENSION
from registry.stix.patterns import (
    VALUE_TYPES,
    PatternValue,
    Unrepresentable,
    bank_account_text,
    hashes_text,
    object_text,
    pattern_values,
)
from registry.stix.times import parse_stix_time

# STIX 2.0 put the indicator type vocabulary in ``labels``; those are not registry labels.
_INDICATOR_TYPES = frozenset(
    ("anomalous-activity", "anonymization", "benign", "compromised", "malicious-activity", "attribution", "unknown")
)
MAX_DESCRIPTION = 4000  # the columns' sizes (PostgreSQL enforces them)
MAX_LABEL_TEXT = 800  # of assertion.labels' 1000, leaving room for the import's own labels
_STIX_ID = re.compile(r"[a-z0-9][a-z0-9-]*--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def indicator_values(obj: dict) -> list[PatternValue]:
    """The values an Indicator's pattern names; Unrepresentable (with the reason) when it names
    none the registry can hold."""
    pattern_type = obj.get("pattern_type", "stix")
    if pattern_type != "stix":
        raise Unrepresentable(f"pattern_type {pattern_type} is not STIX patterning")
    return pattern_values(obj.get("pattern"))


def observable_text(sco: dict) -> str | None:
    """The text of the value an SCO names, for its kind to read (``mapping.KIND_OF_TYPE``): its
    ``value``; a file's hashes (one file); an account's platform and login or number; a bank
    account's value, IBAN or number and BIC. None for an SCO of a type the registry does not
    keep; Unrepresentable, with the reason, for one of a kept type that names no value."""
    stix_type = text(sco, "type")
    if stix_type == "file":
        hashes = sco.get("hashes")
        if not isinstance(hashes, dict):
            raise Unrepresentable("a file without hashes (a file is kept by its MD5, SHA-1 or SHA-256 hash)")
        return hashes_text(hashes)
    if stix_type in ("user-account", "bank-account"):
        return object_text(stix_type, sco)
    if stix_type in VALUE_TYPES:
        value = text(sco, "value")
        if value is None:
            raise Unrepresentable(f"a {stix_type} without a value")
        return value
    return None


# MISP attribute types that MISP's STIX export (misp-stix) leaves as its own custom objects
# (x-misp-attribute, x-misp-object: STIX has no type for them), and the kinds they are.
MISP_CUSTOM_TYPES = ("x-misp-attribute", "x-misp-object")
_MISP_KINDS = {"btc": CRYPTO_WALLET, "xmr": CRYPTO_WALLET, "iban": BANK_ACCOUNT, "bank-account-nr": BANK_ACCOUNT}


def misp_custom_values(obj: dict) -> list[tuple[str, str]]:
    """(kind, text) of the values a MISP custom object holds: an x-misp-attribute's value of a
    type in ``_MISP_KINDS``; an x-misp-object's attributes of those types, a bank-account
    object's IBAN (else its account number after its SWIFT code) and a coin-address object's
    address after its symbol (BTC, ETH, USDT-TRC20...) being one value each. Empty: none."""
    if text(obj, "type") == "x-misp-attribute":
        kind, value = _MISP_KINDS.get(text(obj, "x_misp_type") or ""), text(obj, "x_misp_value")
        return [(kind, value)] if kind and value else []
    by_relation: dict[str, str] = {}
    typed: list[tuple[str, str]] = []  # (MISP type, value) of the types in _MISP_KINDS
    for attribute in items(obj, "x_misp_attributes"):
        if not isinstance(attribute, dict) or not isinstance(attribute.get("value"), str):
            continue
        relation, value, misp_type = attribute.get("object_relation"), attribute["value"].strip(), attribute.get("type")
        if isinstance(relation, str):
            by_relation.setdefault(relation, value)
        if isinstance(misp_type, str) and misp_type in _MISP_KINDS and value:
            typed.append((misp_type, value))
    name = text(obj, "x_misp_name")
    first = {misp_type: value for misp_type, value in reversed(typed)}
    if name == "bank-account" and ("iban" in first or "bank-account-nr" in first):
        bic = by_relation.get("swift") or by_relation.get("bic")
        return [(BANK_ACCOUNT, first.get("iban") or bank_account_text(None, None, first["bank-account-nr"], bic))]
    if name == "coin-address" and typed:
        symbol, address = by_relation.get("symbol"), typed[0][1]
        return [(CRYPTO_WALLET, f"{symbol}:{address}" if symbol else address)]
    return [(_MISP_KINDS[misp_type], value) for misp_type, value in typed]


def indicator_fields(obj: dict, *, tlp: str, creator_name: str | None) -> dict:
    """What an Indicator says of each of its values, as ``Submission`` fields: labels,
    confidence, TLP (``tlp``, as the bundle marks it), description (none when it is the default
    one a registry export writes for ``creator_name``), valid_until, first_seen, external_ref,
    and its grading (``grades``)."""
    description = obj.get("description")
    if isinstance(description, str) and mapping.is_default_description(description, creator_name or ""):
        description = None
    reliability, credibility = grades(obj)
    return {
        "reliability": reliability, "credibility": credibility,
        "labels": labels(obj), "confidence": confidence(obj), "tlp": tlp,
        "description": description[:MAX_DESCRIPTION] if isinstance(description, str) and description else None,
        "valid_until": parse_stix_time(obj.get("valid_until")),
        "first_seen": parse_stix_time(obj.get("valid_from")) or parse_stix_time(obj.get("created")),
        "external_ref": first_url(obj),
    }


def revoked_at(obj: dict):
    """When a revoked object was revoked: its ``modified`` (the version that says so; STIX
    requires it), else its ``created``."""
    return parse_stix_time(obj.get("modified")) or parse_stix_time(obj.get("created"))


def grades(obj: dict) -> tuple[str | None, int | None]:
    """The (reliability, credibility) of the registry's grading extension on ``obj``
    (stix.extension), each None when absent or not a grade. The confidence stays the object's
    own: it is not derived back from a grade."""
    extensions = obj.get("extensions")
    found = extensions.get(GRADING_EXTENSION) if isinstance(extensions, dict) else None
    if not isinstance(found, dict):
        return None, None
    reliability = found.get("reliability")
    credibility = found.get("credibility")
    try:
        reliability = grading.reliability(reliability) if isinstance(reliability, str) else None
    except grading.GradeError:
        reliability = None
    try:  # a whole number only: "2" is not STIX's integer
        credibility = grading.credibility(credibility) if type(credibility) is int else None
    except grading.GradeError:
        credibility = None
    return reliability, credibility


def labels(obj: dict) -> tuple[str, ...]:
    """The object's labels as registry labels (``domain.labels``), the
    TLP and STIX 2.0 indicator-type labels left out, cut to what the column holds."""
    version_20 = obj.get("spec_version") != "2.1"
    out = set()
    for label in items(obj, "labels"):
        if not isinstance(label, str):
            continue
        slug = label_slug(label)
        if slug.startswith("tlp:") or (version_20 and slug in _INDICATOR_TYPES):
            continue
        if slug and is_label(slug):
            out.add(slug)  # MISP machine tags such as misp:type="domain" are not slugs: dropped
    kept, room = [], MAX_LABEL_TEXT
    for label in sorted(out):  # the stored ",a,b," has a size limit; a tag cloud is cut short
        room -= len(label) + 1
        if room < 0:
            break
        kept.append(label)
    return tuple(kept)


@dataclass(frozen=True, slots=True)
class SightingDraft:
    """What a Sighting says. ``where``: the Identity whose org saw it (its first
    ``where_sighted_refs``, else its creator); ``first_seen``: None when it gives no time;
    ``count``: a whole number as given, or None (the sighting path bounds it)."""

    id: str | None
    ref: str | None
    where: str | None
    first_seen: datetime | None
    last_seen: datetime | None
    count: int | None
    case_ref: str
    description: str | None


def sighting_draft(obj: dict) -> SightingDraft:
    where = [r for r in items(obj, "where_sighted_refs") if isinstance(r, str) and r.startswith("identity--")]
    count = obj.get("count")
    return SightingDraft(
        id=text(obj, "id"), ref=text(obj, "sighting_of_ref"), where=where[0] if where else text(obj, "created_by_ref"),
        first_seen=parse_stix_time(obj.get("first_seen")) or parse_stix_time(obj.get("created")),
        last_seen=parse_stix_time(obj.get("last_seen")),
        count=count if isinstance(count, int) and not isinstance(count, bool) else None,
        case_ref=case_ref(obj), description=description(obj),
    )


def own_ids(objs: list[dict], object_type: str) -> list[str]:
    """The well-formed ids of these objects, lowercase (as claims.py compares them)."""
    return [obj["id"].lower() for obj in objs if is_id(obj.get("id"), object_type)]


def is_id(value, object_type: str) -> bool:
    """A well-formed STIX id of this type (what may be stored as a source's own id)."""
    return isinstance(value, str) and value.startswith(object_type + "--") and _STIX_ID.fullmatch(value) is not None


def description(obj: dict) -> str | None:
    found = obj.get("description")
    return found[:MAX_DESCRIPTION] if isinstance(found, str) and found else None


def text(obj: dict, key: str) -> str | None:
    """A string property (an id or reference); None when absent or of another type."""
    value = obj.get(key)
    return value if isinstance(value, str) and value else None


def items(obj: dict, key: str) -> list:
    """A list property; empty when absent or not a list."""
    value = obj.get(key)
    return value if isinstance(value, list) else []


def confidence(obj: dict) -> int | None:
    value = obj.get("confidence")
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 100:
        return value
    return None


def first_url(obj: dict) -> str | None:
    for ref in items(obj, "external_references"):
        if isinstance(ref, dict) and isinstance(ref.get("url"), str) and ref["url"]:
            return ref["url"][:2048]
    return None


def case_ref(obj: dict) -> str:
    """The case reference our own export writes as ``{"source_name": "case", "external_id"}``."""
    for ref in items(obj, "external_references"):
        if isinstance(ref, dict) and ref.get("source_name") == "case" and isinstance(ref.get("external_id"), str):
            return ref["external_id"].strip()[:200]
    return ""
