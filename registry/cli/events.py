"""``registry events list|tail``: an org's events on the command line (docs/cli.md, "Events").

The operator runs the command, so it reads as the org at its widest (``Viewer(org, RED)``): what
any key or user of the org could at most see. ``tail`` follows live on the event signal
(``storage.event_signal``: PostgreSQL LISTEN, SQLite polling); Ctrl+C or SIGTERM stops it
cleanly, with exit status 0. Each is audited with the operator's record, as ``events-read`` and
``events-stream`` (the API's actions)."""

from __future__ import annotations

import os
import signal
import sys

import click
import orjson

from registry.cli.common import cli_audit, echo_json, guard, json_option, open_db
from registry.domain import events as ev
from registry.domain.tlp import RED, Viewer

WAIT_SECONDS = 5.0  # tail: the longest wait on the signal before reading again


class _Stopped(Exception):
    """SIGTERM asked ``tail`` to stop."""


def _line(event: dict) -> str:
    by = ev.acted_by(event["type"], event["org"]) or "-"
    return f"{event['seq']}  {event['time']}  {event['type']:<18}  {event['value'] or '-'}  {by}  TLP:{event['tlp'].upper()}"


def _print(event: dict, as_json: bool) -> None:
    if as_json:
        sys.stdout.buffer.write(orjson.dumps(event) + b"\n")
    else:
        sys.stdout.write(_line(event) + "\n")


def _org(db, slug: str):
    from registry.services.orgs import require_org

    with db.read() as conn:
        return require_org(conn, slug)


@click.group()
def events() -> None:
    """An org's events: what its watches matched and what touched its own indicators (the API's
    GET /api/v1/events, read as the org at its widest, TLP:RED)."""


@events.command("list")
@click.option("--org", "org_slug", required=True, help="The org whose events to list.")
@click.option("--after", type=click.IntRange(0), default=0, show_default=True,
              help="Events after this sequence number (the `next` of the last listing).")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@json_option('Print {"events": [...], "next": SEQ} as the API answers.')
@guard
def list_events(org_slug, after, limit, as_json) -> None:
    """One page of the org's events after --after, oldest first, then `next`: the --after of the
    next page (past events the org does not receive, so nothing is read twice)."""
    from registry.services.events import read

    db = open_db()
    org = _org(db, org_slug)
    with db.read() as conn:
        shown, next_seq = read(conn, Viewer(org.slug, RED), org.id, after=after, limit=limit)
    cli_audit("events-read", {"org": org.slug, "after": after, "scope": "org", "seqs": [e["seq"] for e in shown]},
              len(shown), db=db)
    if as_json:
        echo_json({"events": shown, "next": next_seq})
        return
    for event in shown:
        _print(event, False)
    click.echo(f"next {next_seq}")


@events.command("tail")
@click.option("--org", "org_slug", required=True, help="The org whose events to follow.")
@click.option("--after", type=click.IntRange(0), default=None,
              help="Start after this sequence number (default: from now on).")
@click.option("--all", "everything", is_flag=True,
              help="Every event the org may see, not only its own (what a federating registry follows).")
@json_option("One JSON object per line, as the API's events.")
@guard
def tail(org_slug, after, everything, as_json) -> None:
    """Print the org's events as they arrive, one a line (seq, time, type, value, the acting org or
    "an agency", TLP), until Ctrl+C or SIGTERM (exit status 0)."""
    from registry.services.events import follow
    from registry.storage.event_signal import signal_of

    db = open_db()
    org = _org(db, org_slug)
    waker = signal_of(db)
    start = waker.head() if after is None else after
    cli_audit("events-stream", {"org": org.slug, "after": after, "scope": "all" if everything else "org"}, db=db)

    def stop(_signum, _frame):
        raise _Stopped

    previous = signal.signal(signal.SIGTERM, stop)
    click.echo(f"following {org.slug}'s events after {start} (Ctrl+C to stop)", err=True)
    try:
        for batch in follow(db, Viewer(org.slug, RED), org.id, start, everything=everything, wait=waker.wait,
                            timeout=WAIT_SECONDS):
            for event in batch:
                _print(event, as_json)
            if batch:
                sys.stdout.flush()
    except (KeyboardInterrupt, _Stopped):
        pass
    except BrokenPipeError:  # `registry events tail … | head`: the reader went away
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    finally:
        signal.signal(signal.SIGTERM, previous)
        waker.stop()
