"""Operations and relationships over HTTP (docs/api.md, "Operations" and "Relationships"): any
key lists and reads what it may see; a contributor (or above) of the owner org changes an
operation and states or removes its org's relationships. The views validate, call
``services.operations`` / ``services.relationships``, audit every read and write, and answer
JSON. An operation or relationship the key may not see answers 404, as an unknown id does."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from registry.domain import operations as rules
from registry.domain.kinds import KINDS
from registry.domain.roles import CONTRIBUTOR, READER
from registry.services import operations, relationships
from registry.services.errors import Invalid, Unparsable
from registry.web import fields
from registry.web.api import MAX_VALUE, Unprocessable, _plain_parameters, _region, audit, json_body
from registry.web.auth import require
from registry.web.errors import error_response

bp = Blueprint("operations", __name__, url_prefix="/api/v1")
bp.before_request(_plain_parameters)


@bp.errorhandler(Unparsable)
def _unparsable(exc: Unparsable):
    """A value to act on that is not an indicator: 422, as a sighting's or a dispute's."""
    return error_response(Unprocessable.status, Unprocessable.code, exc.message, exc.details)


MAX_ID = 36  # an operation's or relationship's id: a UUID
MAX_ORG = 64
MAX_QUERY = 200


def _db():
    return current_app.extensions["registry.db"]


def _id(text: str, what: str) -> str:
    if len(text) > MAX_ID:
        raise Invalid(f"{what} id is at most {MAX_ID} characters", field="id")
    return text


def _limit(default: int, high: int) -> int:
    raw = request.args.get("limit")
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 6 or not 1 <= int(raw) <= high:
        raise Invalid(f"limit must be a whole number from 1 to {high}, not {raw[:40]!r}", field="limit")
    return int(raw)


def _arg(name: str, max_len: int) -> str | None:
    value = request.args.get(name) or None
    if value is not None and len(value) > max_len:
        raise Invalid(f"{name} is at most {max_len} characters", field=name)
    return value


# -- operations -----------------------------------------------------------------------------
@bp.post("/operations")
@require(CONTRIBUTOR)
def create_operation():
    body = json_body()
    name = fields.text(body.get("name"), "name", max_len=rules.MAX_NAME, required=True)
    description = fields.text(body.get("description"), "description", max_len=rules.MAX_TEXT)
    tlp = fields.tlp(body.get("tlp"), "tlp")
    labels = body.get("labels")
    labels = [] if labels is None else fields.strings(labels, "labels", example="call-centre-scam", at_least_one=False)
    made = operations.create(_db(), g.principal, name=name, description=description, tlp=tlp, labels=labels)
    audit("operation-create", {"id": made["id"], "name": made["name"], "org": made["org"], "tlp": made["tlp"]}, 1)
    return jsonify(made), 201


@bp.get("/operations")
@require(READER)
def list_operations():
    args = request.args
    status = args.get("status") or None
    if status is not None and status not in rules.STATUSES:
        raise Invalid(f"status must be one of {', '.join(rules.STATUSES)}, not {status[:40]!r}", field="status")
    filters = {"text": _arg("q", MAX_QUERY), "status": status, "label": _arg("label", MAX_QUERY),
               "org": _arg("org", MAX_ORG), "value": _arg("value", MAX_VALUE)}
    rows = operations.listing(_db(), g.principal, **filters, region=_region(args.get("region")),
                              limit=_limit(100, operations.MAX_LIST))
    audit("operations-read", {k: v for k, v in filters.items() if v is not None}, len(rows))
    return jsonify({"operations": rows})


@bp.get("/operations/<uid>")
@require(READER)
def get_operation(uid: str):
    shown = operations.show(_db(), _id(uid, "an operation"), g.principal,
                            half_lifes=current_app.config["REGISTRY"].half_lifes)
    audit("operations-read", {"id": shown["id"], "values": [m["value"] for m in shown["members"]]}, 1)
    return jsonify(shown)


@bp.post("/operations/<uid>/indicators")
@require(CONTRIBUTOR)
def add_indicators(uid: str):
    uid = _id(uid, "an operation")
    body = json_body()
    values = fields.strings(body.get("values"), "values", example="+855971234567")
    if len(values) > rules.MAX_MEMBERS_PER_REQUEST:
        raise Invalid(f"at most {rules.MAX_MEMBERS_PER_REQUEST} values at once; got {len(values)}", field="values")
    for i, value in enumerate(values):
        fields.text(value, f"values[{i}]", max_len=MAX_VALUE, required=True)
    kind = body.get("kind")
    if kind is not None and (not isinstance(kind, str) or kind not in KINDS):
        raise Invalid(f"kind must be one of {', '.join(KINDS)}, not {fields.shown(kind)}", field="kind",
                      details={"allowed": list(KINDS)})
    result = operations.add_values(_db(), uid, values, g.principal, region=_region(body.get("region")), kind=kind)
    audit("operation-add", {"id": uid, "added": result["added"], "rejected": [r["value"] for r in result["rejected"]]},
          len(result["added"]))
    return jsonify(result)


@bp.delete("/operations/<uid>/indicators/<path:value>")
@require(CONTRIBUTOR)
def remove_indicator(uid: str, value: str):
    uid = _id(uid, "an operation")
    fields.text(value, "value", max_len=MAX_VALUE, required=True)
    operations.remove_value(_db(), uid, value, g.principal, region=_region(request.args.get("region")))
    audit("operation-remove", {"id": uid, "value": value}, 1)
    return "", 204


def _status(uid: str, status: str):
    uid = _id(uid, "an operation")
    shown = operations.set_status(_db(), uid, status, g.principal)
    audit("operation-status", {"id": uid, "status": status}, 1)
    return jsonify(shown)


@bp.post("/operations/<uid>/close")
@require(CONTRIBUTOR)
def close_operation(uid: str):
    return _status(uid, rules.CLOSED)


@bp.post("/operations/<uid>/reopen")
@require(CONTRIBUTOR)
def reopen_operation(uid: str):
    return _status(uid, rules.OPEN)


@bp.post("/operations/<uid>/notes")
@require(CONTRIBUTOR)
def add_note(uid: str):
    uid = _id(uid, "an operation")
    body = json_body()
    text = fields.text(body.get("text"), "text", max_len=rules.MAX_TEXT, required=True)
    note = operations.add_note(_db(), uid, text, g.principal)
    audit("operation-note", {"id": uid, "text": note["text"]}, 1)
    return jsonify(note), 201


# -- relationships --------------------------------------------------------------------------
@bp.post("/relationships")
@require(CONTRIBUTOR)
def link():
    body = json_body()
    source = fields.text(body.get("source"), "source", max_len=MAX_VALUE, required=True)
    target = fields.text(body.get("target"), "target", max_len=MAX_VALUE, required=True)
    type_ = fields.text(body.get("type"), "type", max_len=40, required=True)
    made = relationships.link(
        _db(), g.principal, source, target, type_, tlp=fields.tlp(body.get("tlp"), "tlp"),
        confidence=fields.whole(body.get("confidence"), "confidence", 0, 100),
        description=fields.text(body.get("description"), "description", max_len=rules.MAX_TEXT),
        region=_region(body.get("region")))
    audit("relationship-link", {k: made[k] for k in ("id", "status", "source", "target", "type", "tlp")}, 1)
    return jsonify(made), 201 if made["status"] == relationships.NEW else 200


@bp.get("/relationships")
@require(READER)
def list_relationships():
    value = request.args.get("value")
    if not value:
        raise Invalid("give the value whose relationships to list as ?value=…", field="value")
    if len(value) > MAX_VALUE:
        raise Invalid(f"value is at most {MAX_VALUE} characters", field="value")
    rows = relationships.of_value(_db(), value, g.principal, region=_region(request.args.get("region")),
                                  limit=_limit(100, relationships.MAX_LISTED))
    audit("relationships-read", {"value": value}, len(rows))
    return jsonify({"relationships": rows})


@bp.delete("/relationships/<uid>")
@require(CONTRIBUTOR)
def unlink(uid: str):
    uid = _id(uid, "a relationship")
    relationships.unlink(_db(), uid, g.principal)
    audit("relationship-unlink", {"id": uid}, 1)
    return "", 204
