"""The feed catalogue: one TOML file per feed under ``feeds/``, read into ``FeedDefinition``.

A definition is data, checked here field by field so a typo is an error naming the file and
the field, never a feed that silently does something else. Secrets never live in the
catalogue: ``auth_header_env`` names the environment variable holding the header's value,
and keys that look like a secret (``token``, ``password``, ``api_key``, ``headers``) are refused.

URLs: ``https://``, ``http://`` and ``file://``. Two spellings keep file feeds portable:
``file://{demo}/name.txt`` is a file bundled in the installed package (registry/demo/data),
resolved when the feed runs; ``file:relative/path`` (no slashes after ``file:``) is relative
to the TOML file's folder and made absolute when the catalogue is read.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from registry.domain import grading
from registry.domain import tlp as tlp_mod
from registry.domain.kinds import KINDS, USER_ACCOUNT
from registry.domain.normalize.account_rules import platform_name
from registry.domain.normalize.errors import Invalid
from registry.domain.schedules import parse_schedule

STREAM = "registry-stream"  # another registry's event stream, followed (docs/feeds.md, "Registry streams")
FEED_FORMATS = ("text", "csv", "jsonl", "json", "stix", "taxii", "misp", STREAM)
MODES = ("snapshot", "incremental")
INCREMENTAL_ONLY = ("taxii", "misp", STREAM)  # a page, an event file or an event is never the whole feed
# A followed stream runs without a schedule; its ``schedule`` only says when a feed nobody follows
# turns ``stale`` (two periods without a connection).
STREAM_SCHEDULE = "every 5m"
STREAM_PATH = "/api/v1/events/stream"
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,98}[a-z0-9]$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SECRET_KEYS = frozenset({"token", "password", "secret", "api_key", "apikey", "key", "headers", "authorization",
                          "auth", "credentials"})

#: Options a TOML file may set beyond the main fields, with their types.
OPTIONS: dict[str, type | tuple[type, ...]] = {
    "description": str,
    "provider_name": str,  # the provider org's display name, used when `feeds sync` creates it
    "provider_country": str,
    "kind": str,  # the kind of every value (default: detected per value)
    "region": str,  # default region for national phone numbers (default: the provider's country)
    "column": (str, int),  # csv: the value column; jsonl/json: the value key or path
    "columns": dict,  # csv/jsonl: kind, labels, confidence, first_seen, description, bank, country, platform,
    # reliability, credibility columns
    "platform": str,  # the platform of every @name value (user-account: telegram, line, …)
    "kinds": dict,  # the feed's own type names → registry kinds ("" skips such rows)
    "delimiter": str,
    "has_header": bool,
    "value_path": str,  # json: where the values are, e.g. "data[].ip"
    "collection": str,  # taxii: collection id, alias or title
    "to_ids_only": bool,  # misp: only attributes flagged to_ids (default true)
    "member": str,  # zip bodies: the member to read (default: the only or the first file)
    "auth_header_env": str,
    "auth_header": str,  # the header the env var's value goes in (default Authorization)
    "connect_timeout": (int, float),
    "read_timeout": (int, float),
    "total_timeout": (int, float),
    "max_mb": (int, float),
    "retries": int,
    "backoff": (int, float),
    "batch_size": int,
    "heartbeat_seconds": (int, float),  # registry-stream: the peer's heartbeat; silent 3 times that, reconnect
    # The Admiralty grading of every row that gives none (domain.grading): the source's
    # reliability (A-F) and the information's credibility (1-6).
    "reliability": str,
    "credibility": int,
}
_MAIN = {"name", "provider", "url", "format", "schedule", "mode", "confidence", "tlp", "labels", "enabled"}


class CatalogueError(ValueError):
    """A feed definition that cannot be used; ``str()`` names the file and the field."""


@dataclass(frozen=True)
class FeedDefinition:
    name: str
    provider: str
    url: str
    format: str
    schedule: str
    mode: str = "snapshot"
    confidence: int = 50
    tlp: str = tlp_mod.DEFAULT_TLP
    labels: tuple[str, ...] = ()
    enabled: bool = True
    options: dict = field(default_factory=dict)
    source: str | None = None

    def definition_hash(self) -> str:
        """Changes exactly when the definition does (``feeds sync`` reports those)."""
        data = asdict(self)
        data.pop("source")
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=list).encode()).hexdigest()


def demo_data() -> Path:
    return Path(__file__).resolve().parent.parent / "demo" / "data"


def resolve_url(url: str) -> str:
    """The URL to fetch: ``{demo}`` becomes the bundled demo data folder."""
    return url.replace("{demo}", str(demo_data())) if "{demo}" in url else url


def _check_url(url: str, base: Path | None) -> str:
    if url.startswith(("https://", "http://")):
        return url
    if url.startswith("file://"):
        return url
    if url.startswith("file:"):
        rel = url[len("file:"):]
        if base is None:
            raise ValueError(f"url {url!r}: a relative file: URL needs the catalogue file's folder")
        return "file://" + str((base / rel).resolve())
    raise ValueError(f"url {url!r} must start with https://, http:// or file://")


def definition(data: dict, *, source: str | None = None, base: Path | None = None) -> FeedDefinition:
    """Check one feed's table (from a TOML file) and return its definition."""
    where = source or "<feed>"

    def bad(name: str, why: str) -> CatalogueError:
        return CatalogueError(f"{where}: {name}: {why}")

    secrets = sorted(k for k in data if k.lower() in _SECRET_KEYS)
    if secrets:
        raise bad(secrets[0], "secrets never go in the catalogue: set auth_header_env to the name of an "
                              "environment variable holding the header's value")
    unknown = sorted(set(data) - _MAIN - set(OPTIONS))
    if unknown:
        raise bad(unknown[0], f"unknown field (known: {', '.join(sorted(_MAIN | set(OPTIONS)))})")
    if str(data.get("format", "")).strip().lower() == STREAM:
        data = {"schedule": STREAM_SCHEDULE, **data}
    for required in ("name", "provider", "url", "format", "schedule"):
        if not isinstance(data.get(required), str) or not data[required].strip():
            raise bad(required, "required, a non-empty string")
    name = data["name"].strip()
    if not NAME.match(name):
        raise bad("name", f"{name!r} must be 2-100 lowercase letters, digits, '.', '_' or '-'")
    provider = data["provider"].strip()
    if not _SLUG.match(provider):
        raise bad("provider", f"{provider!r} must be an org slug such as spamhaus")
    fmt = data["format"].strip().lower()
    if fmt not in FEED_FORMATS:
        raise bad("format", f"{fmt!r} is not one of {', '.join(FEED_FORMATS)}")
    try:
        url = _check_url(data["url"].strip(), base)
    except ValueError as exc:
        raise bad("url", str(exc)) from None
    try:
        schedule = parse_schedule(data["schedule"]).text
    except ValueError as exc:
        raise bad("schedule", str(exc)) from None
    if fmt == "taxii" and not url.startswith(("https://", "http://")):
        raise bad("url", "a TAXII feed's url is the API root, an http(s) URL")
    if fmt == STREAM:
        try:
            stream_base(url)
        except ValueError as exc:
            raise bad("url", str(exc)) from None
    mode = str(data.get("mode", "incremental" if fmt in INCREMENTAL_ONLY else "snapshot")).strip().lower()
    if mode not in MODES:
        raise bad("mode", f"{mode!r} is not snapshot or incremental")
    if mode == "snapshot" and fmt in INCREMENTAL_ONLY:
        raise bad("mode", f"a {fmt} feed brings changes, never the whole list: use mode = \"incremental\"")
    try:
        reliability = grading.reliability(data.get("reliability"))
    except grading.GradeError as exc:
        raise bad("reliability", str(exc)) from None
    try:
        credibility = grading.credibility(data.get("credibility"))
    except grading.GradeError as exc:
        raise bad("credibility", str(exc)) from None
    # A feed that grades its credibility and gives no confidence has the one it maps to.
    confidence = data.get("confidence", grading.confidence_for(None, credibility))
    if isinstance(confidence, bool) or not isinstance(confidence, int) or not 0 <= confidence <= 100:
        raise bad("confidence", f"{confidence!r} must be a whole number from 0 to 100")
    try:
        tlp = tlp_mod.parse_tlp(str(data.get("tlp", tlp_mod.DEFAULT_TLP)))
    except ValueError as exc:
        raise bad("tlp", str(exc)) from None
    labels = data.get("labels", [])
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        raise bad("labels", "must be a list of strings")
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        raise bad("enabled", "must be true or false")
    options = {}
    if reliability is not None:
        options["reliability"] = reliability  # as stored: a capital letter
    for key, kind in OPTIONS.items():
        if key not in data or key in options:
            continue
        value = data[key]
        if isinstance(value, bool) and kind is not bool:
            raise bad(key, f"{value!r} has the wrong type")
        if not isinstance(value, kind):
            raise bad(key, f"{value!r} has the wrong type")
        options[key] = value
    _check_options(options, fmt, bad)
    return FeedDefinition(name=name, provider=provider, url=url, format=fmt, schedule=schedule, mode=mode,
                          confidence=confidence, tlp=tlp, labels=tuple(labels), enabled=enabled,
                          options=options, source=source)


