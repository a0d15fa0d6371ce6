"""``json``: JSON lines, one indicator a line with its provenance summary (as the csv columns)
and every exported assertion in the shape lookup answers use:

    {"value": "+66812345678", "kind": "phone", "display": "081 234 5678", "score": 73,
     "sources": ["ccib-th"], "confidence": 80, "tlp": "amber", "labels": ["call-centre-scam"],
     "first_seen": "…", "last_seen": "…", "valid_until": null, "times_reported": 3,
     "allowlisted": null, "reliability": "B", "credibility": 2,
     "assertions": [{"source": "ccib-th", "feed": null, …, "reliability": "B", "credibility": 2}]}

``reliability`` and ``credibility`` are the best grades among the assertions (null when none is
graded, as the csv's empty cells); an assertion carries its own only when graded.

A file hash listed with its file's other hashes carries them, strongest first:
``"hashes": ["sha1:…", "md5:…"]``.

``registry import`` reads it back (value, kind, labels, confidence, first_seen, reliability,
credibility)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import orjson

from registry.export.chunks import joined
from registry.export.records import Listed

MEDIA_TYPE = "application/x-ndjson"


def line(item: Listed) -> bytes:
    summary = item.summary()
    summary["assertions"] = [c.to_dict() for c in summary.pop("claims")]
    if item.hashes:
        summary["hashes"] = item.hashes
    return orjson.dumps(summary) + b"\n"


def write(items: Iterable[Listed]) -> Iterator[bytes]:
    return joined(line(item) for item in items)
