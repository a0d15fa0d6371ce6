"""``registry import``: a file of values into the registry, with the counts and the rejected lines."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from registry.cli.common import (
    EXIT_FAILED,
    cli_audit,
    echo_json,
    guard,
    json_option,
    open_db,
    settings,
    tlp_option,
)
from registry.domain import tlp as tlp_mod
from registry.domain.kinds import KINDS, USER_ACCOUNT


@click.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--org", "org_slug", required=True, help="Source organisation slug.")
@click.option("--format", "fmt", type=click.Choice(["text", "csv", "jsonl", "stix", "misp"]), help="Default: detected from the content.")
@click.option("--column", help="CSV column (header name or 0-based position) or JSON key holding the value.")
@click.option("--kind", type=click.Choice(KINDS), help="Kind of every value (default: detected per value).")
@click.option("--tlp", "tlp_text", default=tlp_mod.DEFAULT_TLP, show_default=True, help="clear, green, amber, amber+strict or red.")
@click.option("--confidence", type=click.IntRange(0, 100),
              help="Confidence of rows without their own. [default: the one --credibility maps to, else 50]")
@click.option("--reliability", help="The source's reliability, A (completely reliable) … E (unreliable), F (cannot "
                                    "be judged), for rows without their own (Admiralty grading).")
@click.option("--credibility", help="The information's credibility, 1 (confirmed) … 5 (improbable), 6 (cannot be "
                                    "judged), for rows without their own (Admiralty grading).")
@click.option("--label", "labels", multiple=True, help="A label for every value (repeatable).")
@click.option("--platform", help="Platform of @name values (user-account: telegram, line, whatsapp, …); "
                                 "rows of other kinds keep theirs.")
@click.option("--region", help="Default region (ISO alpha-2) of national phone numbers and account numbers; "
                               "default: the org's country.")
@click.option("--feed", help="Feed name to record as the channel (default: a direct submission).")
@json_option("Print the counts as JSON.")
@guard
def import_cmd(file, org_slug, fmt, column, kind, platform, tlp_text, confidence, reliability, credibility, labels,
               region, feed, as_json) -> None:
    """Import a plain list, FireHOL netset, CSV or JSON-lines file."""
    from registry.domain import grading
    from registry.services.errors import Invalid
    from registry.services.imports import import_file
    from registry.services.submit import Provenance, clean_labels, grades

    tlp = tlp_option(tlp_text)
    if column is not None and column.isdigit():
        column = int(column)
    if region is not None and (len(region) != 2 or not region.isalpha()):
        raise click.BadParameter(f"{region!r} is not an ISO 3166 alpha-2 region such as TH", param_hint="--region")
    if platform is not None:
        platform = platform_option(platform, kind)
    try:
        reliability, credibility = grades(reliability, credibility)
    except Invalid as exc:
        raise click.BadParameter(exc.message, param_hint=f"--{exc.field}") from None
    prov = Provenance(
        org=org_slug, feed=feed, tlp=tlp, confidence=grading.confidence_for(confidence, credibility),
        labels=clean_labels(labels), region=region.upper() if region else None, kind=kind, platform=platform,
        reliability=reliability, credibility=credibility, review_days=settings().review_days,
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
        used, report = import_file(db, file, prov, fmt=fmt, column=column, on_bytes=on_bytes,
                                   relist_days=settings().relist_days)
    finally:
        if bar:
            bar.__exit__(None, None, None)
    if report.lowered:  # an operator may lower levels too; it is audited like a member's write
        cli_audit("tlp-lowered", report.lowered.subject(), report.lowered.count, db=db)
    if report.held_values:  # delisted values not relisted (docs/design.md, "Disputes and delisting")
        cli_audit("held", {"file": file.name, "org": org_slug, "values": report.held_values}, report.held, db=db)
    if as_json:
        echo_json({"file": str(file), "format": used, **report.to_dict()})
    else:
        _echo_report(file, used, report)
    accepted = report.new + report.updated + report.unchanged + report.allowlisted + report.held
    if (report.read or report.rejected) and not accepted:  # rows the parser itself refused count too
        sys.exit(EXIT_FAILED)


def platform_option(name: str, kind: str | None) -> str:
    """``--platform``'s platform (``Twitter`` is ``x``), with the kinds it goes with."""
    from registry.domain.normalize.account_rules import platform_name
    from registry.domain.normalize.errors import Invalid

    try:
        platform = platform_name(name)
    except Invalid as exc:
        raise click.BadParameter(exc.reason, param_hint="--platform") from None
    if kind not in (None, USER_ACCOUNT):
        raise click.BadParameter(f"a platform goes with --kind {USER_ACCOUNT} (or no --kind), not {kind}",
                                 param_hint="--platform")
    return platform


def _echo_report(file: Path, used: str, report) -> None:
    click.echo(
        f"{file.name} ({used}): read {report.read}, new {report.new}, updated {report.updated}, "
        f"unchanged {report.unchanged}, allowlisted {report.allowlisted}, rejected {report.rejected}, "
        f"held {report.held}"
    )
    for r in report.rejects[:10]:
        click.echo(f"  rejected line {r.line_no}: {r.text[:80]!r}: {r.reason}")
    if report.rejected > 10:
        click.echo(f"  … and {report.rejected - 10} more rejected")
    for r in getattr(report, "remints", ()):  # a STIX bundle's objects stored under another id
        click.echo(f"  {r['id']} stored as {r['new_id']}: {r['reason']}")
    if getattr(report, "reminted", 0) > len(getattr(report, "remints", ())):
        click.echo(f"  … and {report.reminted - len(report.remints)} more stored under another id")
