"""Disputes in Chromium: a reader of another agency disputes a value from its indicator page, the
reporting agency's contributor decides on the disputes page (delist), reports it again and is
held, then relists it with a reason (docs/web.md, "Disputes")."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.browser.conftest import CHROMIUM, SKIP_REASON, sign_in

if not CHROMIUM.exists():  # before any fixture starts a server for nothing
    pytest.skip(SKIP_REASON, allow_module_level=True)

VALUE = "+66819990001"


def _submit(page, site, values: str, *, relist_reason: str | None = None) -> list[str]:
    page.goto(site["url"] + "/submit")
    page.fill("#values", values)
    if relist_reason is not None:
        page.check("#relist")
        page.fill("#relist_reason", relist_reason)
    page.click("form.grid button[type=submit]")
    page.wait_for_selector("text=Result")
    return page.locator("span.status").all_inner_texts()


def test_dispute_decide_relist_refused_and_relist_with_a_reason(page, chromium, site, shots):
    sign_in(page, site, "somchai")
    assert _submit(page, site, "081-999-0001") == ["new"]

    # aisyah (pdrm-my, reader) disputes it from the indicator page.
    other = chromium.new_context(viewport={"width": 1280, "height": 860})
    reader = other.new_page()
    reader.set_default_timeout(20_000)
    try:
        sign_in(reader, site, "aisyah")
        reader.fill("#values", VALUE)
        reader.click("form.lookup button[type=submit]")
        reader.click(f"table.results a:has-text('{VALUE}')")
        reader.wait_for_selector("h1.indicator")
        reader.click("summary:has-text('Dispute this listing')")
        reader.fill("#dispute-reason", "This is the hotline of a Malaysian bank, reported by mistake")
        reader.fill("#dispute-evidence", "PDRM case KL-2026-0912")
        reader.click("details.dispute button[type=submit]")
        reader.wait_for_selector(".disputed-note")
        assert "disputed since" in reader.inner_text(".disputed-note")
        assert "Disputed +66819990001" in reader.inner_text("p.notice")
        reader.screenshot(path=str(shots / "indicator-disputed.png"), full_page=True)
    finally:
        other.close()

    # The lookup shows it disputed; somchai decides for ccib-th on the disputes page.
    page.goto(site["url"] + "/")
    page.fill("#values", VALUE)
    page.click("form.lookup button[type=submit]")
    assert page.locator("table.results a.disputed").count() == 1
    page.click("header nav a:has-text('Disputes')")
    row = page.locator("table.disputes tr", has_text=VALUE)
    assert "ccib-th" in row.inner_text()
    row.locator("a:has-text('Details')").click()
    assert "reported by mistake" in page.inner_text("main")
    assert "ccib-th" in page.inner_text(".awaiting")
    page.check("input[name=decision][value=delist]")
    page.fill("#note", "Confirmed with the bank: its hotline")
    page.screenshot(path=str(shots / "dispute.png"), full_page=True)
    page.click("form.decide button[type=submit]")
    page.wait_for_selector("p.notice")
    assert "Delisted for ccib-th; the dispute is closed." in page.inner_text("p.notice")
    assert page.inner_text(".dispute-status") == "closed"
    page.goto(site["url"] + f"/indicator?value={quote(VALUE)}")
    assert page.locator(".disputed-note").count() == 0

    # Reported again: held, saying how to relist; relisted with a reason.
    assert _submit(page, site, VALUE) == ["held"]
    assert "Relist" in page.locator("table tr", has_text=VALUE).last.inner_text()
    assert _submit(page, site, VALUE, relist_reason="Seen again in case CCIB-2026-512") == ["updated"]
