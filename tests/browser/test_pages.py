"""An analyst's day in Chromium: sign in, paste values from a case file, read the verdicts and
the TLP colours, open an indicator and download its STIX; a reader refused the admin pages;
an admin's pages. Screenshots of the main pages are saved (see conftest)."""

from __future__ import annotations

import json

import pytest

from tests.browser.conftest import CHROMIUM, SKIP_REASON, sign_in

if not CHROMIUM.exists():  # before any fixture starts a server for nothing
    pytest.skip(SKIP_REASON, allow_module_level=True)

CASE_FILE = """\
081-234-5678
hxxps://login.kbank-secure[.]example/verify
45.77.10.23
+855 97 123 4567
https://dhl-th-parcel.example/pay
+855 12 888 555
8.8.8.8
1.10.16.77
clean-shop.example
not-a-value
"""

# TLP 2.0 as FIRST defines it: coloured text on black; AMBER+STRICT shares AMBER's colour.
BLACK = "rgb(0, 0, 0)"
COLOURS = {
    "clear": "rgb(255, 255, 255)",
    "green": "rgb(51, 255, 0)",
    "amber": "rgb(255, 192, 0)",
    "amber-strict": "rgb(255, 192, 0)",
    "red": "rgb(255, 43, 43)",
}


def _verdicts(page) -> dict[str, str]:
    rows = page.locator("table.results > tbody > tr:not(.details-row)")
    return {rows.nth(i).locator("td.query").inner_text(): rows.nth(i).locator(".verdict").inner_text()
            for i in range(rows.count())}


def test_paste_a_case_file_and_read_verdicts_and_tlp_colours(page, site, shots):
    sign_in(page, site, "somchai")
    page.fill("#values", CASE_FILE)
    assert "about 10 values" in page.inner_text("#values-count")  # the little script counts as you paste
    page.click("form.lookup button[type=submit]")
    page.wait_for_selector("table.results")
    assert _verdicts(page) == {
        "081-234-5678": "listed", "hxxps://login.kbank-secure[.]example/verify": "listed", "45.77.10.23": "listed",
        "+855 97 123 4567": "listed", "https://dhl-th-parcel.example/pay": "listed", "+855 12 888 555": "listed", "8.8.8.8": "allowlisted",
        "1.10.16.77": "listed", "clean-shop.example": "not listed", "not-a-value": "error",
    }
    for level, colour in COLOURS.items():
        badges = page.locator(f"table.results .tlp-{level}")
        assert badges.count() >= 1, level
        style = badges.first.evaluate("e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]")
        assert style == [colour, BLACK], level
    # The score bar is drawn to scale and says its value to a screen reader.
    bar = page.locator("table.results tr", has_text="081-234-5678").locator("svg.bar")
    label = bar.get_attribute("aria-label")
    score = int(label.split()[1])
    assert 0 < score <= 100 and bar.locator("rect.fill").get_attribute("width") == str(score)
    page.locator("table.results details").first.click()
    page.screenshot(path=str(shots / "lookup.png"), full_page=True)


def test_open_an_indicator_and_download_its_stix(page, site, shots):
    sign_in(page, site, "somchai")
    page.fill("#values", "081-234-5678")
    page.click("form.lookup button[type=submit]")
    page.click("table.results a:has-text('+66812345678')")
    page.wait_for_selector("h1.indicator")
    assert "+66812345678" in page.inner_text("h1.indicator")
    assert "DSI impostor calls" in page.inner_text("main")
    assert page.locator("ol.timeline li").count() >= 1
    badge = page.locator("main .tlp-amber").first
    assert badge.evaluate("e => getComputedStyle(e).color") == COLOURS["amber"]
    with page.expect_download() as download:
        page.click("a:has-text('Download the bundle')")
    bundle = json.loads(download.value.path().read_text(encoding="utf-8"))
    assert bundle["type"] == "bundle"
    assert any(o["type"] == "indicator" and "+66812345678" in o["pattern"] for o in bundle["objects"])
    assert download.value.suggested_filename.endswith(".stix.json")
    page.click("summary:has-text('Show the JSON')")
    page.screenshot(path=str(shots / "indicator.png"), full_page=True)


def test_a_reader_is_refused_the_admin_pages(page, site):
    sign_in(page, site, "aisyah")
    assert page.locator("header nav a:has-text('Admin')").count() == 0
    for path in ("/admin/users", "/admin/keys", "/admin/audit", "/admin/orgs"):
        response = page.goto(site["url"] + path)
        assert response.status == 403, path
        assert "Not allowed" in page.inner_text("h1")
        assert "needs the admin role" in page.inner_text("main")
    # And what pdrm-my's reader may not see of ccib-th's reports is not listed for them.
    page.goto(site["url"] + "/")
    page.fill("#values", "+855 12 888 555\n+66 81 234 5678")
    page.click("form.lookup button[type=submit]")
    page.wait_for_selector("table.results")
    assert _verdicts(page) == {"+855 12 888 555": "not listed", "+66 81 234 5678": "listed"}
    assert page.locator("main .tlp-red").count() == 0


def test_admin_pages(page, site, shots):
    sign_in(page, site, "ops")
    page.goto(site["url"] + "/admin/keys")
    page.select_option("#org", "bank-x")
    page.select_option("#max_tlp", "green")
    page.fill("#name", "bank-x fraud engine")
    page.click("form.grid button[type=submit]")
    key = page.inner_text("#new-key")
    assert key.startswith("reg_")
    page.screenshot(path=str(shots / "admin-keys.png"), full_page=True)
    page.once("dialog", lambda dialog: dialog.accept())  # "Revoke …?" asks first
    page.locator("tr", has_text=key[:12]).locator("button:has-text('Revoke')").click()
    page.wait_for_selector(f"text=Revoked {key[:12]}")
    page.goto(site["url"] + "/admin/audit")
    assert "Hash chain verified" in page.inner_text(".verified")
    page.screenshot(path=str(shots / "admin-audit.png"), full_page=False)


