"""Suggested links over HTTP (docs/api.md, "Suggested links"): ``GET /api/v1/suggestions?value=V``
for any key; accepting one is ``POST /api/v1/relationships``. The view validates, calls
``services.suggestions``, audits the read and answers JSON."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from registry.domain.roles import READER
from registry.services import suggestions
from registry.services.errors import Invalid, Unparsable
from registry.web.api import MAX_VALUE, _plain_parameters, _region, audit
from registry.web.auth import require
from registry.web.operations import _unparsable

bp = Blueprint("suggestions", __name__, url_prefix="/api/v1")
bp.before_request(_plain_parameters)
bp.register_error_handler(Unparsable, _unparsable)  # 422, as the relationships' ?value= answers


@bp.get("/suggestions")
@require(READER)
def suggested_links():
    value = request.args.get("value")
    if not value:
        raise Invalid("give the value to suggest links for as ?value=…", field="value")
    if len(value) > MAX_VALUE:
        raise Invalid(f"value is at most {MAX_VALUE} characters", field="value")
    found = suggestions.suggest(current_app.extensions["registry.db"], value, g.principal,
                                region=_region(request.args.get("region")),
                                half_lifes=current_app.config["REGISTRY"].half_lifes)
    audit("suggestions-read", {"value": value}, len(found["suggestions"]))
    return jsonify(found)
