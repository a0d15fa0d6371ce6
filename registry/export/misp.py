"""``misp``: a MISP feed (the format MISP's own feed generator writes), so a MISP instance can
add the registry as a feed (``Sync Actions → Feeds → Add feed``, source format "MISP Feed",
URL ``http://registry:8000/api/v1/export/misp/``, header ``Authorization: Bearer KEY``):

- ``manifest.json``: ``{event uuid: event head}`` for every event;
- ``hashes.csv``: ``md5(value),event uuid`` a line, for MISP's feed correlation cache (hex
  digits and hyphens only: no cell a spreadsheet would compute, so it has no ``raw`` form);
- ``<event uuid>.json``: ``{"Event": {…, "Attribute": [...]}}``.

One event per source org and UTC day of first report. Its uuid is derived from the org's
STIX identity and the day (UUIDv5), so it never changes; its ``timestamp`` is the newest change
among its attributes, which is how MISP knows to fetch it again. One attribute per indicator
the org reported that day (feeds merged: highest confidence, all labels, the most restricted
TLP), tagged with its TLP (``tlp:amber``), labels and best grading (MISP's admiralty-scale
taxonomy: ``admiralty-scale:source-reliability="b"``); the event is tagged with the most
restricted TLP among its attributes and, unless all of it is TLP:CLEAR, distribution "your
organisation only", so the receiving MISP does not pass it on. Beside these, one event per
operation (``export.misp_operations``): the manifest lists both.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

import orjson

from registry.domain.kinds import (
    BANK_ACCOUNT,
    CRYPTO_WALLET,
    DOMAIN,
    EMAIL,
    FILE_HASH,
    IPV4,
    IPV6,
    PHONE,
    URL,
    USER_ACCOUNT,
)
from registry.domain.normalize.bank_account import iban_of
from registry.domain.rows import as_time
from registry.domain.tlp import CLEAR, RANK
from registry.export.chunks import joined
from registry.export.records import Listed, best_grades

MEDIA_TYPE = "application/json"
HASHES_MEDIA_TYPE = "text/csv; charset=utf-8"
# Namespace of the registry's MISP uuids (events and attributes): uuid5(NAMESPACE_URL, "registry:misp").
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "registry:misp")

# Kind → (attribute type, category): MISP's own defaults for each type. Some values of the new
# kinds take another type (``attribute_of``): an IBAN country's account ``iban``, a Monero wallet
# ``xmr``, an MD5 or SHA-1 hash ``md5``/``sha1``, an X account ``twitter-id``. MISP has no
# attribute type for the other chains' wallets nor for the other platforms' accounts: those are
# ``text`` with the canonical value (``tron:T…``, ``telegram:name``), which the registry's MISP
# import reads back by its prefix.
ATTRIBUTE_TYPES = {
    IPV4: ("ip-dst", "Network activity"),
    IPV6: ("ip-dst", "Network activity"),
    DOMAIN: ("domain", "Network activity"),
    URL: ("url", "Network activity"),
    EMAIL: ("email-src", "Payload delivery"),
    PHONE: ("phone-number", "Financial fraud"),
    BANK_ACCOUNT: ("bank-account-nr", "Financial fraud"),
    CRYPTO_WALLET: ("btc", "Financial fraud"),
    USER_ACCOUNT: ("text", "Social network"),
    FILE_HASH: ("sha256", "Payload delivery"),
}
_WALLET_TYPES = {"btc": "btc", "xmr": "xmr"}  # chain → MISP type; the others are text


def attribute_of(kind: str, value: str) -> tuple[str, str, str]:
    """(type, category, MISP value) of a canonical value. A bank account of an ASEAN member stays
    ``acct:CC:BANK:NUMBER`` in ``bank-account-nr``: the digits alone would lose the bank and country
    that tell two accounts of the same number apart."""
    attribute_type, category = ATTRIBUTE_TYPES[kind]
    if kind == FILE_HASH:
        algorithm, _, digest = value.partition(":")
        return algorithm, category, digest
    if kind == CRYPTO_WALLET:
        chain, _, address = value.partition(":")
        wallet_type = _WALLET_TYPES.get(chain)
        return (wallet_type, category, address) if wallet_type else ("text", category, value)
    if kind == USER_ACCOUNT:
        platform, _, identifier = value.partition(":")
        return ("twitter-id", category, identifier) if platform == "x" else (attribute_type, category, value)
    if kind == BANK_ACCOUNT:
        iban = iban_of(value)
        if iban is not None:
            return "iban", category, iban
    return attribute_type, category, value


def attribute_value(kind: str, value: str) -> str:
    """The value as the MISP attribute writes it (``hashes.csv`` hashes that)."""
    return attribute_of(kind, value)[2]
THREAT_LEVEL_UNDEFINED, ANALYSIS_COMPLETED = "4", "2"
DISTRIBUTION_ORG_ONLY, DISTRIBUTION_ALL, DISTRIBUTION_INHERIT = "0", "3", "5"


@dataclass(frozen=True, slots=True)
class Org:
    name: str
    stix_id: str  # identity--<uuid>: the uuid is the org's uuid in MISP too

    @property
    def uuid(self) -> str:
        return self.stix_id.partition("--")[2]


@dataclass(frozen=True, slots=True)
class Event:
    """The head of one event: one org's reports of one day."""

    org_id: int
    org: Org
    day: str  # YYYY-MM-DD (UTC)
    tlp: str  # the most restricted TLP among its attributes
    timestamp: int  # newest change among them, Unix seconds
    attributes: int

    @property
    def uuid(self) -> str:
        return event_uuid(self.org.stix_id, self.day)

    def head(self) -> dict:
        return {
            "uuid": self.uuid, "info": f"{self.org.name}: reports of {self.day} (registry)", "date": self.day,
            "timestamp": str(self.timestamp), "publish_timestamp": str(self.timestamp), "published": True,
            "threat_level_id": THREAT_LEVEL_UNDEFINED, "analysis": ANALYSIS_COMPLETED,
            "distribution": DISTRIBUTION_ALL if self.tlp == CLEAR else DISTRIBUTION_ORG_ONLY,
            "Orgc": {"name": self.org.name, "uuid": self.org.uuid},
            "Tag": [{"name": f"tlp:{self.tlp}"}],
        }


