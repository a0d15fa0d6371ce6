"""The operations pages (docs/web.md, "Operations"): the operations a user may see (searched by
text, status and label), one operation (its members with what the user's own lookup shows,
relationships, notes and activity) with the forms that change it, and the form that makes one;
the forms the lookup result posts (add the ticked values to an operation) and the indicator page
posts (accept a suggested link); the operation's STIX bundle as a download. The same services,
rules and audit actions as ``/api/v1/operations``, ``/api/v1/relationships`` and
``/api/v1/suggestions``."""

from __future__ import annotations

import orjson
from flask import Blueprint, Response, flash, g, redirect, request, url_for

from registry.domain import operations as rules
from registry.domain.paste import MAX_PASTED, split_values
from registry.domain.roles import CONTRIBUTOR, READER, administers_every_org
from registry.services import operation_stix as operation_stix_service
from registry.services import operations, relationships, suggestions
from registry.services.errors import Invalid, RegistryError
from registry.services.submit import clean_labels
from registry.services.taxii import STIX_MEDIA
from registry.web import session as web_session
from registry.web.pages import audit, can, db, half_lifes, page, region, signed_in

bp = Blueprint("operations", __name__)

MAX_VALUE = 2048
MAX_QUERY = 200
LISTED = 200  # operations the list page shows
CHOICES = 100  # of the user's org's open operations offered where values are added


def open_operations() -> list[dict]:
    """The user's org's open operations, newest first: what the lookup result and the indicator
    page offer to add values to (contributors only: nobody else may)."""
    if not can(CONTRIBUTOR):
        return []
    return operations.listing(db(), g.principal, status=rules.OPEN, org=g.principal.org, limit=CHOICES)


def indicator_parts(value: str) -> dict:
    """What the indicator page's "Suggested links" and "Operations" includes show besides the
    answer's own ``operations``: the suggestions for ``value`` (audited as the API audits them;
    none for what is no single value, such as an emergency number) and the open operations the
    user may add it to."""
    try:
        found = suggestions.suggest(db(), value, g.principal, region=region(), half_lifes=half_lifes())
    except RegistryError:
        found = None
    else:
        audit("suggestions-read", {"value": value}, len(found["suggestions"]))
    return {"suggested": found, "open_operations": open_operations()}


def _may_change(shown: dict) -> bool:
    """Whether the page offers the forms that change the operation (the service decides)."""
    principal = g.principal
    return can(CONTRIBUTOR) and (principal.org == shown["org"] or administers_every_org(principal.role))


def _arg(name: str) -> str | None:
    value = (request.args.get(name) or "").strip() or None
    if value is not None and (len(value) > MAX_QUERY or "\x00" in value):
        raise Invalid(f"{name} is at most {MAX_QUERY} characters, without NUL", field=name)
    return value


# -- the list and the form that makes one ------------------------------------------------------
@bp.get("/operations")
@signed_in(READER)
def operations_page():
    text, label, status = _arg("q"), _arg("label"), _arg("status")
    if status is not None and status not in rules.STATUSES:
        raise Invalid(f"status must be one of {', '.join(rules.STATUSES)}", field="status")
    if label is not None:
        label = (clean_labels([label]) or (None,))[0]
    rows = operations.listing(db(), g.principal, text=text, status=status, label=label, limit=LISTED)
    filters = {"text": text, "status": status, "label": label}
    audit("operations-read", {k: v for k, v in filters.items() if v is not None}, len(rows))
    return page("operations.html", operations=rows, q=text or "", status=status or "", label=label or "",
                shown_at_most=LISTED)


@bp.route("/operations/new", methods=["GET", "POST"])
@signed_in(CONTRIBUTOR)
def new_operation():
    if request.method == "GET":
        return page("operation_new.html", form={})
    form = request.form.to_dict()
    try:
        made = operations.create(
            db(), g.principal, name=web_session.form_text("name", limit=rules.MAX_NAME, required=True),
            description=web_session.form_text("description", limit=rules.MAX_TEXT) or None,
            tlp=operations.tlp_field(request.form.get("tlp") or None),
            labels=web_session.form_text("labels", limit=1000).replace(";", ",").split(","))
    except RegistryError as exc:
        return page("operation_new.html", 400, form=form, error=exc.message)
    audit("operation-create", {"id": made["id"], "name": made["name"], "org": made["org"], "tlp": made["tlp"]}, 1)
    flash(f"Made the operation {made['name']}: add its values below, or from a lookup's result.")
    return redirect(url_for("ui.operations.operation", uid=made["id"]))


# -- one operation -----------------------------------------------------------------------------
@bp.get("/operations/<uid>")
@signed_in(READER)
def operation(uid: str):
    shown = operations.show(db(), uid, g.principal, half_lifes=half_lifes())
    audit("operations-read", {"id": shown["id"], "values": [m["value"] for m in shown["members"]]}, 1)
    return page("operation.html", op=shown, may_change=_may_change(shown))


