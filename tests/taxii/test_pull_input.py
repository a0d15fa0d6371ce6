"""A TAXII server on 127.0.0.1 that answers objects nested too deep: a pull (`registry taxii
pull`, a TAXII feed run) fails with a one-line reason and writes nothing (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import text

from registry.services.federation import PullFailed, pull
from registry.services.orgs import add_org

TAXII = "application/taxii+json;version=2.1"
COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"


class Hostile(BaseHTTPRequestHandler):
    depth = 1000  # the standard library's parser, under the TAXII client, stops near 1,000

    def do_GET(self):  # noqa: N802 - http.server's name
        if self.path.endswith("/collections/"):
            body = json.dumps({"collections": [{"id": COLLECTION, "title": "indicators", "can_read": True,
                                                "can_write": False, "media_types": [TAXII]}]})
        else:
            deep = "[" * self.depth + "]" * self.depth
            body = f'{{"more": false, "objects": [{{"type": "indicator", "spec_version": "2.1", "pattern": {deep}}}]}}'
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", TAXII)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def hostile():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/"
    server.shutdown()
    server.server_close()


def test_objects_nested_past_what_the_client_parses_fail_the_pull_cleanly(db, hostile):
    add_org(db, "hub-a", "Registry A", "TH")
    with pytest.raises(PullFailed) as failed:  # it was a RecursionError out of the TAXII client
        pull(db, hostile, "indicators", org="hub-a")
    assert failed.value.message == f"{hostile}: the server sent JSON nested too deep to read"
    with db.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM indicator")).scalar_one() == 0
