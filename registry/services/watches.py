"""Watches: what an org asks to hear of (docs/design.md, "Events and watches"; docs/api.md,
"Watches"). A watch is a value or block, normalised as every value is (an IP or network, a domain,
a URL, a phone number or block such as ``+85597*``, an account, a wallet, a hash), optionally
narrowed by kinds, labels and source orgs; or a label alone. ``services.events.route`` matches
events to them through the lookup's probe keys.

Any key or user of an org may add a watch and list the org's watches; a contributor or above
removes any of them, a reader only the ones it made (docs/security.md, "Watches"). The same
watch added again answers the one the org has (``Added.new`` false). The web layer and the CLI
audit what these do (``audit_subject``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection

from registry.domain import roles
from registry.domain.events import listed
from registry.domain.keys import parent_domains
from registry.domain.kinds import DOMAIN, KINDS
from registry.domain.normalize import NormalizeError, normalize
from registry.domain.times import iso, utcnow
from registry.services.access import ON_SERVER
from registry.services.errors import Conflict, Forbidden, Invalid, NotFound, given_text
from registry.services.orgs import require_org
from registry.services.submit import clean_labels
from registry.storage import orgs as org_store
from registry.storage import watches as store

MAX_WATCHES = 10_000  # per org: far above what analysts keep, low enough to list in one answer
MAX_VALUE = 2048  # characters: the longest canonical value stored
MAX_LABEL = 100  # characters of a watched label, as stored
MAX_LABELS = 1000  # characters of the narrowing labels together, as stored
MAX_SOURCES = 1000  # characters of the narrowing source orgs together, as stored
MAX_ID = 36  # a watch's id: a UUID


class Added(NamedTuple):
    watch: dict
    new: bool  # False: the org had this watch already, and ``watch`` is that one


def shown(row: store.WatchRow) -> dict:
    """A watch as callers see it: ``id`` (a UUID: row ids count every org's watches), the
    watched ``value`` and its ``kind`` or the watched ``label``, the narrowing ``kinds``,
    ``labels`` and ``sources`` (empty: any), who made it and when."""
    return {"id": row.uid, "value": row.key, "kind": row.kind, "label": row.label, "kinds": list(listed(row.kinds)),
            "labels": list(listed(row.labels)), "sources": list(listed(row.sources)), "actor": row.actor,
            "created": iso(row.created)}


def _stored(names: Iterable[str]) -> str:
    """A narrowing list as the watch table keeps it: ,a,b, (empty: any)."""
    names = list(names)
    return "," + ",".join(names) + "," if names else ""


def _strings(items, name: str) -> list[str]:
    if isinstance(items, str) or not isinstance(items, Iterable):
        raise Invalid(f"{name} must be a list of names, not {type(items).__name__}", field=name)
    out = []
    for item in items:
        if not isinstance(item, str) or "\x00" in item:
            raise Invalid(f"{name} must hold text without NUL characters, not {item!r}", field=name)
        out.append(item.strip())
    return [item for item in out if item]


def _kinds(items) -> list[str]:
    given = set(_strings(items, "kinds"))
    unknown = sorted(given - set(KINDS))
    if unknown:
        raise Invalid(f"kinds: unknown kind {unknown[0]!r}; use {', '.join(KINDS)}", field="kinds",
                      details={"allowed": list(KINDS)})
    return [kind for kind in KINDS if kind in given]


def _labels(items) -> list[str]:
    labels = list(clean_labels(_strings(items, "labels")))
    if len(_stored(labels)) > MAX_LABELS:
        raise Invalid(f"labels must be at most {MAX_LABELS} characters together", field="labels")
    return labels


def _sources(conn: Connection, items) -> list[str]:
    given = sorted(set(_strings(items, "sources")))
    if not given:
        return []
    known = {org.slug for org in org_store.all_orgs(conn)}
    unknown = [slug for slug in given if slug not in known]
    if unknown:
        raise Invalid(f"sources: no org {unknown[0]!r}; give the slugs of orgs that report (such as ccib-th)",
                      field="sources")
    if len(_stored(given)) > MAX_SOURCES:
        raise Invalid(f"sources must be at most {MAX_SOURCES} characters together", field="sources")
    return given


def _watched_label(text: str) -> str:
    try:
        cleaned = clean_labels([text])
    except Invalid as exc:
        raise Invalid(exc.message, field="label") from None
    if not cleaned:
        raise Invalid("label must be a short slug such as call-centre-scam", field="label")
    return cleaned[0]


def _watched_value(text: str, region: str | None) -> dict:
    """The watch table's fields of a watched value: its canonical key, kind, and for networks and
    number blocks the prefix length (and a network's start) that matching needs."""
    try:
        values = normalize(text, region=region)
    except NormalizeError as exc:
        raise Invalid(f"value: {exc}", field="value") from None
    if len(values) != 1:  # an a-b range that is no one network
        raise Invalid(f"value: {text!r} covers {len(values)} networks ({', '.join(v.value for v in values)}): watch "
                      "each one", field="value", details={"networks": [v.value for v in values]})
    value = values[0]
    if value.kind == DOMAIN and value.value not in parent_domains("x." + value.value):
        # Hosts under a public suffix are each their own registrable domain: matching never
        # climbs to it (domain.keys.parent_domains), so the watch would catch only itself.
        raise Invalid(f"value: {value.value} is a public suffix: watch a domain registered under it",
                      field="value")
    return {"key": value.value, "kind": value.kind, "prefix_len": value.prefix_len, "range_start": value.range_start}


def add(conn: Connection, org: str, actor: str | None, *, value=None, kinds=(), labels=(), sources=(), label=None,
        region: str | None = None, now: datetime | None = None) -> Added:
    """Watch ``value`` (narrowed by ``kinds``, ``labels``, ``sources``) or ``label`` alone for
    ``org`` (a slug), made by ``actor``. A national phone number or account reads in the org's
    country, else ``region``. ``Invalid`` names the field at fault; the org's watches are capped
    at MAX_WATCHES (``Conflict``)."""
    value = given_text(value, "value", limit=MAX_VALUE)
    label = given_text(label, "label", limit=MAX_LABEL)
    if value is not None and label is not None:
        raise Invalid("give a value or a label to watch, not both (labels narrow a value watch to events "
                      "carrying one of them)", field="label")
    if value is None and label is None:
        raise Invalid("give the value to watch (an IP or network, domain, URL, phone number or block such as "
                      "+85597*, account, wallet or hash), or a label", field="value")
    owner = require_org(conn, org)
    row = {"key": None, "kind": None, "prefix_len": None, "range_start": None, "label": None}
    kinds, labels, sources = _kinds(kinds), _labels(labels), _sources(conn, sources)
    if value is not None:
        row.update(_watched_value(value, owner.country or region))
    elif labels:
        raise Invalid("labels narrow a value watch; a label watch is the label alone", field="labels")
    else:
        row["label"] = _watched_label(label)
    row.update(kinds=_stored(kinds), labels=_stored(labels), sources=_stored(sources))
    store.lock_org(conn, owner.id)
    existing = store.same(conn, owner.id, key=row["key"], label=row["label"], kinds=row["kinds"],
                          labels=row["labels"], sources=row["sources"])
    if existing is not None:
        return Added(shown(existing), False)
    if store.count_of(conn, owner.id) >= MAX_WATCHES:
        raise Conflict(f"{org} has {MAX_WATCHES:,} watches, the most an org may have: remove some first",
                       details={"limit": MAX_WATCHES})
    uid = str(uuid.uuid4())
    store.insert(conn, uid=uid, org_id=owner.id, actor=actor, created=now or utcnow(), **row)
    return Added(shown(store.by_uid(conn, uid)), True)


def list_watches(conn: Connection, org: str) -> list[dict]:
    """The org's watches, oldest first."""
    return [shown(row) for row in store.of_org(conn, require_org(conn, org).id)]


def may_remove(by, actor: str | None) -> bool:
    """Whether ``by`` (a ``Principal`` of the watch's org, or ``ON_SERVER``) may remove a watch
    ``actor`` made: a contributor or above any, a reader its own."""
    return by is ON_SERVER or roles.allows(by.role, roles.CONTRIBUTOR) or (actor is not None and actor == by.actor)


def remove(conn: Connection, org: str, uid, *, by) -> dict:
    """Remove the org's watch ``uid``; the watch as it was. Another org's watch is as unknown as
    one that never was (``NotFound``)."""
    row = store.by_uid(conn, uid) if isinstance(uid, str) and len(uid) <= MAX_ID else None
    if row is None or row.org != org or (by is not ON_SERVER and by.org != org):
        raise NotFound(f"no watch {uid!r} of {org}", field="id")
    if not may_remove(by, row.actor):
        raise Forbidden(f"a reader removes only the watches it made; {row.actor or 'the server operator'} made this "
                        "one: ask a contributor of your org", details={"needed_role": roles.CONTRIBUTOR, "role": by.role})
    store.remove(conn, row.id)
    return shown(row)


def source_orgs(conn: Connection) -> list[str]:
    """The slugs a watch may be narrowed to (every org)."""
    return [org.slug for org in org_store.all_orgs(conn)]


def audit_subject(watch: dict, *, new: bool | None = None, org: str | None = None) -> dict:
    """The ``watch-add`` (``new``: whether it was made now) and ``watch-remove`` audit subject
    (the API, the page and the command record the same; the command names the ``org``)."""
    subject = {"id": watch["id"], "value": watch["value"], "label": watch["label"], "kinds": watch["kinds"],
               "labels": watch["labels"], "sources": watch["sources"]}
    if new is not None:
        subject["new"] = new
    if org is not None:
        subject["org"] = org
    return subject
