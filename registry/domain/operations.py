"""Operations and relationships: the pure rules (docs/design.md, "Operations and relationships").

An operation groups indicators that belong together (one compound's numbers, mule accounts,
domains and messaging accounts); a relationship is one org's statement that two indicators are
linked, typed from a small vocabulary. Both are visible under the one TLP rule by their own TLP
and owner (``Viewer.can_see``), like an assertion.
"""

from __future__ import annotations

PAYS_TO = "pays-to"
CONTACTS = "contacts"
RESOLVES_TO = "resolves-to"
HOSTS = "hosts"
REDIRECTS_TO = "redirects-to"
SAME_OPERATOR = "same-operator"
RELATED_TO = "related-to"

RELATIONSHIP_TYPES: tuple[str, ...] = (PAYS_TO, CONTACTS, RESOLVES_TO, HOSTS, REDIRECTS_TO, SAME_OPERATOR, RELATED_TO)

OPEN = "open"
CLOSED = "closed"
STATUSES: tuple[str, ...] = (OPEN, CLOSED)

MAX_NAME = 200
MAX_TEXT = 4000
MAX_MEMBERS_PER_REQUEST = 1000
DEFAULT_CONFIDENCE = 50

# The neighbourhood a graph answer holds at most (nodes): what the page draws readably.
GRAPH_MAX_NODES = 200
GRAPH_DEPTHS = (1, 2)


def relationship_type(text: str) -> str:
    """The vocabulary's name for ``text`` (case and spaces forgiven); ValueError names the choices."""
    key = text.strip().lower().replace(" ", "-").replace("_", "-")
    if key not in RELATIONSHIP_TYPES:
        raise ValueError(f"unknown relationship type {text!r}: use one of {', '.join(RELATIONSHIP_TYPES)}")
    return key
