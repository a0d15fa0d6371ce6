"""The reusable parts of the OpenAPI description (``openapi``): the component schemas and the
error responses every path shares."""

from __future__ import annotations

from registry.domain.grading import RELIABILITY as RELIABILITY_GRADES
from registry.domain.kinds import KINDS, MATCH_TYPES
from registry.domain.standing import END_REASONS
from registry.domain.tlp import LEVELS
from registry.ingest.catalogue import FEED_FORMATS

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "object"},
            },
        }
    },
}


def json_response(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def error_response(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


COMMON_ERRORS = {
    "400": error_response("Invalid request: the message names the field (details.field) and what it takes"),
    "401": error_response("No API key, or an unknown or revoked one"),
    "403": error_response("The key's role is too low: the message names the role needed"),
    "405": error_response("Method not allowed"),
    "413": error_response("Request body too large"),
    "414": error_response("The URL is longer than the server reads (4094 bytes): send long or many values in a JSON body"),
    "431": error_response("The request's headers are too large"),
    "429": error_response("Rate limit reached: retry after the Retry-After header's seconds"),
}
BODY_ERRORS = {
    "415": error_response("Content-Type is not application/json"),
}


# The Admiralty grading (docs/api.md, "Grading"): an assertion shows each only when its source gave it.
RELIABILITY = {"type": "string", "enum": list(RELIABILITY_GRADES),
               "description": "the source's reliability: A completely reliable … E unreliable, F cannot be judged"}
CREDIBILITY = {"type": "integer", "minimum": 1, "maximum": 6,
               "description": "the information's credibility: 1 confirmed … 5 improbable, 6 cannot be judged"}

_ASSERTION = {
    "type": "object",
    "required": ["source", "confidence", "tlp", "labels", "first_seen", "last_seen", "times_reported"],
    "properties": {
        "source": {"type": "string"},
        "feed": {"type": ["string", "null"]},
        "confidence": {"type": "integer", "minimum": 0, "maximum": 100},
        "tlp": {"type": "string", "enum": list(LEVELS)},
        "labels": {"type": "array", "items": {"type": "string"}},
        "description": {"type": ["string", "null"]},
        "first_seen": {"type": "string"},
        "last_seen": {"type": "string"},
        "valid_until": {"type": ["string", "null"]},
        "times_reported": {"type": "integer"},
        "reliability": RELIABILITY,
        "credibility": CREDIBILITY,
    },
}
_ENDED = {
    "type": "object",
    "description": "An assertion that ended (docs/design.md, \"Listed means in force\"): it lists nothing and weighs "
                   "nothing; when it ended and why (expired: past its valid_until; snapshot: its snapshot feed no "
                   "longer lists it; review: its review date passed unconfirmed; delisted: after a dispute).",
    "allOf": [{"$ref": "#/components/schemas/Assertion"}, {
        "type": "object", "required": ["ended", "why"], "properties": {
            "match": {"type": "string", "enum": list(MATCH_TYPES), "description": "in a lookup's history"},
            "value": {"type": "string", "description": "the matched indicator, in a lookup's history"},
            "ended": {"type": "string"},
            "why": {"type": "string", "enum": list(END_REASONS)}}}],
}
_REVIEW_ITEM = {
    "type": "object",
    "required": ["id", "kind", "value", "source", "tlp", "last_seen", "review_at", "status"],
    "properties": {
        "id": {"type": ["string", "null"], "description": "the assertion's id (opaque): POST /api/v1/assertions/ID/confirm"},
        "kind": {"type": "string", "enum": list(KINDS)}, "value": {"type": "string"},
        "display": {"type": ["string", "null"]}, "source": {"type": "string"}, "feed": {"type": ["string", "null"]},
        "tlp": {"type": "string", "enum": list(LEVELS)}, "confidence": {"type": "integer"},
        "labels": {"type": "array", "items": {"type": "string"}}, "last_seen": {"type": "string"},
        "valid_until": {"type": ["string", "null"]}, "review_at": {"type": "string"},
        "status": {"type": "string", "enum": ["due", "ended"],
                   "description": "due: in force until review_at; ended: review_at passed unconfirmed"},
    },
}
_SIGHTING = {
    "type": "object",
    "required": ["source", "count", "tlp", "first_seen", "last_seen"],
    "properties": {
        "source": {"type": "string"},
        "count": {"type": "integer"},
        "tlp": {"type": "string", "enum": list(LEVELS)},
        "first_seen": {"type": "string"},
        "last_seen": {"type": "string"},
        "case_ref": {"type": "string"},
    },
}
_HASHES = {
    "type": "array", "items": {"type": "string"},
    "description": "a file-hash indicator's other hashes (of the same file), strongest first",
}
_ANSWER = {
    "type": "object",
    "description": "A lookup answer, or {query, error} when the value cannot be parsed.",
    "required": ["query"],
    "properties": {
        "query": {},
        "error": {"type": "string"},
        "kind": {"type": "string", "enum": list(KINDS)},
        "value": {"type": "string"},
        "display": {"type": "string"},
        "listed": {"type": "boolean", "description": "true while an assertion the caller may see is in force"},
        "score": {"type": "integer", "minimum": 0, "maximum": 100},
        "explanation": {"type": "array", "items": {"type": "object"}},
        "allowlisted": {"type": "boolean"},
        "allowlist_reason": {"type": "string"},
        "history": {"type": "array", "items": {"$ref": "#/components/schemas/Ended"},
                    "description": "the matched assertions that ended, with the match they came by"},
        "disputed": {"oneOf": [{"type": "null"}, {
            "type": "object", "required": ["id", "since", "status"],
            "description": "the open dispute on what the value matched (null when none): the score is unchanged "
                           "until a source decides",
            "properties": {"id": {"type": "string"}, "since": {"type": "string"},
                           "status": {"type": "string", "enum": ["open"]}}}]},
        "operations": {"type": "array", "description": "the visible operations holding the value or what it matched",
                       "items": {"type": "object", "required": ["id", "name", "org", "tlp"], "properties": {
                           "id": {"type": "string"}, "name": {"type": "string"}, "org": {"type": "string"},
                           "tlp": {"type": "string", "enum": list(LEVELS)}}}},
        "related": {"type": "integer", "minimum": 0,
                    "description": "how many visible relationships the value and what it matched have"},
        "matches": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["match", "kind", "value", "assertions", "sightings"],
                "properties": {
                    "match": {"type": "string", "enum": list(MATCH_TYPES)},
                    "kind": {"type": "string", "enum": list(KINDS)},
                    "value": {"type": "string"},
                    "display": {"type": "string"},
                    "hashes": {"$ref": "#/components/schemas/Hashes"},
                    "assertions": {"type": "array", "items": {"$ref": "#/components/schemas/Assertion"}},
                    "sightings": {"type": "array", "items": {"$ref": "#/components/schemas/Sighting"}},
                },
            },
        },
    },
}