def _check_options(options: dict, fmt: str, bad) -> None:
    if "kind" in options and options["kind"] not in KINDS:
        raise bad("kind", f"{options['kind']!r} is not one of {', '.join(KINDS)}")
    if "platform" in options:
        try:
            options["platform"] = platform_name(options["platform"])
        except Invalid as exc:
            raise bad("platform", exc.reason) from None
        if options.get("kind", USER_ACCOUNT) != USER_ACCOUNT:
            raise bad("platform", f"a platform is given only with kind {USER_ACCOUNT!r}")
    for key in ("region", "provider_country"):
        if key in options and not re.fullmatch(r"[A-Za-z]{2}", options[key]):
            raise bad(key, f"{options[key]!r} must be an ISO 3166 alpha-2 code such as TH")
    if "auth_header_env" in options and not _ENV_NAME.match(options["auth_header_env"]):
        raise bad("auth_header_env", "must be the NAME of an environment variable (the secret stays there)")
    for key in ("connect_timeout", "read_timeout", "total_timeout", "max_mb", "backoff"):
        if key in options and not 0 < options[key] <= 86400:
            raise bad(key, "must be a positive number")
    if "retries" in options and not 0 <= options["retries"] <= 10:
        raise bad("retries", "must be from 0 to 10")
    if "batch_size" in options and not 1 <= options["batch_size"] <= 100_000:
        raise bad("batch_size", "must be from 1 to 100000")
    if "columns" in options:
        allowed = {"value", "kind", "labels", "confidence", "first_seen", "description", "bank", "country", "platform",
                   "reliability", "credibility"}
        extra = sorted(set(options["columns"]) - allowed)
        if extra:
            raise bad("columns", f"unknown field {extra[0]!r} (known: {', '.join(sorted(allowed))})")
    for name, kind in options.get("kinds", {}).items():
        if not isinstance(kind, str) or (kind and kind not in KINDS):
            raise bad("kinds", f"{name} = {kind!r}: give one of {', '.join(KINDS)}, or \"\" to skip such rows")
    if fmt == "taxii" and "collection" not in options:
        raise bad("collection", "a taxii feed names its collection (id, alias or title)")
    if "heartbeat_seconds" in options and not 0 < options["heartbeat_seconds"] <= 3600:
        raise bad("heartbeat_seconds", "must be a positive number of seconds, at most 3600")
    if fmt == STREAM and "auth_header_env" not in options:
        raise bad("auth_header_env", "a registry-stream feed reads the peer with a key of the peer: name the "
                                     "environment variable holding the header's value (\"Bearer reg_...\")")


