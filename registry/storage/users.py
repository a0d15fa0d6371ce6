"""Web users (``app_user`` rows). Only a werkzeug scrypt hash of each password is stored.

``session_generation`` is what a session cookie must match: every change here that should end
a user's sessions (disabling or enabling, a new password, signing out) bumps it in the same
statement, so no caller can forget to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from registry.storage import tables as t


@dataclass(frozen=True)
class UserRow:
    id: int
    username: str
    org: str
    org_country: str | None
    org_require_purpose: bool
    role: str
    max_tlp: str
    password_hash: str
    created: datetime
    last_login: datetime | None
    disabled: bool
    session_generation: int
    org_id: int
    alerts_seen: int  # the highest event seq the user has seen on the Alerts page


def _select():
    u, o = t.app_user.c, t.organization.c
    return select(
        u.id, u.username, o.slug, o.country, o.require_purpose, u.role, u.max_tlp, u.password_hash, u.created, u.last_login, u.disabled,
        u.session_generation, u.org_id, u.alerts_seen,
    ).join_from(t.app_user, t.organization, u.org_id == o.id)


def insert(conn: Connection, *, org_id: int, username: str, password_hash: str, role: str, max_tlp: str,
           now: datetime) -> int:
    return conn.execute(
        t.app_user.insert().values(org_id=org_id, username=username, password_hash=password_hash, role=role,
                                   max_tlp=max_tlp, created=now, disabled=False)
    ).inserted_primary_key[0]


def by_username(conn: Connection, username: str) -> UserRow | None:
    row = conn.execute(_select().where(t.app_user.c.username == username)).first()
    return UserRow(*row) if row else None


def by_id(conn: Connection, user_id: int) -> UserRow | None:
    row = conn.execute(_select().where(t.app_user.c.id == user_id)).first()
    return UserRow(*row) if row else None


def all_users(conn: Connection, org: str | None = None) -> list[UserRow]:
    query = _select().order_by(t.organization.c.slug, t.app_user.c.username)
    if org:
        query = query.where(t.organization.c.slug == org)
    return [UserRow(*row) for row in conn.execute(query)]


def _next_generation():
    return t.app_user.c.session_generation + 1


def set_disabled(conn: Connection, user_id: int, disabled: bool) -> None:
    conn.execute(t.app_user.update().where(t.app_user.c.id == user_id)
                 .values(disabled=disabled, session_generation=_next_generation()))


def end_sessions(conn: Connection, user_id: int) -> None:
    conn.execute(t.app_user.update().where(t.app_user.c.id == user_id).values(session_generation=_next_generation()))


def touch_login(conn: Connection, user_id: int, now: datetime) -> None:
    conn.execute(t.app_user.update().where(t.app_user.c.id == user_id).values(last_login=now))


def set_password_hash(conn: Connection, user_id: int, password_hash: str) -> None:
    conn.execute(t.app_user.update().where(t.app_user.c.id == user_id)
                 .values(password_hash=password_hash, session_generation=_next_generation()))


def set_access(conn: Connection, user_id: int, *, role: str, max_tlp: str) -> None:
    conn.execute(t.app_user.update().where(t.app_user.c.id == user_id).values(role=role, max_tlp=max_tlp))


def see_alerts(conn: Connection, user_id: int, seq: int) -> None:
    """The user has seen the alerts up to ``seq``: it only moves forward."""
    conn.execute(t.app_user.update().where(t.app_user.c.id == user_id, t.app_user.c.alerts_seen < seq)
                 .values(alerts_seen=seq))
