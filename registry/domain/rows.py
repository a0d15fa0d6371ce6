"""Rows that cross a layer boundary, by name.

Storage reads them, services pass them on, and the pure writers (lookup answers, exports, STIX,
TAXII) read their fields by name. One place for their shapes and the small decoders they need, so
a writer never imports storage (the import contracts in pyproject.toml hold it so; see
docs/design.md).
"""

from __future__ import annotations

from functools import lru_cache

# -- STIX (branch stixpure) ------------------------------------------------------------------------
# The label decoders the STIX builders need; storage.indicators re-exports them for its callers.


def decode_labels(text: str | None) -> list[str]:
    return list(label_tuple(text))


def label_tuple(text: str | None) -> tuple[str, ...]:
    """The stored ``,a,b,`` form as ``("a", "b")``."""
    return _decoded(text or ",")


@lru_cache(maxsize=4096)  # a feed's rows share a handful of label sets
def _decoded(text: str) -> tuple[str, ...]:
    return tuple(label for label in text.split(",") if label)
