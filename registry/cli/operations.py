"""``registry op``: operations (docs/cli.md, "Exporting an operation").

``op export ID -o FILE`` writes one operation for a partner: a STIX 2.1 bundle (the default) or
a MISP event (``--format misp``), as the operator sees it (services.operation_stix and
services.operation_misp: the same bundle and event the API answers).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson

from registry.cli.common import Fail, cli_audit, guard, open_db


@click.group("op")
def op() -> None:
    """Operations: indicators that belong together, and their exchange."""


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
