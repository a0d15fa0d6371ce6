"""The OpenAPI path of the pivot graph (docs/api.md, "Graph")."""

from __future__ import annotations

from registry.domain.kinds import KINDS
from registry.domain.operations import GRAPH_DEPTHS, GRAPH_MAX_NODES, RELATIONSHIP_TYPES
from registry.domain.tlp import LEVELS
from registry.web.openapi_components import COMMON_ERRORS, error_response

_NODE = {"type": "object", "required": ["kind", "value", "listed", "score", "distance"],
         "properties": {"kind": {"type": "string", "enum": list(KINDS)}, "value": {"type": "string"},
                        "listed": {"type": "boolean"}, "score": {"type": "integer", "minimum": 0, "maximum": 100},
                        "distance": {"type": "integer", "minimum": 0, "maximum": max(GRAPH_DEPTHS)}}}
_EDGE = {"type": "object", "required": ["id", "source", "target", "type", "org", "tlp", "confidence"],
         "properties": {"id": {"type": "string"}, "source": {"type": "string"}, "target": {"type": "string"},
                        "type": {"type": "string", "enum": list(RELATIONSHIP_TYPES)}, "org": {"type": "string"},
                        "tlp": {"type": "string", "enum": list(LEVELS)},
                        "confidence": {"type": "integer", "minimum": 0, "maximum": 100}}}
GRAPH = {"type": "object", "required": ["value", "depth", "nodes", "edges", "truncated", "cap"],
         "properties": {"value": {"type": "string"}, "depth": {"type": "integer", "enum": list(GRAPH_DEPTHS)},
                        "nodes": {"type": "array", "items": _NODE, "minItems": 1, "maxItems": GRAPH_MAX_NODES},
                        "edges": {"type": "array", "items": _EDGE}, "truncated": {"type": "boolean"},
                        "cap": {"type": "integer"}}}


def graph_paths(value: dict, region: dict, purpose: dict, case_ref: dict) -> dict:
    """The path, with the value, region, purpose and case reference schemas a lookup's takes."""
    return {
        "/api/v1/graph": {
            "get": {
                "summary": f"What is linked to a value, one or two steps out, under the TLP rule: at most "
                           f"{GRAPH_MAX_NODES} nodes (cap), truncated when more were linked",
                "parameters": [
                    {"name": "value", "in": "query", "required": True, "schema": value,
                     "description": "the value, read as a lookup reads it"},
                    {"name": "depth", "in": "query", "schema": {"type": "integer", "enum": list(GRAPH_DEPTHS)},
                     "description": "steps out (default 2)"},
                    {"name": "region", "in": "query", "schema": region,
                     "description": "for a national phone number (default: the key's org's country)"},
                    {"name": "purpose", "in": "query", "schema": purpose,
                     "description": "as a lookup's: the graph shows each node's score"},
                    {"name": "case_ref", "in": "query", "schema": case_ref, "description": "as a lookup's"},
                ],
                "responses": {
                    "200": {"description": "The neighbourhood, the value asked for first (alone when nothing "
                                           "visible links to it, or it is unknown)",
                            "content": {"application/json": {"schema": GRAPH}}},
                    "422": error_response("The value cannot be parsed as an indicator"),
                    **COMMON_ERRORS,
                },
            },
        },
    }
