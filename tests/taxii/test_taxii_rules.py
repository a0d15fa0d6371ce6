"""TAXII rules without a server: query parameters, timestamps, media types, page context."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from registry.services.errors import Invalid
from registry.services.taxii import PageContext
from registry.services.taxii_query import MAX_LIMIT, parse_query, stix_time
from registry.stix.extension import (
    BANK_ACCOUNT_EXTENSION_OBJECT,
    CRYPTO_WALLET_EXTENSION_OBJECT,
    PHONE_EXTENSION_OBJECT,
    REGISTRY_IDENTITY_OBJECT,
)
from registry.stix.markings import TLP2_IDS
from registry.web.taxii import _is_taxii21


def test_query_parameters():
    q = parse_query({"added_after": "2026-11-22T06:00:00.123456Z", "limit": "50", "next": "42",
                     "match[type]": "indicator,sighting", "match[id]": "indicator--a",
                     "match[version]": "all", "match[spec_version]": "2.1"})
    assert q.added_after == datetime(2026, 11, 22, 6, 0, 0, 123000, tzinfo=UTC)  # milliseconds
    assert (q.limit, q.after_seq) == (50, 42)
    assert q.types == {"indicator", "sighting"} and q.ids == {"indicator--a"} and q.spec_versions == {"2.1"}
    assert parse_query({"limit": str(MAX_LIMIT * 5)}).limit == MAX_LIMIT
    assert not parse_query({}).filters_objects and parse_query({"match[version]": "2026-01-01T00:00:00Z"}).filters_objects
    for bad in ({"limit": "-1"}, {"limit": "x"}, {"next": "-3"}, {"added_after": "soon"},
                {"match[version]": "last,never"}):
        with pytest.raises(Invalid):
            parse_query(bad)


def test_stix_time_has_milliseconds():
    assert stix_time(datetime(2026, 11, 22, 6, 0, 0, 999999, tzinfo=UTC)) == "2026-11-22T06:00:00.999Z"
    assert stix_time(datetime(2026, 11, 22, 6, 0)) == "2026-11-22T06:00:00.000Z"


@pytest.mark.parametrize(("media", "ok"), [
    ("application/taxii+json;version=2.1", True), ("application/taxii+json; version=2.1", True),
    ("application/taxii+json", True), ("*/*", True), ("application/*", True),
    ("application/taxii+json;version=2.0", False), ("application/json", False),
    ("application/taxii+json;version=2.1;q=0", False),
])
def test_accept_media_types(media, ok):
    assert _is_taxii21(media, wildcards=True) is ok


def test_content_type_takes_no_wildcards():
    assert _is_taxii21("application/taxii+json;version=2.1", wildcards=False)
    assert not _is_taxii21("*/*", wildcards=False)


def test_page_context_hands_out_each_reference_once_and_no_sco():
    context = PageContext({})  # no org Identities known to this page
    phone = {"type": "indicator", "id": "indicator--1", "created_by_ref": "identity--unknown",
             "object_marking_refs": [TLP2_IDS["green"]], "pattern": "[phone-number:value = '+66812345678']"}
    first = context.new_for(phone)
    # An unknown identity is not invented; the phone-number extension comes with its creator.
    assert [o["id"] for o in first] == [TLP2_IDS["green"], REGISTRY_IDENTITY_OBJECT["id"], PHONE_EXTENSION_OBJECT["id"]]
    assert not any(o["type"] == "phone-number" for o in first)
    assert context.new_for({**phone, "id": "indicator--2"}) == []


def test_page_context_brings_each_sco_types_extension_once():
    context = PageContext({})
    base = {"type": "indicator", "object_marking_refs": [TLP2_IDS["green"]]}
    bank = {**base, "id": "indicator--1", "pattern": "[bank-account:value = 'acct:TH:KASI:1234567890']"}
    wallet = {**base, "id": "indicator--2", "pattern": "[cryptocurrency-wallet:value = 'btc:1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa']"}
    account = {**base, "id": "indicator--3", "pattern": "[user-account:account_type = 'telegram' AND "
                                                         "user-account:account_login = 'kbank_support_th']"}
    assert [o["id"] for o in context.new_for(bank)] == [
        TLP2_IDS["green"], REGISTRY_IDENTITY_OBJECT["id"], BANK_ACCOUNT_EXTENSION_OBJECT["id"]]
    assert context.new_for(account) == []  # user-account and file are STIX's own: no extension
    assert context.new_for(wallet) == [CRYPTO_WALLET_EXTENSION_OBJECT]  # its creator came with the first
    assert context.new_for({**wallet, "id": "indicator--4"}) == []
