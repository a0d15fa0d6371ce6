"""The ``registry`` command. Exit status: 0 done, 1 the check or run failed, 2 bad usage or input."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
import orjson

from registry import config
from registry.domain import tlp as tlp_mod
from registry.domain.tlp import Viewer
from registry.ingest.records import FeedFormatError
from registry.services.errors import RegistryError

EXIT_FAILED = 1
EXIT_USAGE = 2


class Fail(click.ClickException):
    """A one-line error on stderr and exit status 2."""

    exit_code = EXIT_USAGE


def echo_json(data) -> None:
    click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())


def open_db(*, create: bool = True):
    """The configured database; an empty one is initialised, an outdated one refused."""
    from registry.storage import migrate
    from registry.storage.db import Database

    db = Database(config.database_url())
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="registry")
def main() -> None:
    """Registry of suspicious IPs, domains, URLs and phone numbers shared by member agencies.

    Settings come from REGISTRY_* environment variables (REGISTRY_DATABASE_URL, …).
    """


def _guard(func):
    """Turn domain errors into one-line messages with exit status 2."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except RegistryError as exc:
            raise Fail(exc.message) from None
        except FeedFormatError as exc:
            raise Fail(str(exc)) from None

    return wrapper


@main.command()
def init() -> None:
    """Create or upgrade the database schema."""
    from registry.storage import migrate
    from registry.storage.db import Database

    db = Database(config.database_url())
    migrate.upgrade(db)
    db.dispose()
    click.echo(f"database ready: {db.engine.url.render_as_string(hide_password=True)}")
    if not config.get("SECRET_KEY"):
        click.echo(f"secret key: {config.ensure_secret_key()}")


# -- orgs ----------------------------------------------------------------------------------
@main.group()
def org() -> None:
    """Member organisations and feed providers."""


@org.command("add")
@click.argument("slug")
@click.option("--name", required=True, help="Display name, e.g. 'Royal Thai Police CCIB'.")
@click.option("--country", help="ISO 3166 alpha-2 code; gives the default phone region.")
@_guard
def org_add(slug: str, name: str, country: str | None) -> None:
    """Add an organisation."""
    from registry.services.orgs import add_org

    created = add_org(open_db(), slug, name, country)
    click.echo(f"added org {created.slug} ({created.name}, {created.country or 'no country'}) {created.stix_id}")


@org.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def org_list(as_json: bool) -> None:
    """List organisations."""
    from registry.storage import orgs as org_store

    with open_db().read() as conn:
        rows = org_store.all_orgs(conn)
    if as_json:
        echo_json([{"slug": o.slug, "name": o.name, "country": o.country, "stix_id": o.stix_id} for o in rows])
        return
    for o in rows:
        click.echo(f"{o.slug:<16} {o.country or '--':<3} {o.name}")


# -- keys ------------------------------------------------------------------------------------
def cli_audit(action: str, subject=None, result_count: int | None = None, db=None) -> None:
    """Audit an operator action taken on the command line (written at once: no server)."""
    from registry.services.audit import AuditLog

    log = AuditLog(db or open_db(), synchronous=True)
    log.record(action, actor=f"cli:{os.environ.get('USER', 'unknown')}", subject=subject, result_count=result_count,
               client="cli")
    log.close()


@main.group()
def key() -> None:
    """API keys for member systems."""


@key.command("create")
@click.option("--org", "org_slug", required=True)
@click.option("--role", required=True, type=click.Choice(["reader", "contributor", "feed-admin", "admin"]))
@click.option("--max-tlp", "max_tlp", help="Highest TLP the key may see (default amber+strict).")
@click.option("--name", help="What the key is for, e.g. 'bank-x fraud engine'.")
@click.option("--json", "as_json", is_flag=True)
@_guard
def key_create(org_slug, role, max_tlp, name, as_json) -> None:
    """Create a key; it is printed once and never again."""
    from registry.services.keys import create_key

    tlp_option(max_tlp)
    db = open_db()
    created = create_key(db, org_slug, role, max_tlp, name)
    cli_audit("key-create", {"prefix": created["prefix"], "org": org_slug, "role": role,
                             "max_tlp": created["max_tlp"]}, db=db)
    if as_json:
        echo_json(created)
        return
    click.echo(created["key"])
    click.echo(f"(prefix {created['prefix']}, org {org_slug}, role {role}, max TLP {created['max_tlp']}: "
               "store the key now, it is not shown again)", err=True)


