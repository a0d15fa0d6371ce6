"""Who is calling: ``Authorization: Bearer KEY`` (and HTTP Basic with the key as password, for
TAXII clients). Resolved once per request, before rate limiting, into ``g.principal``."""

from __future__ import annotations

import base64
import functools

from flask import Flask, current_app, g, request

from registry.domain import roles
from registry.services.errors import Forbidden, RegistryError

__all__ = ["Forbidden", "Unauthorized", "install", "load_principal", "presented_key", "require"]


class Unauthorized(RegistryError):
    status = 401
    code = "unauthorized"


def presented_key() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer":
        return credentials.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            raise Unauthorized("malformed HTTP Basic credentials") from None
        return decoded.partition(":")[2]
    if header:
        raise Unauthorized("use `Authorization: Bearer <API key>`")
    return None


def load_principal() -> None:
    g.principal = None
    key = presented_key()
    if key is None:
        return
    principal = current_app.extensions["registry.keys"].authenticate(key)
    if principal is None:
        raise Unauthorized("the API key is unknown or revoked")
    g.principal = principal


def require(role: str):
    """View decorator: a valid key whose role is ``role`` or above."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            principal = g.get("principal")
            if principal is None:
                raise Unauthorized("this needs an API key: send `Authorization: Bearer <key>`")
            if not roles.allows(principal.role, role):
                raise Forbidden(
                    f"this needs the {role} role; your key has {principal.role}",
                    details={"needed_role": role, "role": principal.role},
                )
            return view(*args, **kwargs)

        return wrapper

    return decorate


def install(app: Flask) -> None:
    app.before_request(load_principal)
