"""The audit log's command (``audit verify``)."""

from __future__ import annotations

import sys

import click

from registry.cli.common import EXIT_FAILED, echo_json, json_option, open_db


@click.group()
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command("verify")
@json_option()
def audit_verify(as_json) -> None:
    """Check the hash chain: OK, or the first altered or missing row (exit 1)."""
    import dataclasses

    from registry.services.audit import verify

    result = verify(open_db())
    if as_json:
        echo_json(dataclasses.asdict(result))
    elif result.ok:
        click.echo(f"OK: {result.checked} rows checked")
    else:
        click.echo(f"BROKEN: {result.problem}")
    if not result.ok:
        sys.exit(EXIT_FAILED)
