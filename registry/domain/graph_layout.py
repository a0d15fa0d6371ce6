"""Where the pivot graph's nodes and edges go on the page (docs/web.md, "The pivot graph").

A radial tree, deterministic and pure: the value asked for in the centre, each step out a ring
around it. Every node of a ring hangs under its parent one ring in (the first node of the answer
it is linked to there), and every node gets a share of the circle as wide as the outermost nodes
under it, so a neighbour's own neighbours sit in a fan beside it. Each ring's radius leaves one
label's height between neighbouring nodes (``PITCH``), labels run outwards along the radius, and
the rings lie far enough apart for the labels in between: 200 nodes stay readable.

Input is the graph answer's shape (``services.graph``): nodes ``{"value", "kind", "distance",
"listed", "score"}`` in answer order (the value asked for first), edges ``{"source", "target",
"type", "org"}``. Several statements about one pair are drawn as one line naming each type once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

PITCH = 13.0  # along a ring, between neighbouring nodes: a label's height and a little
MIN_RADIUS = 120.0  # of the first ring
LABEL_CHARS = 26  # longer values are cut (the whole value is the node's title and in the table)
CHAR_WIDTH = 6.0  # of the labels' font, roughly: how much room a label takes
EDGE_LABEL_GAP = 46.0  # an edge's label is centred this far before its outer end
BEND = 0.25  # how far an edge across the fans bows out, as a share of its length
RADIUS = 5.0  # of a node's circle; the value asked for gets ROOT_RADIUS
ROOT_RADIUS = 9.0
_EDGE_ROOM = 2 * EDGE_LABEL_GAP + 12  # between a ring's labels and the next ring, for edge labels


@dataclass(frozen=True)
class PlacedNode:
    value: str
    kind: str
    distance: int
    listed: bool
    score: int
    x: float
    y: float
    r: float
    label: str  # the value, cut to LABEL_CHARS
    label_x: float
    label_y: float
    rotate: float  # degrees, about (label_x, label_y)
    anchor: str  # SVG text-anchor: start, end or middle


@dataclass(frozen=True)
class PlacedEdge:
    source: str
    target: str
    label: str  # the types stated about this pair, each once
    path: str  # SVG path data, from the source's rim to the target's (where the arrow head goes)
    label_x: float
    label_y: float
    rotate: float


@dataclass(frozen=True)
class Layout:
    nodes: list[PlacedNode]
    edges: list[PlacedEdge]
    left: float  # the drawing's bounds, its labels included, with a margin
    top: float
    width: float
    height: float

    @property
    def view_box(self) -> str:
        return f"{self.left:g} {self.top:g} {self.width:g} {self.height:g}"


def layout(nodes: Sequence[dict], edges: Sequence[dict]) -> Layout:
    if not nodes:
        return Layout([], [], 0.0, 0.0, 0.0, 0.0)
    order = {n["value"]: i for i, n in enumerate(nodes)}
    distance = {n["value"]: n["distance"] for n in nodes}
    root = nodes[0]["value"]
    children = _tree(nodes, edges, order, distance)
    weight: dict[str, int] = {}
    _weigh(root, children, weight)
    angle: dict[str, float] = {root: 0.0}
    _spread(root, -math.pi / 2, 2 * math.pi, children, weight, angle)
    radius = _radii(nodes, angle)
    placed = {}
    for n in nodes:
        value = n["value"]
        ring = radius[n["distance"]]
        x, y = ring * math.cos(angle[value]), ring * math.sin(angle[value])
        placed[value] = _node(n, x, y, angle[value], is_root=value == root)
    parent = {kid: value for value, kids in children.items() for kid in kids}
    drawn = _edges(edges, placed, parent, order)
    left, top, right, bottom = _bounds(placed.values(), drawn)
    return Layout([placed[n["value"]] for n in nodes], drawn, left, top, round(right - left, 1), round(bottom - top, 1))


def _tree(nodes: Sequence[dict], edges: Sequence[dict], order: dict[str, int],
          distance: dict[str, int]) -> dict[str, list[str]]:
    """Each node's children: the nodes one ring out whose parent it is (their first neighbour
    in answer order one ring in)."""
    inward: dict[str, list[str]] = {}
    for e in edges:
        a, b = e["source"], e["target"]
        if a in order and b in order:
            for near, far in ((a, b), (b, a)):
                if distance[near] == distance[far] - 1:
                    inward.setdefault(far, []).append(near)
    children: dict[str, list[str]] = {n["value"]: [] for n in nodes}
    root = nodes[0]["value"]
    for n in nodes[1:]:
        value = n["value"]
        parents = inward.get(value)
        children[min(parents, key=order.__getitem__) if parents else root].append(value)
    return children


def _weigh(value: str, children: dict[str, list[str]], weight: dict[str, int]) -> int:
    """How many outermost places the subtree under ``value`` needs (at least one)."""
    total = sum(_weigh(child, children, weight) for child in children[value])
    weight[value] = max(1, total)
    return weight[value]


def _spread(value: str, start: float, span: float, children: dict[str, list[str]], weight: dict[str, int],
            angle: dict[str, float]) -> None:
    """Give each child of ``value`` a share of ``[start, start + span)`` by its weight, the child
    in the middle of its share."""
    kids = children[value]
    if not kids:
        return
    total = sum(weight[k] for k in kids)
    for kid in kids:
        share = span * weight[kid] / total
        angle[kid] = start + share / 2
        _spread(kid, start, share, children, weight, angle)
        start += share


def _radii(nodes: Sequence[dict], angle: dict[str, float]) -> dict[int, float]:
    """Each ring's radius: PITCH between its closest neighbours (and their edges' labels), and out
    of the way of the ring inside it and of its labels."""
    rings: dict[int, list[float]] = {}
    reach: dict[int, float] = {0: 0.0}
    for n in nodes[1:]:
        d = n["distance"]
        rings.setdefault(d, []).append(angle[n["value"]])
        reach[d] = max(reach.get(d, 0.0), _label_width(n["value"]) + RADIUS + 8)
    radius = {0: 0.0}
    inner = 0
    for d in sorted(rings):
        turns = sorted(a % (2 * math.pi) for a in rings[d])
        gaps = [b - a for a, b in zip(turns, turns[1:], strict=False)] + [2 * math.pi - turns[-1] + turns[0]]
        closest = max(min(gaps), 1e-6)
        least = MIN_RADIUS if d == 1 else radius[inner] + reach[inner] + _EDGE_ROOM
        # PITCH between neighbours at the ring's edge labels too, which sit EDGE_LABEL_GAP inside it.
        radius[d] = round(max(least, PITCH / closest + EDGE_LABEL_GAP), 1)
        inner = d
    return radius


def _bounds(nodes, edges: list[PlacedEdge]) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) around every circle, label and edge label, with a margin."""
    xs, ys = [], []
    for n in nodes:
        xs += [n.x - n.r, n.x + n.r]
        ys += [n.y - n.r, n.y + n.r]
        width = len(n.label) * CHAR_WIDTH
        if n.anchor == "middle":  # the root's, under it, in a larger font
            xs += [n.label_x - width * 0.65, n.label_x + width * 0.65]
            ys.append(n.label_y + 8)
        else:  # runs outwards along the node's direction from (label_x, label_y)
            turn = math.atan2(n.y, n.x)
            xs.append(n.label_x + width * math.cos(turn))
            ys.append(n.label_y + width * math.sin(turn))
    for e in edges:  # a bent edge's middle may lie outside every node
        xs.append(e.label_x)
        ys.append(e.label_y)
    margin = 8
    return (round(min(xs) - margin, 1), round(min(ys) - margin, 1), round(max(xs) + margin, 1),
            round(max(ys) + margin, 1))


