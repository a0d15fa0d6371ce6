"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json.

Kept by hand beside the views (the paths here, the schemas and shared error responses in
``openapi_components``); tests run schemathesis against the served document, so a view that
drifts from it fails the suite.
"""

from __future__ import annotations

from registry import __version__
from registry.domain.kinds import KINDS
from registry.domain.normalize.account_rules import ALIASES, PLATFORMS
from registry.domain.roles import ROLES
from registry.domain.tlp import LEVELS
from registry.web.openapi_components import (
    BODY_ERRORS,
    COMMON_ERRORS,
    CREDIBILITY,
    RELIABILITY,
    SCHEMAS,
    error_response,
)
from registry.web.openapi_components import json_response as _json
from registry.web.openapi_events import event_paths
from registry.web.openapi_graph import graph_paths
from registry.web.openapi_operation_exports import operation_export_paths
from registry.web.openapi_operations import operation_paths
from registry.web.openapi_suggestions import suggestion_paths
from registry.web.openapi_watches import watch_paths
from registry.web.openapi_webhooks import webhook_paths

_REGION = {"type": "string", "pattern": "^[A-Za-z]{2}$"}  # ISO 3166 alpha-2
_VALUE = {"type": "string", "minLength": 1, "maxLength": 2048}
_PLATFORM = {"type": "string", "enum": [*PLATFORMS, *ALIASES]}
# Present when the write lowered the TLP of a row the caller could see.
_LOWERED = {"type": "object", "required": ["from", "to"], "properties": {
    "from": {"type": "string", "enum": list(LEVELS)}, "to": {"type": "string", "enum": list(LEVELS)}}}

_EXPORT_FILTERS = [
    {"name": "kind", "in": "query", "schema": {"type": "string", "enum": list(KINDS)}},
    {"name": "label", "in": "query", "schema": {"type": "string"}, "description": "only assertions carrying this label"},
    {"name": "source", "in": "query", "schema": {"type": "string"}, "description": "only this org's assertions"},
    {"name": "since", "in": "query", "schema": {"type": "string"},
     "description": "ISO 8601 time, or the X-Registry-Position of an earlier answer (or a TAXII next): only what changed after it"},
    {"name": "include_expired", "in": "query", "schema": {"type": "boolean"},
     "description": "keep the assertions that ended (past their valid_until or review date, a snapshot's end, "
                    "delisted): only those in force by default"},
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
                                  "content": {media: {"schema": schema}}}, **_NOT_MODIFIED, **COMMON_ERRORS},
        }}
    feed = "MISP feed (add /api/v1/export/misp/ as a feed in MISP)"
    paths["/api/v1/export/misp/manifest.json"] = {"get": {
        "summary": f"{feed}: the manifest, one entry per event (one per source org and day, and one per operation)",
        "parameters": list(_EXPORT_FILTERS),
        "responses": {"200": {"description": "OK", "headers": _EXPORT_HEADERS,
                              "content": {"application/json": {"schema": {"type": "object"}}}},
                      **_NOT_MODIFIED, **COMMON_ERRORS},
    }}
    paths["/api/v1/export/misp/hashes.csv"] = {"get": {
        "summary": f"{feed}: md5 of each attribute value, and its event's uuid",
        "parameters": list(_EXPORT_FILTERS),
        "responses": {"200": {"description": "OK", "headers": _EXPORT_HEADERS,
                              "content": {"text/csv": {"schema": {"type": "string"}}}},
                      **_NOT_MODIFIED, **COMMON_ERRORS},
    }}
    paths["/api/v1/export/misp/{event}.json"] = {"get": {
        "summary": f"{feed}: one event with its attributes",
        "parameters": [{"name": "event", "in": "path", "required": True, "schema": {"type": "string"},
                        "description": "the event's uuid, as the manifest lists it"}, *_EXPORT_FILTERS],
        "responses": {"200": {"description": "OK", "headers": _EXPORT_HEADERS,
                              "content": {"application/json": {"schema": {"type": "object", "required": ["Event"]}}}},
                      **_NOT_MODIFIED, "404": error_response("No such event in the caller's feed"), **COMMON_ERRORS},
    }}
    return paths


_LOOKUP_KIND = {"type": "string", "enum": list(KINDS)}
_LOOKUP_KIND_TEXT = "read every value as this kind (default: detected per value)"
_LOOKUP_PLATFORM_TEXT = ("read every value as an account on this platform (kind user-account), so @name reads; "
                         "twitter, fb, ig, tg, wa and weixin name x, facebook, instagram, telegram, whatsapp and "
                         "wechat")
_PURPOSE_TEXT = ("why the lookup is made, recorded in its audit row; required (with case_ref) when the caller's "
                 "org requires a purpose: without them the lookup answers 400, code purpose_required, "
                 "details.missing naming what is missing")
_CASE_REF_TEXT = "the case the lookup is for, recorded in its audit row; required as purpose is"
_PURPOSE = {"type": "string", "maxLength": 500}
_CASE_REF = {"type": "string", "maxLength": 200}
_FEED_NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]{0,98}[a-z0-9]$"}}

_HEX = {"type": "string", "pattern": "^[0-9a-f]+$"}
_CHECKPOINT = {"type": "object", "required": ["seq", "hash", "time", "public_key", "signature", "algorithm", "signed"],
               "properties": {"seq": {"type": "integer", "minimum": 0}, "hash": _HEX, "time": {"type": "string"},
                              "public_key": _HEX, "signature": _HEX, "algorithm": {"const": "Ed25519"},
                              "signed": {"type": "string", "description": "the exact text signed (ASCII)"}}}
_PUBLIC_KEY = {"type": "object", "required": ["public_key", "public_key_pem", "algorithm"],
               "properties": {"public_key": _HEX, "public_key_pem": {"type": "string"}, "algorithm": {"const": "Ed25519"}}}


_DISPUTE_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1, "maxLength": 36},
               "description": "the dispute's id, as POST /api/v1/disputes answered it"}
_TEXT = {"type": "string", "minLength": 1, "maxLength": 4000}
_DISPUTE_REF = {"$ref": "#/components/schemas/Dispute"}


def _dispute_paths() -> dict:
    return {
        "/api/v1/disputes": {
            "post": {
                "summary": "Dispute a listed value (any key): each source decides for its own assertion",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["value", "reason"], "properties": {
                        "value": _VALUE, "reason": _TEXT, "evidence": {**_TEXT, "minLength": 0},
                        "region": _REGION, "kind": {"type": "string", "enum": list(KINDS)}, "platform": _PLATFORM,
                    }}}}},
                "responses": {
                    "201": _json({"type": "object", "required": ["id", "value", "kind", "status", "since"]},
                                 "Opened"),
                    "404": error_response("Not listed, or nothing of it visible to the key (the same answer)"),
                    "409": error_response("Already disputed (details.id names the open dispute), or nothing in "
                                          "force to dispute"),
                    "422": error_response("The value cannot be parsed as an indicator"),
                    **COMMON_ERRORS, **BODY_ERRORS,
                },
            },
            "get": {
                "summary": "Disputes the key may see, newest first",
                "parameters": [{"name": "status", "in": "query", "schema": {"type": "string", "enum": ["open", "closed"]}}],
                "responses": {
                    "200": _json({"type": "object", "required": ["disputes"], "properties": {
                        "disputes": {"type": "array", "items": _DISPUTE_REF}}}),
                    **COMMON_ERRORS,
                },
            },
        },
        "/api/v1/disputes/{id}": {
            "get": {
                "summary": "One dispute",
                "parameters": [_DISPUTE_ID],
                "responses": {"200": _json(_DISPUTE_REF), "404": error_response("No such dispute the key may see"),
                              **COMMON_ERRORS},
            },
        },
        "/api/v1/disputes/{id}/decision": {
            "post": {
                "summary": "Decide a dispute for the key's org's assertions in force (contributor; an operator's "
                           "key for any org, or every org without org): delist ends them, uphold keeps them",
                "parameters": [_DISPUTE_ID],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["decision"], "properties": {
                        "decision": {"type": "string", "enum": ["delist", "uphold"]},
                        "note": {**_TEXT, "minLength": 0},
                        "org": {"type": "string", "maxLength": 64,
                                "description": "operators: the org decided for (default: every org)"},
                    }}}}},
                "responses": {
                    "200": _json(_DISPUTE_REF, "The dispute as it now stands, with applied"),
                    "404": error_response("No such dispute the key may see"),
                    "409": error_response("Closed, or the org has decided already"),
                    **COMMON_ERRORS, **BODY_ERRORS,
                },
            },
        },
    }


def spec() -> dict:
    secured = [{"bearer": []}]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Registry of suspicious IPs, domains, URLs, phone numbers, bank and e-wallet accounts, "
                     "crypto wallets, messaging accounts and file hashes",
            "version": __version__,
            "description": (
                "Member agencies' API. Every read obeys TLP 2.0: a caller sees an assertion when its TLP is no "
                "higher than the key's max_tlp, and TLP:RED only from its own org. Roles: " + " < ".join(ROLES) + "."
            ),
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": dict(SCHEMAS),
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
                        {"name": "kind", "in": "query", "schema": _LOOKUP_KIND, "description": _LOOKUP_KIND_TEXT},
                        {"name": "platform", "in": "query", "schema": _PLATFORM, "description": _LOOKUP_PLATFORM_TEXT},
                        {"name": "purpose", "in": "query", "schema": _PURPOSE, "description": _PURPOSE_TEXT},
                        {"name": "case_ref", "in": "query", "schema": _CASE_REF, "description": _CASE_REF_TEXT},
                    ],
                    "responses": {"200": _json({"$ref": "#/components/schemas/Answer"}), **COMMON_ERRORS},
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
                                "kind": {**_LOOKUP_KIND, "description": _LOOKUP_KIND_TEXT},
                                "platform": {**_PLATFORM, "description": _LOOKUP_PLATFORM_TEXT},
                                "purpose": {**_PURPOSE, "description": _PURPOSE_TEXT},
                                "case_ref": {**_CASE_REF, "description": _CASE_REF_TEXT},
                            },
                        }}},
                    },
                    "responses": {
                        "200": _json({"type": "object", "required": ["results"], "properties": {
                            "results": {"type": "array", "items": {"$ref": "#/components/schemas/Answer"}}}}),
                        **COMMON_ERRORS, **BODY_ERRORS,
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
                        {"name": "q", "in": "query", "schema": {"type": "string", "minLength": 2, "maxLength": 200},
                         "description": "a value or a part of one, in the canonical value or its display (any case); "
                                        "a value as written finds its canonical form, a bank's or e-wallet's name "
                                        "(KBank, GCash) every account at it"},
                        {"name": "cursor", "in": "query", "schema": {"type": "string"},
                         "description": "the previous page's next, as given"},
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
                    ],
                    "responses": {
                        "200": {**_json({"type": "object", "required": ["indicators", "next"], "properties": {
                            "indicators": {"type": "array", "items": {"type": "object", "required": [
                                "kind", "value", "listed", "score", "allowlisted", "assertions", "history"],
                                "properties": {
                                "kind": {"type": "string", "enum": list(KINDS)}, "value": {"type": "string"},
                                "listed": {"type": "boolean",
                                           "description": "true while an assertion it shows is in force"},
                                "score": {"type": "integer"}, "allowlisted": {"type": "boolean"},
                                "first_seen": {"type": "string", "description": "the earliest visible report or sighting"},
                                "last_seen": {"type": "string", "description": "the latest visible report or sighting"},
                                "hashes": {"$ref": "#/components/schemas/Hashes"},
                                "assertions": {"type": "array", "items": {"$ref": "#/components/schemas/Assertion"}},
                                "history": {"type": "array", "items": {"$ref": "#/components/schemas/Ended"}},
                            }}},
                            "next": {"type": ["string", "null"]},
                        }}), "headers": _POSITION_HEADER},
                        **COMMON_ERRORS,
                    },
                },
                "post": {
                    "summary": "Submit indicators as the key's org (contributor)",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {
                            "type": "object", "required": ["indicators"],
                            "properties": {
                                "region": {**_REGION, "description": "ISO alpha-2 region for national phone and "
                                           "account numbers (default: the key's org country)"},
                                "indicators": {"type": "array", "minItems": 1, "maxItems": 10000, "items": {
                                "type": "object", "required": ["value"], "properties": {
                                    "value": _VALUE,
                                    "kind": {"type": "string", "enum": list(KINDS)},
                                    "platform": {**_PLATFORM, "description": "the platform of an account written "
                                                 "@name (kind user-account or none); tg, wa, fb, ig, twitter and "
                                                 "weixin name telegram, whatsapp, facebook, instagram, x and wechat"},
                                    "region": {**_REGION, "description": "this value's region (default: the body's)"},
                                    "labels": {"type": "array", "items": {"type": "string"}},
                                    "confidence": {"type": "integer", "minimum": 0, "maximum": 100},
                                    "tlp": {"type": "string", "enum": list(LEVELS)},
                                    "description": {"type": "string", "maxLength": 4000},
                                    "valid_until": {"type": "string", "format": "date-time"},
                                    "relist": {"type": "boolean", "description": "relist a value delisted less than "
                                               "REGISTRY_RELIST_DAYS ago, which is held without it (with reason)"},
                                    "reason": {"type": "string", "minLength": 1, "maxLength": 4000,
                                               "description": "why it is relisted (with relist: true)"},
                                    "reliability": RELIABILITY,
                                    "credibility": {**CREDIBILITY, "description": CREDIBILITY["description"]
                                                    + "; without a confidence, the confidence is the one STIX "
                                                      "2.1's Admiralty scale maps it to (1: 90 … 5: 10)"},
                                }}}},
                        }}},
                    },
                    "responses": {
                        "200": _json({"type": "object", "required": ["results", "counts"], "properties": {
                            "results": {"type": "array", "items": {"type": "object", "required": ["value", "status"],
                                        "properties": {"value": {"type": "string"}, "status": {"type": "string", "enum": [
                                            "new", "updated", "unchanged", "allowlisted", "rejected", "held"]},
                                            "canonical": {"type": "string"},
                                            "kind": {"type": ["string", "null"], "description": "the value's kind; "
                                                     "of a rejected value, the kind tried (null: none fits)"},
                                            "error": {"type": "string", "description": "why a value was rejected, "
                                                      "naming the value and the kind tried"},
                                            "reason": {"type": "string", "description": "the allowlist's reason, "
                                                       "the reason alone of a rejection, or why a value is held "
                                                       "and how to relist it"},
                                            "tlp_lowered": _LOWERED}}},
                            "counts": {"type": "object"},
                        }}),
                        **COMMON_ERRORS, **BODY_ERRORS,
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
                        "422": error_response("The value cannot be parsed as an indicator"),
                        **COMMON_ERRORS, **BODY_ERRORS,
                    },
                },
            },
            **_dispute_paths(),
            **event_paths(),
            **operation_paths(),
            **suggestion_paths(),
            **webhook_paths(),
            **watch_paths(),
            **operation_export_paths(),
            **graph_paths(_VALUE, _REGION, _PURPOSE, _CASE_REF),
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
                        **COMMON_ERRORS,
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
                        **COMMON_ERRORS,
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
                        "404": error_response("No such feed (or one the key may not see)"),
                        **COMMON_ERRORS,
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
                        "404": error_response("No such feed (or one the key may not see)"),
                        "409": error_response("The feed is being run by another process"),
                        **COMMON_ERRORS,
                    },
                },
            },
            "/api/v1/review": {
                "get": {
                    "summary": "The caller's org's assertions whose review date falls within days, or has passed "
                               "(contributor); soonest first",
                    "parameters": [
                        {"name": "days", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 3650},
                         "description": "how far ahead (default 30)"},
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 10000}},
                    ],
                    "responses": {
                        "200": _json({"type": "object", "required": ["org", "days", "count", "truncated", "assertions"],
                                      "properties": {
                                          "org": {"type": "string"}, "days": {"type": "integer"},
                                          "count": {"type": "integer"}, "truncated": {"type": "boolean"},
                                          "assertions": {"type": "array",
                                                         "items": {"$ref": "#/components/schemas/ReviewItem"}}}}),
                        "404": error_response("No such org"),
                        **COMMON_ERRORS,
                    },
                },
            },
            "/api/v1/assertions/{id}/confirm": {
                "post": {
                    "summary": "Confirm an assertion of the caller's org (contributor; an operator any): its review "
                               "date moves on from now, and one that ended by review is in force again",
                    "parameters": [{"name": "id", "in": "path", "required": True,
                                    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{48}$"},
                                    "description": "the assertion's id, as a review listing gives it"}],
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/ReviewItem"}, "The assertion, confirmed"),
                        "404": error_response("No such assertion, or one the key may not see"),
                        "409": error_response("The assertion ended otherwise (expired, a snapshot's end, delisted): "
                                              "submit the value again"),
                        **COMMON_ERRORS,
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
            "/-/audit/checkpoint": {
                "get": {"summary": "The newest signed checkpoint of the audit chain's head (any key): keep it, "
                                   "and check later that the log still holds it (docs/security.md)",
                        "responses": {"200": _json(_CHECKPOINT, "The checkpoint"),
                                      "404": error_response("No checkpoint has been taken yet"),
                                      **COMMON_ERRORS}},
            },
            "/-/audit/public-key": {
                "get": {"summary": "The Ed25519 public key checkpoints are signed with", "security": [],
                        "responses": {"200": _json(_PUBLIC_KEY, "The key, as hex and PEM")}},
            },
        },
    }
