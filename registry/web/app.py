"""The Flask application factory."""

from __future__ import annotations

from flask import Flask

from registry import config
from registry.storage.db import Database


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app. ``overrides`` maps setting names (see registry.config) to values."""
    app = Flask(__name__)
    app.config["REGISTRY"] = dict(overrides or {})
    app.json.sort_keys = False
    app.extensions["registry.db"] = Database(config.database_url(overrides))

    from registry.web import api, errors, meta

    errors.register(app)
    app.register_blueprint(meta.bp)
    app.register_blueprint(api.bp)
    return app
