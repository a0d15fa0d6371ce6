"""Federation: pull another registry's (or any TAXII 2.1 server's) collection into this one.

``pull`` pages through the remote collection with taxii2-client's ``as_pages``, from the
``added_after`` cursor stored for (API root URL, collection) in ``pull_state``, and imports each
page through the STIX importer in its own transaction. The cursor is the highest
``X-TAXII-Date-Added-Last`` seen and is saved only once the whole pull succeeded: a page
boundary may fall inside a run of objects sharing one timestamp, so resuming from a mid-pull
cursor could skip the rest of that run, while pulling a page again is harmless (the import
counts it unchanged). TAXII's ``added_after`` trusts the remote's ``date_added`` order: a row
the remote commits later with an earlier ``date_added`` than the cursor would be missed (a
registry's ``date_added`` is the row's change time; ``--full`` pulls everything again).

Attribution: an object keeps its source when the remote Identity names an org this registry
has (same STIX id, or the slug a registry export puts in the Identity); otherwise it is
``org``'s, the org the pull is made for. Orgs are never created from remote data. The pulled
assertions are kept apart from the orgs' own submissions under the feed name ``taxii:HOST``.

The remote server decides what is served: pulling with a key of our org on the remote
registry brings exactly what that key may see there (TLP included).
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

import requests
from taxii2client.exceptions import InvalidJSONError, TAXIIServiceException, ValidationError
from taxii2client.v21 import ApiRoot, Collection, as_pages

from registry.domain.times import utcnow
from registry.services.errors import Invalid, RegistryError
from registry.services.orgs import require_org
from registry.services.stix_import import import_bundle
from registry.stix.times import parse_stix_time
from registry.storage import taxii as taxii_store
from registry.storage.db import Database

MAX_REMINTS = 20  # of those, the ones a pull's counts show
PER_REQUEST = 1000  # a registry's default page (it serves up to 10,000); other servers may serve fewer
_COUNTS = ("read", "new", "updated", "unchanged", "allowlisted", "rejected", "held")


class _DateAddedRecorder(requests.auth.AuthBase):
    """HTTP Basic (when given) or fixed headers (a feed's ``auth_header_env``), plus a response
    hook keeping the latest ``X-TAXII-Date-Added-Last`` (taxii2-client returns only the JSON body)."""

    def __init__(self, user: str | None, password: str | None, headers: dict | None = None) -> None:
        self.basic = requests.auth.HTTPBasicAuth(user or "", password) if password is not None else None
        self.headers = headers or {}
        self.latest: datetime | None = None
        self.latest_text: str | None = None

    def __call__(self, request):
        if self.basic is not None:
            request = self.basic(request)
        request.headers.update(self.headers)
        request.register_hook("response", self._seen)
        return request

    def _seen(self, response, **_kwargs):
        stamp = response.headers.get("X-TAXII-Date-Added-Last")
        added = parse_stix_time(stamp)
        if added is not None and (self.latest is None or added > self.latest):
            self.latest, self.latest_text = added, stamp
        return response


def api_root(url: str) -> str:
    if not url.startswith(("http://", "https://")):
        raise Invalid(f"{url!r} is not an http(s) URL of a TAXII API root", field="url")
    return url if url.endswith("/") else url + "/"


class PullFailed(RegistryError):
    """The remote server could not be read (unreachable, refused the key, not TAXII 2.1)."""

    status = 502
    code = "pull_failed"


def pull(db: Database, url: str, collection: str, *, org: str, user: str | None = None,
         password: str | None = None, per_request: int = PER_REQUEST, verify: bool | str = True,
         full: bool = False, review_days: dict[str, float] | None = None) -> dict:
    """Pull what is new in the remote collection (an id, or an alias/title the API root lists)
    since the last pull (everything with ``full`` or the first time); the counts and the cursor.
    ``review_days``: the settings' REVIEW_DAYS (``Provenance.review_days``)."""
    root = api_root(url)
    with db.read() as conn:
        require_org(conn, org)

    def since_for(found: Collection) -> str | None:
        with db.read() as conn:
            state = taxii_store.get_pull_state(conn, root, found.id)
        return None if full or state is None else state.cursor

    counts, cursor, found, since = _pull(db, root, collection, since_for, org=org, feed=f"taxii:{urlsplit(root).netloc}"[:100],
                                         recorder=_DateAddedRecorder(user, password), per_request=per_request,
                                         verify=verify, review_days=review_days)
    with db.write() as conn:
        taxii_store.save_pull_state(conn, taxii_store.PullStateRow(
            url=root, collection_id=found.id, org=org, cursor=cursor, pulled=utcnow(), last_counts=counts))
    return {"url": root, "collection": found.id, "added_after": since, "cursor": cursor, **counts}


def pull_collection(db: Database, url: str, collection: str, *, since: str | None, org: str, feed: str,
                    headers: dict | None = None, user: str | None = None, password: str | None = None,
                    per_request: int = PER_REQUEST, verify: bool | str = True, on_page=None,
                    review_days: dict[str, float] | None = None) -> tuple[dict, str | None]:
    """Pull a collection from ``since`` as ``feed``'s assertions (a TAXII feed run); the counts and
    the new cursor, which the caller stores. ``on_page(counts)`` runs after each page's transaction."""
    counts, cursor, _found, _since = _pull(db, api_root(url), collection, lambda _found: since, org=org, feed=feed,
                                           recorder=_DateAddedRecorder(user, password, headers),
                                           per_request=per_request, verify=verify, on_page=on_page,
                                           review_days=review_days)
    return counts, cursor


def _pull(db, root, collection, since_for, *, org, feed, recorder, per_request, verify, on_page=None,
          review_days=None):
    try:
        with ApiRoot(root, auth=recorder, verify=verify) as remote:
            found = _collection(remote, collection)
            since = since_for(found)
            counts = _import_pages(db, found, since, org=org, per_request=per_request, feed=feed, on_page=on_page,
                                   review_days=review_days)
    except (requests.RequestException, TAXIIServiceException, ValidationError, InvalidJSONError) as exc:
        raise PullFailed(f"{root}: {exc}{_why(exc)}") from None
    except RecursionError:  # the client's JSON parser (the standard library's) gave up on a deep document
        raise PullFailed(f"{root}: the server sent JSON nested too deep to read") from None
    return counts, recorder.latest_text or since, found, since


def _why(exc: Exception) -> str:
    """The TAXII error resource's description, when the server sent one."""
    response = getattr(exc, "response", None)
    try:
        description = response.json().get("description") if response is not None else None
    except ValueError:
        description = None
    return f": {description}" if isinstance(description, str) else ""


def _collection(remote: ApiRoot, wanted: str) -> Collection:
    for candidate in remote.collections:
        if wanted in (candidate.id, candidate.alias, candidate.title):
            if not candidate.can_read:
                raise PullFailed(f"collection {wanted!r} of {remote.url} cannot be read with these credentials")
            return candidate
    names = ", ".join(f"{c.id} ({c.alias or c.title})" for c in remote.collections)
    raise PullFailed(f"no collection {wanted!r} at {remote.url}; it lists: {names or 'none'}")


def _import_pages(db: Database, collection: Collection, since: str | None, *, org: str, per_request: int,
                  feed: str, on_page=None, review_days=None) -> dict:
    """Each page imported in its own transaction, as it arrives. The pages share the indicators
    stored under another id than their own (``carried_refs``): a Sighting names its Indicator by
    that id, maybe from a later page."""
    counts = {"pages": 0, "objects": 0, **dict.fromkeys(_COUNTS, 0), "sightings": 0, "operations": 0,
              "relationships": 0, "skipped": 0,
              "reminted": 0, "remints": [], "held_values": []}
    carried: dict = {}
    for envelope in as_pages(collection.get_objects, per_request=per_request, added_after=since):
        objects = envelope.get("objects", [])
        counts["pages"] += 1
        counts["objects"] += len(objects)
        if objects:
            _add(counts, import_bundle(db, objects, default_org=org, create_orgs=False, feed=feed,
                                       carried_refs=carried, review_days=review_days))
        if on_page is not None:
            on_page(counts)
    return counts


def _add(counts: dict, report) -> None:
    for name in _COUNTS:
        counts[name] += getattr(report, name)
    counts["reminted"] += report.reminted  # objects stored under another id than their own
    counts["remints"] += report.remints[: MAX_REMINTS - len(counts["remints"])]
    counts["sightings"] += sum(report.sightings.values())
    counts["operations"] += sum(report.operations.values())  # groupings (docs/stix-taxii.md, "Operations")
    counts["relationships"] += sum(report.relationships.values())
    counts["skipped"] += sum(report.skipped.values())
    counts["held_values"] += report.held_values  # delisted values held (docs/feeds.md), for the audit
