"""Member organisations (agencies, feed providers)."""

from __future__ import annotations

import re

from registry.domain import roles
from registry.domain.events import SHARE_HITS
from registry.domain.roles import Access
from registry.services import access
from registry.services.errors import Conflict, Forbidden, Invalid, NotFound
from registry.storage import orgs as org_store
from registry.storage.db import Database

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$")


def add_org(db: Database, slug: str, name: str, country: str | None = None, *,
            by: Access | None = access.ON_SERVER) -> org_store.Org:
    """Add an org: the registry's operators' task (the CLI, or a caller with the operator role).
    ``by`` defaults to the server (unlike the user and key functions): an org grants no one
    access, and the tests and demo add orgs in many places."""
    access.require_operator(by, "add organisations")
    if not SLUG.match(slug):
        raise Invalid(
            f"org slug {slug!r} must be 2-64 lowercase letters, digits and hyphens (e.g. ccib-th)", field="slug"
        )
    if not name.strip():
        raise Invalid("org name must not be empty", field="name")
    if country is not None:
        country = country.strip().upper()
        if not re.fullmatch(r"[A-Z]{2}", country):
            raise Invalid(f"country {country!r} must be an ISO 3166 alpha-2 code such as TH", field="country")
    with db.write() as conn:
        if org_store.get(conn, slug):
            raise Conflict(f"org {slug!r} already exists", field="slug")
        return org_store.insert(conn, slug, name.strip(), country)


def require_org(conn, slug: str) -> org_store.Org:
    org = org_store.get(conn, slug)
    if org is None:
        raise NotFound(f"unknown org {slug!r}: add it first with `registry org add {slug} --name ...`", field="org")
    return org


def set_org(db: Database, slug: str, *, require_purpose: bool | None = None, share_hits: str | None = None,
            by: Access | None = access.ON_SERVER) -> org_store.Org:
    """Change an org's settings (those given; None leaves one as it is). ``require_purpose``:
    every lookup by the org's users and keys must give a purpose and a case reference
    (``services.purpose``). ``share_hits``: what other orgs learn when its lookups hit their
    values (``domain.events.SHARE_HITS``: named, anonymous, none). The registry's operators set
    any org's; an org's admin its own."""
    if by is not access.ON_SERVER and not roles.administers_every_org(by.role) and not (
            roles.allows(by.role, roles.ADMIN) and by.org == slug):
        raise Forbidden(f"only the registry's operators and {slug}'s admins change {slug}'s settings; "
                        f"you are {by.role} of {by.org}", field="org",
                        details={"needed_role": roles.ADMIN, "role": by.role})
    if require_purpose is None and share_hits is None:
        raise Invalid("give a setting to change: require_purpose or share_hits", field="require_purpose")
    if share_hits is not None and share_hits not in SHARE_HITS:
        raise Invalid(f"share_hits must be one of {', '.join(SHARE_HITS)}, not {share_hits!r}", field="share_hits",
                      details={"allowed": list(SHARE_HITS)})
    with db.write() as conn:
        org = require_org(conn, slug)
        if require_purpose is not None and org.require_purpose != require_purpose:
            org_store.set_require_purpose(conn, org.id, require_purpose)
        if share_hits is not None and org.share_hits != share_hits:
            org_store.set_share_hits(conn, org.id, share_hits)
        return org_store.get(conn, slug)
