"""REST API under /api/v1. Every view: authenticate (``require``), validate into plain values,
call one service, audit, answer JSON. Web types never reach the services."""

from __future__ import annotations

import threading

from flask import Blueprint, current_app, g, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from registry.config import Settings
from registry.domain import json_input
from registry.domain import tlp as tlp_mod
from registry.domain.kinds import KINDS
from registry.domain.opaque import POSITION, Sealer
from registry.domain.roles import ADMIN, CONTRIBUTOR, READER
from registry.domain.times import parse_time
from registry.services import purpose as why_mod
from registry.services.cosubmissions import Together
from registry.services.errors import Invalid, RegistryError
from registry.services.lookup import lookup as do_lookup
from registry.services.lowered import Lowered
from registry.services.search import Filters, search_indicators
from registry.services.sightings import MAX_COUNT, add_sighting, lowered_of
from registry.services.submit import (
    Provenance,
    Submission,
    Submitter,
    clean_labels,
)
from registry.storage.db import current_seq
from registry.web import fields, metrics
from registry.web.auth import require
from registry.web.errors import UnsupportedMediaType

bp = Blueprint("api", __name__, url_prefix="/api/v1")


class Unprocessable(RegistryError):
    status = 422
    code = "unprocessable"


# -- helpers --------------------------------------------------------------------------------
def _settings() -> Settings:
    return current_app.config["REGISTRY"]


def _db():
    return current_app.extensions["registry.db"]


def sealer() -> Sealer:
    return current_app.extensions["registry.sealer"]


def position_header(conn) -> dict:
    """Where the data read in ``conn`` stands, sealed: passed back as ``since``, it asks for
    what changed after this answer (the number itself is never shown: see domain.opaque)."""
    return {"X-Registry-Position": sealer().seal(current_seq(conn), POSITION)}


def _max_batch() -> int:
    return _settings().max_batch


def audit(action: str, subject=None, result_count: int | None = None) -> None:
    principal = g.get("principal")
    current_app.extensions["registry.audit"].record(
        action,
        org=principal.org if principal else None,
        actor=principal.actor if principal else None,
        subject=subject,
        result_count=result_count,
        client=request.remote_addr,
    )


def audit_lowered(lowered: Lowered) -> None:
    """A write that lowered TLPs (of rows its writer could see): one event listing them."""
    if lowered:
        audit("tlp-lowered", lowered.subject(), lowered.count)


def audit_relisting(report) -> None:
    """A submission's held values and its relistings with a person's reason, each one event."""
    if report.held_values:
        audit("held", report.held_values, report.held)
    if report.relisted:
        audit("relist", report.relisted, len(report.relisted))


def json_body() -> dict:
    mimetype = request.mimetype or ""
    if mimetype != "application/json":
        raise UnsupportedMediaType(
            f"send Content-Type: application/json (got {mimetype or 'none'})", details={"content_type": mimetype}
        )
    try:
        data = request.get_data(cache=True)
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        if limit is not None and request.content_length is None and len(data) >= limit:
            # A chunked body is read up to the limit and cut there, without an error of its own.
            raise RequestEntityTooLarge()
    except RequestEntityTooLarge:
        raise  # 413 (REGISTRY_MAX_BODY_MB), not "invalid JSON"
    except Exception:  # a body cut off on the way (werkzeug's messages are HTML-ish; ours are plainer)
        raise Invalid("the body could not be read: send it again") from None
    try:
        body = json_input.loads(data)
    except json_input.TooDeep as exc:
        raise Invalid(f"the body nests JSON deeper than {json_input.MAX_DEPTH} levels (line {exc.line}, column "
                      f"{exc.column})", details={"line": exc.line, "column": exc.column}) from None
    except json_input.JSONInputError as exc:
        raise Invalid(f"the body is not valid JSON: {exc.reason} (line {exc.line}, column {exc.column})",
                      details={"line": exc.line, "column": exc.column}) from None
    if not isinstance(body, dict):
        raise Invalid(f"the body must be a JSON object {{…}}, not {fields.shown(body)}")
    return body


