"""Watches over HTTP (docs/api.md, "Watches"): ``POST /api/v1/watches`` (any key of the org: 201
with the new watch, 200 with the one the org has when it is the same), ``GET /api/v1/watches``
(the key's org's), ``DELETE /api/v1/watches/ID`` (204; contributor or above, a reader its own).
The views validate, call ``services.watches``, audit and answer JSON."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify

from registry.domain.roles import READER
from registry.services import watches
from registry.services.errors import Invalid
from registry.web import fields
from registry.web.api import _plain_parameters, _region, audit, json_body
from registry.web.auth import require

bp = Blueprint("watches", __name__, url_prefix="/api/v1")
bp.before_request(_plain_parameters)

FIELDS = ("value", "label", "kinds", "labels", "sources")
_EXAMPLES = {"kinds": "url", "labels": "call-centre-scam", "sources": "ccib-th"}


def _db():
    return current_app.extensions["registry.db"]


def _names(body: dict, name: str) -> list[str]:
    value = body.get(name)
    return [] if value is None else fields.strings(value, name, example=_EXAMPLES[name], at_least_one=False)


@bp.post("/watches")
@require(READER)
def add_watch():
    body = json_body()
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:  # a mistyped "source" would otherwise make a wider watch than meant
        raise Invalid(f"unknown field {unknown[0]!r}: a watch takes {', '.join(FIELDS)}", field=unknown[0])
    value = fields.text(body.get("value"), "value", max_len=watches.MAX_VALUE)
    label = fields.text(body.get("label"), "label", max_len=watches.MAX_LABEL)
    kinds, labels, sources = (_names(body, name) for name in ("kinds", "labels", "sources"))
    principal = g.principal
    with _db().write() as conn:
        added = watches.add(conn, principal.org, principal.actor, value=value, label=label, kinds=kinds,
                            labels=labels, sources=sources, region=_region(None))
    audit("watch-add", watches.audit_subject(added.watch, new=added.new), 1)
    return jsonify(added.watch), 201 if added.new else 200


@bp.get("/watches")
@require(READER)
def list_watches():
    with _db().read() as conn:
        rows = watches.list_watches(conn, g.principal.org)
    audit("watches-read", None, len(rows))
    return jsonify({"watches": rows})


@bp.delete("/watches/<uid>")
@require(READER)
def remove_watch(uid: str):
    if len(uid) > watches.MAX_ID:
        raise Invalid(f"a watch id is at most {watches.MAX_ID} characters", field="id")
    with _db().write() as conn:
        removed = watches.remove(conn, g.principal.org, uid, by=g.principal)
    audit("watch-remove", watches.audit_subject(removed), 1)
    return current_app.response_class(status=204)
