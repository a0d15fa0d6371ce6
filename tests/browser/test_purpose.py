"""A lookup's purpose in Chromium: an analyst of an org that requires one cannot send the form
without it, sends it with one, and the indicator page opened from the answers is a lookup for the
same purpose; both are recorded in the audit log."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest

from registry.services.audit import events
from registry.services.orgs import add_org, set_org
from tests.browser.conftest import CHROMIUM, SKIP_REASON, sign_in
from tests.web.ui_support import add_users

if not CHROMIUM.exists():  # before any fixture starts a server for nothing
    pytest.skip(SKIP_REASON, allow_module_level=True)


@pytest.fixture(scope="module")
def dsi_analyst(site):
    add_org(site["db"], "dsi-th", "Department of Special Investigation", "TH")
    add_users(site["db"], {"dsi-analyst": ("dsi-th", "reader", "amber")})
    set_org(site["db"], "dsi-th", require_purpose=True)
    return "dsi-analyst"


def test_an_org_that_requires_a_purpose_gets_it_asked_and_recorded(page, site, dsi_analyst):
    sign_in(page, site, dsi_analyst)
    assert "required by dsi-th" in page.inner_text("label[for=lookup-purpose]")
    page.fill("#values", "45.77.10.23")
    page.click("form.lookup button[type=submit]")
    # The browser keeps the form until the purpose is given: nothing was looked up.
    assert page.locator("#lookup-purpose").evaluate("e => e.validity.valueMissing") is True
    assert page.locator("table.results").count() == 0
    page.fill("#lookup-purpose", "hosting takedown request")
    page.fill("#lookup-case-ref", "DSI-2026-31")
    page.click("form.lookup button[type=submit]")
    page.wait_for_selector("table.results")
    assert page.input_value("#lookup-purpose") == "hosting takedown request"
    page.click("table.results a:has-text('45.77.10.23')")
    page.wait_for_selector("h1.indicator")
    query = parse_qs(urlsplit(page.url).query)
    assert (query["purpose"], query["case_ref"]) == (["hosting takedown request"], ["DSI-2026-31"])
    wanted = [{"purpose": "hosting takedown request", "case_ref": "DSI-2026-31", "values": ["45.77.10.23"]},
              {"purpose": "hosting takedown request", "case_ref": "DSI-2026-31", "values": ["45.77.10.23"]}]
    deadline = time.monotonic() + 10
    while True:
        # By time: each server worker writes its own events, so row ids follow their flushes.
        found = sorted(events(site["db"], {"actor": dsi_analyst, "action": "lookup"})["events"], key=lambda e: e["time"])
        rows = [e["subject"] for e in found]
        if rows == wanted or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert rows == wanted
