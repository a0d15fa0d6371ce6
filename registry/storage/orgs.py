"""Organisation rows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, select, update

from registry.domain.times import utcnow
from registry.storage import tables as t


@dataclass(frozen=True)
class Org:
    id: int
    slug: str
    name: str
    country: str | None
    stix_id: str
    require_purpose: bool = False  # its users' and keys' lookups must give a purpose and a case reference
    share_hits: str = "anonymous"  # what others learn of its lookups that hit their values (domain.events)


def _org(row) -> Org:
    return Org(row.id, row.slug, row.name, row.country, row.stix_id, bool(row.require_purpose), row.share_hits)


def get(conn: Connection, slug: str) -> Org | None:
    row = conn.execute(select(t.organization).where(t.organization.c.slug == slug)).first()
    return _org(row) if row else None


def slug_of(conn: Connection, org_id: int) -> str:
    return conn.execute(select(t.organization.c.slug).where(t.organization.c.id == org_id)).scalar_one()


def all_orgs(conn: Connection) -> list[Org]:
    return [_org(r) for r in conn.execute(select(t.organization).order_by(t.organization.c.slug))]


def insert(conn: Connection, slug: str, name: str, country: str | None, stix_id: str | None = None) -> Org:
    stix_id = stix_id or f"identity--{uuid.uuid4()}"
    new_id = conn.execute(
        t.organization.insert().values(slug=slug, name=name, country=country, stix_id=stix_id, created=utcnow())
    ).inserted_primary_key[0]
    return Org(new_id, slug, name, country, stix_id)


# Bumped whenever an org setting that callers carry changes (``require_purpose``): the API's
# key cache holds each key's org settings and reads this with the key table's version.
SETTINGS_COUNTER = "org-settings"


def set_require_purpose(conn: Connection, org_id: int, required: bool) -> None:
    conn.execute(update(t.organization).where(t.organization.c.id == org_id).values(require_purpose=required))
    bumped = conn.execute(update(t.counter).where(t.counter.c.name == SETTINGS_COUNTER)
                          .values(value=t.counter.c.value + 1))
    if bumped.rowcount == 0:  # the first change of an org setting
        conn.execute(t.counter.insert().values(name=SETTINGS_COUNTER, value=1))


def set_share_hits(conn: Connection, org_id: int, share: str) -> None:
    """What others learn of the org's lookups that hit their values (read by the hit log's
    flusher, not carried by keys: no counter to bump)."""
    conn.execute(update(t.organization).where(t.organization.c.id == org_id).values(share_hits=share))
