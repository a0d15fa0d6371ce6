"""The web page over real HTTP: `registry serve` (gunicorn, 2 workers: a session made by one
worker is honoured by the other) on 127.0.0.1, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import requests

from registry.services.access import ON_SERVER
from registry.services.users import add_user
from tests.web.ui_support import PASSWORD, csrf_from, text_of, verdicts


@pytest.fixture(scope="module")
def site(server):
    add_user(server.db, "somchai", org="ccib-th", role="contributor", password=PASSWORD, max_tlp="red", by=ON_SERVER)
    add_user(server.db, "teller", org="bank-x", role="reader", password=PASSWORD, max_tlp="green", by=ON_SERVER)
    add_user(server.db, "ops", org="registry-ops", role="operator", password=PASSWORD, max_tlp="red", by=ON_SERVER)
    published = server.post("/api/v1/indicators", key="ccib-contrib", json={"indicators": [
        {"value": "green.http-page.example", "tlp": "green", "confidence": 70, "labels": ["phishing"]},
        {"value": "amber.http-page.example", "tlp": "amber", "confidence": 70, "labels": ["phishing"]},
    ]})
    assert published.status_code == 200, published.text
    return server


def browser(site, username: str) -> requests.Session:
    session = requests.Session()
    page = session.get(site.url + "/login", timeout=30)
    signed = session.post(site.url + "/login", data={"username": username, "password": PASSWORD,
                                                     "csrf_token": csrf_from(page.text)}, timeout=30,
                          allow_redirects=False)
    assert signed.status_code == 302, signed.text
    cookie = signed.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    return session


def test_sign_in_and_look_up_over_http(site):
    session = browser(site, "teller")
    home = session.get(site.url + "/", timeout=30)
    # Several requests: gunicorn's two workers both honour the cookie one of them signed.
    for _ in range(4):
        page = session.post(site.url + "/", timeout=30, data={
            "values": "green.http-page.example\namber.http-page.example\nhxxp://login.green.http-page[.]example/a",
            "csrf_token": csrf_from(home.text)})
        assert page.status_code == 200
        assert verdicts(page.text) == {"green.http-page.example": "listed", "amber.http-page.example": "not listed",
                                       "hxxp://login.green.http-page[.]example/a": "listed"}
    assert "TLP:AMBER" not in page.text.split("<main", 1)[1]


def test_post_without_token_is_refused_over_http(site):
    session = browser(site, "somchai")
    refused = session.post(site.url + "/submit", data={"values": "csrf.http-page.example"}, timeout=30)
    assert refused.status_code == 403 and "reload the page" in text_of(refused.text)
    cross_site = requests.post(site.url + "/submit", data={"values": "csrf.http-page.example"}, timeout=30,
                               allow_redirects=False)
    assert cross_site.status_code == 403  # no session at all: the token check comes first
    looked = site.get("/api/v1/lookup", key="ccib-reader", params={"value": "csrf.http-page.example"}).json()
    assert looked["listed"] is False


def test_reader_is_refused_admin_pages_and_admin_is_not(site):
    reader = browser(site, "teller")
    for path in ("/admin/orgs", "/admin/users", "/admin/keys", "/admin/audit"):
        refused = reader.get(site.url + path, timeout=30)
        assert refused.status_code == 403 and "Not allowed" in refused.text, path
    admin = browser(site, "ops")
    audit = admin.get(site.url + "/admin/audit", timeout=30)
    assert audit.status_code == 200 and "Hash chain verified" in audit.text


def test_the_api_ignores_page_sessions(site):
    """A session cookie is no API credential: the API's POSTs carry no CSRF token, so they
    must never be reachable with a cookie a browser sends by itself."""
    session = browser(site, "somchai")
    response = session.post(site.url + "/api/v1/indicators", json={"indicators": [{"value": "x.http-page.example"}]},
                            timeout=30)
    assert response.status_code == 401


def test_sign_in_redirects_stay_on_the_site_over_http(site):
    session = browser(site, "teller")
    for target in ("/%09/evil.example/x", "/%0d/evil.example", "/%0a/evil.example"):
        response = session.get(site.url + "/login?next=" + target, timeout=30, allow_redirects=False)
        assert (response.status_code, response.headers.get("Location")) == (302, "/"), target


def test_a_cookie_saved_before_sign_out_no_longer_works_over_http(site):
    session = browser(site, "teller")
    cookie = session.cookies["registry_session"]
    home = session.get(site.url + "/", timeout=30)
    assert home.status_code == 200
    out = session.post(site.url + "/logout", data={"csrf_token": csrf_from(home.text)}, timeout=30,
                       allow_redirects=False)
    assert out.status_code == 302
    # Several requests: neither of gunicorn's two workers honours the saved cookie.
    for _ in range(4):
        replayed = requests.get(site.url + "/", cookies={"registry_session": cookie}, timeout=30,
                                allow_redirects=False)
        assert replayed.status_code == 302 and replayed.headers["Location"].startswith("/login")
