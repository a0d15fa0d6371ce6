"""The analysts' web page at ``/``: sign-in, lookup (the home page), an indicator's history and
STIX, submitting indicators and sightings. Admin and feed pages are nested blueprints
(``ui_admin``, ``ui_feeds``). Every view: check the signed-in user's role, validate the form into
plain values, call the same service the API calls, audit as the API does, render."""

from __future__ import annotations

import re
import time
from typing import NamedTuple
from urllib.parse import urlsplit

import orjson
from flask import Blueprint, Response, current_app, g, redirect, request, session, url_for

from registry import __version__
from registry.domain import grading, standing
from registry.domain import tlp as tlp_mod
from registry.domain.kinds import KINDS
from registry.domain.normalize.account_rules import PLATFORMS
from registry.domain.paste import MAX_PASTED, split_values
from registry.domain.roles import CONTRIBUTOR, READER
from registry.domain.times import parse_time
from registry.services import purpose as why_mod
from registry.services import users
from registry.services.cosubmissions import Together
from registry.services.errors import Invalid, NotFound, RegistryError
from registry.services.history import indicator_history, stix_bundle
from registry.services.lookup import lookup as do_lookup
from registry.services.sightings import add_sighting, lowered_of
from registry.services.submit import (
    Provenance,
    Submission,
    Submitter,
    check_confidence,
    clean_labels,
)
from registry.web import facts, fields, login_throttle, metrics, pages
from registry.web import session as web_session
from registry.web.api import audit_lowered, audit_relisting, note_hits
from registry.web.pages import audit, db, page, signed_in

bp = Blueprint("ui", __name__)
pages.install(bp)

MAX_VALUE = 2048


_PLATFORM_CHOICES = tuple((p, facts.PLATFORM_NAMES[p]) for p in PLATFORMS)


@bp.app_context_processor
def _globals():
    return {"version": __version__, "tlp_levels": tlp_mod.LEVELS, "kinds": KINDS, "max_pasted": MAX_PASTED,
            "platforms": _PLATFORM_CHOICES, "describe": facts.describe, "end_reasons": standing.WHY,
            "relist_days": pages.settings().relist_days,
            "reliability_names": grading.RELIABILITY, "credibility_names": grading.CREDIBILITY}


