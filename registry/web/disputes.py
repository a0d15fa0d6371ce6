"""Disputes over HTTP (docs/api.md, "Disputes and delisting"): ``POST /api/v1/disputes`` (any
key), ``GET /api/v1/disputes`` and ``GET /api/v1/disputes/ID`` (what the key may see),
``POST /api/v1/disputes/ID/decision`` (contributor or above, for the key's org's assertions; an
operator's key for any). The views validate, call ``services.disputes``, audit and answer JSON."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from registry.domain import disputes as rules
from registry.domain.roles import CONTRIBUTOR, READER
from registry.services import disputes
from registry.services.errors import Invalid
from registry.web import fields
from registry.web.api import MAX_VALUE, Unprocessable, _plain_parameters, _region, audit, json_body
from registry.web.auth import require

bp = Blueprint("disputes", __name__, url_prefix="/api/v1")
bp.before_request(_plain_parameters)

MAX_ID = 36  # a dispute's id: a UUID


def _db():
    return current_app.extensions["registry.db"]


def _days() -> int:
    return current_app.config["REGISTRY"].dispute_days


def _id(text: str) -> str:
    if len(text) > MAX_ID:
        raise Invalid(f"a dispute id is at most {MAX_ID} characters", field="id")
    return text


@bp.post("/disputes")
@require(READER)
def open_dispute():
    body = json_body()
    value = fields.text(body.get("value"), "value", max_len=MAX_VALUE, required=True)
    reason = fields.text(body.get("reason"), "reason", max_len=disputes.MAX_TEXT, required=True)
    evidence = fields.text(body.get("evidence"), "evidence", max_len=disputes.MAX_TEXT)
    kind, platform = body.get("kind"), body.get("platform")
    try:
        made = disputes.open_dispute(_db(), value, reason=reason, evidence=evidence, by=g.principal,
                                     region=_region(body.get("region")), kind=kind, platform=platform)
    except Invalid as exc:
        if exc.field == "value":  # not a value at all: as a sighting of one answers
            raise Unprocessable(exc.message, field="value") from None
        raise
    audit("dispute", {"id": made["id"], "value": made["value"], "reason": reason, "evidence": evidence}, 1)
    return jsonify(made), 201


@bp.get("/disputes")
@require(READER)
def list_disputes():
    status = request.args.get("status") or None
    rows = disputes.list_disputes(_db(), g.principal, status=status, dispute_days=_days())
    audit("disputes-read", {"status": status}, len(rows))
    return jsonify({"disputes": rows})


@bp.get("/disputes/<uid>")
@require(READER)
def get_dispute(uid: str):
    shown = disputes.get_dispute(_db(), _id(uid), g.principal, dispute_days=_days())
    audit("disputes-read", {"id": shown["id"]}, 1)
    return jsonify(shown)


@bp.post("/disputes/<uid>/decision")
@require(CONTRIBUTOR)
def decide(uid: str):
    uid = _id(uid)
    body = json_body()
    decision = body.get("decision")
    if not isinstance(decision, str) or decision not in rules.DECISIONS:
        raise Invalid(f"decision must be one of {', '.join(rules.DECISIONS)}, not "
                      f"{fields.shown(decision)}", field="decision")
    note = fields.text(body.get("note"), "note", max_len=disputes.MAX_TEXT)
    org = fields.text(body.get("org"), "org", max_len=64)
    shown = disputes.decide(_db(), uid, decision, note, by=g.principal, org=org, dispute_days=_days())
    audit("decision", disputes.decision_subject(shown, decision, note), shown["applied"]["assertions"])
    return jsonify(shown)
