"""Recording the values one small submission lands together (table ``cosubmission``), for the
suggested links' "submitted together" rule (docs/design.md, "Suggested links").

Only the submissions a person or a client makes pass a ``Together`` to the submitter: an API
``POST /api/v1/indicators`` (a list, or a STIX bundle), a TAXII add-objects envelope and the
web page's submit form. Feed runs, federation pulls and file imports never do: a feed's thousands
of values are not "together" in the sense an analyst means.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Connection

from registry.domain.suggestions import MAX_TOGETHER, MIN_TOGETHER
from registry.storage import cosubmissions as store
from registry.storage import indicators as ind_store


class Together:
    """The values (canonical value → the TLP submitted at) a submitter wrote; allowlisted ones are
    left out (their link would be noise). Recorded as one batch when the submission holds from
    ``MIN_TOGETHER`` to ``MAX_TOGETHER`` values; a larger one is not recorded at all."""

    __slots__ = ("values",)

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def add(self, items) -> None:
        """The ``indicators.Pending`` items of a written batch."""
        values = self.values
        for item in items:
            if len(values) > MAX_TOGETHER:
                return  # too many already: nothing is recorded, so stop collecting
            if not item.allowlisted:
                values.setdefault(item.value.value, item.tlp)

    def record(self, conn: Connection, org_id: int, now: datetime) -> str | None:
        """Write the batch (after the submitter's writes); its id, or None when not recorded."""
        values = self.values
        if not MIN_TOGETHER <= len(values) <= MAX_TOGETHER:
            return None
        ids = ind_store.indicator_ids(conn, list(values))
        batch = str(uuid.uuid4())
        store.insert(conn, batch, [(ids[value], org_id, tlp) for value, tlp in values.items() if value in ids], now)
        return batch