_RUN = {
    "type": "object",
    "description": "One run of a feed and its figures.",
    "required": ["id", "feed", "trigger", "status", "started", "bytes", "rows", "new", "updated", "unchanged",
                 "expired", "allowlisted", "rejected", "held", "rejects"],
    "properties": {
        "id": {"type": "string", "description": "the run's identifier (opaque)"},
        "feed": {"type": "string"},
        "trigger": {"type": "string", "enum": ["schedule", "cli", "api", "demo"]},
        "status": {"type": "string", "enum": ["running", "ok", "not-modified", "failed", "interrupted"]},
        "started": {"type": "string"},
        "finished": {"type": ["string", "null"]},
        "http_status": {"type": ["integer", "null"]},
        **{name: {"type": "integer", "minimum": 0} for name in (
            "bytes", "rows", "read", "new", "updated", "unchanged", "expired", "allowlisted", "rejected")},
        "held": {"type": "integer", "minimum": 0,
                 "description": "reports of values delisted less than REGISTRY_RELIST_DAYS ago: not relisted"},
        "duration": {"type": ["number", "null"], "description": "seconds"},
        "error": {"type": ["string", "null"]},
        "anomaly": {"type": ["string", "null"], "description": "why the row count looked wrong (nothing expired)"},
        "rejects": {"type": "array", "items": {"type": "object", "properties": {
            "line": {"type": ["integer", "string", "null"], "description": "line number, or a STIX object id"},
            "text": {"type": "string"}, "reason": {"type": "string"}}}},
    },
}
_FEED = {
    "type": "object",
    "required": ["name", "provider", "url", "format", "schedule", "mode", "confidence", "tlp", "labels", "enabled",
                 "last_run", "last_ok_run"],
    "properties": {
        "name": {"type": "string"},
        "provider": {"type": "string"},
        "url": {"type": "string"},
        "format": {"type": "string", "enum": list(FEED_FORMATS)},
        "schedule": {"type": "string"},
        "mode": {"type": "string", "enum": ["snapshot", "incremental"]},
        "confidence": {"type": "integer"},
        "tlp": {"type": "string", "enum": list(LEVELS)},
        "labels": {"type": "array", "items": {"type": "string"}},
        "enabled": {"type": "boolean"},
        "description": {"type": ["string", "null"]},
        "reliability": {"oneOf": [RELIABILITY, {"type": "null"}], "description": "the grading of rows without one"},
        "credibility": {"oneOf": [CREDIBILITY, {"type": "null"}]},
        "running": {"type": "boolean"},
        "health": {"type": "string", "enum": ["ok", "failing", "anomaly", "stale", "never run", "disabled"]},
        "next_due": {"type": ["string", "null"], "description": "when the scheduler runs it next (UTC)"},
        "last_run": {"oneOf": [{"$ref": "#/components/schemas/FeedRun"}, {"type": "null"}]},
        "last_ok_run": {"oneOf": [{"$ref": "#/components/schemas/FeedRun"}, {"type": "null"}]},
    },
}

