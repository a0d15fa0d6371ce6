"""One table of settings: name, default, help. Values come from ``REGISTRY_<NAME>`` environment
variables, then from ``config`` passed to ``create_app`` or ``load_settings`` (tests)."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("INSTANCE_PATH", "instance", "Folder for the SQLite database, the generated secret key and other local state."),
    Setting("DATABASE_URL", None, "SQLAlchemy URL of the database; default: a SQLite file registry.db in the instance folder. postgresql://… uses psycopg 3."),
    Setting("SECRET_KEY", None, "Secret for session cookies and CSRF. Required outside development; `make run` generates one into the instance folder."),
    Setting("RATE_LIMIT", "6000 per minute", "Per-key request rate limit (`limits` syntax: `6000 per minute`, `100/second`)."),
    Setting("REDIS_URL", None, "Redis URL for rate limits shared across workers and hosts; in memory when unset."),
    Setting("HALF_LIFES", "ipv4=30,ipv6=30,url=60,domain=120,email=180,phone=180", "Days after which a report's weight halves, by kind."),
    Setting("DEFAULT_REGION", "TH", "Region (ISO alpha-2) for national phone numbers in lookups when neither the request nor the caller's org gives one."),
    Setting("MAX_BATCH", "10000", "Most values in one batch lookup request."),
    Setting("MAX_BODY_MB", "32", "Largest request body accepted, in MiB; larger ones get 413."),
    Setting("SQLITE_MMAP_MB", "2048", "How much of a SQLite file the web server's readers memory-map (0: none)."),
    Setting("AUDIT_FLUSH_SECONDS", "0.2", "How often each process writes its buffered audit events."),
    Setting("COOKIE_SECURE", "auto", "Web page session cookies: `auto` marks them Secure when the request came over https, `true` always (behind a TLS-terminating proxy), `false` never."),
    Setting("SESSION_HOURS", "8", "Hours a web page sign-in lasts, however busy the session."),
    Setting("LOGIN_LIMIT", "10 per 15 minutes", "Failed web sign-ins for one username from one client address before that address is refused for that username for a while; its window is also how long a username's failures slow its sign-ins."),
    Setting("LOGIN_ADDRESS_LIMIT", "30 per 15 minutes", "Failed web sign-ins from one client address, whatever the usernames, before that address is refused for a while."),
    Setting("LOGIN_SLOWDOWN_SECONDS", "3", "Longest wait before a password is checked for a username with recent failures from any address (0.1 s after one, doubling with each); such sign-ins are slowed, never refused."),
    Setting("FEEDS_PATH", "feeds", "The feed catalogue folder (one TOML file per feed) that `registry feeds sync` and `registry demo` read."),
    Setting("FEED_BATCH_SIZE", "200000", "Rows per transaction in a feed run: a run killed mid-way keeps whole batches only."),
    Setting("FEED_LEASE_SECONDS", "300", "How long a feed's lease holds without renewal (each batch renews it); a crashed run elsewhere frees the feed after this."),
    Setting("FEED_MAX_MB", "512", "Largest feed body, on the wire and decompressed, in MiB, unless the feed's max_mb says otherwise."),
    Setting("SCHEDULER_REFRESH_SECONDS", "30", "How often the scheduler re-reads the feed table, so `registry feeds sync` changes apply without a restart."),
    Setting("SCHEDULER_MISFIRE_SECONDS", "600", "How late a scheduled run may start (after a pause or a busy spell) before that run is skipped."),
    Setting("ENV", "production", "`development` relaxes the secret-key check; anything else is production."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def get(name: str, overrides: dict | None = None) -> str | None:
    """The value of one setting: overrides, then environment, then default."""
    if name not in _BY_NAME:
        raise KeyError(f"unknown setting {name}")
    if overrides and name in overrides:
        return overrides[name]
    return os.environ.get(f"REGISTRY_{name}", _BY_NAME[name].default)


def instance_path(overrides: dict | None = None) -> Path:
    return Path(get("INSTANCE_PATH", overrides) or "instance").resolve()


def secret_key(overrides: dict | None = None) -> str | None:
    """The secret from REGISTRY_SECRET_KEY, else the instance folder's ``secret_key`` file."""
    key = get("SECRET_KEY", overrides)
    if key:
        return key
    path = instance_path(overrides) / "secret_key"
    return path.read_text().strip() if path.is_file() else None


def ensure_secret_key(overrides: dict | None = None) -> Path:
    """Write a random secret into the instance folder unless one exists (``make run``)."""
    import secrets

    path = instance_path(overrides) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48) + "\n")
        path.chmod(0o600)
    return path


def database_url(overrides: dict | None = None) -> str:
    url = get("DATABASE_URL", overrides)
    if url:
        return url
    return f"sqlite:///{instance_path(overrides) / 'registry.db'}"


def half_lifes(overrides: dict | None = None) -> dict[str, float]:
    """Parse ``kind=days,…``; a malformed entry is a ValueError naming it."""
    return dict(_half_lifes(get("HALF_LIFES", overrides) or ""))


@functools.lru_cache(maxsize=16)  # every lookup request asks; the text rarely changes
def _half_lifes(text: str) -> tuple[tuple[str, float], ...]:
    out: dict[str, float] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        kind, _, days = part.partition("=")
        try:
            out[kind.strip()] = float(days)
        except ValueError:
            raise ValueError(f"REGISTRY_HALF_LIFES: {part!r} is not kind=days") from None
    return tuple(out.items())