@key.command("list")
@click.option("--org", "org_slug")
@click.option("--json", "as_json", is_flag=True)
def key_list(org_slug, as_json) -> None:
    """List keys (prefixes only)."""
    from registry.domain.times import iso
    from registry.services.keys import list_keys

    rows = list_keys(open_db(), org_slug)
    data = [{"prefix": r.prefix, "org": r.org, "role": r.role, "max_tlp": r.max_tlp, "name": r.name,
             "created": iso(r.created), "last_used": iso(r.last_used), "revoked": iso(r.revoked)} for r in rows]
    if as_json:
        echo_json(data)
        return
    for d in data:
        state = f"revoked {d['revoked']}" if d["revoked"] else f"last used {d['last_used'] or 'never'}"
        click.echo(f"{d['prefix']}  {d['org']:<14} {d['role']:<12} {d['max_tlp']:<13} {state}  {d['name'] or ''}")


@key.command("revoke")
@click.argument("prefix")
@_guard
def key_revoke(prefix) -> None:
    """Revoke a key by its prefix."""
    from registry.services.keys import revoke_key

    db = open_db()
    row = revoke_key(db, prefix)
    cli_audit("key-revoke", {"prefix": prefix, "org": row.org}, db=db)
    click.echo(f"revoked {prefix} ({row.org}, {row.role})")


# -- web users -------------------------------------------------------------------------------
@main.group()
def user() -> None:
    """People who sign in to the web page."""


@user.command("add")
@click.argument("username")
@click.option("--org", "org_slug", required=True)
@click.option("--role", required=True, type=click.Choice(["reader", "contributor", "feed-admin", "admin"]))
@click.option("--max-tlp", "max_tlp", help="Highest TLP the user may see (default amber+strict).")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@_guard
def user_add(username, org_slug, role, max_tlp, password_stdin) -> None:
    """Add a user; the password is prompted for (twice) unless --password-stdin."""
    from registry.services.users import add_user

    tlp_option(max_tlp)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    db = open_db()
    created = add_user(db, username, org=org_slug, role=role, password=password, max_tlp=max_tlp)
    cli_audit("user-add", {"username": created.username, "org": created.org, "role": created.role,
                           "max_tlp": created.max_tlp}, db=db)
    click.echo(f"added user {created.username} (org {created.org}, role {created.role}, max TLP {created.max_tlp})")


@user.command("list")
@click.option("--org", "org_slug")
@click.option("--json", "as_json", is_flag=True)
def user_list(org_slug, as_json) -> None:
    """List users (never their passwords)."""
    from registry.domain.times import iso
    from registry.services.users import list_users

    data = [{"username": u.username, "org": u.org, "role": u.role, "max_tlp": u.max_tlp,
             "created": iso(u.created), "last_login": iso(u.last_login), "disabled": u.disabled}
            for u in list_users(open_db(), org_slug)]
    if as_json:
        echo_json(data)
        return
    for d in data:
        state = "DISABLED" if d["disabled"] else f"last login {d['last_login'] or 'never'}"
        click.echo(f"{d['username']:<24} {d['org']:<14} {d['role']:<12} {d['max_tlp']:<13} {state}")


@user.command("disable")
@click.argument("username")
@_guard
def user_disable(username) -> None:
    """Disable a user: their sessions stop working at once."""
    _set_user_disabled(username, True)


@user.command("enable")
@click.argument("username")
@_guard
def user_enable(username) -> None:
    """Enable a disabled user again."""
    _set_user_disabled(username, False)


