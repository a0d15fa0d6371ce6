"""One JSON error shape for every failure: ``{"error": {"code", "message", "details"}}``; and the
HTTP errors more than one blueprint raises (the services raise ``registry.services.errors``)."""

from __future__ import annotations

import logging

from flask import Flask, current_app, jsonify
from werkzeug.exceptions import HTTPException

from registry.services.errors import RegistryError

log = logging.getLogger(__name__)


class UnsupportedMediaType(RegistryError):
    """A body in a media type the endpoint does not read (the API's and TAXII's)."""
    status = 415
    code = "unsupported_media_type"


def error_response(status: int, code: str, message: str, details: dict | None = None):
    response = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    response.status_code = status
    return response


def register(app: Flask) -> None:
    @app.errorhandler(RegistryError)
    def _registry_error(exc: RegistryError):
        response = error_response(exc.status, exc.code, exc.message, exc.details)
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="registry"'
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        message, details = exc.description or exc.name, None
        if exc.code == 413:
            limit = current_app.config.get("MAX_CONTENT_LENGTH")
            message = f"the request body is larger than this server accepts ({limit} bytes: REGISTRY_MAX_BODY_MB)"
            details = {"limit_bytes": limit}
        response = error_response(exc.code or 500, code, message, details)
        if exc.code == 405 and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        # Never a stack trace to a client; the log keeps it.
        log.exception("unhandled error")
        return error_response(500, "internal_error", "the server failed to answer; the error is logged")
