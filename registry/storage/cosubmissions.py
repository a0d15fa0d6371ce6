"""Values submitted together (table ``cosubmission``): written once per small submission, read by
the suggested links' "submitted together" rule (docs/design.md, "Suggested links")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, and_, func, select
from sqlalchemy.orm import aliased

from registry.domain.tlp import Viewer
from registry.storage import bulk
from registry.storage import tables as t
from registry.storage.visibility import visible

_c = t.cosubmission.c
_org = t.organization.c


class Together(NamedTuple):
    """Another value of the submissions a value was in: how many of them, and the newest's time."""

    indicator_id: int
    value: str
    kind: str
    org: str
    times: int
    last: datetime


def insert(conn: Connection, batch: str, rows: Sequence[tuple[int, int, str]], now: datetime) -> None:
    """One submission's rows: (indicator_id, org_id, tlp) each."""
    stamp = bulk.time_writer(conn)(now)
    bulk.insert_many(conn, "cosubmission", ("batch", "indicator_id", "org_id", "tlp", "created"),
                     [(batch, indicator_id, org_id, tlp, stamp) for indicator_id, org_id, tlp in rows])


def together_with(conn: Connection, indicator_id: int, viewer: Viewer, *, batches: int, limit: int) -> list[Together]:
    """The other values of the ``batches`` newest submissions holding ``indicator_id`` whose row
    of it the viewer may see, each value once (the viewer sees its row too), most often first."""
    own = select(_c.batch).select_from(t.cosubmission.join(t.organization, _org.id == _c.org_id)).where(
        _c.indicator_id == indicator_id, visible(viewer, _c.tlp, _org.slug)).order_by(_c.created.desc()).limit(batches)
    kept = [row.batch for row in conn.execute(own)]
    if not kept:
        return []
    other = aliased(t.cosubmission)
    ind = t.indicator.c
    query = (select(other.c.indicator_id, ind.value, ind.kind, _org.slug, func.count(), func.max(other.c.created))
             .select_from(other.join(t.organization, _org.id == other.c.org_id)
                          .join(t.indicator, ind.id == other.c.indicator_id))
             .where(and_(other.c.batch.in_(kept), other.c.indicator_id != indicator_id,
                         visible(viewer, other.c.tlp, _org.slug)))
             .group_by(other.c.indicator_id, ind.value, ind.kind, _org.slug)
             .order_by(func.count().desc(), ind.value).limit(limit))
    return [Together._make(row) for row in conn.execute(query)]
