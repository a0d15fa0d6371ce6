"""MISP feeds: ``manifest.json`` (event uuid → info, timestamp, tags), then one
``<uuid>.json`` file per event (``{"Event": {…, "Attribute": [...], "Object": [...]}}``).

A run reads the manifest and fetches only the events that are new or whose timestamp changed
since the last run (the feed keeps ``{uuid: timestamp}`` as its position). From each event,
the attributes (its own and its objects') of the types the registry holds:

    ip-src, ip-dst                → the address or network
    ip-src|port, ip-dst|port      → the address (the port is dropped)
    domain, hostname              → a domain
    url                           → a URL
    email, email-src, email-dst   → an e-mail address
    phone-number                  → a phone number

Other types (hashes, file names, registry keys…) are counted as ignored, not rejected:
they are not values this registry holds. Attributes marked ``deleted`` are passed over, and
with ``to_ids_only`` (the default) so are those without the ``to_ids`` flag, as MISP's own
blocklist exports do. The event's ``tlp:`` tag gives its TLP; its other tags and each
attribute's tags become labels (those that are not slugs, such as galaxy tags, are dropped);
an attribute's comment is its description and its timestamp its first-seen time.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

from registry.domain import json_input
from registry.domain import tlp as tlp_mod
from registry.domain.kinds import DOMAIN, EMAIL, PHONE, URL
from registry.ingest.records import FeedFormatError, Record, clip_line

#: MISP attribute type → registry kind hint (None: detect, an IP address or network).
ATTRIBUTE_KINDS: dict[str, str | None] = {
    "ip-src": None,
    "ip-dst": None,
    "ip-src|port": None,
    "ip-dst|port": None,
    "domain": DOMAIN,
    "hostname": DOMAIN,
    "url": URL,
    "email": EMAIL,
    "email-src": EMAIL,
    "email-dst": EMAIL,
    "phone-number": PHONE,
}


@dataclass(frozen=True)
class ManifestEntry:
    uuid: str
    timestamp: int
    info: str


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def parse_manifest(data: bytes, *, name: str = "manifest.json") -> list[ManifestEntry]:
    """The events a MISP feed lists, oldest first."""
    try:
        doc = json_input.loads(data)
    except json_input.JSONInputError as exc:
        raise FeedFormatError(f"not a MISP feed manifest ({exc})", name=name) from None
    if not isinstance(doc, dict) or not all(isinstance(v, dict) for v in doc.values()):
        raise FeedFormatError("not a MISP feed manifest: expected {event uuid: {info, timestamp, …}}", name=name)
    entries = []
    for uuid, meta in doc.items():
        stamp = _int(meta.get("timestamp"))
        if stamp is None or not uuid.replace("-", "").isalnum() or len(uuid) > 64:
            raise FeedFormatError(f"manifest entry {uuid[:64]!r} has no usable uuid and timestamp", name=name)
        entries.append(ManifestEntry(uuid, stamp, str(meta.get("info") or "")))
    entries.sort(key=lambda e: (e.timestamp, e.uuid))
    return entries


@dataclass
class Event:
    """One event file's values: ``records`` with the event's ``tlp`` (None: the feed's)."""

    uuid: str
    timestamp: int | None
    tlp: str | None
    labels: tuple[str, ...]
    records: list[Record] = field(default_factory=list)
    ignored: int = 0  # attributes of types the registry does not hold


def _tags(obj: dict) -> list[str]:
    return [t["name"] for t in obj.get("Tag") or () if isinstance(t, dict) and isinstance(t.get("name"), str)]


def _iso(epoch) -> str | None:
    stamp = _int(epoch)
    if stamp is None or not 0 < stamp < 253402300800:
        return None
    return datetime.fromtimestamp(stamp, UTC).isoformat()


def parse_event(data: bytes, *, name: str = "<event>", to_ids_only: bool = True) -> Event:
    try:
        doc = json_input.loads(data)
    except json_input.JSONInputError as exc:
        raise FeedFormatError(f"not a MISP event ({exc})", name=name) from None
    event = doc.get("Event") if isinstance(doc, dict) else None
    if not isinstance(event, dict):
        raise FeedFormatError('not a MISP event: expected {"Event": {…}}', name=name)
    tlp = None
    labels = []
    for tag in _tags(event):
        if tag.lower().startswith("tlp:"):
            with contextlib.suppress(ValueError):  # tlp:ex:chr and other private levels: the feed's TLP
                tlp = tlp_mod.parse_tlp(tag[4:])
        else:
            labels.append(tag)
    out = Event(uuid=str(event.get("uuid") or ""), timestamp=_int(event.get("timestamp")), tlp=tlp,
                labels=tuple(labels))
    attributes = [a for a in event.get("Attribute") or () if isinstance(a, dict)]
    for obj in event.get("Object") or ():
        if isinstance(obj, dict):
            attributes.extend(a for a in obj.get("Attribute") or () if isinstance(a, dict))
    for n, attribute in enumerate(attributes, start=1):
        kind_of = attribute.get("type")
        if kind_of not in ATTRIBUTE_KINDS:
            out.ignored += 1
            continue
        if attribute.get("deleted") in (True, "1", 1) or (to_ids_only and attribute.get("to_ids") in (False, "0", 0)):
            continue
        value = attribute.get("value")
        if not isinstance(value, str) or not value.strip():
            continue
        if kind_of.endswith("|port"):
            value = value.partition("|")[0]
        comment = attribute.get("comment")
        first = attribute.get("first_seen")  # MISP 2.4.120+: ISO text; older: absent
        first_seen = first if isinstance(first, str) and first.strip() and not first.isdigit() else None
        out.records.append(Record(
            line_no=n, value=value.strip(), line=clip_line(f"{out.uuid} {kind_of} {attribute.get('value')}"),
            kind=ATTRIBUTE_KINDS[kind_of], labels=(*labels, *_tags(attribute)),
            first_seen=first_seen or _iso(attribute.get("timestamp")),
            description=comment[:4000] if isinstance(comment, str) and comment.strip() else None,
        ))
    return out