def _set_user_disabled(username: str, disabled: bool) -> None:
    from registry.services.users import set_disabled

    db = open_db()
    row = set_disabled(db, username, disabled)
    word = "disabled" if disabled else "enabled"
    cli_audit(f"user-{word[:-1]}", {"username": row.username, "org": row.org}, db=db)
    click.echo(f"{word} {row.username} ({row.org}, {row.role})")


@user.command("password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@_guard
def user_password(username, password_stdin) -> None:
    """Set a new password; the user's sessions end at once."""
    from registry.services.users import get_user, set_password

    db = open_db()
    get_user(db, username)  # an unknown user is said before the password is asked for
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True, err=True)
    row = set_password(db, username, password)
    cli_audit("user-password", {"username": row.username, "org": row.org}, db=db)
    click.echo(f"new password set for {row.username}; their sessions have ended")


# -- audit ---------------------------------------------------------------------------------
@main.group()
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command("verify")
@click.option("--json", "as_json", is_flag=True)
def audit_verify(as_json) -> None:
    """Check the hash chain: OK, or the first altered or missing row (exit 1)."""
    import dataclasses

    from registry.services.audit import verify

    result = verify(open_db())
    if as_json:
        echo_json(dataclasses.asdict(result))
    elif result.ok:
        click.echo(f"OK: {result.checked} rows checked")
    else:
        click.echo(f"BROKEN: {result.problem}")
    if not result.ok:
        sys.exit(EXIT_FAILED)


# -- import --------------------------------------------------------------------------------
@main.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--org", "org_slug", required=True, help="Source organisation slug.")
@click.option("--format", "fmt", type=click.Choice(["text", "csv", "jsonl", "stix", "misp"]), help="Default: detected from the content.")
@click.option("--column", help="CSV column (header name or 0-based position) or JSON key holding the value.")
@click.option("--kind", type=click.Choice(["ipv4", "ipv6", "domain", "url", "phone", "email"]), help="Kind of every value (default: detected per value).")
@click.option("--tlp", "tlp_text", default=tlp_mod.DEFAULT_TLP, show_default=True, help="clear, green, amber, amber+strict or red.")
@click.option("--confidence", type=click.IntRange(0, 100), default=50, show_default=True)
@click.option("--label", "labels", multiple=True, help="A label for every value (repeatable).")
@click.option("--region", help="Default phone region (ISO alpha-2); default: the org's country.")
@click.option("--feed", help="Feed name to record as the channel (default: a direct submission).")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@_guard
def import_cmd(file, org_slug, fmt, column, kind, tlp_text, confidence, labels, region, feed, as_json) -> None:
    """Import a plain list, FireHOL netset, CSV or JSON-lines file."""
    from registry.services.imports import import_file
    from registry.services.submit import Provenance, clean_labels

    tlp = tlp_option(tlp_text)
    if column is not None and column.isdigit():
        column = int(column)
    if region is not None and (len(region) != 2 or not region.isalpha()):
        raise click.BadParameter(f"{region!r} is not an ISO 3166 alpha-2 region such as TH", param_hint="--region")
    prov = Provenance(
        org=org_slug, feed=feed, tlp=tlp, confidence=confidence, labels=clean_labels(labels),
        region=region.upper() if region else None, kind=kind,
    )
    db = open_db()
    bar = None
    on_bytes = None
    if sys.stderr.isatty() and not as_json and file.is_file() and file.stat().st_size > 1 << 20:
        bar = click.progressbar(length=file.stat().st_size, label=f"importing {file.name}", file=sys.stderr)
        on_bytes = bar.update
    try:
        if bar:
            bar.__enter__()
        used, report = import_file(db, file, prov, fmt=fmt, column=column, on_bytes=on_bytes)
    finally:
        if bar:
            bar.__exit__(None, None, None)
    if report.lowered:  # an operator may lower levels too; it is audited like a member's write
        cli_audit("tlp-lowered", report.lowered.subject(), report.lowered.count, db=db)
    data = report.to_dict()
    if as_json:
        echo_json({"file": str(file), "format": used, **data})
    else:
        click.echo(
            f"{file.name} ({used}): read {report.read}, new {report.new}, updated {report.updated}, "
            f"unchanged {report.unchanged}, allowlisted {report.allowlisted}, rejected {report.rejected}"
        )
        for r in report.rejects[:10]:
            click.echo(f"  rejected line {r.line_no}: {r.text[:80]!r}: {r.reason}")
        if report.rejected > 10:
            click.echo(f"  … and {report.rejected - 10} more rejected")
    accepted = report.new + report.updated + report.unchanged + report.allowlisted
    if report.read and not accepted:
        sys.exit(EXIT_FAILED)