@bp.get("/operations/<uid>/stix")
@signed_in(READER)
def operation_stix(uid: str):
    """The page's Export STIX: the bundle ``GET /api/v1/operations/ID/stix`` answers a key, here
    for the signed-in user (a page sends no key), as a download; audited as the API's."""
    with db().read() as conn:
        bundle = operation_stix_service.operation_bundle(conn, uid, g.principal)
    audit("operation-export", {"id": uid, "format": "stix"}, len(bundle["objects"]))
    return Response(orjson.dumps(bundle, option=orjson.OPT_INDENT_2), mimetype=STIX_MEDIA,
                    headers={"Content-Disposition": f'attachment; filename="operation-{uid}.stix.json"'})


def _back(uid: str, message: str):
    flash(message)
    return redirect(url_for("ui.operations.operation", uid=uid))


@bp.post("/operations/members")
@signed_in(CONTRIBUTOR)
def add_members():
    """Values ticked on a lookup's result (``value``, several) or typed on the operation's page
    (``values``, one a line), added to the operation chosen (``operation``)."""
    uid = (request.form.get("operation") or "").strip()
    if not uid:
        raise Invalid("choose the operation to add the values to", field="operation")
    try:
        typed, _ = split_values(web_session.form_text("values", limit=MAX_PASTED * MAX_VALUE))
        values = [v.strip() for v in request.form.getlist("value") if v.strip()] + typed
        if not values:
            raise Invalid("tick or type at least one value", field="values")
        if any(len(v) > MAX_VALUE or "\x00" in v for v in values):
            raise Invalid(f"a value is longer than {MAX_VALUE} characters or holds NUL", field="values")
        result = operations.add_values(db(), uid, values, g.principal, region=region())
    except RegistryError as exc:
        if exc.status == 404:
            raise
        return _back(uid, f"Not added: {exc.message}")
    audit("operation-add", {"id": uid, "added": result["added"], "rejected": [r["value"] for r in result["rejected"]]},
          len(result["added"]))
    said = [f"Added {len(result['added'])} value{'' if len(result['added']) == 1 else 's'}"]
    if result["already"]:
        said.append(f"{len(result['already'])} already in it")
    said += [f"not read: {r['value']} ({r['error']})" for r in result["rejected"]]
    return _back(uid, "; ".join(said) + ".")


@bp.post("/operations/<uid>/remove")
@signed_in(CONTRIBUTOR)
def remove_member(uid: str):
    value = (request.form.get("value") or "").strip()[:MAX_VALUE]
    try:
        operations.remove_value(db(), uid, value, g.principal, region=region())
    except RegistryError as exc:
        if exc.status == 404 and exc.field == "id":
            raise
        return _back(uid, f"Not removed: {exc.message}")
    audit("operation-remove", {"id": uid, "value": value}, 1)
    return _back(uid, f"Removed {value}.")


@bp.post("/operations/<uid>/status")
@signed_in(CONTRIBUTOR)
def set_status(uid: str):
    status = request.form.get("status") or ""
    try:
        shown = operations.set_status(db(), uid, status, g.principal)
    except RegistryError as exc:
        if exc.status == 404:
            raise
        return _back(uid, f"Not changed: {exc.message}")
    audit("operation-status", {"id": uid, "status": status}, 1)
    return _back(uid, "Closed." if shown["status"] == rules.CLOSED else "Reopened.")


@bp.post("/operations/<uid>/notes")
@signed_in(CONTRIBUTOR)
def add_note(uid: str):
    try:
        note = operations.add_note(db(), uid, web_session.form_text("text", limit=rules.MAX_TEXT, label="the note"),
                                   g.principal)
    except RegistryError as exc:
        if exc.status == 404:
            raise
        return _back(uid, f"Not noted: {exc.message}")
    audit("operation-note", {"id": uid, "text": note["text"]}, 1)
    return _back(uid, "Noted.")


# -- accepting a suggested link ----------------------------------------------------------------
@bp.post("/relationships")
@signed_in(CONTRIBUTOR)
def accept_suggestion():
    """The indicator page's Accept: states the suggested link as the user's org, with why it was
    suggested as its description, and goes back to the page (``value``)."""
    back = (request.form.get("value") or "").strip()[:MAX_VALUE]
    try:
        made = relationships.link(
            db(), g.principal, web_session.form_text("source", limit=MAX_VALUE, required=True),
            web_session.form_text("target", limit=MAX_VALUE, required=True),
            web_session.form_text("type", limit=40, required=True),
            tlp=operations.tlp_field(request.form.get("tlp") or None),
            description=web_session.form_text("why", limit=rules.MAX_TEXT) or None, region=region())
    except RegistryError as exc:
        flash(f"Not linked: {exc.message}")
        return redirect(url_for("ui.indicator", value=back))
    audit("relationship-link", {k: made[k] for k in ("id", "status", "source", "target", "type", "tlp")}, 1)
    flash(f"Linked: {made['source']} {made['type']} {made['target']} (TLP:{made['tlp'].upper()}, as {made['org']}).")
    return redirect(url_for("ui.indicator", value=back))
