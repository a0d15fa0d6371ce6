"""What the webhook tests share: orgs and a contributor of ccib-th, events addressed to an org or
matched by a watch (as the change points emit them), a webhook registered through the service."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from registry.domain import events as ev
from registry.domain.kinds import DOMAIN
from registry.domain.normalize import normalize
from registry.domain.times import utcnow
from registry.domain.tlp import AMBER, GREEN
from registry.services import events, webhooks
from registry.services.keys import Principal
from registry.storage import watches as watch_store
from tests.helpers import add_member_orgs

CCIB = Principal(org="ccib-th", role="contributor", max_tlp=AMBER, actor="ccib-key")


def org_ids(db) -> dict[str, int]:
    add_member_orgs(db)
    with db.read() as conn:
        return dict(conn.execute(text("SELECT slug, id FROM organization")).all())


def emit(db, to_org_id: int, values, *, tlp=GREEN, type_=ev.REPORTED) -> list[int]:
    """Events about ``values`` addressed to the org (as a hit on its indicator is); their seqs."""
    with db.write() as conn:
        return events.emit(conn, [ev.NewEvent(type=type_, time=utcnow(), tlp=tlp, source="pdrm-my", org="pdrm-my",
                                              kind=DOMAIN, value=value, to_org_id=to_org_id) for value in values])


def emit_watched(db, values, *, tlp=GREEN) -> list[int]:
    """Events about ``values`` that reach whoever watches them."""
    with db.write() as conn:
        return events.emit(conn, [ev.NewEvent(type=ev.REPORTED, time=utcnow(), tlp=tlp, source="pdrm-my",
                                              org="pdrm-my", kind=DOMAIN, value=value) for value in values])


def add_watch(db, org_id: int, raw: str) -> str:
    value = normalize(raw)[0]
    uid = str(uuid.uuid4())
    with db.write() as conn:
        watch_store.insert(conn, uid=uid, org_id=org_id, key=value.value, kind=value.kind, prefix_len=value.prefix_len,
                           range_start=value.range_start, kinds="", labels="", sources="", created=utcnow())
    return uid


def register(db, receiver, *, by=CCIB, watches="all", path="/hook") -> dict:
    """A webhook of ``by``'s org to the receiver (plain http to 127.0.0.1: loopback allowed);
    the receiver verifies with its secret from then on."""
    made = webhooks.register(db, receiver.url(path), watches, by=by, allow_loopback=True)
    receiver.secret = made["secret"]
    return made


def webhook_id(db, uid: str) -> int:
    with db.read() as conn:
        return conn.execute(text("SELECT id FROM webhook WHERE uid = :uid"), {"uid": uid}).scalar_one()
