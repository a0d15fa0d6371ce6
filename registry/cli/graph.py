"""``registry graph VALUE``: what is linked to a value, two steps out (docs/cli.md, "Graph")."""

from __future__ import annotations

import click

from registry.cli.common import cli_audit, echo_json, guard, json_option, open_db, settings
from registry.domain.graph_layout import by_outer_end
from registry.domain.operations import GRAPH_DEPTHS
from registry.domain.tlp import RED, Viewer


@click.command()
@click.argument("value")
@click.option("--depth", type=click.Choice([str(d) for d in GRAPH_DEPTHS]), default="2", show_default=True,
              help="Steps out from the value.")
@click.option("--org", help="See what this org's users would (its RED too, no other org's); default: everything.")
@click.option("--region", help="Region for a national phone number (ISO alpha-2); default REGISTRY_DEFAULT_REGION.")
@json_option("Print the graph as the API answers it.")
@guard
def graph(value, depth, org, region, as_json) -> None:
    """What is linked to VALUE: its neighbours by distance, each with the relationships that reach it."""
    from registry.services import graph as graph_mod
    from registry.services.orgs import require_org

    db = open_db()
    with db.read() as conn:
        if org:
            require_org(conn, org)
        viewer = Viewer(org, RED) if org else Viewer.operator()
        answer = graph_mod.neighbourhood(conn, value, viewer, int(depth),
                                         region=(region or settings().default_region or "").upper() or None,
                                         half_lifes=settings().half_lifes)
    if as_json:
        echo_json(answer)
    else:
        click.echo(format_graph(answer))
    cli_audit("graph", {"value": value, "depth": int(depth), **({"org": org} if org else {})}, len(answer["nodes"]),
              db=db)


def _node(node: dict) -> str:
    status = "LISTED" if node["listed"] else "not listed"
    return f"{node['value']}  [{node['kind']}]  {status}  score {node['score']}"


def format_graph(answer: dict) -> str:
    """The nodes by distance, each with its relationships to nodes no farther out (each
    relationship once, under its outer end: ``graph_layout.by_outer_end``)."""
    nodes = answer["nodes"]
    reaching = by_outer_end(nodes, answer["edges"])
    lines = [_node(nodes[0])]
    for step in sorted({n["distance"] for n in nodes[1:]}):
        lines.append(f"{step} step{'s' if step > 1 else ''} out:")
        for n in nodes[1:]:
            if n["distance"] == step:
                lines.append(f"  {_node(n)}")
                for e in reaching.get(n["value"], ()):
                    s, t = e["source"], e["target"]
                    arrow = f"{e['type']} -> {t}" if s == n["value"] else f"<- {e['type']} {s}"
                    lines.append(f"      {arrow}  ({e['org']}, TLP:{e['tlp'].upper()})")
    if len(nodes) == 1:
        lines.append("  nothing linked to it that you may see")
    more = f"; truncated: more are linked than the cap of {answer['cap']}" if answer["truncated"] else ""
    lines.append(f"{len(nodes)} node{'s' if len(nodes) != 1 else ''}, {len(answer['edges'])} "
                 f"relationship{'s' if len(answer['edges']) != 1 else ''} (cap {answer['cap']} nodes){more}")
    return "\n".join(lines)

