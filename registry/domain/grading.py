"""The Admiralty (NATO) grading police intelligence carries, and how a grade weighs in a score
(docs/design.md, "Scoring and grading"). Pure: the submit path checks grades here, scoring weighs
them, the STIX mapping names the confidence a credibility stands for.

- ``reliability``: the source's, ``A`` (completely reliable) … ``E`` (unreliable), ``F``
  (reliability cannot be judged);
- ``credibility``: the information's, ``1`` (confirmed by other sources) … ``5`` (improbable),
  ``6`` (truth cannot be judged).

How a grade weighs (ungraded assertions weigh as before grading existed):

- reliability multiplies an assertion's points by ``RELIABILITY_WEIGHT``; ``F`` weighs as no
  grade, since saying the source cannot be judged tells no more than saying nothing;
- credibility bounds the confidence to the band STIX 2.1's Admiralty Credibility scale gives it
  (``CONFIDENCE_BAND``: 2, "probably true", is 60–79): a confidence outside the band counts at
  its nearer end. A confidence derived from the credibility (``CONFIDENCE_OF_CREDIBILITY``, the
  band's STIX value) lies inside, so a grade never weighs twice; ``6`` bounds nothing.
"""

from __future__ import annotations

RELIABILITY: dict[str, str] = {
    "A": "completely reliable",
    "B": "usually reliable",
    "C": "fairly reliable",
    "D": "not usually reliable",
    "E": "unreliable",
    "F": "reliability cannot be judged",
}
CREDIBILITY: dict[int, str] = {
    1: "confirmed by other sources",
    2: "probably true",
    3: "possibly true",
    4: "doubtful",
    5: "improbable",
    6: "truth cannot be judged",
}

RELIABILITY_WEIGHT: dict[str, float] = {"A": 1.0, "B": 0.9, "C": 0.75, "D": 0.5, "E": 0.3, "F": 1.0}

# STIX 2.1, Appendix A "Confidence Scales", Admiralty Credibility: the confidence each grade
# maps to, and the range of confidence values mapped back to it. 6 has none ("not present").
CONFIDENCE_OF_CREDIBILITY: dict[int, int] = {1: 90, 2: 70, 3: 50, 4: 30, 5: 10}
CONFIDENCE_BAND: dict[int, tuple[int, int]] = {1: (80, 100), 2: (60, 79), 3: (40, 59), 4: (20, 39), 5: (0, 19)}

DEFAULT_CONFIDENCE = 50  # of a report that gives neither a confidence nor a credibility


class GradeError(ValueError):
    """A grade that is not one; ``str()`` names the value and what a grade is."""


def reliability(value) -> str | None:
    """A source reliability as stored (``A``…``F``); a letter of either case, spaces around it
    allowed; None and ``""`` are no grade."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip().upper()
        if not text:
            return None
        if text in RELIABILITY:
            return text
    raise GradeError(f"reliability must be one of A, B, C, D, E, F (the Admiralty source grading: A completely "
                     f"reliable … E unreliable, F cannot be judged), not {value!r}")


def credibility(value) -> int | None:
    """An information credibility as stored (1…6), from a whole number or its digit as text;
    None and ``""`` are no grade."""
    if value is None:
        return None
    number = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if text.isdigit() and len(text) == 1:
            number = int(text)
    if number in CREDIBILITY:
        return number
    raise GradeError(f"credibility must be a whole number from 1 to 6 (the Admiralty information grading: 1 "
                     f"confirmed … 5 improbable, 6 cannot be judged), not {value!r}")


def confidence_for(given: int | None, credibility_grade: int | None, default: int = DEFAULT_CONFIDENCE) -> int:
    """The confidence of a report: the one given; else the one its credibility maps to; else
    ``default``."""
    if given is not None:
        return given
    return CONFIDENCE_OF_CREDIBILITY.get(credibility_grade, default) if credibility_grade is not None else default


def bounded_confidence(confidence: int, credibility_grade: int | None) -> int:
    """``confidence`` within its credibility's band (unchanged without one, or for 6)."""
    band = CONFIDENCE_BAND.get(credibility_grade) if credibility_grade is not None else None
    if band is None:
        return confidence
    low, high = band
    return low if confidence < low else high if confidence > high else confidence


def reliability_weight(grade: str | None) -> float:
    return RELIABILITY_WEIGHT[grade] if grade is not None else 1.0


def with_grades(shown: dict, reliability_grade: str | None, credibility_grade: int | None) -> dict:
    """An assertion as answers show it (``shown``, changed in place), with its grading: only a
    graded one carries ``reliability`` and ``credibility`` (docs/api.md, "Grading"), so answers
    about ungraded data stay what they were."""
    if reliability_grade is not None:
        shown["reliability"] = reliability_grade
    if credibility_grade is not None:
        shown["credibility"] = credibility_grade
    return shown


def grade_text(reliability_grade: str | None, credibility_grade: int | None) -> str:
    """``B2``, ``B``, ``2`` or ``""``: the grading as police write it."""
    return f"{reliability_grade or ''}{credibility_grade or ''}"