_DISPUTE = {
    "type": "object",
    "description": "A dispute as the caller may see it: reason, evidence and disputer only for the sources, the "
                   "disputer's org and operators; decisions only on assertions the caller may see.",
    "required": ["id", "value", "kind", "status", "since", "closed", "overdue", "flagged", "outcome", "awaiting",
                 "decisions"],
    "properties": {
        "id": {"type": "string"},
        "value": {"type": "string"},
        "kind": {"type": "string", "enum": list(KINDS)},
        "status": {"type": "string", "enum": ["open", "closed"]},
        "since": {"type": "string"},
        "closed": {"type": ["string", "null"]},
        "overdue": {"type": "boolean", "description": "open longer than REGISTRY_DISPUTE_DAYS"},
        "flagged": {"type": ["string", "null"], "description": "when it was flagged to the sources as overdue"},
        "outcome": {"type": ["string", "null"], "enum": ["delisted", "upheld", "mixed", None]},
        "awaiting": {"type": "array", "items": {"type": "string"},
                     "description": "the orgs with an assertion in force still to decide"},
        "decisions": {"type": "array", "items": {"type": "object", "required": ["org", "decision", "decided"],
                      "properties": {"org": {"type": "string"}, "decision": {"type": "string",
                                                                           "enum": ["delist", "uphold"]},
                                     "note": {"type": ["string", "null"]}, "decided": {"type": "string"},
                                     "feed": {"type": ["string", "null"]}, "actor": {"type": ["string", "null"]}}}},
        "reason": {"type": "string"},
        "evidence": {"type": ["string", "null"]},
        "disputer": {"type": "object", "properties": {"org": {"type": "string"},
                                                      "actor": {"type": ["string", "null"]}}},
        "applied": {"type": "object", "description": "what the decision just made did",
                    "properties": {"decision": {"type": "string"}, "orgs": {"type": "array", "items": {"type": "string"}},
                                   "assertions": {"type": "integer"}}},
    },
}

#: ``components.schemas``, referred to as ``#/components/schemas/<name>``.
SCHEMAS = {"Error": _ERROR, "Assertion": _ASSERTION, "Sighting": _SIGHTING, "Answer": _ANSWER, "Hashes": _HASHES,
           "Feed": _FEED, "FeedRun": _RUN, "Ended": _ENDED, "ReviewItem": _REVIEW_ITEM, "Dispute": _DISPUTE}
