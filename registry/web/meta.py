"""Introspection for operators: /-/health, /-/version, /-/metrics."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from registry import __version__
from registry.domain.roles import OPERATOR
from registry.web import metrics
from registry.web.auth import require

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
@require(OPERATOR)
def prometheus():
    # The counters add up every org's requests (a submission at TLP:RED included): they are for
    # the registry's operators, who read every org's audit rows too.
    return metrics.exposition()
