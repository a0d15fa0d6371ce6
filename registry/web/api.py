"""REST API under /api/v1. Every view: authenticate (``require``), validate into plain values,
call one service, audit, answer JSON. Web types never reach the services."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from registry import config
from registry.domain import tlp as tlp_mod
from registry.domain.kinds import KINDS
from registry.domain.roles import ADMIN, CONTRIBUTOR, READER
from registry.domain.times import parse_time
from registry.services.errors import Invalid, RegistryError
from registry.services.lookup import lookup as do_lookup
from registry.services.lowered import Lowered
from registry.services.search import Filters, search_indicators
from registry.services.sightings import add_sighting, lowered_of
from registry.services.submit import (
    Provenance,
    Submission,
    Submitter,
    check_confidence,
    clean_labels,
)
from registry.web import metrics
from registry.web.auth import require

bp = Blueprint("api", __name__, url_prefix="/api/v1")


class UnsupportedMediaType(RegistryError):
    status = 415
    code = "unsupported_media_type"


class Unprocessable(RegistryError):
    status = 422
    code = "unprocessable"


# -- helpers --------------------------------------------------------------------------------
def _settings() -> dict:
    return current_app.config["REGISTRY"]


def _db():
    return current_app.extensions["registry.db"]


def _max_batch() -> int:
    return int(config.get("MAX_BATCH", _settings()))


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
        body = request.get_json(force=True, silent=False)
    except RequestEntityTooLarge:
        raise  # 413 (REGISTRY_MAX_BODY_MB), not "invalid JSON"
    except Exception:  # werkzeug raises BadRequest with an HTML-ish message; ours is plainer
        raise Invalid("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise Invalid("the body must be a JSON object")
    return body


@bp.before_request
def _no_nul_in_parameters() -> None:
    # PostgreSQL text cannot hold NUL (a 500 there); no parameter has a use for one. Callers
    # without a key still get the view's 401 first.
    if g.get("principal") is None:
        return
    for name, value in request.args.items(multi=True):
        if "\x00" in value:
            raise Invalid(f"{name} must not contain NUL characters", field=name)


def _no_nul(text: str | None, field: str) -> None:
    """Free text that will be stored: a NUL in it is refused (PostgreSQL text cannot hold one)."""
    if text is not None and "\x00" in text:
        raise Invalid(f"{field} must not contain NUL characters", field=field)


MAX_VALUE = 2048  # characters: the longest indicator value stored
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


def _whole(number):
    """JSON Schema's integer includes 16.0: take integral floats as the integers they are."""
    return int(number) if isinstance(number, float) and number.is_integer() else number


def _region(value) -> str | None:
    principal = g.principal
    if value is None:
        return principal.country or config.get("DEFAULT_REGION", _settings())
    if not isinstance(value, str) or len(value) != 2 or not value.isalpha():
        raise Invalid("region must be an ISO 3166 alpha-2 code such as TH", field="region")
    return value.upper()


def _lookup(values: list, region: str | None) -> list[dict]:
    with _db().read() as conn:
        answers = do_lookup(conn, values, g.principal.viewer, region=region, half_lifes=config.half_lifes(_settings()))
    metrics.count_lookups(answers)
    audit("lookup", values, sum(1 for a in answers if a.get("listed")))
    return answers


# -- lookup ---------------------------------------------------------------------------------
@bp.get("/lookup")
@require(READER)
def lookup_one():
    value = request.args.get("value")
    if not value:
        raise Invalid("give the value to look up as ?value=…", field="value")
    return jsonify(_lookup([value], _region(request.args.get("region")))[0])


@bp.post("/lookup")
@require(READER)
def lookup_batch():
    body = json_body()
    values = body.get("values")
    if not isinstance(values, list) or not values:
        raise Invalid('send {"values": ["…", …]} with at least one value', field="values")
    limit = _max_batch()
    if len(values) > limit:
        raise Invalid(f"at most {limit} values per batch; got {len(values)}: split the batch", field="values",
                      details={"limit": limit, "got": len(values)})
    return jsonify({"results": _lookup(values, _region(body.get("region")))})


# -- indicators -----------------------------------------------------------------------------
def _submission(item, index: int) -> Submission:
    where = f"indicators[{index}]"
    if not isinstance(item, dict):
        raise Invalid(f"{where} must be an object with at least a value", field=where)
    value = item.get("value")
    if not isinstance(value, str) or not value.strip():
        raise Invalid(f"{where}.value must be a non-empty string", field=f"{where}.value")
    if len(value) > MAX_VALUE:
        raise Invalid(f"{where}.value must be at most {MAX_VALUE} characters", field=f"{where}.value")
    kind = item.get("kind")
    if kind is not None and kind not in KINDS:
        raise Invalid(f"{where}.kind must be one of {', '.join(KINDS)}", field=f"{where}.kind")
    labels = item.get("labels", [])
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        raise Invalid(f"{where}.labels must be a list of strings", field=f"{where}.labels")
    try:
        labels = clean_labels(labels)
    except Invalid as exc:
        raise Invalid(f"{where}.labels: {exc.message}", field=f"{where}.labels") from None
    if len(",".join(labels)) + 2 > MAX_LABELS:
        raise Invalid(f"{where}.labels must be at most {MAX_LABELS} characters together", field=f"{where}.labels")
    confidence = _whole(item.get("confidence"))
    if confidence is not None:
        check_confidence(confidence, f"{where}.confidence")
    tlp = None
    if item.get("tlp") is not None:
        try:
            tlp = tlp_mod.parse_tlp(str(item["tlp"]))
        except ValueError as exc:
            raise Invalid(f"{where}.tlp: {exc}", field=f"{where}.tlp") from None
    description = item.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > 4000):
        raise Invalid(f"{where}.description must be text of at most 4000 characters", field=f"{where}.description")
    _no_nul(description, f"{where}.description")
    valid_until = None
    if item.get("valid_until") is not None:
        valid_until = _time(item["valid_until"], f"{where}.valid_until")
    return Submission(value=value, kind=kind, labels=labels, confidence=confidence, tlp=tlp,
                      description=description, valid_until=valid_until)


