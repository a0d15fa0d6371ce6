"""Organisation rows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, select

from registry.domain.times import utcnow
from registry.storage import tables as t


@dataclass(frozen=True)
class Org:
    id: int
    slug: str
    name: str
    country: str | None
    stix_id: str


def _org(row) -> Org:
    return Org(row.id, row.slug, row.name, row.country, row.stix_id)


def get(conn: Connection, slug: str) -> Org | None:
    row = conn.execute(select(t.organization).where(t.organization.c.slug == slug)).first()
    return _org(row) if row else None


def all_orgs(conn: Connection) -> list[Org]:
    return [_org(r) for r in conn.execute(select(t.organization).order_by(t.organization.c.slug))]


def insert(conn: Connection, slug: str, name: str, country: str | None, stix_id: str | None = None) -> Org:
    stix_id = stix_id or f"identity--{uuid.uuid4()}"
    new_id = conn.execute(
        t.organization.insert().values(slug=slug, name=name, country=country, stix_id=stix_id, created=utcnow())
    ).inserted_primary_key[0]
    return Org(new_id, slug, name, country, stix_id)
