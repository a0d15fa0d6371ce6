"""One table of settings: name, default, what a value must be, help. ``load()`` reads each
``REGISTRY_<NAME>`` once (overrides first, then the environment, then the default) into a typed
``Settings``; the app and every command load it at start, so a bad value stops the start with a
``SettingError`` naming the variable and what it expects (docs/configuration.md)."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

# The kinds and their per-kind defaults are pure constants of the domain (docs/design.md): the
# settings' defaults are written from them, so each table is kept in one place.
from registry.domain.kinds import KINDS
from registry.domain.scoring import DEFAULT_HALF_LIFES
from registry.domain.standing import DEFAULT_REVIEW_DAYS

if TYPE_CHECKING:
    from limits import RateLimitItem


class SettingError(ValueError):
    """A ``REGISTRY_<NAME>`` value that is not what the setting expects."""

    def __init__(self, name: str, value: object, expects: str) -> None:
        super().__init__(f"REGISTRY_{name} must be {expects}, not {value!r}")
        self.name = name
        self.value = value
        self.expects = expects


# -- parsers: text in, a typed value out, ValueError when the text is not one -----------------
def _text(text: str) -> str:
    return text


def _optional(text: str) -> str | None:
    return text or None


def _whole(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        text = text.strip()
        if not (text.isascii() and text.isdigit()) or int(text) < minimum:
            raise ValueError(text)
        return int(text)

    return parse


def _number(minimum: float, maximum: float = math.inf, *, above: bool = False) -> Callable[[str], float]:
    def parse(text: str) -> float:
        number = float(text)
        if not math.isfinite(number) or number < minimum or (above and number == minimum) or number > maximum:
            raise ValueError(text)
        return number

    return parse


def _rate(text: str):
    from limits import parse  # the library the rate limiter counts with: what it reads is valid

    return parse(text)


def _choice(*choices: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        value = text.strip().lower()
        if value not in choices:
            raise ValueError(text)
        return value

    return parse


def _flag(text: str) -> bool:
    value = text.strip().lower()
    if value not in ("true", "false"):
        raise ValueError(text)
    return value == "true"


def _region(text: str) -> str | None:
    region = text.strip().upper()
    if region and not (len(region) == 2 and region.isascii() and region.isalpha()):
        raise ValueError(text)
    return region or None


def _kind_days(text: str) -> dict[str, float]:
    """``kind=days`` pairs (HALF_LIFES, REVIEW_DAYS): known kinds, days above 0."""
    out: dict[str, float] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        kind, _, days = part.partition("=")
        kind, value = kind.strip(), float(days)
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}")
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"{kind}: days must be above 0")
        out[kind] = value
    return out


def _kind_days_text(days: Mapping[str, float]) -> str:
    """A per-kind table of the domain as its setting's default text (``ipv4=30,…``)."""
    return ",".join(f"{kind}={value:g}" for kind, value in days.items())


def _path(text: str) -> Path:
    return Path(text or "instance").resolve()


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None
    help: str
    parse: Callable[[str], Any] = _optional
    expects: str = "text"


_SECONDS = "a number of seconds above 0"
_RATE = "a rate such as '10 per 15 minutes' or '100/second'"

