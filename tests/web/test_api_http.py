"""The member API over real HTTP: a `registry serve` process (gunicorn, 2 workers) on 127.0.0.1,
on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.web.conftest import REGISTRY


def test_health_and_version_are_public_metrics_are_the_operators(server):
    assert server.get("/-/health").json()["status"] == "ok"
    assert server.get("/-/version").json()["api"] == "v1"
    # The counters add up every org's requests: only an operator's key (admin, cap red) reads them.
    assert server.get("/-/metrics").status_code == 401
    for key in ("pdrm-reader", "pdrm-admin"):
        refused = server.get("/-/metrics", key=key)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden", key
    metrics = server.get("/-/metrics", key="admin")
    assert metrics.status_code == 200 and "registry_http_requests_total" in metrics.text


def test_every_api_call_needs_a_valid_key(server):
    missing = server.get("/api/v1/lookup?value=1.2.3.4")
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert missing.json()["error"]["code"] == "unauthorized"
    wrong = server.get("/api/v1/lookup?value=1.2.3.4", key="reg_not-a-real-key")
    assert wrong.status_code == 401 and "unknown or revoked" in wrong.json()["error"]["message"]


def test_revoked_key_stops_working(server):
    created = json.loads(subprocess.run(
        [str(REGISTRY), "key", "create", "--org", "bank-x", "--role", "reader", "--json"],
        env=server.env, check=True, capture_output=True, text=True).stdout)
    # Several requests, so that every worker has checked (and remembers) the key ...
    assert {server.get("/api/v1/lookup?value=1.2.3.4", key=created["key"]).status_code for _ in range(8)} == {200}
    subprocess.run([str(REGISTRY), "key", "revoke", created["prefix"]], env=server.env, check=True, capture_output=True)
    # ... and none of them honours it after its revocation by another process.
    assert {server.get("/api/v1/lookup?value=1.2.3.4", key=created["key"]).status_code for _ in range(8)} == {401}


def test_submit_then_look_up_single_and_batch(server):
    submitted = server.post("/api/v1/indicators", key="ccib-contrib", json={"indicators": [
        {"value": "hxxp://kbank-verify[.]example/login", "labels": ["phishing"], "confidence": 70, "tlp": "amber"},
        {"value": "081-234-5678", "labels": ["call-centre-scam"], "confidence": 80},
        {"value": "not a value"},
    ]})
    assert submitted.status_code == 200, submitted.text
    statuses = [r["status"] for r in submitted.json()["results"]]
    assert statuses == ["new", "new", "rejected"]
    assert "not a valid" in submitted.json()["results"][2]["error"]

    one = server.get("/api/v1/lookup", key="pdrm-reader", params={"value": "+66 81 234 5678"})
    assert one.status_code == 200
    answer = one.json()
    assert answer["listed"] and answer["value"] == "+66812345678" and answer["score"] == 80
    assert answer["matches"][0]["assertions"][0]["source"] == "ccib-th"

    batch = server.post("/api/v1/lookup", key="pdrm-reader", json={
        "values": ["http://kbank-verify.example/login", "???", "0812345678", "nothing.example"], "region": "TH"})
    results = batch.json()["results"]
    assert [r["query"] for r in results] == ["http://kbank-verify.example/login", "???", "0812345678", "nothing.example"]
    assert [r.get("listed") for r in results] == [True, None, True, False]
    assert "error" in results[1]


def test_values_of_the_new_kinds_land_with_platform_and_region(server):
    bad_checksum = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"  # EIP-55's example, its last letter's case flipped
    items = [
        {"value": "KBank 123-4-56789-0", "labels": ["mule-account"]},
        {"value": "TrueMoney 081-234-5678"},
        {"value": "5140 1234 5678", "kind": "bank-account", "region": "MY"},
        {"value": "USDT-TRC20: TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"},
        {"value": "@KBank_Support_TH", "platform": "telegram"},
        {"value": "@kbank.th", "platform": "LINE", "kind": "user-account"},
        {"value": "0812345678", "platform": "wa"},
        {"value": "https://t.me/kbank_support_th/12"},
        {"value": "sha256:" + "ab" * 32},
        {"value": bad_checksum},
        {"value": "@someone", "platform": "myspace-not"},
    ]
    refused = server.post("/api/v1/indicators", key="ccib-contrib", json={"region": "TH", "indicators": items})
    assert refused.status_code == 400, refused.text  # an unknown platform is its field's error, before any work
    error = refused.json()["error"]
    assert error["details"]["field"] == "indicators[10].platform"
    assert "myspace-not" in error["message"] and "telegram" in error["message"]

    items[-1] = {"value": "@someone_else", "platform": "tg"}
    landed = server.post("/api/v1/indicators", key="ccib-contrib", json={"region": "TH", "indicators": items})
    assert landed.status_code == 200, landed.text
    results = landed.json()["results"]
    assert [(r["status"], r.get("kind"), r.get("canonical")) for r in results] == [
        ("new", "bank-account", "acct:TH:KASI:1234567890"),
        ("new", "bank-account", "acct:TH:TRUEMONEY:+66812345678"),
        ("new", "bank-account", "acct:MY:-:514012345678"),
        ("new", "crypto-wallet", "tron:TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"),
        ("new", "user-account", "telegram:kbank_support_th"),
        ("new", "user-account", "line:@kbank.th"),
        ("new", "user-account", "whatsapp:+66812345678"),
        ("new", "url", "https://t.me/kbank_support_th/12"),
        ("new", "file-hash", "sha256:" + "ab" * 32),
        ("rejected", "crypto-wallet", None),
        ("new", "user-account", "telegram:someone_else"),
    ]
    # A rejected value answers the value, the kind tried and the reason: apart, and in one message.
    rejected = results[9]
    assert rejected["value"] == bad_checksum and "EIP-55 checksum" in rejected["reason"]
    assert bad_checksum in rejected["error"] and "crypto-wallet" in rejected["error"]
    assert rejected["reason"] in rejected["error"]
    answer = server.get("/api/v1/lookup", key="pdrm-reader", params={"value": "acct:TH:KASI:1234567890"}).json()
    assert answer["listed"] and answer["matches"][0]["display"] == "Kasikornbank 123-4-56789-0"
    assert answer["matches"][0]["assertions"][0]["labels"] == ["mule-account"]

    def field_error(item: dict, field: str = "indicators[0].platform", **body) -> str:
        response = server.post("/api/v1/indicators", key="ccib-contrib", json={"indicators": [item], **body})
        assert response.status_code == 400, response.text
        assert response.json()["error"]["details"]["field"] == field
        return response.json()["error"]["message"]

    assert "only with kind user-account" in field_error({"value": "@x_name", "platform": "telegram", "kind": "phone"})
    assert "not 7" in field_error({"value": "@x_name", "platform": 7})
    assert "alpha-2" in field_error({"value": "0812345678", "region": "THA"}, "indicators[0].region")
    assert "alpha-2" in field_error({"value": "0812345678"}, "region", region=5)


def test_batch_of_ten_thousand_is_answered_and_one_more_is_refused(server):
    values = [f"10k-{i}.batch.example" for i in range(10_000)]
    ok = server.post("/api/v1/lookup", key="pdrm-reader", json={"values": values})
    assert ok.status_code == 200 and len(ok.json()["results"]) == 10_000
    assert ok.json()["results"][9_999]["query"] == values[-1]
    too_many = server.post("/api/v1/lookup", key="pdrm-reader", json={"values": values + ["one-more.example"]})
    assert too_many.status_code == 400
    error = too_many.json()["error"]
    assert "at most 10000 values" in error["message"] and error["details"]["field"] == "values"


def test_roles_are_enforced_with_a_message_naming_the_role(server):
    refused = server.post("/api/v1/indicators", key="pdrm-reader", json={"indicators": [{"value": "x.example"}]})
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == "this needs the contributor role; your key has reader"
    assert server.get("/api/v1/audit", key="ccib-contrib").status_code == 403


def test_field_errors_name_the_field(server):
    bad = server.post("/api/v1/indicators", key="ccib-contrib", json={"indicators": [
        {"value": "ok.example"}, {"value": "x.example", "confidence": 130}]})
    assert bad.status_code == 400
    assert bad.json()["error"]["details"]["field"] == "indicators[1].confidence"
    tlp = server.post("/api/v1/indicators", key="ccib-contrib", json={"indicators": [{"value": "x.example", "tlp": "pink"}]})
    assert tlp.status_code == 400 and "indicators[0].tlp" in tlp.json()["error"]["message"]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    [
        ("get", "/api/v1/nothing-here", {}, 404, "not_found"),
        ("delete", "/api/v1/lookup", {}, 405, "method_not_allowed"),
        ("post", "/api/v1/lookup", {"data": "values=1"}, 415, "unsupported_media_type"),
        ("post", "/api/v1/lookup", {"data": "{nope", "headers": {"Content-Type": "application/json"}}, 400, "invalid"),
        ("post", "/api/v1/sightings", {"json": {"value": "zzz"}}, 422, "unprocessable"),
    ],
)
def test_errors_are_json_with_the_right_status(server, method, path, kwargs, status, code):
    import requests

    kwargs = dict(kwargs)  # the parameter dict is shared by the SQLite and PostgreSQL runs
    headers = {"Authorization": f"Bearer {server.keys['ccib-contrib']}", **kwargs.pop("headers", {})}
    response = requests.request(method, server.url + path, headers=headers, timeout=30, **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()["error"]
    assert body["code"] == code and body["message"] and isinstance(body["details"], dict)
    assert "Traceback" not in response.text


def test_sightings_add_up_and_case_refs_stay_with_their_agency(server):
    first = server.post("/api/v1/sightings", key="ccib-contrib", json={
        "value": "+855 97 123 4567", "case_ref": "CCIB-2026-114", "tlp": "green"})
    assert first.status_code == 201 and first.json()["status"] == "new"
    again = server.post("/api/v1/sightings", key="ccib-contrib", json={
        "value": "+85597123 4567", "case_ref": "CCIB-2026-114", "count": 2, "tlp": "green"})
    assert again.json()["count"] == 3 and again.json()["status"] == "updated"
    own = server.get("/api/v1/lookup", key="ccib-reader", params={"value": "+855971234567"}).json()
    other = server.get("/api/v1/lookup", key="pdrm-reader", params={"value": "+855971234567"}).json()
    assert own["matches"][0]["sightings"][0]["case_ref"] == "CCIB-2026-114"
    assert other["matches"][0]["sightings"][0]["count"] == 3
    assert "case_ref" not in other["matches"][0]["sightings"][0]


def test_search_filters_and_cursor_paging(server):
    values = [{"value": f"page-{i}.paging.example", "labels": ["paging-test"], "confidence": 10 + i} for i in range(25)]
    assert server.post("/api/v1/indicators", key="pdrm-contrib", json={"indicators": values}).status_code == 200
    seen, cursor = [], None
    while True:
        params = {"label": "paging-test", "limit": 10, **({"cursor": cursor} if cursor else {})}
        page = server.get("/api/v1/indicators", key="ccib-reader", params=params).json()
        seen.extend(i["value"] for i in page["indicators"])
        cursor = page["next"]
        if not cursor:
            break
    assert sorted(seen) == sorted(v["value"] for v in values) and len(seen) == 25
    high = server.get("/api/v1/indicators", key="ccib-reader", params={"label": "paging-test", "min_score": 30}).json()
    assert len(high["indicators"]) == 5  # confidence 30..34
    bad = server.get("/api/v1/indicators", key="ccib-reader", params={"min_score": "lots"})
    assert bad.status_code == 400 and bad.json()["error"]["details"]["field"] == "min_score"


def test_search_by_a_value_or_a_part_of_one(server):
    listed = {
        "Bangkok Bank 101-2-34567-8": "acct:TH:BKKB:1012345678",
        "GCash 0917 555 0101": "acct:PH:GXCH:+639175550101",
        "USDT-TRC20: TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t": "tron:TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
        "t.me/Search_Helpdesk": "telegram:search_helpdesk",
        "md5:" + "C" * 32: "md5:" + "c" * 32,
        "bkk-search.example": "bkk-search.example",
    }
    done = server.post("/api/v1/indicators", key="pdrm-contrib", json={"region": "TH", "indicators": [
        {"value": value, "labels": ["text-search"], "tlp": "green"} for value in listed]})
    assert [r["canonical"] for r in done.json()["results"]] == list(listed.values())

    def found(q: str, key: str = "ccib-reader") -> list[str]:
        page = server.get("/api/v1/indicators", key=key, params={"q": q, "label": "text-search"})
        assert page.status_code == 200, page.text
        return [i["value"] for i in page.json()["indicators"]]

    assert found("Bangkok Bank 101-2-34567-8") == ["acct:TH:BKKB:1012345678"]  # as written: its canonical value
    assert found("BBL") == found("ธนาคารกรุงเทพ") == ["acct:TH:BKKB:1012345678"]  # a bank's short or Thai name
    assert found("bangkok bank") == ["acct:TH:BKKB:1012345678"]  # a part of the display, any case
    assert found("34567") == ["acct:TH:BKKB:1012345678"]
    assert found("gcash") == ["acct:PH:GXCH:+639175550101"]
    assert found("+639175550101") == ["acct:PH:GXCH:+639175550101"]
    assert found("TR7NHqjeKQ") == found("tron:") == ["tron:TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"]
    assert found("SEARCH_helpdesk") == ["telegram:search_helpdesk"]
    assert found("https://t.me/search_helpdesk/12") == ["telegram:search_helpdesk"]  # the account a link names
    assert found("md5:" + "C" * 32) == ["md5:" + "c" * 32]
    assert found("bkk") == ["acct:TH:BKKB:1012345678", "bkk-search.example"]  # by value, as pages go
    assert found("100%_") == []  # LIKE's wildcards are searched as text
    assert found("bangkok bank", key="bank-green") == ["acct:TH:BKKB:1012345678"]  # green: visible to green
    short = server.get("/api/v1/indicators", key="ccib-reader", params={"q": "x"})
    assert short.status_code == 400 and short.json()["error"]["details"]["field"] == "q"


def test_audit_records_lookups_and_verifies(server):
    server.get("/api/v1/lookup", key="pdrm-reader", params={"value": "audit-probe.example"})
    server.post("/api/v1/lookup", key="pdrm-reader", json={"values": ["audit-a.example", "audit-b.example"]})

    def probe_events():
        events = server.get("/api/v1/audit", key="admin", params={"action": "lookup", "limit": 50}).json()["events"]
        return [e for e in events if any("audit-" in str(v) for v in (e["subject"] or []))]

    import time

    deadline = time.monotonic() + 10
    while len(probe_events()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    events = probe_events()
    assert len(events) == 2
    batch = next(e for e in events if len(e["subject"]) == 2)
    assert batch["subject"] == ["audit-a.example", "audit-b.example"]
    assert batch["org"] == "pdrm-my" and batch["actor"].startswith("reg_") and batch["client"] == "127.0.0.1"
    # An admin whose key stops below TLP:RED sees only its own org's rows.
    own = server.get("/api/v1/audit", key="pdrm-admin", params={"limit": 1000}).json()["events"]
    assert own and {e["org"] for e in own} == {"pdrm-my"}
    verified = subprocess.run([str(REGISTRY), "audit", "verify", "--json"], env=server.env, capture_output=True, text=True)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert json.loads(verified.stdout)["ok"] is True


def test_lookup_takes_a_kind_and_a_platform_single_and_batch(server):
    submitted = server.post("/api/v1/indicators", key="ccib-contrib", json={"indicators": [
        {"value": "KBank 765-4-32109-8", "confidence": 80}, {"value": "telegram:kbank_helpdesk_th", "confidence": 80}]})
    assert [r["status"] for r in submitted.json()["results"]] == ["new", "new"], submitted.text
    digits = server.get("/api/v1/lookup", key="pdrm-reader",
                        params={"value": "7654321098", "kind": "bank-account", "region": "TH"}).json()
    assert digits["value"] == "acct:TH:-:7654321098"
    assert [(m["match"], m["value"]) for m in digits["matches"]] == [("account-number", "acct:TH:KASI:7654321098")]
    named = server.get("/api/v1/lookup", key="pdrm-reader", params={"value": "@KBank_Helpdesk_TH", "platform": "tg"})
    assert named.json()["value"] == "telegram:kbank_helpdesk_th" and named.json()["listed"]
    batch = server.post("/api/v1/lookup", key="pdrm-reader", json={
        "values": ["765-4-32109-8", "0812345678"], "kind": "bank-account", "region": "TH"}).json()["results"]
    assert batch[0]["listed"] and batch[1]["value"] == "acct:TH:-:0812345678" and not batch[1]["listed"]
    accounts = server.post("/api/v1/lookup", key="pdrm-reader", json={
        "values": ["@kbank_helpdesk_th", "https://t.me/kbank_helpdesk_th"], "platform": "telegram"}).json()["results"]
    assert [a["value"] for a in accounts] == ["telegram:kbank_helpdesk_th"] * 2 and accounts[1]["listed"]
    # without the platform the link is a URL that finds the account it points to
    link = server.get("/api/v1/lookup", key="pdrm-reader", params={"value": "https://t.me/kbank_helpdesk_th/7"}).json()
    assert [(m["match"], m["value"]) for m in link["matches"]] == [("url-account", "telegram:kbank_helpdesk_th")]


@pytest.mark.parametrize(("request_args", "field", "named"), [
    ({"params": {"value": "1234567890", "kind": "bank"}}, "kind", "'bank'"),
    ({"params": {"value": "@name", "platform": "myspace"}}, "platform", "'myspace'"),
    ({"params": {"value": "@name", "kind": "phone", "platform": "line"}}, "platform", "user-account"),
    ({"json": {"values": ["1234567890"], "kind": "iban"}}, "kind", "'iban'"),
    ({"json": {"values": ["1234567890"], "kind": 7}}, "kind", "7"),
    ({"json": {"values": ["@name"], "platform": "Friendster"}}, "platform", "'Friendster'"),
])
def test_lookup_names_an_unknown_kind_or_platform(server, request_args, field, named):
    method = server.post if "json" in request_args else server.get
    answer = method("/api/v1/lookup", key="pdrm-reader", **request_args)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["details"]["field"] == field and named in error["message"]
