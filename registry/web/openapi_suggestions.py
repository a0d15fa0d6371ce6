"""The OpenAPI path of the suggested links (docs/api.md, "Suggested links")."""

from __future__ import annotations

from registry.domain import suggestions as rules
from registry.domain.kinds import KINDS
from registry.domain.operations import RELATIONSHIP_TYPES
from registry.web.openapi_components import COMMON_ERRORS, error_response

_TEXT = {"type": "string"}
_KIND = {"type": "string", "enum": list(KINDS)}
_WHY = {
    "type": "object",
    "required": ["rule", "text"],
    "description": "one reason: same-number and url-host from the caller's lookup, same-case (org, last_seen; "
                   "case_ref only to the org that sighted), submitted-together (org, time, times)",
    "properties": {
        "rule": {"type": "string", "enum": list(rules.RULES)}, "text": _TEXT,
        "match": {"type": "string", "enum": list(rules.HOST_MATCHES)}, "org": _TEXT, "case_ref": _TEXT,
        "last_seen": _TEXT, "time": _TEXT, "times": {"type": "integer", "minimum": 1},
    },
}
SUGGESTION = {
    "type": "object",
    "required": ["source", "target", "type", "value", "kind", "listed", "score", "why"],
    "properties": {
        "source": _TEXT, "target": _TEXT, "type": {"type": "string", "enum": list(RELATIONSHIP_TYPES)},
        "value": {"type": "string", "description": "the other end"}, "kind": _KIND,
        "listed": {"type": "boolean", "description": "as the caller's lookup of the other end says"},
        "score": {"type": "integer", "minimum": 0, "maximum": 100}, "why": {"type": "array", "items": _WHY},
    },
}


def suggestion_paths() -> dict:
    return {
        "/api/v1/suggestions": {
            "get": {
                "summary": "Links a person might state for a value, each with why, never applied by themselves "
                           "(accept one with POST /api/v1/relationships)",
                "parameters": [
                    {"name": "value", "in": "query", "required": True,
                     "schema": {"type": "string", "minLength": 1, "maxLength": 2048}},
                    {"name": "region", "in": "query", "schema": {"type": "string", "pattern": "^[A-Za-z]{2}$"},
                     "description": "ISO alpha-2 region for national phone and account numbers "
                                    "(default: the key's org country)"},
                ],
                "responses": {
                    "200": {"description": "OK", "content": {"application/json": {"schema": {
                        "type": "object", "required": ["value", "kind", "suggestions", "truncated"], "properties": {
                            "value": _TEXT, "kind": _KIND,
                            "suggestions": {"type": "array", "maxItems": rules.MAX_SUGGESTIONS, "items": SUGGESTION},
                            "truncated": {"type": "boolean"}}}}}},
                    "422": error_response("The value cannot be parsed as an indicator"),
                    **COMMON_ERRORS,
                },
            },
        },
    }
