"""The webhook paths of the OpenAPI description (``openapi``; the views in ``web.webhooks``,
docs/api.md, "Webhooks")."""

from __future__ import annotations

from registry.domain.tlp import LEVELS
from registry.services import webhooks
from registry.web.openapi_components import BODY_ERRORS, COMMON_ERRORS, error_response
from registry.web.openapi_components import json_response as _json

_TIME_OR_NULL = {"type": ["string", "null"]}
_WEBHOOK = {
    "type": "object",
    "required": ["id", "url", "watches", "enabled", "created", "max_tlp", "position", "failures"],
    "properties": {
        "id": {"type": "string"},
        "url": {"type": "string"},
        "watches": {"oneOf": [{"const": "all"}, {"type": "array", "items": {"type": "string"}}],
                    "description": '"all": every event the org receives; else the ids of the watches it delivers'},
        "enabled": {"type": "boolean"},
        "disabled_reason": {"type": ["string", "null"]},
        "created": {"type": "string"},
        "max_tlp": {"type": "string", "enum": list(LEVELS),
                    "description": "the cap of the key that registered it: no delivery reveals more"},
        "position": {"type": "integer", "description": "the sequence of the last event handled"},
        "failures": {"type": "integer", "minimum": 0, "description": "failed attempts at the next event"},
        "failing_since": _TIME_OR_NULL,
        "next_attempt": _TIME_OR_NULL,
    },
}
_REGISTERED = {"allOf": [_WEBHOOK, {"type": "object", "required": ["secret"], "properties": {
    "secret": {"type": "string", "description": "signs every delivery (X-Registry-Signature); shown only here"}}}]}
_DELIVERY = {
    "type": "object",
    "required": ["delivery", "seq", "attempt", "time", "status", "acknowledged", "answer", "error", "duration"],
    "properties": {
        "delivery": {"type": "string", "description": "X-Registry-Delivery: the same on every attempt at the event"},
        "seq": {"type": "integer"},
        "attempt": {"type": "integer", "minimum": 1},
        "time": {"type": "string"},
        "status": {"type": ["integer", "null"], "description": "the receiver's HTTP status"},
        "acknowledged": {"type": "boolean", "description": "a 2xx: the event was delivered"},
        "answer": {"type": ["string", "null"], "description": "the start of the receiver's answer"},
        "error": {"type": ["string", "null"], "description": "why no answer came, or why a 3xx failed"},
        "duration": {"type": ["number", "null"], "description": "seconds"},
    },
}
_ID = {"name": "id", "in": "path", "required": True,
       "schema": {"type": "string", "minLength": 1, "maxLength": webhooks.MAX_ID},
       "description": "the webhook's id, as POST /api/v1/webhooks answered it"}
_NOT_FOUND = error_response("No such webhook of the key's org")


def webhook_paths() -> dict:
    return {
        "/api/v1/webhooks": {
            "post": {
                "summary": "Register a webhook of the key's org (contributor): each event the org receives is "
                           "POSTed to it, signed; the secret is answered this once",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["url"], "properties": {
                        "url": {"type": "string", "format": "uri", "minLength": 1, "maxLength": 2048,
                                "description": "https, to a global address (docs/security.md, \"Webhooks\")"},
                        "watches": {"oneOf": [{"const": "all"}, {"type": "array", "minItems": 1, "maxItems": 100,
                                                                  "items": {"type": "string", "maxLength": 36}}],
                                    "description": 'the org\'s watch ids, or "all" (the default)'},
                    }}}}},
                "responses": {
                    "201": _json(_REGISTERED, "Registered"),
                    "409": error_response(f"The org has {webhooks.MAX_PER_ORG} webhooks already"),
                    **COMMON_ERRORS, **BODY_ERRORS,
                },
            },
            "get": {
                "summary": "The key's org's webhooks (contributor), without their secrets",
                "responses": {"200": _json({"type": "object", "required": ["webhooks"], "properties": {
                    "webhooks": {"type": "array", "items": _WEBHOOK}}}), **COMMON_ERRORS},
            },
        },
        "/api/v1/webhooks/{id}": {
            "delete": {
                "summary": "Remove a webhook and its delivery attempts",
                "parameters": [_ID],
                "responses": {"204": {"description": "Removed"}, "404": _NOT_FOUND, **COMMON_ERRORS},
            },
        },
        "/api/v1/webhooks/{id}/enable": {
            "post": {
                "summary": "Enable a disabled webhook again: it resumes with the first event it had not delivered",
                "parameters": [_ID],
                "responses": {"200": _json(_WEBHOOK), "404": _NOT_FOUND,
                              "409": error_response("Its URL is refused now (register another)"), **COMMON_ERRORS},
            },
        },
        "/api/v1/webhooks/{id}/deliveries": {
            "get": {
                "summary": "The webhook's delivery attempts, newest first, each with the receiver's answer",
                "parameters": [_ID, {"name": "limit", "in": "query", "schema": {
                    "type": "integer", "minimum": 1, "maximum": webhooks.MAX_DELIVERIES}}],
                "responses": {"200": _json({"type": "object", "required": ["deliveries"], "properties": {
                    "deliveries": {"type": "array", "items": _DELIVERY}}}), "404": _NOT_FOUND, **COMMON_ERRORS},
            },
        },
    }
