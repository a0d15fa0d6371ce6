"""``text``: one canonical value a line (UTF-8, ``\\n``), for blocklists that read a plain list:
ipset/nftables loaders, Squid ACLs, Pi-hole, a telecom's number blocklist."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from registry.export.chunks import joined
from registry.export.records import Listed

MEDIA_TYPE = "text/plain; charset=utf-8"


def write(items: Iterable[Listed]) -> Iterator[bytes]:
    return joined(f"{item.value}\n".encode() for item in items)