@bp.before_request
def _plain_parameters() -> None:
    """Every query parameter of the API is one value, without NUL characters."""
    # PostgreSQL text cannot hold NUL (a 500 there); no parameter has a use for one. Callers
    # without a key still get the view's 401 first.
    if g.get("principal") is None:
        return
    for name, values in request.args.lists():
        if len(values) > 1:  # which one was meant? Taking the first would hide the mistake.
            raise Invalid(f"{name} is given {len(values)} times: give it once", field=name)
        if "\x00" in values[0]:
            raise Invalid(f"{name} must not contain NUL characters", field=name)


MAX_VALUE = 2048  # characters: the longest indicator value stored
MAX_DESCRIPTION = 4000  # characters of a description, as stored
MAX_LABELS = 1000  # characters of an assertion's labels together, as stored


def _time(text, field: str):
    """A time given in a request: unparseable, or outside years 1-9999 once in UTC, is a 400."""
    try:
        return parse_time(str(text))
    except ValueError as exc:
        raise Invalid(f"{field}: {exc}", field=field) from None
    except OverflowError:
        raise Invalid(f"{field}: {text!r} falls outside the years 1 to 9999 (UTC)", field=field) from None


def _times_in_range(args: dict, *names: str) -> None:
    """Query times the services parse: refuse out-of-range ones here (parse_time raises
    OverflowError for them, a 500); the services word every other problem themselves."""
    for name in names:
        text = (args.get(name) or "").strip()
        if text and not text.isdigit():  # digits are a change number, not a time (search)
            try:
                parse_time(text)
            except OverflowError:
                _time(text, name)
            except ValueError:
                pass


def _region(value) -> str | None:
    if value is None:
        return g.principal.country or _settings().default_region
    return fields.region(value, "region")


def _purpose(source) -> why_mod.Purpose:
    """The lookup's purpose and case reference (query parameters or body fields), refused when
    the caller's org requires them and they are missing (the flag came with the key's row)."""
    return why_mod.read(source.get("purpose"), source.get("case_ref"), required=g.principal.require_purpose,
                        org=g.principal.org)


def _lookup(values: list, region: str | None, kind=None, platform=None, why: why_mod.Purpose = why_mod.NONE) -> list[dict]:
    with _db().read() as conn:
        answers = do_lookup(conn, values, g.principal.viewer, region=region, kind=kind, platform=platform,
                            half_lifes=_settings().half_lifes)
    metrics.count_lookups(answers)
    audit("lookup", why_mod.audit_subject(values, why), sum(1 for a in answers if a.get("listed")))
    note_hits(answers)
    return answers


def note_hits(answers: list[dict]) -> None:
    """Hand the lookup's hits on other orgs' values to the hit log (services.hits), which
    tallies them and alerts those orgs off the request's path."""
    current_app.extensions["registry.hits"].record(g.principal.org, answers)


# -- lookup ---------------------------------------------------------------------------------
# A worker serves several requests at once (its threads); large batches take turns in it, as
# when a worker had one thread: run together they would only share its core, while each held
# its answers (tens of MB for a large batch of listed values) the whole time.
LARGE_BATCH = 1000
_large_batches = threading.BoundedSemaphore(1)


@bp.get("/lookup")
@require(READER)
def lookup_one():
    value = request.args.get("value")
    if not value:
        raise Invalid("give the value to look up as ?value=…", field="value")
    args = request.args
    why = _purpose(args)
    return jsonify(_lookup([value], _region(args.get("region")), args.get("kind"), args.get("platform"), why)[0])


