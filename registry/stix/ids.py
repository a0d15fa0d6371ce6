"""STIX identifiers: one id names one object, wherever it is served.

- SCOs use STIX's own deterministic UUIDv5 (namespace 00abedb4-aa42-466c-9c01-fed23315a9b7 over
  the id-contributing properties), so our ids agree with every other producer's, OpenCTI's too.
- An Indicator keeps its source's own STIX id when it came with one that no other indicator
  holds (stix.claims decides; the id is stored in ``assertion.stix_id``, unique).
- Every other Indicator (one per assertion) gets an id *derived*, not stored: nothing is
  written per imported row, and the same data always exports with the same ids. The derivation
  is keyed with this database's secret (``stix_id_key``, made by the migration that added it):
  the UUID's first 90 free bits are a keyed BLAKE2b over (source identity, feed, value) and its
  last 32 bits a keyed check over those (``IndicatorIds``). So
  * nobody outside can compute an id the registry will derive, and claim it first;
  * an incoming id is recognised as one this registry derives by its check alone
    (``is_derived``), and whether it is the id of a given (source, feed, value) by deriving
    that one: exact, and without reading anything;
  * another registry's derived ids fail the check: here they are a source's own ids, kept, so
    registries federating by TAXII serve the same ids for what one pulled from the other.
  A row in a write lane other than 0 (domain.lanes: an org's second row of a value) is another
  Indicator: its id is derived with its lane as well, and stored in the row, as the export
  reads no lanes; it passes the check like any derived id.
- Sightings get a random UUIDv4 when stored (storage.sightings), or keep their source's id.
- Bundles and exports get ids derived (unkeyed) from what they hold (``derived_id``): they name
  no stored object and are never imported as an indicator's id.

The UUID text is written from the hex digest directly: the export computes ids per row, and
going through ``uuid.UUID`` costs more than the hashing.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid

import orjson

SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
_NS_BYTES = SCO_NAMESPACE.bytes

# The registry's own objects (its identity, the extension definitions of the SCOs STIX lacks and
# of the grading it adds to Indicators).
REGISTRY_IDENTITY = "identity--7b3c0e7f-5f0a-4b8e-9a55-3c1f6a2d4e01"
PHONE_EXTENSION = "extension-definition--b2a4d7c1-6e3f-4a9b-8c2d-1f5e7a9b3c40"
BANK_ACCOUNT_EXTENSION = "extension-definition--e6bf5b52-11b4-4762-917f-529856fb3b5a"
CRYPTO_WALLET_EXTENSION = "extension-definition--8513ff29-365a-4760-9ba5-2e1613ec4be6"
# The property extension carrying an Indicator's Admiralty grading (docs/stix-taxii.md, "Grading").
GRADING_EXTENSION = "extension-definition--a8334251-1da8-4142-b783-f0f0323b8fcc"

INDICATOR_PREFIX = "indicator--"
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
    """A stable UUIDv4-shaped id from ``parts`` (bundles, export ETags): not for Indicators."""
    return _format(object_type, hashlib.sha256("\x1f".join((object_type, *parts)).encode()).hexdigest(), "4")


class IndicatorIds:
    """The Indicator ids one database derives (see the module's docstring), from its secret."""

    def __init__(self, key_hex: str) -> None:
        key = bytes.fromhex(key_hex)
        self._body = hashlib.blake2b(key=key, digest_size=12, person=b"indicator")
        self._check = hashlib.blake2b(key=key, digest_size=4, person=b"id-check")
        self._sources: dict[str, object] = {}  # identity -> the body hash over it, copied per id

    def derive(self, value: str, source_identity: str, feed: str, lane: int = 0) -> str:
        """The id of the Indicator of ``value`` asserted by the org ``source_identity`` through
        ``feed`` ('' for a direct submission). ``lane``: the row's write lane (domain.lanes); a
        row beside the ordinary one is another Indicator, and stores this id (the export reads
        no lanes). Lane 0's ids are those derived without one."""
        state = self._sources.get(source_identity)
        if state is None:  # the identity has a fixed form, the feed is a slug: the text is unambiguous
            state = self._sources[source_identity] = self._body.copy()
            state.update(f"{source_identity}\x1f".encode())
        h = state.copy()
        # A slug holds no \x1e, so "feed\x1elane" is never a lane-0 feed: still unambiguous.
        h.update(f"{feed}\x1e{lane}\x1f{value}".encode() if lane else f"{feed}\x1f{value}".encode())
        d = h.hexdigest()
        body = f"{d[:8]}-{d[8:12]}-4{d[13:16]}-{_VARIANT[d[16]]}{d[17:20]}-{d[20:24]}"
        return INDICATOR_PREFIX + body + self._check_of(body)

    def is_derived(self, stix_id: str) -> bool:
        """Whether ``stix_id`` is an Indicator id this database derives (for some source, feed
        and value, present or not): its check holds. A random id passes by chance once in 2^32."""
        if not stix_id.startswith(INDICATOR_PREFIX) or len(stix_id) != len(INDICATOR_PREFIX) + 36:
            return False
        text = stix_id[len(INDICATOR_PREFIX):].lower()
        body, check = text[:28], text[28:]
        if body[14] != "4" or body[19] not in "89ab":
            return False
        return hmac.compare_digest(self._check_of(body), check)

    def _check_of(self, body: str) -> str:
        check = self._check.copy()
        check.update(body.encode())
        return check.hexdigest()


def keyed_id(object_type: str, hexdigest: str) -> str:
    """An id from a keyed digest (``domain.opaque.Sealer.tag``: 32 hex digits)."""
    return _format(object_type, hexdigest, "4")


def indicator_ids(key_hex: str, kept: dict) -> IndicatorIds:
    """The ids derived with ``key_hex``, made once and kept in ``kept``: the caches of the
    database the key was read from (``storage.caches``), so its per-source states outlive a call
    but never pass to another database."""
    found = kept.get((IndicatorIds, key_hex))
    if found is None:
        found = kept.setdefault((IndicatorIds, key_hex), IndicatorIds(key_hex))
    return found
