"""What every command group shares: exit statuses, the one-line error, the settings, the database,
--json output, TLP options and the operator's audit record."""

from __future__ import annotations

import functools
import os

import click
import orjson

from registry import config
from registry.domain import tlp as tlp_mod
from registry.ingest.records import FeedFormatError
from registry.services.errors import RegistryError

EXIT_FAILED = 1
EXIT_USAGE = 2


class Fail(click.ClickException):
    """A one-line error on stderr and exit status 2."""

    exit_code = EXIT_USAGE


def guard(func):
    """Turn domain errors into one-line messages with exit status 2."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except RegistryError as exc:
            raise Fail(exc.message) from None
        except FeedFormatError as exc:
            raise Fail(str(exc)) from None

    return wrapper


def json_option(help_text: str | None = None):
    """The --json flag every listing and report command takes (as ``as_json``)."""
    return click.option("--json", "as_json", is_flag=True, help=help_text)


def echo_json(data) -> None:
    # orjson's UTF-8 bytes go to stdout as they are: decoded, click would scan the text for
    # terminal codes (JSON escapes them) and encode it again (docs/performance.md, "Lookups").
    click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2))


def settings() -> config.Settings:
    """The command's settings, loaded once when it starts (``registry.cli.main`` asks first, so a
    bad ``REGISTRY_*`` value stops every command before it does anything: exit status 2)."""
    ctx = click.get_current_context(silent=True)
    root = ctx.find_root() if ctx is not None else None
    if root is not None and "registry.settings" in root.meta:
        return root.meta["registry.settings"]
    try:
        loaded = config.load()
    except config.SettingError as exc:
        raise Fail(str(exc)) from None
    if root is not None:
        root.meta["registry.settings"] = loaded
    return loaded


def open_db(*, create: bool = True):
    """The configured database; an empty one is initialised, an outdated one refused."""
    from registry.storage import migrate
    from registry.storage.db import Database

    db = Database(settings().database_url)
    ctx = click.get_current_context(silent=True)
    if ctx is not None:  # close pooled connections when the command ends (tests run many in one process)
        ctx.call_on_close(db.dispose)
    try:
        empty = not db.is_initialised()
        if empty and create:
            migrate.upgrade(db)
        elif migrate.pending(db):
            raise Fail("the database schema is out of date: run `registry init`")
    except RegistryError:
        raise
    except Exception as exc:  # unreachable server, bad URL: say which
        if isinstance(exc, click.ClickException):
            raise
        raise Fail(f"cannot open the database {db.engine.url.render_as_string(hide_password=True)}: {exc}") from None
    return db


def tlp_option(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return tlp_mod.parse_tlp(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def cli_actor() -> str:
    """Who acts on the command line, as the audit log names them."""
    return f"cli:{os.environ.get('USER', 'unknown')}"


def cli_audit(action: str, subject=None, result_count: int | None = None, db=None) -> None:
    """Audit an operator action taken on the command line (written at once: no server)."""
    from registry.services.audit import AuditLog

    log = AuditLog(db or open_db(), synchronous=True)
    log.record(action, actor=cli_actor(), subject=subject, result_count=result_count, client="cli")
    log.close()
