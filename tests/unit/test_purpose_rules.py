"""A lookup's purpose and case reference (services.purpose): read, required, and the audit
subject that records them (services.audit.subject_json)."""

from __future__ import annotations

import json

import pytest

from registry.services import purpose
from registry.services.audit import MAX_VALUES, subject_json
from registry.services.errors import Invalid


def test_given_values_are_stripped_and_blank_is_not_given():
    assert purpose.read("  victim complaint ", "\tCCIB-2026-114\n") == purpose.Purpose("victim complaint", "CCIB-2026-114")
    assert purpose.read(" ", "") == purpose.NONE and not purpose.NONE
    assert purpose.read(None, None) == purpose.NONE
    assert purpose.read("triage", None) == purpose.Purpose("triage", None)


def test_required_names_what_is_missing_and_the_org():
    with pytest.raises(purpose.PurposeRequired) as both:
        purpose.read(None, "  ", required=True, org="dsi-th")
    assert both.value.status == 400 and both.value.code == "purpose_required"
    assert both.value.details == {"missing": ["purpose", "case_ref"], "org": "dsi-th", "field": "purpose"}
    assert both.value.message == ("dsi-th requires a purpose and a case reference with every lookup by its users "
                                  "and keys: give purpose and case_ref")
    with pytest.raises(purpose.PurposeRequired) as one:
        purpose.read("triage", None, required=True, org="dsi-th", labels=("Purpose", "Case reference"))
    assert one.value.details["missing"] == ["case_ref"] and one.value.message.endswith("give Case reference")
    assert purpose.read("triage", "DSI-1", required=True, org="dsi-th") == purpose.Purpose("triage", "DSI-1")


@pytest.mark.parametrize(("fields", "field", "message"), [
    (("x" * 501, None), "purpose", "purpose must be at most 500 characters (got 501)"),
    ((None, "c" * 201), "case_ref", "case_ref must be at most 200 characters (got 201)"),
    ((7, None), "purpose", "purpose must be text of at most 500 characters, not int"),
    ((None, "a\x00b"), "case_ref", "case_ref must not contain NUL characters"),
])
def test_bad_values_are_refused_naming_the_field(fields, field, message):
    with pytest.raises(Invalid) as refused:
        purpose.read(*fields)
    assert refused.value.field == field and refused.value.message == message


def test_the_audit_subject_keeps_the_plain_list_unless_a_purpose_is_given():
    assert purpose.audit_subject(["a.example"], purpose.NONE) == ["a.example"]
    subject = purpose.audit_subject(["a.example", "b"], purpose.Purpose("triage \"x\"", None))
    assert list(subject) == ["purpose", "case_ref", "values"]  # purpose first: a cut listing still shows it
    written = subject_json(subject)
    assert written == '{"purpose":"triage \\"x\\"","case_ref":null,"values":["a.example","b"]}'
    assert json.loads(written) == subject
    assert json.loads(subject_json({"purpose": "ไทย", "case_ref": "C", "values": ["ข.example"]})) == {
        "purpose": "ไทย", "case_ref": "C", "values": ["ข.example"]}


def test_a_huge_lookup_with_a_purpose_keeps_the_count_of_values_left_out():
    subject = purpose.audit_subject(["v"] * (MAX_VALUES + 3), purpose.Purpose("sweep", "OP-7"))
    written = json.loads(subject_json(subject))
    assert (written["purpose"], written["case_ref"], len(written["values"]), written["omitted"]) == ("sweep", "OP-7", MAX_VALUES, 3)
