"""The disputes pages through Flask's test client, on SQLite and PostgreSQL: the indicator page's
dispute form, the lookup and indicator pages showing the dispute, the disputes list, the
decision form for a source only, relisting on the submit page, CSRF and the audit rows (docs/web.md,
"Disputes")."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from tests.web.ui_support import audit_rows, page_app, seed, sign_in, text_of, token

VALUE = "+66815556677"
PAGE = f"/indicator?value={quote(VALUE)}"


@pytest.fixture
def app(db):
    seed(db)
    with page_app(db) as app:
        yield app


def _post(client, path: str, form_page: str, **data):
    return client.post(path, data={"csrf_token": token(client, form_page), **data})


def _statuses(page) -> list[str]:
    return re.findall(r'<span class="status status-([a-z]+)">', page.text)


def _dispute_link(html: str) -> str:
    found = re.search(r'href="(/disputes/[0-9a-f-]{36})"', html)
    assert found, "no link to the dispute"
    return found.group(1)


def test_dispute_from_the_indicator_page_decide_and_relist(app):
    ccib, pdrm = app.test_client(), app.test_client()
    sign_in(ccib, "somchai")
    sign_in(pdrm, "aisyah")
    assert _statuses(_post(ccib, "/submit", "/submit", values=VALUE, tlp="amber", confidence="80")) == ["new"]

    page = pdrm.get(PAGE)
    assert "Dispute this listing" in page.text and "disputed since" not in text_of(page.text)
    refused = pdrm.post("/disputes", data={"value": VALUE, "reason": "no token"})
    assert refused.status_code == 403  # CSRF
    opened = _post(pdrm, "/disputes", PAGE, value=VALUE,
                   reason="the number of our own hotline", evidence="PDRM letter 12/2026")
    assert opened.status_code == 302 and opened.headers["Location"].endswith(PAGE)
    shown = pdrm.get(PAGE)
    assert "Disputed +66815556677" in text_of(shown.text) and "disputed since" in text_of(shown.text)
    assert "Dispute this listing" not in shown.text
    link = _dispute_link(shown.text)
    again = _post(pdrm, "/disputes", PAGE, value=VALUE, reason="twice")
    assert "already disputed" in text_of(pdrm.get(again.headers["Location"]).text)

    looked = _post(ccib, "/", "/", values=f"{VALUE}\n8.8.8.8")
    assert looked.text.count('class="disputed"') == 1 and link in looked.text
    listed = text_of(ccib.get("/disputes").text)
    assert "+66815556677" in listed and "ccib-th" in listed  # awaiting ccib-th

    # The disputer's reader sees why, but no decision form; the source's contributor decides.
    as_reader = pdrm.get(link)
    assert "the number of our own hotline" in text_of(as_reader.text) and 'name="decision"' not in as_reader.text
    assert _post(pdrm, link + "/decision", link, decision="delist").status_code == 403  # a reader
    source = ccib.get(link)
    assert 'name="decision"' in source.text and "Awaiting the decision of: ccib-th" in text_of(source.text)
    decided = _post(ccib, link + "/decision", link, decision="delist", note="confirmed with PDRM")
    assert decided.status_code == 302
    after = text_of(ccib.get(link).text)
    assert "Delisted for ccib-th; the dispute is closed." in after and "closed (delisted)" in after
    assert "confirmed with PDRM" in after
    assert "+66815556677" in text_of(ccib.get("/disputes?status=closed").text)
    assert "disputed since" not in text_of(ccib.get(PAGE).text)

    # Reported again: held; Relist without a reason is refused; with one, relisted.
    held = _post(ccib, "/submit", "/submit", values=VALUE, tlp="amber", confidence="80")
    assert _statuses(held) == ["held"] and "held 1" in text_of(held.text) and "Relist" in text_of(held.text)
    no_reason = _post(ccib, "/submit", "/submit", values=VALUE, relist="1")
    assert no_reason.status_code == 400 and "reason to relist" in text_of(no_reason.text)
    relisted = _post(ccib, "/submit", "/submit", values=VALUE, tlp="amber", confidence="80", relist="1",
                     relist_reason="seen again in case CCIB-2026-410")
    assert _statuses(relisted) == ["updated"]

    actions = {r["action"]: r for r in audit_rows(app)}
    assert actions["dispute"]["actor"] == "aisyah" and actions["dispute"]["subject"]["value"] == VALUE
    assert (actions["decision"]["actor"], actions["decision"]["subject"]["decision"]) == ("somchai", "delist")
    assert actions["held"]["subject"] == [VALUE]
    assert actions["relist"]["subject"] == [{"value": VALUE, "reason": "seen again in case CCIB-2026-410"}]


def test_an_operator_decides_for_every_org_on_the_page(app):
    ccib, ops = app.test_client(), app.test_client()
    sign_in(ccib, "somchai")
    sign_in(ops, "ops")
    _post(ccib, "/submit", "/submit", values="ops-decides.example", tlp="green", confidence="60")
    opened = _post(ccib, "/disputes", "/indicator?value=ops-decides.example", value="ops-decides.example",
                   reason="our own mistake")
    link = _dispute_link(ccib.get(opened.headers["Location"]).text)
    page = ops.get(link)
    assert "every agency (closes the dispute)" in page.text
    _post(ops, link + "/decision", link, decision="uphold", note="stands")
    assert "Upheld for ccib-th; the dispute is closed." in text_of(ops.get(link).text)
