"""API keys: created (shown once), authenticated, revoked.

A key is ``reg_`` + 32 random bytes (URL-safe base64). Its SHA-256 is stored; its first 12
characters are the visible prefix that audit rows and listings show. Creating, revoking and
listing keys say who acts (``by``) and go through the administration rule (``access``).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from registry.domain import roles, tlp
from registry.domain.times import utcnow
from registry.services import access
from registry.services.errors import NotFound
from registry.services.orgs import require_org
from registry.storage import keys as key_store
from registry.storage.db import Database

KEY_PREFIX = "reg_"
PREFIX_LEN = 12
TOUCH_EVERY = 60.0  # seconds: last-used times are minute-accurate, not a write per request


@dataclass(frozen=True)
class Principal:
    """Who is calling: their org, role and TLP cap, and what audit rows call them."""

    org: str
    role: str
    max_tlp: str
    actor: str  # key prefix or username
    country: str | None = None
    require_purpose: bool = False  # its org requires a purpose and case reference of each lookup

    @property
    def viewer(self) -> tlp.Viewer:
        return tlp.Viewer(org=self.org, max_tlp=self.max_tlp)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(db: Database, org: str, role: str, max_tlp: str | None = None, name: str | None = None, *,
               by: Principal | None) -> dict:
    """Create a key; the returned ``key`` is the only time it is ever shown."""
    role, cap = access.parse_access(role, max_tlp)
    cap = cap or access.default_cap(by)
    access.check(by, roles.Grant(org, role, cap), granting=True)
    with db.write() as conn:
        owner = require_org(conn, org)
        while True:
            key = KEY_PREFIX + secrets.token_urlsafe(32)
            prefix = key[:PREFIX_LEN]
            if key_store.by_prefix(conn, prefix) is None:
                break
        key_store.insert(conn, org_id=owner.id, prefix=prefix, key_hash=hash_key(key), role=role, max_tlp=cap,
                         name=name, now=utcnow())
    return {"key": key, "prefix": prefix, "org": org, "role": role, "max_tlp": cap}


def revoke_key(db: Database, prefix: str, *, by: Principal | None) -> key_store.KeyRow:
    with db.write() as conn:
        row = key_store.by_prefix(conn, prefix)
        if row is None:
            raise NotFound(f"no key with prefix {prefix!r}", field="prefix")
        access.check(by, row)
        if row.revoked is None:
            key_store.revoke(conn, row.id, utcnow())
    return row


def list_keys(db: Database, org: str | None = None, *, by: Principal | None) -> list[key_store.KeyRow]:
    """The keys ``by`` may administer (of ``org``, when given)."""
    with db.read() as conn:
        rows = key_store.all_keys(conn, org or access.scope(by))
    return access.in_reach(by, rows)


class KeyAuthenticator:
    """Resolves a presented key to a Principal; remembers when it last recorded each key's use."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._touched: dict[int, float] = {}
        self._known: dict[str, tuple[tuple, key_store.KeyRow]] = {}  # key hash → (keys version, row)

    def authenticate(self, key: str) -> Principal | None:
        if not key.startswith(KEY_PREFIX) or len(key) > 200:
            return None
        digest = hash_key(key)
        # A key's row is remembered while the key table's version stands (a new key or a
        # revocation anywhere changes it, and so does a change of an org's settings the row
        # carries): one tiny query, outside any transaction, per request.
        with self.db.engine.connect() as conn:
            version = key_store.version(conn)
        known = self._known.get(digest)
        if known is not None and known[0] == version:
            row = known[1]
        else:
            with self.db.read() as conn:
                row = key_store.by_hash(conn, digest)
            if row is not None:
                if len(self._known) >= 10_000:
                    self._known.clear()
                self._known[digest] = (version, row)
        if row is None or row.revoked is not None:
            return None
        now = time.monotonic()
        if now - self._touched.get(row.id, -TOUCH_EVERY) >= TOUCH_EVERY:
            self._touched[row.id] = now
            with self.db.write() as conn:
                key_store.touch(conn, row.id, utcnow())
        return Principal(org=row.org, role=row.role, max_tlp=row.max_tlp, actor=row.prefix, country=row.org_country,
                         require_purpose=row.org_require_purpose)