def stream_base(url: str) -> str:
    """A registry-stream feed's peer: its base URL (no trailing slash), from the base URL or the
    URL of its event stream (``…/api/v1/events/stream``); ValueError for anything else."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{url!r}: give the peer registry's base URL or its {STREAM_PATH} URL, http(s)")
    if parts.query or parts.fragment:
        raise ValueError(f"{url!r}: no query or fragment: the follower adds what it asks for")
    path = parts.path.rstrip("/")
    if path.endswith(STREAM_PATH):
        path = path[: -len(STREAM_PATH)]
    elif "/api/" in path + "/":
        raise ValueError(f"{url!r}: give the peer registry's base URL or its {STREAM_PATH} URL, "
                         "not another of its API's URLs")
    return f"{parts.scheme}://{parts.netloc}{path}"


def load_file(path: Path) -> FeedDefinition:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogueError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{path}: not valid TOML: {exc}") from None
    feed = definition(data, source=str(path), base=path.parent)
    if feed.name != path.stem:
        raise CatalogueError(f"{path}: name: {feed.name!r} must match the file name ({path.stem}.toml)")
    return feed


def load_catalogue(folder: Path) -> list[FeedDefinition]:
    """Every ``*.toml`` in ``folder``, sorted by name; the first bad file is an error."""
    if not folder.is_dir():
        raise CatalogueError(f"{folder}: no such catalogue folder")
    return [load_file(path) for path in sorted(folder.glob("*.toml"))]
