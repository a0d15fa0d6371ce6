"""Webhooks: registering one, listing, removing, enabling a disabled one again, and its delivery
attempts (docs/api.md, "Webhooks"). The dispatcher that delivers is ``services.dispatch``.

Each function takes ``by``, the caller (a ``Principal``): a contributor or above of an org acts
on its own org's webhooks only; another org's is not found, as if it did not exist. A webhook
delivers what its org receives (``services.events.read`` for the org) at the TLP cap of the key
that registered it. The web layer audits what these do.
"""

from __future__ import annotations

import secrets
import uuid

from registry.domain import roles
from registry.domain import webhooks as rules
from registry.domain.times import iso, utcnow
from registry.services.errors import Conflict, Forbidden, Invalid, NotFound
from registry.services.orgs import require_org
from registry.services.webhook_http import resolve
from registry.storage import events as event_store
from registry.storage import watches as watch_store
from registry.storage import webhooks as store
from registry.storage.db import Database
from registry.storage.webhooks import WebhookRow

MAX_PER_ORG = 20
SECRET_PREFIX = "whsec_"
DEFAULT_DELIVERIES, MAX_DELIVERIES = 100, 1000  # attempts in one listing, newest first
KEPT_DELIVERIES = 1000  # attempts kept per webhook (older ones are deleted as new ones come)
MAX_ID = 36  # a webhook's id: a UUID


def checked_url(url: object, *, allow_loopback: bool) -> str:
    """``url`` if the registry may deliver to it (domain.webhooks: https, a global address, each
    of those its host resolves to now), else ``Invalid`` naming ``url`` and why."""
    try:
        target = rules.parse_url(url, allow_loopback=allow_loopback)
    except rules.UrlRefused as exc:
        raise Invalid(str(exc), field="url") from None
    why = rules.refusal(target, resolve(target.host, target.port), allow_loopback=allow_loopback)
    if why is not None:
        raise Invalid(why, field="url")
    return str(url)


def shown(row: WebhookRow) -> dict:
    """A webhook as its org sees it (never its secret)."""
    return {"id": row.uid, "url": row.url, "watches": rules.watches_shown(row.watches), "enabled": row.enabled,
            "disabled_reason": row.disabled_reason, "created": iso(row.created), "max_tlp": row.max_tlp,
            "position": row.position, "failures": row.attempt, "failing_since": iso(row.failing_since),
            "next_attempt": iso(row.next_attempt)}


def _may(by) -> None:
    if by is None or not roles.allows(by.role, roles.CONTRIBUTOR):
        raise Forbidden(f"webhooks need the {roles.CONTRIBUTOR} role", details={"needed_role": roles.CONTRIBUTOR})


def _own(conn, uid: str, by) -> WebhookRow:
    row = store.by_uid(conn, uid) if isinstance(uid, str) and len(uid) <= MAX_ID else None
    if row is None or row.org != by.org:
        raise NotFound(f"no webhook {uid!r:.60} of {by.org}", field="id")
    return row


def register(db: Database, url: object, watches: object = rules.ALL, *, by, allow_loopback: bool) -> dict:
    """Register a webhook of ``by``'s org: the webhook as ``shown``, with its ``secret`` (shown
    this once). It delivers the events its org receives from now on (of ``watches``, the org's
    watch ids, or ``"all"``), at ``by``'s TLP cap."""
    _may(by)
    url = checked_url(url, allow_loopback=allow_loopback)
    try:
        watch_ids = rules.watches_given(watches)
    except ValueError as exc:
        raise Invalid(str(exc), field="watches") from None
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    with db.write() as conn:
        org = require_org(conn, by.org)
        if store.count_of_org(conn, org.id) >= MAX_PER_ORG:
            raise Conflict(f"{org.slug} has {MAX_PER_ORG} webhooks already: remove one first",
                           details={"limit": MAX_PER_ORG})
        for uid in watch_ids or ():
            watch = watch_store.by_uid(conn, uid)
            if watch is None or watch.org_id != org.id:
                raise Invalid(f"unknown watch id {uid!r}: GET /api/v1/watches lists {org.slug}'s", field="watches")
        webhook_id = store.insert(conn, uid=str(uuid.uuid4()), org_id=org.id, actor=by.actor, url=url, secret=secret,
                                  watches=rules.watches_text(watch_ids), max_tlp=by.max_tlp, enabled=True,
                                  created=utcnow(), position=event_store.head(conn), attempt=0)
        row = store.get(conn, webhook_id)
    return {**shown(row), "secret": secret}


def list_webhooks(db: Database, *, by) -> list[dict]:
    _may(by)
    with db.read() as conn:
        org = require_org(conn, by.org)
        return [shown(row) for row in store.of_org(conn, org.id)]


def remove(db: Database, uid: str, *, by) -> dict:
    """Delete the webhook and its delivery attempts; the webhook as it was."""
    _may(by)
    with db.write() as conn:
        row = _own(conn, uid, by)
        store.remove(conn, row.id)
    return shown(row)


def enable(db: Database, uid: str, *, by, allow_loopback: bool) -> dict:
    """Enable a disabled webhook again: it resumes with the first event it had not delivered,
    its retries starting afresh. Its URL is checked again (the host may resolve elsewhere now).
    An enabled webhook is answered as it is."""
    _may(by)
    with db.read() as conn:
        row = _own(conn, uid, by)
    if row.enabled:
        return shown(row)
    try:
        checked_url(row.url, allow_loopback=allow_loopback)
    except Invalid as exc:
        raise Conflict(f"the webhook's URL is refused now: {exc.message}; register another",
                       field="url") from None
    with db.write() as conn:
        row = _own(conn, uid, by)
        store.enable(conn, row.id)
        return shown(store.get(conn, row.id))


def deliveries(db: Database, uid: str, *, by, limit: int = DEFAULT_DELIVERIES) -> list[dict]:
    """The webhook's delivery attempts, newest first: each with its delivery id (the same on
    every attempt at one event), the event's ``seq``, the attempt's number, time and duration,
    and the receiver's ``status`` and the start of its ``answer``, or the ``error`` why none came."""
    _may(by)
    if not 1 <= limit <= MAX_DELIVERIES:
        raise Invalid(f"limit must be 1 to {MAX_DELIVERIES}", field="limit")
    with db.read() as conn:
        row = _own(conn, uid, by)
        attempts = store.deliveries(conn, row.id, limit)
    return [{"delivery": a.delivery, "seq": a.seq, "attempt": a.attempt, "time": iso(a.time), "status": a.status,
             "acknowledged": a.status is not None and 200 <= a.status < 300, "answer": a.answer, "error": a.error,
             "duration": a.duration} for a in attempts]
