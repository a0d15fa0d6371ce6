"""Introspection for operators: /-/health, /-/version, /-/metrics; and the audit log's signed
checkpoints for members: /-/audit/checkpoint, /-/audit/public-key (docs/security.md)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from registry import __version__
from registry.domain.roles import OPERATOR, READER
from registry.services import audit_checkpoints
from registry.services.errors import NotFound
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


@bp.get("/audit/checkpoint")
@require(READER)
def audit_checkpoint():
    # Any member key: members keep checkpoints to hold the log to account. Its seq is an audit
    # row id, counting every org's events together (docs/security.md, "Audit checkpoints").
    checkpoint = audit_checkpoints.latest(current_app.extensions["registry.db"])
    if checkpoint is None:
        raise NotFound("no audit checkpoint has been taken yet: the scheduler takes one every "
                       "REGISTRY_CHECKPOINT_MINUTES, `registry audit checkpoint` on demand")
    return jsonify(checkpoint)


@bp.get("/audit/public-key")
def audit_public_key():
    # Public: a verifying key tells nothing, and members should be able to fetch it anywhere.
    return jsonify(audit_checkpoints.public_key(current_app.config["REGISTRY"].instance_path))
