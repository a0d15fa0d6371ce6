"""TAXII 2.1 at /taxii2/: discovery, one API root (/taxii2/api/), its collections, objects,
manifests, versions and status resources. The logic lives in ``services.taxii``,
``taxii_query`` and ``taxii_submit``; this module speaks HTTP: media types (406, 415), TAXII
error resources for every failure under /taxii2/ (401 included), the ``X-TAXII-Date-Added-*``
headers, and an audit event per read and submit."""

from __future__ import annotations

import base64
import logging

import orjson
from flask import Blueprint, Response, current_app, g, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from registry.domain import json_input
from registry.domain.opaque import POSITION
from registry.domain.times import utcnow
from registry.services import taxii as svc
from registry.services import taxii_query, taxii_submit
from registry.services.errors import Invalid, RegistryError
from registry.services.taxii import TAXII_MEDIA
from registry.web.api import audit_lowered
from registry.web.auth import Unauthorized
from registry.web.errors import UnsupportedMediaType

log = logging.getLogger(__name__)
bp = Blueprint("taxii", __name__, url_prefix="/taxii2")
ROOT = "api"  # the one API root: /taxii2/api/


class NotAcceptable(RegistryError):
    status = 406
    code = "not_acceptable"


# -- media types and errors ---------------------------------------------------------------------
def taxii_response(body: dict, status: int = 200, headers: dict | None = None) -> Response:
    return Response(orjson.dumps(body), status=status, headers=headers, content_type=TAXII_MEDIA)


