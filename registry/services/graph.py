"""The pivot graph: what is linked to a value, one or two steps out, as a viewer may see it
(docs/design.md, "The pivot graph"). The API, the CLI and the pages call ``neighbourhood``.

Breadth first over the relationships the viewer may see (their own TLP and stating org under the
one rule): a relationship the viewer may not see is no edge, and a value reached only through one
is no node. Each node's ``listed`` and ``score`` come from one batch lookup of every node's value
with the same viewer, so they say exactly what the viewer's own lookup of that value would.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from registry.domain import same_file
from registry.domain.kinds import FILE_HASH, Value
from registry.domain.normalize import NormalizeError, normalize_one
from registry.domain.operations import GRAPH_DEPTHS, GRAPH_MAX_NODES
from registry.domain.tlp import Viewer
from registry.services import collector
from registry.services.errors import Invalid
from registry.services.lookup import lookup
from registry.storage import aliases
from registry.storage import indicator_reads as reads
from registry.storage import indicators as ind_store
from registry.storage import relationships as store

DEFAULT_DEPTH = 2  # "two steps out", the API's and the command's default alike
# Relationships read per step at most: a value linked to tens of thousands (a shared host) would
# otherwise be read whole to draw 200 of them; past it the answer says ``truncated``.
ROWS_PER_STEP = 20_000


def depth_of(raw: object) -> int:
    """A depth given as a query parameter, option or number: 1 or 2 (absent: DEFAULT_DEPTH)."""
    if raw is None or raw == "":
        return DEFAULT_DEPTH
    text = str(raw).strip() if isinstance(raw, str | int) and not isinstance(raw, bool) else None
    if text is None or text not in {str(d) for d in GRAPH_DEPTHS}:
        shown = repr(raw[:40] if isinstance(raw, str) else raw)
        raise Invalid(f"depth must be 1 or 2, not {shown}", field="depth",
                      details={"allowed": list(GRAPH_DEPTHS)})
    return int(text)


def neighbourhood(conn: Connection, value: str, viewer: Viewer, depth: object = DEFAULT_DEPTH, *,
                  region: str | None = None, now: datetime | None = None,
                  half_lifes: dict[str, float] | None = None) -> dict:
    """``{"value", "depth", "nodes", "edges", "truncated", "cap"}`` around ``value`` (read as a
    lookup reads it: a hash of a known file is that file). Nodes ``{"kind", "value", "listed",
    "score", "distance"}``, the value asked for first, then by distance; edges ``{"id", "source",
    "target", "type", "org", "tlp", "confidence"}``. At most GRAPH_MAX_NODES nodes: nearer ones
    first, and within a step those reached by the stronger statement (confidence, then the
    older); ``truncated`` is true when more were linked. A value nothing visible links to (or
    unknown) is a graph of one node, not an error: it answers as its lookup would.

    Its reads (one per step, one for the outermost ring's own links, the values, the lookup) are
    several statements: on a ``Database.read()`` connection they see one snapshot."""
    # Nothing here builds a reference cycle: a collector's pass over what a large process holds
    # (the listed networks, the caches) would cost more than the whole answer (docs/performance.md, "Graph").
    with collector.paused():
        return _neighbourhood(conn, value, viewer, depth_of(depth), region, now, half_lifes)


def _neighbourhood(conn: Connection, value: str, viewer: Viewer, depth: int, region: str | None,
                   now: datetime | None, half_lifes: dict[str, float] | None) -> dict:
    if not isinstance(value, str) or not value.strip():
        raise Invalid("give the value whose links to show", field="value")
    try:
        asked = normalize_one(value, None, region)
    except NormalizeError as exc:
        raise Invalid(str(exc), field="value") from None
    root_id, root_value = _root(conn, asked)
    distance: dict[int, int] = {}  # indicator id → steps from the root, in answer order
    edges: dict[int, store.Edge | store.RelationshipRow] = {}
    truncated = False
    if root_id is not None:
        distance[root_id] = 0
        truncated = _walk(conn, root_id, viewer, depth, distance, edges)
    values = reads.values_of(conn, list(distance))
    shown = [values[i] for i in distance] if distance else [(asked.kind, root_value)]
    answers = lookup(conn, [v for _, v in shown], viewer, now=now, half_lifes=half_lifes)
    nodes = [{"kind": kind, "value": v, "listed": bool(a.get("listed")), "score": a.get("score", 0),
              "distance": d} for (kind, v), a, d in zip(shown, answers, [*distance.values()] or [0], strict=True)]
    return {
        "value": root_value,
        "depth": depth,
        "nodes": nodes,
        "edges": [{"id": e.uid, "source": values[e.source_id][1], "target": values[e.target_id][1], "type": e.type,
                   "org": e.org, "tlp": e.tlp, "confidence": e.confidence} for e in edges.values()],
        "truncated": truncated,
        "cap": GRAPH_MAX_NODES,
    }


def _root(conn: Connection, asked: Value) -> tuple[int | None, str]:
    """The indicator the value names (id, canonical value): its own, or else the file a hash of
    it is an alias of; None when no indicator holds it."""
    ids = ind_store.indicator_ids(conn, [asked.value])
    if asked.value in ids:
        return ids[asked.value], asked.value
    if asked.kind == FILE_HASH:
        hashes = same_file.hashes_of(asked)
        linked = aliases.aliased(conn, hashes)
        for h in hashes:
            if h in linked:
                file_ids = ind_store.indicator_ids(conn, [linked[h]])
                return file_ids.get(linked[h]), linked[h]
    return None, asked.value


def _walk(conn: Connection, root_id: int, viewer: Viewer, depth: int, distance: dict[int, int],
          edges: dict[int, store.Edge | store.RelationshipRow]) -> bool:
    """Fill ``distance`` and ``edges`` breadth first from ``root_id``; whether more was linked
    than they hold."""
    frontier = [root_id]
    expanded: set[int] = set()  # nodes whose every visible relationship was read
    truncated = False
    for step in range(1, depth + 1):
        if not frontier:
            break
        rows, complete = store.edges_touching(conn, frontier, viewer, limit=ROWS_PER_STEP)
        if complete:
            expanded.update(frontier)
        found: dict[int, None] = {}
        for e in rows:
            for end in (e.source_id, e.target_id):
                if end not in distance:
                    found[end] = None
        room = GRAPH_MAX_NODES - len(distance)
        new = list(found)[:room]
        truncated = not complete or len(found) > room
        for node in new:
            distance[node] = step
        for e in rows:
            if e.source_id in distance and e.target_id in distance:
                edges.setdefault(e.id, e)
        frontier = new
        if truncated:
            break
    # The links among the nodes whose relationships were not read (the outermost ring's own).
    unread = [n for n in distance if n not in expanded]
    for e in store.between(conn, unread, viewer) if len(unread) > 1 else ():
        edges.setdefault(e.id, e)
    return truncated
