"""Watches in Chromium: a reader opens Watches from the header, watches a number block narrowed
by a kind and a label, then a label alone, and removes one after the confirm dialog (docs/web.md,
"Watches")."""

from __future__ import annotations

import pytest

from tests.browser.conftest import CHROMIUM, SKIP_REASON, sign_in

if not CHROMIUM.exists():  # before any fixture starts a server for nothing
    pytest.skip(SKIP_REASON, allow_module_level=True)


def test_watch_a_block_and_a_label_then_remove_one(page, site, shots):
    sign_in(page, site, "aisyah")
    page.click("header nav a:has-text('Watches')")
    page.wait_for_selector("h1:has-text('Watches')")
    page.fill("#watch-value", "+855 97*")
    page.fill("#watch-labels", "call-centre-scam")
    page.check("input[name=kinds][value=phone]")
    page.select_option("#watch-sources", ["ccib-th"])
    page.click("form.grid button[type=submit]")
    assert "Watching +85597*." in page.inner_text("p.notice")
    row = page.locator("table.watches tbody tr").first
    assert "+85597*" in row.inner_text() and "call-centre-scam" in row.inner_text() and "ccib-th" in row.inner_text()

    page.fill("#watch-labels", "mule-account")
    page.click("form.grid button[type=submit]")
    assert "Watching the label mule-account." in page.inner_text("p.notice")
    assert page.locator("table.watches tbody tr").count() == 2
    page.screenshot(path=str(shots / "watches.png"), full_page=True)

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button[aria-label='Remove the watch of +85597*']")
    assert "No longer watching +85597*." in page.inner_text("p.notice")
    assert page.locator("table.watches tbody tr").count() == 1
    page.once("dialog", lambda dialog: dialog.dismiss())  # asked first: dismissed, nothing removed
    page.click("button[aria-label='Remove the watch of mule-account']")
    assert page.locator("table.watches tbody tr").count() == 1
