"""The runner of a TAXII 2.1 feed: the collection pulled from the stored ``added_after``
position by ``services.federation``, each page imported in its own transaction; the run's
counts and lease are brought up to date after each page."""

from __future__ import annotations

from registry.ingest.fetch import FetchError
from registry.services.federation import PullFailed, pull_collection
from registry.services.feed_runs import RunContext, StopRun, finish_run, write_conn
from registry.services.submit import SubmitReport
from registry.storage import feeds as store


def run(ctx: RunContext) -> None:
    feed, run = ctx.feed, ctx.run
    headers = ctx.headers()

    def on_page(counts: dict) -> None:
        run.rows, run.new, run.updated = counts["read"], counts["new"], counts["updated"]
        run.unchanged, run.allowlisted, run.rejected = counts["unchanged"], counts["allowlisted"], counts["rejected"]
        with ctx.db.write() as conn:
            store.update_run(conn, run.id, **run.counts())
            store.renew_lease(conn, feed.id, ctx.owner, ctx.lease_until)
        if ctx.should_stop is not None and ctx.should_stop():
            raise StopRun(store.INTERRUPTED, "stopped on request; the next run pulls again from the saved position")

    try:
        counts, cursor = pull_collection(ctx.db, feed.url, feed.options["collection"], since=feed.cursor,
                                         org=feed.provider, feed=feed.name, headers=headers, on_page=on_page,
                                         review_days=ctx.settings.review_days)
    except PullFailed as exc:
        raise FetchError(exc.message) from None
    run.http_status = 200
    ctx.state = {"etag": None, "last_modified": None, "cursor": cursor}
    with write_conn(ctx.db) as conn:
        report = SubmitReport(read=counts["read"], new=counts["new"], updated=counts["updated"],
                              unchanged=counts["unchanged"], allowlisted=counts["allowlisted"],
                              rejected=counts["rejected"], held=counts["held"], held_values=counts["held_values"])
        finish_run(ctx, conn, report, counts["read"])
