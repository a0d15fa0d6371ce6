"""Shared by the web page tests: seeding orgs and users, signing in through the real form
(CSRF token and all), and reading what a page shows."""

from __future__ import annotations

import re
from contextlib import contextmanager
from html import unescape

from registry.services.access import ON_SERVER
from registry.services.audit import events
from registry.services.orgs import add_org
from registry.services.users import add_user
from registry.web.app import create_app
from tests.helpers import add_member_orgs

PASSWORD = "correct horse battery staple"

# username → (org, role, max_tlp)
USERS = {
    "somchai": ("ccib-th", "contributor", "red"),
    "ccib-green": ("ccib-th", "reader", "green"),
    "aisyah": ("pdrm-my", "reader", "amber+strict"),
    "bank-analyst": ("bank-x", "reader", "green"),
    "ops": ("registry-ops", "operator", "red"),
    "pdrm-admin": ("pdrm-my", "admin", "amber+strict"),
    "feedops": ("registry-ops", "feed-admin", "amber+strict"),
}


def seed(db) -> None:
    add_member_orgs(db)
    add_org(db, "bank-x", "Bank X fraud team", "TH")
    add_org(db, "registry-ops", "Registry operators", None)
    add_users(db, USERS)


@contextmanager
def page_app(db, **settings: str):
    """The app on the test's database, its audit buffer flushed only when read (``audit_rows``);
    ``settings`` add REGISTRY_* settings (without the prefix). Closed after."""
    app = create_app({"DATABASE_URL": db.url, "SECRET_KEY": "s" * 40, "AUDIT_FLUSH_SECONDS": "60", **settings})
    try:
        yield app
    finally:
        app.extensions["registry.audit"].close()
        app.extensions["registry.hits"].close()
        app.extensions["registry.db"].dispose()


def add_users(db, users: dict[str, tuple[str, str, str]]) -> None:
    """Web users (username → (org, role, max_tlp)), each with PASSWORD."""
    for username, (org, role, cap) in users.items():
        add_user(db, username, org=org, role=role, password=PASSWORD, max_tlp=cap, by=ON_SERVER)


_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    found = _TOKEN.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def text_of(html: str) -> str:
    """The page's visible text, tags dropped and whitespace squeezed."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def verdicts(html: str) -> dict[str, str]:
    """Query → verdict from a lookup results table."""
    rows = re.findall(r'<td class="query"><code>(.*?)</code></td>\s*<td><span class="verdict verdict-[a-z-]+">(.*?)</span>',
                      html, flags=re.S)
    return {unescape(q): v for q, v in rows}


def tlp_badges(html: str) -> list[str]:
    return re.findall(r'<span class="tlp tlp-[a-z-]+">TLP:([A-Z+]+)</span>', html)


def audit_rows(app, action: str | None = None) -> list[dict]:
    """The app's audit rows, newest first (its buffer written first)."""
    app.extensions["registry.audit"].flush()
    rows = events(app.extensions["registry.db"], {"limit": "1000"})["events"]
    return [r for r in rows if action is None or r["action"] == action]


def sign_in(client, username: str, password: str = PASSWORD, *, follow: bool = False):
    """Sign in through the form, as a browser does (the form's CSRF token included)."""
    page = client.get("/login")
    return client.post("/login", data={"username": username, "password": password, "csrf_token": csrf_from(page.text)},
                       follow_redirects=follow)


def token(client, path: str = "/") -> str:
    """The CSRF token a page of this session carries."""
    return csrf_from(client.get(path).text)