SETTINGS: tuple[Setting, ...] = (
    Setting("INSTANCE_PATH", "instance", "Folder for the SQLite database, the generated secret key and other local state.",
            _path, "a folder"),
    Setting("DATABASE_URL", None, "SQLAlchemy URL of the database; default: a SQLite file registry.db in the instance folder. postgresql://… uses psycopg 3."),
    Setting("SECRET_KEY", None, "Secret for session cookies and CSRF. Required outside development; `make run` generates one into the instance folder."),
    Setting("RATE_LIMIT", "6000 per minute", "Per-key request rate limit (`limits` syntax: `6000 per minute`, `100/second`).",
            _rate, _RATE),
    Setting("REDIS_URL", None, "Redis URL for rate limits shared across workers and hosts; in memory when unset."),
    Setting("HALF_LIFES", _kind_days_text(DEFAULT_HALF_LIFES), "Days after which a report's weight halves, by kind.",
            _kind_days, "kind=days pairs separated by commas (known kinds, days above 0), such as 'ipv4=30,url=60'"),
    Setting("REVIEW_DAYS", _kind_days_text(DEFAULT_REVIEW_DAYS),
            "Days after an assertion was last seen by which its source must confirm it, by kind; unconfirmed, it ends then.",
            _kind_days, "kind=days pairs separated by commas (known kinds, days above 0), such as 'ipv4=30,phone=180'"),
    Setting("DISPUTE_DAYS", "10", "Days a dispute may stay open before it is flagged to the orgs whose assertions it disputes.",
            _whole(1), "a whole number of at least 1"),
    Setting("RELIST_DAYS", "30", "Days after a delisting during which a feed's report of the value is held, not relisted.",
            _whole(0), "a whole number of at least 0"),
    Setting("RETENTION_DAYS", "0", "Days after an assertion ended before its history is purged (the audit keeps that it was); 0 keeps it forever.",
            _whole(0), "a whole number of at least 0 (0: keep forever)"),
    Setting("CHECKPOINT_MINUTES", "60", "How often the scheduler signs a checkpoint of the audit chain's head; 0 for on demand only.",
            _whole(0), "a whole number of minutes (0: on demand only)"),
    Setting("EVENT_DAYS", "30", "Days an event is kept for `GET /api/v1/events`, streams and webhooks to resume from; the daily job purges older ones (0 keeps them).",
            _whole(0), "a whole number of days, 0 or more"),
    Setting("WEBHOOK_ALLOW_LOOPBACK", "false", "`true` lets webhooks use plain http to 127.0.0.1 (tests, a receiver on the same host); otherwise https only, never to a private, loopback or link-local address.",
            _flag, "true or false"),
    Setting("WEBHOOK_RETRY_HOURS", "24", "How long a webhook's failing delivery is retried (exponential back-off) before the webhook is disabled.",
            _number(0, above=True), "a number of hours above 0"),
    Setting("STREAM_HEARTBEAT_SECONDS", "15", "How often an event stream sends a heartbeat comment while no event comes.",
            _number(0, above=True), _SECONDS),
    Setting("DEFAULT_REGION", "TH", "Region (ISO alpha-2) for national phone numbers in lookups when neither the request nor the caller's org gives one.",
            _region, "a two-letter region code such as 'TH', or empty"),
    Setting("MAX_BATCH", "10000", "Most values in one batch lookup request.", _whole(1), "a whole number of at least 1"),
    Setting("MAX_BODY_MB", "32", "Largest request body accepted, in MiB; larger ones get 413.",
            _number(0, above=True), "a number of MiB above 0"),
    Setting("SQLITE_MMAP_MB", "2048", "How much of a SQLite file the web server's readers memory-map (0: none).",
            _whole(0), "a whole number of MiB (0 for none)"),
    Setting("WEB_THREADS", "16", "Threads per web worker: each request holds one while it runs, a streamed export (and an event stream) for as long as it lasts.",
            _whole(1), "a whole number of at least 1"),
    Setting("WEB_TIMEOUT", "30", "Seconds a web worker may go without a sign of life before it is restarted, and a client may take to accept 64 KiB of a streamed export before it is cut off; it does not limit how long a request runs.",
            _whole(1), "a whole number of at least 1"),
    Setting("WEB_GRACEFUL_TIMEOUT", "10", "Seconds a stopping or restarting web worker lets its requests finish before they are cut off.",
            _whole(0), "a whole number of at least 0"),
    Setting("AUDIT_FLUSH_SECONDS", "0.2", "How often each process writes its buffered audit events (and its lookups' hits on other agencies' values).",
            _number(0, above=True), _SECONDS),
    Setting("COOKIE_SECURE", "auto", "Web page session cookies: `auto` marks them Secure when the request came over https, `true` always (behind a TLS-terminating proxy), `false` never.",
            _choice("auto", "true", "false"), "one of auto, true, false"),
    Setting("SESSION_HOURS", "8", "Hours a web page sign-in lasts, however busy the session.",
            _number(0, above=True), "a number of hours above 0"),
    Setting("LOGIN_LIMIT", "10 per 15 minutes", "Failed web sign-ins for one username from one client address before that address is refused for that username for a while; its window is also how long a username's failures slow its sign-ins.",
            _rate, _RATE),
    Setting("LOGIN_ADDRESS_LIMIT", "30 per 15 minutes", "Failed web sign-ins from one client address, whatever the usernames, before that address is refused for a while.",
            _rate, _RATE),
    Setting("LOGIN_SLOWDOWN_SECONDS", "3", "Longest wait before a password is checked for a username with recent failures from any address (0.1 s after one, doubling with each); such sign-ins are slowed, never refused.",
            _number(0, 60), "a number of seconds from 0 to 60"),
    Setting("FEEDS_PATH", "feeds", "The feed catalogue folder (one TOML file per feed) that `registry feeds sync` and `registry demo` read.",
            _text, "a folder"),
    Setting("FEED_BATCH_SIZE", "200000", "Rows per transaction in a feed run: a run killed mid-way keeps whole batches only.",
            _whole(1), "a whole number of at least 1"),
    Setting("FEED_LEASE_SECONDS", "300", "How long a feed's lease holds without renewal (each batch renews it); a crashed run elsewhere frees the feed after this.",
            _number(0, above=True), _SECONDS),
    Setting("FEED_MAX_MB", "512", "Largest feed body, on the wire and decompressed, in MiB, unless the feed's max_mb says otherwise.",
            _number(0, above=True), "a number of MiB above 0"),
    Setting("SCHEDULER_REFRESH_SECONDS", "30", "How often the scheduler re-reads the feed table, so `registry feeds sync` changes apply without a restart.",
            _number(0, above=True), _SECONDS),
    Setting("SCHEDULER_MISFIRE_SECONDS", "600", "How late a scheduled run may start (after a pause or a busy spell) before that run is skipped.",
            _number(0), "a number of seconds of at least 0"),
    Setting("ENV", "production", "`development` relaxes the secret-key check; anything else is production.",
            lambda text: text.strip().lower(), "development or production"),
)

