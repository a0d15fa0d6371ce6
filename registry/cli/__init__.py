"""The ``registry`` command. Exit status: 0 done, 1 the check or run failed, 2 bad usage or input.

One module per command group; what they share (errors, the database, --json) is in ``common``.
"""

from __future__ import annotations

import click

from registry.cli import (
    audit,
    disputes,
    events,
    exports,
    feeds,
    graph,
    imports,
    lookup,
    operations,
    orgs,
    review,
    server,
    taxii,
    watches,
)
from registry.cli.common import settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="registry")
def main() -> None:
    """Registry of suspicious IPs, domains, URLs, phones, accounts, wallets and hashes shared by member agencies.

    Settings come from REGISTRY_* environment variables (REGISTRY_DATABASE_URL, …).
    """
    settings()  # read and checked before any command runs


for _command in (
    server.init, server.demo, server.serve, server.scheduler,
    orgs.org, orgs.key, orgs.user,
    imports.import_cmd, lookup.lookup, lookup.search, exports.export_cmd,
    feeds.feeds, taxii.taxii, audit.audit, disputes.disputes, review.review,
    operations.op, operations.link, operations.unlink,
    events.events,
    watches.watch, graph.graph,
):
    main.add_command(_command)