@bp.post("/lookup")
@require(READER)
def lookup_batch():
    body = json_body()
    values = fields.strings(body.get("values"), "values", example="1.10.16.77")
    limit = _max_batch()
    if len(values) > limit:
        raise Invalid(f"at most {limit} values per batch; got {len(values)}: split the batch", field="values",
                      details={"limit": limit, "got": len(values)})
    region = _region(body.get("region"))
    kind, platform = body.get("kind"), body.get("platform")
    why = _purpose(body)
    if len(values) < LARGE_BATCH:
        return jsonify({"results": _lookup(values, region, kind, platform, why)})
    with _large_batches:
        return jsonify({"results": _lookup(values, region, kind, platform, why)})


# -- indicators -----------------------------------------------------------------------------
def _submission(item, index: int) -> Submission:
    where = f"indicators[{index}]"
    if not isinstance(item, dict):
        raise Invalid(f'{where} must be an object such as {{"value": "evil.example"}}, not {fields.shown(item)}',
                      field=where)
    value = fields.text(item.get("value"), f"{where}.value", max_len=MAX_VALUE, required=True)
    kind = item.get("kind")
    if kind is not None and (not isinstance(kind, str) or kind not in KINDS):
        raise Invalid(f"{where}.kind must be one of {', '.join(KINDS)}, not {fields.shown(kind)}",
                      field=f"{where}.kind", details={"allowed": list(KINDS)})
    platform = fields.platform(item.get("platform"), f"{where}.platform", kind)
    region = fields.region(item.get("region"), f"{where}.region")
    labels = item.get("labels")
    labels = [] if labels is None else fields.strings(labels, f"{where}.labels", example="phishing", at_least_one=False)
    try:
        labels = clean_labels(labels)
    except Invalid as exc:
        raise Invalid(f"{where}.labels: {exc.message}", field=f"{where}.labels") from None
    if len(",".join(labels)) + 2 > MAX_LABELS:
        raise Invalid(f"{where}.labels must be at most {MAX_LABELS} characters together", field=f"{where}.labels")
    confidence = fields.whole(item.get("confidence"), f"{where}.confidence", 0, 100)
    tlp = fields.tlp(item.get("tlp"), f"{where}.tlp")
    description = fields.text(item.get("description"), f"{where}.description", max_len=MAX_DESCRIPTION)
    valid_until = fields.time(item.get("valid_until"), f"{where}.valid_until")
    reliability = fields.reliability(item.get("reliability"), f"{where}.reliability")
    credibility = fields.credibility(item.get("credibility"), f"{where}.credibility")
    return Submission(value=value, kind=kind, labels=labels, confidence=confidence, tlp=tlp,
                      description=description, valid_until=valid_until, platform=platform, region=region,
                      reliability=reliability, credibility=credibility,
                      relist=relist_reason(item.get("relist"), item.get("reason"), where))


def relist_reason(relist, reason, where: str) -> str | None:
    """A person's reason to relist a delisted value (``"relist": true`` and ``"reason"``, both or
    neither: docs/api.md, "Disputes and delisting")."""
    if relist is None or relist is False:
        if reason is not None:
            raise Invalid(f'{where}.reason goes with "relist": true (a reason to relist a delisted value)',
                          field=f"{where}.reason")
        return None
    if relist is not True:
        raise Invalid(f"{where}.relist must be true or false, not {fields.shown(relist)}", field=f"{where}.relist")
    return fields.text(reason, f"{where}.reason", max_len=MAX_DESCRIPTION, required=True,
                       what="a reason to relist the value")


