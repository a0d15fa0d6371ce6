"""Every bad input to the API is a 400 in the error shape that names the field and what it takes
(a real `registry serve` on SQLite and PostgreSQL): wrong types, null, lists for scalars, numbers
out of range, strings for numbers, JSON nested too deep, a parameter given twice, a URL too long;
never a Python message, never a 500."""

from __future__ import annotations

import json

import pytest
import requests

LEVELS = "clear, green, amber, amber+strict, red"
PYTHON_ISMS = ("object has no attribute", "Traceback", "'int'", "'list'", "'dict'", "NoneType")
TAXII = "application/taxii+json;version=2.1"
DEEP = "[" * 1000 + '"x"' + "]" * 1000

# (path, JSON body, field named, words the message must hold)
BODIES = [
    ("/api/v1/sightings", {"value": "1.2.3.4", "tlp": 5}, "tlp", LEVELS),
    ("/api/v1/sightings", {"value": "1.2.3.4", "tlp": True}, "tlp", LEVELS),
    ("/api/v1/sightings", {"value": "1.2.3.4", "tlp": ["amber"]}, "tlp", LEVELS),
    ("/api/v1/sightings", {"value": "1.2.3.4", "tlp": {"level": "amber"}}, "tlp", LEVELS),
    ("/api/v1/sightings", {"value": "1.2.3.4", "tlp": ""}, "tlp", LEVELS),
    ("/api/v1/sightings", {"value": "1.2.3.4", "description": 5}, "description", "text of at most 4000"),
    ("/api/v1/sightings", {"value": "1.2.3.4", "description": ["a"]}, "description", "text of at most 4000"),
    ("/api/v1/sightings", {"value": "1.2.3.4", "count": "3"}, "count", "whole number from 1 to 1000000"),
    ("/api/v1/sightings", {"value": "1.2.3.4", "count": [1]}, "count", "whole number from 1 to 1000000"),
    ("/api/v1/sightings", {"value": "1.2.3.4", "seen": ["2026-01-01"]}, "seen", "ISO 8601"),
    ("/api/v1/sightings", {"value": None}, "value", "non-empty text"),
    ("/api/v1/indicators", {"indicators": [{"value": "a.example", "tlp": ["amber"]}]}, "indicators[0].tlp", LEVELS),
    ("/api/v1/indicators", {"indicators": [{"value": "a.example", "tlp": True}]}, "indicators[0].tlp", LEVELS),
    ("/api/v1/indicators", {"indicators": [{"value": "a.example", "confidence": "50"}]}, "indicators[0].confidence",
     "whole number from 0 to 100"),
    ("/api/v1/indicators", {"indicators": [{"value": "a.example", "confidence": 1e300}]}, "indicators[0].confidence",
     "whole number from 0 to 100"),
    ("/api/v1/indicators", {"indicators": [{"value": "a.example", "labels": ["ok", 5]}]}, "indicators[0].labels[1]",
     "must be a string"),
    ("/api/v1/indicators", {"indicators": [{"value": "a.example", "kind": ["url"]}]}, "indicators[0].kind",
     "ipv4, ipv6, domain, url, phone, email"),
    ("/api/v1/indicators", {"indicators": [{"value": "a.example", "valid_until": 20260101}]},
     "indicators[0].valid_until", "ISO 8601"),
    ("/api/v1/indicators", {"indicators": ["a.example"]}, "indicators[0]", "must be an object"),
    ("/api/v1/lookup", {"values": ["1.2.3.4", 5]}, "values[1]", "must be a string"),
    ("/api/v1/lookup", {"values": [["1.2.3.4"]]}, "values[0]", "must be a string"),
    ("/api/v1/lookup", {"values": [None]}, "values[0]", "must be a string"),
    ("/api/v1/lookup", {"values": "1.2.3.4"}, "values", "list of strings"),
]


