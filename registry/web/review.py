"""Review dates over HTTP (docs/api.md, "Review dates"): ``GET /api/v1/review`` lists the caller's
org's assertions falling due (contributors), ``POST /api/v1/assertions/ID/confirm`` confirms one,
moving its review date on. The views validate, call services.review, audit and answer JSON."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from registry.domain import roles
from registry.domain.roles import CONTRIBUTOR
from registry.services import review
from registry.services.errors import Forbidden, Invalid
from registry.web.api import _plain_parameters, audit
from registry.web.auth import require

bp = Blueprint("review_api", __name__, url_prefix="/api/v1")
bp.before_request(_plain_parameters)


def _db():
    return current_app.extensions["registry.db"]


def _sealer():
    return current_app.extensions["registry.sealer"]


def _whole(name: str, default: int, low: int, high: int) -> int:
    text = request.args.get(name)
    if text is None or text == "":
        return default
    if not text.isdecimal() or len(text) > 6 or not low <= int(text) <= high:
        raise Invalid(f"{name} must be a whole number from {low} to {high}", field=name)
    return int(text)


def review_org(principal, asked: str | None) -> str:
    """The org whose review list the caller reads: its own; an operator may name any."""
    if not asked or asked == principal.org:
        return principal.org
    if not roles.administers_every_org(principal.role):
        raise Forbidden(f"you review {principal.org}'s assertions only", field="org")
    return asked


@bp.get("/review")
@require(CONTRIBUTOR)
def review_list():
    principal = g.principal
    org = review_org(principal, request.args.get("org"))
    days = _whole("days", review.DEFAULT_DAYS, 0, review.MAX_DAYS)
    limit = _whole("limit", 1000, 1, review.MAX_LIMIT)
    listing = review.due(_db(), principal.viewer, org, days=days, limit=limit, sealer=_sealer())
    audit("review-read", {"org": org, "days": days}, listing["count"])
    return jsonify(listing)


@bp.post("/assertions/<token>/confirm")
@require(CONTRIBUTOR)
def confirm(token: str):
    done = review.confirm(_db(), g.principal, token, sealer=_sealer(),
                          review_days=current_app.config["REGISTRY"].review_days)
    audit("assertion-confirm", {"value": done["value"], "source": done["source"], "feed": done["feed"],
                                "review_at": done["review_at"]}, 1)
    return jsonify(done)