def test_submit_page(page, site, shots):
    sign_in(page, site, "somchai")
    page.click("header nav a:has-text('Submit')")
    page.fill("#values", "hxxp://kbank-verify[.]example/login\n+66 2 987 6543\n192.168.1.1")
    page.fill("#labels", "phishing")
    page.select_option("#tlp", "green")
    page.click("form.grid button[type=submit]")
    page.wait_for_selector("text=Result")
    statuses = page.locator("span.status").all_inner_texts()
    assert statuses == ["new", "new", "allowlisted"]
    page.screenshot(path=str(shots / "submit.png"), full_page=True)


def test_look_up_a_bank_account_and_a_telegram_link_from_the_demo(page, site):
    sign_in(page, site, "somchai")
    link = "https://t.me/kbank_support_th/12"  # a post of the account two demo agencies report
    page.fill("#values", f"KBank 1234567890\nt.me/kbank_support_th\n{link}\nTrueMoney 081-234-5678")
    page.click("form.lookup button[type=submit]")
    page.wait_for_selector("table.results")
    verdicts = _verdicts(page)
    assert verdicts["KBank 1234567890"] == verdicts["t.me/kbank_support_th"] == "listed"
    assert verdicts["TrueMoney 081-234-5678"] == "listed"
    bank = page.locator("table.results tr", has_text="KBank 1234567890")
    assert "acct:TH:KASI:1234567890" in bank.inner_text() and "bank account" in bank.inner_text()
    telegram = page.locator("table.results > tbody > tr:not(.details-row)", has_text="t.me/kbank_support_th").first
    assert "Telegram" in telegram.inner_text()
    assert verdicts[link] == "listed"  # the link is a URL that finds the account it names
    details = page.locator("table.results tr.details-row", has_text="url-account")
    details.locator("summary").click()
    assert "telegram:kbank_support_th" in details.inner_text() and "kh-police" in details.inner_text()


def test_submit_an_at_name_with_its_platform(page, site):
    sign_in(page, site, "somchai")
    page.click("header nav a:has-text('Submit')")
    page.fill("#values", "@Fake_KBank_Officer\n@fake.kbank.th")
    page.select_option("#platform", "telegram")
    page.click("form.grid button[type=submit]")
    page.wait_for_selector("text=Result")
    rows = page.locator("table tbody tr")
    assert rows.nth(0).locator("span.status").inner_text() == "new"
    assert "value=telegram:fake_kbank_officer" in rows.nth(0).locator("a").get_attribute("href")
    # Not a Telegram username (dots): rejected, saying why.
    assert rows.nth(1).locator("span.status").inner_text() == "rejected"
    assert "Telegram username" in rows.nth(1).inner_text()
    assert page.locator("#platform").input_value() == "telegram"  # the form keeps the platform
    rows.nth(0).locator("a").click()
    page.wait_for_selector("h1.indicator")
    assert "telegram:fake_kbank_officer" in page.inner_text("h1.indicator")
    assert page.locator("dl.value-facts a").get_attribute("href") == "https://t.me/fake_kbank_officer"


def test_feeds_page_shows_a_failed_feeds_reason_and_runs_a_feed(page, site, shots):
    sign_in(page, site, "feedops")
    page.click("header nav a:has-text('Feeds')")
    row = page.locator("table.feeds tr", has_text="partner-hub-phones")
    status = row.locator(".feed-status")
    assert status.inner_text() == "failed"
    assert status.evaluate("e => getComputedStyle(e).color") == "rgb(179, 38, 30)"
    assert "gone.csv" in row.locator(".reason").inner_text()  # why it failed, on the list itself
    daily = page.locator("table.feeds tr", has_text="partner-hub-daily")
    assert daily.locator("svg.chart rect").count() == 6
    page.screenshot(path=str(shots / "feeds.png"), full_page=True)
    page.click("a:has-text('partner-hub-daily')")
    assert page.locator("table.rejects").inner_text().count("bad line from the hub") == 1
    page.click("button:has-text('Run now')")
    page.wait_for_selector("text=Started a run")
    for _ in range(100):  # the run works on a thread of the server; the page shows it when it ends
        if page.locator("table.runs tbody tr").first.locator(".feed-status").inner_text() != "running":
            break
        page.wait_for_timeout(100)
        page.reload()
    assert page.locator("table.runs tbody tr").first.locator(".feed-status").inner_text() == "not-modified"
    assert page.locator("svg.chart rect").count() == 7
    page.screenshot(path=str(shots / "feed.png"), full_page=True)


def test_ctrl_enter_looks_up_and_every_page_labels_its_fields(page, site):
    sign_in(page, site, "ops")
    page.fill("#values", "45.77.10.23")
    page.press("#values", "Control+Enter")
    page.wait_for_selector("table.results")
    assert _verdicts(page) == {"45.77.10.23": "listed"}
    unlabelled = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
        .filter(e => !e.labels.length && !e.getAttribute('aria-label')).map(e => e.name)"""
    for path in ("/", "/submit", "/sighting", "/feeds", "/feeds/partner-hub-daily", "/admin/orgs", "/admin/users",
                 "/admin/keys", "/admin/audit", "/indicator?value=%2B66812345678"):
        page.goto(site["url"] + path)
        assert page.evaluate(unlabelled) == [], path
        assert page.locator("h1").count() == 1, path
        assert page.evaluate("document.documentElement.lang") == "en"
