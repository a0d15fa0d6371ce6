"""The runner of a MISP feed: the manifest, then the events that are new or changed since the
last successful run (``ingest.misp`` reads both). The position is the manifest's timestamp of
each event read; an event that cannot be fetched or read is a rejected row, retried next run."""

from __future__ import annotations

import json

from registry.ingest import misp as misp_format
from registry.ingest.fetch import FetchError, fetch
from registry.ingest.records import FeedFormatError
from registry.ingest.textio import check_head
from registry.services.feed_runners.batches import Batches
from registry.services.feed_runs import RunContext, ended_not_modified, finish_run, write_conn
from registry.services.imports import to_submission


def run(ctx: RunContext) -> None:
    feed, run = ctx.feed, ctx.run
    url = feed.url if feed.url.endswith(".json") else feed.url.rstrip("/") + "/manifest.json"
    root = url.rsplit("/", 1)[0] + "/"
    limits, headers = ctx.limits(), ctx.headers()
    with fetch(url, etag=feed.etag, last_modified=feed.last_modified, headers=headers, limits=limits) as fetched:
        if ended_not_modified(ctx, fetched):
            return
        check_head(fetched.head(), name="manifest.json")
        entries = misp_format.parse_manifest(fetched.path.read_bytes())
        validators = {"etag": fetched.etag, "last_modified": fetched.last_modified}
    seen = json.loads(feed.cursor or "{}").get("events", {})
    todo = [e for e in entries if seen.get(e.uuid) != e.timestamp]
    done = {e.uuid: e.timestamp for e in entries if seen.get(e.uuid) == e.timestamp}
    to_ids_only = feed.options.get("to_ids_only", True)
    with write_conn(ctx.db) as conn:
        batches = Batches(ctx, conn)
        with batches.submitter(parallel=False) as submitter:
            for n, entry in enumerate(todo, start=1):
                try:
                    with fetch(root + entry.uuid + ".json", headers=headers, limits=limits) as event_file:
                        run.bytes += event_file.wire_bytes
                        event = misp_format.parse_event(event_file.path.read_bytes(), name=f"{entry.uuid}.json",
                                                        to_ids_only=to_ids_only)
                except (FetchError, FeedFormatError) as exc:
                    submitter.reject(None, f"event {entry.uuid}", str(exc))  # retried next run
                    continue
                batches.count(len(event.records))
                for record in event.records:
                    sub = to_submission(record)
                    sub.tlp = event.tlp
                    submitter.add(sub)
                done[entry.uuid] = entry.timestamp
                if ctx.progress is not None:
                    ctx.progress("events", n, len(todo))
            report = submitter.finish()
        ctx.state = {**validators, "cursor": json.dumps({"events": done}, separators=(",", ":"))}
        finish_run(ctx, conn, report, batches.rows)
