"""The tables.

Times are timezone-aware UTC (sqlmodel.UTCDateTime); SQLite stores them without an offset.

Notes on choices:
- ``indicator.value`` is unique on its own: canonical values of different kinds never collide,
  so lookups probe one index with ``value IN (…)``. A file's other hashes are
  ``indicator_alias`` rows (the indicator row keeps no ``detail`` for them).
- ``assertion.feed`` is ``''`` for a direct submission (not NULL) so that the unique key
  ``(indicator_id, org_id, feed, lane)`` holds on SQLite and PostgreSQL alike.
- ``lane`` (assertion and sighting) is 0 for the ordinary row; a writer who may not see that row
  writes one of its own in another lane (see ``domain.lanes``), so a write never changes or
  reveals a row hidden from its writer.
- ``assertion.labels`` is stored as ``,a,b,`` so a label filter is a portable ``LIKE '%,a,%'``
  without a row per label on the import hot path.
- ``seq`` is the change sequence (from ``counter``): it grows with every new or changed
  assertion or sighting and drives incremental export and TAXII ``added_after``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    UniqueConstraint,
    false,
    text,
)
from sqlmodel import Field, SQLModel


class Organization(SQLModel, table=True):
    __tablename__ = "organization"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=200)
    country: str | None = Field(default=None, max_length=2)
    stix_id: str = Field(max_length=64, unique=True)
    created: datetime
    # Lookups by this org's users and keys must say why (purpose, case reference).
    require_purpose: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))
    # Whether other orgs learn this org's name when it looks up their values (named), only that
    # "an agency" did (anonymous), or nothing (none): docs/design.md, "Events and watches".
    share_hits: str = Field(default="anonymous", sa_column=Column(String(16), nullable=False, server_default="anonymous"))


class Indicator(SQLModel, table=True):
    __tablename__ = "indicator"
    # Only IP rows have a range: a partial index keeps domains, URLs and phones out of it.
    __table_args__ = (
        Index(
            "ix_indicator_range", "range_start", "range_end",
            sqlite_where=text("range_start IS NOT NULL"), postgresql_where=text("range_start IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    value: str = Field(max_length=2048, unique=True)
    display: str | None = Field(default=None, max_length=2048)
    prefix_len: int | None = None
    range_start: bytes | None = Field(default=None, sa_column=Column(LargeBinary(16)))
    range_end: bytes | None = Field(default=None, sa_column=Column(LargeBinary(16)))
    detail: str | None = Field(default=None, max_length=32)
    allowlisted: str | None = Field(default=None, max_length=200)  # the reason, when allowlisted
    first_seen: datetime
    last_seen: datetime


class IndicatorAlias(SQLModel, table=True):
    """Another hash of a file-hash indicator's file (given together with it): a lookup of the
    alias finds the indicator (match ``same-file``), a submission of it lands there. An alias
    names one indicator (its key); the first link stays (``domain.same_file``)."""

    __tablename__ = "indicator_alias"

    alias: str = Field(max_length=100, primary_key=True)  # a canonical hash, md5:… sha1:… sha256:…
    indicator_id: int = Field(foreign_key="indicator.id", index=True)


class Assertion(SQLModel, table=True):
    __tablename__ = "assertion"
    # Each index costs a B-tree insert per imported row, so only what reads need: the source
    # key (also serving lookups by indicator) and the change sequence.
    __table_args__ = (
        UniqueConstraint("indicator_id", "org_id", "feed", "lane", name="uq_assertion_source"),
        # Finding an object by its source's own STIX id (TAXII object endpoint, re-imports);
        # unique: one id names one object (stix.claims keeps a second holder out).
        Index("uq_assertion_stix_id", "stix_id", unique=True, sqlite_where=text("stix_id IS NOT NULL"),
              postgresql_where=text("stix_id IS NOT NULL")),
        # The expiry events (docs/design.md, "Events and watches") read the assertions whose
        # valid_until passed since the last look; most rows have none, so they stay out of it.
        Index("ix_assertion_valid_until", "valid_until", sqlite_where=text("valid_until IS NOT NULL"),
              postgresql_where=text("valid_until IS NOT NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    # No index of its own on indicator_id: the unique key below starts with it.
    indicator_id: int = Field(foreign_key="indicator.id")
    org_id: int = Field(foreign_key="organization.id")
    feed: str = Field(default="", max_length=100)
    lane: int = Field(default=0, sa_column=Column(SmallInteger, nullable=False, server_default=text("0")))
    confidence: int
    tlp: str = Field(max_length=16)
    labels: str = Field(default=",", max_length=1000)
    description: str | None = Field(default=None, max_length=4000)
    valid_until: datetime | None = None
    first_seen: datetime  # also STIX valid_from and created
    last_seen: datetime
    times_reported: int = 1
    # The source's own STIX id when it came as STIX and no other indicator held it; otherwise
    # the exporter derives one (stix.ids), so no id is minted per row on the import path.
    # A row in a lane other than 0 stores the id derived with its lane (stix.ids.IndicatorIds).
    stix_id: str | None = Field(default=None, max_length=64)
    external_ref: str | None = Field(default=None, max_length=2048)
    raw: str | None = Field(default=None, max_length=500)  # the source line, when it differs from the value
    modified: datetime
    seq: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    # Trust (docs/design.md, "Listed means in force"): the date by which the source must confirm
    # the assertion, else it ends; why it ended when the registry ended it (``snapshot``,
    # ``review``, ``delisted``: its ``valid_until`` says when); the source's grading.
    review_at: datetime | None = None
    end_reason: str | None = Field(default=None, max_length=16)
    reliability: str | None = Field(default=None, max_length=1)  # A (reliable) … F (cannot be judged)
    credibility: int | None = Field(default=None, sa_column=Column(SmallInteger))  # 1 (confirmed) … 6


class Dispute(SQLModel, table=True):
    """Someone says a value is wrongly listed; each source org decides for its own assertion."""

    __tablename__ = "dispute"

    id: int | None = Field(default=None, primary_key=True)
    # What callers see and send back: row ids count every org's disputes (docs/design.md, "The
    # one TLP rule"), so the API never shows them.
    uid: str = Field(max_length=36, unique=True)
    indicator_id: int = Field(foreign_key="indicator.id", index=True)
    org_id: int = Field(foreign_key="organization.id")  # who disputes
    actor: str | None = Field(default=None, max_length=64)  # key prefix or username
    reason: str = Field(max_length=4000)
    evidence: str | None = Field(default=None, max_length=4000)
    status: str = Field(default="open", max_length=16, index=True)  # open, closed
    created: datetime
    closed: datetime | None = None
    flagged: datetime | None = None  # when it was flagged to the sources as overdue


class DisputeDecision(SQLModel, table=True):
    """One org's decision on a dispute, for its own assertion (or an admin's, for any)."""

    __tablename__ = "dispute_decision"

    id: int | None = Field(default=None, primary_key=True)
    dispute_id: int = Field(foreign_key="dispute.id", index=True)
    assertion_id: int | None = Field(default=None, foreign_key="assertion.id")
    org_id: int = Field(foreign_key="organization.id")
    actor: str | None = Field(default=None, max_length=64)
    decision: str = Field(max_length=16)  # delist, uphold
    note: str | None = Field(default=None, max_length=4000)
    decided: datetime


class Sighting(SQLModel, table=True):
    __tablename__ = "sighting"
    __table_args__ = (
        UniqueConstraint("indicator_id", "org_id", "case_ref", "lane", name="uq_sighting_case"),
        # An org's sightings of one case: the suggested links' "same case" rule reads them.
        Index("ix_sighting_case", "org_id", "case_ref"),
        Index("uq_sighting_stix_id", "stix_id", unique=True, sqlite_where=text("stix_id IS NOT NULL"),
              postgresql_where=text("stix_id IS NOT NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    indicator_id: int = Field(foreign_key="indicator.id", index=True)
    org_id: int = Field(foreign_key="organization.id")
    case_ref: str = Field(default="", max_length=200)
    lane: int = Field(default=0, sa_column=Column(SmallInteger, nullable=False, server_default=text("0")))
    count: int = 1
    tlp: str = Field(max_length=16)
    description: str | None = Field(default=None, max_length=4000)
    first_seen: datetime
    last_seen: datetime
    stix_id: str | None = Field(default=None, max_length=64)
    created: datetime
    modified: datetime
    seq: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))


class AllowlistEntry(SQLModel, table=True):
    __tablename__ = "allowlist_entry"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    value: str = Field(max_length=2048, unique=True)
    reason: str = Field(max_length=200)
    created: datetime


class PrefixLength(SQLModel, table=True):
    """Prefix lengths present among IP networks and phone blocks (never shrinks: a stale
    length costs one probe that finds nothing)."""

    __tablename__ = "prefix_length"

    kind: str = Field(max_length=16, primary_key=True)
    length: int = Field(primary_key=True)


class Counter(SQLModel, table=True):
    """Named counters; ``seq`` is the change sequence. Taking numbers with
    ``UPDATE … RETURNING`` holds the row lock until commit, so sequence numbers become
    visible in order on PostgreSQL too."""

    __tablename__ = "counter"

    name: str = Field(max_length=32, primary_key=True)
    value: int = Field(sa_column=Column(BigInteger, nullable=False))


class StixIdKey(SQLModel, table=True):
    """The secret this database derives Indicator ids with (stix.ids.IndicatorIds): one row,
    made with the table, so every process using the database derives the same ids."""

    __tablename__ = "stix_id_key"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64)  # hex


dispute = Dispute.__table__
dispute_decision = DisputeDecision.__table__
organization = Organization.__table__
indicator = Indicator.__table__
indicator_alias = IndicatorAlias.__table__
assertion = Assertion.__table__
sighting = Sighting.__table__
allowlist_entry = AllowlistEntry.__table__
prefix_length = PrefixLength.__table__
counter = Counter.__table__
stix_id_key = StixIdKey.__table__
metadata = SQLModel.metadata


class User(SQLModel, table=True):
    """A person who signs in to the web page (password hashed with werkzeug's scrypt)."""

    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id")
    username: str = Field(max_length=64, unique=True)
    password_hash: str = Field(max_length=256)
    role: str = Field(max_length=16)
    max_tlp: str = Field(max_length=16)
    created: datetime
    last_login: datetime | None = None
    disabled: bool = False
    # Every session cookie carries the generation it was signed in under; signing out,
    # disabling and a new password bump it, so cookies saved before stop working.
    session_generation: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
    # The highest event sequence number this user has seen on the Alerts page (the unread count).
    alerts_seen: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default=text("0")))


