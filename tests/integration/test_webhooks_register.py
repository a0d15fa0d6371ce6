"""Registering, listing, removing and enabling webhooks through the service, on both engines:
the URL checked with its host name resolved (https only, no private, loopback or link-local
address; plain http to loopback only with the setting), watches of the org's own, the role,
another org's webhook unknown, the limit per org, and deliveries from registration on."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from registry.domain.tlp import RED
from registry.services import webhooks
from registry.services.dispatch import Dispatcher
from registry.services.errors import Conflict, Forbidden, Invalid, NotFound
from registry.services.keys import Principal
from tests.integration.webhook_support import CCIB, emit, org_ids, register
from tests.webhook_receiver import Receiver

PDRM = Principal(org="pdrm-my", role="admin", max_tlp=RED, actor="pdrm-key")
PUBLIC = "https://93.184.216.34/registry-hook"  # a global address: registered, never contacted here


@pytest.fixture
def receiver():
    got = Receiver()
    yield got
    got.close()


@pytest.mark.parametrize(("url", "loopback", "why"), [
    ("http://93.184.216.34/hook", False, "must be https"),
    ("https://10.20.30.40/hook", False, "10.20.30.40 is a private address"),
    ("https://192.168.1.20/hook", True, "private"),  # the setting allows loopback, nothing else
    ("https://169.254.169.254/latest/meta-data", False, "link-local"),
    ("https://[fe80::1]/hook", False, "link-local"),
    ("https://127.0.0.1/hook", False, "loopback"),
    ("https://localhost/hook", False, r"localhost \(127.0.0.1\) is a loopback address"),  # resolved, then refused
    ("http://127.0.0.1:8080/hook", False, "must be https"),
    ("http://93.184.216.34/hook", True, "must be https"),  # plain http only to loopback
    ("https://no-such-host.invalid/hook", False, "does not resolve"),
])
def test_urls_refused_at_registration(db, url, loopback, why):
    org_ids(db)
    with pytest.raises(Invalid, match=why) as refused:
        webhooks.register(db, url, by=CCIB, allow_loopback=loopback)
    assert refused.value.field == "url"
    assert webhooks.list_webhooks(db, by=CCIB) == []


def test_public_https_and_loopback_with_the_setting_are_registered(db):
    org_ids(db)
    made = webhooks.register(db, PUBLIC, by=CCIB, allow_loopback=False)
    assert made["secret"].startswith("whsec_") and len(made["secret"]) > 40
    assert (made["url"], made["watches"], made["enabled"], made["max_tlp"]) == (PUBLIC, "all", True, "amber")
    local = webhooks.register(db, "http://127.0.0.1:9/hook", by=CCIB, allow_loopback=True)
    assert local["secret"] != made["secret"]
    assert {w["id"] for w in webhooks.list_webhooks(db, by=CCIB)} == {made["id"], local["id"]}
    with db.read() as conn:  # kept as given: it signs every delivery
        assert conn.execute(text("SELECT secret FROM webhook WHERE uid = :u"), {"u": made["id"]}).scalar_one() == \
            made["secret"]


@pytest.mark.parametrize("watches", ["some", [], [3], {"id": "x"}])
def test_watches_must_be_all_or_ids(db, watches):
    org_ids(db)
    with pytest.raises(Invalid) as refused:
        webhooks.register(db, PUBLIC, watches, by=CCIB, allow_loopback=False)
    assert refused.value.field == "watches"


def test_who_may_and_whose(db):
    org_ids(db)
    reader = Principal(org="ccib-th", role="reader", max_tlp=RED, actor="reader-key")
    with pytest.raises(Forbidden):
        webhooks.register(db, PUBLIC, by=reader, allow_loopback=False)
    with pytest.raises(Forbidden):
        webhooks.list_webhooks(db, by=reader)
    made = webhooks.register(db, PUBLIC, by=CCIB, allow_loopback=False)
    assert webhooks.list_webhooks(db, by=PDRM) == []  # another org's: not listed
    for act in (lambda: webhooks.remove(db, made["id"], by=PDRM),
                lambda: webhooks.enable(db, made["id"], by=PDRM, allow_loopback=False),
                lambda: webhooks.deliveries(db, made["id"], by=PDRM),
                lambda: webhooks.remove(db, "no-such-webhook", by=CCIB)):
        with pytest.raises(NotFound):
            act()
    assert webhooks.remove(db, made["id"], by=CCIB)["id"] == made["id"]
    with pytest.raises(NotFound):
        webhooks.deliveries(db, made["id"], by=CCIB)


def test_an_org_has_at_most_its_limit(db, monkeypatch):
    org_ids(db)
    monkeypatch.setattr(webhooks, "MAX_PER_ORG", 2)
    for _ in range(2):
        webhooks.register(db, PUBLIC, by=CCIB, allow_loopback=False)
    with pytest.raises(Conflict, match="2 webhooks already"):
        webhooks.register(db, PUBLIC, by=CCIB, allow_loopback=False)
    webhooks.register(db, PUBLIC, by=PDRM, allow_loopback=False)  # per org


def test_a_webhook_delivers_what_comes_after_its_registration(db, receiver):
    ids = org_ids(db)
    emit(db, ids["ccib-th"], ["before.scam.example"])
    hook = register(db, receiver)
    [after] = emit(db, ids["ccib-th"], ["after.scam.example"])
    assert Dispatcher(db, allow_loopback=True).round() == 1
    assert [r.seq for r in receiver.received] == [after] and hook["position"] == after - 1


def test_enable_checks_the_url_again(db, receiver):
    ids = org_ids(db)
    hook = register(db, receiver)
    with db.write() as conn:
        conn.execute(text("UPDATE webhook SET enabled = :no, disabled_reason = 'test'"), {"no": False})
    with pytest.raises(Conflict, match="refused now"):  # without the loopback setting, no longer allowed
        webhooks.enable(db, hook["id"], by=CCIB, allow_loopback=False)
    assert webhooks.enable(db, hook["id"], by=CCIB, allow_loopback=True)["enabled"] is True
    assert webhooks.enable(db, hook["id"], by=CCIB, allow_loopback=True)["enabled"] is True  # as it is
    emit(db, ids["ccib-th"], ["x.scam.example"])
    assert Dispatcher(db, allow_loopback=True).round() == 1
