"""Derived Indicator ids: keyed with the database's secret, recognisable by their check, and
exactly one (source, feed, value)'s."""

from __future__ import annotations

import secrets
import uuid

from registry.stix.ids import IndicatorIds

KEY, OTHER_KEY = secrets.token_hex(32), secrets.token_hex(32)
IDENTITY = "identity--7b3c0e7f-5f0a-4b8e-9a55-3c1f6a2d4e01"
OTHER_IDENTITY = "identity--11111111-2222-4333-8444-555555555555"


def test_a_derived_id_is_a_stable_uuid4_of_one_source_feed_and_value():
    ids = IndicatorIds(KEY)
    derived = ids.derive("45.33.22.10", IDENTITY, "")
    assert derived == IndicatorIds(KEY).derive("45.33.22.10", IDENTITY, "")  # another process, the same id
    as_uuid = uuid.UUID(derived.removeprefix("indicator--"))
    assert as_uuid.version == 4 and as_uuid.variant == uuid.RFC_4122 and str(as_uuid) == derived[11:]
    others = {ids.derive("45.33.22.99", IDENTITY, ""), ids.derive("45.33.22.10", OTHER_IDENTITY, ""),
              ids.derive("45.33.22.10", IDENTITY, "spamhaus-drop"), IndicatorIds(OTHER_KEY).derive("45.33.22.10", IDENTITY, "")}
    assert derived not in others and len(others) == 4


def test_only_ids_this_key_derived_pass_the_check():
    ids = IndicatorIds(KEY)
    derived = ids.derive("sub.evil.example", IDENTITY, "feed-x")
    assert ids.is_derived(derived) and ids.is_derived(derived.upper().replace("INDICATOR--", "indicator--"))
    assert not IndicatorIds(OTHER_KEY).is_derived(derived)  # another registry's: a source's own id here
    assert not ids.is_derived(f"indicator--{uuid.uuid4()}")
    assert not ids.is_derived(derived.replace("indicator--", "sighting--"))
    tampered = derived[:-12] + ("0" if derived[-12] != "0" else "1") + derived[-11:]  # one digit of the value part
    assert not ids.is_derived(tampered)
    assert not ids.is_derived("indicator--not-a-uuid") and not ids.is_derived("indicator--" + "4" * 36)
