"""Webhooks and their delivery attempts (docs/design.md, "Webhooks and the dispatcher").

A dispatcher holds a webhook's lease (``storage.leases``) while it delivers; every change of the
delivery state below is conditional on still holding it, so a dispatcher whose lease another took
over (it was paused past its lease) records nothing and moves no position.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, and_, delete, func, or_, select, update

from registry.storage import leases
from registry.storage import tables as t

_h = t.webhook.c
_d = t.webhook_delivery.c


class WebhookRow(NamedTuple):
    id: int
    uid: str
    org_id: int
    org: str  # the org's slug
    actor: str | None
    url: str
    secret: str
    watches: str | None  # ,uid,uid, ; None: every event the org receives
    max_tlp: str
    enabled: bool
    disabled_reason: str | None
    created: datetime
    position: int
    attempt: int
    failing_since: datetime | None
    next_attempt: datetime | None
    lease_owner: str | None
    lease_until: datetime | None


class DeliveryRow(NamedTuple):
    delivery: str
    seq: int
    attempt: int
    time: datetime
    status: int | None
    answer: str | None
    error: str | None
    duration: float | None


_SELECT = select(_h.id, _h.uid, _h.org_id, t.organization.c.slug, _h.actor, _h.url, _h.secret, _h.watches,
                 _h.max_tlp, _h.enabled, _h.disabled_reason, _h.created, _h.position, _h.attempt,
                 _h.failing_since, _h.next_attempt, _h.lease_owner, _h.lease_until).select_from(
    t.webhook.join(t.organization, t.organization.c.id == _h.org_id))


def insert(conn: Connection, **row) -> int:
    return conn.execute(t.webhook.insert().values(**row)).inserted_primary_key[0]


def count_of_org(conn: Connection, org_id: int) -> int:
    return conn.execute(select(func.count()).select_from(t.webhook).where(_h.org_id == org_id)).scalar_one()


def of_org(conn: Connection, org_id: int) -> list[WebhookRow]:
    return [WebhookRow._make(row) for row in conn.execute(_SELECT.where(_h.org_id == org_id).order_by(_h.id))]


def by_uid(conn: Connection, uid: str) -> WebhookRow | None:
    row = conn.execute(_SELECT.where(_h.uid == uid)).first()
    return WebhookRow._make(row) if row is not None else None


def get(conn: Connection, webhook_id: int) -> WebhookRow | None:
    row = conn.execute(_SELECT.where(_h.id == webhook_id)).first()
    return WebhookRow._make(row) if row is not None else None


def remove(conn: Connection, webhook_id: int) -> None:
    """The webhook and its attempts. Its row is locked first (disabled), so a dispatcher recording
    an attempt meanwhile waits and then finds it gone, adding no attempt the delete would miss."""
    conn.execute(update(t.webhook).where(_h.id == webhook_id).values(enabled=False))
    conn.execute(delete(t.webhook_delivery).where(_d.webhook_id == webhook_id))
    conn.execute(delete(t.webhook).where(_h.id == webhook_id))


def enable(conn: Connection, webhook_id: int) -> None:
    """Enabled again, its retry state cleared: it resumes after ``position``, where it stopped."""
    conn.execute(update(t.webhook).where(_h.id == webhook_id).values(
        enabled=True, disabled_reason=None, attempt=0, failing_since=None, next_attempt=None))


# -- what the dispatcher reads -------------------------------------------------------------------
def _pending(head: int):
    return and_(_h.enabled.is_(True), _h.position < head)


def due(conn: Connection, now: datetime, head: int) -> list[int]:
    """Webhooks with events to deliver (``position`` behind ``head``, the event counter) whose
    retry is due and whose lease is free or expired, oldest first."""
    free = or_(_h.lease_owner.is_(None), _h.lease_until < now)
    ready = or_(_h.next_attempt.is_(None), _h.next_attempt <= now)
    return list(conn.execute(select(_h.id).where(_pending(head), ready, free).order_by(_h.id)).scalars())


def next_retry(conn: Connection, head: int) -> datetime | None:
    """When the earliest waiting retry falls due (None: no webhook waits for one)."""
    return conn.execute(select(func.min(_h.next_attempt)).where(_pending(head))).scalar()


def leased(conn: Connection, now: datetime, head: int) -> list[tuple[int, str]]:
    """(id, holder) of webhooks with events to deliver whose lease has not run out: the caller
    asks whether each holder still lives."""
    return [(row.id, row.lease_owner) for row in conn.execute(select(_h.id, _h.lease_owner).where(
        _pending(head), _h.lease_owner.is_not(None), _h.lease_until >= now))]


def take_lease(conn: Connection, webhook_id: int, owner: str, now: datetime, until: datetime,
               *, replacing: str | None = None) -> bool:
    return leases.take(conn, t.webhook, webhook_id, owner, now, until, replacing=replacing)


def release_lease(conn: Connection, webhook_id: int, owner: str) -> None:
    leases.release(conn, t.webhook, webhook_id, owner)


def advance(conn: Connection, webhook_id: int, owner: str, position: int, until: datetime) -> bool:
    """Move ``position`` on (past events the webhook does not take) under ``owner``'s lease."""
    result = conn.execute(update(t.webhook).where(_h.id == webhook_id, _h.lease_owner == owner,
                                                  _h.position < position)
                          .values(position=position, lease_until=until))
    return result.rowcount == 1 or _holds(conn, webhook_id, owner)


def _holds(conn: Connection, webhook_id: int, owner: str) -> bool:
    return conn.execute(select(_h.id).where(_h.id == webhook_id, _h.lease_owner == owner)).first() is not None


def record(conn: Connection, webhook_id: int, owner: str, tried: DeliveryRow, *, keep: int, **state) -> bool:
    """Record an attempt (``tried``) and the webhook's new delivery ``state`` (its ``position`` after an
    acknowledged event, its retry state after a failure) in the caller's transaction, under
    ``owner``'s lease; False, and nothing written, when ``owner`` holds it no more. Keeps the
    webhook's last ``keep`` attempts."""
    changed = conn.execute(update(t.webhook).where(_h.id == webhook_id, _h.lease_owner == owner).values(**state))
    if changed.rowcount != 1:
        return False
    conn.execute(t.webhook_delivery.insert().values(webhook_id=webhook_id, **tried._asdict()))
    oldest_kept = conn.execute(select(_d.id).where(_d.webhook_id == webhook_id).order_by(_d.id.desc())
                               .offset(keep - 1).limit(1)).scalar()
    if oldest_kept is not None:
        conn.execute(delete(t.webhook_delivery).where(_d.webhook_id == webhook_id, _d.id < oldest_kept))
    return True


def deliveries(conn: Connection, webhook_id: int, limit: int) -> list[DeliveryRow]:
    """The webhook's attempts, newest first."""
    query = (select(_d.delivery, _d.seq, _d.attempt, _d.time, _d.status, _d.answer, _d.error, _d.duration)
             .where(_d.webhook_id == webhook_id).order_by(_d.id.desc()).limit(limit))
    return [DeliveryRow._make(row) for row in conn.execute(query)]
