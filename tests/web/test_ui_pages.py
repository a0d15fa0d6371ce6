"""The web page through Flask's test client, on SQLite and PostgreSQL: sign-in and sessions,
CSRF, roles, the lookup, indicator, submit and sighting pages, the admin pages, and the audit
rows each of them writes (sign-in redirects, sign-out and throttling: test_sign_in_security).
The same services answer the API, so the page is checked against the API's answers where both
can say something."""

from __future__ import annotations

import re

import pytest

from registry.services.access import ON_SERVER
from registry.services.keys import create_key
from registry.storage import tables as t
from registry.web.app import create_app
from tests.stix.support import validate
from tests.web.ui_support import (
    PASSWORD,
    audit_rows,
    csrf_from,
    page_app,
    seed,
    sign_in,
    text_of,
    tlp_badges,
    token,
    verdicts,
)


@pytest.fixture
def app(db):
    seed(db)
    with page_app(db, LOGIN_LIMIT="5 per 15 minutes") as app:
        yield app


# -- sign-in, sessions, CSRF -----------------------------------------------------------------
def test_every_page_needs_a_sign_in(app):
    client = app.test_client()
    for path in ("/", "/indicator?value=1.2.3.4", "/submit", "/sighting", "/admin/users", "/admin/audit"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login?next="), path
    assert client.get("/login").status_code == 200


def test_sign_in_sign_out_and_the_audit_rows(app):
    client = app.test_client()
    wrong = sign_in(client, "somchai", "not the password at all")
    assert wrong.status_code == 401 and "Wrong username or password" in wrong.text
    unknown = sign_in(client, "nobody-here", PASSWORD)
    assert unknown.status_code == 401
    ok = sign_in(client, "Somchai")  # usernames are case-insensitive
    assert ok.status_code == 302 and ok.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200 and "somchai" in home.text and "ccib-th" in home.text
    out = client.post("/logout", data={"csrf_token": csrf_from(home.text)})
    assert out.status_code == 302 and out.headers["Location"] == "/login"
    assert client.get("/").status_code == 302
    logins = audit_rows(app)
    got = [(r["action"], r["org"], r["actor"], r["status"], r["client"]) for r in reversed(logins)]
    assert got == [("login-failed", None, "somchai", 401, "127.0.0.1"), ("login-failed", None, "nobody-here", 401, "127.0.0.1"),
                   ("login-slowed", None, "somchai", None, "127.0.0.1"),  # one failure: 0.1 s before the check
                   ("login", "ccib-th", "somchai", 200, "127.0.0.1"), ("logout", "ccib-th", "somchai", 200, "127.0.0.1")]


def test_next_is_followed_only_within_the_site(app):
    client = app.test_client()
    page = client.get("/login?next=/admin/audit")
    data = {"username": "ops", "password": PASSWORD, "csrf_token": csrf_from(page.text)}
    assert client.post("/login", data={**data, "next": "/admin/audit"}).headers["Location"] == "/admin/audit"
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        other = app.test_client()
        data["csrf_token"] = csrf_from(other.get("/login").text)
        assert other.post("/login", data={**data, "next": evil}).headers["Location"] == "/", evil


def test_session_cookie_is_httponly_samesite_and_secure_over_https(app):
    client = app.test_client()
    cookie = sign_in(client, "aisyah").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert cookie.startswith("registry_session=")
    secure = app.test_client()
    page = secure.get("/login", base_url="https://registry.example")
    assert "Secure" in page.headers["Set-Cookie"]
    done = secure.post("/login", base_url="https://registry.example",
                       data={"username": "aisyah", "password": PASSWORD, "csrf_token": csrf_from(page.text)})
    assert done.status_code == 302 and "Secure" in done.headers["Set-Cookie"]


def test_cookie_secure_setting_forces_it(db):
    seed(db)
    app = create_app({"DATABASE_URL": db.url, "SECRET_KEY": "s" * 40, "COOKIE_SECURE": "true"})
    try:
        assert "Secure" in app.test_client().get("/login").headers["Set-Cookie"]
        with pytest.raises(ValueError, match="REGISTRY_COOKIE_SECURE"):
            create_app({"DATABASE_URL": db.url, "SECRET_KEY": "s" * 40, "COOKIE_SECURE": "sometimes"})
    finally:
        app.extensions["registry.audit"].close()
        app.extensions["registry.db"].dispose()


def test_a_post_without_the_csrf_token_is_refused(app):
    client = app.test_client()
    # Even the sign-in form: a forged sign-in would put a victim in the attacker's account.
    refused = client.post("/login", data={"username": "somchai", "password": PASSWORD})
    assert refused.status_code == 403 and "reload the page" in refused.text
    sign_in(client, "somchai")
    for path, data in (("/", {"values": "1.2.3.4"}), ("/submit", {"values": "evil.example"}),
                       ("/sighting", {"value": "+66812345678"}), ("/logout", {})):
        assert client.post(path, data=data).status_code == 403, path
        assert client.post(path, data={**data, "csrf_token": "forged"}).status_code == 403, path
    # The token of another session does not do either.
    other = app.test_client()
    sign_in(other, "aisyah")
    assert client.post("/", data={"values": "1.2.3.4", "csrf_token": token(other)}).status_code == 403
    assert client.post("/", data={"values": "1.2.3.4", "csrf_token": token(client)}).status_code == 200
    with app.app_context():
        assert not [r for r in audit_rows(app, "submit")]  # nothing refused reached a service


def test_a_disabled_user_is_signed_out_at_once(app):
    from registry.services.users import set_disabled

    client = app.test_client()
    sign_in(client, "aisyah")
    assert client.get("/").status_code == 200
    set_disabled(app.extensions["registry.db"], "aisyah", by=ON_SERVER)
    assert client.get("/").status_code == 302
    assert sign_in(app.test_client(), "aisyah").status_code == 401


def test_pages_send_security_headers(app):
    client = app.test_client()
    sign_in(client, "aisyah")
    page = client.get("/")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["Cache-Control"] == "no-store"


# -- roles -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("username", "allowed"), [
    ("aisyah", {"/"}),
    ("somchai", {"/", "/submit", "/sighting"}),
    ("feedops", {"/", "/submit", "/sighting"}),
    ("ops", {"/", "/submit", "/sighting", "/admin/orgs", "/admin/users", "/admin/keys", "/admin/audit"}),
])
def test_roles_decide_which_pages_open(app, username, allowed):
    client = app.test_client()
    sign_in(client, username)
    for path in ("/", "/submit", "/sighting", "/admin/orgs", "/admin/users", "/admin/keys", "/admin/audit"):
        response = client.get(path)
        if path in allowed:
            assert response.status_code == 200, (username, path)
        else:
            assert response.status_code == 403, (username, path)
            assert "Not allowed" in response.text and "role" in response.text
    nav = client.get("/").text
    assert ('href="/admin/orgs"' in nav) == ("/admin/orgs" in allowed)
    assert ('href="/submit"' in nav) == ("/submit" in allowed)


