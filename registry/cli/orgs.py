"""Administration: organisations, their API keys and their web page users (``org``, ``key``, ``user``).

The command line is the server's own operator: its user and key commands act as ON_SERVER,
unrestricted by org, cap or role, and it alone grants the operator role.
"""

from __future__ import annotations

import sys

import click

from registry.cli.common import cli_audit, echo_json, guard, json_option, open_db, tlp_option
from registry.domain.events import ANONYMOUS, NAMED, NONE, SHARE_HITS
from registry.domain.roles import ROLES

ROLE_HELP = ("admin: its own org's users and keys, up to its own TLP cap; "
             "operator: every org's (granted here only).")
PASSWORD_STDIN_HELP = "Read the password from the first line of standard input."


# What another org learns when an org's lookup hits its values, by --share-hits (docs/cli.md).
_SHARED = {NAMED: "its name", ANONYMOUS: 'only that "an agency" looked', NONE: "nothing"}


# -- orgs ----------------------------------------------------------------------------------
@click.group()
def org() -> None:
    """Member organisations and feed providers."""


@org.command("add")
@click.argument("slug")
@click.option("--name", required=True, help="Display name, e.g. 'Royal Thai Police CCIB'.")
@click.option("--country", help="ISO 3166 alpha-2 code; gives the default phone region.")
@guard
def org_add(slug: str, name: str, country: str | None) -> None:
    """Add an organisation."""
    from registry.services.orgs import add_org

    created = add_org(open_db(), slug, name, country)
    click.echo(f"added org {created.slug} ({created.name}, {created.country or 'no country'}) {created.stix_id}")


@org.command("set")
@click.argument("slug")
@click.option("--require-purpose/--no-require-purpose", "require_purpose", default=None,
              help="Every lookup by the org's users and keys must give a purpose and a case reference (or no longer).")
@click.option("--share-hits", "share_hits", type=click.Choice(SHARE_HITS), default=None,
              help="When the org's lookups hit another org's values, that org learns its name (named), only that "
                   "an agency looked (anonymous, the default), or nothing (none).")
@guard
def org_set(slug: str, require_purpose: bool | None, share_hits: str | None) -> None:
    """Change an organisation's settings."""
    from registry.services.orgs import set_org

    if require_purpose is None and share_hits is None:
        raise click.UsageError("give a setting to change: --require-purpose or --no-require-purpose, "
                               f"or --share-hits {'|'.join(SHARE_HITS)}")
    db = open_db()
    changed = set_org(db, slug, require_purpose=require_purpose, share_hits=share_hits)
    subject: dict = {"org": changed.slug}
    if require_purpose is not None:
        subject["require_purpose"] = changed.require_purpose
    if share_hits is not None:
        subject["share_hits"] = changed.share_hits
    cli_audit("org-set", subject, db=db)
    if require_purpose is not None:
        need = "must give" if changed.require_purpose else "need not give"
        click.echo(f"org {changed.slug}: lookups by its users and keys {need} a purpose and a case reference")
    if share_hits is not None:
        click.echo(f"org {changed.slug}: when its lookups hit another org's values, that org learns "
                   f"{_SHARED[changed.share_hits]}")


@org.command("list")
@json_option("Print JSON.")
def org_list(as_json: bool) -> None:
    """List organisations."""
    from registry.storage import orgs as org_store

    with open_db().read() as conn:
        rows = org_store.all_orgs(conn)
    if as_json:
        echo_json([{"slug": o.slug, "name": o.name, "country": o.country, "stix_id": o.stix_id,
                    "require_purpose": o.require_purpose, "share_hits": o.share_hits} for o in rows])
        return
    for o in rows:
        need = "  (lookups need a purpose)" if o.require_purpose else ""
        click.echo(f"{o.slug:<16} {o.country or '--':<3} hits {o.share_hits:<9} {o.name}{need}")


# -- keys ------------------------------------------------------------------------------------
@click.group()
def key() -> None:
    """API keys for member systems."""


@key.command("create")
@click.option("--org", "org_slug", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES), help=ROLE_HELP)
@click.option("--max-tlp", "max_tlp", help="Highest TLP the key may see (default amber+strict).")
@click.option("--name", help="What the key is for, e.g. 'bank-x fraud engine'.")
@json_option()
@guard
def key_create(org_slug, role, max_tlp, name, as_json) -> None:
    """Create a key; it is printed once and never again."""
    from registry.services.access import ON_SERVER
    from registry.services.keys import create_key

    tlp_option(max_tlp)
    db = open_db()
    created = create_key(db, org_slug, role, max_tlp, name, by=ON_SERVER)
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
@json_option()
def key_list(org_slug, as_json) -> None:
    """List keys (prefixes only)."""
    from registry.domain.times import iso
    from registry.services.access import ON_SERVER
    from registry.services.keys import list_keys

    rows = list_keys(open_db(), org_slug, by=ON_SERVER)
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
@guard
def key_revoke(prefix) -> None:
    """Revoke a key by its prefix."""
    from registry.services.access import ON_SERVER
    from registry.services.keys import revoke_key

    db = open_db()
    row = revoke_key(db, prefix, by=ON_SERVER)
    cli_audit("key-revoke", {"prefix": prefix, "org": row.org}, db=db)
    click.echo(f"revoked {prefix} ({row.org}, {row.role})")


