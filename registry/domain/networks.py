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
        self._present: set[int] = set()  # the keys' first parts already in _lengths

    def __len__(self) -> int:
        return len(self._values)

    def add(self, kind: str, prefix_len: int, range_start: bytes, value: str) -> None:
        version, bits = (4, _V4_BITS) if kind == IPV4 else (6, _V6_BITS)
        number = bytes_to_int(range_start) & ((1 << bits) - 1)
        # IPv4 and IPv6 networks never share a key: the version is folded into the length.
        key = (prefix_len + (1000 if version == 6 else 0), number)
        if key not in self._values and key[0] not in self._present:
            self._present.add(key[0])
            lengths = self._lengths[version]
            lengths.append((prefix_len, _mask(bits, prefix_len)))
            lengths.sort()
        self._values[key] = value

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