def test_a_reader_cannot_post_to_admin_pages_either(app):
    client = app.test_client()
    sign_in(client, "aisyah")
    csrf = token(client)
    assert client.post("/admin/keys", data={"org": "pdrm-my", "role": "admin", "csrf_token": csrf}).status_code == 403
    assert client.post("/admin/users", data={"org": "pdrm-my", "username": "x1", "role": "admin",
                                             "password": PASSWORD, "csrf_token": csrf}).status_code == 403
    from registry.services.keys import list_keys
    assert list_keys(app.extensions["registry.db"], by=ON_SERVER) == []


# -- lookup ----------------------------------------------------------------------------------
def _submit(client, values: str, **fields):
    data = {"values": values, "tlp": "amber", "confidence": "80", "csrf_token": token(client, "/submit"), **fields}
    response = client.post("/submit", data=data)
    assert response.status_code == 200, text_of(response.text)
    return response


def test_lookup_of_pasted_values_shows_verdicts_scores_and_provenance(app):
    client = app.test_client()
    sign_in(client, "somchai")
    _submit(client, "hxxps://login.kbank-secure[.]example/x\n081-234-5678\nevil.example", labels="phishing, call-centre-scam")
    pasted = ("081 234 5678\nsub.evil[.]example, 8.8.8.8; not a value at all\n"
              "# a comment line\n45.33.1.2 evil.example\nevil.example\n")
    page = client.post("/", data={"values": pasted, "csrf_token": token(client)})
    assert page.status_code == 200
    assert verdicts(page.text) == {
        "081 234 5678": "listed", "sub.evil[.]example": "listed", "8.8.8.8": "allowlisted",
        "not a value at all": "error", "45.33.1.2": "not listed", "evil.example": "listed",
    }
    text = text_of(page.text)
    assert "6 values" in text and "1 repeated value looked up once" in text
    assert "+66812345678" in text and "parent-domain" in text and "call-centre-scam" in text
    assert 'aria-label="score ' in page.text
    assert set(tlp_badges(page.text)) >= {"AMBER"}
    rows = audit_rows(app, "lookup")
    assert rows[0]["actor"] == "somchai" and rows[0]["org"] == "ccib-th" and rows[0]["result_count"] == 3
    assert rows[0]["subject"] == ["081 234 5678", "sub.evil[.]example", "8.8.8.8", "not a value at all",
                                                "45.33.1.2", "evil.example"]