@bp.post("/indicators")
@require(CONTRIBUTOR)
def submit_indicators():
    if request.mimetype == "application/stix+json":
        return _submit_stix_bundle()
    body = json_body()
    items = body.get("indicators")
    if not isinstance(items, list) or not items:
        raise Invalid('send {"indicators": [{"value": …}, …]} with at least one indicator', field="indicators")
    if len(items) > _max_batch():
        raise Invalid(f"at most {_max_batch()} indicators per request; got {len(items)}", field="indicators")
    submissions = [_submission(item, i) for i, item in enumerate(items)]
    principal = g.principal
    with _db().write() as conn:
        submitter = Submitter(conn, Provenance(org=principal.org, region=principal.country), keep_results=True,
                              viewer=principal.viewer)
        for sub in submissions:
            submitter.add(sub)
        report = submitter.finish()
    audit("submit", [s.value for s in submissions], report.new + report.updated)
    audit_lowered(report.lowered)
    counts = report.to_dict()
    results = counts.pop("results")
    counts.pop("rejects")
    return jsonify({"results": results, "counts": counts})


@bp.get("/indicators")
@require(READER)
def list_indicators():
    args = request.args.to_dict()
    _times_in_range(args, "since")
    # Past the largest id (32-bit on PostgreSQL) or change number there is nothing to list;
    # clamping keeps such a cursor or since from overflowing the database's integers (a 500).
    for name, ceiling in (("cursor", 2**31 - 1), ("since", 2**63 - 1)):
        text = (args.get(name) or "").strip()
        if text.isdigit() and not text.isdecimal():  # "²" passes isdigit() but not int()
            raise Invalid(f"{name} must be written with the digits 0-9", field=name)
        if text.isdecimal() and (len(text) > 19 or int(text) > ceiling):
            args[name] = str(ceiling)
    filters = Filters.parse(args)
    with _db().read() as conn:
        page = search_indicators(conn, g.principal.viewer, filters, half_lifes=config.half_lifes(_settings()))
    audit("search", request.args.to_dict(), len(page["indicators"]))
    return jsonify(page)


def _submit_stix_bundle():
    """A STIX 2.0/2.1 bundle; every object is attributed to the key's org, whatever identity
    it names (a member cannot post under another agency's name)."""
    from registry.stix.importer import import_bundle

    data = request.get_data()
    try:
        report = import_bundle(_db(), data, org=g.principal.org, viewer=g.principal.viewer)
    except ValueError as exc:
        raise Invalid(f"not a STIX bundle: {exc}") from None
    out = report.to_dict()
    results = out.pop("results", [])
    audit("submit", {"format": "stix", "objects": len(results)}, out.get("new", 0) + out.get("updated", 0))
    audit_lowered(report.lowered)
    return jsonify({"results": results, "counts": out})


# -- sightings ------------------------------------------------------------------------------
@bp.post("/sightings")
@require(CONTRIBUTOR)
def post_sighting():
    body = json_body()
    value = body.get("value")
    if not isinstance(value, str) or not value.strip():
        raise Invalid("value must be a non-empty string", field="value")
    if len(value) > MAX_VALUE:
        raise Invalid(f"value must be at most {MAX_VALUE} characters", field="value")
    case_ref = body.get("case_ref")
    if case_ref is not None and (not isinstance(case_ref, str) or len(case_ref) > 200):
        raise Invalid("case_ref must be text of at most 200 characters", field="case_ref")
    _no_nul(case_ref, "case_ref")
    description = body.get("description") if isinstance(body.get("description"), str) else None
    if description is not None and len(description) > 4000:
        raise Invalid("description must be text of at most 4000 characters", field="description")
    _no_nul(description, "description")
    try:
        tlp = tlp_mod.parse_tlp(body.get("tlp") or tlp_mod.DEFAULT_TLP)
    except (ValueError, AttributeError) as exc:
        raise Invalid(str(exc), field="tlp") from None
    seen = _time(body["seen"], "seen") if body.get("seen") is not None else None
    try:
        result = add_sighting(
            _db(), org=g.principal.org, value=value, case_ref=case_ref, count=_whole(body.get("count", 1)), tlp=tlp,
            description=description,
            seen=seen, region=_region(body.get("region")), viewer=g.principal.viewer,
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
    from registry.services.audit import events

    args = request.args.to_dict()
    _times_in_range(args, "since", "until")
    # Audit rows name the values others looked up: admins whose keys reach TLP:RED (the
    # registry's operators) see every org's rows, other admins their own org's only.
    if g.principal.max_tlp != tlp_mod.RED:
        args["org"] = g.principal.org
    page = events(_db(), args)
    audit("audit-read", args, len(page["events"]))
    return jsonify(page)


@bp.get("/openapi.json")
def openapi():
    from registry.web.openapi import spec

    return jsonify(spec())
