"""Which org slug an imported STIX Identity names, read from the Identity alone.

The import (services.stix_sources) matches an object's Identity to an org: by its STIX id, else
by the slugs named here (``candidate_slugs``), else it creates one (for a well-formed id,
``creatable``). Nothing here reads a database.
"""

from __future__ import annotations

import re
import unicodedata

from registry.stix.build import ORG_REFERENCE

_WELL_FORMED = re.compile(r"identity--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def registry_slug(identity: dict) -> str | None:
    """The slug a registry's own export gives its orgs' Identities (build.ORG_REFERENCE)."""
    for ref in identity.get("external_references") or ():
        if isinstance(ref, dict) and ref.get("source_name") == ORG_REFERENCE and isinstance(ref.get("external_id"), str):
            return ref["external_id"]
    return None


def slug_of(name: str) -> str:
    """``The MITRE Corporation - DHS Support Team`` → ``the-mitre-corporation-dhs-support-team``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:64].strip("-")
    return slug


def candidate_slugs(identity: dict, name: str, is_slug) -> list[str]:
    """The slugs an Identity named ``name`` may be an org's by, best first: the one a registry
    export names, then its name made into a slug; only those ``is_slug`` accepts."""
    return [s for s in (registry_slug(identity), slug_of(name)) if s and is_slug(s)]


def creatable(identity_id: str) -> bool:
    """Whether an org may be created for this Identity id (a well-formed one is stored as the
    org's ``stix_id``)."""
    return _WELL_FORMED.fullmatch(identity_id) is not None


def fallback_slug(identity_id: str) -> str:
    """The slug of an org created for an Identity whose name gives none."""
    return "stix-" + identity_id.rpartition("--")[2][:8]