def _label_width(value: str) -> float:
    return min(len(value), LABEL_CHARS) * CHAR_WIDTH


def _node(n: dict, x: float, y: float, turn: float, *, is_root: bool) -> PlacedNode:
    value = n["value"]
    label = value if len(value) <= LABEL_CHARS else value[: LABEL_CHARS - 1] + "…"
    if is_root:
        return PlacedNode(value, n["kind"], 0, n["listed"], n["score"], 0.0, 0.0, ROOT_RADIUS, label, 0.0,
                          round(ROOT_RADIUS + 14, 1), 0.0, "middle")
    gap = RADIUS + 4
    lx, ly = x + gap * math.cos(turn), y + gap * math.sin(turn)
    degrees, anchor = _upright(math.degrees(turn))
    return PlacedNode(value, n["kind"], n["distance"], n["listed"], n["score"], round(x, 1), round(y, 1), RADIUS,
                      label, round(lx, 1), round(ly, 1), degrees, "start" if anchor else "end")


def _upright(degrees: float) -> tuple[float, bool]:
    """A text direction that does not read upside down: (degrees, whether it still points the
    original way)."""
    degrees = (degrees + 180) % 360 - 180
    if -90 <= degrees <= 90:
        return round(degrees, 1), True
    return round(degrees + 180 if degrees < 0 else degrees - 180, 1), False


