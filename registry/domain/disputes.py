"""The rules of disputes and delisting (docs/design.md, "Disputes and delisting"). Pure: the
service (``services.disputes``) reads the rows and asks these.

- Who sees a dispute: the registry's operators; the org that filed it; whoever may see an
  assertion on its value (lookups show such a viewer that the value is disputed anyway).
- Who sees who disputed and why (the disputer, reason, evidence): operators, the disputer's own
  org, and the sources: an org with an assertion on the value the viewer may see.
- Who decides: each org for its own assertions in force (contributor or above), an operator for
  any. A dispute closes when every org with an assertion in force on the value has decided (or
  an operator decided for all).
- Overdue: open longer than ``REGISTRY_DISPUTE_DAYS``.
- Held: a report of a value one of whose assertions was delisted less than
  ``REGISTRY_RELIST_DAYS`` ago (and stays delisted) is held, unless its source's own assertion on
  the value is in force; a person relists it by submitting it with a reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from registry.domain.tlp import Viewer

OPEN, CLOSED = "open", "closed"
STATUSES = (OPEN, CLOSED)
DELIST, UPHOLD = "delist", "uphold"
DECISIONS = (DELIST, UPHOLD)
HELD = "held"  # a submission's status when its value is held (services.submit)


def sees(viewer: Viewer, disputer: str, visible_sources: Iterable[str]) -> bool:
    """Whether ``viewer`` sees a dispute filed by org ``disputer``; ``visible_sources``: the orgs
    of the assertions on the value that the viewer may see (any, ended ones too)."""
    return viewer.org is None or viewer.org == disputer or any(True for _ in visible_sources)


def is_party(viewer: Viewer, disputer: str, visible_sources: Iterable[str]) -> bool:
    """Whether ``viewer`` sees who disputed and why: an operator, the disputer's org, or a source
    (its org has an assertion on the value the viewer may see)."""
    return viewer.org is None or viewer.org == disputer or viewer.org in set(visible_sources)


def awaiting(in_force_orgs: Iterable[str], decided_orgs: Iterable[str]) -> list[str]:
    """The orgs still to decide: those with an assertion in force that have not decided."""
    decided = set(decided_orgs)
    return sorted({org for org in in_force_orgs if org not in decided})


def closes(in_force_orgs: Iterable[str], decided_orgs: Iterable[str]) -> bool:
    """Whether a dispute closes: no org with an assertion in force is left to decide."""
    return not awaiting(in_force_orgs, decided_orgs)


def overdue(status: str, created: datetime, flagged: datetime | None, days: int, now: datetime) -> bool:
    """Open past its days (or flagged so, by `registry disputes flag` or the scheduler)."""
    return status == OPEN and (flagged is not None or created + timedelta(days=days) <= now)


def outcome(decisions: Iterable[str]) -> str | None:
    """``delisted``, ``upheld``, ``mixed`` (some sources delisted, some upheld), or None (none yet)."""
    made = set(decisions)
    if not made:
        return None
    if made == {DELIST}:
        return "delisted"
    if made == {UPHOLD}:
        return "upheld"
    return "mixed"


def held_since(now: datetime, days: int) -> datetime | None:
    """A report at ``now`` is held when its value was delisted after this time (None: nothing is
    held, ``REGISTRY_RELIST_DAYS`` is 0)."""
    return now - timedelta(days=days) if days > 0 else None
