"""The disputes pages (docs/web.md, "Disputes"): the list of disputes a user may see, one
dispute with its decisions and, for its sources (contributor or above) and operators, the
decision form; the indicator page's dispute form posts here. The same service, rules and audit
actions as ``/api/v1/disputes``."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, request, url_for

from registry.domain import disputes as rules
from registry.domain.roles import CONTRIBUTOR, READER
from registry.services import disputes
from registry.services.errors import Invalid, RegistryError
from registry.web import session as web_session
from registry.web.pages import audit, can, db, manages_all_orgs, page, region, settings, signed_in

bp = Blueprint("disputes", __name__, url_prefix="/disputes")

MAX_VALUE = 2048


def _days() -> int:
    return settings().dispute_days


@bp.get("")
@signed_in(READER)
def disputes_page():
    status = request.args.get("status", rules.OPEN)
    if status not in rules.STATUSES:
        raise Invalid(f"status must be one of {', '.join(rules.STATUSES)}", field="status")
    rows = disputes.list_disputes(db(), g.principal, status=status, dispute_days=_days())
    audit("disputes-read", {"status": status}, len(rows))
    return page("disputes.html", disputes=rows, status=status, dispute_days=_days())


@bp.post("")
@signed_in(READER)
def open_dispute():
    """The indicator page's form: back to the page, which now shows the dispute (or why not)."""
    value = (request.form.get("value") or "").strip()[:MAX_VALUE]
    try:
        reason = web_session.form_text("reason", limit=disputes.MAX_TEXT, required=True)
        evidence = web_session.form_text("evidence", limit=disputes.MAX_TEXT) or None
        made = disputes.open_dispute(db(), value, reason=reason, evidence=evidence, by=g.principal, region=region())
    except RegistryError as exc:
        flash(f"Not disputed: {exc.message}")
        return redirect(url_for("ui.indicator", value=value))
    audit("dispute", {"id": made["id"], "value": made["value"], "reason": reason, "evidence": evidence}, 1)
    flash(f"Disputed {made['value']}: each agency that reports it decides for its own report.")
    return redirect(url_for("ui.indicator", value=made["value"]))


@bp.get("/<uid>")
@signed_in(READER)
def dispute(uid: str):
    shown = disputes.get_dispute(db(), uid[:64], g.principal, dispute_days=_days())
    audit("disputes-read", {"id": shown["id"]}, 1)
    principal = g.principal
    operator = manages_all_orgs()
    may_decide = shown["status"] == rules.OPEN and (operator or (principal.org in shown["awaiting"] and can(CONTRIBUTOR)))
    return page("dispute.html", d=shown, may_decide=may_decide, operator=operator)


@bp.post("/<uid>/decision")
@signed_in(CONTRIBUTOR)
def decide(uid: str):
    uid = uid[:64]
    decision = request.form.get("decision") or ""
    org = (request.form.get("org") or "").strip() or None
    try:
        note = web_session.form_text("note", limit=disputes.MAX_TEXT) or None
        shown = disputes.decide(db(), uid, decision, note, by=g.principal, org=org, dispute_days=_days())
    except RegistryError as exc:
        if exc.status == 404:
            raise
        flash(f"Not decided: {exc.message}")
        return redirect(url_for("ui.disputes.dispute", uid=uid))
    applied = shown["applied"]
    audit("decision", disputes.decision_subject(shown, decision, note), applied["assertions"])
    done = "Delisted" if decision == rules.DELIST else "Upheld"
    flash(f"{done} for {', '.join(applied['orgs'])}{'; the dispute is closed' if shown['status'] == rules.CLOSED else ''}.")
    return redirect(url_for("ui.disputes.dispute", uid=uid))
