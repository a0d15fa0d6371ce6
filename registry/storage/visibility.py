"""The TLP visibility rule as a SQL condition, derived from ``domain.tlp.Viewer`` so that
SQL filtering and the Python check (``Viewer.can_see``) cannot disagree."""

from __future__ import annotations

from sqlalchemy import and_, false, or_

from registry.domain.tlp import RED, Viewer


def visible(viewer: Viewer, tlp_col, org_slug_col):
    """A condition on a row's TLP column and its source org's slug column."""
    clauses = []
    levels = viewer.open_levels()
    if levels:
        clauses.append(tlp_col.in_(levels))
    if viewer.sees_own_red:
        clauses.append(and_(tlp_col == RED, org_slug_col == viewer.org))
    return or_(*clauses) if clauses else false()
