"""``registry export``: what the registry holds, in one of the export formats, to a file or stdout."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from registry.cli.common import Fail, cli_audit, guard, open_db, settings
from registry.domain.kinds import KINDS
from registry.domain.tlp import Viewer


@click.command("export")
@click.option("--format", "fmt", type=click.Choice(["stix", "csv", "text", "cidr", "rpz", "misp", "json"]), required=True,
              help="stix: a STIX 2.1 bundle; csv: one indicator a row with its provenance summary; text: one value "
                   "a line; cidr: merged IPv4 and IPv6 blocks; rpz: a DNS response-policy zone; json: JSON lines; "
                   "misp: a MISP feed folder.")
@click.option("--kind", type=click.Choice(KINDS))
@click.option("--label", help="Only assertions carrying this label.")
@click.option("--source", help="Only this org's assertions (and sightings, for stix).")
@click.option("--since", help="An ISO date or time, or a change sequence number: only what changed after it.")
@click.option("--min-score", type=click.IntRange(0, 100), help="Only indicators scoring at least this (not stix, misp).")
@click.option("--include-expired", is_flag=True, help="Keep assertions past their valid_until.")
@click.option("--include-allowlisted", is_flag=True, help="Keep allowlisted values.")
@click.option("--zone", help="rpz: the zone's name (default rpz.registry.local).")
@click.option("--raw", is_flag=True, help="csv: the exact values, for machines (by default cells a spreadsheet "
                                          "would compute, such as +66… or =…, start with an added ').")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="File to write (default: standard output); for misp a folder (required).")
@guard
def export_cmd(fmt, kind, label, source, since, min_score, include_expired, include_allowlisted, zone, raw,
               output) -> None:
    """Export what the registry holds (all of it: the CLI runs as the operator)."""
    from registry.services import exports

    query = exports.ExportQuery.parse({"kind": kind, "label": label, "source": source, "since": since,
                                       "min_score": min_score, "include_expired": include_expired,
                                       "include_allowlisted": include_allowlisted, "zone": zone, "raw": raw})
    subject = {"format": fmt, **{k: v for k, v in (("kind", kind), ("label", label), ("source", source),
               ("since", since), ("min_score", min_score), ("zone", zone)) if v is not None},
               **({"raw": True} if raw else {})}
    db = open_db()
    if fmt == "misp":
        if output is None:
            raise Fail("the MISP feed is a folder: give it with -o FOLDER")
        if output.exists() and not output.is_dir():
            raise Fail(f"{output} is a file; the MISP feed is a folder")
        events = exports.write_misp_folder(db, Viewer.operator(), query, output)
        cli_audit("export", subject, events, db=db)
        click.echo(f"wrote {events:,} events, manifest.json and hashes.csv to {output}", err=True)
        return
    if output is not None and output.is_dir():
        raise Fail(f"{output} is a folder; give a file name")
    written = 0
    with db.read() as conn:
        chunks = exports.stream(conn, Viewer.operator(), fmt, query, half_lifes=settings().half_lifes)
        target = output.open("wb") if output else sys.stdout.buffer
        try:
            for chunk in chunks:
                target.write(chunk)
                written += len(chunk)
        finally:
            if output:
                target.close()
    cli_audit("export", subject, db=db)
    if output:
        click.echo(f"wrote {written:,} bytes to {output}", err=True)