def _refused(response: requests.Response, status: int = 400) -> dict:
    assert response.status_code == status, response.text[:500]
    assert response.headers["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert not any(p in error["message"] for p in PYTHON_ISMS), error["message"]
    return error


def test_each_field_of_the_wrong_type_or_range_names_itself_and_what_it_takes(server):
    for path, body, field, words in BODIES:
        error = _refused(server.post(path, key="ccib-contrib", json=body))
        assert error["details"]["field"] == field, (path, body, error)
        assert field in error["message"] and words in error["message"], (path, body, error)


def test_a_sighting_tlp_lists_the_levels_allowed(server):
    error = _refused(server.post("/api/v1/sightings", key="ccib-contrib", json={"value": "1.2.3.4", "tlp": 5}))
    assert error["message"] == f"tlp must be one of {LEVELS}, not 5"
    assert error["details"] == {"field": "tlp", "allowed": LEVELS.split(", ")}


@pytest.mark.parametrize("path", ["/api/v1/lookup", "/api/v1/indicators", "/api/v1/sightings"])
def test_json_nested_too_deep_is_refused_where_it_goes_too_deep(server, path):
    body = {"/api/v1/lookup": '{"values": [%s]}', "/api/v1/indicators": '{"indicators": [{"value": %s}]}',
            "/api/v1/sightings": '{"value": %s}'}[path] % DEEP
    error = _refused(server.post(path, key="ccib-contrib", data=body, headers={"Content-Type": "application/json"}))
    assert "nests JSON deeper than 100 levels" in error["message"]
    start = body.index(DEEP)
    outer = body[:start].count("[") + body[:start].count("{")
    assert error["details"] == {"line": 1, "column": start + 101 - outer}  # the bracket opening level 101
    # 100 levels are read, and a list where a string belongs is that field's error (a 500 past 254).
    shallow = '{"values": [%s]}' % ("[" * 98 + '"x"' + "]" * 98)
    error = _refused(server.post("/api/v1/lookup", key="ccib-contrib", data=shallow,
                                 headers={"Content-Type": "application/json"}))
    assert error["details"]["field"] == "values[0]"


def test_stix_bodies_nested_too_deep_or_with_far_times_are_answered(server):
    bundle = '{"type": "bundle", "id": "bundle--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "objects": [%s]}'
    deep = _refused(server.post("/api/v1/indicators", key="ccib-contrib", data=bundle % DEEP,
                                headers={"Content-Type": "application/stix+json"}))
    assert "nested deeper than 100 levels" in deep["message"] and deep["details"]["field"] == "bundle"
    envelope = requests.post(server.url + "/taxii2/api/collections/submissions/objects/", data=f'{{"objects": [{DEEP}]}}',
                             headers={"Authorization": f"Bearer {server.keys['ccib-contrib']}", "Content-Type": TAXII,
                                      "Accept": TAXII}, timeout=30)
    assert envelope.status_code == 400 and "nested deeper than 100 levels" in envelope.json()["description"]
    not_objects = _refused(server.post("/api/v1/indicators", key="ccib-contrib", data=bundle % "5",
                                       headers={"Content-Type": "application/stix+json"}))
    assert not_objects["details"]["field"] == "objects[0]"
    # A time an offset pushes past year 9999 costs the object that time (it was a 500).
    indicator = {"type": "indicator", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3b",
                 "created": "2026-01-01T00:00:00Z", "modified": "2026-01-01T00:00:00Z", "pattern_type": "stix",
                 "pattern": "[domain-name:value = 'far-stix.example']", "valid_from": "2026-01-01T00:00:00Z",
                 "valid_until": "9999-12-31T23:59:59-14:00"}
    posted = server.post("/api/v1/indicators", key="ccib-contrib", data=bundle % json.dumps(indicator),
                         headers={"Content-Type": "application/stix+json"})
    assert posted.status_code == 200 and posted.json()["results"][0]["status"] == "new", posted.text


@pytest.mark.parametrize(("path", "params", "key"), [
    ("/api/v1/lookup", [("value", "1.2.3.4"), ("value", "5.6.7.8")], "ccib-reader"),
    ("/api/v1/indicators", [("kind", "ipv4"), ("kind", "url")], "ccib-reader"),
    ("/api/v1/export/text", [("kind", "ipv4"), ("kind", "domain")], "ccib-reader"),
    ("/api/v1/feeds/some-feed/runs", [("limit", "5"), ("limit", "6")], "ccib-reader"),
    ("/api/v1/audit", [("limit", "5"), ("limit", "6")], "admin"),
])
def test_a_parameter_given_twice_is_refused(server, path, params, key):
    error = _refused(server.get(path, key=key, params=params))
    field = params[0][0]
    assert error["details"]["field"] == field and error["message"] == f"{field} is given 2 times: give it once"


def test_a_url_too_long_is_a_json_error(server):
    response = server.get("/api/v1/lookup", key="ccib-reader", params={"value": "x" * 9000})
    error = _refused(response, 414)
    assert "POST /api/v1/lookup" in error["message"]


def test_a_taxii_next_past_any_change_is_a_400(server):
    response = requests.get(server.url + "/taxii2/api/collections/indicators/objects/", params={"next": "9" * 40},
                            headers={"Authorization": f"Bearer {server.keys['ccib-reader']}", "Accept": TAXII},
                            timeout=30)
    assert response.status_code == 400, response.text
    assert response.json()["details"]["field"] == "next"
