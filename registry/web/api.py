"""REST API under /api/v1.

Until API keys exist (the member API issue) requests are anonymous and see TLP:CLEAR only.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from registry import config
from registry.domain.tlp import CLEAR, Viewer
from registry.services.errors import Invalid
from registry.services.lookup import lookup as do_lookup

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _settings():
    return current_app.config["REGISTRY"]


def _viewer() -> Viewer:
    return Viewer(org="anonymous", max_tlp=CLEAR)


def _lookup(values: list[str], region: str | None) -> list[dict]:
    db = current_app.extensions["registry.db"]
    with db.read() as conn:
        return do_lookup(conn, values, _viewer(), region=region, half_lifes=config.half_lifes(_settings()))


@bp.get("/lookup")
def lookup_one():
    value = request.args.get("value")
    if not value:
        raise Invalid("give the value to look up as ?value=…", field="value")
    return jsonify(_lookup([value], request.args.get("region"))[0])


@bp.post("/lookup")
def lookup_batch():
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("values"), list):
        raise Invalid('send JSON {"values": ["…", …]}', field="values")
    limit = int(config.get("MAX_BATCH", _settings()))
    values = body["values"]
    if len(values) > limit:
        raise Invalid(f"at most {limit} values per batch; got {len(values)}", field="values")
    region = body.get("region")
    return jsonify({"results": _lookup(values, region)})
