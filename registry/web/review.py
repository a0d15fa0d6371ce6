"""Review dates over HTTP (docs/api.md, "Review dates"): ``GET /api/v1/review`` lists the caller's
org's assertions falling due (contributors), ``POST /api/v1/assertions/ID/confirm`` confirms one,
moving its review date on. The views validate, call services.review, audit and answer JSON. (An
operator lists another org's with ``registry review --org``.)"""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify

from registry.domain.roles import CONTRIBUTOR
from registry.services import review
from registry.services.errors import Invalid
from registry.web import fields
from registry.web.api import _plain_parameters, audit, sealer
from registry.web.auth import require

bp = Blueprint("review_api", __name__, url_prefix="/api/v1")
bp.before_request(_plain_parameters)


def _db():
    return current_app.extensions["registry.db"]


@bp.get("/review")
@require(CONTRIBUTOR)
def review_list():
    principal = g.principal
    org = principal.org
    days = fields.query_whole("days", review.DEFAULT_DAYS, 0, review.MAX_DAYS)
    limit = fields.query_whole("limit", 1000, 1, review.MAX_LIMIT)
    listing = review.due(_db(), principal.viewer, org, days=days, limit=limit, sealer=sealer())
    audit("review-read", {"org": org, "days": days}, listing["count"])
    return jsonify(listing)


@bp.post("/assertions/<token>/confirm")
@require(CONTRIBUTOR)
def confirm(token: str):
    if not review.TOKEN.fullmatch(token):
        raise Invalid("the id must be an assertion's id as a review listing gives it", field="id")
    done = review.confirm(_db(), g.principal, token, sealer=sealer(),
                          review_days=current_app.config["REGISTRY"].review_days)
    audit("assertion-confirm", review.confirm_subject(done), 1)
    return jsonify(done)
