"""``registry op``: operations on the server (create, add, remove, show, list, close, reopen,
note) and ``registry link`` / ``registry unlink``: relationships between values (docs/cli.md,
"Operations"). The command line is the operator (``ON_SERVER``): it creates and links for
``--org``, and changes an operation as its owner org; each command is audited as the API's is."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson

from registry.cli.common import (
    Fail,
    cli_actor,
    cli_audit,
    echo_json,
    guard,
    json_option,
    open_db,
    settings,
)
from registry.domain import operations as rules
from registry.domain.kinds import KINDS
from registry.services.access import ON_SERVER


@click.group("op")
def op() -> None:
    """Operations: values that belong together (one compound's numbers, accounts, domains)."""


@op.command("create")
@click.argument("name")
@click.option("--org", "org_slug", required=True, help="The owner org.")
@click.option("--tlp", help="Who may see it (default amber).")
@click.option("--label", "labels", multiple=True, help="A label (repeat for more).")
@click.option("--description", help="What it is.")
@json_option("Print the operation as JSON.")
@guard
def op_create(name, org_slug, tlp, labels, description, as_json) -> None:
    """Make an operation; prints its id."""
    from registry.services.operations import create

    db = open_db()
    made = create(db, ON_SERVER, name=name, description=description, tlp=tlp, labels=labels, org=org_slug,
                  actor=cli_actor())
    cli_audit("operation-create", {"id": made["id"], "name": made["name"], "org": made["org"], "tlp": made["tlp"]},
              1, db=db)
    if as_json:
        echo_json(made)
        return
    click.echo(made["id"])


@op.command("add")
@click.argument("operation_id")
@click.argument("values", nargs=-1, required=True)
@click.option("--region", help="Region for national phone and account numbers (ISO alpha-2); default "
                               "REGISTRY_DEFAULT_REGION.")
@click.option("--kind", type=click.Choice(KINDS), help="Kind of every value (default: detected per value).")
@json_option()
@guard
def op_add(operation_id, values, region, kind, as_json) -> None:
    """Add values of any kind to an operation, as its owner org."""
    from registry.services.operations import add_values

    db = open_db()
    result = add_values(db, operation_id, list(values), ON_SERVER, region=_region(region), kind=kind,
                        actor=cli_actor())
    cli_audit("operation-add", {"id": operation_id, "added": result["added"],
                                "rejected": [r["value"] for r in result["rejected"]]}, len(result["added"]), db=db)
    if as_json:
        echo_json(result)
        return
    for value in result["added"]:
        click.echo(f"added {value}")
    for value in result["already"]:
        click.echo(f"already {value}")
    for rejected in result["rejected"]:
        click.echo(f"rejected {rejected['value']}: {rejected['error']}")


def _region(region: str | None) -> str | None:
    return (region or settings().default_region or "").upper() or None


@op.command("remove")
@click.argument("operation_id")
@click.argument("value")
@click.option("--region", help="Region for a national phone or account number (ISO alpha-2).")
@guard
def op_remove(operation_id, value, region) -> None:
    """Remove a value from an operation."""
    from registry.services.operations import remove_value

    db = open_db()
    remove_value(db, operation_id, value, ON_SERVER, region=_region(region))
    cli_audit("operation-remove", {"id": operation_id, "value": value}, 1, db=db)
    click.echo(f"removed {value}")


@op.command("show")
@click.argument("operation_id")
@json_option()
@guard
def op_show(operation_id, as_json) -> None:
    """An operation: its members with who reported them, links, notes and recent activity."""
    from registry.services.operations import show

    db = open_db()
    shown = show(db, operation_id, ON_SERVER, half_lifes=settings().half_lifes)
    cli_audit("operations-read", {"id": shown["id"], "values": [m["value"] for m in shown["members"]]}, 1, db=db)
    if as_json:
        echo_json(shown)
        return
    _echo_operation(shown)


def _echo_operation(o: dict) -> None:
    labels = ",".join(o["labels"]) or "-"
    closed = f", closed {o['closed'][:10]}" if o["closed"] else ""
    click.echo(f"operation {o['id']}: {o['name']}")
    click.echo(f"  {o['status']}{closed}, {o['org']}, TLP:{o['tlp'].upper()}, labels {labels}, "
               f"last activity {(o['last_activity'] or '-')[:10]}")
    if o["description"]:
        click.echo(f"  {o['description']}")
    click.echo(f"members ({o['member_count']}):")
    for m in o["members"]:
        status = f"LISTED score {m['score']}" if m["listed"] else "not listed"
        reported = f", reported by {', '.join(m['reported_by'])}" if m["reported_by"] else ""
        also = f", also in {', '.join(x['name'] for x in m['also_in'])}" if m["also_in"] else ""
        click.echo(f"  {m['value']}  [{m['kind']}]  {status}{reported}{also}  (added by {m['added_by']} "
                   f"{m['added'][:10]})")
    if o["relationships"]:
        click.echo(f"links ({len(o['relationships'])}{', more not shown' if o['relationships_truncated'] else ''}):")
        for r in o["relationships"]:
            click.echo(f"  {r['source']} --{r['type']}--> {r['target']}  ({r['org']}, TLP:{r['tlp'].upper()}, "
                       f"confidence {r['confidence']})")
    for n in o["notes"]:
        click.echo(f"note {n['created'][:16]} {n['org']}: {n['text']}")
    if o["activity"]:
        click.echo("recent activity:")
        for a in o["activity"]:
            click.echo(f"  {a['time'][:16]}  {_activity_text(a)}")


def _activity_text(a: dict) -> str:
    what = a["type"]
    if what == "linked":
        return f"{a['org']} linked {a['value']} --{a['relationship']}--> {a['target']}"
    if what == "note":
        return f"{a['org']} added a note"
    if what == "added":
        return f"{a['org']} added {a['value']}"
    if what == "sighted":
        return f"{a['org']} sighted {a['value']} ({a['count']}x)"
    if what == "ended":
        return f"{a['org']}'s report of {a['value']} ended ({a['why']})"
    return f"{a['org']} reported {a['value']}"


@op.command("list")
@click.option("--org", "org_slug", help="Only this owner org's.")
@click.option("--status", type=click.Choice(rules.STATUSES), help="Only open or closed ones.")
@click.option("--label", help="Only those carrying this label.")
@click.option("--value", help="Only those holding this value.")
@click.option("--search", "text", help="Text in the name or description.")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@json_option()
@guard
def op_list(org_slug, status, label, value, text, limit, as_json) -> None:
    """Operations, newest first."""
    from registry.services.operations import listing

    db = open_db()
    rows = listing(db, ON_SERVER, text=text, status=status, label=label, org=org_slug, value=value,
                   region=_region(None), limit=limit)
    cli_audit("operations-read", {k: v for k, v in {"text": text, "status": status, "label": label, "org": org_slug,
                                                    "value": value}.items() if v is not None}, len(rows), db=db)
    if as_json:
        echo_json(rows)
        return
    click.echo(f"{'id':<36}  {'status':<6} {'org':<12} {'tlp':<12} {'last activity':<13} name")
    for o in rows:
        click.echo(f"{o['id']:<36}  {o['status']:<6} {o['org']:<12} {o['tlp']:<12} "
                   f"{(o['last_activity'] or '-')[:10]:<13} {o['name']}")


def _set_status(operation_id: str, status: str, as_json: bool) -> None:
    from registry.services.operations import set_status

    db = open_db()
    shown = set_status(db, operation_id, status, ON_SERVER)
    cli_audit("operation-status", {"id": operation_id, "status": status}, 1, db=db)
    if as_json:
        echo_json(shown)
        return
    click.echo(f"{shown['id']} {shown['status']}")


@op.command("close")
@click.argument("operation_id")
@json_option()
@guard
def op_close(operation_id, as_json) -> None:
    """Close an operation (it stays readable; reopen it with `registry op reopen`)."""
    _set_status(operation_id, rules.CLOSED, as_json)


@op.command("reopen")
@click.argument("operation_id")
@json_option()
@guard
def op_reopen(operation_id, as_json) -> None:
    """Open a closed operation again."""
    _set_status(operation_id, rules.OPEN, as_json)


@op.command("note")
@click.argument("operation_id")
@click.argument("text")
@guard
def op_note(operation_id, text) -> None:
    """Add a note to an operation, as its owner org."""
    from registry.services.operations import add_note

    db = open_db()
    note = add_note(db, operation_id, text, ON_SERVER, actor=cli_actor())
    cli_audit("operation-note", {"id": operation_id, "text": note["text"]}, 1, db=db)
    click.echo(f"noted on {operation_id}")


@click.command("link")
@click.argument("source")
@click.argument("target")
@click.option("--type", "type_", required=True, help=f"One of {', '.join(rules.RELATIONSHIP_TYPES)}.")
@click.option("--org", "org_slug", required=True, help="The org that states the link.")
@click.option("--tlp", help="Who may see it (default amber).")
@click.option("--confidence", type=click.IntRange(0, 100), help="How sure, 0-100 (default 50).")
@click.option("--description", help="Why they are linked.")
@click.option("--region", help="Region for national phone and account numbers (ISO alpha-2).")
@json_option()
@guard
def link(source, target, type_, org_slug, tlp, confidence, description, region, as_json) -> None:
    """State that SOURCE is linked to TARGET (SOURCE pays-to TARGET, …); prints the relationship's id.
    The org's statement of the same source, target and type is updated instead of repeated."""
    from registry.services.relationships import link as do_link

    db = open_db()
    made = do_link(db, ON_SERVER, source, target, type_, tlp=tlp, confidence=confidence, description=description,
                   org=org_slug, region=_region(region), actor=cli_actor())
    cli_audit("relationship-link", {k: made[k] for k in ("id", "status", "source", "target", "type", "tlp")}, 1,
              db=db)
    if as_json:
        echo_json(made)
        return
    click.echo(f"{made['id']} ({made['status']}): {made['source']} --{made['type']}--> {made['target']}")


@click.command("unlink")
@click.argument("relationship_id")
@guard
def unlink(relationship_id) -> None:
    """Remove a relationship (by the id `registry link` printed)."""
    from registry.services.relationships import unlink as do_unlink

    db = open_db()
    do_unlink(db, relationship_id, ON_SERVER)
    cli_audit("relationship-unlink", {"id": relationship_id}, 1, db=db)
    click.echo(f"removed {relationship_id}")


@op.command("export")
@click.argument("operation_id")
@click.option("--format", "fmt", type=click.Choice(["stix", "misp"]), default="stix", show_default=True,
              help="stix: one STIX 2.1 bundle (a grouping of the members, their Indicators and relationships); "
                   "misp: one MISP event (an object per member, relationships as object references).")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="File to write (default: standard output).")
@guard
def export(operation_id: str, fmt: str, output: Path | None) -> None:
    """Export operation OPERATION_ID (its id, as `registry op create` printed it)."""
    from registry.domain.times import utcnow
    from registry.services import operation_misp, operation_stix
    from registry.services.access import ON_SERVER

    if output is not None and output.is_dir():
        raise Fail(f"{output} is a folder; give a file name")
    db = open_db()
    with db.read() as conn:
        if fmt == "stix":
            bundle = operation_stix.operation_bundle(conn, operation_id, ON_SERVER)
            data, count = orjson.dumps(bundle, option=orjson.OPT_INDENT_2), len(bundle["objects"])
        else:
            data, count = operation_misp.operation_event(conn, operation_id, ON_SERVER, now=utcnow()), None
    if output is None:
        sys.stdout.buffer.write(data + b"\n")
    else:
        output.write_bytes(data)
    cli_audit("operation-export", {"id": operation_id, "format": fmt}, count, db=db)
    if output is not None:
        click.echo(f"wrote {len(data):,} bytes to {output}", err=True)
