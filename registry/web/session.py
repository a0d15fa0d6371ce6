"""Sessions for the web page: signed cookies (HttpOnly, SameSite=Lax, Secure over https or as
configured) carrying the user's session generation, a CSRF token per session checked on every
POST; sign-in throttling is ``login_throttle``.

The API never touches the session (it authenticates every request by key), so these cookies
and checks concern the page alone.
"""

from __future__ import annotations

import hmac
import secrets
import time
from datetime import timedelta

from flask import Flask, request, session
from flask.sessions import SecureCookieSessionInterface

from registry.config import Settings
from registry.services.errors import Invalid, RegistryError
from registry.web import login_throttle

COOKIE_NAME = "registry_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


class CsrfRefused(RegistryError):
    status = 403
    code = "csrf"


class _CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions with ``Secure`` decided per request in ``auto`` mode."""

    def __init__(self, secure: str) -> None:
        self.secure = secure

    def get_cookie_secure(self, app: Flask) -> bool:
        if self.secure == "auto":
            return request.is_secure
        return self.secure == "true"


def install(app: Flask, settings: Settings) -> None:
    app.session_interface = _CookieSessions(settings.cookie_secure)
    app.config.update(
        SESSION_COOKIE_NAME=COOKIE_NAME,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours),
        # The cookie's signed timestamp is when it was last written; with no refresh on every
        # request a session ends ``SESSION_HOURS`` after sign-in however busy it is.
        SESSION_REFRESH_EACH_REQUEST=False,
        # Werkzeug keeps form fields to 500 kB by default; a paste of 1,000 long URLs is more.
        MAX_FORM_MEMORY_SIZE=4 * 1024 * 1024,
    )
    login_throttle.install(app, settings)
    app.jinja_env.globals["csrf_token"] = csrf_token


def session_expired(hours: float) -> bool:
    return signed_in_too_long(session.get("at"), hours)


def signed_in_too_long(signed_in, hours: float) -> bool:
    """Whether a session signed in at ``signed_in`` (its ``at``) is older than ``hours``."""
    return not isinstance(signed_in, (int, float)) or time.time() - signed_in > hours * 3600


# -- CSRF ------------------------------------------------------------------------------------
def csrf_token() -> str:
    """This session's token (made on first use), for every form the page renders."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def check_csrf() -> None:
    """Refuse a state-changing request whose token is missing or is not this session's."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    expected = session.get("csrf")
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    if not isinstance(expected, str) or not hmac.compare_digest(expected.encode(), sent.encode()):
        raise CsrfRefused("the form has expired or did not come from this page: reload the page and try again")


def start_session(user_id: int, generation: int) -> None:
    """A fresh session for a user who just signed in (nothing carried over from before). It
    holds while the user's session generation stays ``generation``."""
    session.clear()
    session.permanent = True
    session["uid"] = user_id
    session["gen"] = generation
    session["at"] = int(time.time())
    session["csrf"] = secrets.token_urlsafe(32)


def form_text(name: str, *, limit: int = 4000, required: bool = False, label: str | None = None) -> str:
    """A form field as stripped text; refused when too long, holding NUL, or missing if required."""
    value = (request.form.get(name) or "").strip()
    label = label or name.replace("_", " ")
    if required and not value:
        raise Invalid(f"{label} is required", field=name)
    if len(value) > limit:
        raise Invalid(f"{label} must be at most {limit:,} characters", field=name)
    if "\x00" in value:
        raise Invalid(f"{label} must not contain NUL characters", field=name)
    return value