def _is_taxii21(media: str, *, wildcards: bool) -> bool:
    """``application/taxii+json`` with version 2.1 or none (the latest); ``*/*`` and
    ``application/*`` too when ``wildcards`` (an Accept header)."""
    kind, *params = (p.strip().lower() for p in media.split(";"))
    version = next((p.partition("=")[2].strip('"') for p in params if p.startswith("version=")), "2.1")
    if any(p.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000") for p in params):
        return False
    if kind == "application/taxii+json":
        return version == "2.1"
    return wildcards and kind in ("*/*", "application/*")


def error_resource(status: int, title: str, description: str, details: dict | None = None) -> Response:
    body = {"title": title, "description": description, "http_status": str(status)}
    if details:
        body["details"] = details
    response = taxii_response(body, status)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="registry", Bearer realm="registry"'
    return response


@bp.errorhandler(RegistryError)
def _registry_error(exc: RegistryError):
    return error_resource(exc.status, exc.code.replace("_", " ").capitalize(), exc.message, exc.details)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    response = error_resource(exc.code or 500, exc.name, exc.description or exc.name)
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


@bp.errorhandler(Exception)
def _unexpected(exc: Exception):
    log.exception("unhandled error under /taxii2/")  # never a stack trace to a client
    return error_resource(500, "Internal error", "the server failed to answer; the error is logged")


@bp.before_request
def _authenticate_and_negotiate() -> None:
    principal = g.get("principal")
    if principal is None:
        raise Unauthorized("TAXII needs an API key: HTTP Basic (user: your org's slug, password: the key) "
                           "or `Authorization: Bearer <key>`")
    user = _basic_user()
    if user and user != principal.org:
        raise Unauthorized(f"the HTTP Basic user must be your key's org slug ({principal.org}) or empty")
    accept = request.headers.get("Accept")
    if accept and not any(_is_taxii21(media, wildcards=True) for media in accept.split(",")):
        raise NotAcceptable(f"this server answers {TAXII_MEDIA}; the Accept header allows only {accept!r}")


def _basic_user() -> str | None:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    return base64.b64decode(credentials.strip()).decode().partition(":")[0]  # auth.py checked it decodes


def _audit(action: str, subject, result_count: int | None) -> None:
    principal = g.principal
    current_app.extensions["registry.audit"].record(
        action, org=principal.org, actor=principal.actor, subject=subject, result_count=result_count,
        client=request.remote_addr,
    )


def _db():
    return current_app.extensions["registry.db"]


# -- discovery, API root, collections -------------------------------------------------------------
@bp.get("/", strict_slashes=False)
def discovery():
    root = f"{request.url_root}taxii2/{ROOT}/"
    return taxii_response({
        "title": "ASEAN cybercrime indicator registry",
        "description": "Suspicious IPs, domains, URLs, phone numbers, email addresses, bank and e-wallet "
                       "accounts, crypto wallets, messaging accounts and file hashes shared by member agencies, "
                       "as STIX 2.1 Indicators and Sightings (TLP 2.0 applies to every object).",
        "default": root,
        "api_roots": [root],
    })


@bp.get(f"/{ROOT}/", strict_slashes=False)
def api_root():
    return taxii_response({
        "title": "Registry",
        "description": "Indicators and sightings: all, or by kind; contributors add through 'submissions'.",
        "versions": [TAXII_MEDIA],
        "max_content_length": current_app.config["MAX_CONTENT_LENGTH"],
    })


@bp.get(f"/{ROOT}/collections/", strict_slashes=False)
def collections():
    return taxii_response({"collections": [c.resource(g.principal.role) for c in svc.COLLECTIONS]})


@bp.get(f"/{ROOT}/collections/<collection_id>/", strict_slashes=False)
def collection(collection_id: str):
    return taxii_response(svc.collection(collection_id).resource(g.principal.role))


# -- objects and manifests ---------------------------------------------------------------------
def _page_headers(page: svc.Page) -> dict:
    if not page.entries:
        return {}
    return {"X-TAXII-Date-Added-First": page.date_added_first, "X-TAXII-Date-Added-Last": page.date_added_last}


def _sealer():
    return current_app.extensions["registry.sealer"]


def _envelope(page: svc.Page, items: list) -> dict:
    body = {"more": page.more}
    if page.next_seq is not None:
        body["next"] = _sealer().seal(page.next_seq, POSITION)
    body["objects"] = items
    return body


def _read_page(collection_id: str, read, *args) -> tuple[svc.CollectionDef, svc.Page]:
    """The collection and the page of it the request's query asks for, as the caller may see it;
    ``read`` is the service's page reader, ``args`` what it takes before the query."""
    coll = svc.collection(collection_id)
    query = taxii_query.parse_query(request.args, _sealer())
    with _db().read() as conn:
        return coll, read(conn, g.principal.viewer, coll, *args, query)


@bp.get(f"/{ROOT}/collections/<collection_id>/objects/", strict_slashes=False)
def get_objects(collection_id: str):
    coll, page = _read_page(collection_id, svc.objects_page)
    _audit("taxii-read", {"collection": coll.name, **request.args.to_dict()}, len(page.entries))
    return taxii_response(_envelope(page, page.objects), headers=_page_headers(page))


@bp.get(f"/{ROOT}/collections/<collection_id>/manifest/", strict_slashes=False)
def get_manifest(collection_id: str):
    coll, page = _read_page(collection_id, svc.manifest_page)
    _audit("taxii-manifest", {"collection": coll.name, **request.args.to_dict()}, len(page.entries))
    entries = [svc.manifest_entry(entry.added, entry.obj) for entry in page.entries]
    return taxii_response(_envelope(page, entries), headers=_page_headers(page))


@bp.get(f"/{ROOT}/collections/<collection_id>/objects/<object_id>/", strict_slashes=False)
def get_object(collection_id: str, object_id: str):
    coll, page = _read_page(collection_id, svc.object_page, object_id)
    _audit("taxii-read", {"collection": coll.name, "id": object_id, **request.args.to_dict()}, len(page.entries))
    return taxii_response(_envelope(page, page.objects), headers=_page_headers(page))


@bp.get(f"/{ROOT}/collections/<collection_id>/objects/<object_id>/versions/", strict_slashes=False)
def get_versions(collection_id: str, object_id: str):
    coll, page = _read_page(collection_id, svc.object_page, object_id)
    _audit("taxii-read", {"collection": coll.name, "versions": object_id}, len(page.entries))
    return taxii_response({"more": False, "versions": [taxii_query.version_of(obj) for obj in page.objects]},
                          headers=_page_headers(page))


# -- adding objects, status ------------------------------------------------------------------------
@bp.post(f"/{ROOT}/collections/<collection_id>/objects/", strict_slashes=False)
def add_objects(collection_id: str):
    coll = svc.collection(collection_id)
    content_type = request.headers.get("Content-Type", "")
    if not _is_taxii21(content_type, wildcards=False):
        raise UnsupportedMediaType(f"send a TAXII envelope as Content-Type: {TAXII_MEDIA} "
                                   f"(got {content_type or 'none'})")
    try:
        envelope = json_input.loads(request.get_data())
    except json_input.JSONInputError as exc:
        raise Invalid(f"the body: {exc}", details={"line": exc.line, "column": exc.column}) from None
    status, lowered = taxii_submit.add_objects(_db(), g.principal, coll, envelope, utcnow(),
                                               review_days=current_app.config["REGISTRY"].review_days)
    ids = [o.get("id") for o in envelope.get("objects", []) if isinstance(o, dict)]
    _audit("taxii-submit", {"collection": coll.name, "status": status["id"], "ids": ids}, status["success_count"])
    audit_lowered(lowered)
    return taxii_response(status, 202)


@bp.get(f"/{ROOT}/status/<status_id>/", strict_slashes=False)
def get_status(status_id: str):
    with _db().read() as conn:
        return taxii_response(taxii_submit.read_status(conn, g.principal, status_id))


@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
def unknown(rest: str):
    """Anything else under /taxii2/ still gets a TAXII error resource (routing errors otherwise
    never reach this blueprint's handlers)."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    try:
        endpoint, _args = adapter.match(request.path, method="GET")
    except (NotFound, MethodNotAllowed):
        endpoint = None
    if endpoint not in (None, "taxii.unknown"):  # a GET-only endpoint asked with another method
        raise MethodNotAllowed(valid_methods=["GET", "HEAD", "OPTIONS"])
    raise NotFound(f"no TAXII endpoint at {request.path}")
