"""An operation as one MISP event (docs/exports.md, "Operations in MISP"), for the MISP feed
(``export.misp``: its manifest lists the operations the caller may see beside the day events)
and ``GET /api/v1/operations/ID/misp``. Pure: the service reads the rows.

- The event: uuid that of the operation's STIX grouping (so MISP and STIX name it alike), info
  its name, date the day it was made, tagged with its TLP and labels, distribution "your
  organisation only" unless TLP:CLEAR, analysis "ongoing" while open and "completed" once closed;
  its description an event-level ``comment`` attribute; its timestamp the newest change among the
  operation, its members' visible reports and its visible relationships, so MISP fetches it again
  when any changed.
- Each member is one MISP object of the template MISP has for its kind (``TEMPLATES``: ip-port,
  domain-ip, url, email, phone-number, bank-account, coin-address, user-account, file) holding its
  value as the feed's attribute mapping writes it (``misp.attribute_of``; an account as the
  user-account template's ``account-type`` and ``username`` or ``user-id``; a file's hashes as one
  file object). A member the caller sees reports of carries what they say (TLP, labels, grading,
  confidence and feeds in the comment, ``to_ids``); one without is tagged with the operation's TLP,
  not ``to_ids``.
- Each relationship between members is an ``ObjectReference`` of its source's object to its
  target's (MISP references start at an object: hence one object per member), its type the
  registry's, its comment the stating org, TLP and confidence.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

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
from registry.domain.rows import as_time, decode_labels
from registry.domain.tlp import CLEAR
from registry.export import misp
from registry.export.records import Listed
from registry.stix.mapping import account_fields

ANALYSIS_ONGOING = "1"
# kind → (object template, its uuid, version, meta-category, the value's relation by attribute type)
TEMPLATES: dict[str, tuple[str, str, str, str, dict[str, str]]] = {
    IPV4: ("ip-port", "9f8cea74-16fe-4968-a2b4-026676949ac6", "10", "network", {"ip-dst": "ip"}),
    IPV6: ("ip-port", "9f8cea74-16fe-4968-a2b4-026676949ac6", "10", "network", {"ip-dst": "ip"}),
    DOMAIN: ("domain-ip", "43b3b146-77eb-4931-b4cc-b66c60f28734", "11", "network", {"domain": "domain"}),
    URL: ("url", "60efb77b-40b5-4c46-871b-ed1ed999fce5", "10", "network", {"url": "url"}),
    EMAIL: ("email", "a0c666e0-fc65-4be8-b48f-3423d788b552", "19", "network", {"email-src": "from"}),
    PHONE: ("phone-number", "c4b5a67c-63d2-11ec-90d6-0242ac120003", "1", "mobile", {"phone-number": "phone-number"}),
    BANK_ACCOUNT: ("bank-account", "b4712203-95a8-4883-80e9-b566f5df11c9", "3", "financial",
                   {"bank-account-nr": "account", "iban": "iban"}),
    CRYPTO_WALLET: ("coin-address", "d0e6997e-78da-4815-a6a1-cfc1c1cb8a46", "7", "financial",
                    {"btc": "address", "xmr": "address-xmr", "text": "address-crypto"}),
    USER_ACCOUNT: ("user-account", "49606b06-22f0-4ac8-8eee-2f12ad46f3d3", "6", "misc", {}),
    FILE_HASH: ("file", "688c46fb-5edb-40a3-8273-1af7923e2215", "25", "file",
                {"md5": "md5", "sha1": "sha1", "sha256": "sha256"}),
}


@dataclass(frozen=True, slots=True)
class Member:
    indicator_id: int
    kind: str
    value: str


@dataclass(frozen=True, slots=True)
class Link:
    """A relationship between two members: ends by indicator id."""

    uid: str
    source_id: int
    target_id: int
    type: str
    org: str
    tlp: str
    confidence: int
    modified: object


@dataclass(frozen=True, slots=True)
class OperationEvent:
    """The head of an operation's event. ``timestamp``: newest change, Unix seconds."""

    uuid: str
    name: str
    org: misp.Org
    tlp: str
    labels: tuple[str, ...]
    open: bool
    day: str
    timestamp: int
    description: str | None = None

    def head(self) -> dict:
        return {
            "uuid": self.uuid, "info": self.name, "date": self.day, "timestamp": str(self.timestamp),
            "publish_timestamp": str(self.timestamp), "published": True,
            "threat_level_id": misp.THREAT_LEVEL_UNDEFINED,
            "analysis": ANALYSIS_ONGOING if self.open else misp.ANALYSIS_COMPLETED,
            "distribution": misp.DISTRIBUTION_ALL if self.tlp == CLEAR else misp.DISTRIBUTION_ORG_ONLY,
            "Orgc": {"name": self.org.name, "uuid": self.org.uuid},
            "Tag": [{"name": f"tlp:{self.tlp}"}, *({"name": label} for label in self.labels)],
        }