_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    """Every setting, parsed (one field per ``SETTINGS`` row, named in lower case)."""

    instance_path: Path
    database_url: str = field(repr=False)  # REGISTRY_DATABASE_URL, else the instance folder's SQLite file
    secret_key: str | None = field(repr=False)
    rate_limit: RateLimitItem
    redis_url: str | None
    half_lifes: dict[str, float]  # read-only: shared by every request
    review_days: dict[str, float]  # read-only, like half_lifes
    dispute_days: int
    relist_days: int
    retention_days: int
    checkpoint_minutes: int
    event_days: int
    webhook_allow_loopback: bool
    webhook_retry_hours: float
    stream_heartbeat_seconds: float
    default_region: str | None
    max_batch: int
    max_body_mb: float
    sqlite_mmap_mb: int
    web_threads: int
    web_timeout: int
    web_graceful_timeout: int
    audit_flush_seconds: float
    cookie_secure: str
    session_hours: float
    login_limit: RateLimitItem
    login_address_limit: RateLimitItem
    login_slowdown_seconds: float
    feeds_path: str
    feed_batch_size: int
    feed_lease_seconds: float
    feed_max_mb: float
    scheduler_refresh_seconds: float
    scheduler_misfire_seconds: float
    env: str

    @property
    def development(self) -> bool:
        return self.env == "development"

    def resolved_secret_key(self) -> str | None:
        """The secret from REGISTRY_SECRET_KEY, else the instance folder's ``secret_key`` file."""
        if self.secret_key:
            return self.secret_key
        path = self.instance_path / "secret_key"
        return path.read_text().strip() if path.is_file() else None

    def ensure_secret_key(self) -> Path:
        """Write a random secret into the instance folder unless one exists (``make run``)."""
        import secrets

        path = self.instance_path / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48) + "\n")
            path.chmod(0o600)
        return path


assert [s.name.lower() for s in SETTINGS] == [f.name for f in fields(Settings)], "SETTINGS and Settings disagree"


def given_or_loaded(settings: Settings | None) -> Settings:
    """``settings`` when the caller holds them (the app's, the command's), else the environment's:
    for a service called from a test or a script."""
    return settings if settings is not None else load()


def load(overrides: Mapping[str, object] | None = None) -> Settings:
    """Every setting read and parsed once: ``overrides`` (setting name → value), then the
    environment, then the default. Raises SettingError on the first bad value."""
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(_BY_NAME))
    if unknown:
        raise SettingError(unknown[0], overrides[unknown[0]], "one of the settings in docs/configuration.md")
    values = {}
    for s in SETTINGS:
        raw = overrides[s.name] if s.name in overrides else os.environ.get(f"REGISTRY_{s.name}", s.default)
        text = "" if raw is None else str(raw)
        try:
            values[s.name.lower()] = s.parse(text)
        except ValueError:
            raise SettingError(s.name, raw, s.expects) from None
    values["database_url"] = values["database_url"] or f"sqlite:///{values['instance_path'] / 'registry.db'}"
    return Settings(**values)
