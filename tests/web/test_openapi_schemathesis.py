"""schemathesis against the OpenAPI document the live server serves (`registry serve`, 2 workers,
on SQLite and on PostgreSQL): for every operation, a bounded, derandomised set of generated
requests, valid ones and invalid ones; no answer may be a 5xx and every answer must match the
spec (documented status code, content type, body schema)."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode, checks

from registry.services import audit_checkpoints
from registry.web.openapi import spec

MAX_EXAMPLES = 25
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]
SPEC_PATH = "/api/v1/openapi.json"  # schemathesis leaves out the operation serving the document
# Every operation in the document, known without a server; the test fails if the served
# document lists one this list lacks (or the reverse).
OPERATIONS = [(method.upper(), path) for path, item in spec()["paths"].items() for method in item
              if path != SPEC_PATH]
# A stream does not end, so generated requests cannot wait for its answer: tests/web/test_event_stream.py
# reads it with a real SSE client instead.
STREAMS = [(method, path) for method, path in OPERATIONS
           if "text/event-stream" in spec()["paths"][path][method.lower()]["responses"].get("200", {}).get("content", {})]


@pytest.fixture(scope="module")
def api_schema(server):
    return schemathesis.openapi.from_url(server.url + SPEC_PATH)


def test_the_served_document_is_the_one_under_test(server, api_schema):
    served = requests.get(server.url + SPEC_PATH, timeout=10)
    assert served.status_code == 200 and served.headers["Content-Type"] == "application/json"
    assert served.json() == spec() and "get" in spec()["paths"][SPEC_PATH]
    labels = sorted(op.ok().label for op in api_schema.get_all_operations())
    assert labels == sorted(f"{method} {path}" for method, path in OPERATIONS)


def _has_input(method: str, path: str) -> bool:
    operation = spec()["paths"][path][method.lower()]
    return bool(operation.get("parameters") or operation.get("requestBody"))


# Invalid input only exists where there is input (health and version take none).
CASES = [(method, path, mode) for method, path in OPERATIONS if (method, path) not in STREAMS for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
         if mode is GenerationMode.POSITIVE or _has_input(method, path)]


@pytest.mark.parametrize(("method", "path", "mode"), CASES, ids=[f"{m} {p} {g.value}" for m, p, g in CASES])
def test_operation_conforms(server, api_schema, method, path, mode):
    operation = api_schema[path][method]
    # The admin-only listing and the feed-admin run are fuzzed with the admin key (with any
    # lesser key they are all 403s).
    key = server.keys["admin" if path in ("/api/v1/audit", "/api/v1/feeds/{name}/run") else "ccib-contrib"]
    if path == "/-/audit/checkpoint":  # 404 until one is taken
        audit_checkpoints.take(server.db, Path(server.env["REGISTRY_INSTANCE_PATH"]))
    headers = {"Authorization": f"Bearer {key}"}
    session = requests.Session()
    statuses: list[int] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case):
        # Our key replaces whatever Authorization schemathesis made up for the bearer scheme.
        response = case.call_and_validate(session=session, headers=headers, checks=CHECKS, timeout=30)
        statuses.append(response.status_code)
        if _unreachable_webhook(path, response):  # as far as generated data can get offline
            statuses[-1] = 422

    try:
        run()
    finally:
        session.close()
    assert statuses, "no request was made"
    if mode is GenerationMode.POSITIVE:
        assert 401 not in statuses and 403 not in statuses, statuses  # the key was sent and sufficed
        # Valid input got past validation at least once (a sighting of a random string is 422;
        # a MISP event of a random uuid or a random feed name is 404, as an unknown id is; a
        # webhook's well-formed https URL is refused when its made-up host does not resolve to a
        # global address, counted as 422 above).
        assert any(s < 400 or s == 422 or (s == 404 and "{" in path) for s in statuses), statuses
    else:
        assert any(s == 400 for s in statuses), statuses  # the views did see invalid input


def _unreachable_webhook(path: str, response) -> bool:
    """A webhook registration refused only because its (generated) host resolves nowhere or not
    to a global address: the body passed every check of its form."""
    if path != "/api/v1/webhooks" or response.status_code != 400:
        return False
    error = response.json()["error"]
    return error["details"].get("field") == "url" and ("does not resolve" in error["message"]
                                                        or "address" in error["message"])


# Inputs 25 generated examples rarely reach, each of which answered 500 (most on PostgreSQL:
# NUL in text, integers past its columns, text past a column's length; on both engines: times
# that leave years 1-9999 once in UTC, "²" as a change number). Each must be a documented answer.
FAR = "0001-01-01T00:00:00+14:00"
EDGES = [
    # (method, path, key, request kwargs, status, field named in the error)
    ("GET", "/api/v1/indicators", "ccib-contrib", {"params": {"label": "a\x00b"}}, 400, "label"),
    ("GET", "/api/v1/indicators", "ccib-contrib", {"params": {"source": "ccib-th\x00"}}, 400, "source"),
    ("GET", "/api/v1/lookup", "ccib-contrib", {"params": {"value": "1.2.3.4", "region": "T\x00"}}, 400, "region"),
    ("GET", "/api/v1/graph", "ccib-contrib", {"params": {"value": "1.2.3.4\x00"}}, 400, "value"),
    ("GET", "/api/v1/graph", "ccib-contrib", {"params": {"value": "1.2.3.4", "depth": "9" * 30}}, 400, "depth"),
    ("GET", "/api/v1/graph", "ccib-contrib", {"params": {"value": "http://long.edge.example/" + "p" * 3000}}, 400,
     "value"),
    ("GET", "/api/v1/audit", "admin", {"params": {"org": "a\x00"}}, 400, "org"),
    ("GET", "/api/v1/audit", "admin", {"params": {"action": "lookup\x00"}}, 400, "action"),
    ("GET", "/api/v1/audit", "admin", {"params": {"actor": "\x00"}}, 400, "actor"),
    ("POST", "/api/v1/indicators", "ccib-contrib",
     {"json": {"indicators": [{"value": "nul.edge.example", "description": "a\x00b"}]}}, 400, "indicators[0].description"),
    ("POST", "/api/v1/sightings", "ccib-contrib", {"json": {"value": "nul.edge.example", "case_ref": "C\x00"}}, 400, "case_ref"),
    ("POST", "/api/v1/sightings", "ccib-contrib", {"json": {"value": "nul.edge.example", "description": "\x00"}}, 400,
     "description"),
    # Cursors are the next of an earlier page, positions sealed by the server: never bare numbers.
    ("GET", "/api/v1/indicators", "ccib-contrib", {"params": {"cursor": str(2**62)}}, 400, "cursor"),
    ("GET", "/api/v1/indicators", "ccib-contrib", {"params": {"cursor": "%%%"}}, 400, "cursor"),
    ("GET", "/api/v1/indicators", "ccib-contrib", {"params": {"since": "9" * 30}}, 400, "since"),
    ("GET", "/api/v1/export/text", "ccib-contrib", {"params": {"since": "12"}}, 400, "since"),
    ("GET", "/api/v1/indicators", "ccib-contrib", {"params": {"since": "\u00b2"}}, 400, "since"),
    ("GET", "/api/v1/indicators", "ccib-contrib", {"params": {"since": FAR}}, 400, "since"),
    ("GET", "/api/v1/audit", "admin", {"params": {"since": FAR}}, 400, "since"),
    ("GET", "/api/v1/audit", "admin", {"params": {"until": "9999-12-31T23:59:59-14:00"}}, 400, "until"),
    ("POST", "/api/v1/indicators", "ccib-contrib",
     {"json": {"indicators": [{"value": "far.edge.example", "valid_until": FAR}]}}, 400, "indicators[0].valid_until"),
    ("POST", "/api/v1/sightings", "ccib-contrib", {"json": {"value": "far.edge.example", "seen": FAR}}, 400, "seen"),
    ("POST", "/api/v1/indicators", "ccib-contrib",
     {"json": {"indicators": [{"value": "http://long.edge.example/" + "p" * 3000}]}}, 400, "indicators[0].value"),
    ("POST", "/api/v1/sightings", "ccib-contrib", {"json": {"value": "http://long.edge.example/" + "p" * 3000}}, 400,
     "value"),
    ("POST", "/api/v1/sightings", "ccib-contrib", {"json": {"value": "long.edge.example", "description": "d" * 5000}},
     400, "description"),
    ("POST", "/api/v1/indicators", "ccib-contrib",
     {"json": {"indicators": [{"value": "labels.edge.example", "labels": [f"label-{i:04d}" for i in range(120)]}]}},
     400, "indicators[0].labels"),
    # JSON Schema's integer includes 16.0, so the views take it.
    ("POST", "/api/v1/indicators", "ccib-contrib",
     {"json": {"indicators": [{"value": "float.edge.example", "confidence": 16.0}]}}, 200, None),
    ("POST", "/api/v1/sightings", "ccib-contrib", {"json": {"value": "float.edge.example", "count": 2.0}}, 201, None),
    # A type the field does not take is a 400 naming it, never a Python message or a 500 (a list
    # nested 254 deep among the values was echoed into an answer orjson could not write).
    ("POST", "/api/v1/sightings", "ccib-contrib", {"json": {"value": "type.edge.example", "tlp": 5}}, 400, "tlp"),
    ("POST", "/api/v1/sightings", "ccib-contrib", {"json": {"value": "type.edge.example", "description": ["d"]}}, 400,
     "description"),
    ("POST", "/api/v1/lookup", "ccib-contrib", {"json": {"values": ["type.edge.example", 5]}}, 400, "values[1]"),
    ("POST", "/api/v1/lookup", "ccib-contrib", {"json": {"values": [[[["nested.edge.example"]]]]}}, 400, "values[0]"),
    ("POST", "/api/v1/indicators", "ccib-contrib",
     {"json": {"indicators": [{"value": "type.edge.example", "labels": ["ok", None]}]}}, 400, "indicators[0].labels[1]"),
    ("GET", "/api/v1/lookup", "ccib-contrib", {"params": [("value", "1.2.3.4"), ("value", "5.6.7.8")]}, 400, "value"),
    ("GET", "/api/v1/lookup", "ccib-contrib", {"params": {"value": "x" * 9000}}, 414, None),
    ("GET", "/api/v1/export/csv", "ccib-contrib", {"params": {"raw": "sometimes"}}, 400, "raw"),
    # Operations and relationships: NUL, numbers past a column, labels past theirs.
    ("POST", "/api/v1/operations", "ccib-contrib", {"json": {"name": "a\x00b"}}, 400, "name"),
    ("POST", "/api/v1/operations", "ccib-contrib",
     {"json": {"name": "labels", "labels": [f"label-{i:04d}" for i in range(120)]}}, 400, "labels"),
    ("GET", "/api/v1/operations", "ccib-contrib", {"params": {"q": "k7\x00"}}, 400, "q"),
    ("GET", "/api/v1/operations", "ccib-contrib", {"params": {"limit": "9" * 30}}, 400, "limit"),
    ("POST", "/api/v1/relationships", "ccib-contrib",
     {"json": {"source": "a.edge.example", "target": "b.edge.example", "type": "hosts", "confidence": 2**63}}, 400,
     "confidence"),
    ("POST", "/api/v1/relationships", "ccib-contrib",
     {"json": {"source": "a.edge.example", "target": "b.edge.example", "type": "hosts", "description": "\x00"}}, 400,
     "description"),
]


@pytest.mark.parametrize(("method", "path", "key", "kwargs", "status", "field"), EDGES,
                         ids=[f"{m} {p} {sorted(k.get('params') or k['json'])}-{i}" for i, (m, p, _, k, *_) in enumerate(EDGES)])
def test_edge_inputs_get_documented_answers(server, api_schema, method, path, key, kwargs, status, field):
    response = requests.request(method, server.url + path, headers={"Authorization": f"Bearer {server.keys[key]}"},
                                timeout=30, **kwargs)
    assert response.status_code == status, response.text[:500]
    operation = api_schema[path][method]
    assert str(status) in operation.definition.raw["responses"]
    operation.validate_response(response)
    if field:
        assert response.json()["error"]["details"]["field"] == field
