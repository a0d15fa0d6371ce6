"""The Flask application factory."""

from __future__ import annotations

from flask import Flask

from registry import config
from registry.domain.opaque import Sealer
from registry.services.audit import AuditLog
from registry.services.keys import KeyAuthenticator
from registry.storage.db import Database


class ConfigError(RuntimeError):
    """The app cannot start as configured; the message says what to set."""


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app. ``overrides`` maps setting names (see registry.config) to values."""
    overrides = dict(overrides or {})
    app = Flask(__name__)
    secret = config.secret_key(overrides)
    if not secret:
        if (config.get("ENV", overrides) or "").lower() != "development":
            raise ConfigError(
                "REGISTRY_SECRET_KEY is not set and the instance folder has no secret_key file: "
                "set REGISTRY_SECRET_KEY to a long random string (or run `registry init`, which writes one)"
            )
        secret = "development-only-not-secret"
    app.config.update(
        SECRET_KEY=secret,
        REGISTRY=overrides,
        MAX_CONTENT_LENGTH=int(float(config.get("MAX_BODY_MB", overrides)) * 1024 * 1024),
    )
    mmap_mb = str(config.get("SQLITE_MMAP_MB", overrides) or "0").strip()
    if not mmap_mb.isdigit():
        raise ConfigError(f"REGISTRY_SQLITE_MMAP_MB must be a whole number of MiB (0 for none), not {mmap_mb!r}")
    db = Database(config.database_url(overrides), mmap_bytes=int(mmap_mb) << 20)
    app.extensions["registry.db"] = db
    app.extensions["registry.keys"] = KeyAuthenticator(db)
    app.extensions["registry.sealer"] = Sealer(secret)  # tokens in place of internal numbers
    app.extensions["registry.audit"] = AuditLog(db, flush_interval=float(config.get("AUDIT_FLUSH_SECONDS", overrides)))

    from registry.web import (
        api,
        auth,
        errors,
        exports,
        feeds,
        jsonio,
        limits,
        meta,
        metrics,
        session,
        taxii,
        ui,
    )

    jsonio.install(app)
    errors.register(app)
    metrics.install(app)
    auth.install(app)  # before the limiter: limits are per key
    limits.install(app, overrides)
    session.install(app, overrides)  # after the limiter: login throttling counts in its storage
    app.register_blueprint(meta.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(exports.bp)
    app.register_blueprint(taxii.bp)
    app.register_blueprint(feeds.bp)
    app.register_blueprint(ui.bp)  # the web page at /
    return app
