"""Web users: added by an operator or an admin, signed in with a password, disabled when they
leave. A signed-in user is a ``Principal`` exactly like an API key, so the TLP rule and the
roles apply to the web page as they do to the API.

Every change and listing says who acts (``by``: a ``Principal``, or ``access.ON_SERVER`` for the
CLI) and goes through the administration rule: an admin acts on its own org's users up to its
own cap and role; an operator on every org's; the CLI on anyone.

Passwords are hashed with werkzeug's scrypt. A session carries the user's session generation
as it was at sign-in; signing out, a new password and disabling (or enabling) the user bump it,
so every session of the user ends at once, on every device, and a saved cookie never comes back.
"""

from __future__ import annotations

import re
from functools import lru_cache

from werkzeug.security import check_password_hash, generate_password_hash

from registry.domain import roles
from registry.domain.times import utcnow
from registry.services import access
from registry.services.errors import Conflict, Forbidden, Invalid, NotFound
from registry.services.keys import Principal
from registry.services.orgs import require_org
from registry.storage import users as user_store
from registry.storage.db import Database
from registry.storage.users import UserRow

# Lowercase so that "Somchai" and "somchai" are one person; no "_" or ":", so a username can
# never look like a key prefix (reg_…) or a CLI actor (cli:…) in the audit log.
USERNAME = re.compile(r"^[a-z0-9][a-z0-9.@-]{1,63}$")
MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # scrypt over megabytes of "password" would be a cheap way to burn CPU
HASH_METHOD = "scrypt"


def parse_username(text: str) -> str:
    username = (text or "").strip().lower()
    if not USERNAME.match(username):
        raise Invalid(
            f"username {text!r} must be 2-64 lowercase letters, digits, '.', '@' or '-' (e.g. somchai.k)",
            field="username",
        )
    return username


def check_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise Invalid(f"the password must be at least {MIN_PASSWORD} characters", field="password")
    if len(password) > MAX_PASSWORD:
        raise Invalid(f"the password must be at most {MAX_PASSWORD} characters", field="password")
    if "\x00" in password:
        raise Invalid("the password must not contain NUL characters", field="password")
    return password


def add_user(db: Database, username: str, *, org: str, role: str, password: str,
             max_tlp: str | None = None, by: Principal | None) -> UserRow:
    username = parse_username(username)
    role, cap = access.parse_access(role, max_tlp)
    cap = cap or access.default_cap(by)
    access.check(by, roles.Grant(org, role, cap), granting=True)
    password_hash = generate_password_hash(check_password(password), method=HASH_METHOD)
    with db.write() as conn:
        owner = require_org(conn, org)
        if user_store.by_username(conn, username) is not None:
            raise Conflict(f"user {username!r} already exists", field="username")
        user_id = user_store.insert(conn, org_id=owner.id, username=username, password_hash=password_hash,
                                    role=role, max_tlp=cap, now=utcnow())
        return user_store.by_id(conn, user_id)


def list_users(db: Database, org: str | None = None, *, by: Principal | None) -> list[UserRow]:
    """The users ``by`` may administer (of ``org``, when given)."""
    with db.read() as conn:
        rows = user_store.all_users(conn, org or access.scope(by))
    return access.in_reach(by, rows)


def _require_user(conn, username: str, by: Principal | None) -> UserRow:
    row = user_store.by_username(conn, (username or "").strip().lower())
    if row is None:
        raise NotFound(f"no user {username!r}", field="username")
    access.check(by, row)
    return row


def get_user(db: Database, username: str, *, by: Principal | None) -> UserRow:
    with db.read() as conn:
        return _require_user(conn, username, by)


def _not_oneself(by: Principal | None, row: UserRow, what: str) -> None:
    if by is not access.ON_SERVER and by.actor == row.username:
        raise Forbidden(f"you cannot {what} yourself: ask another admin", field="username")


def set_disabled(db: Database, username: str, disabled: bool = True, *, by: Principal | None) -> UserRow:
    """Disable (or enable again) a user; a disabled user's sessions stop working at once."""
    with db.write() as conn:
        row = _require_user(conn, username, by)
        if disabled:
            _not_oneself(by, row, "disable")
        user_store.set_disabled(conn, row.id, disabled)
        return user_store.by_id(conn, row.id)


def set_password(db: Database, username: str, password: str, *, by: Principal | None) -> UserRow:
    """A new password (forgotten, or suspected known): every session of the user ends."""
    password_hash = generate_password_hash(check_password(password), method=HASH_METHOD)
    with db.write() as conn:
        row = _require_user(conn, username, by)
        user_store.set_password_hash(conn, row.id, password_hash)
        return user_store.by_id(conn, row.id)


def set_access(db: Database, username: str, *, role: str | None = None, max_tlp: str | None = None,
               by: Principal | None) -> UserRow:
    """A new role and/or TLP cap; the user's next request (page or session) acts with it. Both the
    user as it is and as it would be must be within ``by``'s reach."""
    new_role, new_cap = access.parse_access(role, max_tlp)
    if new_role is None and new_cap is None:
        raise Invalid("give a new role or a new TLP cap", field="role")
    with db.write() as conn:
        row = _require_user(conn, username, by)
        _not_oneself(by, row, "change the role or cap of")
        access.check(by, roles.Grant(row.org, new_role or row.role, new_cap or row.max_tlp), granting=True)
        user_store.set_access(conn, row.id, role=new_role or row.role, max_tlp=new_cap or row.max_tlp)
        return user_store.by_id(conn, row.id)


def principal(row: UserRow) -> Principal:
    """The user as the API's caller abstraction: same org, role and TLP cap semantics as a key."""
    return Principal(org=row.org, role=row.role, max_tlp=row.max_tlp, actor=row.username, country=row.org_country,
                     require_purpose=row.org_require_purpose)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return generate_password_hash("not-a-password-of-anyone", method=HASH_METHOD)


def authenticate(db: Database, username: str, password: str) -> UserRow | None:
    """The user whose password this is, or None (unknown, wrong, or disabled alike). An unknown
    name costs the same scrypt as a known one, so timing does not tell which names exist."""
    name = (username or "").strip().lower()
    if not password or len(password) > MAX_PASSWORD or not USERNAME.match(name):
        check_password_hash(_dummy_hash(), "x")
        return None
    with db.read() as conn:
        row = user_store.by_username(conn, name)
    if row is None:
        check_password_hash(_dummy_hash(), password)
        return None
    if not check_password_hash(row.password_hash, password) or row.disabled:
        return None
    with db.write() as conn:
        user_store.touch_login(conn, row.id, utcnow())
    return row


def from_session(db: Database, user_id, generation) -> UserRow | None:
    """The user a session names, if it still may act: enabled, and no sign-out, disabling or new
    password since the session began (its generation is still the user's)."""
    if not isinstance(user_id, int) or not isinstance(generation, int):
        return None
    with db.read() as conn:
        row = user_store.by_id(conn, user_id)
    if row is None or row.disabled or row.session_generation != generation:
        return None
    return row


def see_alerts(db: Database, user_id: int, seq: int) -> None:
    """Mark the user's alerts up to ``seq`` seen (the Alerts page, on opening): the header's
    unread count counts after it."""
    with db.write() as conn:
        user_store.see_alerts(conn, user_id, seq)


def end_sessions(db: Database, user_id: int) -> None:
    """Sign the user out everywhere: every cookie issued so far stops working."""
    with db.write() as conn:
        user_store.end_sessions(conn, user_id)
