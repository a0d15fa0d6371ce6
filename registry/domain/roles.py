"""Roles, from least to most trusted: each includes what the ones before it may do; and the one
rule saying who may administer which user or key.

An ``admin`` administers its own org's users and keys, up to its own TLP cap and role. An
``operator`` (the registry's operators; granted on the server's command line only) administers
every org's. A user or key is described to the rule by its org, role and TLP cap, as it is or
as it would be after a change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from registry.domain import tlp

READER = "reader"
CONTRIBUTOR = "contributor"
FEED_ADMIN = "feed-admin"
ADMIN = "admin"
OPERATOR = "operator"

ROLES: tuple[str, ...] = (READER, CONTRIBUTOR, FEED_ADMIN, ADMIN, OPERATOR)
_RANK = {role: i for i, role in enumerate(ROLES)}
# Only the server's command line makes operators: no web form or key can mint one, so taking
# over an org admin's account never reaches the other orgs.
CLI_ONLY: frozenset[str] = frozenset({OPERATOR})


def parse_role(text: str) -> str:
    role = text.strip().lower()
    if role not in _RANK:
        raise ValueError(f"unknown role {text!r}: use one of {', '.join(ROLES)}")
    return role


def allows(role: str, needed: str) -> bool:
    """True when ``role`` is ``needed`` or above it."""
    return _RANK[role] >= _RANK[needed]


class Access(Protocol):
    """What a key, a user or a caller holds (keys, users and principals all have these)."""

    org: str
    role: str
    max_tlp: str


@dataclass(frozen=True)
class Grant:
    """A user or key as it would be: for the rule before it exists or changes."""

    org: str
    role: str
    max_tlp: str


@dataclass(frozen=True)
class Refusal:
    field: str  # the form field or parameter at fault: org, role or max_tlp
    message: str


def administers_every_org(role: str) -> bool:
    return role == OPERATOR


def audit_scope(actor: Access) -> str | None:
    """The org whose audit rows ``actor`` reads (None: every org's). Rows name what others looked
    up, so an admin reads its own org's only."""
    return None if administers_every_org(actor.role) else actor.org


def refusal(actor: Access, target: Access, *, granting: bool = False) -> Refusal | None:
    """Why ``actor`` may not administer ``target`` (disable, enable, set its password, change,
    revoke or list it), or None when it may. ``granting``: ``target`` is what a new or changed
    user or key would be, so a CLI-only role is refused too.

    Same org (unless an operator), a cap no higher than the actor's (else it could read through
    the target what its own cap hides: a new password, then a sign-in as the target) and a role
    no higher than the actor's."""
    if not allows(actor.role, ADMIN):
        return Refusal("role", f"administering users and keys needs the admin role; you have {actor.role}")
    if target.org != actor.org and not administers_every_org(actor.role):
        return Refusal("org", f"you administer org {actor.org} only, not {target.org}: other orgs are "
                              "administered by the registry's operators")
    if tlp.RANK[target.max_tlp] > tlp.RANK[actor.max_tlp]:
        return Refusal("max_tlp", f"you administer users and keys up to TLP:{actor.max_tlp.upper()}, "
                                  f"not TLP:{target.max_tlp.upper()}")
    if granting and target.role in CLI_ONLY:
        return Refusal("role", f"the {target.role} role is granted on the server's command line only "
                               f"(`registry user set-role NAME {target.role}`)")
    if _RANK[target.role] > _RANK[actor.role]:
        return Refusal("role", f"you administer roles up to {actor.role}, not {target.role}")
    return None


def grantable(actor: Access) -> tuple[str, ...]:
    """The roles ``actor`` may give a new or changed user or key."""
    return tuple(r for r in ROLES if refusal(actor, Grant(actor.org, r, actor.max_tlp), granting=True) is None)
