"""The OpenAPI paths of the event feed and stream (docs/api.md, "Events")."""

from __future__ import annotations

from registry.domain.events import TYPES
from registry.web.openapi_components import COMMON_ERRORS, error_response

_SCOPE = {"name": "scope", "in": "query", "schema": {"type": "string", "enum": ["org", "all"]},
          "description": "org (default): the events routed to the key's org (its watches, hits on its indicators); "
                         "all: every event the key may see (what a federating registry follows)"}
_SEQ = {"type": "integer", "minimum": 0, "maximum": 10**18}

EVENT = {"type": "object", "required": ["seq", "type", "time", "kind", "value", "org", "tlp", "watches"],
         "properties": {"seq": {"type": "integer"}, "type": {"type": "string", "enum": list(TYPES)},
                        "time": {"type": "string"}, "kind": {"type": ["string", "null"]},
                        "value": {"type": ["string", "null"]}, "org": {"type": ["string", "null"]},
                        "tlp": {"type": "string"}, "watches": {"type": "array", "items": {"type": "string"}}}}


def event_paths() -> dict:
    return {
        "/api/v1/events": {
            "get": {
                "summary": "The key's events after a sequence number, oldest first, under the TLP rule",
                "parameters": [
                    {"name": "after", "in": "query", "schema": _SEQ,
                     "description": "the next of an earlier answer (0, or absent: from the oldest kept)"},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
                    _SCOPE,
                ],
                "responses": {
                    "200": {"description": "OK", "content": {"application/json": {"schema": {
                        "type": "object", "required": ["events", "next"], "properties": {
                            "events": {"type": "array", "items": EVENT}, "next": {"type": "integer"}}}}}},
                    **COMMON_ERRORS,
                },
            },
        },
        "/api/v1/events/stream": {
            "get": {
                "summary": "The key's events as Server-Sent Events (id: the sequence number, event: the type, "
                           "data: the event's JSON), resumed from Last-Event-ID; a heartbeat comment while none comes",
                "parameters": [
                    {"name": "Last-Event-ID", "in": "header", "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"},
                     "description": "resume after this event (browsers send it when they reconnect)"},
                    {"name": "after", "in": "query", "schema": _SEQ,
                     "description": "resume after this event when no Last-Event-ID is sent (default: from now)"},
                    _SCOPE,
                ],
                "responses": {
                    "200": {"description": "The stream (it does not end while the key is valid)",
                            "content": {"text/event-stream": {"schema": {"type": "string"}}}},
                    "404": error_response("The key's org no longer exists"),
                    **COMMON_ERRORS,
                },
            },
        },
    }