def test_lookup_takes_at_most_a_thousand_values(app):
    client = app.test_client()
    sign_in(client, "aisyah")
    many = "\n".join(f"10.{i // 256}.{i % 256}.1" for i in range(1001))
    refused = client.post("/", data={"values": many, "csrf_token": token(client)})
    assert refused.status_code == 400 and "At most 1,000 values" in refused.text
    assert many in refused.text  # nothing lost: the paste is still in the box
    thousand = "\n".join(f"198.18.{i // 256}.{i % 256}" for i in range(1000))
    answered = client.post("/", data={"values": thousand, "csrf_token": token(client)})
    assert answered.status_code == 200 and len(verdicts(answered.text)) == 1000
    long_urls = "\n".join(f"https://x{i}.example/" + "a" * 1500 for i in range(1000))  # 1.5 MB of form
    assert client.post("/", data={"values": long_urls, "csrf_token": token(client)}).status_code == 200
    empty = client.post("/", data={"values": " \n ", "csrf_token": token(client)})
    assert empty.status_code == 400 and "at least one value" in empty.text


def test_page_and_api_give_the_same_answers(app):
    """The same lookup service: what the page shows for each value is the API's answer."""
    db = app.extensions["registry.db"]
    client = app.test_client()
    sign_in(client, "somchai")
    _submit(client, "46.1.2.0/24\nscam.example\n+66812345678")
    key = create_key(db, "pdrm-my", "reader", "amber+strict", by=ON_SERVER)["key"]
    values = ["46.1.2.7", "www.scam.example", "081-234-5678", "nothing.example", "1.2.3"]
    api = app.test_client().post("/api/v1/lookup", json={"values": values},
                                 headers={"Authorization": f"Bearer {key}"}).get_json()["results"]
    reader = app.test_client()
    sign_in(reader, "aisyah")
    page = reader.post("/", data={"values": "\n".join(values), "csrf_token": token(reader)})
    shown = verdicts(page.text)
    for answer in api:
        expected = "error" if "error" in answer else "listed" if answer["listed"] else "not listed"
        assert shown[answer["query"]] == expected
        if "error" not in answer:
            assert f'aria-label="score {answer["score"]} of 100"' in page.text


# -- TLP on pages ----------------------------------------------------------------------------
LEVELS = ("clear", "green", "amber", "amber+strict", "red")
# user → the levels of ccib-th's reports the user sees (as tests/web/test_tlp_matrix.py for keys)
SEES = {
    "somchai": set(LEVELS),
    "ccib-green": {"clear", "green"},
    "aisyah": {"clear", "green", "amber", "amber+strict"},
    "bank-analyst": {"clear", "green"},
    "ops": {"clear", "green", "amber", "amber+strict"},
}


def _domain(level: str) -> str:
    return f"{level.replace('+', '-')}.tlp-page.example"


