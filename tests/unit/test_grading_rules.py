"""The Admiralty grading's rules (domain.grading) and how a grade weighs in a score and its
explanation (domain.scoring); the STIX mapping checked against stix2's own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from stix2.confidence import scales

from registry.domain import grading
from registry.domain.scoring import Evidence, score

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def evidence(source="ccib-th", confidence=80, **grades) -> Evidence:
    return Evidence(source, None, "phone", confidence, NOW - timedelta(days=1), None, "exact", **grades)


def test_grades_are_read_in_their_usual_spellings_and_anything_else_is_named():
    assert [grading.reliability(v) for v in ("A", "b", " f ", None, "")] == ["A", "B", "F", None, None]
    assert [grading.credibility(v) for v in (1, "2", " 6 ", None, "")] == [1, 2, 6, None, None]
    for bad in ("G", "AB", "1", 2, True):
        with pytest.raises(grading.GradeError, match=r"reliability must be one of A, B, C, D, E, F .* not "):
            grading.reliability(bad)
    for bad in (0, 7, "B", "12", 2.0, True):
        with pytest.raises(grading.GradeError, match=r"credibility must be a whole number from 1 to 6 .* not "):
            grading.credibility(bad)
    assert "'G'" in str(pytest.raises(grading.GradeError, grading.reliability, "G").value)


def test_credibility_maps_to_confidence_as_stix_2_1_says():
    stix_names = {1: "1 - Confirmed by other sources", 2: "2 - Probably True", 3: "3 - Possibly True",
                  4: "4 - Doubtful", 5: "5 - Improbable", 6: "6 - Truth cannot be judged"}
    for grade, name in stix_names.items():
        if grade == 6:  # "not present": no confidence stands for it
            with pytest.raises(ValueError):
                scales.admiralty_credibility_to_value(name)
            assert grade not in grading.CONFIDENCE_OF_CREDIBILITY and grade not in grading.CONFIDENCE_BAND
            continue
        assert grading.CONFIDENCE_OF_CREDIBILITY[grade] == scales.admiralty_credibility_to_value(name)
        low, high = grading.CONFIDENCE_BAND[grade]
        assert scales.value_to_admiralty_credibility(low) == name == scales.value_to_admiralty_credibility(high)
        assert scales.value_to_admiralty_credibility(grading.CONFIDENCE_OF_CREDIBILITY[grade]) == name
    # A confidence given wins; else the credibility's; else the default.
    assert grading.confidence_for(35, 1) == 35
    assert grading.confidence_for(None, 2) == 70 and grading.confidence_for(None, 6) == 50
    assert grading.confidence_for(None, None) == 50 and grading.confidence_for(None, None, 80) == 80


def test_an_ungraded_assertion_scores_and_explains_as_before_grading():
    points, explanation = score([evidence()], now=NOW)
    (item,) = explanation
    assert set(item) == {"source", "feed", "match", "confidence", "age_days", "decay", "weight", "points"}
    assert points == round(80 * 0.5 ** (1 / 180))


def test_reliability_weighs_the_points_and_the_explanation_says_how():
    ungraded, _ = score([evidence()], now=NOW)
    weighed = {}
    for grade in "ABCDEF":
        points, (item,) = score([evidence(reliability=grade)], now=NOW)
        weighed[grade] = points
        assert (item["reliability"], item["reliability_weight"]) == (grade, grading.RELIABILITY_WEIGHT[grade])
        assert item["points"] == pytest.approx(80 * item["decay"] * grading.RELIABILITY_WEIGHT[grade], abs=0.05)
    assert weighed["A"] == weighed["F"] == ungraded  # "cannot be judged" says no more than no grade
    assert weighed["A"] > weighed["B"] > weighed["C"] > weighed["D"] > weighed["E"] > 0


def test_credibility_bounds_the_confidence_to_its_band():
    _, (inside,) = score([evidence(confidence=70, credibility=2)], now=NOW)
    assert (inside["credibility"], inside["graded_confidence"]) == (2, 70)
    high, (above,) = score([evidence(confidence=95, credibility=2)], now=NOW)
    assert above["graded_confidence"] == 79 and above["confidence"] == 95
    assert high == round(79 * above["decay"])
    low, (below,) = score([evidence(confidence=10, credibility=1)], now=NOW)
    assert below["graded_confidence"] == 80 and low == round(80 * below["decay"])
    _, (unjudged,) = score([evidence(confidence=95, credibility=6)], now=NOW)
    assert unjudged["graded_confidence"] == 95
    # Both grades: the bounded confidence, weighed by the reliability.
    both, (item,) = score([evidence(confidence=95, reliability="D", credibility=2)], now=NOW)
    assert both == round(79 * item["decay"] * 0.5)


def test_grades_weigh_each_source_before_sources_combine():
    reliable, _ = score([evidence("ccib-th", reliability="A"), evidence("pdrm-my", reliability="A")], now=NOW)
    doubtful, explanation = score([evidence("ccib-th", reliability="A"), evidence("pdrm-my", reliability="E")],
                                  now=NOW)
    assert doubtful < reliable
    by_source = {item["source"]: item for item in explanation if "source" in item}
    assert by_source["pdrm-my"]["reliability_weight"] == 0.3 and by_source["ccib-th"]["reliability_weight"] == 1.0