def event_uuid(org_stix_id: str, day: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"event\x1f{org_stix_id}\x1f{day}"))


def events(slices: Iterable[tuple], orgs: dict[int, Org]) -> list[Event]:
    """Events from the reader's (org_id, day, tlp, rows, last modified) groups."""
    merged: dict[tuple[int, str], list] = {}
    for org_id, day, tlp, rows, modified in slices:
        stamp = int(as_time(modified).timestamp())
        entry = merged.get((org_id, day))
        if entry is None:
            merged[(org_id, day)] = [tlp, stamp, rows]
            continue
        if RANK[tlp] > RANK[entry[0]]:
            entry[0] = tlp
        entry[1] = max(entry[1], stamp)
        entry[2] += rows
    return [Event(org_id, orgs[org_id], day, tlp, stamp, rows) for (org_id, day), (tlp, stamp, rows) in merged.items()]


def manifest(event_list: Iterable) -> bytes:
    """``{uuid: head}`` of these events (day events and operation events alike)."""
    return orjson.dumps({e.uuid: e.head() for e in event_list})


def day_of(value) -> str:
    """The UTC day of a stored time."""
    return value[:10] if isinstance(value, str) else as_time(value).date().isoformat()


def attributes(item: Listed, event_id: str) -> Iterator[dict]:
    """The item's attribute, and one more for each other hash of a file (``Listed.hashes``; MISP
    correlates on each hash)."""
    yield attribute(item, event_id)
    for other in item.hashes:
        yield attribute(item, event_id, other)


def attribute(item: Listed, event_id: str, value_as: str | None = None) -> dict:
    """The item's attribute; ``value_as``: another canonical value of the same indicator (a
    file's other hash) written with the item's claims."""
    claims = item.claims()
    canonical = value_as or item.value
    attribute_type, category, value = attribute_of(item.kind, canonical)
    tlp = max((c.tlp for c in claims), key=RANK.__getitem__)
    labels = sorted({label for c in claims for label in c.labels})
    feeds = sorted({c.feed for c in claims if c.feed})
    confidence = max(c.confidence for c in claims)
    comment = "; ".join(filter(None, [f"confidence {confidence}", "feeds " + ", ".join(feeds) if feeds else None,
                                      *sorted({c.description for c in claims if c.description})]))
    return {
        "uuid": str(uuid.uuid5(NAMESPACE, f"attribute\x1f{event_id}\x1f{canonical}")),
        "type": attribute_type, "category": category, "to_ids": True, "value": value, "comment": comment,
        "timestamp": str(max(int(as_time(c.modified).timestamp()) for c in claims)),
        "distribution": DISTRIBUTION_INHERIT,
        "Tag": [{"name": f"tlp:{tlp}"}, *({"name": label} for label in labels), *grade_tags(claims)],
    }


def grade_tags(claims) -> list[dict]:
    """The best grading the claims give (A before F, 1 before 6) as MISP's admiralty-scale
    taxonomy tags, which ``ingest.misp`` reads back."""
    reliability, credibility = best_grades(claims)
    tags = []
    if reliability is not None:
        tags.append({"name": f'admiralty-scale:source-reliability="{reliability.lower()}"'})
    if credibility is not None:
        tags.append({"name": f'admiralty-scale:information-credibility="{credibility}"'})
    return tags


def write_event(event: Event, items: Iterable[Listed]) -> Iterator[bytes]:
    """``{"Event": {head…, "Attribute": [...]}}``, streamed however many attributes it has."""
    head = orjson.dumps({"Event": event.head()})
    event_id = event.uuid

    def parts() -> Iterator[bytes]:
        yield head[:-2] + b',"Attribute":['
        first = True
        for item in items:
            for one in attributes(item, event_id):
                yield (b"" if first else b",") + orjson.dumps(one)
                first = False
        yield b"]}}"

    return joined(parts())


def hash_line(value: str, event_id: str) -> bytes:
    return f"{hashlib.md5(value.encode()).hexdigest()},{event_id}\n".encode()  # noqa: S324 - MISP's own choice


def write_hashes(items: Iterable[tuple[str, str]]) -> Iterator[bytes]:
    """``hashes.csv`` from (value, event uuid) pairs."""
    return joined(hash_line(value, event_id) for value, event_id in items)


def parse_day(day: str) -> date:
    return date.fromisoformat(day)
