"""Admin pages (admin role): organisations, users, API keys and the audit log with its chain
verification. What an admin may do is the services' rule (``services.access``): its own org's
users and keys, up to its own TLP cap and role, and its own org's audit rows; an operator
(granted on the server's command line only) administers every org and adds organisations. The
pages list only what the signed-in admin may act on and offer only what it may grant."""

from __future__ import annotations

import orjson
from flask import Blueprint, current_app, flash, g, redirect, request, url_for

from registry.domain import roles
from registry.domain import tlp as tlp_mod
from registry.services import access, users
from registry.services import audit as audit_service
from registry.services import keys as key_service
from registry.services.errors import RegistryError
from registry.services.orgs import add_org
from registry.storage import orgs as org_store
from registry.web import session as web_session
from registry.web.pages import audit, db, manages_all_orgs, page, signed_in

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _orgs() -> list:
    with db().read() as conn:
        return org_store.all_orgs(conn)


def _grantable() -> dict:
    """What the forms offer: the roles and TLP caps this admin may give."""
    cap = tlp_mod.RANK[g.principal.max_tlp]
    return {"grantable_roles": roles.grantable(g.principal), "default_cap": access.default_cap(g.principal),
            "grantable_levels": [level for level in tlp_mod.LEVELS if tlp_mod.RANK[level] <= cap]}


def _users_page(status: int = 200, *, error: str | None = None, form=None):
    rows = users.list_users(db(), by=g.principal)
    return page("admin_users.html", status, users=rows, orgs=_orgs(), error=error,
                form=form if form is not None else {}, **_grantable())


# -- orgs ------------------------------------------------------------------------------------
@bp.route("/orgs", methods=["GET", "POST"])
@signed_in(roles.ADMIN)
def orgs():
    error, status = None, 200
    if request.method == "POST":
        try:
            created = add_org(db(), web_session.form_text("slug", limit=64, required=True),
                              web_session.form_text("name", limit=200, required=True),
                              web_session.form_text("country", limit=2) or None, by=g.principal)
        except RegistryError as exc:
            error, status = exc.message, exc.status
        else:
            audit("org-add", {"slug": created.slug, "name": created.name, "country": created.country})
            flash(f"Added {created.slug} ({created.name}).")
            return redirect(url_for("ui.admin.orgs"))
    return page("admin_orgs.html", status, orgs=_orgs(), error=error, form=request.form)


# -- users -----------------------------------------------------------------------------------
@bp.route("/users", methods=["GET", "POST"])
@signed_in(roles.ADMIN)
def users_page():
    if request.method == "GET":
        return _users_page()
    try:
        created = users.add_user(
            db(), web_session.form_text("username", limit=64, required=True),
            org=web_session.form_text("org", limit=64, required=True),
            role=request.form.get("role") or "", password=request.form.get("password") or "",
            max_tlp=request.form.get("max_tlp") or None, by=g.principal,
        )
    except RegistryError as exc:
        return _users_page(exc.status, error=exc.message, form=request.form)
    audit("user-add", {"username": created.username, "org": created.org, "role": created.role,
                       "max_tlp": created.max_tlp})
    flash(f"Added user {created.username} ({created.org}, {created.role}, max TLP {created.max_tlp}).")
    return redirect(url_for("ui.admin.users_page"))


@bp.post("/users/<username>/disabled")
@signed_in(roles.ADMIN)
def user_disabled(username: str):
    disable = request.form.get("disabled", "1") == "1"
    row = users.set_disabled(db(), username, disable, by=g.principal)
    audit("user-disable" if disable else "user-enable", {"username": row.username, "org": row.org})
    flash(f"{'Disabled' if disable else 'Enabled'} {row.username}.")
    return redirect(url_for("ui.admin.users_page"))


@bp.post("/users/password")
@signed_in(roles.ADMIN)
def user_password():
    """A new password for a user (forgotten, or perhaps known to someone else): their sessions end."""
    try:
        row = users.set_password(db(), web_session.form_text("username", limit=64, required=True),
                                 request.form.get("password") or "", by=g.principal)
    except RegistryError as exc:
        return _users_page(exc.status, error=exc.message)
    audit("user-password", {"username": row.username, "org": row.org})
    flash(f"New password set for {row.username}; their sessions have ended.")
    return redirect(url_for("ui.admin.users_page"))


@bp.post("/users/access")
@signed_in(roles.ADMIN)
def user_access():
    """A new role and TLP cap for a user, within the admin's own."""
    try:
        row = users.set_access(db(), web_session.form_text("username", limit=64, required=True),
                               role=request.form.get("role") or None, max_tlp=request.form.get("max_tlp") or None,
                               by=g.principal)
    except RegistryError as exc:
        return _users_page(exc.status, error=exc.message)
    audit("user-access", {"username": row.username, "org": row.org, "role": row.role, "max_tlp": row.max_tlp})
    flash(f"{row.username} is now {row.role}, max TLP {row.max_tlp}.")
    return redirect(url_for("ui.admin.users_page"))


# -- keys ------------------------------------------------------------------------------------
@bp.route("/keys", methods=["GET", "POST"])
@signed_in(roles.ADMIN)
def keys():
    error, status, created = None, 200, None
    if request.method == "POST":
        try:
            created = key_service.create_key(db(), web_session.form_text("org", limit=64, required=True),
                                             request.form.get("role") or "", request.form.get("max_tlp") or None,
                                             web_session.form_text("name", limit=200) or None, by=g.principal)
        except RegistryError as exc:
            error, status = exc.message, exc.status
        else:
            audit("key-create", {"prefix": created["prefix"], "org": created["org"], "role": created["role"],
                                 "max_tlp": created["max_tlp"]})
            status = 201  # the key is in this answer only: no redirect, nothing kept to show it again
    rows = key_service.list_keys(db(), by=g.principal)
    return page("admin_keys.html", status, keys=rows, orgs=_orgs(), created=created, error=error,
                form=request.form if error else {}, **_grantable())


@bp.post("/keys/<prefix>/revoke")
@signed_in(roles.ADMIN)
def key_revoke(prefix: str):
    row = key_service.revoke_key(db(), prefix, by=g.principal)
    audit("key-revoke", {"prefix": prefix, "org": row.org})
    flash(f"Revoked {prefix} ({row.org}, {row.role}).")
    return redirect(url_for("ui.admin.keys"))


# -- audit log -------------------------------------------------------------------------------
AUDIT_FILTERS = ("org", "action", "actor", "since", "until", "cursor", "limit")


@bp.get("/audit")
@signed_in(roles.ADMIN)
def audit_log():
    args = {name: request.args[name].strip() for name in AUDIT_FILTERS if (request.args.get(name) or "").strip()}
    args.setdefault("limit", "100")
    scoped = not manages_all_orgs()
    try:
        listing, args = audit_service.events_for(db(), args, by=g.principal,
                                                 sealer=current_app.extensions["registry.sealer"])
    except RegistryError as exc:
        return page("admin_audit.html", exc.status, events=[], next=None, args=args, error=exc.message,
                    verified=None, scoped=scoped)
    audit("audit-read", args, len(listing["events"]))
    verified = None
    if "cursor" not in args and not scoped:  # the first page says whether the chain holds (and how long it is)
        verified = audit_service.verify(db())
    for event in listing["events"]:
        subject = event["subject"]
        event["subject_text"] = "" if subject is None else orjson.dumps(subject).decode()
    return page("admin_audit.html", events=listing["events"], next=listing["next"], args=args, verified=verified,
                error=None, scoped=scoped, levels=tlp_mod.LEVELS)

