"""Browser tests: Playwright driving Debian's Chromium (/usr/bin/chromium, installed with apt;
Playwright's own browser download is never used) against a real `registry serve` on 127.0.0.1.

Set REGISTRY_SCREENSHOTS=docs/screenshots to refresh the screenshots in docs/ from a run.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from registry.demo import load_demo
from registry.services.feeds import run_feed, sync_catalogue
from registry.services.sightings import add_sighting
from registry.services.submit import Provenance, Submission, Submitter
from registry.storage.db import Database
from tests.helpers import migrated_sqlite
from tests.web.conftest import start_server, stop_server
from tests.web.ui_support import PASSWORD, add_users

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
USERS = {  # the site's own users: fewer than tests/web/ui_support.py's, and feedops holds RED here
    "somchai": ("ccib-th", "contributor", "red"),
    "aisyah": ("pdrm-my", "reader", "amber+strict"),
    "ops": ("registry-ops", "operator", "red"),
    "feedops": ("registry-ops", "feed-admin", "red"),
}

SKIP_REASON = "Chromium is not installed at /usr/bin/chromium (apt-get install chromium): browser tests skipped"


def seed(db: Database, tmp: Path) -> None:
    """The demo agencies and feeds, web users, reports at every TLP level by ccib-th, a
    partner feed with some history and one whose file has gone missing."""
    for _ in load_demo(db):
        pass
    folder = tmp / "partner-feeds"
    folder.mkdir()
    daily = tmp / "hub-daily.txt"
    for name, url in (("partner-hub-daily", f"file://{daily}"), ("partner-hub-phones", f"file://{tmp / 'gone.csv'}")):
        (folder / f"{name}.toml").write_text(
            f'name = "{name}"\nprovider = "pdrm-my"\nurl = "{url}"\nformat = "text"\nschedule = "every 1h"\n'
            'mode = "incremental"\nconfidence = 60\ntlp = "green"\nlabels = ["scam-hosting"]\n', encoding="utf-8")
    sync_catalogue(db, folder)
    for count in (120, 135, 128, 140, 131, 12):
        lines = [f"46.{count}.{i // 250}.{i % 250 + 1}" for i in range(count)] + ["bad line from the hub"]
        daily.write_text("\n".join(lines) + "\n", encoding="utf-8")
        run_feed(db, "partner-hub-daily", trigger="scheduler")
    run_feed(db, "partner-hub-phones", trigger="scheduler")
    add_users(db, USERS)
    rows = [
        ("+66812345678", "amber", 85, ("call-centre-scam",), "DSI impostor calls; victims told to move savings"),
        ("login.kbank-secure.example", "green", 75, ("phishing",), "KBank credential phishing kit"),
        ("45.77.10.0/24", "clear", 60, ("scam-hosting",), None),
        ("hxxps://dhl-th-parcel[.]example/pay", "amber+strict", 70, ("smishing",), None),
        ("+85512888*", "red", 90, ("call-centre-scam", "mule-account"), "Number block of a Sihanoukville call centre"),
    ]
    with db.write() as conn:
        submitter = Submitter(conn, Provenance(org="ccib-th", region="TH"))
        for value, level, confidence, labels, description in rows:
            submitter.add(Submission(value=value, tlp=level, confidence=confidence, labels=labels,
                                     description=description))
        submitter.finish()
    add_sighting(db, org="ccib-th", value="+66812345678", case_ref="CCIB-2026-114", count=3, tlp="amber",
                 seen=datetime(2026, 11, 28, 9, 30, tzinfo=UTC))
    add_sighting(db, org="pdrm-my", value="+66812345678", case_ref="PDRM-KL-0457", tlp="green")


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    url, db = migrated_sqlite(tmp)
    seed(db, tmp)
    process, base, env = start_server(url, tmp, workers=2)
    yield {"url": base, "db": db, "env": env, "tmp": tmp}
    stop_server(process)
    db.dispose()


@pytest.fixture(scope="session")
def chromium():
    if not CHROMIUM.exists():
        pytest.skip(SKIP_REASON)
    sync_playwright = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[dev]'").sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, site):
    context = chromium.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


@pytest.fixture(scope="session")
def shots(tmp_path_factory) -> Path:
    folder = os.environ.get("REGISTRY_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def sign_in(page, site, username: str, password: str = PASSWORD) -> None:
    page.goto(site["url"] + "/")
    assert "/login" in page.url  # the home page sends a stranger to sign in
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(site["url"] + "/")
