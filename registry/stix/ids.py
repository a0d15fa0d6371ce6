"""STIX identifiers.

- SCOs use STIX's own deterministic UUIDv5 (namespace 00abedb4-aa42-466c-9c01-fed23315a9b7 over
  the id-contributing properties), so our ids agree with every other producer's, OpenCTI's too.
- SDOs the registry derives (an Indicator per assertion, a Sighting per sighting) get a
  *deterministic* id: a UUID with the version-4 layout whose bits come from SHA-256 over what
  identifies the object (value, source identity, feed or case). Nothing is minted or stored per
  imported row, the same data always exports with the same ids, and two registries holding the
  same assertion agree on its id. (DESIGN proposed stored random UUIDv4s: deriving gives the same
  stability without a write per row on the import path.) A source's own STIX id is kept instead.
"""

from __future__ import annotations

import hashlib
import uuid

import orjson

SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")

# The registry's own objects (its identity, the phone-number extension definition).
REGISTRY_IDENTITY = "identity--7b3c0e7f-5f0a-4b8e-9a55-3c1f6a2d4e01"
PHONE_EXTENSION = "extension-definition--b2a4d7c1-6e3f-4a9b-8c2d-1f5e7a9b3c40"


def sco_id(object_type: str, contributing: dict) -> str:
    """The STIX 2.1 deterministic id of an SCO from its id-contributing properties."""
    name = orjson.dumps(contributing, option=orjson.OPT_SORT_KEYS).decode()
    return f"{object_type}--{uuid.uuid5(SCO_NAMESPACE, name)}"


def derived_id(object_type: str, *parts: str) -> str:
    """A stable UUIDv4-shaped id for an SDO the registry derives from its own rows."""
    digest = bytearray(hashlib.sha256("\x1f".join((object_type, *parts)).encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x40  # version 4
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    return f"{object_type}--{uuid.UUID(bytes=bytes(digest))}"


def indicator_id(value: str, source_identity: str, feed: str, own_id: str | None = None) -> str:
    return own_id or derived_id("indicator", value, source_identity, feed)


def sighting_id(value: str, source_identity: str, case_ref: str, own_id: str | None = None) -> str:
    return own_id or derived_id("sighting", value, source_identity, case_ref)
