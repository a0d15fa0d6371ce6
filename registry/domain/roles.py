"""Roles, from least to most trusted: each includes what the ones before it may do."""

from __future__ import annotations

READER = "reader"
CONTRIBUTOR = "contributor"
FEED_ADMIN = "feed-admin"
ADMIN = "admin"

ROLES: tuple[str, ...] = (READER, CONTRIBUTOR, FEED_ADMIN, ADMIN)
_RANK = {role: i for i, role in enumerate(ROLES)}


def parse_role(text: str) -> str:
    role = text.strip().lower()
    if role not in _RANK:
        raise ValueError(f"unknown role {text!r}: use one of {', '.join(ROLES)}")
    return role


def allows(role: str, needed: str) -> bool:
    """True when ``role`` is ``needed`` or above it."""
    return _RANK[role] >= _RANK[needed]
