"""``registry disputes``: the operator's view of disputes (list, show), deciding one for an org
or for every org, and flagging overdue ones to their sources (docs/cli.md, "disputes")."""

from __future__ import annotations

import click

from registry.cli.common import (
    cli_actor,
    cli_audit,
    echo_json,
    guard,
    json_option,
    open_db,
    settings,
)
from registry.domain import disputes as rules
from registry.services.access import ON_SERVER


@click.group()
def disputes() -> None:
    """Disputes of listed values: list, show, decide, flag overdue ones."""


@disputes.command("list")
@click.option("--status", type=click.Choice(rules.STATUSES), help="Only open or closed ones (default: both).")
@json_option()
@guard
def disputes_list(status, as_json) -> None:
    """Every dispute, newest first."""
    from registry.services.disputes import list_disputes

    rows = list_disputes(open_db(), ON_SERVER, status=status, dispute_days=settings().dispute_days)
    if as_json:
        echo_json(rows)
        return
    click.echo(f"{'id':<36}  {'status':<6} {'since':<20} {'overdue':<7} {'awaiting':<24} value")
    for d in rows:
        click.echo(f"{d['id']:<36}  {d['status']:<6} {d['since']:<20} {'yes' if d['overdue'] else '':<7} "
                   f"{','.join(d['awaiting']) or '-':<24} {d['value']}")


@disputes.command("show")
@click.argument("dispute_id")
@json_option()
@guard
def disputes_show(dispute_id, as_json) -> None:
    """One dispute: who disputed and why, and each decision."""
    from registry.services.disputes import get_dispute

    d = get_dispute(open_db(), dispute_id, ON_SERVER, dispute_days=settings().dispute_days)
    if as_json:
        echo_json(d)
        return
    _echo(d)


def _echo(d: dict) -> None:
    click.echo(f"dispute {d['id']}: {d['value']} ({d['kind']}), {d['status']} since {d['since']}"
               f"{', overdue' if d['overdue'] else ''}{', closed ' + d['closed'] if d['closed'] else ''}")
    click.echo(f"  disputed by {d['disputer']['org']} ({d['disputer']['actor'] or '-'}): {d['reason']}")
    if d["evidence"]:
        click.echo(f"  evidence: {d['evidence']}")
    for x in d["decisions"]:
        click.echo(f"  {x['decided']} {x['org']}{' via ' + x['feed'] if x['feed'] else ''}: {x['decision']}"
                   f"{' (' + x['actor'] + ')' if x.get('actor') else ''}{': ' + x['note'] if x['note'] else ''}")
    if d["awaiting"]:
        click.echo(f"  awaiting: {', '.join(d['awaiting'])}")


@disputes.command("decide")
@click.argument("dispute_id")
@click.argument("decision", type=click.Choice(rules.DECISIONS))
@click.option("--org", "org_slug", help="Decide for this org's assertions only (default: every org's, and close it).")
@click.option("--note", help="Why (shown to the sources and the disputer).")
@json_option()
@guard
def disputes_decide(dispute_id, decision, org_slug, note, as_json) -> None:
    """Decide a dispute as the registry's operator: delist ends the assertions, uphold keeps them."""
    from registry.services.disputes import decide, decision_subject

    db = open_db()
    d = decide(db, dispute_id, decision, note, by=ON_SERVER, org=org_slug, actor=cli_actor(),
               dispute_days=settings().dispute_days)
    applied = d["applied"]
    cli_audit("decision", decision_subject(d, decision, note), applied["assertions"], db=db)
    if as_json:
        echo_json(d)
        return
    click.echo(f"{decision}: {applied['assertions']} assertion(s) of {', '.join(applied['orgs']) or 'no org'}")
    _echo(d)


@disputes.command("flag")
@json_option()
@guard
def disputes_flag(as_json) -> None:
    """Flag the disputes open longer than REGISTRY_DISPUTE_DAYS to the orgs still to decide (an
    audit event in each org's rows); the scheduler does this every hour too."""
    from registry.services.audit import AuditLog
    from registry.services.disputes import flag_overdue, record_flags

    db = open_db()
    result = flag_overdue(db, settings().dispute_days)
    log = AuditLog(db, synchronous=True)
    record_flags(log, result, actor=cli_actor())
    log.close()
    if as_json:
        echo_json(result)
        return
    for d in result["flagged"]:
        click.echo(f"flagged {d['id']} ({d['value']}, open since {d['since']}) to {', '.join(d['orgs'])}")
    for d in result["closed"]:
        click.echo(f"closed {d['id']} ({d['value']}): no report in force is left to decide on")
    if not result["flagged"] and not result["closed"]:
        click.echo("no dispute is overdue")
