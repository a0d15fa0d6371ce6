"""The runner of a feed that is one body at its URL (http(s) or file): text, csv, jsonl, json
and stix. The body is fetched to a spool file, its start checked against the format, then
parsed and submitted as a stream (``services.imports``), a STIX bundle read whole."""

from __future__ import annotations

import io
import os
import re

from registry.ingest import detect
from registry.ingest.fetch import Fetched, fetch
from registry.ingest.records import FeedFormatError
from registry.ingest.textio import check_head
from registry.services import imports
from registry.services.errors import Invalid
from registry.services.feed_runners.batches import Batches, provenance
from registry.services.feed_runs import RunContext, ended_not_modified, finish_run, write_conn
from registry.services.submit import clean_labels

_JSON_ARRAY = re.compile(rb'\[\s*[\[{"\]]')  # not a list starting `[2001:db8::1]:443`
_CSV_OPTIONS = ("columns", "delimiter", "has_header", "value_path")


def run(ctx: RunContext) -> None:
    feed = ctx.feed
    options = feed.options
    with fetch(feed.url, etag=feed.etag, last_modified=feed.last_modified, headers=ctx.headers(),
               limits=ctx.limits(), member=options.get("member")) as fetched:
        if ended_not_modified(ctx, fetched):
            return
        check_body(fetched.head(), feed.format, name=feed.name)
        ctx.state = {"etag": fetched.etag, "last_modified": fetched.last_modified, "cursor": feed.cursor}
        if feed.format == "stix":
            _submit_stix(ctx, fetched)
            return
        parallel = fetched.size > imports.PARALLEL_BYTES and (os.cpu_count() or 1) > 1
        on_bytes = None
        if ctx.progress is not None:
            done = [0]

            def on_bytes(n: int) -> None:
                done[0] += n
                ctx.progress("rows", done[0], fetched.size)

        csv_options = {k: options[k] for k in _CSV_OPTIONS if k in options}
        with fetched.open() as raw, write_conn(ctx.db) as conn:
            stream = io.BufferedReader(imports.CountingReader(raw, on_bytes), 1 << 16)
            batches = Batches(ctx, conn)
            with batches.submitter(parallel=parallel) as submitter:
                report = imports.run_import(submitter, stream, feed.format, name=feed.name, column=options.get("column"),
                                            parallel=parallel, kinds=options.get("kinds"), on_rows=batches.count,
                                            **csv_options)
            finish_run(ctx, conn, report, batches.rows)


def check_body(head: bytes, fmt: str, *, name: str) -> None:
    """Refuse a body that is not in the feed's format (``FeedFormatError`` saying what it is)."""
    check_head(head, name=name)  # binary data, UTF-16, an HTML page
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    looks_json = text[:1] == b"{" or _JSON_ARRAY.match(text) is not None
    if fmt in ("text", "csv"):
        if looks_json:
            raise FeedFormatError(f"the body is JSON, not a {fmt} feed", name=name)
        if text[:1] == b"<":
            raise FeedFormatError(f"the body is XML or markup, not a {fmt} feed", name=name)
        return
    if fmt in ("json", "jsonl", "stix") and text and not looks_json:
        raise FeedFormatError(f"the body is not JSON, so not a {fmt} feed", name=name)
    if fmt == "stix" and text:
        detected = detect.detect_format(head, name=name)
        if detected != "stix":
            raise FeedFormatError(f"the body is {detected}, not a STIX bundle", name=name)


def _submit_stix(ctx: RunContext, fetched: Fetched) -> None:
    """A STIX bundle, read whole, through the STIX importer in the run's final transaction.
    Objects naming no org of this registry are the provider's; orgs are never created from
    feed data."""
    # the STIX code loads only for STIX feeds
    from registry.services.stix_import import import_bundle

    feed = ctx.feed
    data = fetched.path.read_bytes()
    with write_conn(ctx.db) as conn:
        try:
            prov = provenance(feed)
            report = import_bundle(conn, data, default_org=feed.provider, tlp=feed.tlp, confidence=feed.confidence,
                                   labels=clean_labels(feed.labels), feed=feed.name, reliability=prov.reliability,
                                   credibility=prov.credibility, create_orgs=False,
                                   keep_results=False, now=ctx.run.started, review_days=ctx.settings.review_days)
        except Invalid as exc:
            raise FeedFormatError(exc.message, name=feed.name) from None
        finish_run(ctx, conn, report, report.indicators or report.read)
