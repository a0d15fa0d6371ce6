"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json.

Kept by hand beside the views; tests run schemathesis against the served document, so a view
that drifts from it fails the suite.
"""

from __future__ import annotations

from registry import __version__
from registry.domain.kinds import KINDS, MATCH_TYPES
from registry.domain.roles import ROLES
from registry.domain.tlp import LEVELS

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


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


_COMMON_ERRORS = {
    "400": _error("Invalid request: the message names the field (details.field) and what it takes"),
    "401": _error("No API key, or an unknown or revoked one"),
    "403": _error("The key's role is too low: the message names the role needed"),
    "405": _error("Method not allowed"),
    "413": _error("Request body too large"),
    "414": _error("The URL is longer than the server reads (4094 bytes): send long or many values in a JSON body"),
    "431": _error("The request's headers are too large"),
    "429": _error("Rate limit reached: retry after the Retry-After header's seconds"),
}
_BODY_ERRORS = {
    "415": _error("Content-Type is not application/json"),
}

_REGION = {"type": "string", "pattern": "^[A-Za-z]{2}$"}  # ISO 3166 alpha-2
_VALUE = {"type": "string", "minLength": 1, "maxLength": 2048}
# Present when the write lowered the TLP of a row the caller could see.
_LOWERED = {"type": "object", "required": ["from", "to"], "properties": {
    "from": {"type": "string", "enum": list(LEVELS)}, "to": {"type": "string", "enum": list(LEVELS)}}}

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
        "listed": {"type": "boolean"},
        "score": {"type": "integer", "minimum": 0, "maximum": 100},
        "explanation": {"type": "array", "items": {"type": "object"}},
        "allowlisted": {"type": "boolean"},
        "allowlist_reason": {"type": "string"},
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
                    "assertions": {"type": "array", "items": {"$ref": "#/components/schemas/Assertion"}},
                    "sightings": {"type": "array", "items": {"$ref": "#/components/schemas/Sighting"}},
                },
            },
        },
    },
}


_EXPORT_FILTERS = [
    {"name": "kind", "in": "query", "schema": {"type": "string", "enum": list(KINDS)}},
    {"name": "label", "in": "query", "schema": {"type": "string"}, "description": "only assertions carrying this label"},
    {"name": "source", "in": "query", "schema": {"type": "string"}, "description": "only this org's assertions"},
    {"name": "since", "in": "query", "schema": {"type": "string"},
     "description": "ISO 8601 time, or the X-Registry-Position of an earlier answer (or a TAXII next): only what changed after it"},
    {"name": "include_expired", "in": "query", "schema": {"type": "boolean"},
     "description": "keep assertions past their valid_until (left out by default)"},
    {"name": "include_allowlisted", "in": "query", "schema": {"type": "boolean"},
     "description": "keep allowlisted values (left out by default)"},
]
_MIN_SCORE = {"name": "min_score", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 100},
              "description": "only indicators scoring at least this"}
_ZONE = {"name": "zone", "in": "query", "schema": {"type": "string"},
         "description": "the zone's name (default rpz.registry.local)"}
_POSITION_HEADER = {"X-Registry-Position": {
    "description": "where the data read stands, sealed: pass it as since to get what changed after it",
    "schema": {"type": "string"}}}
_EXPORT_HEADERS = {"ETag": {"description": "weak entity tag: send it back as If-None-Match", "schema": {"type": "string"}},
                   **_POSITION_HEADER}
_RAW = {"name": "raw", "in": "query", "schema": {"type": "boolean"},
        "description": "the exact values, for machines. By default the CSV is safe to open in a spreadsheet: every "
                       "cell is quoted and a cell starting with = + - @ (or their full-width forms), a tab, a line "
                       "break or ' gets a leading ', which registry import removes again"}
_NOT_MODIFIED = {"304": {"description": "Not modified: the If-None-Match tag still holds", "headers": _EXPORT_HEADERS}}
_EXPORTS = {
    # format: (summary, media type, body schema, min_score and zone apply)
    "stix": ("A STIX 2.1 bundle: an Indicator per visible assertion, Sightings, their identities and markings",
             "application/stix+json;version=2.1", {"type": "object"}, False),
    "csv": ("One indicator a row with a provenance summary (docs/exports.md)", "text/csv", {"type": "string"}, True),
    "text": ("One canonical value a line", "text/plain", {"type": "string"}, True),
    "cidr": ("The listed IPv4 and IPv6 ranges merged into the fewest CIDR blocks, one a line", "text/plain",
             {"type": "string"}, True),
    "rpz": ("A DNS response-policy zone: each listed domain and its wildcard, CNAME .", "text/dns",
            {"type": "string"}, True),
    "json": ("JSON lines: one indicator a line with its visible assertions", "application/x-ndjson",
             {"type": "string"}, True),
}


def _export_paths() -> dict:
    paths = {}
    for fmt, (summary, media, schema, per_indicator) in _EXPORTS.items():
        parameters = (list(_EXPORT_FILTERS) + ([_MIN_SCORE] if per_indicator else []) + ([_ZONE] if fmt == "rpz" else [])
                      + ([_RAW] if fmt == "csv" else []))
        paths[f"/api/v1/export/{fmt}"] = {"get": {
            "summary": f"Export ({fmt}): {summary}; streamed, gzip on Accept-Encoding: gzip",
            "parameters": parameters,
            "responses": {"200": {"description": "OK", "headers": _EXPORT_HEADERS,
                                  "content": {media: {"schema": schema}}}, **_NOT_MODIFIED, **_COMMON_ERRORS},
        }}
    feed = "MISP feed (add /api/v1/export/misp/ as a feed in MISP)"
    paths["/api/v1/export/misp/manifest.json"] = {"get": {
        "summary": f"{feed}: the manifest, one entry per event (one per source org and day)",
        "parameters": list(_EXPORT_FILTERS),
        "responses": {"200": {"description": "OK", "headers": _EXPORT_HEADERS,
                              "content": {"application/json": {"schema": {"type": "object"}}}},
                      **_NOT_MODIFIED, **_COMMON_ERRORS},
    }}
    paths["/api/v1/export/misp/hashes.csv"] = {"get": {
        "summary": f"{feed}: md5 of each attribute value, and its event's uuid",
        "parameters": list(_EXPORT_FILTERS),
        "responses": {"200": {"description": "OK", "headers": _EXPORT_HEADERS,
                              "content": {"text/csv": {"schema": {"type": "string"}}}},
                      **_NOT_MODIFIED, **_COMMON_ERRORS},
    }}
    paths["/api/v1/export/misp/{event}.json"] = {"get": {
        "summary": f"{feed}: one event with its attributes",
        "parameters": [{"name": "event", "in": "path", "required": True, "schema": {"type": "string"},
                        "description": "the event's uuid, as the manifest lists it"}, *_EXPORT_FILTERS],
        "responses": {"200": {"description": "OK", "headers": _EXPORT_HEADERS,
                              "content": {"application/json": {"schema": {"type": "object", "required": ["Event"]}}}},
                      **_NOT_MODIFIED, "404": _error("No such event in the caller's feed"), **_COMMON_ERRORS},
    }}
    return paths


_RUN = {
    "type": "object",
    "description": "One run of a feed and its figures.",
    "required": ["id", "feed", "trigger", "status", "started", "bytes", "rows", "new", "updated", "unchanged",
                 "expired", "allowlisted", "rejected", "rejects"],
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
        "format": {"type": "string", "enum": ["text", "csv", "jsonl", "json", "stix", "taxii", "misp"]},
        "schedule": {"type": "string"},
        "mode": {"type": "string", "enum": ["snapshot", "incremental"]},
        "confidence": {"type": "integer"},
        "tlp": {"type": "string", "enum": list(LEVELS)},
        "labels": {"type": "array", "items": {"type": "string"}},
        "enabled": {"type": "boolean"},
        "description": {"type": ["string", "null"]},
        "running": {"type": "boolean"},
        "health": {"type": "string", "enum": ["ok", "failing", "anomaly", "stale", "never run", "disabled"]},
        "next_due": {"type": ["string", "null"], "description": "when the scheduler runs it next (UTC)"},
        "last_run": {"oneOf": [{"$ref": "#/components/schemas/FeedRun"}, {"type": "null"}]},
        "last_ok_run": {"oneOf": [{"$ref": "#/components/schemas/FeedRun"}, {"type": "null"}]},
    },
}
_FEED_NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]{0,98}[a-z0-9]$"}}


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def spec() -> dict:
    secured = [{"bearer": []}]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Registry of suspicious IPs, domains, URLs and phone numbers",
            "version": __version__,
            "description": (
                "Member agencies' API. Every read obeys TLP 2.0: a caller sees an assertion when its TLP is no "
                "higher than the key's max_tlp, and TLP:RED only from its own org. Roles: " + " < ".join(ROLES) + "."
            ),
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": _ERROR, "Assertion": _ASSERTION, "Sighting": _SIGHTING, "Answer": _ANSWER,
                        "Feed": _FEED, "FeedRun": _RUN},
        },
        "security": secured,
        "paths": {
            "/api/v1/lookup": {
                "get": {
                    "summary": "Look up one value",
                    "parameters": [
                        {"name": "value", "in": "query", "required": True, "schema": {"type": "string", "minLength": 1}},
                        {"name": "region", "in": "query", "schema": _REGION,
                         "description": "ISO alpha-2 region for national phone numbers (default: the key's org country)"},
                    ],
                    "responses": {"200": _json({"$ref": "#/components/schemas/Answer"}), **_COMMON_ERRORS},
                },
                "post": {
                    "summary": "Look up up to 10,000 values; answers in request order",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {
                            "type": "object", "required": ["values"],
                            "properties": {
                                "values": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 10000},
                                "region": _REGION,
                            },
                        }}},
                    },
                    "responses": {
                        "200": _json({"type": "object", "required": ["results"], "properties": {
                            "results": {"type": "array", "items": {"$ref": "#/components/schemas/Answer"}}}}),
                        **_COMMON_ERRORS, **_BODY_ERRORS,
                    },
                },
            },
            "/api/v1/indicators": {
                "get": {
                    "summary": "Search indicators (cursor paging)",
                    "parameters": [
                        {"name": "kind", "in": "query", "schema": {"type": "string", "enum": list(KINDS)}},
                        {"name": "label", "in": "query", "schema": {"type": "string"}},
                        {"name": "source", "in": "query", "schema": {"type": "string"}},
                        {"name": "since", "in": "query", "schema": {"type": "string"},
                         "description": "ISO 8601 time, or the X-Registry-Position of an earlier answer (or a TAXII next): only what changed after it"},
                        {"name": "min_score", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 100}},
                        {"name": "within", "in": "query", "schema": {"type": "string"}, "description": "a CIDR"},
                        {"name": "cursor", "in": "query", "schema": {"type": "string"},
                         "description": "the previous page's next, as given"},
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
                    ],
                    "responses": {
                        "200": {**_json({"type": "object", "required": ["indicators", "next"], "properties": {
                            "indicators": {"type": "array", "items": {"type": "object", "required": [
                                "kind", "value", "score", "allowlisted", "assertions"], "properties": {
                                "kind": {"type": "string", "enum": list(KINDS)}, "value": {"type": "string"},
                                "score": {"type": "integer"}, "allowlisted": {"type": "boolean"},
                                "first_seen": {"type": "string", "description": "the earliest visible report or sighting"},
                                "last_seen": {"type": "string", "description": "the latest visible report or sighting"},
                                "assertions": {"type": "array", "items": {"$ref": "#/components/schemas/Assertion"}},
                            }}},
                            "next": {"type": ["string", "null"]},
                        }}), "headers": _POSITION_HEADER},
                        **_COMMON_ERRORS,
                    },
                },
                "post": {
                    "summary": "Submit indicators as the key's org (contributor)",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {
                            "type": "object", "required": ["indicators"],
                            "properties": {"indicators": {"type": "array", "minItems": 1, "maxItems": 10000, "items": {
                                "type": "object", "required": ["value"], "properties": {
                                    "value": _VALUE,
                                    "kind": {"type": "string", "enum": list(KINDS)},
                                    "labels": {"type": "array", "items": {"type": "string"}},
                                    "confidence": {"type": "integer", "minimum": 0, "maximum": 100},
                                    "tlp": {"type": "string", "enum": list(LEVELS)},
                                    "description": {"type": "string", "maxLength": 4000},
                                    "valid_until": {"type": "string", "format": "date-time"},
                                }}}},
                        }}},
                    },
                    "responses": {
                        "200": _json({"type": "object", "required": ["results", "counts"], "properties": {
                            "results": {"type": "array", "items": {"type": "object", "required": ["value", "status"],
                                        "properties": {"value": {"type": "string"}, "status": {"type": "string", "enum": [
                                            "new", "updated", "unchanged", "allowlisted", "rejected"]},
                                            "error": {"type": "string"}, "tlp_lowered": _LOWERED}}},
                            "counts": {"type": "object"},
                        }}),
                        **_COMMON_ERRORS, **_BODY_ERRORS,
                    },
                },
            },
            "/api/v1/sightings": {
                "post": {
                    "summary": "Record that the key's org saw a value in a case (contributor)",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {
                            "type": "object", "required": ["value"], "properties": {
                                "value": _VALUE,
                                "case_ref": {"type": "string", "maxLength": 200},
                                "count": {"type": "integer", "minimum": 1, "maximum": 1000000},
                                "tlp": {"type": "string", "enum": list(LEVELS)},
                                "description": {"type": "string", "maxLength": 4000},
                                "seen": {"type": "string", "format": "date-time"},
                                "region": _REGION,
                            }}}},
                    },
                    "responses": {
                        "201": _json({"type": "object", "required": ["status", "value", "count"],
                                      "properties": {"tlp_lowered": _LOWERED}}, "Recorded"),
                        "422": _error("The value cannot be parsed as an indicator"),
                        **_COMMON_ERRORS, **_BODY_ERRORS,
                    },
                },
            },
            "/api/v1/audit": {
                "get": {
                    "summary": "The audit log (admin: its own org's rows; operator: every org's)",
                    "parameters": [
                        {"name": "org", "in": "query", "schema": {"type": "string"}},
                        {"name": "action", "in": "query", "schema": {"type": "string"}},
                        {"name": "actor", "in": "query", "schema": {"type": "string"}},
                        {"name": "since", "in": "query", "schema": {"type": "string", "format": "date-time"}},
                        {"name": "until", "in": "query", "schema": {"type": "string", "format": "date-time"}},
                        {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
                    ],
                    "responses": {
                        "200": _json({"type": "object", "required": ["events", "next"], "properties": {
                            "events": {"type": "array", "items": {"type": "object"}},
                            "next": {"type": ["string", "null"]}}}),
                        **_COMMON_ERRORS,
                    },
                },
            },
            **_export_paths(),
            "/api/v1/feeds": {
                "get": {
                    "summary": "Partner feeds the key may see, with their latest runs",
                    "responses": {
                        "200": _json({"type": "object", "required": ["feeds"], "properties": {
                            "feeds": {"type": "array", "items": {"$ref": "#/components/schemas/Feed"}}}}),
                        **_COMMON_ERRORS,
                    },
                },
            },
            "/api/v1/feeds/{name}/runs": {
                "get": {
                    "summary": "A feed's runs, newest first",
                    "parameters": [
                        _FEED_NAME,
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
                        {"name": "before", "in": "query", "schema": {"type": "string"},
                         "description": "the previous page's next, as given: older runs"},
                    ],
                    "responses": {
                        "200": _json({"type": "object", "required": ["feed", "runs", "next"], "properties": {
                            "feed": {"type": "string"},
                            "runs": {"type": "array", "items": {"$ref": "#/components/schemas/FeedRun"}},
                            "next": {"type": ["string", "null"]}}}),
                        "404": _error("No such feed (or one the key may not see)"),
                        **_COMMON_ERRORS,
                    },
                },
            },
            "/api/v1/feeds/{name}/run": {
                "post": {
                    "summary": "Run a feed now (feed-admin): 202 with the started run (follow it in …/runs), or "
                               "with wait=true 200 with the finished run's figures (a failed run has status failed "
                               "and the error)",
                    "parameters": [_FEED_NAME, {"name": "wait", "in": "query",
                                                "schema": {"type": "string", "enum": ["true", "false"]}}],
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/FeedRun"}, "The finished run (wait=true)"),
                        "202": _json({"$ref": "#/components/schemas/FeedRun"}, "The run, started"),
                        "404": _error("No such feed (or one the key may not see)"),
                        "409": _error("The feed is being run by another process"),
                        **_COMMON_ERRORS,
                    },
                },
            },
            "/api/v1/openapi.json": {
                "get": {"summary": "This document", "security": [], "responses": {"200": _json({"type": "object"})}},
            },
            "/-/health": {
                "get": {"summary": "Liveness and database reachability", "security": [],
                        "responses": {"200": _json({"type": "object", "required": ["status"]})}},
            },
            "/-/version": {
                "get": {"summary": "Version", "security": [], "responses": {"200": _json({"type": "object"})}},
            },
        },
    }