def _edges(edges: Sequence[dict], placed: dict[str, PlacedNode], parent: dict[str, str],
           order: dict[str, int]) -> list[PlacedEdge]:
    pairs: dict[tuple[str, str], list[str]] = {}
    for e in edges:
        if e["source"] in placed and e["target"] in placed:
            types = pairs.setdefault((e["source"], e["target"]), [])
            if e["type"] not in types:
                types.append(e["type"])
    out = [_edge(placed[source], placed[target], ", ".join(types), parent) for (source, target), types in pairs.items()]
    out.sort(key=lambda e: (order[e.source], order[e.target]))
    return out


def _edge(a: PlacedNode, b: PlacedNode, label: str, parent: dict[str, str]) -> PlacedEdge:
    """An edge of the tree is straight, its label near its outer end (where a fan of edges is
    furthest apart). Any other bends outwards, away from the centre and the fans it crosses, its
    label in its middle."""
    dx, dy = b.x - a.x, b.y - a.y
    length = math.hypot(dx, dy) or 1.0
    tree = parent.get(b.value) == a.value or parent.get(a.value) == b.value
    if tree:
        cx, cy = (a.x + b.x) / 2, (a.y + b.y) / 2
    else:
        nx, ny = -dy / length, dx / length  # a normal; turned to point away from the centre
        mx, my = (a.x + b.x) / 2, (a.y + b.y) / 2
        if nx * mx + ny * my < 0:
            nx, ny = -nx, -ny
        cx, cy = mx + nx * length * BEND, my + ny * length * BEND
    # Both ends are trimmed to the circles' rims along the curve (the arrow head ends at the rim).
    x1, y1 = _towards(a.x, a.y, cx, cy, a.r)
    x2, y2 = _towards(b.x, b.y, cx, cy, b.r + 2)
    if tree and length > 3 * EDGE_LABEL_GAP:
        along = length - EDGE_LABEL_GAP if parent.get(b.value) == a.value else EDGE_LABEL_GAP
        lx, ly = a.x + dx / length * along, a.y + dy / length * along
    else:  # the curve's middle
        lx, ly = (a.x + 2 * cx + b.x) / 4, (a.y + 2 * cy + b.y) / 4
    degrees, _ = _upright(math.degrees(math.atan2(dy, dx)))
    path = f"M{x1:g} {y1:g} L{x2:g} {y2:g}" if tree else f"M{x1:g} {y1:g} Q{cx:.1f} {cy:.1f} {x2:g} {y2:g}"
    return PlacedEdge(a.value, b.value, label, path, round(lx, 1), round(ly, 1), degrees)


def _towards(x: float, y: float, tx: float, ty: float, by: float) -> tuple[float, float]:
    """(x, y) moved ``by`` towards (tx, ty), rounded."""
    dx, dy = tx - x, ty - y
    length = math.hypot(dx, dy) or 1.0
    return round(x + dx / length * by, 1), round(y + dy / length * by, 1)


def by_outer_end(nodes: Sequence[dict], edges: Sequence[dict]) -> dict[str, list[dict]]:
    """Each edge once, under its outer end (the farther from the value asked for; of two as far,
    the later in the answer): what the neighbours' table and the command's text list under each
    neighbour, so every edge is shown once and the value asked for has none."""
    rank = {n["value"]: (n["distance"], i) for i, n in enumerate(nodes)}
    out: dict[str, list[dict]] = {}
    for e in edges:
        s, t = e["source"], e["target"]
        out.setdefault(s if rank[s] > rank[t] else t, []).append(e)
    return out
