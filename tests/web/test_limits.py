"""Rate limits and body size over real HTTP: `registry serve` processes started with their own
settings (REGISTRY_RATE_LIMIT, REGISTRY_REDIS_URL, REGISTRY_MAX_BODY_MB).

The limits do not depend on the database engine, so these servers run on SQLite only. Which
gunicorn worker answered each request is read from the workers' own Prometheus files (one per
worker pid), so the tests can show how each worker counted.
"""

from __future__ import annotations

import collections
import http.client
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from prometheus_client.mmap_dict import MmapedDict

from registry.services.access import ON_SERVER
from registry.services.keys import create_key
from tests.helpers import migrated_sqlite
from tests.web.conftest import seed_members, start_server, stop_server

REDIS_URL = os.environ.get("REGISTRY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="module")
def members(tmp_path_factory):
    """One migrated SQLite database with the usual orgs, shared by this module's servers."""
    url, db = migrated_sqlite(tmp_path_factory.mktemp("limits"))
    keys = seed_members(db)
    yield url, db, keys
    db.dispose()


@pytest.fixture
def serve(members, tmp_path):
    """Start servers with extra settings; every one is stopped at the end of the test."""
    url, _, _ = members
    started = []

    def start(workers: int = 1, **settings):
        env = {f"REGISTRY_{name}": str(value) for name, value in settings.items()}
        folder = tmp_path / f"s{len(started)}"
        folder.mkdir()
        process, base, server_env = start_server(url, folder, workers=workers, extra_env=env)
        started.append(process)
        return base, server_env

    yield start
    for process in started:
        stop_server(process)


def _h(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def fresh_key(members, org="pdrm-my", role="reader") -> str:
    """A key no other test (or earlier run, for Redis) has counted against."""
    return create_key(members[1], org, role, by=ON_SERVER)["key"]


def per_worker(server_env: dict, endpoint: str) -> dict[int, collections.Counter]:
    """Requests to ``endpoint`` by status, for each gunicorn worker (from its Prometheus file)."""
    folder = Path(server_env["REGISTRY_INSTANCE_PATH"]) / "prometheus"
    out: dict[int, collections.Counter] = {}
    for path in folder.glob("counter_*.db"):
        pid = int(path.stem.rpartition("_")[2])
        counts = out.setdefault(pid, collections.Counter())
        for key, value, *_ in MmapedDict.read_all_values_from_file(str(path)):
            _, name, labels, _ = json.loads(key)
            if name == "registry_http_requests_total" and labels["endpoint"] == endpoint:
                counts[labels["status"]] += int(value)
    return {pid: c for pid, c in out.items() if c}


def _assert_429(response, limit_text: str) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == "too_many_requests" and limit_text in error["message"]
    retry = int(response.headers["Retry-After"])
    assert 1 <= retry <= 60


# -- in memory (the default) ----------------------------------------------------------------
def test_memory_limit_is_per_key_and_answers_429_with_retry_after(serve, members):
    base, _ = serve(workers=1, RATE_LIMIT="5 per minute")
    first, second = fresh_key(members), fresh_key(members)
    codes = [requests.get(base + "/api/v1/lookup", params={"value": f"m{i}.example"}, headers=_h(first), timeout=10)
             for i in range(5)]
    assert [r.status_code for r in codes] == [200] * 5
    assert [r.headers["X-RateLimit-Remaining"] for r in codes] == ["4", "3", "2", "1", "0"]
    over = requests.get(base + "/api/v1/lookup", params={"value": "m5.example"}, headers=_h(first), timeout=10)
    _assert_429(over, "5 per 1 minute")
    # The limit is the key's across the API, not per endpoint: a batch or a search is refused too.
    batch = requests.post(base + "/api/v1/lookup", json={"values": ["x.example"]}, headers=_h(first), timeout=10)
    _assert_429(batch, "5 per 1 minute")
    search = requests.get(base + "/api/v1/indicators", headers=_h(first), timeout=10)
    _assert_429(search, "5 per 1 minute")
    # Another key of the same org and address still has its own allowance.
    other = requests.get(base + "/api/v1/lookup", params={"value": "m.example"}, headers=_h(second), timeout=10)
    assert other.status_code == 200 and other.headers["X-RateLimit-Remaining"] == "4"
    # Operators' endpoints are not limited.
    assert all(requests.get(base + "/-/health", timeout=10).status_code == 200 for _ in range(8))


def test_memory_storage_counts_per_worker(serve, members):
    """With the default in-memory storage each of the 2 workers keeps its own count, so a key
    gets up to the limit from each worker: the reason REGISTRY_REDIS_URL exists."""
    limit = 10
    base, env = serve(workers=2, RATE_LIMIT=f"{limit} per minute")
    key = fresh_key(members)
    statuses = _hammer(base, key, env, total=80)
    workers = per_worker(env, "api.lookup_one")
    assert len(workers) == 2, workers
    for counts in workers.values():
        assert counts["200"] == min(limit, counts["200"] + counts["429"])
    assert statuses[200] == sum(c["200"] for c in workers.values()) > limit


def _hammer(base: str, key: str, env: dict, *, total: int) -> collections.Counter:
    """``total`` single lookups from 8 threads at once, so both workers answer some; keeps
    going (up to 4 rounds) until the Prometheus files show that both did."""
    session_headers = _h(key)

    def one(i):
        return requests.get(base + "/api/v1/lookup", params={"value": f"h{i}.example"}, headers=session_headers,
                            timeout=30).status_code

    statuses: collections.Counter = collections.Counter()
    with ThreadPoolExecutor(8) as pool:
        for round_ in range(4):
            statuses.update(pool.map(one, range(round_ * total, (round_ + 1) * total)))
            if len(per_worker(env, "api.lookup_one")) == 2:
                break
    assert set(statuses) <= {200, 429}, statuses
    return statuses


# -- Redis ----------------------------------------------------------------------------------
@pytest.fixture
def redis_url():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis not reachable at {REDIS_URL} ({exc}): set REGISTRY_TEST_REDIS_URL to test shared limits")
    used: list[str] = []
    yield REDIS_URL, used
    # Remove only the counters of this test's keys (their prefixes are random and unique).
    for prefix in used:
        for name in client.scan_iter(match=f"*{prefix}*", count=1000):
            client.delete(name)
    client.close()


def test_redis_limit_is_shared_by_both_workers(serve, members, redis_url):
    url, used = redis_url
    limit = 25
    base, env = serve(workers=2, RATE_LIMIT=f"{limit} per minute", REDIS_URL=url)
    key, other = fresh_key(members), fresh_key(members)
    used += [key[:12], other[:12]]
    statuses = _hammer(base, key, env, total=120)
    # Exactly the limit got through, however the requests were spread over the workers...
    assert statuses[200] == limit, statuses
    workers = per_worker(env, "api.lookup_one")
    assert len(workers) == 2, workers
    assert sum(c["200"] for c in workers.values()) == limit
    assert all(c["200"] + c["429"] > 0 for c in workers.values())
    # ...and at least one worker refused requests before it had let `limit` through itself,
    # which only a shared count can make it do.
    assert any(c["429"] and c["200"] < limit for c in workers.values()), workers
    over = requests.get(base + "/api/v1/lookup", params={"value": "late.example"}, headers=_h(key), timeout=10)
    _assert_429(over, f"{limit} per 1 minute")
    # The count lives in Redis under the key's prefix; another key is not affected.
    assert requests.get(base + "/api/v1/lookup", params={"value": "x.example"}, headers=_h(other),
                        timeout=10).status_code == 200
    import redis

    client = redis.Redis.from_url(url)
    assert any(True for _ in client.scan_iter(match=f"*{key[:12]}*"))
    client.close()


def test_redis_limit_survives_a_server_restart(serve, members, redis_url):
    """The count is in Redis, not in the processes: a second server on the same Redis carries on."""
    url, used = redis_url
    key = fresh_key(members)
    used.append(key[:12])
    first, _ = serve(workers=1, RATE_LIMIT="4 per minute", REDIS_URL=url)
    second, _ = serve(workers=1, RATE_LIMIT="4 per minute", REDIS_URL=url)
    answers = []
    for i in range(6):
        base = (first, second)[i % 2]
        answers.append(requests.get(base + "/api/v1/lookup", params={"value": f"r{i}.example"}, headers=_h(key),
                                    timeout=10))
    assert [r.status_code for r in answers] == [200, 200, 200, 200, 429, 429]
    _assert_429(answers[-1], "4 per 1 minute")


# -- request body size ----------------------------------------------------------------------
def _values_body(count: int) -> bytes:
    return json.dumps({"values": [f"body-{i:06d}.example" for i in range(count)]}).encode()


def test_bodies_over_the_limit_answer_413(serve, members):
    _, _, keys = members
    base, _ = serve(workers=1, MAX_BODY_MB="0.05")  # 52,428 bytes
    limit = int(0.05 * 1024 * 1024)
    small, large = _values_body(1500), _values_body(4000)
    assert len(small) < limit < len(large) < 3 * limit
    headers = {**_h(keys["pdrm-reader"]), "Content-Type": "application/json"}

    ok = requests.post(base + "/api/v1/lookup", data=small, headers=headers, timeout=30)
    assert ok.status_code == 200 and len(ok.json()["results"]) == 1500

    def chunked(body: bytes):
        for i in range(0, len(body), 8192):
            yield body[i:i + 8192]

    refused = [
        requests.post(base + "/api/v1/lookup", data=large, headers=headers, timeout=30),
        # Without Content-Length (chunked) the body is cut at the limit: still 413, not "bad JSON".
        requests.post(base + "/api/v1/lookup", data=chunked(large), headers=headers, timeout=30),
        requests.post(base + "/api/v1/indicators", data=json.dumps({"indicators": [
            {"value": f"big-{i}.example", "description": "x" * 100} for i in range(600)]}),
            headers={**headers, **_h(keys["ccib-contrib"])}, timeout=30),
        requests.post(base + "/api/v1/sightings", data=json.dumps({"value": "big.example", "description": "x" * limit}),
                      headers={**headers, **_h(keys["ccib-contrib"])}, timeout=30),
    ]
    for response in refused:
        assert response.status_code == 413, response.text
        assert response.headers["Content-Type"].startswith("application/json")
        error = response.json()["error"]
        assert error["code"] == "request_entity_too_large"
        assert "REGISTRY_MAX_BODY_MB" in error["message"] and error["details"] == {"limit_bytes": limit}
    # Nothing of the refused submissions was stored.
    found = requests.get(base + "/api/v1/lookup", params={"value": "big-1.example"}, headers=headers, timeout=30)
    assert found.json()["listed"] is False
    # A chunked body under the limit is read whole.
    ok = requests.post(base + "/api/v1/lookup", data=chunked(small), headers=headers, timeout=30)
    assert ok.status_code == 200 and len(ok.json()["results"]) == 1500


def test_default_body_limit_is_32_mib(serve, members):
    """The default (no REGISTRY_MAX_BODY_MB) refuses a body announced at 32 MiB + 1 byte from its
    Content-Length alone: the answer comes while almost none of the body has been sent."""
    _, _, keys = members
    base, _ = serve(workers=1)
    limit = 32 * 1024 * 1024
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.putrequest("POST", "/api/v1/lookup")
        conn.putheader("Authorization", f"Bearer {keys['pdrm-reader']}")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(limit + 1))
        conn.endheaders(b'{"values": ["')
        response = conn.getresponse()
        assert response.status == 413
        error = json.loads(response.read())["error"]
    finally:
        conn.close()
    assert error["code"] == "request_entity_too_large" and error["details"] == {"limit_bytes": limit}
    # Exactly at the limit is read (and, this body being no JSON, answered 400).
    at_limit = requests.post(base + "/api/v1/lookup", data=b"x" * limit, timeout=60,
                             headers={**_h(keys["pdrm-reader"]), "Content-Type": "application/json"})
    assert at_limit.status_code == 400 and "not valid JSON" in at_limit.json()["error"]["message"]
