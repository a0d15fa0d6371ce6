"""The pivot graph over HTTP (docs/api.md, "Graph"): ``GET /api/v1/graph?value=V&depth=1|2``, what
is linked to a value as the key may see it, capped at the size the page draws."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from registry.domain.roles import READER
from registry.services import graph
from registry.services import purpose as why_mod
from registry.services.errors import Invalid
from registry.web.api import Unprocessable, _plain_parameters, _purpose, _region, audit
from registry.web.auth import require

bp = Blueprint("graph", __name__, url_prefix="/api/v1")
bp.before_request(_plain_parameters)

MAX_VALUE = 2048  # characters, as a lookup's value


def audit_subject(value: str, depth: int, why: why_mod.Purpose) -> dict:
    """The graph's audit subject (the API's and the page's): the value and depth, with the purpose
    and case reference when given, as a lookup's."""
    subject = {"value": value, "depth": depth}
    return {"purpose": why.purpose, "case_ref": why.case_ref, **subject} if why else subject


@bp.get("/graph")
@require(READER)
def neighbourhood():
    args = request.args
    value = args.get("value")
    if not value:
        raise Invalid("give the value whose links to show as ?value=…", field="value")
    if len(value) > MAX_VALUE:
        raise Invalid(f"value is at most {MAX_VALUE} characters", field="value")
    depth = graph.depth_of(args.get("depth"))
    region = _region(args.get("region"))
    # The graph shows each node's score: it is a lookup of them, for the same purpose a lookup
    # would need (docs/api.md, "Graph").
    why = _purpose(args)
    try:
        with current_app.extensions["registry.db"].read() as conn:
            answer = graph.neighbourhood(conn, value, g.principal.viewer, depth, region=region,
                                         half_lifes=current_app.config["REGISTRY"].half_lifes)
    except Invalid as exc:
        if exc.field == "value":  # not a value at all: as a sighting or a dispute of one answers
            raise Unprocessable(exc.message, field="value") from None
        raise
    audit("graph", audit_subject(value, depth, why), len(answer["nodes"]))
    return jsonify(answer)
