"""Fixtures and helpers of the TAXII tests: a real `registry serve` per module on each engine
(tests/web/conftest.py's), seeded members, taxii2-client handles and direct seeding.

The ``engine_url`` and ``server`` fixtures reach every module through tests/taxii/conftest.py;
modules import the helpers they use from here (``from tests.taxii.fixtures import …``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path

import pytest
import requests
from taxii2client.v21 import ApiRoot, Collection, Server

from registry.services.submit import Provenance, Submission, submit
from registry.services.taxii import TAXII_MEDIA
from registry.storage.db import Database
from tests.web.conftest import Server as LiveServer
from tests.web.conftest import (  # noqa: F401
    another_database,
    engine_url,
    seed_members,
    start_server,
    stop_server,
)

ORG_OF_KEY = {"ccib-contrib": "ccib-th", "ccib-reader": "ccib-th", "pdrm-reader": "pdrm-my",
              "pdrm-contrib": "pdrm-my", "bank-green": "bank-x", "admin": "registry-ops", "pdrm-admin": "pdrm-my"}


def server_env() -> dict:
    return {"REGISTRY_RATE_LIMIT": "1000000 per minute"}  # paging tests make many requests


def launch(db_url: str, tmp: Path) -> LiveServer:
    db = Database(db_url)
    keys = seed_members(db)
    process, url, env = start_server(db_url, tmp, extra_env=server_env())
    return LiveServer(url=url, db=db, process=process, env=env, keys=keys)


@pytest.fixture(scope="module")
def server(engine_url, tmp_path_factory):  # noqa: F811
    live = launch(engine_url, tmp_path_factory.mktemp("taxii"))
    yield live
    stop_server(live.process)
    live.db.dispose()


def root_url(live: LiveServer) -> str:
    return f"{live.url}/taxii2/api/"


def collection_id(name: str) -> str:
    from registry.services.taxii import collection

    return collection(name).id


def client_collection(live: LiveServer, key_name: str, name: str = "indicators") -> Collection:
    """A taxii2-client Collection authenticated with HTTP Basic (org slug, key)."""
    url = f"{root_url(live)}collections/{collection_id(name)}/"
    return Collection(url, user=ORG_OF_KEY.get(key_name, ""), password=live.keys[key_name])


def client_root(live: LiveServer, key_name: str) -> ApiRoot:
    return ApiRoot(root_url(live), user=ORG_OF_KEY.get(key_name, ""), password=live.keys[key_name])


def client_server(live: LiveServer, key_name: str) -> Server:
    return Server(f"{live.url}/taxii2/", user=ORG_OF_KEY.get(key_name, ""), password=live.keys[key_name])


def taxii_get(live: LiveServer, path: str, key_name: str | None = None, *, accept: str | None = TAXII_MEDIA,
              **kwargs) -> requests.Response:
    headers = {"Accept": accept} if accept else {}
    if key_name:
        headers["Authorization"] = f"Bearer {live.keys.get(key_name, key_name)}"
    return requests.get(f"{live.url}{path}", headers=headers | kwargs.pop("headers", {}), timeout=30, **kwargs)


def seed(db: Database, org: str, values: list[str], *, tlp: str = "green", label: str = "taxii-test",
         now: datetime | None = None):
    """Assert ``values`` as ``org`` in ONE transaction: they share one date_added."""
    with db.write() as conn:
        report = submit(conn, Provenance(org=org, tlp=tlp, labels=(label,), confidence=60),
                        [Submission(v) for v in values], now=now)
    assert report.rejected == report.allowlisted == 0, report.rejects
    return report


def unique_label() -> str:
    return f"t-{uuid.uuid4().hex[:8]}"


def of_type(objects: list[dict], stix_type: str = "indicator") -> list[dict]:
    return [o for o in objects if o["type"] == stix_type]


def all_pages(collection: Collection, per_request: int, **filters) -> list[dict]:
    from taxii2client.v21 import as_pages

    return [env for env in as_pages(collection.get_objects, per_request=per_request, **filters)]
