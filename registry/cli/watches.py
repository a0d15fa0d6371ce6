"""``registry watch add|list|remove``: an org's watches, managed by the server's operator
(docs/cli.md, "Watches"). Each add and remove is audited with the operator's record."""

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
from registry.domain.kinds import KINDS
from registry.services.access import ON_SERVER


@click.group()
def watch() -> None:
    """Watches: values, blocks and labels whose events an org receives."""


def _what(w: dict) -> str:
    watched = f"{w['value']} ({w['kind']})" if w["value"] is not None else f"label {w['label']}"
    narrowed = [f"{name} {','.join(w[name])}" for name in ("kinds", "labels", "sources") if w[name]]
    return watched + (f", only {'; '.join(narrowed)}" if narrowed else "")


@watch.command("add")
@click.option("--org", "org_slug", required=True, help="The org that watches.")
@click.argument("value", required=False)
@click.option("--kind", "kinds", multiple=True, type=click.Choice(KINDS),
              help="Only events of this kind (repeat for several).")
@click.option("--label", "labels", multiple=True,
              help="With VALUE: only events carrying this label (repeat for several). Without VALUE: watch this "
                   "one label wherever it is reported.")
@click.option("--source", "sources", multiple=True, help="Only events about this org's reports (repeat for several).")
@json_option()
@guard
def watch_add(org_slug, value, kinds, labels, sources, as_json) -> None:
    """Watch VALUE (an IP or CIDR, domain, URL, phone number or block such as "+85597*", account,
    wallet or hash) for ORG, or with no VALUE the one --label given."""
    from registry.services import watches

    if value is None and len(labels) > 1:
        raise click.UsageError("a label watch watches one label: give one --label, or a VALUE to narrow by labels")
    label = labels[0] if value is None and labels else None
    db = open_db()
    with db.write() as conn:
        added = watches.add(conn, org_slug, cli_actor(), value=value, kinds=kinds,
                            labels=labels if value is not None else (), sources=sources, label=label,
                            region=settings().default_region)
    cli_audit("watch-add", watches.audit_subject(added.watch, new=added.new, org=org_slug), 1, db=db)
    if as_json:
        echo_json(added.watch)
        return
    click.echo(f"{'watching' if added.new else 'already watching'} {_what(added.watch)}: watch {added.watch['id']}")


@watch.command("list")
@click.option("--org", "org_slug", required=True, help="The org whose watches to list.")
@json_option()
@guard
def watch_list(org_slug, as_json) -> None:
    """The org's watches, oldest first."""
    from registry.services import watches

    with open_db().read() as conn:
        rows = watches.list_watches(conn, org_slug)
    if as_json:
        echo_json(rows)
        return
    for w in rows:
        click.echo(f"{w['id']}  {w['created']}  {w['actor'] or '-':<20} {_what(w)}")
    if not rows:
        click.echo(f"{org_slug} watches nothing")


@watch.command("remove")
@click.option("--org", "org_slug", required=True, help="The org whose watch it is.")
@click.argument("watch_id")
@guard
def watch_remove(org_slug, watch_id) -> None:
    """Remove the org's watch WATCH_ID (as `watch add` or `watch list` showed it)."""
    from registry.services import watches

    db = open_db()
    with db.write() as conn:
        removed = watches.remove(conn, org_slug, watch_id, by=ON_SERVER)
    cli_audit("watch-remove", watches.audit_subject(removed, org=org_slug), 1, db=db)
    click.echo(f"removed watch {removed['id']}: {_what(removed)}")
