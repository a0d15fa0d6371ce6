"""The OpenAPI paths of an operation's exports (docs/api.md, "Operations: STIX and MISP")."""

from __future__ import annotations

from registry.web.openapi_components import COMMON_ERRORS, error_response

_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 36},
       "description": "the operation's id, as POST /api/v1/operations answered it"}
_HIDDEN = error_response("No such operation, or one the key may not see (answered alike)")


def operation_export_paths() -> dict:
    return {
        "/api/v1/operations/{id}/stix": {"get": {
            "summary": "The operation as one STIX 2.1 bundle: a grouping (context suspicious-activity) of its members' "
                       "SCOs, the Indicators of their assertions the key may see and the relationships between "
                       "members it may see, each part with its own TLP marking",
            "parameters": [_ID],
            "responses": {"200": {"description": "OK", "content": {"application/stix+json;version=2.1": {"schema": {
                "type": "object", "required": ["type", "id", "objects"]}}}}, "404": _HIDDEN, **COMMON_ERRORS},
        }},
        "/api/v1/operations/{id}/misp": {"get": {
            "summary": "The operation as one MISP event: an object per member, its relationships as object "
                       "references (the event the MISP feed lists for it)",
            "parameters": [_ID],
            "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {
                "type": "object", "required": ["Event"]}}}}, "404": _HIDDEN, **COMMON_ERRORS},
        }},
    }
