"""An operation's exports over HTTP and from the command line, on a live server on each engine
(docs/api.md, "Operations: STIX and MISP"; docs/cli.md, "Exporting an operation"): ``GET
/api/v1/operations/ID/stix`` and ``/misp`` to the keys that may see it (404 to the others, as for
an unknown id), the MISP feed's event of it, and ``registry op export``."""

from __future__ import annotations

import subprocess

import orjson
import pytest
from pymisp import MISPEvent

from tests.stix.support import of_type, seed_operation, validate
from tests.web.conftest import REGISTRY


@pytest.fixture(scope="module")
def operation(server):
    return seed_operation(server.db, orgs=False)


@pytest.mark.parametrize(("key", "status"), [("ccib-reader", 200), ("pdrm-reader", 200), ("bank-green", 404)])
def test_the_stix_bundle_to_the_keys_that_may_see_it(server, operation, key, status):
    got = server.get(f"/api/v1/operations/{operation}/stix", key)
    assert got.status_code == status
    if status == 404:
        assert got.json()["error"]["code"] == "not_found"
        return
    assert got.headers["Content-Type"].startswith("application/stix+json")
    doc = validate(got.content)
    (grouping,) = of_type(doc, "grouping")
    assert grouping["id"] == f"grouping--{operation}"
    # pdrm-my's reader key is capped below RED: pdrm-my's RED statement is not in its bundle either.
    assert "contacts" not in {o["relationship_type"] for o in of_type(doc, "relationship")}


def test_unknown_ids_and_missing_keys(server, operation):
    unknown = server.get("/api/v1/operations/00000000-0000-4000-8000-000000000000/stix", "ccib-reader")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    too_long = server.get(f"/api/v1/operations/{'x' * 300}/misp", "ccib-reader")
    assert too_long.status_code == 400 and too_long.json()["error"]["details"]["field"] == "id"
    assert server.get(f"/api/v1/operations/{operation}/stix").status_code == 401


def test_the_misp_event_over_the_api_and_in_the_feed(server, operation):
    got = server.get(f"/api/v1/operations/{operation}/misp", "ccib-reader")
    assert got.status_code == 200
    event = MISPEvent()
    event.from_json(got.text)
    assert event.uuid == operation and len(event.objects) == 6
    assert {r.relationship_type for obj in event.objects for r in obj.references} == {
        "pays-to", "redirects-to", "same-operator"}
    assert server.get(f"/api/v1/operations/{operation}/misp", "bank-green").status_code == 404
    manifest = server.get("/api/v1/export/misp/manifest.json", "ccib-reader").json()
    assert manifest[operation]["info"] == "Compound K7, Sihanoukville"
    from_feed = server.get(f"/api/v1/export/misp/{operation}.json", "ccib-reader")
    assert orjson.loads(from_feed.content) == orjson.loads(got.content)
    assert operation not in server.get("/api/v1/export/misp/manifest.json", "bank-green").json()


def test_the_command_writes_either(server, operation, tmp_path):
    out = tmp_path / "op.json"
    done = subprocess.run([str(REGISTRY), "op", "export", operation, "-o", str(out)], env=server.env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    doc = validate(out.read_bytes())
    assert "contacts" in {o["relationship_type"] for o in of_type(doc, "relationship")}  # the operator sees all
    misp_out = tmp_path / "op.misp.json"
    done = subprocess.run([str(REGISTRY), "op", "export", operation, "--format", "misp", "-o", str(misp_out)],
                          env=server.env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert orjson.loads(misp_out.read_bytes())["Event"]["uuid"] == operation
    missing = subprocess.run([str(REGISTRY), "op", "export", "00000000-0000-4000-8000-000000000000"],
                             env=server.env, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "no operation" in missing.stderr
