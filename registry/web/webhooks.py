"""Webhooks over HTTP (docs/api.md, "Webhooks"): ``POST /api/v1/webhooks`` registers one and
answers its secret once, ``GET /api/v1/webhooks`` lists the org's, ``DELETE /api/v1/webhooks/ID``
removes one, ``POST /api/v1/webhooks/ID/enable`` enables a disabled one again,
``GET /api/v1/webhooks/ID/deliveries`` shows its delivery attempts. Contributor or above, for the
key's own org; the views validate, call ``services.webhooks``, audit and answer JSON."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify

from registry.domain.roles import CONTRIBUTOR
from registry.services import webhooks
from registry.web import fields
from registry.web.api import _plain_parameters, audit, json_body
from registry.web.auth import require

bp = Blueprint("webhooks", __name__, url_prefix="/api/v1")
bp.before_request(_plain_parameters)


def _db():
    return current_app.extensions["registry.db"]


def _allow_loopback() -> bool:
    return current_app.config["REGISTRY"].webhook_allow_loopback


def _id(text: str) -> str:
    return fields.text(text, "id", max_len=webhooks.MAX_ID, required=True)


@bp.post("/webhooks")
@require(CONTRIBUTOR)
def register():
    body = json_body()
    made = webhooks.register(_db(), body.get("url"), body.get("watches"), by=g.principal,
                             allow_loopback=_allow_loopback())
    audit("webhook-add", {"id": made["id"], "url": made["url"], "watches": made["watches"]}, 1)
    return jsonify(made), 201


@bp.get("/webhooks")
@require(CONTRIBUTOR)
def list_webhooks():
    rows = webhooks.list_webhooks(_db(), by=g.principal)
    audit("webhooks-read", None, len(rows))
    return jsonify({"webhooks": rows})


@bp.delete("/webhooks/<uid>")
@require(CONTRIBUTOR)
def remove(uid: str):
    gone = webhooks.remove(_db(), _id(uid), by=g.principal)
    audit("webhook-remove", {"id": gone["id"], "url": gone["url"]}, 1)
    return "", 204


@bp.post("/webhooks/<uid>/enable")
@require(CONTRIBUTOR)
def enable(uid: str):
    shown = webhooks.enable(_db(), _id(uid), by=g.principal, allow_loopback=_allow_loopback())
    audit("webhook-enable", {"id": shown["id"], "url": shown["url"], "position": shown["position"]}, 1)
    return jsonify(shown)


@bp.get("/webhooks/<uid>/deliveries")
@require(CONTRIBUTOR)
def deliveries(uid: str):
    limit = fields.query_whole("limit", webhooks.DEFAULT_DELIVERIES, 1, webhooks.MAX_DELIVERIES)
    rows = webhooks.deliveries(_db(), _id(uid), by=g.principal, limit=limit)
    audit("webhook-deliveries-read", {"id": uid}, len(rows))
    return jsonify({"deliveries": rows})