class ApiKey(SQLModel, table=True):
    """An API key: shown once, stored as a SHA-256 hash; ``prefix`` is what people see."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id")
    prefix: str = Field(max_length=16, unique=True)
    key_hash: str = Field(max_length=64, unique=True)
    role: str = Field(max_length=16)
    max_tlp: str = Field(max_length=16)
    name: str | None = Field(default=None, max_length=200)
    created: datetime
    last_used: datetime | None = None
    revoked: datetime | None = None


class AuditEvent(SQLModel, table=True):
    """One audited action. ``hash`` = SHA-256 over ``prev_hash`` and the row's fields, so an
    edited or deleted row breaks the chain (``registry audit verify``)."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    time: datetime
    org: str | None = Field(default=None, max_length=64)
    actor: str | None = Field(default=None, max_length=64)  # key prefix or username
    action: str = Field(max_length=32, index=True)
    subject: str | None = Field(default=None)  # the values looked up or submitted, JSON
    result_count: int | None = None
    client: str | None = Field(default=None, max_length=64)
    status: int | None = None
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditCheckpoint(SQLModel, table=True):
    """A signed head of the audit chain: the last row's id and hash at a time, signed with the
    instance's Ed25519 key (docs/security.md, "Audit checkpoints")."""

    __tablename__ = "audit_checkpoint"

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))  # the audit row id of the head
    hash: str = Field(max_length=64)
    time: datetime
    public_key: str = Field(max_length=64)  # hex of the raw Ed25519 public key
    signature: str = Field(max_length=128)  # hex


