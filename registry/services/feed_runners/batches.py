"""Per-batch commits of a run that submits rows (one body, MISP): each batch lands with the
run's counts so far and the lease renewed, in one transaction."""

from __future__ import annotations

from registry.services.feed_runs import SUBMIT_COUNTS, RunContext, StopRun
from registry.services.submit import Provenance, Submitter, clean_labels
from registry.storage import feeds as store

UPSERT_STEP = 20_000  # values per upsert within a batch


class Batches:
    """The ``on_batch`` hook of the run's Submitter, on the run's connection."""

    def __init__(self, ctx: RunContext, conn) -> None:
        self.ctx, self.conn = ctx, conn
        self.size = int(ctx.feed.options.get("batch_size") or ctx.settings.feed_batch_size)
        self.rows = 0
        self.committed = 0  # rows read when the last batch committed

    def count(self, rows: int) -> None:
        self.rows += rows

    def submitter(self, *, parallel: bool) -> Submitter:
        # Upserts go in steps of at most UPSERT_STEP values (memory stays flat); a transaction
        # holds a whole batch: each commit writes the index pages its rows touched to the WAL
        # again, so commits as small as a step slow a large feed down (docs/performance.md).
        return Submitter(self.conn, provenance(self.ctx.feed, self.ctx.settings.review_days), now=self.ctx.run.started,
                         batch_size=min(self.size, UPSERT_STEP), on_batch=self, background_writes=parallel,
                         relist_days=self.ctx.settings.relist_days)

    def __call__(self, submitter: Submitter):
        """After the Submitter's flush: when a batch's worth of rows has been read since the last
        commit, the counts, taken now, and the commit, to run once the writes are done."""
        if self.rows - self.committed < self.size:
            return None
        self.committed = self.rows
        ctx, run = self.ctx, self.ctx.run
        report = submitter.report
        counts = {name: getattr(report, name) for name in SUBMIT_COUNTS}
        rejects = [r.to_dict() for r in report.rejects]
        rows = self.rows

        def commit() -> None:
            if not store.renew_lease(self.conn, ctx.feed.id, ctx.owner, ctx.lease_until):
                raise StopRun(store.FAILED, "the feed's lease was taken over by another process (this one was "
                                            "thought dead): its last batch was not committed")
            for name, value in counts.items():
                setattr(run, name, value)
            run.rejects, run.rows = rejects, rows
            store.update_run(self.conn, run.id, **run.counts())
            self.conn.commit()  # the next statement begins the next batch's transaction
            if ctx.should_stop is not None and ctx.should_stop():
                raise StopRun(store.INTERRUPTED, f"stopped on request after {rows:,} rows (the batches read are "
                                                 "kept; the next run reads the feed again)")

        return commit


def provenance(feed: store.FeedRow, review_days: dict[str, float] | None = None) -> Provenance:
    """What every row of the feed carries: its provider, name, TLP, confidence, labels and grading
    (checked by the catalogue, whose confidence is the credibility's when it gives none), and the
    settings' review days, by which its assertions get their review dates."""
    options = feed.options
    return Provenance(
        org=feed.provider, feed=feed.name, tlp=feed.tlp, confidence=feed.confidence,
        labels=clean_labels(feed.labels), region=options.get("region", "").upper() or None,
        kind=options.get("kind"), platform=options.get("platform"),
        reliability=options.get("reliability"), credibility=options.get("credibility"),
        external_ref=feed.url if feed.url.startswith(("http://", "https://")) else None, review_days=review_days,
    )
