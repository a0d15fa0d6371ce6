"""The OpenAPI paths of operations and relationships (docs/api.md, "Operations" and
"Relationships")."""

from __future__ import annotations

from registry.domain import operations as rules
from registry.domain.kinds import KINDS
from registry.domain.tlp import LEVELS
from registry.web.openapi_components import BODY_ERRORS, COMMON_ERRORS, error_response

_TEXT = {"type": "string"}
_TIME = {"type": "string", "description": "ISO 8601, UTC"}
_MAYBE_TIME = {"type": ["string", "null"]}
_TLP = {"type": "string", "enum": list(LEVELS)}
_KIND = {"type": "string", "enum": list(KINDS)}
_VALUE = {"type": "string", "minLength": 1, "maxLength": 2048}
_REGION = {"type": "string", "pattern": "^[A-Za-z]{2}$"}
_REGION_TEXT = "ISO alpha-2 region for national phone and account numbers (default: the key's org country)"
_ID = {"type": "string", "minLength": 1, "maxLength": 36}
_OPERATION_ID = {"name": "id", "in": "path", "required": True, "schema": _ID,
                 "description": "the operation's id, as POST /api/v1/operations answered it"}
_NOT_FOUND = error_response("No such operation the key may see (the same answer as for an unknown id)")
_UNPROCESSABLE = error_response("The value cannot be parsed as an indicator")
_LIMIT = {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}
_OPERATION_REF = {"type": "object", "required": ["id", "name", "org", "tlp"], "properties": {
    "id": _TEXT, "name": _TEXT, "org": _TEXT, "tlp": _TLP}}

SUMMARY = {
    "type": "object",
    "description": "An operation: indicators that belong together, owned by an org, visible under the TLP rule by "
                   "its own tlp",
    "required": ["id", "name", "org", "tlp", "labels", "status", "description", "created", "modified",
                 "first_activity", "last_activity", "closed"],
    "properties": {
        "id": _TEXT, "name": _TEXT, "org": {"type": "string", "description": "the owner org"}, "tlp": _TLP,
        "labels": {"type": "array", "items": _TEXT}, "status": {"type": "string", "enum": list(rules.STATUSES)},
        "description": {"type": ["string", "null"]}, "created": _TIME, "modified": _TIME,
        "first_activity": _MAYBE_TIME, "last_activity": _MAYBE_TIME, "closed": _MAYBE_TIME,
    },
}
RELATIONSHIP = {
    "type": "object",
    "required": ["id", "source", "source_kind", "target", "target_kind", "type", "org", "tlp", "confidence",
                 "description", "first_seen", "last_seen"],
    "properties": {
        "id": _TEXT, "source": _TEXT, "source_kind": _KIND, "target": _TEXT, "target_kind": _KIND,
        "type": {"type": "string", "enum": list(rules.RELATIONSHIP_TYPES)},
        "org": {"type": "string", "description": "the org that states it"}, "tlp": _TLP,
        "confidence": {"type": "integer", "minimum": 0, "maximum": 100}, "description": {"type": ["string", "null"]},
        "first_seen": _TIME, "last_seen": _TIME,
    },
}
_LINKED = {"type": "object", "required": ["id", "status", "source", "target", "type", "org", "tlp", "confidence"],
           "properties": {"id": _TEXT, "status": {"type": "string", "enum": ["new", "updated"]}, "source": _TEXT,
                          "target": _TEXT, "type": RELATIONSHIP["properties"]["type"], "org": _TEXT, "tlp": _TLP,
                          "confidence": {"type": "integer"}}}
_NOTE = {"type": "object", "required": ["org", "actor", "text", "created"], "properties": {
    "org": _TEXT, "actor": {"type": ["string", "null"], "description": "shown to its org and operators only"},
    "text": _TEXT, "created": _TIME}}