@pytest.fixture
def matrix(app):
    client = app.test_client()
    sign_in(client, "somchai")
    for i, level in enumerate(LEVELS):
        _submit(client, f"{_domain(level)}\n45.78.{i}.0/24", tlp=level, labels="tlp-page")
        done = client.post("/sighting", data={"value": f"+6681666000{i}", "case_ref": f"CASE-{i}", "tlp": level,
                                              "csrf_token": token(client, "/sighting")})
        assert done.status_code == 201, text_of(done.text)
    return app


@pytest.mark.parametrize("username", list(SEES))
def test_lookup_page_shows_exactly_the_levels_a_user_may_see(matrix, username):
    client = matrix.test_client()
    sign_in(client, username)
    queries = {}
    for i, level in enumerate(LEVELS):
        queries.update({_domain(level): level, f"login.{_domain(level)}": level, f"45.78.{i}.9": level,
                        f"+6681666000{i}": level})
    page = client.post("/", data={"values": "\n".join(queries), "csrf_token": token(client)})
    shown = verdicts(page.text)
    for query, level in queries.items():
        # A value only sighted is no report in force: not listed (its sightings show all the same).
        sighted_only = query.startswith("+66816660")
        expected = "listed" if level in SEES[username] and not sighted_only else "not listed"
        assert shown[query] == expected, (username, query)
    badges = {b.lower() for b in tlp_badges(page.text.split("<main", 1)[1])}
    assert badges == SEES[username]
    # A case reference shows only to the agency that recorded it.
    assert ("CASE-0" in page.text) == (username in ("somchai", "ccib-green"))


@pytest.mark.parametrize("username", list(SEES))
def test_indicator_page_and_its_stix_show_exactly_the_visible_levels(matrix, username):
    client = matrix.test_client()
    sign_in(client, username)
    for level in LEVELS:
        page = client.get("/indicator", query_string={"value": _domain(level)})
        stix = client.get("/indicator/stix", query_string={"value": _domain(level)})
        if level in SEES[username]:
            assert page.status_code == 200 and stix.status_code == 200, (username, level)
            assert "ccib-th" in page.text and "first reported" in page.text
            assert stix.headers["Content-Disposition"].startswith("attachment;")
            bundle = validate(stix.data)
            indicators = [o for o in bundle["objects"] if o["type"] == "indicator"]
            assert len(indicators) == 1 and _domain(level) in indicators[0]["pattern"]
            markings = [o for o in bundle["objects"] if o["type"] == "marking-definition"]
            assert [m["name"].lower() for m in markings] == [f"tlp:{level}"]
        else:
            # Hidden is answered as unknown: the same page a value nobody reported gets.
            unknown = client.get("/indicator", query_string={"value": "never.tlp-page.example"})
            assert page.status_code == unknown.status_code == 404, (username, level)
            assert text_of(page.text).replace(_domain(level), "X") == text_of(unknown.text).replace(
                "never.tlp-page.example", "X")
            assert stix.status_code == 404


# -- indicator page --------------------------------------------------------------------------
def test_indicator_page_shows_history_timeline_and_stix(app):
    client = app.test_client()
    sign_in(client, "somchai")
    _submit(client, "45.79.0.0/24", labels="c2", description="bulletproof hoster", valid_until="2030-01-01")
    client.post("/sighting", data={"value": "45.79.0.0/24", "case_ref": "CCIB-2026-114", "count": "3",
                                   "csrf_token": token(client, "/sighting")})
    page = client.get("/indicator?value=45.79.0.0/24")
    assert page.status_code == 200
    text = text_of(page.text)
    for expected in ("45.79.0.0/24", "bulletproof hoster", "valid until 2030-01-01", "CCIB-2026-114",
                     "first reported", "first sighted in case CCIB-2026-114", "Download the bundle"):
        assert expected in text, expected
    inside = client.get("/indicator?value=45.79.0.7")  # covered by the range: the wider listing shows
    assert inside.status_code == 200 and "Wider listings that cover it" in inside.text and "cidr" in inside.text
    bad = client.get("/indicator?value=not a value")
    assert bad.status_code == 400 and "not a value" in bad.text
    stix = validate(client.get("/indicator/stix?value=45.79.0.0/24").data)
    assert {o["type"] for o in stix["objects"]} >= {"indicator", "sighting", "identity", "marking-definition"}
    actions = [(r["action"], r["actor"]) for r in audit_rows(app)]
    assert ("export", "somchai") in actions and actions.count(("lookup", "somchai")) == 3


