"""Demo data for `make run`: a few member agencies, their own submissions, and the demo feeds of
the catalogue (feeds/demo-*.toml, reading files bundled here) run once, so the registry opens
populated and with feed history. Run again, the feeds record a cheap "not-modified" run."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from registry.config import Settings
from registry.domain.tlp import Viewer
from registry.services.access import ON_SERVER
from registry.services.feed_runs import FeedBusy
from registry.services.imports import import_file
from registry.services.keys import create_key, list_keys
from registry.services.orgs import add_org
from registry.services.submit import Provenance
from registry.storage import orgs as org_store
from registry.storage.db import Database

DATA = Path(__file__).parent / "data"

ORGS = (
    ("ccib-th", "Royal Thai Police CCIB", "TH"),
    ("pdrm-my", "Royal Malaysia Police (PDRM) CCID", "MY"),
    ("pnp-acg-ph", "Philippine National Police Anti-Cybercrime Group", "PH"),
    ("kh-police", "Cambodian National Police, Anti-Cybercrime Department", "KH"),
    ("spamhaus", "The Spamhaus Project", None),
    ("dshield", "SANS Internet Storm Center (DShield)", None),
    ("openphish", "OpenPhish", None),
    ("abusech", "abuse.ch", "CH"),
    ("bank-x", "Bank X fraud team (a reader capped at TLP:GREEN)", "TH"),
    ("registry-ops", "Registry operators", None),
)

DEMO_KEYS = (
    ("ccib-th", "contributor", "red"),
    ("pdrm-my", "reader", None),
    ("bank-x", "reader", "green"),
    ("registry-ops", "operator", "red"),
)


@dataclass(frozen=True)
class DemoImport:
    file: str
    provenance: Provenance
    column: str | None = None


# The agencies' own submissions; the partner lists come in as feeds (see load_demo).
IMPORTS = (
    DemoImport("ccib-th-scam-numbers.csv", Provenance("ccib-th", tlp="amber", confidence=80, labels=("call-centre-scam",), kind="phone"), column="number"),
    DemoImport("pdrm-my-scam.txt", Provenance("pdrm-my", tlp="green", confidence=70, labels=("macau-scam",))),
    DemoImport("pnp-acg-ph-smishing.txt", Provenance("pnp-acg-ph", tlp="amber", confidence=65, labels=("smishing",))),
    # Bank and e-wallet accounts, crypto wallets, messaging accounts and an APK's hash (docs/web.md).
    DemoImport("ccib-th-mule-accounts.csv", Provenance("ccib-th", tlp="amber", confidence=80, labels=("call-centre-scam",)), column="account"),
    DemoImport("pdrm-my-mule-accounts.csv", Provenance("pdrm-my", tlp="green", confidence=70, labels=("macau-scam",)), column="account"),
    DemoImport("pnp-acg-ph-mule-accounts.csv", Provenance("pnp-acg-ph", tlp="amber", confidence=65, labels=("smishing",)), column="account"),
    DemoImport("kh-police-compound.csv", Provenance("kh-police", tlp="green", confidence=70, labels=("scam-compound",)), column="account"),
)


def load_demo(db: Database, keys_file: Path | None = None, feeds_folder: Path | None = None, *,
              settings: Settings | None = None) -> Iterator[str]:
    """Add the demo orgs (if missing), demo keys (on a registry with none, written to
    ``keys_file``), import the demo files, sync the feed catalogue (``feeds_folder``, default
    REGISTRY_FEEDS_PATH) and run its enabled feeds that read local files; yields one line per step.
    ``settings``: the command's, else the environment's."""
    for slug, name, country in ORGS:
        with db.read() as conn:
            exists = org_store.get(conn, slug) is not None
        if not exists:
            add_org(db, slug, name, country)
            yield f"org {slug}: added"
    if keys_file is not None and not list_keys(db, by=ON_SERVER):
        lines = []
        for org, role, max_tlp in DEMO_KEYS:
            created = create_key(db, org, role, max_tlp, name="demo", by=ON_SERVER)
            lines.append(f"{org:<13} {role:<12} {created['max_tlp']:<13} {created['key']}")
        keys_file.parent.mkdir(parents=True, exist_ok=True)
        keys_file.write_text("# demo API keys: org, role, max TLP, key\n" + "\n".join(lines) + "\n")
        keys_file.chmod(0o600)
        yield f"demo API keys written to {keys_file}"
    if keys_file is not None:
        yield from _demo_users(db, keys_file.parent / "demo-users.txt")
    for item in IMPORTS:
        _, report = import_file(db, DATA / item.file, item.provenance, column=item.column)
        yield (
            f"{item.file}: read {report.read}, new {report.new}, unchanged {report.unchanged}, "
            f"allowlisted {report.allowlisted}, rejected {report.rejected}"
        )
    yield from _demo_feeds(db, feeds_folder, settings)


# Web page users for `make run`: random passwords, written beside the demo keys (never fixed ones).
DEMO_USERS = (
    ("analyst", "ccib-th", "contributor", "red"),
    ("reader", "pdrm-my", "reader", None),
    ("feeds", "registry-ops", "feed-admin", "red"),
    ("admin", "registry-ops", "operator", "red"),
)


def _demo_users(db: Database, users_file: Path) -> Iterator[str]:
    import secrets

    from registry.services.users import add_user, list_users

    if list_users(db, by=ON_SERVER):
        return
    lines = []
    for username, org, role, max_tlp in DEMO_USERS:
        password = secrets.token_urlsafe(12)
        created = add_user(db, username, org=org, role=role, password=password, max_tlp=max_tlp, by=ON_SERVER)
        lines.append(f"{username:<9} {org:<13} {role:<12} {created.max_tlp:<13} {password}")
    users_file.parent.mkdir(parents=True, exist_ok=True)
    users_file.write_text("# demo web users: username, org, role, max TLP, password\n" + "\n".join(lines) + "\n")
    users_file.chmod(0o600)
    yield f"demo web users written to {users_file}"


def _demo_feeds(db: Database, folder: Path | None, settings: Settings | None) -> Iterator[str]:
    from registry.services.feeds import catalogue_path, list_feeds, run_feed, sync_catalogue

    folder = folder or catalogue_path(settings)
    if not folder.is_dir():
        yield f"no feed catalogue at {folder} (set REGISTRY_FEEDS_PATH): demo feeds not loaded"
        return
    yield from sync_catalogue(db, folder).lines()
    for feed in list_feeds(db, Viewer.operator()):
        if not feed["enabled"] or not feed["url"].startswith("file://"):
            continue  # partner feeds on the internet stay for the scheduler (disabled in the demo)
        try:
            run = run_feed(db, feed["name"], trigger="demo", settings=settings)
        except FeedBusy as exc:
            yield f"feed {feed['name']}: not run: {exc.message}"
            continue
        yield (f"feed {feed['name']}: {run.status}, rows {run.rows}, new {run.new}, unchanged {run.unchanged}, "
               f"allowlisted {run.allowlisted}, rejected {run.rejected}" + (f" ({run.error})" if run.error else ""))
