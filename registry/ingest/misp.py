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
    bank-account-nr, iban         → a bank account (digits alone read in the feed's region)
    btc, xmr                      → a crypto wallet
    md5, sha1, sha256             → a file hash
    filename|md5 (sha1, sha256)   → the file's hash (the name is dropped)
    twitter-id                    → an x account
    text                          → only a canonical ``platform:id`` or ``chain:address`` (what
                                    the registry's own MISP feed writes for accounts and the
                                    chains MISP has no type for); other text is ignored

and these objects, each one value: a ``file`` object's md5, sha1 and sha256 (one file-hash
carrying the others); a ``bank-account`` object's ``iban``, or its ``account`` with the bank
its ``swift``, ``institution-code`` or ``institution-name`` names; a ``telegram-account``,
``twitter-account``, ``facebook-account``, ``instagram-account`` object's username or id, and a
``user-account`` object's ``username`` or ``user-id`` on the platform its ``account-type``
names (``ACCOUNT_OBJECTS``). Account objects are read whatever their ``to_ids`` flag: MISP's
text attributes are never flagged for IDS.

Other types (other hashes, file names, registry keys…) are counted as ignored, not rejected:
they are not values this registry holds. Attributes marked ``deleted`` are passed over, and
with ``to_ids_only`` (the default) so are those without the ``to_ids`` flag, as MISP's own
blocklist exports do. The event's ``tlp:`` tag gives its TLP; its other tags and each
attribute's tags become labels (those that are not slugs, such as galaxy tags, are dropped);
an attribute's comment is its description and its timestamp its first-seen time. The
admiralty-scale taxonomy's tags (``admiralty-scale:source-reliability="b"``,
``admiralty-scale:information-credibility="2"``) give the grading, an attribute's over its
event's (``grade_of``).
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from registry.domain import grading, json_input
from registry.domain import tlp as tlp_mod
from registry.domain.kinds import (
    BANK_ACCOUNT,
    CRYPTO_WALLET,
    DOMAIN,
    EMAIL,
    FILE_HASH,
    PHONE,
    URL,
    USER_ACCOUNT,
)
from registry.domain.normalize.account_rules import PLATFORMS
from registry.domain.normalize.crypto_wallet import CHAINS
from registry.domain.normalize.file_hash import file_hashes_text
from registry.ingest.records import FeedFormatError, Record, clip_line

#: MISP attribute type → registry kind hint (None: detect: an IP address or network; for
#: ``text``, the kind its prefix names).
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
    "bank-account-nr": BANK_ACCOUNT,
    "iban": BANK_ACCOUNT,
    "btc": CRYPTO_WALLET,
    "xmr": CRYPTO_WALLET,
    "md5": FILE_HASH,
    "sha1": FILE_HASH,
    "sha256": FILE_HASH,
    "filename|md5": FILE_HASH,
    "filename|sha1": FILE_HASH,
    "filename|sha256": FILE_HASH,
    "twitter-id": USER_ACCOUNT,
    "text": None,
}
_PLATFORM_OF_TYPE = {"twitter-id": "x"}
#: A ``text`` attribute is a value only in these canonical forms: ``telegram:name``, ``tron:T…``.
_TEXT_PREFIXES = {**dict.fromkeys(PLATFORMS, USER_ACCOUNT), **dict.fromkeys(CHAINS, CRYPTO_WALLET)}
#: Account objects → (platform, their identifier attributes in order of preference); ``user-account``
#: names its platform in ``account-type``.
ACCOUNT_OBJECTS: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "telegram-account": ("telegram", ("username", "id", "phone")),
    "twitter-account": ("x", ("name", "id")),
    "facebook-account": ("facebook", ("account-name", "account-id")),
    "instagram-account": ("instagram", ("account-name", "account-id")),
    "user-account": (None, ("username", "user-id")),
}
_FILE_HASHES = ("md5", "sha1", "sha256")
_BANK_NAMES = ("swift", "institution-code", "institution-name")


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
    grade: tuple[str | None, int | None] = (None, None)  # its admiralty-scale tags' (``grade_of``)


def _tags(obj: dict) -> list[str]:
    return [t["name"] for t in obj.get("Tag") or () if isinstance(t, dict) and isinstance(t.get("name"), str)]


_ADMIRALTY = re.compile(r'admiralty-scale:(source-reliability|information-credibility)\s*=\s*"?([^"]*)"?',
                        re.IGNORECASE)


