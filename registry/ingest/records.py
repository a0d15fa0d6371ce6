"""What a parser yields: a raw ``Record`` per value, a ``Skipped`` per unusable data line,
and ``FeedFormatError`` when the file as a whole cannot be read in the asked format.

Records are raw: ``value`` is the value text as the feed wrote it (whitespace around it
stripped, nothing else); deciding whether it is an IP, a domain or junk is
normalisation's job, which reports its own rejects using ``line_no`` and ``line``.
"""

from __future__ import annotations

from dataclasses import dataclass

#: ``Record.line`` and ``Skipped.line`` keep at most this many characters of the raw line.
MAX_REPORTED_LINE = 500


def clip_line(text: str) -> str:
    """The raw line text as kept for reports: at most ``MAX_REPORTED_LINE`` characters."""
    return text if len(text) <= MAX_REPORTED_LINE else text[:MAX_REPORTED_LINE]


@dataclass(slots=True)
class Record:
    """One raw value read from a feed, with whatever per-row hints the format carries."""

    line_no: int  # 1-based physical line where the record starts
    value: str  # the raw value text (not normalised; stripped of whitespace)
    line: str  # the raw line text, for reporting rejects (at most 500 characters)
    kind: str | None = None  # per-row kind hint (csv `type` column etc.), as written
    labels: tuple[str, ...] = ()  # per-row labels/tags
    confidence: int | None = None  # per-row confidence
    first_seen: str | None = None  # per-row timestamp text, unparsed
    description: str | None = None
    # A row that writes one value in separate cells (docs/feeds.md, "Columns"): the platform of a
    # user-account handle; the bank and country of a bank-account number (normalize reads them).
    platform: str | None = None
    bank: str | None = None
    country: str | None = None
    # The row's Admiralty grading, checked (domain.grading): a row with a grade that is none is
    # ``Skipped`` with the reason, so a typo never lands a report ungraded.
    reliability: str | None = None
    credibility: int | None = None


@dataclass(slots=True)
class Skipped:
    """A data line the parser itself could not use (bad CSV row, missing or empty value
    cell, undecodable bytes). Comments, blank lines and headers are not reported."""

    line_no: int
    line: str
    reason: str


class FeedFormatError(Exception):
    """The file as a whole cannot be read in the asked format: binary data, a line over the
    limit, an HTML page where a list was expected, unknown format, missing CSV column.

    ``str()`` is one line saying what and where, e.g.
    ``drop.txt: line 12: line longer than 1048576 bytes``.
    """

    def __init__(self, message: str, *, name: str | None = None, line_no: int | None = None):
        self.message = message
        self.name = name
        self.line_no = line_no
        where = []
        if name is not None:
            where.append(name)
        if line_no is not None:
            where.append(f"line {line_no}")
        text = ": ".join([*where, message])
        super().__init__(" ".join(text.split()))  # always one line
