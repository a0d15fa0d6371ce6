"""`registry review` (an org's assertions falling due for review) and `registry review purge`, on
SQLite and PostgreSQL, through Click's runner with the database in the environment."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from registry.domain.opaque import Sealer
from registry.domain.standing import SNAPSHOT
from registry.domain.times import utcnow
from registry.services import review
from registry.services.audit import events
from registry.services.keys import Principal
from registry.services.submit import Provenance, Submission, submit
from tests.helpers import add_member_orgs, end_assertions

SECRET = "cli-secret-" + "y" * 32


@pytest.fixture
def cli(cli, db, monkeypatch):
    """The command line (tests/integration/conftest.py) with the server's secret, and ccib-th's
    assertions at each distance from their review date."""
    monkeypatch.setenv("REGISTRY_SECRET_KEY", SECRET)
    add_member_orgs(db)
    now = utcnow()
    for value, days_ago in (("soon.cli-review.example", 170), ("passed.cli-review.example", 200),
                            ("later.cli-review.example", 10), ("gone.cli-review.example", 100)):
        with db.write() as conn:
            submit(conn, Provenance(org="ccib-th"), [Submission(value)], now=now - timedelta(days=days_ago))
    end_assertions(db, {"gone.cli-review.example": SNAPSHOT}, now - timedelta(days=50))
    return cli


def test_review_lists_what_falls_due_with_ids_the_api_takes(cli, db):
    listing = json.loads(cli("review", "--org", "ccib-th", "--json").stdout)
    assert [(a["value"], a["status"]) for a in listing["assertions"]] == [
        ("passed.cli-review.example", "ended"), ("soon.cli-review.example", "due")]
    assert (listing["org"], listing["days"], listing["truncated"]) == ("ccib-th", 30, False)
    wider = json.loads(cli("review", "--org", "ccib-th", "--days", "365", "--json").stdout)
    assert [a["value"] for a in wider["assertions"]][-1] == "later.cli-review.example"
    # The ids are sealed with the server's secret: the API's confirmation takes them.
    token = listing["assertions"][0]["id"]
    done = review.confirm(db, Principal("ccib-th", "contributor", "amber", "somchai"), token, sealer=Sealer(SECRET))
    assert done["status"] == "due"
    text = cli("review", "--org", "ccib-th").stdout
    assert "soon.cli-review.example" in text and "passed.cli-review.example" not in text
    assert text.strip().endswith("1 of ccib-th's assertions due for review within 30 days or ended")
    assert "--org" in cli("review", code=2).output
    assert "unknown org 'nobody'" in cli("review", "--org", "nobody", code=2).output


def test_review_purge_deletes_old_history_and_audits_it(cli, db, monkeypatch):
    refused = cli("review", "purge", code=2)
    assert "REGISTRY_RETENTION_DAYS is 0" in refused.output
    monkeypatch.setenv("REGISTRY_RETENTION_DAYS", "30")
    done = json.loads(cli("review", "purge", "--json").stdout)
    # gone.cli-review.example ended 50 days ago; passed.cli-review.example's review date 20 days ago
    assert done == {"purged": 1, "retention_days": 30}
    [event] = events(db, action="review-purge")["events"]
    assert event["subject"]["values"] == ["ccib-th gone.cli-review.example"]
    assert (event["result_count"], event["actor"].startswith("cli:")) == (1, True)
    assert cli("review", "purge").stdout.strip() == "purged 0 assertions that ended more than 30 days ago"
    assert len(events(db, action="review-purge")["events"]) == 2
