"""The pivot in Chromium: open an indicator, see what is linked to it drawn, click a neighbour in the
drawing and land on its page with its own graph, then pivot again from the table of neighbours
(docs/web.md, "The pivot graph")."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from registry.services import relationships
from registry.services.access import ON_SERVER
from tests.browser.conftest import CHROMIUM, SKIP_REASON, sign_in

if not CHROMIUM.exists():  # before any fixture starts a server for nothing
    pytest.skip(SKIP_REASON, allow_module_level=True)

PHONE, ACCOUNT, DOMAIN = "+66812345678", "acct:TH:KASI:1234567890", "login.kbank-secure.example"


def test_open_an_indicator_see_its_graph_and_pivot(page, site, shots):
    # The seeded phone (ccib-th, AMBER) pays to a mule account, which the same operator runs as the
    # seeded phishing domain (GREEN); it contacts a Telegram account.
    relationships.link(site["db"], ON_SERVER, PHONE, "KBank 123-4-56789-0", "pays-to", org="ccib-th", tlp="amber",
                       region="TH")
    relationships.link(site["db"], ON_SERVER, "KBank 123-4-56789-0", DOMAIN, "same-operator", org="ccib-th",
                       tlp="green", region="TH")
    relationships.link(site["db"], ON_SERVER, PHONE, "t.me/kbank_support_th", "contacts", org="ccib-th", tlp="green")
    sign_in(page, site, "somchai")
    page.fill("#values", "081-234-5678")
    page.click("form.lookup button[type=submit]")
    page.click(f"table.results a:has-text('{PHONE}')")
    page.wait_for_selector("h1.indicator")

    graph = page.locator("svg.graph")
    graph.scroll_into_view_if_needed()
    assert graph.is_visible()
    nodes = page.locator("svg.graph a.node").evaluate_all("nodes => nodes.map(n => n.dataset.value)")
    assert nodes == [PHONE, ACCOUNT, "telegram:kbank_support_th"]  # one step out
    assert page.locator("svg.graph .edge-labels text").all_text_contents() == ["pays-to", "contacts"]
    assert page.locator("table.neighbours tbody tr").count() == 2
    page.locator("section.graph").screenshot(path=str(shots / "indicator-graph.png"))

    page.locator(f'svg.graph a.node[data-value="{ACCOUNT}"] circle').click()
    page.wait_for_url(f"**/indicator?value={ACCOUNT}*")
    assert page.inner_text("h1.indicator").startswith(ACCOUNT)
    nodes = page.locator("svg.graph a.node").evaluate_all("nodes => nodes.map(n => n.dataset.value)")
    assert nodes == [ACCOUNT, PHONE, DOMAIN]  # its own graph: the phone back one step, and the domain
    rows = page.locator("table.neighbours tbody tr")
    assert rows.count() == 2 and "pays-to →" in rows.nth(0).inner_text() and "← same-operator" in rows.nth(1).inner_text()

    rows.nth(1).locator(f"td:first-child a:has-text('{DOMAIN}')").click()
    page.wait_for_url(f"**/indicator?value={quote(DOMAIN)}*")
    assert page.inner_text("h1.indicator").startswith(DOMAIN) and "listed" in page.inner_text("h1.indicator")
    page.click("text=Two steps out")
    page.wait_for_url("**/graph?*depth=2*")
    drawn = page.locator("svg.graph a.node").evaluate_all("nodes => nodes.map(n => n.dataset.value)")
    assert drawn == [DOMAIN, ACCOUNT, PHONE]
