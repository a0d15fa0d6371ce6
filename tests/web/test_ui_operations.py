"""The operations pages and the suggested links on the indicator page, through Flask's test client
on SQLite and PostgreSQL: make an operation, add values ticked on a lookup's result, see it on a
value's page, accept a suggested link, notes, close and reopen, remove; who sees which forms, what
the TLP rule hides, CSRF and the audit rows (docs/web.md, "Operations", "Suggested links")."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from tests.stix.support import validate
from tests.web.ui_support import audit_rows, page_app, seed, sign_in, text_of, token

PHONE = "+66812345678"
WHATSAPP = "whatsapp:+66812345678"
PAGE = f"/indicator?value={quote(PHONE)}"


@pytest.fixture
def app(db):
    seed(db)
    with page_app(db) as app:
        yield app


def _post(client, path: str, form_page: str, **data):
    return client.post(path, data={"csrf_token": token(client, form_page), **data})


def _make(client, **form) -> str:
    made = _post(client, "/operations/new", "/operations/new", **{"name": "Compound K7, Sihanoukville", "tlp": "amber",
                                                                   "labels": "call-centre-scam", **form})
    assert made.status_code == 302, made.text
    found = re.fullmatch(r".*/operations/([0-9a-f-]{36})", made.headers["Location"])
    assert found, made.headers["Location"]
    return found.group(1)


def _suggested(html: str) -> list[str]:
    """The other values the page's Suggested links section lists."""
    section = html.split('id="suggested-h"', 1)[1].split("</section>", 1)[0] if 'id="suggested-h"' in html else ""
    return re.findall(r'<a href="/indicator\?value=[^"]+"><code>([^<]+)</code></a>', section)


def test_operation_from_lookup_to_indicator_page_accept_and_close(app):
    ccib, pdrm, green = app.test_client(), app.test_client(), app.test_client()
    sign_in(ccib, "somchai")
    sign_in(pdrm, "aisyah")
    sign_in(green, "ccib-green")
    # Listed: the phone and its WhatsApp account (GREEN), submitted together on the submit page.
    submitted = _post(ccib, "/submit", "/submit", values=f"{PHONE}\n{WHATSAPP}\nk7-pay.example", tlp="green")
    assert submitted.status_code == 200 and text_of(submitted.text).count("new") >= 3

    # No operation yet: the lookup result offers to make one.
    looked = _post(ccib, "/", "/", values=f"{PHONE}\nk7-pay.example")
    assert "make an operation" in text_of(looked.text) and 'name="value"' not in looked.text

    uid = _make(ccib, description="one compound's numbers")
    shown = ccib.get(f"/operations/{uid}")
    assert shown.status_code == 200 and "Compound K7, Sihanoukville" in shown.text and "No values yet." in shown.text
    assert "Close the operation" in shown.text

    # Tick values on a lookup's result and add them to the operation.
    looked = _post(ccib, "/", "/", values=f"{PHONE}\nk7-pay.example\nnot a value at all")
    assert f'<option value="{uid}">Compound K7, Sihanoukville</option>' in looked.text
    assert looked.text.count('type="checkbox" name="value"') == 2  # not the value that is no indicator
    added = _post(ccib, "/operations/members", "/", operation=uid, value=[PHONE, "k7-pay.example"])
    assert added.status_code == 302 and added.headers["Location"].endswith(f"/operations/{uid}")
    page = ccib.get(f"/operations/{uid}")
    assert "Added 2 values." in text_of(page.text)
    assert f"/indicator?value={quote(PHONE)}" in page.text and "k7-pay.example" in page.text

    # The value's page: its operation, and the suggested links with why.
    value_page = ccib.get(PAGE)
    assert value_page.status_code == 200
    operations = value_page.text.split('id="operations-h"', 1)[1].split("</section>", 1)[0]
    assert f'href="/operations/{uid}"' in operations
    assert _suggested(value_page.text) == [WHATSAPP, "k7-pay.example"]  # same number first, then submitted together
    text = text_of(value_page.text)
    assert f"keyed by the same phone number, {PHONE}" in text and "submitted together by ccib-th" in text

    # Accept: the link is stated as ccib's, and is suggested no more.
    accepted = _post(ccib, "/relationships", PAGE, value=PHONE, source=PHONE, target=WHATSAPP, type="same-operator",
                     tlp="green", why="suggested: keyed by the same phone number")
    assert accepted.status_code == 302 and accepted.headers["Location"].endswith(PAGE)
    after = ccib.get(PAGE)
    assert f"Linked: {PHONE} same-operator {WHATSAPP}" in text_of(after.text)
    assert _suggested(after.text) == ["k7-pay.example"]
    assert "same-operator" in ccib.get(f"/operations/{uid}").text  # the operation shows the link

    # Export STIX: the operation's bundle, as the API's, for the signed-in user; valid STIX 2.1 (with
    # the link, once both its ends are members: typed on the operation's page).
    typed = _post(ccib, "/operations/members", f"/operations/{uid}", operation=uid, values=f"{WHATSAPP}\n{PHONE}")
    assert "Added 1 value; 1 already in it." in text_of(ccib.get(typed.headers["Location"]).text)
    exported = ccib.get(f"/operations/{uid}/stix")
    assert exported.status_code == 200 and exported.mimetype == "application/stix+json"
    assert "attachment" in exported.headers["Content-Disposition"]
    bundle = validate(exported.data)
    grouping = next(o for o in bundle["objects"] if o["type"] == "grouping")
    assert grouping["name"] == "Compound K7, Sihanoukville" and grouping["context"] == "suspicious-activity"
    assert any(o["type"] == "relationship" and o["relationship_type"] == "same-operator" for o in bundle["objects"])

    # Notes, close and reopen, remove.
    assert _post(ccib, f"/operations/{uid}/notes", f"/operations/{uid}", text="seen in three reports").status_code == 302
    closed = _post(ccib, f"/operations/{uid}/status", f"/operations/{uid}", status="closed")
    page = ccib.get(closed.headers["Location"])
    assert "Closed." in text_of(page.text) and "Reopen the operation" in page.text and "seen in three reports" in page.text
    assert 'name="values"' not in page.text  # a closed operation takes no new values here
    listed = ccib.get("/operations?status=closed&label=call-centre-scam&q=k7")
    assert f'href="/operations/{uid}"' in listed.text
    assert f'href="/operations/{uid}"' not in ccib.get("/operations?status=open").text
    _post(ccib, f"/operations/{uid}/status", f"/operations/{uid}", status="open")
    removed = _post(ccib, f"/operations/{uid}/remove", f"/operations/{uid}", value="k7-pay.example")
    page = ccib.get(removed.headers["Location"])
    assert "Removed k7-pay.example." in text_of(page.text) and "Values (2)" in text_of(page.text)

    # Another org sees the AMBER operation but may not change it; a GREEN-capped user does not see it.
    theirs = pdrm.get(f"/operations/{uid}")
    assert theirs.status_code == 200 and "Close the operation" not in theirs.text and "Remove" not in theirs.text
    assert pdrm.get(PAGE).text.count(f'href="/operations/{uid}"') == 1
    assert "Accept" not in pdrm.get(PAGE).text  # a reader sees suggestions, never the Accept form
    assert green.get(f"/operations/{uid}").status_code == 404
    assert green.get(f"/operations/{uid}/stix").status_code == 404
    assert f'href="/operations/{uid}"' not in green.get("/operations").text
    assert f'href="/operations/{uid}"' not in green.get(PAGE).text
    refused = _post(pdrm, "/operations/members", "/", operation=uid, value="1.2.3.4")
    assert refused.status_code == 403  # a reader

    actions = {r["action"] for r in audit_rows(app)}
    assert {"operation-export", "operation-create", "operation-add", "operation-note", "operation-status", "operation-remove",
            "operations-read", "suggestions-read", "relationship-link"} <= actions
    link = audit_rows(app, "relationship-link")[0]
    assert (link["org"], link["subject"]["type"], link["subject"]["status"]) == ("ccib-th", "same-operator", "new")


