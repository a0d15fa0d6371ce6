"""Sign-in through Flask's test client, on SQLite and PostgreSQL: where a sign-in may send the
browser next, sign-out ending the session on the server, and throttling that refuses an address
but never locks the rightful user out."""

from __future__ import annotations

import time

import pytest

from registry.services.access import ON_SERVER
from registry.services.users import set_disabled
from registry.web.app import create_app
from tests.web.ui_support import PASSWORD, audit_rows, csrf_from, page_app, seed, sign_in

SLOWDOWN = 0.2


@pytest.fixture
def app(db):
    seed(db)
    with page_app(db, LOGIN_LIMIT="5 per 15 minutes", LOGIN_ADDRESS_LIMIT="8 per 15 minutes",
                  LOGIN_SLOWDOWN_SECONDS=str(SLOWDOWN)) as app:
        yield app


def from_address(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


# -- where a sign-in sends the browser (point 5) ---------------------------------------------
# As typed in the query string; each is another site once a browser drops the control
# characters (or, for CR/LF, could not be a header at all).
OFF_SITE = ("/%09/evil.example/x", "/%0d/evil.example", "/%0a/evil.example", "/%0d%0a/evil.example",
            "%09//evil.example", "%20//evil.example", "/%00/evil.example", "/%7f/evil.example",
            "/%09%5cevil.example", "https://evil.example/", "//evil.example/x", "/\\evil.example")


def test_a_signed_in_user_is_never_sent_off_the_site(app):
    client = app.test_client()
    sign_in(client, "ops")
    for target in OFF_SITE:
        response = client.get("/login?next=" + target)
        assert (response.status_code, response.headers.get("Location")) == (302, "/"), target


def test_the_sign_in_form_never_sends_the_browser_off_the_site(app):
    from urllib.parse import unquote

    for target in OFF_SITE:
        client = app.test_client()
        page = client.get("/login")
        signed = client.post("/login", data={"username": "ops", "password": PASSWORD, "csrf_token": csrf_from(page.text),
                                             "next": unquote(target)})
        assert (signed.status_code, signed.headers.get("Location")) == (302, "/"), target


def test_a_path_on_the_site_is_followed_as_the_browser_reads_it(app):
    client = app.test_client()
    sign_in(client, "ops")
    for target, location in (("/admin/audit", "/admin/audit"), ("/indicator?value=1.2.3.4", "/indicator?value=1.2.3.4"),
                             ("/%09admin/audit", "/admin/audit"), ("/admin%0d%0a/audit", "/admin/audit")):
        response = client.get("/login", query_string={"next": target.replace("%09", "\t").replace("%0d%0a", "\r\n")})
        assert (response.status_code, response.headers["Location"]) == (302, location), target


# -- signing out ends the session on the server (point 9) ------------------------------------
def saved_cookie(client) -> str:
    return client.get_cookie("registry_session").value


def with_cookie(app, value: str):
    client = app.test_client()
    client.set_cookie("registry_session", value)
    return client


def test_a_cookie_saved_before_sign_out_no_longer_works(app):
    client = app.test_client()
    sign_in(client, "somchai")
    home = client.get("/")
    cookie, token = saved_cookie(client), csrf_from(home.text)
    assert with_cookie(app, cookie).get("/").status_code == 200
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    replayed = with_cookie(app, cookie)
    assert replayed.get("/").status_code == 302
    posted = with_cookie(app, cookie).post("/submit", data={"values": "replay.example", "csrf_token": token})
    assert posted.status_code == 403  # the session, and with it the form's token, is gone
    assert not audit_rows(app, "submit")
    assert sign_in(app.test_client(), "somchai").status_code == 302  # signing in again works


def test_signing_out_signs_out_every_device_of_the_user(app):
    """One generation per user: sign-out cannot tell this device's cookie from another's."""
    laptop, phone, colleague = app.test_client(), app.test_client(), app.test_client()
    for client, username in ((laptop, "somchai"), (phone, "somchai"), (colleague, "aisyah")):
        sign_in(client, username)
    laptop.post("/logout", data={"csrf_token": csrf_from(laptop.get("/").text)})
    assert phone.get("/").status_code == 302
    assert colleague.get("/").status_code == 200


def test_enabling_a_disabled_user_does_not_bring_old_cookies_back(app):
    db = app.extensions["registry.db"]
    client = app.test_client()
    sign_in(client, "aisyah")
    cookie = saved_cookie(client)
    set_disabled(db, "aisyah", by=ON_SERVER)
    set_disabled(db, "aisyah", False, by=ON_SERVER)
    assert with_cookie(app, cookie).get("/").status_code == 302
    fresh = app.test_client()
    assert sign_in(fresh, "aisyah").status_code == 302 and fresh.get("/").status_code == 200


# -- throttling (point 10) -------------------------------------------------------------------
def test_failures_from_many_addresses_slow_the_user_but_never_lock_them_out(app):
    for n in range(10):
        failed = sign_in(from_address(app, f"198.51.100.{n + 1}"), "aisyah", "wrong password!!")
        assert failed.status_code == 401, n
    started = time.monotonic()
    rightful = sign_in(from_address(app, "203.0.113.50"), "aisyah")
    assert rightful.status_code == 302 and rightful.headers["Location"] == "/"
    assert time.monotonic() - started >= SLOWDOWN
    slowed = list(reversed(audit_rows(app, "login-slowed")))
    # 0.1 s after the first failure, doubling, capped: every attempt after a failure waited.
    assert [(r["subject"]["recent_failures"], r["subject"]["seconds"]) for r in slowed] == (
        [(1, 0.1)] + [(n, SLOWDOWN) for n in range(2, 11)])
    assert {(r["actor"], r["client"]) for r in slowed[:-1]} == {("aisyah", f"198.51.100.{n}") for n in range(2, 11)}
    assert slowed[-1]["client"] == "203.0.113.50"
    assert not audit_rows(app, "login-throttled")


def test_one_address_is_refused_a_user_after_the_limit_and_others_are_not(app):
    guesser = from_address(app, "198.51.100.7")
    for _ in range(5):
        assert sign_in(guesser, "aisyah", "wrong password!!").status_code == 401
    refused = sign_in(guesser, "aisyah")  # the right password from this address waits too
    assert refused.status_code == 429 and "for this username from this address" in refused.text
    assert sign_in(from_address(app, "198.51.100.7"), "somchai").status_code == 302
    assert sign_in(from_address(app, "203.0.113.50"), "aisyah").status_code == 302
    throttled = audit_rows(app, "login-throttled")
    assert [(r["actor"], r["client"], r["status"], r["subject"]["limit"]) for r in throttled] == [
        ("aisyah", "198.51.100.7", 429, "username-address")]


def test_one_address_trying_many_usernames_is_refused(app):
    sprayer = from_address(app, "198.51.100.9")
    for n in range(8):
        assert sign_in(sprayer, f"guess-{n}", "wrong password!!").status_code == 401
    refused = sign_in(sprayer, "somchai")
    assert refused.status_code == 429 and "from this address" in refused.text
    assert sign_in(from_address(app, "203.0.113.50"), "somchai").status_code == 302
    assert [(r["actor"], r["subject"]["limit"]) for r in audit_rows(app, "login-throttled")] == [("somchai", "address")]


@pytest.mark.parametrize(("name", "value"), [("LOGIN_SLOWDOWN_SECONDS", "lots"), ("LOGIN_SLOWDOWN_SECONDS", "-1"),
                                             ("LOGIN_ADDRESS_LIMIT", "often"), ("LOGIN_LIMIT", "10 per fortnight")])
def test_bad_throttle_settings_are_refused_by_name(db, name, value):
    with pytest.raises(ValueError, match=f"REGISTRY_{name}"):
        create_app({"DATABASE_URL": db.url, "SECRET_KEY": "s" * 40, name: value})
