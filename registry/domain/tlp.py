"""TLP 2.0 levels and the one visibility rule every read path calls."""

from __future__ import annotations

from dataclasses import dataclass

CLEAR = "clear"
GREEN = "green"
AMBER = "amber"
AMBER_STRICT = "amber+strict"
RED = "red"

# Least to most restricted; the index is the rank.
LEVELS: tuple[str, ...] = (CLEAR, GREEN, AMBER, AMBER_STRICT, RED)
RANK = {level: i for i, level in enumerate(LEVELS)}

DEFAULT_TLP = AMBER  # missing TLP on input: shared no wider than member agencies unless the source says
DEFAULT_MAX_TLP = AMBER_STRICT  # member agencies are the recipients TLP:AMBER speaks of

# Spellings seen on input: TLP 1.0 WHITE, MISP-style "tlp:amber", upper case.
_ALIASES = {"white": CLEAR, "amber-strict": AMBER_STRICT, "amber_strict": AMBER_STRICT}


def parse_tlp(text: str) -> str:
    """Canonical TLP 2.0 level from any accepted spelling; ValueError names the choices."""
    key = text.strip().lower()
    if key.startswith("tlp:"):
        key = key[4:]
    key = _ALIASES.get(key, key)
    if key not in RANK:
        raise ValueError(f"unknown TLP {text!r}: use one of {', '.join(LEVELS)}")
    return key


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is reading: the org (slug) and the highest TLP their key or user may see.

    ``org`` None with ``max_tlp`` red is the local operator (CLI on the server itself),
    who sees everything.
    """

    org: str | None
    max_tlp: str = DEFAULT_MAX_TLP

    @classmethod
    def operator(cls) -> Viewer:
        return cls(org=None, max_tlp=RED)

    def open_levels(self) -> tuple[str, ...]:
        """Levels this viewer sees from any source (RED excluded unless operator)."""
        return tuple(
            level for level in LEVELS if RANK[level] <= RANK[self.max_tlp] and (level != RED or self.org is None)
        )

    @property
    def sees_own_red(self) -> bool:
        """Whether RED from the viewer's own org is visible (the cap allows RED)."""
        return self.org is not None and self.max_tlp == RED

    def can_see(self, tlp: str, source_org: str | None) -> bool:
        """The visibility rule: TLP no higher than the cap; RED only for its source org."""
        if RANK[tlp] > RANK[self.max_tlp]:
            return False
        if tlp == RED and self.org is not None:
            return source_org == self.org
        return True

    def reads_case_refs_of(self, org: str) -> bool:
        """A case reference names an investigation: only its own agency (or the operator) reads
        it, whatever the level of the sighting that carries it."""
        return self.org is None or self.org == org
