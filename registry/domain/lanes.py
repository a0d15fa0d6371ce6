"""Write lanes: a write never changes or reveals a row its writer may not see.

An org's assertion of a value (per feed) and its sighting of a value (per case) may be held in
several rows, told apart by a small ``lane`` number. Lane 0 is the ordinary row: every write of
the operator, and of any writer who sees all of its org's levels, goes there (so feed runs and
imports keep one row per value). A writer capped below that (a key or user whose ``max_tlp`` is
under RED) updates the row in the lowest lane it can see; when it can see none, it writes a row of
its own, and its answer is the one an unknown value gets (``new``), while the hidden row keeps its
TLP, text, counts and times.

A writer's own lane is fixed by its cap and the level it writes (``own_lane``), so a writer
repeating itself finds its row again. A write at a level above the writer's own cap (a key capped
at AMBER+STRICT submitting RED) cannot see its own result: its lane is *blind*. Only such writes of
the same org, cap and level ever reach a blind lane (no other write picks a blind row as the one it
sees), so a repeat is added to that row without changing its level, and still answers ``new``: the
writer cannot tell it from the first time. Were it to append a row instead, every daily re-report
of a RED list by an AMBER+STRICT key would add one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from registry.domain.tlp import LEVELS, RANK, Viewer

ORDINARY = 0
_N = len(LEVELS)
SPARE = 1 + _N * _N  # lanes from here on are free of any (cap, level) meaning


def own_lane(cap: str, tlp: str) -> int:
    """The lane of a row written at ``tlp`` by a writer capped at ``cap`` whose ordinary row is hidden."""
    return 1 + RANK[cap] * _N + RANK[tlp]


def is_blind(lane: int) -> bool:
    """Whether only writes that cannot see their own level reach ``lane``."""
    if not ORDINARY < lane < SPARE:
        return False
    cap, level = divmod(lane - 1, _N)
    return level > cap


@dataclass(frozen=True, slots=True)
class Choice:
    """Where one write goes: ``row`` to update (None: insert a row in ``lane``); ``as_new``: the
    row is hidden from the writer, so the answer is the one a new row gets."""

    lane: int
    row: object | None = None
    as_new: bool = False


def sees_every_level(viewer: Viewer | None, org: str) -> bool:
    """The operator, or a writer of ``org`` whose cap reaches RED: it always writes lane 0."""
    return viewer is None or viewer.can_see(LEVELS[-1], org)


def choose(rows: Sequence, viewer: Viewer | None, org: str, tlp: str) -> Choice:
    """Where a write at ``tlp`` by ``viewer`` (None: the operator) goes, among ``rows`` (objects
    with ``lane`` and ``tlp``): the existing rows of the same org, value and feed (or case)."""
    if not rows:
        return Choice(ORDINARY)
    if viewer is None:
        viewer = Viewer.operator()
    visible = [r for r in rows if not is_blind(r.lane) and viewer.can_see(r.tlp, org)]
    if visible:
        row = min(visible, key=_lane)
        return Choice(row.lane, row)
    lane = own_lane(viewer.max_tlp, tlp)
    taken = {r.lane: r for r in rows}
    row = taken.get(lane)
    if row is None:
        return Choice(lane, as_new=True)
    if is_blind(lane) and row.tlp == tlp:
        return Choice(lane, row, as_new=True)
    # The own lane holds a row this writer may not touch (its level was raised by someone who
    # saw it): a spare lane, past every lane in use.
    return Choice(max(max(taken) + 1, SPARE), as_new=True)


def _lane(row) -> int:
    return row.lane