app_user = User.__table__
api_key = ApiKey.__table__
audit_event = AuditEvent.__table__
audit_checkpoint = AuditCheckpoint.__table__


class TaxiiStatus(SQLModel, table=True):
    """The status resource of one TAXII ``POST …/objects/`` (kept so ``GET status/{id}`` and
    taxii2-client's ``wait_for_completion`` work from any worker). Only the org that posted
    may read it back. ``details`` is JSON: ``{"successes": [...], "failures": [...], "pendings": [...]}``."""

    __tablename__ = "taxii_status"

    id: str = Field(max_length=36, primary_key=True)  # a UUID: unguessable, so ids leak nothing
    org: str = Field(max_length=64)
    collection_id: str = Field(max_length=36)
    status: str = Field(max_length=16)
    request_timestamp: datetime
    total_count: int
    success_count: int
    failure_count: int
    pending_count: int
    details: str


class PullState(SQLModel, table=True):
    """How far a federation pull of another registry's TAXII collection got: ``cursor`` is the
    last ``X-TAXII-Date-Added-Last`` seen (the next pull's ``added_after``)."""

    __tablename__ = "pull_state"

    url: str = Field(max_length=1000, primary_key=True)  # the remote API root
    collection_id: str = Field(max_length=200, primary_key=True)
    org: str = Field(max_length=64)  # whose assertions the pulled objects become by default
    cursor: str | None = Field(default=None, max_length=40)
    pulled: datetime  # when the last pull finished
    last_counts: str = Field(default="{}")  # JSON: the last pull's counts, for operators


