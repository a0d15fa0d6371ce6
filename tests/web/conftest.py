"""A real `registry serve` process on 127.0.0.1 per test module, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from registry.services.access import ON_SERVER
from registry.services.keys import create_key
from registry.services.orgs import add_org
from registry.storage import migrate
from registry.storage.db import Database
from tests.helpers import (
    PG_SKIP,
    PG_URL,
    add_member_orgs,
    create_pg_schema,
    drop_pg_schema,
    migrated_sqlite,
)

REGISTRY = Path(sys.executable).parent / "registry"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    db: Database
    process: subprocess.Popen
    env: dict
    keys: dict[str, str] = field(default_factory=dict)

    def get(self, path, key=None, **kwargs):
        headers = {**_auth(self.keys.get(key, key)), **kwargs.pop("headers", {})}
        return requests.get(self.url + path, headers=headers, timeout=30, **kwargs)

    def post(self, path, key=None, **kwargs):
        headers = {**_auth(self.keys.get(key, key)), **kwargs.pop("headers", {})}
        return requests.post(self.url + path, headers=headers, timeout=30, **kwargs)


def _auth(key):
    return {"Authorization": f"Bearer {key}"} if key else {}


def start_server(db_url: str, tmp: Path, *, workers: int = 2, extra_env: dict | None = None,
                 port: int | None = None, scheduler: bool = False) -> tuple[subprocess.Popen, str, dict]:
    port = port or free_port()
    env = {
        **os.environ,
        "REGISTRY_DATABASE_URL": db_url,
        "REGISTRY_INSTANCE_PATH": str(tmp / "instance"),
        "REGISTRY_SECRET_KEY": "test-secret-" + "x" * 32,
        "REGISTRY_AUDIT_FLUSH_SECONDS": "0.05",
        **(extra_env or {}),
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with (tmp / f"server-{port}.log").open("wb") as log:  # the child keeps its own descriptor
        process = subprocess.Popen(
            [str(REGISTRY), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
             *(["--scheduler"] if scheduler else [])],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    # Generous: on a loaded 2-core CI machine gunicorn's workers can take seconds to boot.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {(tmp / f'server-{port}.log').read_text()}")
        try:
            if requests.get(url + "/-/health", timeout=5).status_code == 200:
                return process, url, env
        except requests.RequestException:
            pass
        time.sleep(0.1)
    stop_server(process)
    raise RuntimeError("server did not answer /-/health within 90 s")


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine_url(request, tmp_path_factory):
    """A fresh migrated database URL per module and engine."""
    if request.param == "sqlite":
        url, db = migrated_sqlite(tmp_path_factory.mktemp("web"))
        db.dispose()
        yield url
        return
    if not PG_URL:
        pytest.skip(PG_SKIP)
    schema, url = create_pg_schema()
    db = Database(url)
    migrate.upgrade(db)
    db.dispose()
    yield url
    drop_pg_schema(schema)


def another_database(engine_url: str, tmp: Path):
    """A second migrated database on the same engine as ``engine_url``: (url, cleanup)."""
    if engine_url.startswith("sqlite"):
        url, cleanup = f"sqlite:///{tmp / 'second.db'}", lambda: None
    else:
        schema, url = create_pg_schema()

        def cleanup():
            drop_pg_schema(schema)
    db = Database(url)
    migrate.upgrade(db)
    db.dispose()
    return url, cleanup


def seed_members(db: Database) -> dict[str, str]:
    """Orgs and keys the HTTP tests use; returns name → key."""
    add_member_orgs(db)
    add_org(db, "bank-x", "Bank X fraud team", "TH")
    add_org(db, "registry-ops", "Registry operators", None)
    return {
        "ccib-contrib": create_key(db, "ccib-th", "contributor", "red", by=ON_SERVER)["key"],
        "ccib-reader": create_key(db, "ccib-th", "reader", "red", by=ON_SERVER)["key"],
        "pdrm-reader": create_key(db, "pdrm-my", "reader", by=ON_SERVER)["key"],
        "pdrm-contrib": create_key(db, "pdrm-my", "contributor", by=ON_SERVER)["key"],
        "bank-green": create_key(db, "bank-x", "reader", "green", by=ON_SERVER)["key"],
        "admin": create_key(db, "registry-ops", "operator", "red", by=ON_SERVER)["key"],  # an operator
        "pdrm-admin": create_key(db, "pdrm-my", "admin", by=ON_SERVER)["key"],
    }


@pytest.fixture(scope="module")
def server(engine_url, tmp_path_factory):
    db = Database(engine_url)
    keys = seed_members(db)
    tmp = tmp_path_factory.mktemp("srv")
    process, url, env = start_server(engine_url, tmp)
    yield Server(url=url, db=db, process=process, env=env, keys=keys)
    stop_server(process)
    db.dispose()
