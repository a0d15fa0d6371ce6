"""The review page (``/review``, contributors): the signed-in user's org's assertions whose review
date falls due within some days or has passed, each with a Confirm button. The same service and
audit actions as ``GET /api/v1/review`` and ``POST /api/v1/assertions/ID/confirm``."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, request, url_for

from registry.domain.roles import CONTRIBUTOR
from registry.services import review
from registry.services.errors import Invalid, RegistryError
from registry.web.pages import audit, db, page, settings, signed_in

bp = Blueprint("review", __name__, url_prefix="/review")


def _days() -> int:
    text = (request.args.get("days") or "").strip()
    if not text:
        return review.DEFAULT_DAYS
    if not text.isdecimal() or len(text) > 5 or int(text) > review.MAX_DAYS:
        raise Invalid(f"days must be a whole number from 0 to {review.MAX_DAYS}", field="days")
    return int(text)


@bp.get("/")
@signed_in(CONTRIBUTOR)
def review_page():
    principal = g.principal
    org = principal.org
    try:
        days = _days()
    except RegistryError as exc:
        return page("review.html", 400, listing=None, days=review.DEFAULT_DAYS, error=exc.message)
    listing = review.due(db(), principal.viewer, org, days=days, sealer=current_app.extensions["registry.sealer"])
    audit("review-read", {"org": org, "days": days}, listing["count"])
    return page("review.html", listing=listing, days=days)


@bp.post("/confirm")
@signed_in(CONTRIBUTOR)
def confirm():
    token = request.form.get("id") or ""
    done = review.confirm(db(), g.principal, token, sealer=current_app.extensions["registry.sealer"],
                          review_days=settings().review_days)
    audit("assertion-confirm", review.confirm_subject(done), 1)
    flash(f"Confirmed {done['value']}: next review by {done['review_at'][:10]}.")
    return redirect(url_for("ui.review.review_page", days=request.form.get("days") or None))