# -- submitting ------------------------------------------------------------------------------
def test_submit_page_reports_a_status_per_value_and_keeps_the_form_on_errors(app):
    client = app.test_client()
    sign_in(client, "somchai")
    done = _submit(client, "kbank-verify[.]example\n10.0.0.1\nnot a value", labels="phishing")
    rows = re.findall(r'<span class="status status-([a-z]+)">', done.text)
    assert rows == ["new", "allowlisted", "rejected"]
    again = _submit(client, "kbank-verify.example", labels="phishing")
    assert re.findall(r'<span class="status status-([a-z]+)">', again.text) == ["unchanged"]
    bad = client.post("/submit", data={"values": "x.example", "confidence": "101", "csrf_token": token(client, "/submit")})
    assert bad.status_code == 400 and "confidence" in bad.text and "x.example" in bad.text
    bad_label = client.post("/submit", data={"values": "x.example", "labels": "not/a label",
                                             "csrf_token": token(client, "/submit")})
    assert bad_label.status_code == 400 and "label" in bad_label.text
    submitted = audit_rows(app, "submit")
    assert len(submitted) == 2 and submitted[-1]["actor"] == "somchai" and submitted[-1]["result_count"] == 1


# -- the kinds beyond IPs, names and numbers -------------------------------------------------------
NEW_KINDS = """\
KBank 123-4-56789-0
TrueMoney 081-234-5678
USDT-TRC20: TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t
t.me/kbank_support_th
wa.me/66812345678
sha256:""" + "ab" * 32


def _statuses(page) -> list[str]:
    return re.findall(r'<span class="status status-([a-z]+)">', page.text)


def test_submit_and_look_up_the_new_kinds_with_a_platform_for_an_at_name(app):
    client = app.test_client()
    sign_in(client, "somchai")
    form = client.get("/submit").text
    assert all(f'<option value="{kind}"' in form for kind in ("bank-account", "crypto-wallet", "user-account", "file-hash"))
    assert '<select id="platform" name="platform">' in form and '<option value="telegram"' in form
    assert _statuses(_submit(client, NEW_KINDS, labels="mule-account")) == ["new"] * 6
    # @name reads with its platform, and is an error without one (naming the value and why).
    assert _statuses(_submit(client, "@Somchai_Helpdesk", platform="telegram")) == ["new"]
    without = _submit(client, "@another_helpdesk")
    assert _statuses(without) == ["rejected"] and "@name needs its platform" in text_of(without.text)
    wrong = client.post("/submit", data={"values": "@x_name", "platform": "myspace", "csrf_token": token(client, "/submit")})
    assert wrong.status_code == 400 and "platform must be one of telegram" in text_of(wrong.text)
    assert 'value="@x_name"' not in wrong.text and "@x_name" in wrong.text  # the form kept what was typed

    home = client.get("/").text
    assert '<select id="lookup-kind" name="kind">' in home and '<select id="lookup-platform" name="platform">' in home
    looked = client.post("/", data={"values": "KBank 1234567890\ntelegram:somchai_helpdesk\n"
                                              "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t\nsha256:" + "ab" * 32 + "\n"
                                              "acct:TH:TRUEMONEY:+66812345678\nwhatsapp:+66812345678",
                                    "csrf_token": token(client)})
    assert looked.status_code == 200
    assert set(verdicts(looked.text).values()) == {"listed"}
    text = text_of(looked.text)
    for shown in ("bank-account bank account", "acct:TH:KASI:1234567890", "Kasikornbank 1234567890",
                  "user-account Telegram", "crypto-wallet TRON", "file-hash SHA-256", "bank-account e-wallet",
                  "user-account WhatsApp"):
        assert shown in text, shown
    bad = client.post("/", data={"values": "@somchai_helpdesk", "platform": "myspace", "csrf_token": token(client)})
    assert bad.status_code == 400 and "platform must be one of" in text_of(bad.text)
    mismatch = client.post("/", data={"values": "@x_name", "platform": "telegram", "kind": "phone",
                                      "csrf_token": token(client)})
    assert mismatch.status_code == 400 and "only with kind user-account" in text_of(mismatch.text)