_MEMBER = {
    "type": "object",
    "required": ["value", "kind", "added_by", "actor", "added", "listed", "score", "reported_by", "related", "also_in"],
    "properties": {
        "value": _TEXT, "kind": _KIND, "display": _TEXT, "added_by": _TEXT,
        "actor": {"type": ["string", "null"], "description": "shown to the adding org and operators only"},
        "added": _TIME,
        "listed": {"type": "boolean", "description": "as the key's own lookup of the value answers"},
        "score": {"type": "integer", "minimum": 0, "maximum": 100},
        "reported_by": {"type": "array", "items": _TEXT,
                        "description": "the orgs whose assertions in force, visible to the key, the lookup matched"},
        "related": {"type": "integer", "minimum": 0},
        "also_in": {"type": "array", "items": _OPERATION_REF, "description": "the other visible operations holding it"},
    },
}
_ACTIVITY = {"type": "object", "required": ["time", "type", "org"], "properties": {
    "time": _TIME, "type": {"type": "string", "enum": ["added", "reported", "sighted", "ended", "linked", "note"]},
    "org": _TEXT, "value": _TEXT, "target": _TEXT, "relationship": _TEXT, "tlp": _TLP, "why": _TEXT,
    "count": {"type": "integer"}}}
DETAIL = {"allOf": [SUMMARY, {
    "type": "object",
    "required": ["member_count", "members", "relationships", "relationships_truncated", "notes", "activity"],
    "properties": {
        "member_count": {"type": "integer", "minimum": 0},
        "members": {"type": "array", "items": _MEMBER, "description": "the first 1,000 added, oldest first"},
        "relationships": {"type": "array", "items": RELATIONSHIP,
                          "description": "the visible relationships touching a member (at most 500)"},
        "relationships_truncated": {"type": "boolean"},
        "notes": {"type": "array", "items": _NOTE},
        "activity": {"type": "array", "items": _ACTIVITY, "description": "the newest 25 items, newest first"},
    }}]}


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _body(schema: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


_NO_CONTENT = {"description": "Done"}


def _status_path(verb: str) -> dict:
    return {"post": {
        "summary": f"{verb.capitalize()} an operation (contributor of its org; an operator's key for any)",
        "parameters": [_OPERATION_ID],
        "responses": {"200": _json(SUMMARY, "The operation as it now stands"), "404": _NOT_FOUND, **COMMON_ERRORS},
    }}


def operation_paths() -> dict:
    return {
        "/api/v1/operations": {
            "post": {
                "summary": "Make an operation owned by the key's org (contributor)",
                "requestBody": _body({"type": "object", "required": ["name"], "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": rules.MAX_NAME},
                    "description": {"type": "string", "maxLength": rules.MAX_TEXT},
                    "tlp": {**_TLP, "description": "default amber"},
                    "labels": {"type": "array", "items": {"type": "string"}},
                }}),
                "responses": {"201": _json(SUMMARY, "Made"), **COMMON_ERRORS, **BODY_ERRORS},
            },
            "get": {
                "summary": "The operations the key may see, newest first",
                "parameters": [
                    {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 200},
                     "description": "text in the name or description (any case)"},
                    {"name": "status", "in": "query", "schema": {"type": "string", "enum": list(rules.STATUSES)}},
                    {"name": "label", "in": "query", "schema": {"type": "string", "maxLength": 200}},
                    {"name": "org", "in": "query", "schema": {"type": "string", "maxLength": 64},
                     "description": "only this owner org's"},
                    {"name": "value", "in": "query", "schema": _VALUE,
                     "description": "only those holding this value (read as a lookup reads it)"},
                    {"name": "region", "in": "query", "schema": _REGION, "description": _REGION_TEXT},
                    _LIMIT,
                ],
                "responses": {"200": _json({"type": "object", "required": ["operations"], "properties": {
                    "operations": {"type": "array", "items": SUMMARY}}}), "422": _UNPROCESSABLE, **COMMON_ERRORS},
            },
        },
        "/api/v1/operations/{id}": {
            "get": {
                "summary": "One operation in full: members with what the key's own lookup shows of each, "
                           "relationships, notes, recent activity",
                "parameters": [_OPERATION_ID],
                "responses": {"200": _json(DETAIL), "404": _NOT_FOUND, **COMMON_ERRORS},
            },
        },
        "/api/v1/operations/{id}/indicators": {
            "post": {
                "summary": "Add values of any kind as members (contributor of the owner org)",
                "parameters": [_OPERATION_ID],
                "requestBody": _body({"type": "object", "required": ["values"], "properties": {
                    "values": {"type": "array", "items": _VALUE, "minItems": 1,
                               "maxItems": rules.MAX_MEMBERS_PER_REQUEST},
                    "region": {**_REGION, "description": _REGION_TEXT},
                    "kind": {**_KIND, "description": "read every value as this kind (default: detected per value)"},
                }}),
                "responses": {
                    "200": _json({"type": "object", "required": ["id", "added", "already", "rejected"], "properties": {
                        "id": _TEXT, "added": {"type": "array", "items": _TEXT},
                        "already": {"type": "array", "items": _TEXT, "description": "members before"},
                        "rejected": {"type": "array", "items": {"type": "object", "required": ["value", "error"],
                                                                "properties": {"value": _TEXT, "error": _TEXT}}}}}),
                    "404": _NOT_FOUND, **COMMON_ERRORS, **BODY_ERRORS,
                },
            },
        },
        "/api/v1/operations/{id}/indicators/{value}": {
            "delete": {
                "summary": "Remove a member (contributor of the owner org); the value URL-encoded, as written or "
                           "canonical",
                "parameters": [_OPERATION_ID, {"name": "value", "in": "path", "required": True, "schema": _VALUE},
                               {"name": "region", "in": "query", "schema": _REGION, "description": _REGION_TEXT}],
                "responses": {"204": _NO_CONTENT,
                              "404": error_response("No such operation the key may see, or the value is no member"),
                              "422": _UNPROCESSABLE, **COMMON_ERRORS},
            },
        },
        "/api/v1/operations/{id}/close": _status_path("close"),
        "/api/v1/operations/{id}/reopen": _status_path("reopen"),
        "/api/v1/operations/{id}/notes": {
            "post": {
                "summary": "Add a note (contributor of the owner org)",
                "parameters": [_OPERATION_ID],
                "requestBody": _body({"type": "object", "required": ["text"], "properties": {
                    "text": {"type": "string", "minLength": 1, "maxLength": rules.MAX_TEXT}}}),
                "responses": {"201": _json(_NOTE, "Added"), "404": _NOT_FOUND, **COMMON_ERRORS, **BODY_ERRORS},
            },
        },
        "/api/v1/relationships": {
            "post": {
                "summary": "State that two values are linked, as the key's org (contributor): 201 a new statement, "
                           "200 when the org's statement of the same source, target and type was updated",
                "requestBody": _body({"type": "object", "required": ["source", "target", "type"], "properties": {
                    "source": _VALUE, "target": _VALUE,
                    "type": {"type": "string", "enum": list(rules.RELATIONSHIP_TYPES)},
                    "tlp": {**_TLP, "description": "default amber"},
                    "confidence": {"type": "integer", "minimum": 0, "maximum": 100, "description": "default 50"},
                    "description": {"type": "string", "maxLength": rules.MAX_TEXT},
                    "region": {**_REGION, "description": _REGION_TEXT},
                }}),
                "responses": {
                    "201": _json(_LINKED, "Stated"), "200": _json(_LINKED, "The org's statement, updated"),
                    "422": _UNPROCESSABLE, **COMMON_ERRORS, **BODY_ERRORS,
                },
            },
            "get": {
                "summary": "The visible relationships with a value at either end, oldest first",
                "parameters": [{"name": "value", "in": "query", "required": True, "schema": _VALUE},
                               {"name": "region", "in": "query", "schema": _REGION, "description": _REGION_TEXT},
                               _LIMIT],
                "responses": {"200": _json({"type": "object", "required": ["relationships"], "properties": {
                    "relationships": {"type": "array", "items": RELATIONSHIP}}}), "422": _UNPROCESSABLE,
                    **COMMON_ERRORS},
            },
        },
        "/api/v1/relationships/{id}": {
            "delete": {
                "summary": "Remove a statement (contributor of its org; an operator's key for any)",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": _ID,
                                "description": "the relationship's id"}],
                "responses": {"204": _NO_CONTENT, "404": error_response("No such relationship the key may see"),
                              **COMMON_ERRORS},
            },
        },
    }
