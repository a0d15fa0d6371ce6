"""``registry review``: an org's assertions falling due for review, and ``review purge`` of old
history (docs/cli.md, "Review dates")."""

from __future__ import annotations

import click

from registry.cli.common import Fail, cli_audit, echo_json, guard, json_option, open_db, settings
from registry.domain.tlp import Viewer


@click.group(invoke_without_command=True)
@click.option("--org", "org_slug", help="The org whose assertions to list.")
@click.option("--days", type=click.IntRange(0, 3650), default=30, show_default=True,
              help="List what falls due within this many days (and what has passed).")
@click.option("--limit", type=click.IntRange(1, 10000), default=1000, show_default=True)
@json_option("Print the listing as JSON.")
@click.pass_context
@guard
def review(ctx, org_slug, days, limit, as_json) -> None:
    """Review dates: list an org's assertions whose review date falls within --days, or has passed
    (they ended unconfirmed). Confirm one with POST /api/v1/assertions/ID/confirm or the review
    page; re-reporting a value confirms it too."""
    if ctx.invoked_subcommand is not None:
        return
    if not org_slug:
        raise Fail("give --org ORG (or a subcommand: purge)")
    from registry.domain.opaque import Sealer
    from registry.services.review import due

    secret = settings().resolved_secret_key()  # the server's, so the ids are the API's
    listing = due(open_db(), Viewer.operator(), org_slug, days=days, limit=limit,
                  sealer=Sealer(secret) if secret else None)
    if as_json:
        echo_json(listing)
        return
    for item in listing["assertions"]:
        via = f" via {item['feed']}" if item["feed"] else ""
        click.echo(f"{item['review_at'][:10]}  {item['status']:<5}  {item['kind']:<13} {item['value']}{via}  "
                   f"TLP:{item['tlp'].upper()}  last seen {item['last_seen'][:10]}  id {item['id'] or '-'}")
    more = " (more: raise --limit)" if listing["truncated"] else ""
    click.echo(f"{listing['count']} of {org_slug}'s assertions due for review within {days} days or ended{more}")


@review.command("purge")
@json_option()
@guard
def review_purge(as_json) -> None:
    """Delete assertions that ended more than REGISTRY_RETENTION_DAYS ago (the scheduler does
    this daily); the audit log keeps how many and which values."""
    from registry.services.review import purge

    config = settings()
    if config.retention_days <= 0:
        raise Fail("REGISTRY_RETENTION_DAYS is 0 (keep history forever): set it to the days after which "
                   "ended assertions are purged")
    db = open_db()
    count = purge(db, retention_days=config.retention_days, relist_days=config.relist_days,
                  record=lambda subject, n: cli_audit("review-purge", subject, n, db=db))
    if as_json:
        echo_json({"purged": count, "retention_days": config.retention_days})
    else:
        click.echo(f"purged {count} assertions that ended more than {config.retention_days} days ago")
    if not count:
        cli_audit("review-purge", {"retention_days": config.retention_days, "count": 0}, 0, db=db)
