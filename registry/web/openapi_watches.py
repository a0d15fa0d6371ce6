"""The OpenAPI paths of watches (docs/api.md, "Watches")."""

from __future__ import annotations

from registry.domain.kinds import KINDS
from registry.domain.labels import LABEL
from registry.services.watches import MAX_ID, MAX_VALUE, MAX_WATCHES
from registry.web.openapi_components import BODY_ERRORS, COMMON_ERRORS, error_response

_NAMES = {"type": "array", "items": {"type": "string"}}
_LABEL = {"type": "string", "pattern": LABEL.pattern, "description": "a label, as the label rule writes it"}

WATCH = {
    "type": "object",
    "description": "A watch of the caller's org: a value (with its kind) or a label, narrowed by kinds, labels and "
                   "source orgs (empty: any).",
    "required": ["id", "value", "kind", "label", "kinds", "labels", "sources", "actor", "created"],
    "properties": {
        "id": {"type": "string", "description": "a UUID"},
        "value": {"type": ["string", "null"], "description": "the watched value, canonical; null for a label watch"},
        "kind": {"oneOf": [{"type": "string", "enum": list(KINDS)}, {"type": "null"}]},
        "label": {"type": ["string", "null"], "description": "the watched label; null for a value watch"},
        "kinds": _NAMES, "labels": _NAMES, "sources": _NAMES,
        "actor": {"type": ["string", "null"], "description": "the key prefix or user that made it"},
        "created": {"type": "string"},
    },
}


def watch_paths() -> dict:
    return {
        "/api/v1/watches": {
            "post": {
                "summary": "Watch a value or block (narrowed by kinds, labels, sources), or a label alone, for the "
                           "key's org (any key); the same watch again answers 200 with the one the org has",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "additionalProperties": False,
                    "oneOf": [{"required": ["value"]}, {"required": ["label"], "not": {"required": ["labels"]}}],
                    "properties": {
                        "value": {"type": "string", "minLength": 1, "maxLength": MAX_VALUE,
                                  "description": "an IP or CIDR, domain, URL, phone number or block (+85597*), "
                                                 "account, wallet or hash"},
                        "label": _LABEL,
                        "kinds": {"type": "array", "items": {"type": "string", "enum": list(KINDS)},
                                  "description": "only events of these kinds (default: any)"},
                        "labels": {"type": "array", "items": _LABEL,
                                   "description": "only events carrying one of these labels (default: any)"},
                        "sources": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 64},
                                    "description": "only events about these orgs' reports (slugs; default: any)"},
                    }}}}},
                "responses": {
                    "201": _json("Watched"),
                    "200": _json("The org had this watch already: that one"),
                    "409": error_response(f"The org has as many watches as it may ({MAX_WATCHES:,})"),
                    **COMMON_ERRORS, **BODY_ERRORS,
                },
            },
            "get": {
                "summary": "The key's org's watches, oldest first",
                "responses": {
                    "200": {"description": "OK", "content": {"application/json": {"schema": {
                        "type": "object", "required": ["watches"], "properties": {
                            "watches": {"type": "array", "items": WATCH}}}}}},
                    **COMMON_ERRORS,
                },
            },
        },
        "/api/v1/watches/{id}": {
            "delete": {
                "summary": "Remove a watch of the key's org (contributor or above; a reader, the watches it made)",
                "parameters": [{"name": "id", "in": "path", "required": True,
                                "schema": {"type": "string", "minLength": 1, "maxLength": MAX_ID},
                                "description": "the watch's id, as POST /api/v1/watches answered it"}],
                "responses": {
                    "204": {"description": "Removed"},
                    "404": error_response("No such watch of the key's org (another org's is as unknown)"),
                    **COMMON_ERRORS,
                },
            },
        },
    }


def _json(description: str) -> dict:
    """An answer of one watch."""
    return {"description": description, "content": {"application/json": {"schema": WATCH}}}
