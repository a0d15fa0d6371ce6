"""``registry feeds``: load the partner feed catalogue, run a feed, read the feeds' health and runs."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from registry.cli.common import (
    EXIT_FAILED,
    cli_audit,
    echo_json,
    guard,
    json_option,
    open_db,
    settings,
)
from registry.domain.tlp import Viewer


@click.group()
def feeds() -> None:
    """Partner feeds: load the catalogue (feeds/*.toml), run them, read their history."""


@feeds.command("sync")
@click.option("--path", "folder", type=click.Path(path_type=Path, file_okay=False),
              help="Catalogue folder (default REGISTRY_FEEDS_PATH, ./feeds).")
@json_option()
@guard
def feeds_sync(folder, as_json) -> None:
    """Load the catalogue into the database; prints what changed."""
    from registry.services.feeds import sync_catalogue

    db = open_db()
    report = sync_catalogue(db, folder, settings=settings())
    cli_audit("feeds-sync", report.to_dict(), len(report.added) + len(report.changed), db=db)
    if as_json:
        echo_json(report.to_dict())
        return
    for line in report.lines():
        click.echo(line)


@feeds.command("list")
@json_option()
def feeds_list(as_json) -> None:
    """Every feed: format, schedule, last run, status, health; counts of the last complete run."""
    from registry.ingest.catalogue import STREAM
    from registry.services.feeds import list_feeds

    rows = list_feeds(open_db(), Viewer.operator())
    if as_json:
        echo_json(rows)
        return
    click.echo(f"{'feed':<24} {'format':<15} {'schedule':<14} {'last run':<20} {'status':<12} {'health':<9} "
               f"{'rows':>8} {'new':>7} {'upd':>6} {'exp':>6} {'rej':>5}")
    for f in rows:
        last, counts = f["last_run"] or {}, f["last_ok_run"] or {}  # counts: the last run that read it all
        schedule = f["schedule"]
        if f["format"] == STREAM:  # followed, not scheduled: its connection's counts so far
            schedule, counts = "followed", last
        click.echo(f"{f['name']:<24} {f['format']:<15} {schedule:<14} {last.get('started') or '-':<20} "
                   f"{last.get('status', '-'):<12} {f['health']:<9} {counts.get('rows', 0):>8,} "
                   f"{counts.get('new', 0):>7,} {counts.get('updated', 0):>6,} {counts.get('expired', 0):>6,} "
                   f"{counts.get('rejected', 0):>5,}")


def _run_line(r: dict) -> str:
    http = f"HTTP {r['http_status']}, " if r["http_status"] else ""
    return (f"{r['feed']} run {r['id']}: {r['status']} ({http}{r['bytes']:,} bytes, {r['duration'] or 0:.1f} s): "
            f"rows {r['rows']:,}, new {r['new']:,}, updated {r['updated']:,}, unchanged {r['unchanged']:,}, "
            f"expired {r['expired']:,}, allowlisted {r['allowlisted']:,}, rejected {r['rejected']:,}, held {r['held']:,}")


@feeds.command("run")
@click.argument("name")
@json_option("Print the run's figures as JSON.")
@guard
def feeds_run(name, as_json) -> None:
    """Run one feed now (exit status 1 when the run fails)."""
    from registry.services.feeds import FeedBusy, run_feed

    db = open_db()
    bars: dict = {}

    def progress(what: str, done: int, total: int | None) -> None:
        if what not in bars and total:
            label = f"{name}: {'reading' if what == 'rows' else what}"
            bars[what] = click.progressbar(length=total, label=label, file=sys.stderr)
            bars[what].__enter__()
        if what in bars:
            bars[what].update(done - bars[what].pos)

    show = sys.stderr.isatty() and not as_json
    try:
        result = run_feed(db, name, trigger="cli", progress=progress if show else None, settings=settings())
    except FeedBusy as exc:
        click.echo(f"not run: {exc.message}", err=True)
        sys.exit(EXIT_FAILED)
    finally:
        for bar in bars.values():
            bar.__exit__(None, None, None)
    data = result.to_dict()
    cli_audit("feed-run", {"feed": name, "run": result.id, "status": result.status}, result.new + result.updated, db=db)
    if as_json:
        echo_json(data)
    else:
        _echo_run(data)
    if result.failed:
        sys.exit(EXIT_FAILED)


def _echo_run(data: dict) -> None:
    click.echo(_run_line(data))
    if data["anomaly"]:
        click.echo(f"  anomaly: {data['anomaly']}")
    if data["error"]:
        click.echo(f"  error: {data['error']}")
    for r in data["rejects"][:10]:
        click.echo(f"  rejected line {r['line']}: {r['text'][:80]!r}: {r['reason']}")
    if data["rejected"] > 10:
        click.echo(f"  … and {data['rejected'] - 10:,} more rejected")


@feeds.command("runs")
@click.argument("name")
@click.option("--limit", type=click.IntRange(1, 200), default=20, show_default=True)
@json_option()
@guard
def feeds_runs(name, limit, as_json) -> None:
    """A feed's run history, newest first."""
    from registry.services.feeds import feed_runs

    page = feed_runs(open_db(), name, Viewer.operator(), limit=limit)
    if as_json:
        echo_json(page["runs"])
        return
    click.echo(f"{'started':<20} {'status':<12} {'HTTP':>4} {'bytes':>11} {'rows':>8} {'new':>7} {'upd':>6} "
               f"{'same':>7} {'exp':>6} {'allow':>5} {'rej':>5} {'secs':>6}")
    for r in page["runs"]:
        note = r["error"] or r["anomaly"] or ""
        click.echo(f"{r['started']:<20} {r['status']:<12} {r['http_status'] or '-':>4} {r['bytes']:>11,} "
                   f"{r['rows']:>8,} {r['new']:>7,} {r['updated']:>6,} {r['unchanged']:>7,} {r['expired']:>6,} "
                   f"{r['allowlisted']:>5,} {r['rejected']:>5,} {r['duration'] or 0:>6.1f}  {note[:100]}")
