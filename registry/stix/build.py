"""Building the exported objects as plain dicts from stored rows (no stix2 objects: the export
writes a million of them, and stix2 builds them far slower than dicts: docs/performance.md).

- An assertion becomes an Indicator created by its source org's Identity.
- A sighting becomes a Sighting of one visible Indicator of the same value (see ``sighting``).
- An org becomes an Identity (identity_class organization).
"""

from __future__ import annotations

from functools import lru_cache

from registry.domain.rows import decode_labels
from registry.domain.standing import DELISTED, REVIEW
from registry.stix import mapping
from registry.stix.extension import grading_extension
from registry.stix.ids import IndicatorIds
from registry.stix.markings import TLP2_IDS
from registry.stix.times import stamp

ORG_REFERENCE = "registry-org"  # external reference of an Identity holding the org's slug


class Org:
    """What the export needs of an organization row (``ids``: the database's derived ids)."""

    __slots__ = ("id", "slug", "name", "stix_id", "identity", "_descriptions", "_ids")

    def __init__(self, row, ids: IndicatorIds) -> None:
        self.id, self.slug, self.name, self.stix_id = row.id, row.slug, row.name, row.stix_id
        self._ids = ids
        created = stamp(row.created)
        self.identity = {
            "type": "identity", "spec_version": "2.1", "id": row.stix_id, "created": created, "modified": created,
            "name": row.name, "identity_class": "organization",
            # The org's slug, so an import elsewhere finds or creates the same org name.
            "external_references": [{"source_name": ORG_REFERENCE, "external_id": row.slug}],
        }
        self._descriptions: dict[str, str] = {}

    def indicator_id(self, value: str, feed: str, own_id: str | None = None) -> str:
        """The id of this org's Indicator of ``value`` through ``feed``: its own, else derived."""
        return own_id or self._ids.derive(value, self.stix_id, feed)

    def description(self, kind: str) -> str:
        text = self._descriptions.get(kind)
        if text is None:
            text = self._descriptions[kind] = mapping.default_description(kind, self.name)
        return text


class Orgs(dict):
    """The orgs one export (or one TAXII page) read, by row id, with their Identities by STIX id
    (what its objects' ``created_by_ref`` and ``where_sighted_refs`` name). Made for each export
    by the service that reads the rows and handed on with them: no module keeps what an export
    loaded."""

    def __init__(self, rows, ids: IndicatorIds) -> None:
        super().__init__((row.id, Org(row, ids)) for row in rows)
        self.ids = ids
        self.identities: dict[str, dict] = {org.stix_id: org.identity for org in self.values()}


@lru_cache(maxsize=1024)  # a feed's rows share a handful of label sets
def _labels_and_types(labels_text: str, allowlisted: bool) -> tuple[tuple[str, ...], tuple[str, ...]]:
    labels = decode_labels(labels_text)
    return tuple(labels), mapping.BENIGN if allowlisted else tuple(mapping.indicator_types(labels))


def indicator(row, org: Org, others: tuple[str, ...] = ()) -> dict:
    """The Indicator for one assertion row (``domain.rows.StixAssertion``); ``others``: the
    other hashes of a file-hash value's file, which its pattern names too.

    created = valid_from = first_seen; modified = the row's last change, never before created;
    valid_until only when after valid_from (STIX requires it); confidence the assertion's (a
    credibility given without one set it: domain.grading); a graded assertion's grading in the
    registry's property extension (stix.extension). An assertion the registry ended carries the
    end as its valid_until (a review date passed: its review date); a delisted one is ``revoked``
    (docs/stix-taxii.md, "Ended and revoked"): each is a new version, as the row's end gave it a
    new change number and ``modified``. An allowlisted value is exported
    with indicator_types ["benign"]: the registry's own judgement travels with the data, and the
    round trip keeps the assertion (the receiving registry's allowlist decides again).
    """
    feed, kind, value = row.feed, row.kind, row.value
    created = stamp(row.first_seen)
    modified = stamp(row.modified)
    if modified < created:  # same format, so text order is time order
        modified = created
    labels, types = _labels_and_types(row.labels, row.allowlisted is not None)
    obj = {
        "type": "indicator", "spec_version": "2.1",
        "id": row.stix_id or org.indicator_id(value, feed),
        "created_by_ref": org.stix_id, "created": created, "modified": modified,
        "name": value, "description": row.description or org.description(kind),
        "indicator_types": list(types), "pattern": mapping.pattern(kind, value, others), "pattern_type": "stix",
        "pattern_version": "2.1", "valid_from": created,
    }
    until = row.review_at if row.end_reason == REVIEW else row.valid_until
    if until is not None:
        valid_until = stamp(until)
        if valid_until > created:
            obj["valid_until"] = valid_until
    if row.end_reason == DELISTED:
        obj["revoked"] = True
    obj["confidence"] = row.confidence
    if labels:
        obj["labels"] = list(labels)
    if feed or row.external_ref:
        obj["external_references"] = [_reference(feed or org.slug, row.external_ref)]
    if row.reliability is not None or row.credibility is not None:
        obj["extensions"] = grading_extension(row.reliability, row.credibility)
    obj["object_marking_refs"] = [TLP2_IDS[row.tlp]]
    return obj


def _reference(source_name: str, ref: str | None) -> dict:
    """The reference to where a report came from. STIX 2.1 wants a description, url or
    external_id beside the source's name: a feed without a reference of its own says so."""
    out = {"source_name": source_name}
    if not ref:
        out["description"] = "the feed this report came from"
    elif ref.startswith(("https://", "http://")):
        out["url"] = ref
    else:
        out["external_id"] = ref
    return out


def sighting(row, org: Org, sighting_of_ref: str, *, show_case: bool) -> dict:
    """The Sighting for one sighting row (every row has its id: storage.sightings mints one).
    ``show_case``: the case reference is shown only to the sighting's own org and the operator,
    as lookups do."""
    created = stamp(row.created)
    modified = stamp(row.modified)
    if modified < created:
        modified = created
    obj = {
        "type": "sighting", "spec_version": "2.1",
        "id": row.stix_id,
        "created_by_ref": org.stix_id, "created": created, "modified": modified,
        "first_seen": stamp(row.first_seen), "last_seen": stamp(row.last_seen), "count": row.count,
        "sighting_of_ref": sighting_of_ref, "where_sighted_refs": [org.stix_id],
    }
    if row.description:
        obj["description"] = row.description
    if show_case and row.case_ref:
        obj["external_references"] = [{"source_name": "case", "external_id": row.case_ref}]
    obj["object_marking_refs"] = [TLP2_IDS[row.tlp]]
    return obj
