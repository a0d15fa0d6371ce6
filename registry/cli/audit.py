"""The audit log's commands (``audit verify``, ``audit checkpoint``)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from registry.cli.common import EXIT_FAILED, Fail, echo_json, guard, json_option, open_db, settings


@click.group()
def audit() -> None:
    """The tamper-evident audit log."""


_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@audit.command("verify")
@click.option("--checkpoint", "checkpoints", multiple=True, type=_FILE, metavar="FILE",
              help="Also check a kept checkpoint (JSON as GET /-/audit/checkpoint serves it, a JSON array "
                   "of them, or JSON lines): the log must still hold the head it signed. Files after "
                   "the options are checkpoints too: --checkpoint kept/*.json")
@click.option("--public-key", "public_keys", multiple=True, metavar="KEY",
              help="A public key checkpoints may be signed with: 64 hex digits, or a file holding them or a "
                   "PEM public key. Default: the instance folder's signing key.")
@click.argument("more", nargs=-1, type=_FILE, metavar="[FILE]...")
@json_option()
@guard
def audit_verify(checkpoints, public_keys, more, as_json) -> None:
    """Check the hash chain: OK, or the first altered or missing row (exit 1); with
    --checkpoint, also that the log still holds each head a checkpoint signed (exit 1 naming the
    checkpoint that fails)."""
    import dataclasses

    from registry.services.audit import verify

    if more and not checkpoints:
        raise click.UsageError("files are checkpoints to check: give the first with --checkpoint")
    files = [*checkpoints, *more]
    trusted = _trusted_keys(public_keys) if files else set()
    db = open_db()
    result = verify(db)
    checked = _check_checkpoints(db, files, trusted) if files else []
    ok = result.ok and all(c["ok"] for c in checked)
    if as_json:
        out = dataclasses.asdict(result)
        if files:  # ok then covers the checkpoints too; problem stays the chain's
            out.update(ok=ok, checkpoints=checked)
        echo_json(out)
    else:
        click.echo(f"OK: {result.checked} rows checked" if result.ok else f"BROKEN: {result.problem}")
        for c in checked:
            where = f" (row {c['seq']}, {c['time']})" if c["seq"] is not None else ""
            if c["ok"]:
                click.echo(f"OK: checkpoint {c['checkpoint']}{where}: the log holds the head it signed")
            else:
                click.echo(f"BROKEN: checkpoint {c['checkpoint']}{where}: {c['problem']}")
    if not ok:
        sys.exit(EXIT_FAILED)


def _trusted_keys(given: tuple[str, ...]) -> set[str]:
    from registry.domain.audit_checkpoint import read_public_key
    from registry.services.audit_checkpoints import key_path, public_key

    keys = set()
    for value in given:
        text = value
        if len(value) != 64 or Path(value).is_file():
            try:
                text = Path(value).read_text(encoding="ascii")
            except (OSError, UnicodeDecodeError) as exc:
                raise Fail(f"--public-key {value!r}: neither 64 hex digits nor a readable file ({exc})") from None
        try:
            keys.add(read_public_key(text))
        except ValueError as exc:
            raise Fail(f"--public-key {value!r}: {exc}") from None
    if keys:
        return keys
    own = public_key(settings().instance_path, create=False)
    if own is None:
        raise Fail(f"no public key to check the checkpoints' signatures against: {key_path(settings().instance_path)} "
                   "does not exist here; pass --public-key (the key GET /-/audit/public-key serves)")
    return {own["public_key"]}


def _check_checkpoints(db, files: list[Path], trusted: set[str]) -> list[dict]:
    from registry.services.audit_checkpoints import check, documents

    kept = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise Fail(f"cannot read the checkpoint file {path}: {exc}") from None
        kept.extend(documents(str(path), text))
    return check(db, kept, trusted)


@audit.command("checkpoint")
@json_option("Print the checkpoint as GET /-/audit/checkpoint serves it.")
@guard
def audit_checkpoint(as_json) -> None:
    """Sign the audit chain's head now (the last row's id and hash, and the time) with the
    instance folder's key, store it, and print it."""
    from registry.services.audit_checkpoints import take

    checkpoint = take(open_db(), settings().instance_path)
    if as_json:
        echo_json(checkpoint)
        return
    click.echo(f"checkpoint: row {checkpoint['seq']}, hash {checkpoint['hash']}, time {checkpoint['time']}")
    click.echo(f"public key: {checkpoint['public_key']} ({checkpoint['algorithm']})")
    click.echo(f"signature:  {checkpoint['signature']}")