def grade_of(tags: list[str], inherited: tuple[str | None, int | None] = (None, None)) -> tuple[str | None, int | None]:
    """The (reliability, credibility) MISP's admiralty-scale taxonomy tags give
    (``admiralty-scale:source-reliability="b"``, ``admiralty-scale:information-credibility="2"``),
    each over ``inherited`` (the event's, for an attribute); a tag of another value is no grade."""
    reliability, credibility = inherited
    for tag in tags:
        found = _ADMIRALTY.fullmatch(tag.strip())
        if found is None:
            continue
        with contextlib.suppress(grading.GradeError):
            if found.group(1).lower() == "source-reliability":
                reliability = grading.reliability(found.group(2)) or reliability
            else:
                credibility = grading.credibility(found.group(2)) or credibility
    return reliability, credibility


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
                labels=tuple(labels), grade=grade_of(labels))
    attributes = [a for a in event.get("Attribute") or () if isinstance(a, dict)]
    for obj in event.get("Object") or ():
        if not isinstance(obj, dict):
            continue
        members = [a for a in obj.get("Attribute") or () if isinstance(a, dict)]
        taken = _object_record(out, obj, members, to_ids_only)
        if taken is None:  # not an object read whole: its attributes one by one
            attributes.extend(members)
        elif taken is not False:
            out.records.append(taken)
    for attribute in attributes:
        kind_of = attribute.get("type")
        if kind_of not in ATTRIBUTE_KINDS:
            out.ignored += 1
            continue
        if _passed_over(attribute, to_ids_only):
            continue
        value = attribute.get("value")
        if not isinstance(value, str) or not value.strip():
            continue
        kind = ATTRIBUTE_KINDS[kind_of]
        if kind_of == "text":
            kind = _TEXT_PREFIXES.get(value.partition(":")[0].strip().lower())
            if kind is None:
                out.ignored += 1
                continue
        elif kind_of.endswith("|port"):
            value = value.partition("|")[0]
        elif kind_of.startswith("filename|"):
            value = value.rpartition("|")[2]  # NAME|HASH: the name is not a value
        out.records.append(_record(out, attribute, f"{kind_of} {attribute.get('value')}", value, kind,
                                   platform=_PLATFORM_OF_TYPE.get(kind_of)))
    return out


def _passed_over(attribute: dict, to_ids_only: bool) -> bool:
    return attribute.get("deleted") in (True, "1", 1) or (to_ids_only and attribute.get("to_ids") in (False, "0", 0))


def _record(event: Event, attribute: dict, what: str, value: str, kind: str | None, **parts) -> Record:
    """The record of one value; ``attribute`` gives its tags, comment and times."""
    comment = attribute.get("comment")
    first = attribute.get("first_seen")  # MISP 2.4.120+: ISO text; older: absent
    first_seen = first if isinstance(first, str) and first.strip() and not first.isdigit() else None
    tags = _tags(attribute)
    reliability, credibility = grade_of(tags, event.grade) if tags else event.grade
    return Record(
        line_no=len(event.records) + 1, value=value.strip(), line=clip_line(f"{event.uuid} {what}"),
        kind=kind, labels=(*event.labels, *tags), reliability=reliability, credibility=credibility,
        first_seen=first_seen or _iso(attribute.get("timestamp")),
        description=comment[:4000] if isinstance(comment, str) and comment.strip() else None, **parts,
    )


def _object_record(event: Event, obj: dict, members: list[dict], to_ids_only: bool) -> Record | bool | None:
    """The one record of a ``file``, ``bank-account`` or account object; False when the object is
    one of these with nothing to take; None for other objects (their attributes are read one by one)."""
    name = obj.get("name")
    by_relation: dict[str, dict] = {}
    for attribute in members:
        relation = attribute.get("object_relation")
        value = attribute.get("value")
        if (isinstance(relation, str) and isinstance(value, str) and value.strip()
                and attribute.get("deleted") not in (True, "1", 1)):
            by_relation.setdefault(relation, attribute)
    if name == "file":
        hashes = {r: a for r, a in by_relation.items() if r in _FILE_HASHES and not _passed_over(a, to_ids_only)}
        if not hashes:
            return None if not any(r in _FILE_HASHES for r in by_relation) else False
        text = file_hashes_text({r: a["value"].strip() for r, a in hashes.items()})
        first = next(iter(hashes.values()))
        return _record(event, first, f"file {text}", text, FILE_HASH)
    if name == "bank-account":
        iban, account = by_relation.get("iban"), by_relation.get("account")
        main = iban or account
        if main is None or _passed_over(main, to_ids_only):
            return False
        if iban is not None:
            return _record(event, iban, f"bank-account iban {iban['value']}", iban["value"], BANK_ACCOUNT)
        bank = next((by_relation[r]["value"].strip() for r in _BANK_NAMES if r in by_relation), None)
        return _record(event, account, f"bank-account {bank or '-'} {account['value']}", account["value"],
                       BANK_ACCOUNT, bank=bank)
    if name in ACCOUNT_OBJECTS:
        platform, relations = ACCOUNT_OBJECTS[name]
        if platform is None:
            written = by_relation.get("account-type", {}).get("value", "")
            platform = written.strip().lower() if isinstance(written, str) else ""
            if platform == "twitter":
                platform = "x"
            if platform not in PLATFORMS:  # ldap, unix, windows accounts: not this registry's
                return None
        found = next((by_relation[r] for r in relations if r in by_relation), None)
        if found is None:
            return False
        return _record(event, found, f"{name} {found['value']}", found["value"], USER_ACCOUNT, platform=platform)
    return None
