"""The TLP visibility rule as a SQL condition, derived from ``domain.tlp.Viewer`` so that
SQL filtering and the Python check (``Viewer.can_see``) cannot disagree; and ``visible_state``,
what a viewer's data stands at, for tags that must change with it and only with it."""

from __future__ import annotations

from sqlalchemy import Connection, and_, false, func, or_, select

from registry.domain.rows import VisibleState
from registry.domain.tlp import RED, Viewer
from registry.storage import tables as t


def visible(viewer: Viewer, tlp_col, org_slug_col):
    """A condition on a row's TLP column and its source org's slug column."""
    clauses = []
    levels = viewer.open_levels()
    if levels:
        clauses.append(tlp_col.in_(levels))
    if viewer.sees_own_red:
        clauses.append(and_(tlp_col == RED, org_slug_col == viewer.org))
    return or_(*clauses) if clauses else false()


def visible_state(conn: Connection, viewer: Viewer) -> VisibleState:
    """(rows, highest seq, newest modified) of the assertions and then of the sightings the viewer
    may see. Together they move whenever what the viewer sees may have: a row it sees is added
    or changed (the highest seq grows) or hidden from it (the count drops; a row hidden while
    another appears brings a higher seq), and never for a change it cannot see. Counting is
    one scan of each table: the price of not telling a caller that others wrote."""
    out: tuple = ()
    for table in (t.assertion, t.sighting):
        joined = table.join(t.organization, t.organization.c.id == table.c.org_id)
        query = select(func.count(), func.max(table.c.seq), func.max(table.c.modified)).select_from(joined)
        out += tuple(conn.execute(query.where(visible(viewer, table.c.tlp, t.organization.c.slug))).one())
    return VisibleState._make(out)
