"""The pivot graph on the page through Flask's test client, on SQLite and PostgreSQL: the indicator
page's SVG with a link per node and the table of neighbours, the two-step graph page, what a user
may not see left out, the errors, the purpose an org requires, the audit rows (docs/web.md, "The
pivot graph")."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import quote

import pytest

from registry.services import relationships
from registry.services.access import ON_SERVER
from registry.services.orgs import add_org, set_org
from registry.services.submit import Provenance, Submission, Submitter
from tests.web.ui_support import add_users, audit_rows, page_app, seed, sign_in, text_of

PHONE, ACCOUNT, TELEGRAM, DOMAIN = "+855971234567", "acct:TH:KASI:1234567890", "telegram:k7_support", "kbank-verify.example"


@pytest.fixture
def app(db):
    seed(db)
    add_users(db, {"pdrm-red": ("pdrm-my", "reader", "red")})
    add_org(db, "dsi-th", "Department of Special Investigation", "TH")
    add_users(db, {"dsi-analyst": ("dsi-th", "reader", "amber")})
    set_org(db, "dsi-th", require_purpose=True)
    for org, source, target, type_, tlp in (("ccib-th", PHONE, "KBank 123-4-56789-0", "pays-to", "amber"),
                                            ("ccib-th", PHONE, "t.me/k7_support", "contacts", "green"),
                                            ("pdrm-my", "t.me/k7_support", DOMAIN, "same-operator", "red")):
        relationships.link(db, ON_SERVER, source, target, type_, org=org, tlp=tlp, region="TH")
    with db.write() as conn:
        submitter = Submitter(conn, Provenance(org="ccib-th", region="TH"))
        submitter.add(Submission(value=PHONE, tlp="amber", confidence=80))
        submitter.finish()
    with page_app(db) as app:
        yield app


def _section(html: str) -> str:
    start = html.index('<section aria-labelledby="graph-h"')
    return html[start:html.index("</section>", start)]


def _node_links(html: str) -> dict[str, str]:
    """The drawing's nodes: value → the page its link opens."""
    svg = _section(html)
    svg = svg[svg.index("<svg"):svg.index("</svg>")]
    return {unescape(value): unescape(href) for href, value in
            re.findall(r'<a href="([^"]+)" class="node[^"]*" data-value="([^"]+)">', svg)}


def _table(html: str) -> list[list[str]]:
    body = _section(html)
    body = body[body.index("<tbody>"):body.index("</tbody>")]
    return [[text_of(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)]


def test_the_indicator_page_draws_what_is_linked_to_it(app):
    client = app.test_client()
    sign_in(client, "somchai")
    page = client.get(f"/indicator?value={quote(PHONE)}")
    assert page.status_code == 200
    section = _section(page.text)
    assert '<svg class="graph"' in section and "style=" not in section  # the page's CSP allows no inline style
    assert _node_links(page.text) == {PHONE: f"/indicator?value={quote(PHONE)}",
                                      ACCOUNT: f"/indicator?value={ACCOUNT}", TELEGRAM: f"/indicator?value={TELEGRAM}"}
    labels = re.findall(r"<text[^>]*>([^<]+)</text>", section)
    assert {PHONE, ACCOUNT, TELEGRAM, "pays-to", "contacts"} <= set(labels)
    assert 'class="node k-phone listed root"' in section and 'class="node k-bank-account"' in section
    assert _table(page.text) == [
        [ACCOUNT, "bank-account", "← pays-to", PHONE, "ccib-th TLP:AMBER", "not listed", "0", "1"],
        [TELEGRAM, "user-account", "← contacts", PHONE, "ccib-th TLP:GREEN", "not listed", "0", "1"],
    ]
    assert f'href="/graph?value={quote(PHONE, safe="")}&amp;depth=2">Two steps out' in section
    # The pivot: the neighbour's own page, with its own graph (the phone one step back).
    neighbour = client.get(_node_links(page.text)[TELEGRAM])
    assert neighbour.status_code == 200  # nothing reported about it, but it is linked: known
    (back,) = _table(neighbour.text)
    assert back[:6] == [PHONE, "phone", "contacts →", TELEGRAM, "ccib-th TLP:GREEN", "listed"]
    assert int(back[6]) > 0 and back[7] == "1"
    rows = audit_rows(app, "graph")
    assert [r["subject"] for r in rows] == [{"value": TELEGRAM, "depth": 1}, {"value": PHONE, "depth": 1}]
    assert rows[1]["result_count"] == 3 and rows[1]["org"] == "ccib-th"


def test_what_a_user_may_not_see_is_not_drawn(app):
    ccib, pdrm = app.test_client(), app.test_client()
    sign_in(ccib, "somchai")
    sign_in(pdrm, "pdrm-red")
    path = f"/graph?value={quote(PHONE)}&depth=2"
    assert set(_node_links(ccib.get(path).text)) == {PHONE, ACCOUNT, TELEGRAM}  # pdrm-my's RED statement is its own
    shown = pdrm.get(path)
    assert shown.status_code == 200 and set(_node_links(shown.text)) == {PHONE, ACCOUNT, TELEGRAM, DOMAIN}
    assert [DOMAIN, "domain", "← same-operator", TELEGRAM, "pdrm-my TLP:RED", "not listed", "0", "2"] in _table(shown.text)
    assert "3 linked values" in text_of(shown.text)
    # The domain's own page: linked only through the RED statement, so for somchai it is unknown.
    domain = ccib.get(f"/indicator?value={DOMAIN}")
    assert domain.status_code == 404 and "No relationship you may see links" in text_of(domain.text)
    assert pdrm.get(f"/indicator?value={DOMAIN}").status_code == 200


def test_an_emergency_number_page_has_no_graph(app):
    client = app.test_client()
    sign_in(client, "somchai")
    page = client.get("/indicator?value=191")  # the allowlist answers it; it is no indicator to link
    assert page.status_code == 200 and "emergency number" in text_of(page.text) and 'id="graph-h"' not in page.text


def test_the_graph_page_errors_and_purpose(app):
    client = app.test_client()
    sign_in(client, "somchai")
    for path, message in ((f"/graph?value={quote(PHONE)}&depth=3", "depth must be 1 or 2, not '3'"),
                          ("/graph", "give the value whose links to show"),
                          ("/graph?value=not+a+value", "is not a valid indicator")):
        page = client.get(path)
        assert page.status_code == 400 and message in text_of(page.text), path
    one = client.get(f"/graph?value={quote(PHONE)}&depth=1")
    assert one.status_code == 200 and '<option value="1" selected>' in one.text
    dsi = app.test_client()
    sign_in(dsi, "dsi-analyst")
    asked = dsi.get(f"/graph?value={quote(PHONE)}")
    assert asked.status_code == 400 and 'name="purpose"' in asked.text and "<svg" not in asked.text
    given = dsi.get(f"/graph?value={quote(PHONE)}&purpose=compound+K7&case_ref=DSI-2026-9")
    assert given.status_code == 200
    # Each node's link carries the purpose: opening it is a lookup for the same case.
    assert all("purpose=compound+K7" in href and "case_ref=DSI-2026-9" in href
               for href in _node_links(given.text).values())
    assert 'type="hidden" name="case_ref" value="DSI-2026-9"' in given.text
    rows = [r for r in audit_rows(app, "graph") if r["org"] == "dsi-th"]
    assert [r["subject"] for r in rows] == [{"purpose": "compound K7", "case_ref": "DSI-2026-9", "value": PHONE,
                                            "depth": 2}]
