"""schemathesis against the OpenAPI document the live server serves (`registry serve`, 2 workers,
on SQLite and on PostgreSQL): for every operation, a bounded, derandomised set of generated
requests, valid ones and invalid ones; no answer may be a 5xx and every answer must match the
spec (documented status code, content type, body schema)."""

from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode, checks

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
CASES = [(method, path, mode) for method, path in OPERATIONS for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
         if mode is GenerationMode.POSITIVE or _has_input(method, path)]


@pytest.mark.parametrize(("method", "path", "mode"), CASES, ids=[f"{m} {p} {g.value}" for m, p, g in CASES])
def test_operation_conforms(server, api_schema, method, path, mode):
    operation = api_schema[path][method]
    # The admin-only listing is fuzzed with the admin key (with any lesser key it is all 403s).
    key = server.keys["admin" if path == "/api/v1/audit" else "ccib-contrib"]
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

    try:
        run()
    finally:
        session.close()
    assert statuses, "no request was made"
    if mode is GenerationMode.POSITIVE:
        assert 401 not in statuses and 403 not in statuses, statuses  # the key was sent and sufficed
        # Valid input got past validation at least once (a sighting of a random string is 422).
        assert any(s < 400 or s == 422 for s in statuses), statuses
    else:
        assert any(s == 400 for s in statuses), statuses  # the views did see invalid input