# -- lookup and search ---------------------------------------------------------------------
@main.command()
@click.argument("values", nargs=-1)
@click.option("--file", "file", type=click.File("r", encoding="utf-8-sig"), help="Read values from a file, one a line ('-' for stdin).")
@click.option("--region", help="Region for national phone numbers (ISO alpha-2); default REGISTRY_DEFAULT_REGION.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list, one answer per value, in input order.")
@_guard
def lookup(values, file, region, as_json) -> None:
    """Is this value known? By whom, how sure, under which TLP?"""
    from registry.services.lookup import lookup as do_lookup

    queries = list(values)
    if file is not None:
        queries.extend(line.strip() for line in file if line.strip() and not line.lstrip().startswith("#"))
    if not queries:
        raise Fail("give values to look up, or --file")
    with open_db().read() as conn:
        answers = do_lookup(conn, queries, Viewer.operator(), region=(region or config.get("DEFAULT_REGION") or "").upper() or None,
                            half_lifes=config.half_lifes())
    if as_json:
        echo_json(answers)
        return
    for answer in answers:
        click.echo(format_answer(answer))


def format_answer(answer: dict) -> str:
    if "error" in answer:
        return f"{answer['query']}: cannot parse: {answer['error']}"
    status = "LISTED" if answer["listed"] else "not listed"
    if answer["allowlisted"]:
        status += f", ALLOWLISTED ({answer.get('allowlist_reason')})"
    lines = [f"{answer['query']}  [{answer['kind']} {answer['value']}]  {status}  score {answer['score']}"]
    for m in answer["matches"]:
        lines.append(f"  {m['match']}: {m['value']}")
        for a in m["assertions"]:
            labels = ",".join(a["labels"]) or "-"
            via = f" via {a['feed']}" if a["feed"] else ""
            lines.append(
                f"    {a['source']}{via}: confidence {a['confidence']}, TLP:{a['tlp'].upper()}, labels {labels}, "
                f"seen {a['first_seen'][:10]}..{a['last_seen'][:10]}, reported {a['times_reported']}x"
            )
        for s in m["sightings"]:
            lines.append(f"    sighted by {s['source']} {s['count']}x, last {s['last_seen'][:10]}")
    return "\n".join(lines)


