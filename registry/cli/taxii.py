"""``registry taxii pull``: federation with another registry (or any TAXII 2.1 server)."""

from __future__ import annotations

import os
import sys

import click

from registry.cli.common import (
    EXIT_FAILED,
    Fail,
    cli_audit,
    echo_json,
    guard,
    json_option,
    open_db,
    settings,
)


@click.group()
def taxii() -> None:
    """TAXII 2.1: pull another registry's (or any TAXII server's) collection."""


@taxii.command("pull")
@click.argument("url")
@click.option("--collection", "collection", required=True,
              help="Collection id, or its alias/title as the API root lists it (e.g. indicators).")
@click.option("--org", "org_slug", required=True,
              help="Org the pulled objects belong to when the Identity they name is no org here.")
@click.option("--user", help="HTTP Basic user (on a registry: your org's slug there).")
@click.option("--password-env", help="Environment variable holding the password (on a registry: your API key there).")
@click.option("--full", is_flag=True, help="Ignore the stored cursor: pull everything again.")
@json_option()
@guard
def taxii_pull(url, collection, org_slug, user, password_env, full, as_json) -> None:
    """Pull what is new in a remote TAXII collection since the last pull (URL: its API root,
    e.g. https://registry.example/taxii2/api/). Exit status 1 when the remote cannot be read."""
    from registry.services.federation import PullFailed, pull

    password = None
    if password_env:
        password = os.environ.get(password_env)
        if password is None:
            raise Fail(f"{password_env} is not set")
    db = open_db()
    try:
        counts = pull(db, url, collection, org=org_slug, user=user, password=password, full=full,
                      review_days=settings().review_days)
    except PullFailed as exc:
        click.echo(f"pull failed: {exc.message}", err=True)
        sys.exit(EXIT_FAILED)
    cli_audit("taxii-pull", {"url": counts["url"], "collection": counts["collection"], "org": org_slug},
              counts["new"] + counts["updated"], db=db)
    if counts["held_values"]:  # delisted values not relisted (docs/feeds.md, "Held reports")
        cli_audit("held", {"url": counts["url"], "org": org_slug, "values": counts["held_values"]}, counts["held"],
                  db=db)
    if as_json:
        echo_json(counts)
        return
    click.echo(f"{counts['objects']} objects in {counts['pages']} pages: {counts['new']} new, "
               f"{counts['updated']} updated, {counts['unchanged']} unchanged, {counts['rejected']} rejected, "
               f"{counts['held']} held, "
               f"{counts['sightings']} sightings; next pull from {counts['cursor'] or 'the start'}")
