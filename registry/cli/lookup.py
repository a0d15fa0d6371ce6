"""``registry lookup`` and ``registry search``: what the registry knows about values and networks."""

from __future__ import annotations

import click

from registry.cli.common import Fail, cli_audit, echo_json, guard, json_option, open_db, settings
from registry.domain.grading import grade_text
from registry.domain.kinds import KINDS
from registry.domain.tlp import Viewer


@click.command()
@click.argument("values", nargs=-1)
@click.option("--file", "file", type=click.File("r", encoding="utf-8-sig"), help="Read values from a file, one a line ('-' for stdin).")
@click.option("--region", help="Region for national phone numbers (ISO alpha-2); default REGISTRY_DEFAULT_REGION.")
@click.option("--kind", type=click.Choice(KINDS), help="Kind of every value (default: detected per value).")
@click.option("--platform", help="Read every value as an account on this platform (telegram, line, …), so @name reads.")
@click.option("--purpose", help="Why you look these values up: recorded in the lookup's audit row.")
@click.option("--case-ref", "case_ref", help="The case the lookup is for: recorded in its audit row.")
@json_option("Print a JSON list, one answer per value, in input order.")
@guard
def lookup(values, file, region, kind, platform, purpose, case_ref, as_json) -> None:
    """Is this value known? By whom, how sure, under which TLP?"""
    from registry.services import collector
    from registry.services import purpose as why_mod
    from registry.services.lookup import lookup as do_lookup

    # The command line is the operator's, of no org: no org's requirement applies
    # (docs/cli.md#lookup); a purpose given is recorded all the same.
    why = why_mod.read(purpose, case_ref, labels=("--purpose", "--case-ref"))
    queries = list(values)
    if file is not None:
        queries.extend(line.strip() for line in file if line.strip() and not line.lstrip().startswith("#"))
    if not queries:
        raise Fail("give values to look up, or --file")
    db = open_db()
    # The collector stays off until the answers are written and freed: turned on while they
    # live, its next pass would scan every one (docs/performance.md, "Lookups").
    with collector.paused(len(queries) >= 1000):
        with db.read() as conn:
            answers = do_lookup(conn, queries, Viewer.operator(), region=(region or settings().default_region or "").upper() or None,
                                kind=kind, platform=platform, half_lifes=settings().half_lifes)
        _echo_answers(answers, as_json)
        listed = sum(1 for a in answers if a.get("listed"))
        del answers
    cli_audit("lookup", why_mod.audit_subject(queries, why), listed, db=db)


def _echo_answers(answers: list[dict], as_json: bool) -> None:
    if as_json:
        echo_json(answers)
        return
    for answer in answers:
        click.echo(format_answer(answer))


def format_answer(answer: dict) -> str:
    if "error" in answer:
        return f"{answer['query']}: cannot parse: {answer['error']}"
    status = "LISTED" if answer["listed"] else "not listed"
    if answer["allowlisted"]:
        status += f", ALLOWLISTED ({answer.get('allowlist_reason')})"
    if answer.get("disputed"):  # an open dispute (docs/cli.md, "Disputes")
        status += f", DISPUTED since {answer['disputed']['since'][:10]} (dispute {answer['disputed']['id']})"
    lines = [f"{answer['query']}  [{answer['kind']} {answer['value']}]  {status}  score {answer['score']}"]
    for m in answer["matches"]:
        lines.append(f"  {m['match']}: {m['value']}")
        for a in m["assertions"]:
            labels = ",".join(a["labels"]) or "-"
            via = f" via {a['feed']}" if a["feed"] else ""
            grade = grade_text(a.get("reliability"), a.get("credibility"))
            lines.append(
                f"    {a['source']}{via}: confidence {a['confidence']}, {f'graded {grade}, ' if grade else ''}"
                f"TLP:{a['tlp'].upper()}, labels {labels}, "
                f"seen {a['first_seen'][:10]}..{a['last_seen'][:10]}, reported {a['times_reported']}x"
            )
        for s in m["sightings"]:
            lines.append(f"    sighted by {s['source']} {s['count']}x, last {s['last_seen'][:10]}")
    for h in answer.get("history", ()):  # ended: listed no more (docs/design.md, "Listed means in force")
        via = f" via {h['feed']}" if h["feed"] else ""
        lines.append(f"  history: {h['match']}: {h['value']} listed by {h['source']}{via} until {h['ended'][:10]} "
                     f"({h['why']})")
    for o in answer.get("operations", ()):  # docs/cli.md, "Operations"
        lines.append(f"  operation: {o['name']} ({o['id']}, {o['org']}, TLP:{o['tlp'].upper()})")
    if answer.get("related"):
        lines.append(f"  related: {answer['related']} relationship(s)")
    return "\n".join(lines)


@click.command()
@click.option("--within", required=True, help="A CIDR: list what is listed inside it.")
@click.option("--limit", type=click.IntRange(1, 100000), default=1000, show_default=True)
@json_option()
@guard
def search(within, limit, as_json) -> None:
    """Search the registry (for now: what is listed inside a network)."""
    from registry.services.lookup import search_within

    with open_db().read() as conn:
        result = search_within(conn, within, Viewer.operator(), limit=limit)
    if as_json:
        echo_json(result)
        return
    for r in result["results"]:
        sources = ", ".join(sorted({a["source"] for a in r["assertions"]}))
        flag = " (allowlisted)" if r["allowlisted"] else ""
        click.echo(f"{r['value']:<40} {r['kind']:<5} {sources}{flag}")
    more = " (more: raise --limit)" if result["truncated"] else ""
    click.echo(f"{result['count']} listed inside {result['within']}{more}")
