"""Admin pages (admin role): organisations, users, API keys and the audit log with its chain
verification. Admins whose cap reaches TLP:RED (the registry's operators) manage every org;
any other admin only its own org's users and keys, and reads only its own org's audit rows —
a key or user minted for another org would read that org's TLP:RED."""

from __future__ import annotations

import orjson
from flask import Blueprint, current_app, flash, g, redirect, request, url_for

from registry.domain import roles
from registry.domain import tlp as tlp_mod
from registry.services import audit as audit_service
from registry.services import keys as key_service
from registry.services import users
from registry.services.errors import Invalid, RegistryError
from registry.services.orgs import add_org
from registry.storage import orgs as org_store
from registry.web import session as web_session
from registry.web.pages import Refused, audit, db, manages_all_orgs, page, signed_in

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _org_in_reach(slug: str) -> str:
    if not manages_all_orgs() and slug != g.principal.org:
        raise Refused(f"you manage org {g.principal.org} only, not {slug}", field="org")
    return slug


def _cap_in_reach(text: str | None) -> str | None:
    """An admin grants at most its own TLP cap (else an org admin capped at AMBER could mint
    itself a key that reads its org's RED)."""
    if not text:
        return None
    try:
        cap = tlp_mod.parse_tlp(text)
    except ValueError as exc:
        raise Invalid(str(exc), field="max_tlp") from None
    if tlp_mod.RANK[cap] > tlp_mod.RANK[g.principal.max_tlp]:
        raise Refused(f"you may grant up to TLP:{g.principal.max_tlp.upper()}, not TLP:{cap.upper()}",
                      field="max_tlp")
    return cap


def _default_cap() -> str:
    """What a new key or user sees when the form says nothing: the usual default, or less."""
    return min(tlp_mod.DEFAULT_MAX_TLP, g.principal.max_tlp, key=tlp_mod.RANK.__getitem__)


def _scope() -> str | None:
    """The org whose rows this admin lists (None: all)."""
    return None if manages_all_orgs() else g.principal.org


def _orgs() -> list:
    with db().read() as conn:
        return org_store.all_orgs(conn)


# -- orgs ------------------------------------------------------------------------------------
@bp.route("/orgs", methods=["GET", "POST"])
@signed_in(roles.ADMIN)
def orgs():
    error, status = None, 200
    if request.method == "POST":
        if not manages_all_orgs():
            raise Refused("only the registry's operators (admins capped at TLP:RED) add organisations")
        try:
            created = add_org(db(), web_session.form_text("slug", limit=64, required=True),
                              web_session.form_text("name", limit=200, required=True),
                              web_session.form_text("country", limit=2) or None)
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
    error, status = None, 200
    if request.method == "POST":
        try:
            org = _org_in_reach(web_session.form_text("org", limit=64, required=True))
            created = users.add_user(
                db(), web_session.form_text("username", limit=64, required=True), org=org,
                role=request.form.get("role") or "", password=request.form.get("password") or "",
                max_tlp=_cap_in_reach(request.form.get("max_tlp")) or _default_cap(),
            )
        except RegistryError as exc:
            error, status = exc.message, exc.status
        else:
            audit("user-add", {"username": created.username, "org": created.org, "role": created.role,
                               "max_tlp": created.max_tlp})
            flash(f"Added user {created.username} ({created.org}, {created.role}, max TLP {created.max_tlp}).")
            return redirect(url_for("ui.admin.users_page"))
    rows = users.list_users(db(), _scope())
    return page("admin_users.html", status, users=rows, orgs=_orgs(), error=error, form=request.form)


@bp.post("/users/<username>/disabled")
@signed_in(roles.ADMIN)
def user_disabled(username: str):
    target = users.get_user(db(), username)
    _org_in_reach(target.org)
    disable = request.form.get("disabled", "1") == "1"
    if disable and target.username == g.principal.actor:
        raise Refused("you cannot disable yourself: ask another admin")
    row = users.set_disabled(db(), target.username, disable)
    audit("user-disable" if disable else "user-enable", {"username": row.username, "org": row.org})
    flash(f"{'Disabled' if disable else 'Enabled'} {row.username}.")
    return redirect(url_for("ui.admin.users_page"))


@bp.post("/users/password")
@signed_in(roles.ADMIN)
def user_password():
    """A new password for a user (forgotten, or perhaps known to someone else): their sessions end."""
    try:
        target = users.get_user(db(), web_session.form_text("username", limit=64, required=True))
        _org_in_reach(target.org)
        row = users.set_password(db(), target.username, request.form.get("password") or "")
    except RegistryError as exc:
        rows = users.list_users(db(), _scope())
        return page("admin_users.html", exc.status, users=rows, orgs=_orgs(), error=exc.message, form={})
    audit("user-password", {"username": row.username, "org": row.org})
    flash(f"New password set for {row.username}; their sessions have ended.")
    return redirect(url_for("ui.admin.users_page"))


# -- keys ------------------------------------------------------------------------------------
@bp.route("/keys", methods=["GET", "POST"])
@signed_in(roles.ADMIN)
def keys():
    error, status, created = None, 200, None
    if request.method == "POST":
        try:
            org = _org_in_reach(web_session.form_text("org", limit=64, required=True))
            created = key_service.create_key(db(), org, request.form.get("role") or "",
                                             _cap_in_reach(request.form.get("max_tlp")) or _default_cap(),
                                             web_session.form_text("name", limit=200) or None)
        except RegistryError as exc:
            error, status = exc.message, exc.status
        else:
            audit("key-create", {"prefix": created["prefix"], "org": org, "role": created["role"],
                                 "max_tlp": created["max_tlp"]})
            status = 201  # the key is in this answer only: no redirect, nothing kept to show it again
    rows = key_service.list_keys(db(), _scope())
    return page("admin_keys.html", status, keys=rows, orgs=_orgs(), created=created, error=error,
                form=request.form if error else {})


@bp.post("/keys/<prefix>/revoke")
@signed_in(roles.ADMIN)
def key_revoke(prefix: str):
    found = next((k for k in key_service.list_keys(db(), _scope()) if k.prefix == prefix), None)
    if found is None:
        raise Refused(f"no key {prefix!r} among the keys you manage")
    row = key_service.revoke_key(db(), prefix)
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
    if scoped:
        args["org"] = g.principal.org  # the API's rule: other orgs' rows name what they looked up
    try:
        listing = audit_service.events(db(), args, scoped=scoped, sealer=current_app.extensions["registry.sealer"])
    except RegistryError as exc:
        return page("admin_audit.html", 400, events=[], next=None, args=args, error=exc.message, verified=None)
    audit("audit-read", args, len(listing["events"]))
    verified = None
    if "cursor" not in args and not scoped:  # the first page says whether the chain holds (and how long it is)
        verified = audit_service.verify(db())
    for event in listing["events"]:
        subject = event["subject"]
        event["subject_text"] = "" if subject is None else orjson.dumps(subject).decode()
    return page("admin_audit.html", events=listing["events"], next=listing["next"], args=args, verified=verified,
                error=None, scoped=scoped, levels=tlp_mod.LEVELS)
