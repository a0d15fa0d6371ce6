"""TLPs lowered by one write, for its ``tlp-lowered`` audit row.

Only an update of a row its writer can see lowers a TLP (domain.lanes); the route that made the
write records what it lowered: the values grouped by what they are (assertion or sighting) and the
levels from and to, ``[{"of": "assertion", "from": "amber", "to": "green", "values": [...]}]``, and
the row's result count is how many. An operator's re-import may lower millions: past
``MAX_LISTED`` values they are only counted (``omitted`` in their group), as the audit log itself
keeps at most that many values an event.
"""

from __future__ import annotations

MAX_LISTED = 100_000


class Lowered:
    __slots__ = ("count", "_groups")

    def __init__(self) -> None:
        self.count = 0
        self._groups: dict[tuple[str, str, str], list] = {}  # (of, from, to) → [values, omitted]

    def add(self, of: str, value: str, tlp_from: str, tlp_to: str) -> None:
        group = self._groups.get((of, tlp_from, tlp_to))
        if group is None:
            group = self._groups[(of, tlp_from, tlp_to)] = [[], 0]
        if self.count < MAX_LISTED:
            group[0].append(value)
        else:
            group[1] += 1
        self.count += 1

    def extend(self, other: Lowered) -> None:
        for (of, tlp_from, tlp_to), (values, omitted) in other._groups.items():
            for value in values:
                self.add(of, value, tlp_from, tlp_to)
            if omitted:
                self._groups[(of, tlp_from, tlp_to)][1] += omitted
                self.count += omitted

    def __bool__(self) -> bool:
        return self.count > 0

    def subject(self) -> list[dict]:
        """The audit row's subject, groups in a stable order."""
        out = []
        for (of, tlp_from, tlp_to), (values, omitted) in sorted(self._groups.items()):
            group = {"of": of, "from": tlp_from, "to": tlp_to, "values": values}
            if omitted:
                group["omitted"] = omitted
            out.append(group)
        return out
