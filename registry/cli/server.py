"""The commands that set a registry up and run its processes: ``init``, ``demo``, ``serve``, ``scheduler``."""

from __future__ import annotations

import os
import sys

import click

from registry.cli.common import guard, open_db, settings


@click.command()
def init() -> None:
    """Create or upgrade the database schema."""
    from registry.storage import migrate
    from registry.storage.db import Database

    db = Database(settings().database_url)
    migrate.upgrade(db)
    db.dispose()
    click.echo(f"database ready: {db.engine.url.render_as_string(hide_password=True)}")
    if not settings().secret_key:
        click.echo(f"secret key: {settings().ensure_secret_key()}")


@click.command()
@guard
def demo() -> None:
    """Load demo organisations and indicators from the sample feeds bundled with the project."""
    from registry.demo import load_demo

    for line in load_demo(open_db(), keys_file=settings().instance_path / "demo-keys.txt", settings=settings()):
        click.echo(line)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", type=int, help="Gunicorn workers (default: 2 × cores + 1).")
@click.option("--dev", is_flag=True, help="Flask's development server (one process, reloader off).")
@click.option("--scheduler", "with_scheduler", is_flag=True, help="Also run the feed scheduler (one machine).")
def serve(host, port, workers, dev, with_scheduler) -> None:
    """Serve the API."""
    from registry.web.serve import run

    workers = workers or (2 * (os.cpu_count() or 1) + 1)
    open_db()  # initialise an empty database before workers start
    run(settings(), host=host, port=port, workers=workers, dev=dev, scheduler=with_scheduler)


@click.command()
def scheduler() -> None:
    """Run every enabled feed on its schedule and deliver webhooks until SIGTERM (which ends the
    batch in hand first)."""
    import logging
    import signal

    from registry.scheduler import FeedScheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    feed_scheduler = FeedScheduler(open_db(), settings=settings())
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: feed_scheduler.stopping.set())
    count = feed_scheduler.start()
    click.echo(f"scheduler: {count} feeds scheduled, webhooks delivered; SIGTERM stops it", err=True)
    while not feed_scheduler.stopping.wait(1):
        pass
    click.echo("scheduler: stopping after the batches in hand", err=True)
    feed_scheduler.stop()