# -- web users -------------------------------------------------------------------------------
@click.group()
def user() -> None:
    """People who sign in to the web page."""


def _read_password(from_stdin: bool, prompt: str) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt(prompt, hide_input=True, confirmation_prompt=True, err=True)


@user.command("add")
@click.argument("username")
@click.option("--org", "org_slug", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES), help=ROLE_HELP)
@click.option("--max-tlp", "max_tlp", help="Highest TLP the user may see (default amber+strict).")
@click.option("--password-stdin", is_flag=True, help=PASSWORD_STDIN_HELP)
@guard
def user_add(username, org_slug, role, max_tlp, password_stdin) -> None:
    """Add a user; the password is prompted for (twice) unless --password-stdin."""
    from registry.services.access import ON_SERVER
    from registry.services.users import add_user

    tlp_option(max_tlp)
    password = _read_password(password_stdin, "Password")
    db = open_db()
    created = add_user(db, username, org=org_slug, role=role, password=password, max_tlp=max_tlp, by=ON_SERVER)
    cli_audit("user-add", {"username": created.username, "org": created.org, "role": created.role,
                           "max_tlp": created.max_tlp}, db=db)
    click.echo(f"added user {created.username} (org {created.org}, role {created.role}, max TLP {created.max_tlp})")


@user.command("list")
@click.option("--org", "org_slug")
@json_option()
def user_list(org_slug, as_json) -> None:
    """List users (never their passwords)."""
    from registry.domain.times import iso
    from registry.services.access import ON_SERVER
    from registry.services.users import list_users

    data = [{"username": u.username, "org": u.org, "role": u.role, "max_tlp": u.max_tlp,
             "created": iso(u.created), "last_login": iso(u.last_login), "disabled": u.disabled}
            for u in list_users(open_db(), org_slug, by=ON_SERVER)]
    if as_json:
        echo_json(data)
        return
    for d in data:
        state = "DISABLED" if d["disabled"] else f"last login {d['last_login'] or 'never'}"
        click.echo(f"{d['username']:<24} {d['org']:<14} {d['role']:<12} {d['max_tlp']:<13} {state}")


@user.command("disable")
@click.argument("username")
@guard
def user_disable(username) -> None:
    """Disable a user: their sessions stop working at once."""
    _set_user_disabled(username, True)


@user.command("enable")
@click.argument("username")
@guard
def user_enable(username) -> None:
    """Enable a disabled user again."""
    _set_user_disabled(username, False)


def _set_user_disabled(username: str, disabled: bool) -> None:
    from registry.services.access import ON_SERVER
    from registry.services.users import set_disabled

    db = open_db()
    row = set_disabled(db, username, disabled, by=ON_SERVER)
    word = "disabled" if disabled else "enabled"
    cli_audit(f"user-{word[:-1]}", {"username": row.username, "org": row.org}, db=db)
    click.echo(f"{word} {row.username} ({row.org}, {row.role})")


@user.command("password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help=PASSWORD_STDIN_HELP)
@guard
def user_password(username, password_stdin) -> None:
    """Set a new password; the user's sessions end at once."""
    from registry.services.access import ON_SERVER
    from registry.services.users import get_user, set_password

    db = open_db()
    get_user(db, username, by=ON_SERVER)  # an unknown user is said before the password is asked for
    password = _read_password(password_stdin, "New password")
    row = set_password(db, username, password, by=ON_SERVER)
    cli_audit("user-password", {"username": row.username, "org": row.org}, db=db)
    click.echo(f"new password set for {row.username}; their sessions have ended")


@user.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice(ROLES))
@click.option("--max-tlp", "max_tlp", help="A new TLP cap too (default: keep the user's).")
@guard
def user_set_role(username, role, max_tlp) -> None:
    """Give a user a new role (and cap): e.g. `operator` for an admin who administers every org."""
    from registry.services.access import ON_SERVER
    from registry.services.users import set_access

    tlp_option(max_tlp)
    db = open_db()
    row = set_access(db, username, role=role, max_tlp=max_tlp, by=ON_SERVER)
    cli_audit("user-access", {"username": row.username, "org": row.org, "role": row.role,
                              "max_tlp": row.max_tlp}, db=db)
    click.echo(f"{row.username} ({row.org}) is now {row.role}, max TLP {row.max_tlp}")