@main.command()
@click.option("--within", required=True, help="A CIDR: list what is listed inside it.")
@click.option("--limit", type=click.IntRange(1, 100000), default=1000, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@_guard
def search(within, limit, as_json) -> None:
    """Search the registry (for now: what is listed inside a network)."""
    from registry.services.lookup import search_within

    with open_db().read() as conn:
        result = search_within(conn, within, Viewer.operator(), limit=limit)
    if as_json:
        echo_json(result)
        return
    for r in result["results"]:
        sources = ", ".join(sorted({a["source"] for a in r["assertions"]}))
        flag = " (allowlisted)" if r["allowlisted"] else ""
        click.echo(f"{r['value']:<40} {r['kind']:<5} {sources}{flag}")
    more = " (more: raise --limit)" if result["truncated"] else ""
    click.echo(f"{result['count']} listed inside {result['within']}{more}")


# -- export --------------------------------------------------------------------------------
@main.command("export")
@click.option("--format", "fmt", type=click.Choice(["stix", "csv", "text", "cidr", "rpz", "misp", "json"]), required=True,
              help="stix: a STIX 2.1 bundle; csv: one indicator a row with its provenance summary; text: one value "
                   "a line; cidr: merged IPv4 and IPv6 blocks; rpz: a DNS response-policy zone; json: JSON lines; "
                   "misp: a MISP feed folder.")
@click.option("--kind", type=click.Choice(["ipv4", "ipv6", "domain", "url", "phone", "email"]))
@click.option("--label", help="Only assertions carrying this label.")
@click.option("--source", help="Only this org's assertions (and sightings, for stix).")
@click.option("--since", help="An ISO date or time, or a change sequence number: only what changed after it.")
@click.option("--min-score", type=click.IntRange(0, 100), help="Only indicators scoring at least this (not stix, misp).")
@click.option("--include-expired", is_flag=True, help="Keep assertions past their valid_until.")
@click.option("--include-allowlisted", is_flag=True, help="Keep allowlisted values.")
@click.option("--zone", help="rpz: the zone's name (default rpz.registry.local).")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="File to write (default: standard output); for misp a folder (required).")
@_guard
def export_cmd(fmt, kind, label, source, since, min_score, include_expired, include_allowlisted, zone, output) -> None:
    """Export what the registry holds (all of it: the CLI runs as the operator)."""
    from registry.services import exports

    query = exports.ExportQuery.parse({"kind": kind, "label": label, "source": source, "since": since,
                                       "min_score": min_score, "include_expired": include_expired,
                                       "include_allowlisted": include_allowlisted, "zone": zone})
    subject = {"format": fmt, **{k: v for k, v in (("kind", kind), ("label", label), ("source", source),
               ("since", since), ("min_score", min_score), ("zone", zone)) if v is not None}}
    db = open_db()
    if fmt == "misp":
        if output is None:
            raise Fail("the MISP feed is a folder: give it with -o FOLDER")
        if output.exists() and not output.is_dir():
            raise Fail(f"{output} is a file; the MISP feed is a folder")
        events = exports.write_misp_folder(db, Viewer.operator(), query, output)
        cli_audit("export", subject, events, db=db)
        click.echo(f"wrote {events:,} events, manifest.json and hashes.csv to {output}", err=True)
        return
    if output is not None and output.is_dir():
        raise Fail(f"{output} is a folder; give a file name")
    written = 0
    with db.read() as conn:
        chunks = exports.stream(conn, Viewer.operator(), fmt, query, half_lifes=config.half_lifes())
        target = output.open("wb") if output else sys.stdout.buffer
        try:
            for chunk in chunks:
                target.write(chunk)
                written += len(chunk)
        finally:
            if output:
                target.close()
    cli_audit("export", subject, db=db)
    if output:
        click.echo(f"wrote {written:,} bytes to {output}", err=True)


# -- TAXII federation ------------------------------------------------------------------------
@main.group()
def taxii() -> None:
    """TAXII 2.1: pull another registry's (or any TAXII server's) collection."""


@taxii.command("pull")
@click.argument("url")
@click.option("--collection", "collection", required=True,
              help="Collection id, or its alias/title as the API root lists it (e.g. indicators).")
@click.option("--org", "org_slug", required=True,
              help="Org the pulled objects belong to when the Identity they name is no org here.")
