"""Rows that cross a layer boundary, by name.

Storage reads them, services pass them on, and the pure writers (lookup answers, exports, STIX,
TAXII) read their fields by name. One place for their shapes and the small decoders they need, so
a writer never imports storage (the import contracts in pyproject.toml hold it so; see
docs/design.md).
"""

from __future__ import annotations
