"""TAXII paging benchmark: taxii2-client's ``as_pages`` through a collection of Indicators.

    .venv/bin/python bench/taxii.py [--small 2000] [--large 100000] [--large-pages 1000,10000]

1. 2,000 Indicators, 100 per page, from the registry (`registry serve`, gunicorn, 2 workers,
   SQLite, or PostgreSQL with --postgres URL) and from medallion (memory backend, the same objects, its own server) in the same
   run. Target: the registry >= 100x medallion's objects/s.
2. 100,000 Indicators from the registry alone, at 1,000 per page (the registry's default
   page) and 10,000 per page (its largest). Target: >= 20,000 objects/s.

Objects/s counts the collection's Indicators received; the identities and marking definitions
each registry page carries beside them are transferred but not counted. Medallion needs
``.venv/bin/pip install medallion`` (not a project dependency).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import requests
from common import Timer, fresh_schema, mixed_values, postgres_option
from taxii2client.v21 import Collection, as_pages

from registry.domain.tlp import Viewer
from registry.services.access import ON_SERVER
from registry.services.keys import create_key
from registry.services.orgs import add_org
from registry.services.stix_export import iter_objects
from registry.services.submit import Provenance, Submission, submit
from registry.services.taxii import STIX_MEDIA, TAXII_MEDIA, collection
from registry.services.taxii_query import stix_time
from registry.storage import migrate
from registry.storage.db import Database

BIN = Path(sys.executable).parent
ORG = "bench-org"
INDICATORS = collection("indicators").id


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, log: Path, **kwargs) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
        try:
            if requests.get(url, timeout=5, **kwargs).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within 90 s")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


@contextmanager
def database_url(workdir: Path, count: int, postgres: str | None):
    """A fresh SQLite file, or a fresh schema on the PostgreSQL server at ``postgres``."""
    if not postgres:
        yield f"sqlite:///{workdir / f'registry-{count}.db'}"
        return
    with fresh_schema(postgres, f"taxii_{count}") as url:
        yield url


def build_registry(url: str, count: int) -> tuple[str, int]:
    """Migrate ``url`` and fill it with ``count`` TLP:GREEN assertions of generated values
    (IPs, networks, domains, phone numbers); (API key, indicators stored)."""
    db = Database(url)
    migrate.upgrade(db)
    add_org(db, ORG, "Benchmark agency", "TH")
    key = create_key(db, ORG, "reader", by=ON_SERVER)["key"]
    values = mixed_values(count * 2, seed=count)
    stored = 0
    while stored < count:  # a few generated values coincide once normalised: top up
        with db.write() as conn:  # one transaction: its objects share one date_added
            submit(conn, Provenance(org=ORG, tlp="green", confidence=70, labels=("bench",)),
                   (Submission(next(values)) for _ in range(count - stored)))
        with db.read() as conn:
            stored = sum(1 for _ in iter_objects(conn, Viewer.operator()))
    db.dispose()
    return key, stored


def serve_registry(db_url: str, workdir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "REGISTRY_DATABASE_URL": db_url, "REGISTRY_INSTANCE_PATH": str(workdir / "instance"),
           "REGISTRY_SECRET_KEY": "bench-" + "x" * 40, "REGISTRY_RATE_LIMIT": "100000000 per minute"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = workdir / f"registry-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen([str(BIN / "registry"), "serve", "--host", "127.0.0.1", "--port", str(port),
                                    "--workers", "2"], env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_for(url + "/-/health", process, log)
    return process, url


def page_through(collection_url: str, user: str, password: str, per_request: int) -> tuple[int, float, list]:
    """(indicators received, seconds, every object) paging with as_pages."""
    coll = Collection(collection_url, user=user, password=password)
    objects = []
    with Timer() as timer:
        for envelope in as_pages(coll.get_objects, per_request=per_request):
            objects.extend(envelope["objects"])
    coll.close()
    indicators = sum(1 for o in objects if o["type"] == "indicator")
    ids = {o["id"] for o in objects if o["type"] == "indicator"}
    assert len(ids) == indicators, "an indicator came twice"
    return indicators, timer.seconds, objects


def registry_run(workdir: Path, count: int, page_sizes: list[int], postgres: str | None) -> tuple[dict, list]:
    """Objects/s paging ``count`` indicators from a registry server at each page size."""
    workdir.mkdir()
    with database_url(workdir, count, postgres) as db_url:
        return _registry_run(workdir, db_url, count, page_sizes)


def _registry_run(workdir: Path, db_url: str, count: int, page_sizes: list[int]) -> tuple[dict, list]:
    key, stored = build_registry(db_url, count)
    process, url = serve_registry(db_url, workdir)
    collection_url = f"{url}/taxii2/api/collections/{INDICATORS}/"
    rates = {}
    try:
        page_through(collection_url, ORG, key, page_sizes[0])  # warm up: the file cache, the workers
        for per_request in page_sizes:
            got, seconds, objects = page_through(collection_url, ORG, key, per_request)
            assert got == stored, (got, stored)
            rates[per_request] = got / seconds
            print(f"  registry: {got:,} indicators, {per_request}/page, in {seconds:.2f} s = "
                  f"{rates[per_request]:,.0f} objects/s")
    except requests.HTTPError:
        print("".join(log.read_text() for log in workdir.glob("registry-*.log"))[-5000:])
        raise
    finally:
        stop(process)
    return rates, objects


def medallion_run(workdir: Path, objects: list[dict], per_request: int) -> float:
    """Medallion's memory backend holding the same objects, paged the same way."""
    if shutil.which("medallion", path=str(BIN)) is None:
        raise SystemExit("medallion is not installed: .venv/bin/pip install medallion")
    port = free_port()
    # Medallion reads an extension-definition's "version" (1.0.0) as a timestamp and fails: the
    # phone-number extension definition stays out; every indicator, identity and marking goes in.
    unique = list({o["id"]: o for o in objects if o["type"] != "extension-definition"}.values())
    added = stix_time(datetime.now(UTC))
    manifest = [{"id": o["id"], "date_added": added, "version": o.get("modified", o.get("created")),
                 "media_type": STIX_MEDIA} for o in unique]
    data = {
        "/discovery": {"title": "medallion", "default": f"http://127.0.0.1:{port}/api1/",
                       "api_roots": [f"http://127.0.0.1:{port}/api1/"]},
        "api1": {
            "information": {"title": "api1", "versions": [TAXII_MEDIA], "max_content_length": 100_000_000},
            "status": [],
            "collections": [{"id": INDICATORS, "title": "indicators", "can_read": True, "can_write": False,
                             "media_types": [STIX_MEDIA], "objects": unique, "manifest": manifest}],
        },
    }
    (workdir / "medallion-data.json").write_text(json.dumps(data))
    config = {"backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend", "filename": str(workdir / "medallion-data.json")},
              "users": {"bench": "bench"}, "taxii": {"max_page_size": 1000}}
    (workdir / "medallion.json").write_text(json.dumps(config))
    log = workdir / "medallion.log"
    with log.open("wb") as out:
        process = subprocess.Popen([str(BIN / "medallion"), "--port", str(port), str(workdir / "medallion.json")],
                                   stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(f"http://127.0.0.1:{port}/taxii2/", process, log, auth=("bench", "bench"),
                 headers={"Accept": TAXII_MEDIA})
        got, seconds, _ = page_through(f"http://127.0.0.1:{port}/api1/collections/{INDICATORS}/", "bench", "bench",
                                       per_request)
    finally:
        stop(process)
    rate = got / seconds
    print(f"  medallion: {got:,} indicators, {per_request}/page, in {seconds:.2f} s = {rate:,.0f} objects/s")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=2000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--large-pages", default="1000,10000", help="page sizes for the large run")
    postgres_option(parser)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-taxii-"))
    try:
        print(f"1. {args.small:,} indicators, 100 per page, registry vs medallion")
        rates, objects = registry_run(workdir / "small", args.small, [100], args.postgres)
        medallion_rate = medallion_run(workdir, objects, 100)
        ratio = rates[100] / medallion_rate
        print(f"  ratio: {ratio:,.0f}x medallion (target >= 100x): {'OK' if ratio >= 100 else 'MISSED'}")
        print(f"2. {args.large:,} indicators, registry")
        rates, _ = registry_run(workdir / "large", args.large, [int(n) for n in args.large_pages.split(",")],
                                args.postgres)
        best = max(rates, key=rates.get)
        print(f"  best {rates[best]:,.0f} objects/s at {best}/page (target >= 20,000 objects/s): "
              f"{'OK' if rates[best] >= 20_000 else 'MISSED'}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