def operation_event(op, org: misp.Org, grouping_id: str, newest: Iterable) -> OperationEvent:
    """The head of ``op``'s event (an ``OperationRow``); ``newest``: the times of the changes it
    shows beside the operation's own (its members' reports, its relationships)."""
    stamp = max(int(as_time(t).timestamp()) for t in (op.modified, *(t for t in newest if t is not None)))
    return OperationEvent(uuid=grouping_id.partition("--")[2], name=op.name, org=org, tlp=op.tlp,
                          labels=tuple(decode_labels(op.labels)), open=op.status == "open",
                          day=misp.day_of(op.created), timestamp=stamp, description=op.description)


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(misp.NAMESPACE, "\x1f".join(parts)))


def _object_uuid(event_id: str, value: str) -> str:
    return _uuid("object", event_id, value)


def member_object(event: OperationEvent, member: Member, listed: Listed | None) -> dict:
    """The member's object: its template's, holding its value's attribute(s)."""
    name, template_uuid, version, category, relations = TEMPLATES[member.kind]
    event_id = event.uuid
    if listed is not None:
        attributes = list(misp.attributes(listed, event_id))
    else:
        attributes = [_unreported(event, member.kind, member.value)]
    if member.kind == USER_ACCOUNT:
        platform, prop, ident = account_fields(member.value)
        for attribute in attributes:
            attribute.update(type="text", value=ident, object_relation="user-id" if prop == "user_id" else "username")
        attributes.insert(0, {**attributes[0], "uuid": _uuid("account-type", event_id, member.value), "type": "text",
                              "value": platform, "object_relation": "account-type", "to_ids": False})
    else:
        for attribute in attributes:
            attribute["object_relation"] = relations.get(attribute["type"], "text")
    return {
        "uuid": _object_uuid(event_id, member.value), "name": name, "meta-category": category,
        "template_uuid": template_uuid, "template_version": version,
        "timestamp": max(a["timestamp"] for a in attributes), "distribution": misp.DISTRIBUTION_INHERIT,
        "comment": "", "Attribute": attributes, "ObjectReference": [],
    }


def _unreported(event: OperationEvent, kind: str, value: str) -> dict:
    """A member the caller sees no report of: in the operation at its TLP, not for detection."""
    attribute_type, category, written = misp.attribute_of(kind, value)
    return {
        "uuid": _uuid("attribute", event.uuid, value), "type": attribute_type, "category": category,
        "to_ids": False, "value": written, "comment": "a member of the operation; no report of it is shown",
        "timestamp": str(event.timestamp), "distribution": misp.DISTRIBUTION_INHERIT,
        "Tag": [{"name": f"tlp:{event.tlp}"}],
    }


def written_value(kind: str, value: str) -> str:
    """The value as the member's object writes it (``hashes.csv`` hashes that)."""
    return account_fields(value)[2] if kind == USER_ACCOUNT else misp.attribute_value(kind, value)


def reference(event_id: str, link: Link, source_value: str, target_value: str) -> dict:
    return {
        "uuid": _uuid("reference", event_id, link.uid), "object_uuid": _object_uuid(event_id, source_value),
        "referenced_uuid": _object_uuid(event_id, target_value), "relationship_type": link.type,
        "comment": f"{link.org}, TLP:{link.tlp.upper()}, confidence {link.confidence}",
        "timestamp": str(int(as_time(link.modified).timestamp())),
    }


def write_event(event: OperationEvent, members: Sequence[Member], listed: Mapping[int, Listed],
                links: Iterable[Link]) -> bytes:
    """``{"Event": {head…, "Attribute": [the description], "Object": [one per member]}}``."""
    objects, value_of = {}, {}
    for member in members:
        objects[member.indicator_id] = member_object(event, member, listed.get(member.indicator_id))
        value_of[member.indicator_id] = member.value
    for link in links:
        if link.source_id in objects and link.target_id in objects:
            objects[link.source_id]["ObjectReference"].append(
                reference(event.uuid, link, value_of[link.source_id], value_of[link.target_id]))
    attributes = []
    if event.description:
        attributes.append({"uuid": _uuid("description", event.uuid), "type": "comment", "category": "Other",
                           "to_ids": False, "value": event.description, "comment": "",
                           "timestamp": str(event.timestamp), "distribution": misp.DISTRIBUTION_INHERIT})
    body = {**event.head(), "Attribute": attributes, "Object": list(objects.values())}
    return orjson.dumps({"Event": body})
