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
    def __init__(self) -> None:
        self._values: dict[tuple[int, int], str] = {}  # (length, network) → canonical value
        self._lengths: dict[int, list[tuple[int, int]]] = {4: [], 6: []}  # version → [(length, mask)]

    def __len__(self) -> int:
        return len(self._values)

    def add(self, kind: str, prefix_len: int, range_start: bytes, value: str) -> None:
        version, bits = (4, _V4_BITS) if kind == IPV4 else (6, _V6_BITS)
        number = bytes_to_int(range_start) & ((1 << bits) - 1)
        # IPv4 and IPv6 networks never share a key: the version is folded into the length.
        self._values[(prefix_len + (1000 if version == 6 else 0), number)] = value
        lengths = self._lengths[version]
        if all(n != prefix_len for n, _ in lengths):
            lengths.append((prefix_len, _mask(bits, prefix_len)))
            lengths.sort()

    def containing(self, value: Value) -> list[str]:
        """Listed networks strictly wider than ``value`` that contain it, narrowest last."""
        version, bits = (4, _V4_BITS) if value.kind == IPV4 else (6, _V6_BITS)
        number = bytes_to_int(value.range_start) & ((1 << bits) - 1)
        offset = 1000 if version == 6 else 0
        out = []
        get = self._values.get
        for length, mask in self._lengths[version]:
            if length >= value.prefix_len:
                break
            found = get((length + offset, number & mask))
            if found is not None:
                out.append(found)
        return out
