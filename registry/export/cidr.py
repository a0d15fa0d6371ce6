"""``cidr``: the listed IPv4 and IPv6 addresses and networks as the fewest CIDR blocks that
cover exactly them, one a line (``203.0.113.0/24``, ``2001:db8::/32``; single hosts as /32,
/128), for firewalls and ipset ``hash:net``.

netaddr's ``cidr_merge`` gives this result but needs every network in memory at once. The
reader hands ranges over in address order instead, so merging is one pass: overlapping and
adjacent ranges fold into one interval, and each finished interval becomes its CIDR blocks
with netaddr's ``iprange_to_cidrs`` (what ``cidr_merge`` does for each interval it finds).
Memory stays flat however long the list; the tests check the output equals ``cidr_merge``.
IPv4 and IPv6 are merged apart (one family's ranges never absorb the other's); blocks come
out in address order, IPv4 where the IPv6 space maps it (``::ffff:0:0/96``): IPv4 first, then
the global IPv6 space.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from netaddr import IPAddress, iprange_to_cidrs

from registry.domain.kinds import IPV4
from registry.export.chunks import joined
from registry.export.records import Listed

MEDIA_TYPE = "text/plain; charset=utf-8"
_V4_OFFSET = 0xFFFF << 32  # IPv4 bounds are stored mapped into the IPv6 space


def intervals(items: Iterable[Listed]) -> Iterator[tuple[int, int, int]]:
    """(version, first, last) address intervals, merged, from ranges in address order."""
    open_: dict[int, list[int]] = {}  # version → [first, last] of the interval being grown
    for item in items:
        start, end = item.range
        version = 4 if item.kind == IPV4 else 6
        first, last = int.from_bytes(start, "big"), int.from_bytes(end, "big")
        if version == 4:
            first, last = first - _V4_OFFSET, last - _V4_OFFSET
        other = open_.pop(10 - version, None)  # 4 ↔ 6: the other family's interval is complete
        if other is not None:
            yield 10 - version, other[0], other[1]
        current = open_.get(version)
        if current is not None and first <= current[1] + 1:
            if last > current[1]:
                current[1] = last
            continue
        if current is not None:
            yield version, current[0], current[1]
        open_[version] = [first, last]
    for version in sorted(open_):
        yield version, open_[version][0], open_[version][1]


def blocks(items: Iterable[Listed]) -> Iterator[str]:
    for version, first, last in intervals(items):
        if first == last:
            yield f"{IPAddress(first, version)}/{32 if version == 4 else 128}"
            continue
        for network in iprange_to_cidrs(IPAddress(first, version), IPAddress(last, version)):
            yield str(network)


def write(items: Iterable[Listed]) -> Iterator[bytes]:
    return joined(f"{block}\n".encode() for block in blocks(items))
