"""Listed IP networks held in memory: which listed networks contain an address or network.

Ranges are CIDRs, so "contains x" means "x's first ``length`` bits are the network's": one
dict probe per prefix length present, with integers, instead of one database probe per length.
"""

from __future__ import annotations

from registry.domain.kinds import IPV4, Value, bytes_to_int

_BITS = {4: 32, 6: 128}


class NetworkSet:
    """Per IP version, one table per prefix length present: the network's leading ``length``
    bits (an integer) → its canonical value. Those keys are dense, so they hash apart; a key
    of the masked network number would end in zero bits, and a dict picks its slot by the
    low bits of the hash (such keys made each probe walk a long chain of collisions)."""

    def __init__(self) -> None:
        # version → [(length, shift, table)] in ascending length
        self._tables: dict[int, list[tuple[int, int, dict[int, str]]]] = {4: [], 6: []}
        self._table_of: dict[tuple[int, int], dict[int, str]] = {}  # (version, length) → its table
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def add(self, kind: str, prefix_len: int, range_start: bytes, value: str) -> None:
        version = 4 if kind == IPV4 else 6
        bits = _BITS[version]
        table = self._table_of.get((version, prefix_len))
        if table is None:
            table = self._table_of[version, prefix_len] = {}
            tables = self._tables[version]
            tables.append((prefix_len, bits - prefix_len, table))
            tables.sort(key=lambda entry: entry[0])
        number = bytes_to_int(range_start) & ((1 << bits) - 1)
        key = number >> (bits - prefix_len)
        if key not in table:
            self._count += 1
        table[key] = value

    def containing(self, value: Value) -> list[str]:
        """Listed networks strictly wider than ``value`` that contain it, narrowest last."""
        version = 4 if value.kind == IPV4 else 6
        number = bytes_to_int(value.range_start) & ((1 << _BITS[version]) - 1)
        own = value.prefix_len
        out = []
        for length, shift, table in self._tables[version]:
            if length >= own:
                break
            found = table.get(number >> shift)
            if found is not None:
                out.append(found)
        return out