taxii_status = TaxiiStatus.__table__
pull_state = PullState.__table__


class Feed(SQLModel, table=True):
    """A partner feed as the catalogue (``feeds/*.toml``) declares it, plus its fetch state and
    its lease. ``options`` is JSON (parser and fetch options of the TOML); ``labels`` JSON too.
    ``lease_owner``/``lease_until``: who runs it now (``host:pid:token``) and until when the
    lease holds without renewal, so one feed never runs twice at once across processes."""

    __tablename__ = "feed"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    provider: str = Field(max_length=64)  # the org slug whose assertions the rows become
    url: str = Field(max_length=2048)
    format: str = Field(max_length=16)
    schedule: str = Field(max_length=100)
    mode: str = Field(max_length=16)
    confidence: int
    tlp: str = Field(max_length=16)
    labels: str = Field(default="[]", max_length=1000)
    options: str = Field(default="{}")
    enabled: bool = True
    source: str | None = Field(default=None, max_length=1000)  # the TOML file it came from
    definition_hash: str = Field(max_length=64)
    created: datetime
    updated: datetime
    # Fetch state: conditional request validators and, for taxii/misp, the position reached.
    etag: str | None = Field(default=None, max_length=1000)
    last_modified: str | None = Field(default=None, max_length=100)
    cursor: str | None = Field(default=None)
    lease_owner: str | None = Field(default=None, max_length=200)
    lease_until: datetime | None = None


