"""Which id an imported Indicator or Sighting is stored under: one id, one object.

An id names one object wherever it is served (exports, TAXII ``objects/<id>/``, a Sighting's
``sighting_of_ref``), so an incoming object's own id is stored only when it names nothing else:

- an Indicator id already held by an assertion of another source, another feed or another
  value (stored, or kept earlier in the same bundle) is not stored again;
- an id this registry derives (``IndicatorIds.is_derived``) is never stored: either it is the
  very id the incoming (source, feed, value) derives, and the export derives it again, or it
  is another assertion's, present or to come;
- a Sighting id already held by another org's sighting is not stored again.

Such an object is stored under a new id: the one the registry derives for the Indicator, a
random one for the Sighting; the import reports both ids and the reason. The answer and its
reason are the same whether the holder is one the caller may see or not, and never say whose
it is: what a caller learns is that an id it already had is taken. Ids are compared in
lowercase, as UUIDs are.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection

from registry.stix.ids import IndicatorIds
from registry.storage import stix_reads

HELD = "the id is already another indicator's (another source's, feed's or value's)"
DERIVED = "the id is one this registry derives for another indicator (another source, feed or value)"
HELD_SIGHTING = "the id is already another organisation's sighting"


class IdClaims:
    """Decides the stored id of each incoming object of one import. ``indicator_ids`` and
    ``sighting_ids``: every own id the bundle's objects carry, looked up once (by the unique
    id indexes) before any is decided."""

    def __init__(self, conn: Connection, derived: IndicatorIds, *, indicator_ids: Iterable[str],
                 sighting_ids: Iterable[str]) -> None:
        self.derived = derived
        held = stix_reads.assertions_by_stix_ids(conn, sorted(set(indicator_ids)))
        self.indicators: dict[str, tuple[int, str, str]] = {
            stix_id: (row.org_id, row.feed, row.value) for stix_id, row in held.items()}
        self.sightings: dict[str, int] = stix_reads.sighting_holders(conn, sorted(set(sighting_ids)))

    def indicator(self, stix_id: str, *, org_id: int, identity: str, feed: str, value: str) -> tuple[str | None, str | None]:
        """(the id to store, or None for the derived one; why the incoming id is not the
        Indicator's id, or None) for the assertion of ``value`` by ``org_id`` through ``feed``."""
        holder = (org_id, feed, value)
        found = self.indicators.get(stix_id)
        if found is not None:
            return (stix_id, None) if found == holder else (None, HELD)
        if self.derived.is_derived(stix_id):
            return None, None if self.derived.derive(value, identity, feed) == stix_id else DERIVED
        self.indicators[stix_id] = holder  # kept: a later object of the bundle meets it as held
        return stix_id, None

    def sighting(self, stix_id: str, *, org_id: int) -> str:
        """``keep`` (store it), ``present`` (the org's own sighting has it: a re-import) or
        ``taken`` (another org's has it: store under a new id)."""
        found = self.sightings.get(stix_id)
        if found is None:
            return "keep"
        return "present" if found == org_id else "taken"

    def kept_sighting(self, stix_id: str, *, org_id: int) -> None:
        """``stix_id`` was stored for ``org_id``'s sighting: later objects of the bundle meet it."""
        self.sightings[stix_id] = org_id
