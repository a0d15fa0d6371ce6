"""The pivot graph's drawing (domain.graph_layout): deterministic, the value asked for in the centre and
each step out a ring, a neighbour's own neighbours in a fan beside it, room between neighbouring
nodes for a label at 200 nodes, every node and label inside the drawing, text never upside down."""

from __future__ import annotations

import math

from registry.domain.graph_layout import CHAR_WIDTH, LABEL_CHARS, PITCH, by_outer_end, layout


def _node(value: str, distance: int, kind: str = "domain") -> dict:
    return {"value": value, "kind": kind, "distance": distance, "listed": False, "score": 0}


def _edge(source: str, target: str, type_: str = "related-to") -> dict:
    return {"source": source, "target": target, "type": type_, "org": "ccib-th"}


def _star(inner: int, outer_each: int) -> tuple[list[dict], list[dict]]:
    """A root with ``inner`` neighbours, each with ``outer_each`` of its own."""
    nodes, edges = [_node("root.example", 0, "phone")], []
    for i in range(inner):
        nodes.append(_node(f"n{i}.example", 1))
        edges.append(_edge("root.example", f"n{i}.example", "pays-to"))
    for i in range(inner):
        for j in range(outer_each):
            nodes.append(_node(f"n{i}-{j}.example", 2))
            edges.append(_edge(f"n{i}.example", f"n{i}-{j}.example", "hosts"))
    return nodes, edges


def _angle(node) -> float:
    return math.atan2(node.y, node.x) % (2 * math.pi)


def test_rings_and_fans():
    nodes, edges = _star(3, 2)
    drawing = layout(nodes, edges)
    assert layout(nodes, edges) == drawing  # deterministic
    placed = {n.value: n for n in drawing.nodes}
    assert [n.value for n in drawing.nodes] == [n["value"] for n in nodes]
    root = placed["root.example"]
    assert (root.x, root.y, root.anchor, root.rotate) == (0.0, 0.0, "middle", 0.0)
    rings = {d: {round(math.hypot(n.x, n.y), 1) for n in drawing.nodes if n.distance == d} for d in (1, 2)}
    assert len(rings[1]) == len(rings[2]) == 1 and max(rings[1]) < min(rings[2])
    for i in range(3):  # each neighbour's own neighbours sit in a fan around its angle
        middle = _angle(placed[f"n{i}.example"])
        fan = sorted(_angle(placed[f"n{i}-{j}.example"]) for j in range(2))
        assert abs((fan[0] + fan[1]) / 2 - middle) < 1e-3 or abs(abs((fan[0] + fan[1]) / 2 - middle) - math.pi) < 1e-3
    assert [(e.source, e.target, e.label) for e in drawing.edges][:3] == [
        ("root.example", "n0.example", "pays-to"), ("root.example", "n1.example", "pays-to"),
        ("root.example", "n2.example", "pays-to")]
    assert all(e.path.startswith("M") and " L" in e.path for e in drawing.edges)  # tree edges are straight


def test_two_hundred_nodes_leave_room_for_labels_and_stay_inside():
    nodes, edges = _star(40, 4)  # 1 + 40 + 160 nodes, the cap's size
    nodes = nodes[:200]
    kept = {n["value"] for n in nodes}
    edges = [e for e in edges if e["source"] in kept and e["target"] in kept]
    drawing = layout(nodes, edges)
    assert drawing.view_box == f"{drawing.left:g} {drawing.top:g} {drawing.width:g} {drawing.height:g}"
    right, bottom = drawing.left + drawing.width, drawing.top + drawing.height
    for ring in (1, 2):
        on_ring = sorted((n for n in drawing.nodes if n.distance == ring), key=_angle)
        for a, b in zip(on_ring, [*on_ring[1:], on_ring[0]], strict=True):
            assert math.hypot(a.x - b.x, a.y - b.y) >= PITCH * 0.99  # an arc of PITCH: its chord is hardly shorter
    for n in drawing.nodes[1:]:  # each label, running outwards from its node, ends inside the drawing
        turn = math.atan2(n.y, n.x)
        end_x = n.label_x + math.cos(turn) * len(n.label) * CHAR_WIDTH
        end_y = n.label_y + math.sin(turn) * len(n.label) * CHAR_WIDTH
        assert drawing.left < min(n.x, end_x) and max(n.x, end_x) < right
        assert drawing.top < min(n.y, end_y) and max(n.y, end_y) < bottom
        assert -90 <= n.rotate <= 90  # never upside down: a label on the left runs back from its end
        assert n.anchor == ("start" if math.cos(turn) >= -1e-9 else "end")
    assert all(-90 <= e.rotate <= 90 for e in drawing.edges)


def test_long_values_are_cut_and_edges_across_fans_bend():
    long = "https://very-long-phishing-host.example/path/that/goes/on"
    nodes = [_node("root.example", 0), _node("a.example", 1), _node("b.example", 1), _node(long, 2, "url"),
             _node("c.example", 2)]
    edges = [_edge("root.example", "a.example"), _edge("root.example", "b.example"), _edge("a.example", long),
             _edge("b.example", "c.example"), _edge("b.example", long, "redirects-to"),
             _edge("a.example", long, "hosts"), _edge("a.example", "b.example", "same-operator")]
    drawing = layout(nodes, edges)
    cut = next(n for n in drawing.nodes if n.value == long)
    assert len(cut.label) == LABEL_CHARS and cut.label.endswith("…") and long.startswith(cut.label[:-1])
    by_pair = {(e.source, e.target): e for e in drawing.edges}
    assert by_pair[("a.example", long)].label == "related-to, hosts"  # one line per pair, each type once
    assert " Q" in by_pair[("b.example", long)].path  # not its parent: bent
    assert " Q" in by_pair[("a.example", "b.example")].path  # along the ring: bent
    assert " L" in by_pair[("a.example", long)].path


def test_alone_and_empty():
    alone = layout([_node("9.9.9.9", 0, "ipv4")], [])
    assert [(n.value, n.x, n.y) for n in alone.nodes] == [("9.9.9.9", 0.0, 0.0)] and alone.edges == []
    assert alone.width > 0 and alone.height > 0
    two = layout([_node("root.example", 0), _node("a.example", 1), _node("b.example", 1)],
                 [_edge("root.example", "a.example"), _edge("root.example", "b.example")])
    assert two.height < two.width / 3  # two neighbours on a line: the drawing is as tall as it needs
    assert layout([], []).nodes == []


def test_each_edge_is_listed_once_under_its_outer_end():
    nodes, edges = _star(2, 1)
    edges.append(_edge("n1.example", "n0.example", "same-operator"))  # along the ring: the later one
    under = by_outer_end(nodes, edges)
    assert "root.example" not in under
    assert sum(len(v) for v in under.values()) == len(edges)
    assert [e["type"] for e in under["n1.example"]] == ["pays-to", "same-operator"]
    assert [e["type"] for e in under["n0-0.example"]] == ["hosts"]