def test_a_suggestion_never_shows_what_the_viewer_may_not_see(app):
    ccib, pdrm = app.test_client(), app.test_client()
    sign_in(ccib, "somchai")
    sign_in(pdrm, "aisyah")
    _post(ccib, "/submit", "/submit", values=PHONE, tlp="green")
    _post(ccib, "/submit", "/submit", values=WHATSAPP, tlp="red")
    assert _suggested(ccib.get(PAGE).text) == [WHATSAPP]
    page = pdrm.get(PAGE)
    assert WHATSAPP not in page.text and 'id="suggested-h"' not in page.text


def test_forms_are_checked(app):
    ccib = app.test_client()
    sign_in(ccib, "somchai")
    assert ccib.post("/operations/new", data={"name": "no token"}).status_code == 403  # CSRF
    blank = _post(ccib, "/operations/new", "/operations/new", name=" ", tlp="amber")
    assert blank.status_code == 400 and "name is required" in text_of(blank.text)
    bad_label = _post(ccib, "/operations/new", "/operations/new", name="x", labels="not a slug!")
    assert bad_label.status_code == 400 and "label" in text_of(bad_label.text)
    uid = _make(ccib)
    nothing = _post(ccib, "/operations/members", "/", operation=uid)
    assert "Not added: tick or type at least one value" in text_of(ccib.get(nothing.headers["Location"]).text)
    assert _post(ccib, "/operations/members", "/", value="1.2.3.4").status_code == 400  # which operation?
    assert _post(ccib, "/operations/members", "/", operation="0" * 36, value="1.2.3.4").status_code == 404
    assert ccib.get("/operations/" + "0" * 36).status_code == 404
    assert ccib.get("/operations?status=sometimes").status_code == 400
    gone = _post(ccib, f"/operations/{uid}/remove", f"/operations/{uid}", value="never-added.example")
    assert "Not removed" in text_of(ccib.get(gone.headers["Location"]).text)
    wrong = _post(ccib, "/relationships", PAGE, value=PHONE, source=PHONE, target=WHATSAPP, type="owns")
    assert "Not linked: unknown relationship type" in text_of(ccib.get(wrong.headers["Location"]).text)
