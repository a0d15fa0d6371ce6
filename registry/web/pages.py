"""What every page of the web UI shares: who is signed in (as the same ``Principal`` an API key
gives, so TLP and roles apply identically), role checks, auditing, HTML errors and headers."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for
from werkzeug.exceptions import HTTPException

from registry.config import Settings
from registry.domain import roles
from registry.services import events, users
from registry.services.errors import Forbidden, RegistryError
from registry.web import session as web_session
from registry.web.auth import Unauthorized

log = logging.getLogger(__name__)

# Pages show data a caller's TLP allows: never cached, never framed, only our own scripts.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def db():
    return current_app.extensions["registry.db"]


def settings() -> Settings:
    """The settings the app was made with (``create_app``)."""
    return current_app.config["REGISTRY"]


def region() -> str | None:
    principal = g.get("principal")
    return (principal.country if principal else None) or settings().default_region


def half_lifes() -> dict[str, float]:
    return settings().half_lifes


def audit(action: str, subject=None, result_count: int | None = None, *, status: int | None = None,
          org: str | None = None, actor: str | None = None) -> None:
    """The same audit row the API writes for the same action (org, actor, client address)."""
    principal = g.get("principal")
    current_app.extensions["registry.audit"].record(
        action,
        org=org or (principal.org if principal else None),
        actor=actor or (principal.actor if principal else None),
        subject=subject,
        result_count=result_count,
        client=request.remote_addr,
        status=status,
    )


def manages_all_orgs() -> bool:
    """Whether the signed-in user is an operator (administers every org): for what pages show;
    what they may do is the services' rule."""
    principal = g.get("principal")
    return principal is not None and roles.administers_every_org(principal.role)


UNREAD_CAP = 100  # the header counts unread alerts up to here and shows "99+" beyond


def unread_alerts() -> int | None:
    """How many alerts the signed-in user has not seen (up to ``UNREAD_CAP``): read once per page,
    when the header asks (docs/web.md, "Alerts"). None when nobody is signed in, or when the count
    could not be read (a page still renders without it)."""
    user = g.get("user")
    if user is None:
        return None
    if "alerts_unread" not in g:
        seen = max(user.alerts_seen, g.get("alerts_seen", 0))  # the Alerts page marks seen first
        try:
            with db().read() as conn:
                g.alerts_unread = events.unread(conn, g.principal.viewer, user.org_id, seen, UNREAD_CAP)
        except Exception:  # the database is away: the page (perhaps the error page) says so itself
            log.exception("counting unread alerts failed")
            g.alerts_unread = None
    return g.alerts_unread


def unread_label() -> str:
    """The header's count: "" for none, "99+" at the cap."""
    count = unread_alerts()
    if not count:
        return ""
    return f"{UNREAD_CAP - 1}+" if count >= UNREAD_CAP else str(count)


def session_check() -> Callable[[], bool]:
    """For a response that outlives its request (the Alerts page's stream): a check that the
    signed-in user's session still holds (not expired, signed out, disabled, nor a new password)
    with the same org and TLP cap."""
    uid, generation, signed_at = session.get("uid"), session.get("gen"), session.get("at")
    hours, database, principal = settings().session_hours, db(), g.principal

    def check() -> bool:
        if web_session.signed_in_too_long(signed_at, hours):
            return False
        row = users.from_session(database, uid, generation)
        return row is not None and row.org == principal.org and row.max_tlp == principal.max_tlp

    return check


def load_user() -> None:
    """``g.user`` and ``g.principal`` from the session. A key sent to a page is not a sign-in."""
    g.principal = None
    g.user = None
    if "uid" not in session:
        return
    hours = settings().session_hours
    row = None if web_session.session_expired(hours) else users.from_session(db(), session.get("uid"),
                                                                             session.get("gen"))
    if row is None:  # expired, signed out, disabled, password changed or user gone: sign out
        session.clear()
        return
    g.user = row
    g.principal = users.principal(row)


def signed_in(role: str = roles.READER):
    """View decorator: a signed-in user whose role is ``role`` or above (else sign-in or 403)."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            principal = g.get("principal")
            if principal is None:
                raise Unauthorized("sign in first")
            if not roles.allows(principal.role, role):
                raise Forbidden(f"this page needs the {role} role; you have {principal.role}",
                                details={"needed_role": role, "role": principal.role})
            return view(*args, **kwargs)

        return wrapper

    return decorate


def can(role: str) -> bool:
    principal = g.get("principal")
    return principal is not None and roles.allows(principal.role, role)


def page(template: str, http_status: int = 200, /, **context):
    return render_template(template, **context), http_status


def install(bp: Blueprint) -> None:
    bp.before_request(load_user)
    bp.before_request(web_session.check_csrf)

    @bp.after_request
    def _headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @bp.app_context_processor
    def _context():
        return {"can": can, "manages_all_orgs": manages_all_orgs, "unread_alerts": unread_alerts,
                "unread_label": unread_label, "unread_cap": UNREAD_CAP}

    @bp.errorhandler(RegistryError)
    def _registry_error(exc: RegistryError):
        if exc.status == 401 and g.get("principal") is None:
            target = request.full_path if request.method == "GET" else request.path
            return redirect(url_for("ui.login", next=target.rstrip("?")))
        return page("error.html", exc.status, status=exc.status, message=exc.message, code=exc.code)

    @bp.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        return page("error.html", status, status=status, message=exc.description or exc.name, code=exc.name)

    @bp.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error on a page")
        return page("error.html", 500, status=500, code="internal_error",
                    message="the server failed to answer; the error is logged")
