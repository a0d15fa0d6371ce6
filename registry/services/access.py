"""The administration rule (``domain.roles.refusal``) as the user, key, org and audit services
apply it. Each of their functions takes ``by``: the acting caller (a ``Principal``: a signed-in
user or a key), or ``ON_SERVER`` for the server's own command line, whose operator is
unrestricted. ``by`` has no default on the user and key functions, so no caller can skip the
rule by leaving it out.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from registry.domain import roles, tlp
from registry.services.errors import Forbidden, Invalid

ON_SERVER = None  # ``by`` for the CLI: the operator at the server itself

T = TypeVar("T", bound=roles.Access)


def check(by: roles.Access | None, target: roles.Access, *, granting: bool = False) -> None:
    """Raise ``Forbidden`` (403) when ``by`` may not administer ``target`` (see the rule)."""
    if by is ON_SERVER:
        return
    found = roles.refusal(by, target, granting=granting)
    if found is not None:
        raise Forbidden(found.message, field=found.field,
                        details={"your_org": by.org, "your_role": by.role, "your_max_tlp": by.max_tlp})


def in_reach(by: roles.Access | None, rows: Iterable[T]) -> list[T]:
    """The rows ``by`` may administer: an admin's lists show nothing it could not act on."""
    return [row for row in rows if by is ON_SERVER or roles.refusal(by, row) is None]


def scope(by: roles.Access | None) -> str | None:
    """The org a listing is narrowed to in the database (None: every org)."""
    return None if by is ON_SERVER or roles.administers_every_org(by.role) else by.org


def default_cap(by: roles.Access | None) -> str:
    """A new user's or key's cap when none is given: the usual default, or the actor's if lower."""
    if by is ON_SERVER:
        return tlp.DEFAULT_MAX_TLP
    return min(tlp.DEFAULT_MAX_TLP, by.max_tlp, key=tlp.RANK.__getitem__)


def require_operator(by: roles.Access | None, what: str) -> None:
    if by is not ON_SERVER and not roles.administers_every_org(by.role):
        raise Forbidden(f"only the registry's operators {what}; you are {by.role} of {by.org}",
                        details={"needed_role": roles.OPERATOR, "role": by.role})


def parse_access(role: str | None, max_tlp: str | None) -> tuple[str | None, str | None]:
    """Role and cap as given (None: not given), in canonical spelling."""
    try:
        role = roles.parse_role(role) if role is not None else None
    except ValueError as exc:
        raise Invalid(str(exc), field="role") from None
    try:
        return role, tlp.parse_tlp(max_tlp) if max_tlp else None
    except ValueError as exc:
        raise Invalid(str(exc), field="max_tlp") from None