def test_the_lookup_form_reads_every_value_as_the_kind_and_platform_given(app):
    client = app.test_client()
    sign_in(client, "somchai")
    _submit(client, "telegram:somchai_helpdesk")
    looked = client.post("/", data={"values": "@Somchai_Helpdesk\nsomchai_helpdesk", "kind": "user-account",
                                    "platform": "telegram", "csrf_token": token(client)})
    assert looked.status_code == 200
    assert verdicts(looked.text) == {"@Somchai_Helpdesk": "listed", "somchai_helpdesk": "listed"}
    assert '<option value="telegram" selected>' in looked.text and "<details class=\"options\" open>" in looked.text


def test_indicator_page_shows_what_each_new_kind_is(app):
    client = app.test_client()
    sign_in(client, "somchai")
    _submit(client, NEW_KINDS + "\nline.me/R/ti/p/@kbank.th\nviber:+66812345678")

    def facts(value: str) -> dict[str, str]:
        page = client.get("/indicator", query_string={"value": value})
        assert page.status_code == 200, text_of(page.text)
        pairs = re.findall(r"<dt>(.*?)</dt>\s*<dd>(.*?)</dd>", page.text, flags=re.S)
        return {name: text_of(dd) for name, dd in pairs}

    assert facts("acct:TH:KASI:1234567890") == {
        "Country": "Thailand (TH)", "Bank": "Kasikornbank (ธนาคารกสิกรไทย)", "BIC": "KASITHBK",
        "Account number": "1234567890"}
    wallet = facts("acct:TH:TRUEMONEY:+66812345678")
    assert wallet["E-wallet"].startswith("TrueMoney Wallet") and wallet["Keyed by the phone number"] == "+66 81 234 5678"
    assert "e-wallet" in text_of(client.get("/indicator?value=acct:TH:TRUEMONEY:%2B66812345678").text)
    assert facts("tron:TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t")["Chain"].startswith("TRON")
    assert facts("sha256:" + "ab" * 32) == {"Algorithm": "SHA-256", "Digest": "ab" * 32}
    page = client.get("/indicator?value=telegram:kbank_support_th").text
    assert '<a href="https://t.me/kbank_support_th" rel="noreferrer nofollow">' in page
    assert facts("line:@kbank.th")["Public page"] == "https://line.me/R/ti/p/@kbank.th"
    assert facts("whatsapp:+66812345678")["Public page"] == "https://wa.me/66812345678"
    viber = facts("viber:+66812345678")  # Viber has no public page that names an account: no link
    assert viber["Platform"] == "Viber" and "Public page" not in viber
    # One file's hashes on one line (labels without colons: the line stays whole, docs/web.md):
    # one file, each page naming the other hash.
    _submit(client, f"SHA-256 {'cd' * 32} MD5 {'ef' * 16}")
    assert facts("md5:" + "ef" * 16)["Other hashes of this file"] == "sha256:" + "cd" * 32
    assert facts("sha256:" + "cd" * 32)["Other hashes of this file"] == "md5:" + "ef" * 16


def test_sighting_page_records_and_refuses_what_is_wrong(app):
    client = app.test_client()
    sign_in(client, "somchai")
    done = client.post("/sighting", data={"value": "+855 97 123 4567", "case_ref": "KH-1", "count": "2", "tlp": "green",
                                          "seen": "2026-11-20", "csrf_token": token(client, "/sighting")})
    assert done.status_code == 201 and "+85597123456" in done.text and "TLP:GREEN" in done.text
    bad = client.post("/sighting", data={"value": "???", "csrf_token": token(client, "/sighting")})
    assert bad.status_code == 400 and "???" in bad.text
    bad_count = client.post("/sighting", data={"value": "+85597123456", "count": "0", "csrf_token": token(client, "/sighting")})
    assert bad_count.status_code == 400 and "count" in bad_count.text
    assert [r["subject"] for r in audit_rows(app, "sighting")] == [["+855 97 123 4567"]]


