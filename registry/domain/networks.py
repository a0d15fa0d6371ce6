"""Listed IP networks held in memory: which listed networks contain an address or network.

Ranges are CIDRs, so "contains x" means "equals x masked to the network's length": one dict
probe per prefix length present, with integers, instead of one database probe per length.
"""

from __future__ import annotations

from registry.domain.kinds import IPV4, Value, bytes_to_int

_V4_BITS, _V6_BITS = 32, 128


def _mask(bits: int, length: int) -> int:
    return ((1 << bits) - 1) ^ ((1 << (bits - length)) - 1)


class NetworkSet:
    """Keys are one integer per network: the network number shifted left by 8 bits, its prefix
    length in the low byte (an int hashes far faster than a tuple; a lookup makes one probe per
    prefix length present). One dict per IP version, so v4 and v6 keys never meet."""

    def __init__(self) -> None:
        self._values: dict[int, dict[int, str]] = {4: {}, 6: {}}  # version → key → canonical value
        self._lengths: dict[int, list[tuple[int, int]]] = {4: [], 6: []}  # version → [(length, mask)]
        self._present: dict[int, set[int]] = {4: set(), 6: set()}  # version → the lengths above

    def __len__(self) -> int:
        return len(self._values[4]) + len(self._values[6])

    def add(self, kind: str, prefix_len: int, range_start: bytes, value: str) -> None:
        version, bits = (4, _V4_BITS) if kind == IPV4 else (6, _V6_BITS)
        number = bytes_to_int(range_start) & ((1 << bits) - 1)
        present = self._present[version]
        if prefix_len not in present:
            present.add(prefix_len)
            lengths = self._lengths[version]
            lengths.append((prefix_len, _mask(bits, prefix_len)))
            lengths.sort()
        self._values[version][number << 8 | prefix_len] = value

    def containing(self, value: Value) -> list[str]:
        """Listed networks strictly wider than ``value`` that contain it, narrowest last."""
        version, bits = (4, _V4_BITS) if value.kind == IPV4 else (6, _V6_BITS)
        number = bytes_to_int(value.range_start) & ((1 << bits) - 1)
        own = value.prefix_len
        get = self._values[version].get
        out = []
        for length, mask in self._lengths[version]:
            if length >= own:
                break
            found = get((number & mask) << 8 | length)
            if found is not None:
                out.append(found)
        return out
