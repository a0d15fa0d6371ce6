"""Introspection for operators: /-/health, /-/version, /-/metrics."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from registry import __version__
from registry.web import metrics

bp = Blueprint("meta", __name__, url_prefix="/-")


@bp.get("/health")
def health():
    db = current_app.extensions["registry.db"]
    with db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return jsonify({"status": "ok", "database": db.dialect})


@bp.get("/version")
def version():
    return jsonify({"registry": __version__, "api": "v1"})


@bp.get("/metrics")
def prometheus():
    return metrics.exposition()
