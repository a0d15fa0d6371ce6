"""The Flask application factory."""

from __future__ import annotations

from flask import Flask

from registry.config import Settings
from registry.config import load as load_settings
from registry.domain.opaque import Sealer
from registry.services.audit import AuditLog
from registry.services.hits import HitLog
from registry.services.keys import KeyAuthenticator
from registry.storage.db import Database


class ConfigError(RuntimeError):
    """The app cannot start as configured; the message says what to set."""


def create_app(config: Settings | dict | None = None) -> Flask:
    """Build the app from ``config``: loaded settings, or setting names (registry.config)
    mapped to values that take the place of the environment's. A bad value raises
    ``SettingError`` here, before anything is served."""
    settings = config if isinstance(config, Settings) else load_settings(config)
    app = Flask(__name__)
    secret = settings.resolved_secret_key()
    if not secret:
        if not settings.development:
            raise ConfigError(
                "REGISTRY_SECRET_KEY is not set and the instance folder has no secret_key file: "
                "set REGISTRY_SECRET_KEY to a long random string (or run `registry init`, which writes one)"
            )
        secret = "development-only-not-secret"
    app.config.update(
        SECRET_KEY=secret,
        REGISTRY=settings,  # what request handlers read (web.pages.settings)
        MAX_CONTENT_LENGTH=int(settings.max_body_mb * 1024 * 1024),
    )
    db = Database(settings.database_url, mmap_bytes=settings.sqlite_mmap_mb << 20)
    app.extensions["registry.db"] = db
    app.extensions["registry.keys"] = KeyAuthenticator(db)
    app.extensions["registry.sealer"] = Sealer(secret)  # tokens in place of internal numbers
    app.extensions["registry.audit"] = AuditLog(db, flush_interval=settings.audit_flush_seconds)
    # Lookups that hit another org's values, tallied off the request's path (services.hits).
    app.extensions["registry.hits"] = HitLog(db, flush_interval=settings.audit_flush_seconds)

    from registry.web import (
        api,
        auth,
        disputes,
        errors,
        events,
        exports,
        feeds,
        graph,
        jsonio,
        limits,
        meta,
        metrics,
        operation_exports,
        operations,
        review,
        session,
        suggestions,
        taxii,
        ui,
        watches,
        webhooks,
    )

    jsonio.install(app)
    errors.register(app)
    metrics.install(app)
    auth.install(app)  # before the limiter: limits are per key
    limits.install(app, settings)
    session.install(app, settings)  # after the limiter: login throttling counts in its storage
    app.register_blueprint(meta.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(exports.bp)
    app.register_blueprint(taxii.bp)
    app.register_blueprint(feeds.bp)
    app.register_blueprint(review.bp)
    app.register_blueprint(disputes.bp)
    app.register_blueprint(events.bp)
    app.register_blueprint(operations.bp)
    app.register_blueprint(suggestions.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(watches.bp)
    app.register_blueprint(operation_exports.bp)
    app.register_blueprint(graph.bp)
    app.register_blueprint(ui.bp)  # the web page at /
    return app
