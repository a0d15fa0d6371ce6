"""Disputes, their decisions, and delisting (``services.disputes``; the rules in
``domain.disputes``). Disputes and decisions are people's acts, a few rows: plain Core
statements. Only ``open_by_indicator`` (lookups, through their cache) and
``recently_delisted`` (each submitter, once) sit on a hot path, and both read those small
tables alone or by their keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Connection, and_, func, select

from registry.domain.standing import DELISTED
from registry.storage import tables as t
from registry.storage.db import next_seq

_d, _a, _o, _i, _dd = t.dispute.c, t.assertion.c, t.organization.c, t.indicator.c, t.dispute_decision.c

_DISPUTE = select(
    _d.id, _d.uid, _d.indicator_id, _i.value, _i.kind, _o.slug.label("org"), _d.actor, _d.reason, _d.evidence,
    _d.status, _d.created, _d.closed, _d.flagged,
).join(t.indicator, _i.id == _d.indicator_id).join(t.organization, _o.id == _d.org_id)


def insert(conn: Connection, *, uid: str, indicator_id: int, org_id: int, actor: str | None, reason: str,
           evidence: str | None, now: datetime) -> int:
    return conn.execute(t.dispute.insert().values(
        uid=uid, indicator_id=indicator_id, org_id=org_id, actor=actor, reason=reason, evidence=evidence,
        status="open", created=now,
    )).inserted_primary_key[0]


def by_uid(conn: Connection, uid: str):
    return conn.execute(_DISPUTE.where(_d.uid == uid)).first()


def open_on(conn: Connection, indicator_id: int):
    """The open dispute on an indicator (the oldest, should two have raced in)."""
    return conn.execute(_DISPUTE.where(_d.indicator_id == indicator_id, _d.status == "open")
                        .order_by(_d.id).limit(1)).first()


def listing(conn: Connection, *, status: str | None = None) -> list:
    """Disputes, newest first (every org's: the service keeps what the caller may see)."""
    query = _DISPUTE
    if status is not None:
        query = query.where(_d.status == status)
    return list(conn.execute(query.order_by(_d.id.desc())))


def assertions_on(conn: Connection, indicator_ids: Iterable[int]) -> list:
    """Every assertion on these indicators, with what standing and the visibility rule need."""
    ids = sorted(set(indicator_ids))
    if not ids:
        return []
    return list(conn.execute(select(
        _a.id, _a.indicator_id, _a.org_id, _o.slug.label("source"), _a.feed, _a.tlp, _a.valid_until, _a.review_at,
        _a.end_reason,
    ).join(t.organization, _o.id == _a.org_id).where(_a.indicator_id.in_(ids)).order_by(_a.id)))


def decisions_for(conn: Connection, dispute_ids: Iterable[int]) -> list:
    """The decisions on these disputes, oldest first, with the decided assertion's TLP and source
    (who may see a decision is who may see its assertion)."""
    ids = sorted(set(dispute_ids))
    if not ids:
        return []
    return list(conn.execute(select(
        _dd.id, _dd.dispute_id, _dd.assertion_id, _o.slug.label("org"), _dd.actor, _dd.decision, _dd.note,
        _dd.decided, _a.tlp, _a.feed,
    ).join(t.organization, _o.id == _dd.org_id).outerjoin(t.assertion, _a.id == _dd.assertion_id)
        .where(_dd.dispute_id.in_(ids)).order_by(_dd.id)))


def add_decisions(conn: Connection, rows: Sequence[dict]) -> None:
    if rows:
        conn.execute(t.dispute_decision.insert(), list(rows))


def delist(conn: Connection, assertion_ids: Sequence[int], now: datetime) -> None:
    """End these assertions now as delisted, each with a new change number (exports and TAXII
    pass the news on)."""
    if not assertion_ids:
        return
    seq = next_seq(conn, len(assertion_ids))
    for n, assertion_id in enumerate(sorted(assertion_ids)):
        conn.execute(t.assertion.update().where(_a.id == assertion_id).values(
            valid_until=now, end_reason=DELISTED, modified=now, seq=seq + n))


def close(conn: Connection, dispute_id: int, now: datetime) -> None:
    conn.execute(t.dispute.update().where(_d.id == dispute_id, _d.status == "open").values(status="closed", closed=now))


def to_flag(conn: Connection, created_before: datetime) -> list:
    """Open disputes filed before ``created_before`` and not yet flagged."""
    return list(conn.execute(_DISPUTE.where(_d.status == "open", _d.flagged.is_(None), _d.created <= created_before)
                             .order_by(_d.id)))


def set_flagged(conn: Connection, dispute_ids: Sequence[int], now: datetime) -> None:
    if dispute_ids:
        conn.execute(t.dispute.update().where(_d.id.in_(list(dispute_ids))).values(flagged=now))


# -- what lookups and submitters read --------------------------------------------------------
OPEN_STATE = "SELECT COUNT(*) FROM dispute WHERE status = 'open'", "SELECT MAX(id) FROM dispute"


def open_by_indicator(conn: Connection) -> dict[int, tuple[str, datetime]]:
    """Indicator id → (uid, since) of its open dispute (the oldest, should two have raced in)."""
    out: dict[int, tuple[str, datetime]] = {}
    for row in conn.execute(select(_d.indicator_id, _d.uid, _d.created).where(_d.status == "open").order_by(_d.id)):
        out.setdefault(row.indicator_id, (row.uid, row.created))
    return out


def recently_delisted(conn: Connection, since: datetime) -> dict[str, tuple[datetime, int]]:
    """Value → (when, indicator id) of its latest delisting decided after ``since`` whose
    assertion is still delisted (one a person relisted since holds nothing)."""
    rows = conn.execute(select(_i.value, _i.id, func.max(_dd.decided).label("decided"))
                        .select_from(t.dispute_decision)
                        .join(t.assertion, and_(_a.id == _dd.assertion_id, _a.end_reason == DELISTED))
                        .join(t.indicator, _i.id == _a.indicator_id)
                        .where(_dd.decision == "delist", _dd.decided > since)
                        .group_by(_i.value, _i.id))
    return {row.value: (row.decided, row.id) for row in rows}


def org_assertions(conn: Connection, indicator_ids: Sequence[int], org_id: int) -> list:
    """Org ``org_id``'s assertions on these indicators, with what ``domain.standing`` reads."""
    if not indicator_ids:
        return []
    return list(conn.execute(select(_a.indicator_id, _a.valid_until, _a.review_at, _a.end_reason).where(
        _a.org_id == org_id, _a.indicator_id.in_(sorted(set(indicator_ids))))))
