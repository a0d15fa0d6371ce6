"""``rpz``: a DNS response-policy zone (BIND, Unbound, Knot Resolver, PowerDNS Recursor) that
answers NXDOMAIN for every listed domain and every name under it:

    $TTL 300
    @ IN SOA localhost. hostmaster.localhost. ( SERIAL 3600 600 2592000 300 )
    @ IN NS localhost.
    evil.example CNAME .
    *.evil.example CNAME .

Names are relative to the zone's origin (the zone name given to the server, e.g.
``rpz.registry.example``), which the ``$ORIGIN`` line sets. The serial is the registry's change
sequence (modulo 2^32), so it grows exactly when the data may have changed and secondaries
transfer only then. A name too long to fit under the origin (DNS names stop at 255 octets) is
written as a comment saying so, not dropped silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from registry.export.chunks import joined
from registry.export.records import Listed

MEDIA_TYPE = "text/dns; charset=utf-8"  # RFC 4027's zone-file type
DEFAULT_ZONE = "rpz.registry.local"
TTL = 300


def check_zone(zone: str) -> str:
    """The zone name without a trailing dot; ValueError says what is wrong with it."""
    name = zone.strip().rstrip(".").lower()
    labels = name.split(".")
    if not name or len(name) > 200 or any(
        not label or len(label) > 63 or not all(c.isalnum() or c in "-_" for c in label) for label in labels
    ):
        raise ValueError(f"{zone!r} is not a DNS zone name such as rpz.registry.example")
    return name


def header(zone: str, serial: int) -> bytes:
    return (
        f"; Response-policy zone written by the registry: every listed domain and the names under it\n"
        f"; answer NXDOMAIN (CNAME .).\n"
        f"$ORIGIN {zone}.\n"
        f"$TTL {TTL}\n"
        f"@ IN SOA localhost. hostmaster.localhost. ( {serial % 2**32} 3600 600 2592000 {TTL} )\n"
        f"@ IN NS localhost.\n"
    ).encode()


def _fits(name: str, zone: str) -> bool:
    # "*." + name + "." + zone + ".", in wire format at most 255 octets (text length + 1).
    return len(name) + len(zone) + 5 <= 255 and all(0 < len(label) <= 63 for label in name.split("."))


def records(items: Iterable[Listed], zone: str) -> Iterator[bytes]:
    for item in items:
        name = item.value
        if _fits(name, zone):
            yield f"{name} CNAME .\n*.{name} CNAME .\n".encode()
        else:
            yield f"; {name}: too long to list under {zone}\n".encode()


def write(items: Iterable[Listed], *, zone: str, serial: int) -> Iterator[bytes]:
    return joined(_with_header(header(zone, serial), records(items, zone)))


def _with_header(head: bytes, rest: Iterable[bytes]) -> Iterator[bytes]:
    yield head
    yield from rest
