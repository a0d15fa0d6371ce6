"""An operation handed to a partner in one piece (docs/api.md, "Operations: STIX and MISP"):
``GET /api/v1/operations/ID/stix`` (a STIX 2.1 bundle: ``services.operation_stix``) and
``GET /api/v1/operations/ID/misp`` (a MISP event: ``services.operation_misp``), reader role,
404 for an operation the key may not see as for an unknown id. Both audited."""

from __future__ import annotations

import orjson
from flask import Blueprint, Response, current_app, g

from registry.domain.roles import READER
from registry.domain.times import utcnow
from registry.services import operation_misp, operation_stix
from registry.services.errors import Invalid
from registry.services.taxii import STIX_MEDIA
from registry.web.api import _plain_parameters, audit
from registry.web.auth import require

bp = Blueprint("operation_exports", __name__, url_prefix="/api/v1/operations")
bp.before_request(_plain_parameters)

MAX_ID = 36  # an operation's id: a UUID


def _db():
    return current_app.extensions["registry.db"]


def _id(text: str) -> str:
    if len(text) > MAX_ID:
        raise Invalid(f"an operation id is at most {MAX_ID} characters", field="id")
    return text


def _answer(body: bytes, mimetype: str, filename: str) -> Response:
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'inline; filename="{filename}"',
                                                      "Cache-Control": "private, no-cache"})


@bp.get("/<uid>/stix")
@require(READER)
def operation_stix_bundle(uid: str):
    with _db().read() as conn:
        bundle = operation_stix.operation_bundle(conn, _id(uid), g.principal)
    audit("operation-export", {"id": uid, "format": "stix"}, len(bundle["objects"]))
    return _answer(orjson.dumps(bundle), STIX_MEDIA, f"operation-{uid}.json")


@bp.get("/<uid>/misp")
@require(READER)
def operation_misp_event(uid: str):
    with _db().read() as conn:
        event = operation_misp.operation_event(conn, _id(uid), g.principal, now=utcnow())
    audit("operation-export", {"id": uid, "format": "misp"}, None)
    return _answer(event, "application/json", f"operation-{uid}.misp.json")
