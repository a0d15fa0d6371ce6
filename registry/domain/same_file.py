"""One file, several hashes: which indicator a file's hashes land on, and what a lookup of them
probes. Pure: storage reads the facts (which hashes are aliases, of which indicator, and that
indicator's other aliases) and writes what :func:`plan` decides. See docs/design.md ("The
money and messaging kinds").

A file-hash ``Value`` carries the file's other hashes in its ``detail`` (``file_hash``: several
hashes given together are one value named by the strongest). Storage keeps those other hashes
as the indicator's *aliases*: an alias names one indicator only, and a lookup of it finds that
indicator with the match type ``same-file``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence

from registry.domain.kinds import FILE_HASH, SAME_FILE, Value, new_value
from registry.domain.normalize.file_hash import STRENGTH, other_hashes

_STRENGTH = {name: rank for rank, name in enumerate(STRENGTH)}


def strength(canonical: str) -> int:
    """Sort key of a canonical hash: sha256 first, then sha1, then md5."""
    return _STRENGTH.get(algorithm(canonical), len(_STRENGTH))


def hashes_of(value: Value) -> tuple[str, ...]:
    """The value and its other hashes, the value first."""
    return (value.value, *other_hashes(value))


def joined(value: Value, more: Value) -> Value:
    """``value`` with the other hashes ``more`` (a value of the same canonical text) adds: the
    same file reported twice in one batch, once with more of its hashes."""
    others = dict.fromkeys((*other_hashes(value), *other_hashes(more)))
    others.pop(value.value, None)
    detail = ",".join(sorted(others, key=strength)) or None
    return new_value(FILE_HASH, value.value, value.display, None, None, None, detail)


def plain(canonical: str) -> Value:
    """The file-hash value ``canonical`` without other hashes (what an indicator row stores:
    the other hashes are its aliases)."""
    return new_value(FILE_HASH, canonical, None, None, None, None, None)


def algorithm(canonical: str) -> str:
    """``sha256`` of ``sha256:…``."""
    return canonical.partition(":")[0]


def plan(values: Iterable[Value], alias_of: Mapping[str, str], members: Mapping[str, Collection[str]]
         ) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """(target by value, new aliases): the canonical value of the indicator each file-hash
    value lands on, and the ``(alias, indicator value)`` pairs to store.

    What is stored, of the values' hashes: ``alias_of``, those that are aliases, each with its
    indicator's value; ``members``, the aliases of each of those indicators. A file's hashes
    land on

    1. the indicator its strongest hash (its value) is an alias of: the file is listed there;
    2. else the indicator another of its hashes is an alias of, the strongest such hash first,
       unless that indicator's file has a different hash of an algorithm this file gives (two
       files sharing an MD5 or SHA-1, by collision or mistake, are not one file);
    3. else the indicator of its strongest hash, made if it is new.

    Its other hashes become aliases of that indicator, except those already aliases (of it or of
    another indicator: the first link stays). A hash listed on its own keeps its indicator (and
    its reports, found by its own value) and may still become an alias: what is reported of it
    later lands on the file's indicator. Values with other hashes are placed first, strongest
    first, so a file given with its hashes and one of them given alone in the same batch land
    on one indicator whatever their order.
    """
    linked = dict(alias_of)
    known: dict[str, set[str]] = {}  # an indicator's hashes, grown with the batch's aliases

    def hashes_at(target: str) -> set[str]:
        got = known.get(target)
        if got is None:
            got = known[target] = {target, *members.get(target, ())}
        return got

    targets: dict[str, str] = {}
    new: list[tuple[str, str]] = []
    for value in sorted(values, key=lambda v: (v.detail is None, strength(v.value), v.value)):
        hashes = hashes_of(value)
        first = hashes[0]
        target = linked.get(first) or next(
            (linked[h] for h in hashes[1:] if h in linked and _one_file(hashes_at(linked[h]), hashes)), first)
        targets[first] = target
        at = hashes_at(target)
        for h in hashes:
            if h != target and h not in linked:
                linked[h] = target
                at.add(h)
                new.append((h, target))
    return targets, new


def _one_file(listed: Collection[str], given: Sequence[str]) -> bool:
    """Whether no algorithm has a hash in ``given`` that ``listed`` has another one of."""
    by_algorithm: dict[str, set[str]] = {}
    for h in listed:
        by_algorithm.setdefault(algorithm(h), set()).add(h)
    return all(h in by_algorithm.get(algorithm(h), (h,)) for h in given)


def file_probes(value: Value, alias_of: Mapping[str, str]) -> list[tuple[str, str]]:
    """A file-hash lookup's ``same-file`` probes beyond its exact one: each other hash the query
    gave (a listed indicator of its own is the same file) and the indicator each of its hashes
    is an alias of, each indicator once, never the query's own value."""
    seen = {value.value}
    out = []
    for h in other_hashes(value):
        if h not in seen:
            seen.add(h)
            out.append((h, SAME_FILE))
    for h in hashes_of(value):
        target = alias_of.get(h)
        if target is not None and target not in seen:
            seen.add(target)
            out.append((target, SAME_FILE))
    return out


def ordered(hashes: Sequence[str]) -> list[str]:
    """Hashes as answers list them: strongest first, then by text."""
    return sorted(hashes, key=lambda h: (strength(h), h))
