"""Errors a use case raises; the web layer maps ``status`` to HTTP, the CLI to exit status 2."""

from __future__ import annotations


class RegistryError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None, details: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details or {}
        if field:
            self.details.setdefault("field", field)


class Invalid(RegistryError):
    status = 400
    code = "invalid"


class NotFound(RegistryError):
    status = 404
    code = "not_found"


class Conflict(RegistryError):
    status = 409
    code = "conflict"


class Forbidden(RegistryError):
    status = 403
    code = "forbidden"
