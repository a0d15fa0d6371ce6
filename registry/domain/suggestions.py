"""Suggested links: the pure rules (docs/design.md, "Suggested links").

A suggestion is a relationship a person might state between an indicator and another value,
with why; it is never applied by itself (accepting one states it as the person's org). Each rule
gives the relationship's type and which end is its source:

- ``same-number``: a phone number and the listed e-wallet or messaging account keyed by the same
  number (the lookup's ``same-number`` match): ``same-operator``, the phone the source (between
  two accounts of one number, the value asked about).
- ``url-host``: a URL and its host's listed domain, parent domain, address or network (the
  lookup's ``url-host``, ``parent-domain`` and ``cidr`` matches of a URL): the host ``hosts``
  the URL.
- ``same-case``: values one agency sighted under the same case reference: ``related-to``.
- ``submitted-together``: values one agency submitted in one small request or STIX bundle
  (``MAX_TOGETHER`` values at most; never a feed run or a file import): ``related-to``.

When several rules suggest the same pair, the first in ``RULES`` gives the type and direction and
the suggestion lists every reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from registry.domain.kinds import CIDR, PARENT_DOMAIN, PHONE, URL_HOST
from registry.domain.operations import HOSTS, RELATED_TO, SAME_OPERATOR

SAME_NUMBER = "same-number"
HOST = "url-host"
SAME_CASE = "same-case"
SUBMITTED_TOGETHER = "submitted-together"
RULES: tuple[str, ...] = (SAME_NUMBER, HOST, SAME_CASE, SUBMITTED_TOGETHER)  # in precedence
TYPE_OF = {SAME_NUMBER: SAME_OPERATOR, HOST: HOSTS, SAME_CASE: RELATED_TO, SUBMITTED_TOGETHER: RELATED_TO}

# A URL's lookup matches that name its host (the match type → how the reason says it).
HOST_MATCHES = {URL_HOST: "is the URL's host", PARENT_DOMAIN: "is a parent domain of the URL's host",
                CIDR: "holds the URL's host address"}

MAX_SUGGESTIONS = 50  # shown for one value; ``truncated`` says when there were more
MAX_CASES = 20  # of the value's newest visible case references, read for same-case
MAX_PER_CASE = 200  # other values read per case
MAX_BATCHES = 20  # of the value's newest visible submissions, read for submitted-together
MAX_TOGETHER = 100  # values of one submission at most for it to be recorded as submitted together
MIN_TOGETHER = 2


@dataclass(frozen=True)
class End:
    value: str
    kind: str


@dataclass
class Suggestion:
    """A suggested link between ``own`` (the value asked about) and ``other``."""

    own: End
    other: End
    why: list[dict] = field(default_factory=list)

    @property
    def rule(self) -> str:
        """The rule that gives its type and direction: the first in ``RULES`` among its reasons."""
        return min((w["rule"] for w in self.why), key=RULES.index)

    @property
    def type(self) -> str:
        return TYPE_OF[self.rule]

    def ends(self) -> tuple[End, End]:
        """(source, target) as the relationship would be stated."""
        rule, own, other = self.rule, self.own, self.other
        if rule == HOST or (rule == SAME_NUMBER and other.kind == PHONE and own.kind != PHONE):
            return other, own
        return own, other

    def to_dict(self) -> dict:
        source, target = self.ends()
        return {"source": source.value, "target": target.value, "type": self.type, "value": self.other.value,
                "kind": self.other.kind, "why": sorted(self.why, key=lambda w: RULES.index(w["rule"]))}


def same_number(own: End, other: End) -> dict:
    number = own.value if own.kind == PHONE else other.value if other.kind == PHONE else own.value.rpartition(":")[2]
    return {"rule": SAME_NUMBER, "text": f"keyed by the same phone number, {number}"}


def host(match: str, other: End) -> dict:
    return {"rule": HOST, "match": match, "text": f"{other.value} {HOST_MATCHES[match]}"}


def same_case(org: str, case_ref: str | None, last_seen: str) -> dict:
    """Both sighted by ``org`` in one case; ``case_ref`` only where the viewer may read it
    (``Viewer.reads_case_refs_of``), else the reason says "one case"."""
    out = {"rule": SAME_CASE, "org": org, "last_seen": last_seen,
           "text": f"both sighted by {org} in case {case_ref}" if case_ref else f"both sighted by {org} in one case"}
    if case_ref:
        out["case_ref"] = case_ref
    return out


def submitted_together(org: str, when: str, times: int = 1) -> dict:
    again = f" ({times} times, last)" if times > 1 else ""
    return {"rule": SUBMITTED_TOGETHER, "org": org, "time": when, "times": times,
            "text": f"submitted together by {org}{again} on {when[:10]}"}


def merged(own: End, found: Iterable[tuple[End, dict]], related: set[str]) -> list[Suggestion]:
    """One suggestion per other value (never ``own`` itself, nor one in ``related``: already
    linked by a relationship the viewer sees), reasons in rule order, strongest first: by the
    rule that gives its type, then the number of reasons, then value."""
    by_value: dict[str, Suggestion] = {}
    for other, why in found:
        if other.value == own.value or other.value in related:
            continue
        suggestion = by_value.get(other.value)
        if suggestion is None:
            suggestion = by_value[other.value] = Suggestion(own, other)
        if why not in suggestion.why:
            suggestion.why.append(why)
    return sorted(by_value.values(), key=lambda s: (RULES.index(s.rule), -len(s.why), s.other.value))
