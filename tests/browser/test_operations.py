"""Operations and suggested links in Chromium: a contributor makes an operation, ticks values on a
lookup's result to add them, opens a value's page from the operation, sees the operation there
and accepts a suggested link (docs/web.md, "Operations", "Suggested links")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.browser.conftest import CHROMIUM, SKIP_REASON, sign_in

if not CHROMIUM.exists():  # before any fixture starts a server for nothing
    pytest.skip(SKIP_REASON, allow_module_level=True)

PHONE = "+66817770001"
WHATSAPP = "whatsapp:+66817770001"
NAME = "Compound K9, Poipet"


def test_make_an_operation_add_values_from_a_lookup_and_accept_a_suggestion(page, site, shots):
    sign_in(page, site, "somchai")
    # The phone and its WhatsApp account are reported (GREEN), with a phishing domain, together.
    page.goto(site["url"] + "/submit")
    page.fill("#values", f"081-777-0001\n{WHATSAPP}\nk9-refund.example")
    page.select_option("#tlp", "green")
    page.click("form.grid button[type=submit]")
    page.wait_for_selector("text=Result")

    # A new operation, from the header's Operations page.
    page.click("header nav a:has-text('Operations')")
    page.click("a:has-text('New operation')")
    page.fill("#op-name", NAME)
    page.fill("#op-description", "Numbers and accounts of one compound across the border")
    page.fill("#op-labels", "call-centre-scam")
    page.click("form.grid button[type=submit]")
    page.wait_for_selector("h1:has-text('Compound K9')")
    assert "Made the operation" in page.inner_text("p.notice")

    # Tick two values of a lookup's result and add them to it.
    page.goto(site["url"] + "/")
    page.fill("#values", "081-777-0001\nk9-refund.example\n1.1.1.1")
    page.click("form.lookup button[type=submit]")
    page.check(f"input[name=value][value='{PHONE}']")
    page.check("input[name=value][value='k9-refund.example']")
    page.select_option("#to-operation", label=NAME)
    page.screenshot(path=str(shots / "lookup-to-operation.png"), full_page=True)
    page.click("form.to-operation button[type=submit]")
    page.wait_for_selector("h1:has-text('Compound K9')")
    assert "Added 2 values" in page.inner_text("p.notice")
    members = page.inner_text("table.members")
    assert PHONE in members and "k9-refund.example" in members and "1.1.1.1" not in members
    page.screenshot(path=str(shots / "operation.png"), full_page=True)

    # Open the phone's page from the operation: its operation, and its suggested links with why.
    page.click(f"table.members a:has-text('{PHONE}')")
    page.wait_for_selector("h1.indicator")
    assert NAME in page.inner_text("section:has(#operations-h)")
    suggestions = page.locator("table.suggestions")
    row = suggestions.locator("tr", has_text=WHATSAPP)
    assert "keyed by the same phone number" in row.inner_text() and "same-operator" in row.inner_text()
    page.screenshot(path=str(shots / "indicator-suggestions.png"), full_page=True)
    row.locator("select").select_option("green")
    row.locator("button:has-text('Accept')").click()
    page.wait_for_selector("p.notice")
    assert f"Linked: {PHONE} same-operator {WHATSAPP}" in page.inner_text("p.notice")
    assert page.locator("table.suggestions tr", has_text=WHATSAPP).count() == 0

    # The operation now shows the link; close it.
    page.click(f"section:has(#operations-h) a:has-text('{NAME}')")
    assert WHATSAPP in page.inner_text("table.relationships")
    page.fill("#op-values", WHATSAPP)  # both ends members: the export carries the link
    page.click("button:has-text('Add to the operation')")
    page.wait_for_selector("p.notice")
    with page.expect_download() as download:
        page.click("a:has-text('Export STIX')")
    bundle = json.loads(Path(download.value.path()).read_text())
    assert {o["type"] for o in bundle["objects"]} >= {"grouping", "relationship", "indicator"}
    page.click("button:has-text('Close the operation')")
    page.wait_for_selector("text=Reopen the operation")
    assert page.inner_text(".op-status") == "closed"
