"""API key rows. Only the SHA-256 of a key is stored; the prefix is what people see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from registry.storage import bulk
from registry.storage import tables as t
from registry.storage.orgs import SETTINGS_COUNTER


@dataclass(frozen=True)
class KeyRow:
    id: int
    prefix: str
    org: str
    org_country: str | None
    org_require_purpose: bool
    role: str
    max_tlp: str
    name: str | None
    created: datetime
    last_used: datetime | None
    revoked: datetime | None


def _select():
    k, o = t.api_key.c, t.organization.c
    return select(
        k.id, k.prefix, o.slug, o.country, o.require_purpose, k.role, k.max_tlp, k.name, k.created, k.last_used, k.revoked
    ).join_from(t.api_key, t.organization, k.org_id == o.id)


def insert(conn: Connection, *, org_id: int, prefix: str, key_hash: str, role: str, max_tlp: str,
           name: str | None, now: datetime) -> None:
    conn.execute(
        t.api_key.insert().values(
            org_id=org_id, prefix=prefix, key_hash=key_hash, role=role, max_tlp=max_tlp, name=name, created=now
        )
    )


def by_hash(conn: Connection, key_hash: str) -> KeyRow | None:
    row = conn.execute(_select().where(t.api_key.c.key_hash == key_hash)).first()
    return KeyRow(*row) if row else None


def version(conn: Connection) -> tuple:
    """Changes whenever a key is created or revoked (keys are never deleted or edited otherwise)
    or an org setting a key's row carries changes (``orgs.SETTINGS_COUNTER``)."""
    return bulk.driver_rows(conn, "SELECT MAX(id), COUNT(revoked), (SELECT value FROM counter WHERE name = "
                                  f"'{SETTINGS_COUNTER}') FROM api_key")[0][0]


def by_prefix(conn: Connection, prefix: str) -> KeyRow | None:
    row = conn.execute(_select().where(t.api_key.c.prefix == prefix)).first()
    return KeyRow(*row) if row else None


def all_keys(conn: Connection, org: str | None = None) -> list[KeyRow]:
    query = _select().order_by(t.api_key.c.id)
    if org:
        query = query.where(t.organization.c.slug == org)
    return [KeyRow(*row) for row in conn.execute(query)]


def touch(conn: Connection, key_id: int, now: datetime) -> None:
    conn.execute(t.api_key.update().where(t.api_key.c.id == key_id).values(last_used=now))


def revoke(conn: Connection, key_id: int, now: datetime) -> None:
    conn.execute(t.api_key.update().where(t.api_key.c.id == key_id).values(revoked=now))
