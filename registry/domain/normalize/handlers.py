"""The kinds :func:`normalize` knows, registered by the package in detection order.

Each kind module describes its kind with one :class:`Kind` (how to spot it, how to
canonicalise it, how reasons name it); the package ``__init__`` registers them all in one call,
whose argument order is the detection order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from registry.domain.kinds import Value

# True: this kind; False: ask the next kind; None: no kind fits, stop asking.
Detector = Callable[[str], "bool | None"]
# (refanged text, default phone region, whether the caller named the kind) -> canonical values
Normaliser = Callable[[str, "str | None", bool], tuple[Value, ...]]


class Kind(NamedTuple):
    """One kind's registration.

    ``detect(s)`` gets a refanged, stripped, non-empty text (see ``Detector``); None is for
    text that is marked as something no kind accepts (``://`` after what is not a scheme).
    ``normalize(s, region, explicit)`` returns the canonical values or raises ``Invalid``.
    ``label`` names the kind in reasons ("looks like an ipv4 address").
    ``explains``: kinds detection may see in a value given as this kind for which this
    normaliser's own reason is the better one (a URL given as a domain has its host taken),
    so the reason gets no "looks like …" in front.
    """

    name: str
    label: str
    detect: Detector
    normalize: Normaliser
    explains: frozenset[str] = frozenset()


_KINDS: dict[str, Kind] = {}
_DETECTORS: tuple[tuple[str, Detector], ...] = ()
#: kind name -> its normaliser (a plain dict: normalize() reads it for every value)
NORMALISERS: dict[str, Normaliser] = {}


def register(*kinds: Kind) -> None:
    """Add ``kinds``; detection asks them in this order, after any registered before."""
    global _DETECTORS
    names = [kind.name for kind in kinds]
    twice = sorted({name for name in names if name in _KINDS or names.count(name) > 1})
    if twice:
        raise ValueError(f"kinds registered twice: {', '.join(twice)}")
    for kind in kinds:
        _KINDS[kind.name] = kind
        NORMALISERS[kind.name] = kind.normalize
    _DETECTORS += tuple((kind.name, kind.detect) for kind in kinds)


def registered() -> tuple[str, ...]:
    """The registered kind names, in detection order."""
    return tuple(name for name, _ in _DETECTORS)


def detect(s: str) -> str | None:
    """The first registered kind whose detector claims ``s`` (refanged, stripped, non-empty)."""
    for name, claims in _DETECTORS:
        found = claims(s)
        if found:
            return name
        if found is None:
            return None
    return None


def label(name: str) -> str:
    return _KINDS[name].label


def explains(name: str, seen: str) -> bool:
    """Whether kind ``name``'s own reason is the better one for a value detected as ``seen``."""
    return seen in _KINDS[name].explains