class FeedRun(SQLModel, table=True):
    """One run of a feed and every figure of it. ``rejects`` is JSON: a sample of rejected
    lines ``[{"line", "text", "reason"}]``; ``anomaly`` says why the row count looked wrong."""

    __tablename__ = "feed_run"
    __table_args__ = (Index("ix_feed_run_feed", "feed_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    feed_id: int = Field(foreign_key="feed.id")
    trigger: str = Field(max_length=16)  # schedule, cli, api, demo
    started: datetime
    finished: datetime | None = None
    status: str = Field(max_length=16)  # running, ok, not-modified, failed, interrupted
    http_status: int | None = None
    bytes: int = 0
    rows: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    expired: int = 0
    allowlisted: int = 0
    rejected: int = 0
    # Reports of values delisted within REGISTRY_RELIST_DAYS: not relisted (docs/feeds.md).
    held: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
    duration: float | None = None  # seconds
    error: str | None = Field(default=None, max_length=2000)
    rejects: str = Field(default="[]")
    anomaly: str | None = Field(default=None, max_length=500)


feed = Feed.__table__
feed_run = FeedRun.__table__


class Event(SQLModel, table=True):
    """One change that matters (docs/design.md, "Events and watches"), written in the same
    transaction as the change. ``seq`` comes from the ``event`` counter, whose row lock is held
    until commit, so events become visible in sequence order. ``source`` and ``tlp`` are those of
    the assertion or sighting the event reveals: the one TLP rule applies to them as to it.
    ``to_org_id`` set: addressed to that org alone (a hit on its indicator, its feed failing)."""

    __tablename__ = "event"

    # INTEGER on SQLite: the rowid itself, so an import's events fill one B-tree, not two.
    seq: int = Field(sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                      autoincrement=False))
    type: str = Field(max_length=32)
    time: datetime
    kind: str | None = Field(default=None, max_length=16)
    value: str | None = Field(default=None, max_length=2048)
    org: str | None = Field(default=None, max_length=64)  # the acting org as shown; None: anonymous
    source: str | None = Field(default=None, max_length=64)  # the org whose data it reveals
    tlp: str = Field(max_length=16)
    labels: str = Field(default=",", max_length=1000)  # as assertion.labels: ,a,b,
    to_org_id: int | None = Field(default=None, foreign_key="organization.id", index=True)
    body: str = Field(default="{}")  # JSON: the rest of the event as receivers see it


class EventInbox(SQLModel, table=True):
    """An event routed to an org: a watch of the org matched it (``watches``: the watches' ids,
    ,a,b,) or it touches the org's own indicator (``watches`` empty)."""

    __tablename__ = "event_inbox"

    org_id: int = Field(foreign_key="organization.id", primary_key=True)
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    watches: str = Field(default="", max_length=2000)


class Watch(SQLModel, table=True):
    """What an org watches: a value or block (``key``, its canonical value, with ``kind``,
    ``prefix_len`` and ``range_start`` for networks and number blocks) or a label alone; narrowed
    by ``kinds``, ``labels`` and ``sources`` (each ,a,b,; empty: any)."""

    __tablename__ = "watch"

    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(max_length=36, unique=True)  # what callers see: row ids count every org's
    org_id: int = Field(foreign_key="organization.id", index=True)
    actor: str | None = Field(default=None, max_length=64)
    key: str | None = Field(default=None, max_length=2048, index=True)
    kind: str | None = Field(default=None, max_length=16)
    prefix_len: int | None = None
    range_start: bytes | None = Field(default=None, sa_column=Column(LargeBinary(16)))
    label: str | None = Field(default=None, max_length=100, index=True)
    kinds: str = Field(default="", max_length=200)
    labels: str = Field(default="", max_length=1000)
    sources: str = Field(default="", max_length=1000)
    created: datetime


class Webhook(SQLModel, table=True):
    """A receiver of an org's events by signed POST. ``position``: the last event sequence
    handled (delivered or not the webhook's); ``attempt`` and ``next_attempt``: the retry state
    of the event after it; ``lease_owner``/``lease_until``: which dispatcher delivers it now.
    ``secret`` is kept as given (it signs every delivery, so it cannot be a hash);
    ``max_tlp`` is the cap of the key that registered it (docs/security.md, "Webhooks")."""

    __tablename__ = "webhook"

    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(max_length=36, unique=True)
    org_id: int = Field(foreign_key="organization.id", index=True)
    actor: str | None = Field(default=None, max_length=64)
    url: str = Field(max_length=2048)
    secret: str = Field(max_length=128)
    watches: str | None = Field(default=None, max_length=2000)  # ,uid,uid, ; None: all the org's events
    max_tlp: str = Field(default="amber", max_length=16)  # the creating key's cap: what deliveries may reveal
    enabled: bool = True
    disabled_reason: str | None = Field(default=None, max_length=500)
    created: datetime
    position: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default=text("0")))
    attempt: int = 0
    failing_since: datetime | None = None
    next_attempt: datetime | None = None
    lease_owner: str | None = Field(default=None, max_length=200)
    lease_until: datetime | None = None


