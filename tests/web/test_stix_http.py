"""STIX over the member API and the CLI: export streamed with an ETag, bundles accepted on
POST /api/v1/indicators, `registry export --format stix`. Every bundle passes the validator."""

from __future__ import annotations

import json
import subprocess

import orjson

from tests.stix.support import validate
from tests.web.conftest import REGISTRY

BUNDLE_TYPE = "application/stix+json;version=2.1"


def test_post_a_bundle_then_export_it_back(server):
    bundle = {
        "type": "bundle", "id": "bundle--3b1a2c5e-0c1d-4f5e-8a9b-0c1d2e3f4a5b",
        "objects": [{
            "type": "indicator", "spec_version": "2.1", "id": "indicator--0b3c7a55-1d2e-4f3a-9b8c-7d6e5f4a3b2c",
            "created": "2026-11-01T00:00:00.000Z", "modified": "2026-11-01T00:00:00.000Z",
            "pattern": "[domain-name:value = 'stix-http.example']", "pattern_type": "stix",
            "valid_from": "2026-11-01T00:00:00Z", "confidence": 75, "labels": ["phishing"],
            "object_marking_refs": ["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"],
        }],
    }
    posted = server.post("/api/v1/indicators", key="ccib-contrib", data=orjson.dumps(bundle),
                         headers={"Content-Type": BUNDLE_TYPE})
    assert posted.status_code == 200, posted.text
    assert posted.json()["counts"]["new"] == 1

    exported = server.get("/api/v1/export/stix", key="pdrm-reader", params={"label": "phishing"})
    assert exported.status_code == 200 and exported.headers["Content-Type"].startswith("application/stix+json")
    doc = validate(exported.content)
    indicators = [o for o in doc["objects"] if o["type"] == "indicator"]
    assert [o["id"] for o in indicators if "stix-http.example" in o["pattern"]] == [
        "indicator--0b3c7a55-1d2e-4f3a-9b8c-7d6e5f4a3b2c"]
    etag = exported.headers["ETag"]
    again = server.get("/api/v1/export/stix", key="pdrm-reader", params={"label": "phishing"},
                       headers={"If-None-Match": etag})
    assert again.status_code == 304
    capped = server.get("/api/v1/export/stix", key="bank-green", params={"label": "phishing"})
    assert "stix-http.example" not in capped.text  # TLP:AMBER is beyond a GREEN-capped key


def test_cli_export_writes_a_valid_bundle(server, tmp_path):
    # Data of its own: under xdist the test above may run in another worker, on another server.
    posted = server.post("/api/v1/indicators", key="ccib-contrib", json={"indicators": [
        {"value": "stix-cli.example", "tlp": "green", "confidence": 60}]})
    assert posted.status_code == 200, posted.text
    out = tmp_path / "out.json"
    subprocess.run([str(REGISTRY), "export", "--format", "stix", "--since", "2026-01-01", "-o", str(out)],
                   env=server.env, check=True, capture_output=True)
    doc = validate(out.read_bytes())
    assert any(o["type"] == "identity" for o in doc.get("objects", []))
    bad = subprocess.run([str(REGISTRY), "export", "--format", "stix", "--since", "yesterday"],
                         env=server.env, capture_output=True, text=True)
    assert bad.returncode == 2 and "since" in bad.stderr
    assert json.loads(server.get("/api/v1/export/stix", key="pdrm-reader", params={"kind": "nope"}).text)["error"][
        "details"]["field"] == "kind"
