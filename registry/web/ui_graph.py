"""The pivot graph on the page (docs/web.md, "The pivot graph"): ``/graph?value=V&depth=1|2`` and the
graph section of an indicator's page. An SVG drawn on the server (no script, nothing from another
host), each node a link to its own indicator page, and the same as a table of neighbours. The same
service and audit action as ``GET /api/v1/graph``."""

from __future__ import annotations

from flask import Blueprint, g, request

from registry.domain.graph_layout import by_outer_end, layout
from registry.domain.roles import READER
from registry.services import graph
from registry.services import purpose as why_mod
from registry.services.errors import Invalid
from registry.web.graph import MAX_VALUE, audit_subject
from registry.web.pages import audit, db, half_lifes, page, region, signed_in

bp = Blueprint("graph", __name__)

# An indicator's page draws the values linked to it directly (a small drawing among its other
# sections); the graph page two steps out, as the API and the command do by default.
INDICATOR_DEPTH = 1


def drawn(value: str, depth: int, why: why_mod.Purpose) -> dict:
    """What ``_graph.html`` shows: ``graph`` (the service's answer), ``drawing`` (where its nodes
    and edges go) and ``neighbours`` (the table's rows); audited as the API's graph is."""
    with db().read() as conn:
        answer = graph.neighbourhood(conn, value, g.principal.viewer, depth, region=region(), half_lifes=half_lifes())
    audit("graph", audit_subject(value, depth, why), len(answer["nodes"]))
    return {"graph": answer, "drawing": layout(answer["nodes"], answer["edges"]), "neighbours": neighbours(answer)}


def linked(value: str, why: why_mod.Purpose) -> dict:
    """The indicator page's graph (INDICATOR_DEPTH); none for a value that names no indicator (an
    emergency number, which the allowlist answers without reading it as one)."""
    try:
        return drawn(value, INDICATOR_DEPTH, why)
    except Invalid:
        return {"graph": None, "drawing": None, "neighbours": []}


def neighbours(answer: dict) -> list[dict]:
    """One row per neighbour and relationship, nearest first: the node, the relationship read from
    the neighbour's side (``outgoing``: the neighbour is its source) and the value at its other end."""
    reaching = by_outer_end(answer["nodes"], answer["edges"])
    rows = []
    for node in answer["nodes"][1:]:
        for e in reaching.get(node["value"], ()):
            outgoing = e["source"] == node["value"]
            rows.append({"node": node, "edge": e, "outgoing": outgoing,
                         "other": e["target"] if outgoing else e["source"]})
    return rows


def _depth() -> int:
    return graph.depth_of(request.args.get("depth"))


@bp.get("/graph")
@signed_in(READER)
def graph_page():
    from registry.web.ui import _purpose  # the indicator page's reading (ui imports this module)

    value = (request.args.get("value") or "").strip()
    shown = {"value": value, "depth": request.args.get("depth") or str(graph.DEFAULT_DEPTH)}
    try:
        why = _purpose(request.args)
    except Invalid as exc:  # nothing is shown: the page asks for the purpose, as an indicator's does
        return page("graph.html", 400, **shown, error=exc.message, ask_purpose=True,
                    form_purpose=request.args.get("purpose"), form_case_ref=request.args.get("case_ref"))
    try:
        if not value or len(value) > MAX_VALUE:
            raise Invalid("give the value whose links to show as ?value=…", field="value")
        depth = _depth()
        context = drawn(value, depth, why)
    except Invalid as exc:
        return page("graph.html", 400, **shown, error=exc.message)
    return page("graph.html", **shown, **context, on_graph_page=True)