@click.option("--user", help="HTTP Basic user (on a registry: your org's slug there).")
@click.option("--password-env", help="Environment variable holding the password (on a registry: your API key there).")
@click.option("--full", is_flag=True, help="Ignore the stored cursor: pull everything again.")
@click.option("--json", "as_json", is_flag=True)
@_guard
def taxii_pull(url, collection, org_slug, user, password_env, full, as_json) -> None:
    """Pull what is new in a remote TAXII collection since the last pull (URL: its API root,
    e.g. https://registry.example/taxii2/api/). Exit status 1 when the remote cannot be read."""
    from registry.services.federation import PullFailed, pull

    password = None
    if password_env:
        password = os.environ.get(password_env)
        if password is None:
            raise Fail(f"{password_env} is not set")
    db = open_db()
    try:
        counts = pull(db, url, collection, org=org_slug, user=user, password=password, full=full)
    except PullFailed as exc:
        click.echo(f"pull failed: {exc.message}", err=True)
        sys.exit(EXIT_FAILED)
    cli_audit("taxii-pull", {"url": counts["url"], "collection": counts["collection"], "org": org_slug},
              counts["new"] + counts["updated"], db=db)
    if as_json:
        echo_json(counts)
        return
    click.echo(f"{counts['objects']} objects in {counts['pages']} pages: {counts['new']} new, "
               f"{counts['updated']} updated, {counts['unchanged']} unchanged, {counts['rejected']} rejected, "
               f"{counts['sightings']} sightings; next pull from {counts['cursor'] or 'the start'}")


# -- demo and serving ----------------------------------------------------------------------
@main.command()
@_guard
def demo() -> None:
    """Load demo organisations and indicators from the sample feeds bundled with the project."""
    from registry.demo import load_demo

    for line in load_demo(open_db(), keys_file=config.instance_path() / "demo-keys.txt"):
        click.echo(line)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", type=int, help="Gunicorn workers (default: 2 × cores + 1).")
@click.option("--dev", is_flag=True, help="Flask's development server (one process, reloader off).")
@click.option("--scheduler", "with_scheduler", is_flag=True, help="Also run the feed scheduler (one machine).")
def serve(host, port, workers, dev, with_scheduler) -> None:
    """Serve the API."""
    from registry.web.serve import run

    open_db()  # initialise an empty database before workers start
    run(host=host, port=port, workers=workers or (2 * (os.cpu_count() or 1) + 1), dev=dev, scheduler=with_scheduler)


# -- feeds and the scheduler ---------------------------------------------------------------
@main.group()
def feeds() -> None:
    """Partner feeds: load the catalogue (feeds/*.toml), run them, read their history."""


@feeds.command("sync")
@click.option("--path", "folder", type=click.Path(path_type=Path, file_okay=False),
              help="Catalogue folder (default REGISTRY_FEEDS_PATH, ./feeds).")
@click.option("--json", "as_json", is_flag=True)
@_guard
def feeds_sync(folder, as_json) -> None:
    """Load the catalogue into the database; prints what changed."""
    from registry.services.feeds import sync_catalogue

    db = open_db()
    report = sync_catalogue(db, folder)
    cli_audit("feeds-sync", report.to_dict(), len(report.added) + len(report.changed), db=db)
    if as_json:
        echo_json(report.to_dict())
        return
    for line in report.lines():
        click.echo(line)


@feeds.command("list")
@click.option("--json", "as_json", is_flag=True)
def feeds_list(as_json) -> None:
    """Every feed: format, schedule, last run, status, health; counts of the last complete run."""
    from registry.services.feeds import list_feeds

    rows = list_feeds(open_db(), Viewer.operator())
    if as_json:
        echo_json(rows)
        return
    click.echo(f"{'feed':<24} {'format':<6} {'schedule':<14} {'last run':<20} {'status':<12} {'health':<9} "
               f"{'rows':>8} {'new':>7} {'upd':>6} {'exp':>6} {'rej':>5}")
    for f in rows:
        last, counts = f["last_run"] or {}, f["last_ok_run"] or {}  # counts: the last run that read it all
        click.echo(f"{f['name']:<24} {f['format']:<6} {f['schedule']:<14} {last.get('started') or '-':<20} "
                   f"{last.get('status', '-'):<12} {f['health']:<9} {counts.get('rows', 0):>8,} "
                   f"{counts.get('new', 0):>7,} {counts.get('updated', 0):>6,} {counts.get('expired', 0):>6,} "
                   f"{counts.get('rejected', 0):>5,}")