@bp.post("/indicators")
@require(CONTRIBUTOR)
def submit_indicators():
    if request.mimetype == "application/stix+json":
        return _submit_stix_bundle()
    body = json_body()
    items = body.get("indicators")
    if not isinstance(items, list) or not items:
        raise Invalid('indicators must be a list of objects, at least one: {"indicators": [{"value": …}, …]}, '
                      f"not {fields.shown(items)}", field="indicators")
    if len(items) > _max_batch():
        raise Invalid(f"at most {_max_batch()} indicators per request; got {len(items)}", field="indicators")
    submissions = [_submission(item, i) for i, item in enumerate(items)]
    principal = g.principal
    region = fields.region(body.get("region"), "region") or principal.country
    with _db().write() as conn:
        submitter = Submitter(conn, Provenance(org=principal.org, region=region, review_days=_settings().review_days),
                              keep_results=True, viewer=principal.viewer, relist_days=_settings().relist_days,
                              together=Together())
        for sub in submissions:
            submitter.add(sub)
        report = submitter.finish()
    audit("submit", [s.value for s in submissions], report.new + report.updated)
    audit_lowered(report.lowered)
    audit_relisting(report)
    counts = report.to_dict()
    results = counts.pop("results")
    counts.pop("rejects")
    return jsonify({"results": results, "counts": counts})


@bp.get("/indicators")
@require(READER)
def list_indicators():
    args = request.args.to_dict()
    _times_in_range(args, "since")
    filters = Filters.parse(args, sealer=sealer(), region=_region(None))
    with _db().read() as conn:
        # Read first: on PostgreSQL each statement may see later commits, and a position a little
        # before the page repeats a change at worst, where one after it could skip one.
        position = position_header(conn)
        page = search_indicators(conn, g.principal.viewer, filters, half_lifes=_settings().half_lifes)
    audit("search", request.args.to_dict(), len(page["indicators"]))
    response = jsonify(page)
    response.headers.update(position)
    return response


def _submit_stix_bundle():
    """A STIX 2.0/2.1 bundle; every object is attributed to the key's org, whatever identity
    it names (a member cannot post under another agency's name)."""
    from registry.services.stix_import import import_bundle

    data = request.get_data()
    try:
        report = import_bundle(_db(), data, org=g.principal.org, viewer=g.principal.viewer,
                               review_days=_settings().review_days, together=True)
    except ValueError as exc:
        raise Invalid(f"not a STIX bundle: {exc}") from None
    out = report.to_dict()
    results = out.pop("results", [])
    audit("submit", {"format": "stix", "objects": len(results)}, out.get("new", 0) + out.get("updated", 0))
    audit_lowered(report.lowered)
    audit_relisting(report)
    return jsonify({"results": results, "counts": out})


# -- sightings ------------------------------------------------------------------------------
@bp.post("/sightings")
@require(CONTRIBUTOR)
def post_sighting():
    body = json_body()
    value = fields.text(body.get("value"), "value", max_len=MAX_VALUE, required=True)
    case_ref = fields.text(body.get("case_ref"), "case_ref", max_len=200)
    description = fields.text(body.get("description"), "description", max_len=MAX_DESCRIPTION)
    tlp = fields.tlp(body.get("tlp"), "tlp") or tlp_mod.DEFAULT_TLP
    seen = fields.time(body.get("seen"), "seen")
    count = fields.whole(body.get("count"), "count", 1, MAX_COUNT)
    try:
        result = add_sighting(
            _db(), org=g.principal.org, value=value, case_ref=case_ref, count=1 if count is None else count, tlp=tlp,
            description=description, seen=seen, region=_region(body.get("region")), viewer=g.principal.viewer,
        )
    except Invalid as exc:
        if exc.field == "value":
            raise Unprocessable(exc.message, field="value") from None
        raise
    audit("sighting", [value], 1)
    audit_lowered(lowered_of(result))
    return jsonify(result), 201


# -- audit and the spec ---------------------------------------------------------------------
@bp.get("/audit")
@require(ADMIN)
def audit_events():
    from registry.services.audit import events_for

    args = request.args.to_dict()
    _times_in_range(args, "since", "until")
    # An operator reads every org's rows, an admin its own org's only (the service's rule).
    page, applied = events_for(_db(), args, by=g.principal, sealer=sealer())
    audit("audit-read", applied, len(page["events"]))
    return jsonify(page)


@bp.get("/openapi.json")
def openapi():
    from registry.web.openapi import spec

    return jsonify(spec())
