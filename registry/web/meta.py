"""Introspection for operators: /-/health, /-/version, /-/metrics."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify
from sqlalchemy import text

from registry import __version__
from registry.domain.roles import ADMIN
from registry.domain.tlp import RED
from registry.web import metrics
from registry.web.auth import Forbidden, require

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
@require(ADMIN)
def prometheus():
    # The counters add up every org's requests (a submission at TLP:RED included): they are for
    # the registry's operators, whose keys see every org's audit rows too.
    if g.principal.max_tlp != RED:
        raise Forbidden("metrics count every org's requests: they need an admin key capped at red (the "
                        "registry's operators)", details={"needed_max_tlp": RED, "max_tlp": g.principal.max_tlp})
    return metrics.exposition()