# -- sign-in ---------------------------------------------------------------------------------
# Browsers drop tabs and newlines anywhere in a URL (and werkzeug's Location handling drops
# them too), so "/\t/evil.example" reaches them as "//evil.example", another site; a CR or LF
# cannot go in a header at all. The target is judged, and sent, with control characters gone.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to somewhere else."""
    path = _CONTROL.sub("", target or "").strip()
    if path.startswith("/") and not path.startswith("//") and "\\" not in path:
        parts = urlsplit(path)
        if not parts.scheme and not parts.netloc:
            return path
    return url_for("ui.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        if g.get("principal") is not None:
            return redirect(_safe_next(request.args.get("next")))
        return page("login.html", next=request.args.get("next", ""))
    # What was typed goes into the audit log: printable characters only (PostgreSQL text
    # cannot hold a NUL, and a row that cannot be written would hold up the whole log).
    username = "".join(ch for ch in (request.form.get("username") or "") if ch.isprintable()).strip().lower()[:64]
    password = request.form.get("password") or ""
    target = request.form.get("next", "")
    client = request.remote_addr
    throttle = login_throttle.throttle(current_app)
    try:
        throttle.check(username, client)
    except login_throttle.Throttled as exc:
        audit("login-throttled", {"username": username, "limit": exc.details["limit"]}, status=429,
              actor=username or None)
        return page("login.html", 429, error=exc.message, next=target, username=username)
    seconds, failures = throttle.delay(username)
    if seconds:
        audit("login-slowed", {"username": username, "seconds": seconds, "recent_failures": failures},
              actor=username or None)
        time.sleep(seconds)
    row = users.authenticate(db(), username, password)
    if row is None:
        throttle.failed(username, client)
        audit("login-failed", {"username": username}, status=401, actor=username or None)
        return page("login.html", 401, error="Wrong username or password (or the account is disabled).",
                    next=target, username=username)
    web_session.start_session(row.id, row.session_generation)
    audit("login", {"username": row.username}, status=200, org=row.org, actor=row.username)
    return redirect(_safe_next(target))


@bp.post("/logout")
def logout():
    if g.get("principal") is not None:
        # Server-side: the cookie this browser holds (and any copy of it) stops working. One
        # generation per user, so the user's other devices are signed out too.
        users.end_sessions(db(), g.user.id)
        audit("logout", {"username": g.principal.actor}, status=200)
    session.clear()
    return redirect(url_for("ui.login"))


# -- lookup ----------------------------------------------------------------------------------
_PURPOSE_LABELS = ("Purpose", "Case reference")


def _purpose(source) -> why_mod.Purpose:
    """The purpose and case reference typed with a lookup (a form's fields or an indicator link's
    parameters), refused when the user's org requires them; kept in ``g`` so the links to
    indicator pages carry them (``_carry_purpose``)."""
    why = why_mod.read(source.get("purpose"), source.get("case_ref"), required=g.principal.require_purpose,
                       org=g.principal.org, labels=_PURPOSE_LABELS)
    g.purpose = why
    return why


@bp.url_defaults
def _carry_purpose(endpoint: str, values: dict) -> None:
    """An indicator page opened from a lookup is a lookup of that value: for the same purpose."""
    why = g.get("purpose")
    if why and endpoint == "ui.indicator":
        for name in why_mod.FIELDS:
            if getattr(why, name) is not None:
                values.setdefault(name, getattr(why, name))


def verdict(answer: dict) -> str:
    if "error" in answer:
        return "error"
    if answer.get("allowlisted"):
        return "allowlisted"
    return "listed" if answer["listed"] else "not listed"


class _Shown(NamedTuple):
    """One answer as the lookup page lists it (lookup.html unpacks these fields in this order)."""

    answer: dict
    verdict: str
    sources: list[str]
    levels: list[str]


def _sources_and_levels(answer: dict) -> tuple[list[str], list[str]]:
    """The agencies behind an answer, and the TLP levels of what it shows, least restricted first."""
    sources: dict[str, None] = {}
    levels: set[str] = set()
    for match in answer.get("matches", ()):
        for a in match["assertions"]:
            sources[a["source"]] = None
            levels.add(a["tlp"])
        levels.update(s["tlp"] for s in match["sightings"])
    levels.update(h["tlp"] for h in answer.get("history", ()))  # shown too, as history
    return list(sources), [level for level in tlp_mod.LEVELS if level in levels]


def _kind_and_platform() -> tuple[str | None, str | None]:
    """The form's kind and platform (either may be left empty), checked as the API checks them."""
    kind = request.form.get("kind") or None
    if kind is not None and kind not in KINDS:
        raise Invalid(f"kind must be one of {', '.join(KINDS)}", field="kind")
    return kind, fields.platform(request.form.get("platform") or None, "platform", kind)


@bp.route("/", methods=["GET", "POST"])
@signed_in(READER)
def home():
    if request.method == "GET":
        return page("lookup.html", text="", answers=None)
    text = request.form.get("values") or ""
    shown = {"text": text, "form_kind": request.form.get("kind"), "form_platform": request.form.get("platform"),
             "form_purpose": request.form.get("purpose"), "form_case_ref": request.form.get("case_ref")}
    values, repeats = split_values(text)
    if not values:
        return page("lookup.html", 400, **shown, answers=None, error="Paste at least one value to look up.")
    if len(values) > MAX_PASTED:
        return page("lookup.html", 400, **shown, answers=None,
                    error=f"At most {MAX_PASTED:,} values at a time; this has {len(values):,}: split it.")
    long = next((v for v in values if len(v) > MAX_VALUE), None)
    if long is not None:
        return page("lookup.html", 400, **shown, answers=None,
                    error=f"A value is longer than {MAX_VALUE:,} characters: {long[:60]}…")
    try:
        kind, platform = _kind_and_platform()
        why = _purpose(request.form)
    except RegistryError as exc:
        return page("lookup.html", 400, **shown, answers=None, error=exc.message)
    with db().read() as conn:
        answers = do_lookup(conn, values, g.principal.viewer, region=pages.region(), kind=kind, platform=platform,
                            half_lifes=pages.half_lifes())
    metrics.count_lookups(answers)
    audit("lookup", why_mod.audit_subject(values, why), sum(1 for a in answers if a.get("listed")))
    note_hits(answers)
    rows = [_Shown(a, verdict(a), *_sources_and_levels(a)) for a in answers]
    counts = {name: sum(1 for row in rows if row.verdict == name) for name in ("listed", "not listed", "allowlisted", "error")}
    return page("lookup.html", **shown, answers=rows, counts=counts, repeats=repeats,
                open_operations=ui_operations.open_operations())


# -- one indicator ---------------------------------------------------------------------------
def _history(value: str) -> dict:
    if not value or len(value) > MAX_VALUE:
        raise Invalid("give the value to show as ?value=…", field="value")
    with db().read() as conn:
        history = indicator_history(conn, value, g.principal.viewer, region=pages.region(),
                                    half_lifes=pages.half_lifes())
        if history["indicator_id"] is not None:
            history["stix"] = stix_bundle(conn, g.principal.viewer, history["indicator_id"])
    return history


@bp.get("/indicator")
@signed_in(READER)
def indicator():
    value = (request.args.get("value") or "").strip()
    try:
        why = _purpose(request.args)
    except Invalid as exc:  # nothing is looked up: the page asks for the purpose
        return page("indicator.html", 400, value=value, error=exc.message, history=None, ask_purpose=True,
                    form_purpose=request.args.get("purpose"), form_case_ref=request.args.get("case_ref"))
    try:
        history = _history(value)
    except Invalid as exc:
        if value:  # the API audits a value it cannot parse too
            audit("lookup", why_mod.audit_subject([value[:MAX_VALUE]], why), 0)
        return page("indicator.html", 400, value=value, error=exc.message, history=None)
    answer = history["answer"]
    audit("lookup", why_mod.audit_subject([value], why), 1 if answer["listed"] else 0)
    stix_text = orjson.dumps(history["stix"], option=orjson.OPT_INDENT_2).decode() if history.get("stix") else None
    linked = ui_graph.linked(answer["value"], why)
    known = answer["listed"] or answer["allowlisted"] or answer["history"] or answer["matches"] or linked["neighbours"]
    status = 200 if known else 404
    return page("indicator.html", status, value=value, history=history, answer=answer, verdict=verdict(answer),
                stix_text=stix_text, **linked, **ui_operations.indicator_parts(answer["value"]))


@bp.get("/indicator/stix")
@signed_in(READER)
def indicator_stix():
    value = (request.args.get("value") or "").strip()
    history = _history(value)
    if history["indicator_id"] is None:
        raise NotFound(f"{value!r} is not listed (or not visible to you)", field="value")
    audit("export", {"format": "stix", "value": value}, len(history["stix"].get("objects", [])))
    name = "".join(c if c.isalnum() or c in ".-" else "_" for c in history["answer"]["value"])[:100]
    return Response(orjson.dumps(history["stix"], option=orjson.OPT_INDENT_2), mimetype="application/stix+json",
                    headers={"Content-Disposition": f'attachment; filename="{name}.stix.json"'})


# -- submitting ------------------------------------------------------------------------------
def _tlp(name: str, default: str = tlp_mod.DEFAULT_TLP) -> str:
    try:
        return tlp_mod.parse_tlp(request.form.get(name) or default)
    except ValueError as exc:
        raise Invalid(str(exc), field=name) from None


def _when(name: str):
    text = web_session.form_text(name, limit=40)
    if not text:
        return None
    try:
        return parse_time(text)
    except (ValueError, OverflowError) as exc:
        raise Invalid(f"{name.replace('_', ' ')}: {exc}", field=name) from None


def _number(name: str, default: int, low: int, high: int) -> int:
    text = web_session.form_text(name, limit=12)
    if not text:
        return default
    try:
        number = int(text)
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        raise Invalid(f"{name} must be a whole number from {low} to {high}", field=name)
    return number


def _relist_reason() -> str | None:
    """The Relist box and its reason (docs/web.md, "Disputes"): both or neither."""
    reason = web_session.form_text("relist_reason", label="the reason to relist")
    if request.form.get("relist"):
        if not reason:
            raise Invalid("give the reason to relist the values (Relist is ticked)", field="relist_reason")
        return reason
    if reason:
        raise Invalid("tick Relist to relist delisted values with this reason", field="relist")
    return None


@bp.route("/submit", methods=["GET", "POST"])
@signed_in(CONTRIBUTOR)
def submit():
    if request.method == "GET":
        return page("submit.html", form={}, results=None)
    form = request.form.to_dict()
    try:
        values, _ = split_values(web_session.form_text("values", limit=MAX_PASTED * MAX_VALUE))
        if not values:
            raise Invalid("give at least one value, one a line", field="values")
        if len(values) > MAX_PASTED:
            raise Invalid(f"at most {MAX_PASTED:,} values at a time; this has {len(values):,}", field="values")
        kind, platform = _kind_and_platform()
        labels = clean_labels(web_session.form_text("labels", limit=1000).replace(";", ",").split(","))
        confidence = check_confidence(_number("confidence", 50, 0, 100))
        tlp = _tlp("tlp")
        description = web_session.form_text("description") or None
        valid_until = _when("valid_until")
        relist = _relist_reason()
    except RegistryError as exc:
        return page("submit.html", 400, form=form, results=None, error=exc.message)
    principal = g.principal
    with db().write() as conn:
        submitter = Submitter(conn, Provenance(org=principal.org, region=principal.country,
                                               review_days=pages.settings().review_days), keep_results=True,
                              viewer=principal.viewer, relist_days=pages.settings().relist_days,
                              together=Together())
        for value in values:
            submitter.add(Submission(value=value, kind=kind, labels=labels, confidence=confidence, tlp=tlp,
                                     description=description, valid_until=valid_until, platform=platform,
                                     relist=relist))
        report = submitter.finish()
    audit("submit", values, report.new + report.updated)
    audit_lowered(report.lowered)
    audit_relisting(report)
    return page("submit.html", form=form, results=report.results, counts=report.to_dict())


@bp.route("/sighting", methods=["GET", "POST"])
@signed_in(CONTRIBUTOR)
def sighting():
    if request.method == "GET":
        return page("sighting.html", form={"value": request.args.get("value", "")}, result=None)
    form = request.form.to_dict()
    try:
        value = web_session.form_text("value", limit=MAX_VALUE, required=True)
        result = add_sighting(
            db(), org=g.principal.org, value=value, case_ref=web_session.form_text("case_ref", limit=200) or None,
            count=_number("count", 1, 1, 1_000_000), tlp=_tlp("tlp"),
            description=web_session.form_text("description") or None, seen=_when("seen"), region=pages.region(),
            viewer=g.principal.viewer,
        )
    except RegistryError as exc:
        return page("sighting.html", 400, form=form, result=None, error=exc.message)
    audit("sighting", [value], 1)
    audit_lowered(lowered_of(result))
    return page("sighting.html", 201, form={}, result=result)


# Admin and feed pages share this blueprint's sign-in, CSRF check, headers and error pages.
from registry.web import (  # noqa: E402
    ui_admin,
    ui_alerts,
    ui_disputes,
    ui_feeds,
    ui_graph,
    ui_operations,
    ui_review,
    ui_watches,
)

bp.register_blueprint(ui_admin.bp)
bp.register_blueprint(ui_feeds.bp)
bp.register_blueprint(ui_review.bp)
bp.register_blueprint(ui_disputes.bp)
bp.register_blueprint(ui_alerts.bp)
bp.register_blueprint(ui_operations.bp)
bp.register_blueprint(ui_watches.bp)
bp.register_blueprint(ui_graph.bp)
