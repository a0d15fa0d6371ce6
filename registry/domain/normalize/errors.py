"""The error :func:`normalize` raises, and the one its kind modules raise to it."""

from __future__ import annotations


class NormalizeError(ValueError):
    """A raw value that is not a valid indicator of the kind tried."""

    def __init__(self, value: str, kind: str | None, reason: str):
        self.value = value
        self.kind = kind
        self.reason = reason
        super().__init__(f"{value!r} is not a valid {kind or 'indicator'}: {reason}")

    def __reduce__(self):  # keep the three fields across pickling (multiprocessing ingest)
        return (type(self), (self.value, self.kind, self.reason))


class Invalid(Exception):
    """Raised inside the package with a reason only: :func:`normalize` adds the value and the
    kind tried (and a "looks like …" hint) when it turns this into a :class:`NormalizeError`."""

    __slots__ = ("reason",)

    def __init__(self, reason: str):
        self.reason = reason
