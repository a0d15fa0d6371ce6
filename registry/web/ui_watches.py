"""The watches page (``/watches``, docs/web.md, "Watches"): the signed-in user's org's watches,
a form to add one (a value narrowed by kinds, labels and sources, or a label alone) and a Remove
button on each watch the user may remove. The same service, rules and audit actions as
``/api/v1/watches``."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, request, url_for

from registry.domain.roles import READER
from registry.services import watches
from registry.services.errors import Invalid, RegistryError
from registry.web import session as web_session
from registry.web.pages import audit, db, page, region, signed_in

bp = Blueprint("watches", __name__, url_prefix="/watches")


def _listing(form: dict | None = None, error: str | None = None, status: int = 200):
    org = g.principal.org
    with db().read() as conn:
        rows = watches.list_watches(conn, org)
        orgs = watches.source_orgs(conn)
    audit("watches-read", None, len(rows))
    for w in rows:
        w["removable"] = watches.may_remove(g.principal, w["actor"])
    return page("watches.html", status, watches=rows, orgs=orgs, form=form or {}, error=error,
                limit=watches.MAX_WATCHES)


@bp.get("")
@signed_in(READER)
def watches_page():
    return _listing()


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


@bp.post("")
@signed_in(READER)
def add():
    form = {"value": request.form.get("value", ""), "labels": request.form.get("labels", ""),
            "kinds": request.form.getlist("kinds"), "sources": request.form.getlist("sources")}
    try:
        value = web_session.form_text("value", limit=watches.MAX_VALUE) or None
        labels = _names(web_session.form_text("labels", limit=watches.MAX_LABELS))
        if value is None and len(labels) > 1:
            raise Invalid("a label watch watches one label: give one label, or a value to narrow by labels",
                          field="labels")
        with db().write() as conn:
            added = watches.add(conn, g.principal.org, g.principal.actor, value=value, kinds=form["kinds"],
                                labels=labels if value else (), sources=form["sources"],
                                label=None if value else (labels[0] if labels else None), region=region())
    except RegistryError as exc:
        return _listing(form, f"Not watched: {exc.message}", exc.status)
    audit("watch-add", watches.audit_subject(added.watch, new=added.new), 1)
    what = added.watch["value"] or f"the label {added.watch['label']}"
    flash(f"{'Watching' if added.new else 'Already watching'} {what}.")
    return redirect(url_for("ui.watches.watches_page"))


@bp.post("/<uid>/remove")
@signed_in(READER)
def remove(uid: str):
    with db().write() as conn:
        removed = watches.remove(conn, g.principal.org, uid[: watches.MAX_ID + 1], by=g.principal)
    audit("watch-remove", watches.audit_subject(removed), 1)
    flash(f"No longer watching {removed['value'] or 'the label ' + removed['label']}.")
    return redirect(url_for("ui.watches.watches_page"))