class WebhookDelivery(SQLModel, table=True):
    """One attempt to deliver one event to one webhook, and its answer. ``delivery`` is the same
    on every attempt of the event (receivers dedupe on it)."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_hook", "webhook_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    webhook_id: int = Field(foreign_key="webhook.id")
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    delivery: str = Field(max_length=36)
    attempt: int
    time: datetime
    status: int | None = None  # the receiver's HTTP status
    answer: str | None = Field(default=None, max_length=500)  # the start of its body
    error: str | None = Field(default=None, max_length=500)  # why no answer came
    duration: float | None = None  # seconds


class HitTally(SQLModel, table=True):
    """Lookups by one org that hit another org's indicator, counted per hour: the first of an
    hour raises a ``lookup.hit`` event, the rest add to ``count``."""

    __tablename__ = "hit_tally"

    indicator_id: int = Field(foreign_key="indicator.id", primary_key=True)
    looker_id: int = Field(foreign_key="organization.id", primary_key=True)
    owner_id: int = Field(foreign_key="organization.id", primary_key=True)
    window: datetime  # the start of the hour counted
    count: int = 0
    event_seq: int | None = Field(default=None, sa_column=Column(BigInteger))


event = Event.__table__
event_inbox = EventInbox.__table__
watch = Watch.__table__
webhook = Webhook.__table__
webhook_delivery = WebhookDelivery.__table__
hit_tally = HitTally.__table__


class Operation(SQLModel, table=True):
    """A fraud operation (docs/design.md, "Operations and relationships"): indicators that belong
    together, owned by an org, visible under the one TLP rule by its own ``tlp``. ``seq`` is the
    change sequence (TAXII and exports follow it); ``stix_id`` the grouping's (or the imported
    report's, actor's, …) id; ``stix_type`` what an imported one came as."""

    __tablename__ = "operation"
    __table_args__ = (
        Index("uq_operation_stix_id", "stix_id", unique=True, sqlite_where=text("stix_id IS NOT NULL"),
              postgresql_where=text("stix_id IS NOT NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(max_length=36, unique=True)  # what callers see: row ids count every org's
    org_id: int = Field(foreign_key="organization.id", index=True)
    actor: str | None = Field(default=None, max_length=64)
    name: str = Field(max_length=200)
    description: str | None = Field(default=None, max_length=4000)
    tlp: str = Field(max_length=16)
    labels: str = Field(default=",", max_length=1000)  # ,a,b, as assertion.labels
    status: str = Field(default="open", max_length=16)  # open, closed
    created: datetime
    modified: datetime
    first_activity: datetime | None = None
    last_activity: datetime | None = None
    closed: datetime | None = None
    stix_id: str | None = Field(default=None, max_length=64)
    stix_type: str | None = Field(default=None, max_length=32)
    seq: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))


class OperationMember(SQLModel, table=True):
    """An indicator of an operation, with the org (and key or user) that added it and when."""

    __tablename__ = "operation_member"

    operation_id: int = Field(foreign_key="operation.id", primary_key=True)
    indicator_id: int = Field(foreign_key="indicator.id", primary_key=True, index=True)
    org_id: int = Field(foreign_key="organization.id")
    actor: str | None = Field(default=None, max_length=64)
    added: datetime


class OperationNote(SQLModel, table=True):
    __tablename__ = "operation_note"

    id: int | None = Field(default=None, primary_key=True)
    operation_id: int = Field(foreign_key="operation.id", index=True)
    org_id: int = Field(foreign_key="organization.id")
    actor: str | None = Field(default=None, max_length=64)
    text: str = Field(max_length=4000)
    created: datetime


class Relationship(SQLModel, table=True):
    """One org's statement that two indicators are linked (``type`` from
    ``domain.operations.RELATIONSHIP_TYPES``), under the one TLP rule by its own ``tlp``."""

    __tablename__ = "relationship"
    __table_args__ = (
        UniqueConstraint("source_id", "target_id", "type", "org_id", name="uq_relationship"),
        Index("uq_relationship_stix_id", "stix_id", unique=True, sqlite_where=text("stix_id IS NOT NULL"),
              postgresql_where=text("stix_id IS NOT NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(max_length=36, unique=True)
    source_id: int = Field(foreign_key="indicator.id")  # the unique key starts with it
    target_id: int = Field(foreign_key="indicator.id", index=True)
    type: str = Field(max_length=32)
    org_id: int = Field(foreign_key="organization.id")
    actor: str | None = Field(default=None, max_length=64)
    tlp: str = Field(max_length=16)
    confidence: int
    description: str | None = Field(default=None, max_length=4000)
    first_seen: datetime
    last_seen: datetime
    created: datetime
    modified: datetime
    stix_id: str | None = Field(default=None, max_length=64)
    seq: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))


class Cosubmission(SQLModel, table=True):
    """Values one org submitted together in one small request or STIX bundle (``batch``): the
    suggested links' "submitted together" rule reads them."""

    __tablename__ = "cosubmission"

    batch: str = Field(max_length=36, primary_key=True)
    indicator_id: int = Field(foreign_key="indicator.id", primary_key=True, index=True)
    org_id: int = Field(foreign_key="organization.id")
    tlp: str = Field(max_length=16)  # the submission's: the rule shows the pair only to who may see it
    created: datetime


operation = Operation.__table__
operation_member = OperationMember.__table__
operation_note = OperationNote.__table__
relationship = Relationship.__table__
cosubmission = Cosubmission.__table__
