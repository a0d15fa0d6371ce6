"""Errors a use case raises; the web layer maps ``status`` to HTTP, the CLI to exit status 2. And
``given_text``: the one check of free text a person gives with an act (a dispute's reason, a
lookup's purpose)."""

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


class Unparsable(Invalid):
    """A value given to act on cannot be read as an indicator (the API answers 422, as a
    sighting's or dispute's value does)."""


class NotFound(RegistryError):
    status = 404
    code = "not_found"


class Conflict(RegistryError):
    status = 409
    code = "conflict"


class Forbidden(RegistryError):
    status = 403
    code = "forbidden"


def given_text(value: object, field: str, *, limit: int, label: str | None = None) -> str | None:
    """Free text a person gave, stripped; None when not given or blank. ``Invalid`` naming
    ``field`` (as ``label`` in the message: where the person typed it) when it is not text, is
    longer than ``limit`` characters, or holds a NUL (PostgreSQL text cannot)."""
    if value is None:
        return None
    label = label or field
    if not isinstance(value, str):
        raise Invalid(f"{label} must be text of at most {limit:,} characters, not {type(value).__name__}", field=field)
    value = value.strip()
    if len(value) > limit:
        raise Invalid(f"{label} must be at most {limit:,} characters (got {len(value):,})", field=field)
    if "\x00" in value:
        raise Invalid(f"{label} must not contain NUL characters", field=field)
    return value or None
