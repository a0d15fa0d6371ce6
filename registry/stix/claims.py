"""Which id an imported Indicator or Sighting is stored under: one id, one object.

An id names one object wherever it is served (exports, TAXII ``objects/<id>/``, a Sighting's
``sighting_of_ref``), so an incoming object's own id is stored only when it names nothing else:

- an Indicator id already held by an assertion of another source, another feed or another
  value (stored, or kept earlier in the same bundle) is not stored again;
- an id this registry derives (``IndicatorIds.is_derived``) is never stored: either it is the
  very id the incoming (source, feed, value) derives, and the export derives it again, or it
  is another assertion's, present or to come;
- a Sighting id already held by another org's sighting, or by one of the same org the caller
  may not see, is not stored again.

Write lanes (domain.lanes) give one source several rows of a value: the claim here says only
whether the id may name the source's (feed's, value's) Indicator. For a writer who writes lane 0
(the operator, a writer seeing every level) an id held by a row in another lane is another
indicator's; for a capped writer, which of its source's rows the id names is known only where
its row is chosen, and storage.indicators re-mints it there when it names another of them.

Such an object is stored under a new id: the one the registry derives for the Indicator, a
random one for the Sighting; the import reports both ids and the reason. The answer and its
reason are the same whether the holder is one the caller may see or not, and never say whose
it is: what a caller learns is that an id it already had is taken. Ids are compared in
lowercase, as UUIDs are.

Nothing here reads a database: the import (services.stix_import) reads who holds the bundle's
ids and hands them to ``IdClaims``.
"""

from __future__ import annotations

from collections.abc import Mapping

from registry.domain.lanes import ORDINARY
from registry.domain.tlp import Viewer
from registry.stix.ids import IndicatorIds

HELD = "the id is already another indicator's"
DERIVED = "the id is one this registry derives for another indicator (another source, feed or value)"
HELD_SIGHTING = "the id is already another sighting's"


class IdClaims:
    """Decides the stored id of each incoming object of one import. ``held_indicators`` and
    ``held_sightings``: the stored rows holding any own id the bundle's objects carry, by id,
    read once (by the unique id indexes) before any is decided: assertion rows with ``org_id``,
    ``feed``, ``value`` and ``lane``; sighting rows with ``org_id``, ``tlp`` and ``source`` (the
    org's slug)."""

    def __init__(self, derived: IndicatorIds, *, held_indicators: Mapping[str, object],
                 held_sightings: Mapping[str, object]) -> None:
        self.derived = derived
        # id -> (org_id, feed, value), lane
        self.indicators: dict[str, tuple[tuple[int, str, str], int]] = {
            stix_id: ((row.org_id, row.feed, row.value), row.lane) for stix_id, row in held_indicators.items()}
        # id -> (org_id, tlp, org slug) of the sighting holding it
        self.sightings: dict[str, tuple[int, str, str]] = {
            stix_id: (row.org_id, row.tlp, row.source) for stix_id, row in held_sightings.items()}

    def indicator(self, stix_id: str, *, org_id: int, identity: str, feed: str, value: str,
                  lanes: bool = False) -> tuple[str | None, str | None]:
        """(the id to store, or None for the derived one; why the incoming id is not the
        Indicator's id, or None) for the assertion of ``value`` by ``org_id`` through ``feed``.
        ``lanes``: the writer is capped (domain.lanes), its row is chosen when it is written: an
        id of its source's, held or derived, is passed on for storage.indicators to check."""
        holder = (org_id, feed, value)
        found = self.indicators.get(stix_id)
        if found is not None:
            if found[0] != holder:
                return None, HELD
            return (stix_id, None) if lanes or found[1] == ORDINARY else (None, HELD)
        if self.derived.is_derived(stix_id):
            if self.derived.derive(value, identity, feed) != stix_id:
                return None, DERIVED
            return (stix_id if lanes else None), None
        self.indicators[stix_id] = holder, ORDINARY  # kept: a later object of the bundle meets it as held
        return stix_id, None

    def sighting(self, stix_id: str, *, org_id: int, viewer: Viewer | None) -> str:
        """``keep`` (store it), ``present`` (the org's own sighting has it, one ``viewer`` may
        see (None: the operator): a re-import) or ``taken`` (another org's has it, or one hidden
        from the viewer: store under a new id, unless the write lands in that very row)."""
        found = self.sightings.get(stix_id)
        if found is None:
            return "keep"
        holder_org, tlp, source = found
        if holder_org == org_id and (viewer is None or viewer.can_see(tlp, source)):
            return "present"
        return "taken"

    def kept_sighting(self, stix_id: str, *, org_id: int, tlp: str, source: str) -> None:
        """``stix_id`` was stored for ``org_id``'s sighting: later objects of the bundle meet it."""
        self.sightings[stix_id] = (org_id, tlp, source)
