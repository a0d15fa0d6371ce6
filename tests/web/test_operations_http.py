"""Operations and relationships over HTTP against a real `registry serve` (SQLite and PostgreSQL):
create, list, show, add and remove members, notes, close and reopen; relationships stated,
restated, listed and removed; every error a documented JSON answer naming its field; the TLP
matrix of operations, members and relationships; lookups that list the visible operations and
count the visible relationships; every read and write audited (docs/api.md, "Operations",
"Relationships")."""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest

from registry.services.access import ON_SERVER
from registry.services.keys import create_key


@pytest.fixture(scope="module")
def more_keys(server):
    """A GREEN-capped contributor of bank-x, and pdrm-my's contributor that sees RED."""
    return {
        "bank-contrib": create_key(server.db, "bank-x", "contributor", "green", by=ON_SERVER)["key"],
        "pdrm-red": create_key(server.db, "pdrm-my", "contributor", "red", by=ON_SERVER)["key"],
    }


def _delete(server, path, key):
    import requests

    return requests.delete(server.url + path, headers={"Authorization": f"Bearer {server.keys.get(key, key)}"},
                           timeout=30)


def _error(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    if field is not None:
        assert error["details"]["field"] == field, error
    return error


def _create(server, key="ccib-contrib", **body):
    response = server.post("/api/v1/operations", key=key, json={"name": "an operation", **body})
    assert response.status_code == 201, response.text
    return response.json()


def _audited(server, action: str, expected: int) -> list[dict]:
    """The audit rows of ``action`` (the server writes them a moment after answering)."""
    deadline = time.monotonic() + 10
    while True:
        rows = server.get("/api/v1/audit", key="admin", params={"action": action, "limit": 100}).json()["events"]
        if len(rows) >= expected or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


def test_a_lookup_with_no_operations_anywhere(server):
    """First in the module: no operation or relationship exists yet."""
    one = server.get("/api/v1/lookup", key="ccib-reader", params={"value": "+855971230000"}).json()
    assert (one["operations"], one["related"]) == ([], 0)
    batch = server.post("/api/v1/lookup", key="ccib-reader", json={"values": ["1.2.3.4", "kbank.example"]}).json()
    assert [(a["operations"], a["related"]) for a in batch["results"]] == [([], 0), ([], 0)]


def test_operation_life_over_http(server, more_keys):
    made = _create(server, name="Compound K7, Sihanoukville", tlp="amber", labels=["call-centre-scam"],
                   description="one compound's numbers and mule accounts")
    uid = made["id"]
    assert (made["name"], made["org"], made["tlp"], made["labels"], made["status"], made["closed"]) == (
        "Compound K7, Sihanoukville", "ccib-th", "amber", ["call-centre-scam"], "open", None)

    url = "https://kbank-verify.example/login?next=/home#top"
    added = server.post(f"/api/v1/operations/{uid}/indicators", key="ccib-contrib", json={
        "values": ["+855971234567", "KBank 123-4-56789-0", "t.me/k7_support", "kbank-verify.example", url,
                   "not a value at all"], "region": "TH"})
    assert added.status_code == 200, added.text
    body = added.json()
    assert sorted(body["added"]) == sorted(["+855971234567", "acct:TH:KASI:1234567890", "telegram:k7_support",
                                            "kbank-verify.example", url])
    assert body["already"] == [] and [r["value"] for r in body["rejected"]] == ["not a value at all"]
    again = server.post(f"/api/v1/operations/{uid}/indicators", key="ccib-contrib",
                        json={"values": ["+855 97 123 4567"]}).json()
    assert (again["added"], again["already"]) == ([], ["+855971234567"])

    note = server.post(f"/api/v1/operations/{uid}/notes", key="ccib-contrib", json={"text": "three complaints"})
    assert note.status_code == 201 and note.json()["text"] == "three complaints"

    # One value URL-encoded in the path, slashes, query and fragment and all.
    assert _delete(server, f"/api/v1/operations/{uid}/indicators/{quote(url, safe='')}", "ccib-contrib").status_code == 204
    _error(_delete(server, f"/api/v1/operations/{uid}/indicators/{quote(url, safe='')}", "ccib-contrib"), 404, "value")
    assert _delete(server, f"/api/v1/operations/{uid}/indicators/t.me%2Fk7_support", "ccib-contrib").status_code == 204

    shown = server.get(f"/api/v1/operations/{uid}", key="pdrm-reader").json()
    assert shown["member_count"] == 3
    assert sorted(m["value"] for m in shown["members"]) == ["+855971234567", "acct:TH:KASI:1234567890",
                                                             "kbank-verify.example"]
    assert all(m["added_by"] == "ccib-th" and m["actor"] is None for m in shown["members"])  # another org's key
    assert shown["notes"] == [{"org": "ccib-th", "actor": None, "text": "three complaints",
                               "created": note.json()["created"]}]
    assert {a["type"] for a in shown["activity"]} == {"added", "note"}
    own = server.get(f"/api/v1/operations/{uid}", key="ccib-reader").json()
    assert own["notes"][0]["actor"] == note.json()["actor"] and own["notes"][0]["actor"].startswith("reg_")

    listed = server.get("/api/v1/operations", key="pdrm-reader", params={"value": "+855 97 123 4567"}).json()
    assert [o["id"] for o in listed["operations"]] == [uid]
    assert [o["id"] for o in server.get("/api/v1/operations", key="pdrm-reader", params={
        "q": "sihanoukville", "label": "call-centre-scam", "org": "ccib-th", "status": "open"}).json()["operations"]] == [uid]
    assert server.get("/api/v1/operations", key="pdrm-reader", params={"org": "pdrm-my", "value": "+855971234567"}
                      ).json()["operations"] == []

    closed = server.post(f"/api/v1/operations/{uid}/close", key="ccib-contrib")
    assert closed.status_code == 200 and closed.json()["status"] == "closed" and closed.json()["closed"]
    assert uid in [o["id"] for o in server.get("/api/v1/operations", key="ccib-reader",
                                               params={"status": "closed"}).json()["operations"]]
    reopened = server.post(f"/api/v1/operations/{uid}/reopen", key="ccib-contrib").json()
    assert (reopened["status"], reopened["closed"]) == ("open", None)

    # Who may not: a reader (role), another org that sees it (403), a key that cannot see it (404).
    _error(server.post(f"/api/v1/operations/{uid}/close", key="ccib-reader"), 403)
    _error(server.post(f"/api/v1/operations/{uid}/close", key="pdrm-contrib"), 403, "id")
    _error(server.post(f"/api/v1/operations/{uid}/indicators", key="pdrm-contrib", json={"values": ["1.2.3.4"]}),
           403, "id")
    _error(server.post(f"/api/v1/operations/{uid}/notes", key="pdrm-contrib", json={"text": "mine"}), 403, "id")
    _error(_delete(server, f"/api/v1/operations/{uid}/indicators/%2B855971234567", "pdrm-contrib"), 403, "id")
    for hidden in (server.get(f"/api/v1/operations/{uid}", key=more_keys["bank-contrib"]),
                   server.post(f"/api/v1/operations/{uid}/close", key=more_keys["bank-contrib"]),
                   server.post(f"/api/v1/operations/{uid}/notes", key=more_keys["bank-contrib"], json={"text": "x"}),
                   server.post(f"/api/v1/operations/{uid}/indicators", key=more_keys["bank-contrib"],
                               json={"values": ["1.2.3.4"]}),
                   server.get("/api/v1/operations/00000000-0000-0000-0000-000000000000", key="ccib-reader")):
        assert _error(hidden, 404, "id")["message"].startswith("no operation")

    for action, count in (("operation-create", 1), ("operation-add", 2), ("operation-remove", 2),
                          ("operation-note", 1), ("operation-status", 2), ("operations-read", 4)):
        rows = [r for r in _audited(server, action, count) if action == "operations-read" or r["subject"]["id"] == uid]
        assert len(rows) >= count, (action, rows)
    create_row = next(r for r in _audited(server, "operation-create", 1) if r["subject"]["id"] == uid)
    assert (create_row["org"], create_row["subject"]["tlp"]) == ("ccib-th", "amber")


def test_operation_errors_name_their_fields(server, more_keys):
    post = server.post
    _error(post("/api/v1/operations", key="ccib-contrib", json={"tlp": "amber"}), 400, "name")
    _error(post("/api/v1/operations", key="ccib-contrib", json={"name": "   "}), 400, "name")
    _error(post("/api/v1/operations", key="ccib-contrib", json={"name": "x", "tlp": "purple"}), 400, "tlp")
    _error(post("/api/v1/operations", key="ccib-contrib", json={"name": "x", "labels": "scam"}), 400, "labels")
    _error(post("/api/v1/operations", key="ccib-contrib", json={"name": "x", "labels": ["ok", 5]}), 400, "labels[1]")
    _error(post("/api/v1/operations", key="ccib-contrib", json={"name": "x", "labels": ["no such label!"]}), 400,
           "labels")
    _error(post("/api/v1/operations", key="ccib-contrib", json={"name": "x", "description": "d" * 4001}), 400,
           "description")
    _error(post("/api/v1/operations", key="ccib-contrib", json={"name": "n" * 201}), 400, "name")
    _error(post("/api/v1/operations", key=more_keys["bank-contrib"], json={"name": "x", "tlp": "amber"}), 400, "tlp")
    _error(post("/api/v1/operations", key="pdrm-reader", json={"name": "x"}), 403)
    _error(post("/api/v1/operations", json={"name": "x"}), 401)
    _error(post("/api/v1/operations", key="ccib-contrib", data="name=x",
                headers={"Content-Type": "application/x-www-form-urlencoded"}), 415)
    by_operator = post("/api/v1/operations", key="admin", json={"name": "the operators'", "org": "pdrm-my"})
    assert by_operator.status_code == 201 and by_operator.json()["org"] == "registry-ops"  # a key acts for its org

    get = server.get
    _error(get("/api/v1/operations", key="ccib-reader", params={"status": "done"}), 400, "status")
    _error(get("/api/v1/operations", key="ccib-reader", params={"limit": "0"}), 400, "limit")
    _error(get("/api/v1/operations", key="ccib-reader", params={"limit": "ten"}), 400, "limit")
    _error(get("/api/v1/operations", key="ccib-reader", params={"q": "q" * 201}), 400, "q")
    _error(get("/api/v1/operations", key="ccib-reader", params={"region": "THA"}), 400, "region")
    _error(get("/api/v1/operations", key="ccib-reader", params={"value": "zzz"}), 422, "value")
    _error(get("/api/v1/operations/" + "x" * 37, key="ccib-reader"), 400, "id")

    uid = _create(server, name="errors")["id"]
    path = f"/api/v1/operations/{uid}/indicators"
    _error(post(path, key="ccib-contrib", json={}), 400, "values")
    _error(post(path, key="ccib-contrib", json={"values": []}), 400, "values")
    _error(post(path, key="ccib-contrib", json={"values": ["1.2.3.4", 5]}), 400, "values[1]")
    _error(post(path, key="ccib-contrib", json={"values": ["1.2.3.4", ""]}), 400, "values[1]")
    _error(post(path, key="ccib-contrib", json={"values": ["h" * 2049]}), 400, "values[0]")
    _error(post(path, key="ccib-contrib", json={"values": [f"10.0.{i // 250}.{i % 250}" for i in range(1001)]}),
           400, "values")
    _error(post(path, key="ccib-contrib", json={"values": ["1.2.3.4"], "kind": "galaxy"}), 400, "kind")
    _error(post(path, key="ccib-contrib", json={"values": ["1.2.3.4"], "region": "Thailand"}), 400, "region")
    _error(_delete(server, f"{path}/zzz", "ccib-contrib"), 422, "value")
    _error(_delete(server, f"{path}/1.2.3.4", "ccib-contrib"), 404, "value")
    _error(post(f"/api/v1/operations/{uid}/notes", key="ccib-contrib", json={"text": ""}), 400, "text")
    _error(post(f"/api/v1/operations/{uid}/notes", key="ccib-contrib", json={"text": "t" * 4001}), 400, "text")
    _error(post(f"/api/v1/operations/{uid}/notes", key="ccib-contrib", json={"text": "a\x00b"}), 400, "text")


def test_relationships_over_http(server, more_keys):
    body = {"source": "+855971234500", "target": "KBank 123-4-56789-9", "type": "pays-to", "tlp": "amber",
            "confidence": 70, "region": "TH", "description": "victims paid into it"}
    first = server.post("/api/v1/relationships", key="ccib-contrib", json=body)
    assert first.status_code == 201, first.text
    made = first.json()
    assert (made["status"], made["source"], made["target"], made["type"], made["org"], made["confidence"]) == (
        "new", "+855971234500", "acct:TH:KASI:1234567899", "pays-to", "ccib-th", 70)
    again = server.post("/api/v1/relationships", key="ccib-contrib", json={**body, "confidence": 90})
    assert again.status_code == 200 and again.json() == {**made, "status": "updated", "confidence": 90}

    listed = server.get("/api/v1/relationships", key="pdrm-reader", params={"value": "KBank 123-4-56789-9",
                                                                            "region": "TH"}).json()
    assert [(r["id"], r["confidence"], r["description"]) for r in listed["relationships"]] == [
        (made["id"], 90, "victims paid into it")]
    assert server.get("/api/v1/relationships", key="pdrm-reader", params={"value": "never.example"}
                      ).json() == {"relationships": []}

    post = server.post
    _error(post("/api/v1/relationships", key="ccib-contrib", json={**body, "type": "owns"}), 400, "type")
    _error(post("/api/v1/relationships", key="ccib-contrib", json={**body, "type": 5}), 400, "type")
    _error(post("/api/v1/relationships", key="ccib-contrib", json={**body, "confidence": 101}), 400, "confidence")
    _error(post("/api/v1/relationships", key="ccib-contrib", json={**body, "tlp": "purple"}), 400, "tlp")
    _error(post("/api/v1/relationships", key="ccib-contrib", json={**body, "source": "zzz"}), 422, "source")
    _error(post("/api/v1/relationships", key="ccib-contrib", json={**body, "target": None}), 400, "target")
    _error(post("/api/v1/relationships", key="ccib-contrib", json={**body, "target": body["source"]}), 400, "target")
    _error(post("/api/v1/relationships", key="ccib-contrib", json={**body, "description": ["x"]}), 400, "description")
    _error(post("/api/v1/relationships", key=more_keys["bank-contrib"], json=body), 400, "tlp")
    _error(post("/api/v1/relationships", key="pdrm-reader", json=body), 403)
    _error(server.get("/api/v1/relationships", key="pdrm-reader"), 400, "value")
    _error(server.get("/api/v1/relationships", key="pdrm-reader", params={"value": "zzz"}), 422, "value")
    _error(server.get("/api/v1/relationships", key="pdrm-reader", params={"value": "a.example", "limit": "1001"}),
           400, "limit")

    _error(_delete(server, f"/api/v1/relationships/{made['id']}", "pdrm-contrib"), 403, "id")  # sees it, not its
    _error(_delete(server, f"/api/v1/relationships/{made['id']}", more_keys["bank-contrib"]), 404, "id")
    _error(_delete(server, f"/api/v1/relationships/{made['id']}", "ccib-reader"), 403)
    _error(_delete(server, "/api/v1/relationships/" + "x" * 37, "ccib-contrib"), 400, "id")
    assert _delete(server, f"/api/v1/relationships/{made['id']}", "ccib-contrib").status_code == 204
    _error(_delete(server, f"/api/v1/relationships/{made['id']}", "ccib-contrib"), 404, "id")
    assert server.get("/api/v1/relationships", key="ccib-reader", params={"value": "+855971234500"}
                      ).json()["relationships"] == []

    for action, count in (("relationship-link", 2), ("relationships-read", 2), ("relationship-unlink", 1)):
        assert len(_audited(server, action, count)) >= count, action
    link_row = _audited(server, "relationship-link", 2)[0]
    assert link_row["subject"]["id"] == made["id"] and link_row["org"] == "ccib-th"


def test_tlp_matrix_of_operations_members_and_relationships(server, more_keys):
    """GREEN, AMBER and RED operations and relationships of ccib-th, and pdrm-my's RED ones: each
    key sees exactly what the one TLP rule lets it, in listings, reads, lookups and counts; a
    member's assertion the key may not see shows nowhere in the operation."""
    value = "matrix-k7.example"
    ops = {level: _create(server, name=f"matrix {level}", tlp=level)["id"] for level in ("green", "amber", "red")}
    pdrm_red = _create(server, more_keys["pdrm-red"], name="matrix pdrm red", tlp="red")["id"]
    for uid, key in [*((uid, "ccib-contrib") for uid in ops.values()), (pdrm_red, more_keys["pdrm-red"])]:
        assert server.post(f"/api/v1/operations/{uid}/indicators", key=key, json={"values": [value]}).status_code == 200
    links = {}
    for i, level in enumerate(("green", "amber", "red")):
        links[level] = server.post("/api/v1/relationships", key="ccib-contrib", json={
            "source": value, "target": f"matrix-{i}.example", "type": "redirects-to", "tlp": level}).json()["id"]
    links["pdrm-red"] = server.post("/api/v1/relationships", key=more_keys["pdrm-red"], json={
        "source": value, "target": "matrix-p.example", "type": "hosts", "tlp": "red"}).json()["id"]
    # pdrm-my reports the member at RED: its own RED, hidden from every other org.
    assert server.post("/api/v1/indicators", key=more_keys["pdrm-red"], json={"indicators": [
        {"value": value, "tlp": "red", "confidence": 90}]}).status_code == 200

    sees = {  # key → (operations, relationships) it sees
        "bank-green": ({ops["green"]}, {links["green"]}),
        "pdrm-reader": ({ops["green"], ops["amber"]}, {links["green"], links["amber"]}),  # amber+strict cap
        "ccib-reader": ({ops["green"], ops["amber"], ops["red"]}, {links["green"], links["amber"], links["red"]}),
        more_keys["pdrm-red"]: ({ops["green"], ops["amber"], pdrm_red},
                                {links["green"], links["amber"], links["pdrm-red"]}),
    }
    everything = set(ops.values()) | {pdrm_red}
    for key, (operations, relationships) in sees.items():
        listed = {o["id"] for o in server.get("/api/v1/operations", key=key, params={"value": value}
                                              ).json()["operations"]}
        assert listed == operations, key
        for uid in everything:
            status = server.get(f"/api/v1/operations/{uid}", key=key).status_code
            assert status == (200 if uid in operations else 404), (key, uid)
        linked = {r["id"] for r in server.get("/api/v1/relationships", key=key, params={"value": value}
                                              ).json()["relationships"]}
        assert linked == relationships, key
        one = server.get("/api/v1/lookup", key=key, params={"value": value}).json()
        assert {o["id"] for o in one["operations"]} == operations and one["related"] == len(relationships), key
        batch = server.post("/api/v1/lookup", key=key, json={"values": ["9.9.9.9", value, f"https://{value}/pay"]}
                            ).json()["results"]
        # The URL matches its host only where the key sees a report of it (pdrm-my's RED one).
        by_host = (operations, len(relationships)) if key == more_keys["pdrm-red"] else (set(), 0)
        assert [({o["id"] for o in a["operations"]}, a["related"]) for a in batch] == [
            (set(), 0), (operations, len(relationships)), by_host], key
        show = server.get(f"/api/v1/operations/{ops['green']}", key=key)
        member = show.json()["members"][0]
        assert {o["id"] for o in member["also_in"]} == operations - {ops["green"]}, key
        shown_links = {r["id"] for r in show.json()["relationships"]}
        assert shown_links == relationships, key
        if key == more_keys["pdrm-red"]:
            assert (member["listed"], member["reported_by"]) == (True, ["pdrm-my"])
        else:  # pdrm's RED report is not revealed through the operation
            assert (member["listed"], member["score"], member["reported_by"]) == (False, 0, []), key
            assert "pdrm-my" not in show.text and "matrix-p.example" not in show.text, key
            assert all(a["type"] != "reported" for a in show.json()["activity"]), key