def _run_line(r: dict) -> str:
    http = f"HTTP {r['http_status']}, " if r["http_status"] else ""
    return (f"{r['feed']} run {r['id']}: {r['status']} ({http}{r['bytes']:,} bytes, {r['duration'] or 0:.1f} s): "
            f"rows {r['rows']:,}, new {r['new']:,}, updated {r['updated']:,}, unchanged {r['unchanged']:,}, "
            f"expired {r['expired']:,}, allowlisted {r['allowlisted']:,}, rejected {r['rejected']:,}")


@feeds.command("run")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the run's figures as JSON.")
@_guard
def feeds_run(name, as_json) -> None:
    """Run one feed now (exit status 1 when the run fails)."""
    from registry.services.feeds import FeedBusy, run_feed

    db = open_db()
    bars: dict = {}

    def progress(what: str, done: int, total: int | None) -> None:
        if what not in bars and total:
            label = f"{name}: {'reading' if what == 'rows' else what}"
            bars[what] = click.progressbar(length=total, label=label, file=sys.stderr)
            bars[what].__enter__()
        if what in bars:
            bars[what].update(done - bars[what].pos)

    show = sys.stderr.isatty() and not as_json
    try:
        result = run_feed(db, name, trigger="cli", progress=progress if show else None)
    except FeedBusy as exc:
        click.echo(f"not run: {exc.message}", err=True)
        sys.exit(EXIT_FAILED)
    finally:
        for bar in bars.values():
            bar.__exit__(None, None, None)
    data = result.to_dict()
    cli_audit("feed-run", {"feed": name, "run": result.id, "status": result.status}, result.new + result.updated, db=db)
    if as_json:
        echo_json(data)
    else:
        click.echo(_run_line(data))
        if data["anomaly"]:
            click.echo(f"  anomaly: {data['anomaly']}")
        if data["error"]:
            click.echo(f"  error: {data['error']}")
        for r in data["rejects"][:10]:
            click.echo(f"  rejected line {r['line']}: {r['text'][:80]!r}: {r['reason']}")
        if data["rejected"] > 10:
            click.echo(f"  … and {data['rejected'] - 10:,} more rejected")
    if result.failed:
        sys.exit(EXIT_FAILED)


@feeds.command("runs")
@click.argument("name")
@click.option("--limit", type=click.IntRange(1, 200), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@_guard
def feeds_runs(name, limit, as_json) -> None:
    """A feed's run history, newest first."""
    from registry.services.feeds import feed_runs

    page = feed_runs(open_db(), name, Viewer.operator(), limit=limit)
    if as_json:
        echo_json(page["runs"])
        return
    click.echo(f"{'started':<20} {'status':<12} {'HTTP':>4} {'bytes':>11} {'rows':>8} {'new':>7} {'upd':>6} "
               f"{'same':>7} {'exp':>6} {'allow':>5} {'rej':>5} {'secs':>6}")
    for r in page["runs"]:
        note = r["error"] or r["anomaly"] or ""
        click.echo(f"{r['started']:<20} {r['status']:<12} {r['http_status'] or '-':>4} {r['bytes']:>11,} "
                   f"{r['rows']:>8,} {r['new']:>7,} {r['updated']:>6,} {r['unchanged']:>7,} {r['expired']:>6,} "
                   f"{r['allowlisted']:>5,} {r['rejected']:>5,} {r['duration'] or 0:>6.1f}  {note[:100]}")


@main.command()
def scheduler() -> None:
    """Run every enabled feed on its schedule until SIGTERM (which ends the batch in hand first)."""
    import logging
    import signal

    from registry.scheduler import FeedScheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    feed_scheduler = FeedScheduler(open_db())
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: feed_scheduler.stopping.set())
    count = feed_scheduler.start()
    click.echo(f"scheduler: {count} feeds scheduled; SIGTERM stops it", err=True)
    while not feed_scheduler.stopping.wait(1):
        pass
    click.echo("scheduler: stopping after the batches in hand", err=True)
    feed_scheduler.stop()


if __name__ == "__main__":  # pragma: no cover
    main()
