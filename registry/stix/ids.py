"""STIX identifiers.

- SCOs use STIX's own deterministic UUIDv5 (namespace 00abedb4-aa42-466c-9c01-fed23315a9b7 over
  the id-contributing properties), so our ids agree with every other producer's, OpenCTI's too.
- SDOs the registry derives (an Indicator per assertion) get a *deterministic* id: a UUID with
  the version-4 layout whose bits come from SHA-256 over what identifies the object (value,
  source identity, feed). Nothing is minted or stored per imported row, the same data always
  exports with the same ids, and two registries holding the same assertion agree on its id.
  (DESIGN proposed stored random UUIDv4s: deriving gives the same stability without a write per
  row on the import path.) A source's own STIX id is kept instead.
- Sightings are few and written one by one, so they get a random UUIDv4 minted and stored when
  the row is created (storage.sightings); ``sighting_id`` derives one only for older rows.

Both derivations write the UUID text from the hex digest directly: the export computes two ids
per row, and going through ``uuid.UUID`` costs more than the hashing.
"""

from __future__ import annotations

import hashlib
import uuid

import orjson

SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
_NS_BYTES = SCO_NAMESPACE.bytes

# The registry's own objects (its identity, the phone-number extension definition).
REGISTRY_IDENTITY = "identity--7b3c0e7f-5f0a-4b8e-9a55-3c1f6a2d4e01"
PHONE_EXTENSION = "extension-definition--b2a4d7c1-6e3f-4a9b-8c2d-1f5e7a9b3c40"


_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}  # RFC 4122 variant: 10xx


def _format(object_type: str, hexdigest: str, version: str) -> str:
    """``type--uuid`` from the first 16 bytes of a digest (as hex), version and variant set."""
    h = hexdigest
    return f"{object_type}--{h[:8]}-{h[8:12]}-{version}{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


def sco_id(object_type: str, contributing: dict) -> str:
    """The STIX 2.1 deterministic id of an SCO from its id-contributing properties
    (uuid5 over their canonical JSON: sorted keys, no spaces, UTF-8 as is)."""
    name = orjson.dumps(contributing, option=orjson.OPT_SORT_KEYS)
    return _format(object_type, hashlib.sha1(_NS_BYTES + name).hexdigest(), "5")


def value_sco_id(object_type: str, value: str) -> str:
    """``sco_id(object_type, {"value": value})``, the id of every SCO the registry exports."""
    return _format(object_type, hashlib.sha1(_NS_BYTES + orjson.dumps({"value": value})).hexdigest(), "5")


def derived_id(object_type: str, *parts: str) -> str:
    """A stable UUIDv4-shaped id for an SDO the registry derives from its own rows."""
    return _format(object_type, hashlib.sha256("\x1f".join((object_type, *parts)).encode()).hexdigest(), "4")


def indicator_id(value: str, source_identity: str, feed: str, own_id: str | None = None, lane: int = 0) -> str:
    """An assertion's Indicator id. A row in a lane other than 0 (domain.lanes) is another
    Indicator of the same value, source and feed: its lane is hashed in (lane 0's ids stay as
    they were), and the row stores the result, since the export does not read lanes."""
    if own_id:
        return own_id
    return derived_id("indicator", value, source_identity, feed, str(lane)) if lane else \
        derived_id("indicator", value, source_identity, feed)


def sighting_id(value: str, source_identity: str, case_ref: str, own_id: str | None = None) -> str:
    return own_id or derived_id("sighting", value, source_identity, case_ref)
