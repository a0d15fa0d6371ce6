"""Exports under /api/v1/export (reader role): ``GET /api/v1/export/FORMAT`` for stix, csv,
text, cidr, rpz and json, and the MISP feed under ``/api/v1/export/misp/`` (``manifest.json``,
``hashes.csv``, ``<event uuid>.json``).

Every answer is read in one transaction (the ETag and the data come from the same snapshot),
carries a weak ETag and answers 304 to a matching If-None-Match without reading the data; the
body is streamed, gzip-compressed when the client accepts gzip, and one that cannot finish ends
as an error to the client, never as a short body that looks complete (``web.streaming``; so
HTTP/1.0 requests get 505). Every export is audited, a 304 too (it tells the caller the data is
unchanged).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack

from flask import Blueprint, Response, current_app, g, request

from registry.domain.roles import READER
from registry.domain.times import utcnow
from registry.services import exports
from registry.services.errors import NotFound
from registry.web import streaming
from registry.web.api import _plain_parameters, audit, position_header, sealer
from registry.web.auth import require

bp = Blueprint("exports", __name__, url_prefix="/api/v1/export")
bp.before_request(_plain_parameters)

GZIP_LEVEL = 6
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
MISP_FOLDER = "the MISP feed is a folder: fetch /api/v1/export/misp/manifest.json, hashes.csv and <event uuid>.json"


def _db():
    return current_app.extensions["registry.db"]


def _half_lifes() -> dict[str, float]:
    return current_app.config["REGISTRY"].half_lifes


def _wants_gzip() -> bool:
    return request.accept_encodings["gzip"] > 0


def gzipped(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The chunks as one gzip stream, compressed as they pass (memory stays flat). The trailer
    comes only after the last chunk: a stream that breaks has none, and gunzip says so."""
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)  # wbits 31: a gzip header and trailer
    for chunk in chunks:
        out = compressor.compress(chunk)
        if out:
            yield out
    yield compressor.flush()


def deliver(fmt: str, produce: Callable, *, mimetype: str, filename: str | None = None,
            subject: dict | None = None) -> Response:
    """Open one read transaction, answer 304 when the client's ETag still holds, else stream
    ``produce(conn, viewer, query, now)``'s chunks (it may raise a RegistryError before the
    first byte). The transaction ends when the response is closed, streamed to the end or not."""
    streaming.require_chunked()
    viewer = g.principal.viewer
    query = exports.ExportQuery.parse(request.args.to_dict(), sealer=sealer())
    now = utcnow()
    reading = ExitStack()  # closed with the response, or at once on a 304 or an error
    try:
        conn = reading.enter_context(_db().read())
        tag = exports.etag(conn, viewer, fmt + "/" + (subject or {}).get("file", ""), query, sealer=sealer(), now=now)
        audit("export", {"format": fmt, **(subject or {}), **request.args.to_dict()}, None)
        headers = {"ETag": f'W/"{tag}"', "Vary": "Accept-Encoding, Authorization", "Cache-Control": "private, no-cache",
                   **position_header(conn)}
        if request.if_none_match.contains_weak(tag):
            reading.close()
            return Response(status=304, headers=headers)
        chunks = produce(conn, viewer, query, now)
        if _wants_gzip():
            chunks = gzipped(chunks)
            headers["Content-Encoding"] = "gzip"
        body = streaming.body(chunks)
    except BaseException:
        reading.close()
        raise
    if filename:
        headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response = Response(body, mimetype=mimetype, headers=headers)
    response.call_on_close(reading.close)
    return response


@bp.get("/<fmt>")
@require(READER)
def export(fmt: str):
    exports.check_format(fmt)
    if fmt == "misp":
        raise NotFound(MISP_FOLDER, field="format")
    half_lifes = _half_lifes()

    def produce(conn, viewer, query, now):
        return exports.stream(conn, viewer, fmt, query, now=now, half_lifes=half_lifes, sealer=sealer())

    return deliver(fmt, produce, mimetype=exports.MEDIA_TYPES[fmt], filename=exports.FILE_NAMES[fmt])


# -- the MISP feed: MISP appends /manifest.json to the feed URL, so a URL given with its
# trailing slash asks for …/misp//manifest.json; both spellings are served.
def _misp_routes(path: str):
    def decorate(view):
        bp.add_url_rule(f"/misp/{path}", view_func=view, methods=["GET"])
        bp.add_url_rule(f"/misp//{path}", endpoint=view.__name__ + "_double_slash", view_func=view,
                        methods=["GET"], merge_slashes=False)
        return view

    return decorate


@bp.get("/misp/")
@require(READER)
def misp_folder():
    raise NotFound(MISP_FOLDER, field="format")


@_misp_routes("manifest.json")
@require(READER)
def misp_manifest():
    def produce(conn, viewer, query, now):
        return iter([exports.misp_manifest(conn, viewer, query, now=now)])

    return deliver("misp", produce, mimetype="application/json", subject={"file": "manifest.json"})


@_misp_routes("hashes.csv")
@require(READER)
def misp_hashes():
    def produce(conn, viewer, query, now):
        return exports.misp_hashes(conn, viewer, query, now=now)

    return deliver("misp", produce, mimetype="text/csv; charset=utf-8", subject={"file": "hashes.csv"})


@_misp_routes("<event_file>")
@require(READER)
def misp_event(event_file: str):
    exports.ExportQuery.parse(request.args.to_dict(), sealer=sealer())  # bad filters are a 400, whatever the event
    event_id = event_file.removesuffix(".json")
    if not event_file.endswith(".json") or not _UUID.fullmatch(event_id):
        raise NotFound(f"no {event_file!r} in the MISP feed: {MISP_FOLDER}", field="event")

    def produce(conn, viewer, query, now):
        return exports.misp_event(conn, viewer, query, event_id, now=now)

    return deliver("misp", produce, mimetype="application/json", subject={"file": event_file})
