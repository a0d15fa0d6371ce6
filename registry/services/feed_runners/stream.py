"""A registry-stream feed run on demand (``registry feeds run``, the API's and the page's runs):
catch up with the peer and return (docs/feeds.md, "Registry streams").

It pages through the peer's ``GET /api/v1/events?scope=all&after=POSITION`` up to the peer's head,
applying the events (``services.stream_apply``) a chunk per transaction; each transaction also
stores the position (the last event applied: ``feed.cursor``), the run's counts and the lease's
renewal, so a run killed mid-way leaves whole chunks, and the next one goes on from the last.
Following the peer's stream without end is the scheduler's (``services.stream_follower``); both
share what is here: the position, the HTTP session, and the commit of applied events.
"""

from __future__ import annotations

import requests

from registry import __version__
from registry.domain.times import utcnow
from registry.ingest.catalogue import stream_base
from registry.ingest.fetch import FetchError
from registry.services.feed_runs import RunContext, RunResult, StopRun, finish_run, write_conn
from registry.services.stream_apply import Applier
from registry.storage import feeds as store

PAGE = 1000  # events per request: the most the peer serves
CHUNK = 100  # events per transaction while catching up (a transaction holds SQLite's writer)


def position(feed: store.FeedRow) -> int:
    """The stored position: the sequence number of the peer's last event applied; 0 before the
    first (the follower then starts from the peer's kept history)."""
    cursor = (feed.cursor or "").strip()
    return int(cursor) if cursor.isdigit() else 0


def session(headers: dict) -> requests.Session:
    """A session carrying the feed's credential (``auth_header_env``): a key of the peer."""
    client = requests.Session()
    client.headers.update({"User-Agent": f"registry/{__version__} (registry-stream)", **headers})
    return client


def refusal(response: requests.Response) -> FetchError:
    """A peer's answer other than 200, as the run's error: its own message when it sent one."""
    try:
        message = response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = response.reason or "no reason given"
    return FetchError(f"{response.url.split('?')[0]}: HTTP {response.status_code}: {str(message)[:300]}",
                      http_status=response.status_code)


def commit(ctx: RunContext, applier: Applier, events: list[tuple[dict, int | None]], upto: int) -> None:
    """Apply ``events`` ((JSON, SSE id) pairs) and store the position ``upto`` in one transaction,
    with the run's counts, under the feed's lease (lost: StopRun, and nothing of it lands)."""
    now = utcnow()
    with ctx.db.write() as conn:
        if not store.renew_lease(conn, ctx.feed.id, ctx.owner, ctx.lease_until):
            raise StopRun(store.FAILED, "the feed's lease was taken over by another process (this one was thought "
                                        "dead): what it read last was not applied")
        for data, seq in events:
            applier.apply(conn, data, now, seq=seq)
        store.save_cursor(conn, ctx.feed.id, str(upto))
        take_counts(ctx.run, applier)
        store.update_run(conn, ctx.run.id, **ctx.run.counts())


def take_counts(run: RunResult, applier: Applier) -> None:
    run.take(applier.report)
    run.rows, run.expired = applier.report.read, applier.expired


def run(ctx: RunContext) -> None:
    feed = ctx.feed
    applier = Applier(feed, ctx.settings)
    limits = ctx.limits()
    url = stream_base(feed.url) + "/api/v1/events"
    after = position(feed)
    with session(ctx.headers()) as client:
        while True:
            try:
                response = client.get(url, params={"scope": "all", "after": after, "limit": PAGE},
                                      timeout=(limits.connect_timeout, limits.read_timeout))
            except requests.RequestException as exc:
                raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from None
            ctx.run.http_status, ctx.run.bytes = response.status_code, ctx.run.bytes + len(response.content)
            if response.status_code != 200:
                raise refusal(response)
            try:
                page = response.json()
                events, upto = page["events"], int(page["next"])
            except (ValueError, KeyError, TypeError):
                raise FetchError(f"{url}: the answer is not a page of events") from None
            for start in range(0, len(events), CHUNK):
                chunk = events[start:start + CHUNK]
                last = chunk[-1].get("seq") if isinstance(chunk[-1], dict) else None
                commit(ctx, applier, [(e, None) for e in chunk], last if isinstance(last, int) else upto)
            if upto > after and (not events or upto != events[-1].get("seq")):
                commit(ctx, applier, [], upto)  # past the events this key does not see
            after = max(after, upto)
            if ctx.progress is not None:
                ctx.progress("events", applier.report.read, None)
            if len(events) < PAGE:
                break
            if ctx.should_stop is not None and ctx.should_stop():
                raise StopRun(store.INTERRUPTED, f"stopped on request at the peer's event {after} (applied and "
                                                 "kept; the next run goes on from there)")
    ctx.state = {"cursor": str(after)}
    with write_conn(ctx.db) as conn:
        take_counts(ctx.run, applier)
        finish_run(ctx, conn, applier.report, applier.report.read)
