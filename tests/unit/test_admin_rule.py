"""The one administration rule (``domain.roles.refusal``): who may administer which user or key."""

from __future__ import annotations

import pytest

from registry.domain import roles
from registry.domain.roles import Grant

ORG_ADMIN = Grant("pdrm-my", "admin", "amber+strict")
RED_ADMIN = Grant("ccib-th", "admin", "red")  # an org admin whose cap reaches red: no operator
OPERATOR = Grant("registry-ops", "operator", "amber")


@pytest.mark.parametrize(("actor", "target", "field"), [
    (ORG_ADMIN, Grant("pdrm-my", "reader", "amber+strict"), None),
    (ORG_ADMIN, Grant("pdrm-my", "admin", "green"), None),
    (ORG_ADMIN, Grant("pdrm-my", "contributor", "red"), "max_tlp"),  # above its cap
    (ORG_ADMIN, Grant("pdrm-my", "operator", "green"), "role"),  # above its role
    (ORG_ADMIN, Grant("ccib-th", "reader", "clear"), "org"),
    (RED_ADMIN, Grant("ccib-th", "reader", "red"), None),
    (RED_ADMIN, Grant("pdrm-my", "reader", "clear"), "org"),
    (OPERATOR, Grant("pdrm-my", "admin", "amber"), None),
    (OPERATOR, Grant("bank-x", "operator", "green"), None),  # an existing operator, as it is
    (OPERATOR, Grant("ccib-th", "reader", "red"), "max_tlp"),  # every org, but not above its cap
    (Grant("pdrm-my", "feed-admin", "red"), Grant("pdrm-my", "reader", "clear"), "role"),
])
def test_who_may_administer_what(actor, target, field):
    found = roles.refusal(actor, target)
    assert (found.field if found else None) == field


def test_the_operator_role_is_granted_by_no_caller():
    for actor in (ORG_ADMIN, OPERATOR):
        found = roles.refusal(actor, Grant(actor.org, "operator", "clear"), granting=True)
        assert found.field == "role" and "command line" in found.message
    assert roles.grantable(ORG_ADMIN) == ("reader", "contributor", "feed-admin", "admin")
    assert roles.grantable(OPERATOR) == ("reader", "contributor", "feed-admin", "admin")
    assert roles.grantable(Grant("x", "reader", "red")) == ()


def test_refusals_say_why():
    assert roles.refusal(ORG_ADMIN, Grant("pdrm-my", "reader", "red")).message == (
        "you administer users and keys up to TLP:AMBER+STRICT, not TLP:RED")
    assert roles.refusal(RED_ADMIN, Grant("pdrm-my", "reader", "red")).message.startswith(
        "you administer org ccib-th only, not pdrm-my")


def test_audit_scope_is_the_own_org_unless_operator():
    assert roles.audit_scope(RED_ADMIN) == "ccib-th"
    assert roles.audit_scope(OPERATOR) is None
    assert roles.allows("operator", "admin") and not roles.allows("admin", "operator")