# -- admin -----------------------------------------------------------------------------------
def test_admin_creates_a_key_shown_once_that_works_and_revokes_it(app):
    client = app.test_client()
    sign_in(client, "ops")
    created = client.post("/admin/keys", data={"org": "bank-x", "role": "reader", "max_tlp": "green",
                                                "name": "fraud engine", "csrf_token": token(client, "/admin/keys")})
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    key = re.search(r'<code id="new-key" class="key">(reg_[^<]+)</code>', created.text).group(1)
    api = app.test_client()
    assert api.get("/api/v1/lookup?value=1.2.3.4", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    listing = client.get("/admin/keys").text
    assert key not in listing and key[:12] in listing  # never shown again: the prefix only
    revoked = client.post(f"/admin/keys/{key[:12]}/revoke", data={"csrf_token": token(client, "/admin/keys")},
                          follow_redirects=True)
    assert f"Revoked {key[:12]}" in revoked.text
    assert api.get("/api/v1/lookup?value=1.2.3.4", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    rows = [(r["action"], r["actor"]) for r in audit_rows(app) if r["action"].startswith("key-")]
    assert rows == [("key-revoke", "ops"), ("key-create", "ops")]


def test_admin_adds_a_user_who_can_sign_in_and_disables_them(app):
    client = app.test_client()
    sign_in(client, "ops")
    added = client.post("/admin/users", data={"username": "Nattapong", "org": "ccib-th", "role": "contributor",
                                               "max_tlp": "amber", "password": "long enough password",
                                               "csrf_token": token(client, "/admin/users")}, follow_redirects=True)
    assert "Added user nattapong" in added.text
    short = client.post("/admin/users", data={"username": "x2", "org": "ccib-th", "role": "reader", "password": "short",
                                               "csrf_token": token(client, "/admin/users")})
    assert short.status_code == 400 and "at least 12 characters" in short.text
    newcomer = app.test_client()
    assert sign_in(newcomer, "nattapong", "long enough password").status_code == 302
    assert newcomer.get("/submit").status_code == 200
    client.post("/admin/users/nattapong/disabled", data={"disabled": "1", "csrf_token": token(client, "/admin/users")})
    assert newcomer.get("/").status_code == 302
    myself = client.post("/admin/users/ops/disabled", data={"disabled": "1", "csrf_token": token(client, "/admin/users")})
    assert myself.status_code == 403
    client.post("/admin/users/nattapong/disabled", data={"disabled": "0", "csrf_token": token(client, "/admin/users")})
    assert sign_in(newcomer, "nattapong", "long enough password").status_code == 302
    reset = client.post("/admin/users/password", data={"username": "nattapong", "password": "another long password",
                                                        "csrf_token": token(client, "/admin/users")}, follow_redirects=True)
    assert "New password set for nattapong" in reset.text
    assert newcomer.get("/").status_code == 302  # the old session ended with the old password
    assert sign_in(newcomer, "nattapong", "another long password").status_code == 302
    short = client.post("/admin/users/password", data={"username": "nattapong", "password": "short",
                                                        "csrf_token": token(client, "/admin/users")})
    assert short.status_code == 400 and "at least 12" in short.text
    actions = [r["action"] for r in audit_rows(app) if r["action"].startswith("user-")]
    assert actions == ["user-password", "user-enable", "user-disable", "user-add"]


def test_an_org_admin_manages_its_own_org_only(app):
    client = app.test_client()
    sign_in(client, "pdrm-admin")
    users_page = client.get("/admin/users").text
    assert "aisyah" in users_page and "somchai" not in users_page
    csrf = token(client, "/admin/keys")
    other = client.post("/admin/keys", data={"org": "ccib-th", "role": "reader", "max_tlp": "red", "csrf_token": csrf})
    assert other.status_code == 403  # a key for ccib-th would read ccib-th's TLP:RED
    own = client.post("/admin/keys", data={"org": "pdrm-my", "role": "reader", "csrf_token": csrf})
    assert own.status_code == 201 and "sees up to <span class=\"tlp tlp-amber-strict\">" in own.text
    # No more than its own cap either: an admin capped at AMBER+STRICT cannot mint TLP:RED.
    for path, extra in (("/admin/keys", {}), ("/admin/users", {"username": "sneaky", "password": PASSWORD})):
        red = client.post(path, data={"org": "pdrm-my", "role": "reader", "max_tlp": "red", "csrf_token": csrf, **extra})
        assert red.status_code == 403 and "up to TLP:AMBER+STRICT" in red.text, path
    assert client.post("/admin/orgs", data={"slug": "new-org", "name": "New", "csrf_token": csrf}).status_code == 403
    assert client.post("/admin/users/somchai/disabled", data={"csrf_token": csrf}).status_code == 403
    other_password = client.post("/admin/users/password", data={"username": "somchai", "password": PASSWORD * 2,
                                                                 "csrf_token": csrf})
    assert other_password.status_code == 403
    audit = client.get("/admin/audit").text
    assert "Showing pdrm-my" in audit and "somchai" not in audit


def test_audit_page_lists_rows_and_says_whether_the_chain_holds(app):
    client = app.test_client()
    sign_in(client, "somchai")
    client.post("/", data={"values": "1.2.3.4", "csrf_token": token(client)})
    admin = app.test_client()
    sign_in(admin, "ops")
    app.extensions["registry.audit"].flush()
    page = admin.get("/admin/audit")
    assert page.status_code == 200 and "Hash chain verified" in page.text
    assert "somchai" in page.text and "1.2.3.4" in page.text
    only_logins = admin.get("/admin/audit?action=login").text
    assert "1.2.3.4" not in only_logins and "login" in only_logins
    db = app.extensions["registry.db"]
    with db.write() as conn:  # someone edits a row behind the registry's back
        conn.execute(t.audit_event.update().where(t.audit_event.c.action == "lookup").values(subject='["9.9.9.9"]'))
    broken = admin.get("/admin/audit")
    assert "Hash chain BROKEN" in broken.text
    bad = admin.get("/admin/audit?since=yesterday-ish")
    assert bad.status_code == 400


def test_operator_adds_an_org(app):
    client = app.test_client()
    sign_in(client, "ops")
    done = client.post("/admin/orgs", data={"slug": "kh-police", "name": "Cambodian National Police", "country": "kh",
                                            "csrf_token": token(client, "/admin/orgs")}, follow_redirects=True)
    assert "Added kh-police" in done.text and "Cambodian National Police" in done.text
    bad = client.post("/admin/orgs", data={"slug": "Bad Slug", "name": "x", "csrf_token": token(client, "/admin/orgs")})
    assert bad.status_code == 400 and "lowercase" in bad.text


def test_a_username_with_control_characters_is_audited_safely(app):
    """What a stranger types as a username reaches the audit log: a NUL (which PostgreSQL text
    cannot hold) must not stop the log from being written."""
    client = app.test_client()
    assert sign_in(client, "som\x00chai\x07", "wrong password!!").status_code == 401
    rows = audit_rows(app, "login-failed")
    assert [r["actor"] for r in rows] == ["somchai"]
    assert app.extensions["registry.audit"].pending == 0 and app.extensions["registry.audit"].failures == 0


def test_a_session_ends_after_session_hours_or_a_new_password(app):
    import time

    from registry.services.users import set_password

    client = app.test_client()
    sign_in(client, "aisyah")
    assert client.get("/").status_code == 200
    with client.session_transaction() as session:  # signed in nine hours ago
        session["at"] = int(time.time()) - 9 * 3600
    assert client.get("/").status_code == 302
    sign_in(client, "aisyah")
    assert client.get("/").status_code == 200
    set_password(app.extensions["registry.db"], "aisyah", "a brand new passphrase", by=ON_SERVER)
    assert client.get("/").status_code == 302
