"""Why a lookup was made: the purpose and case reference a caller gives with it, recorded in its
audit row, and required of an org's users and keys when the org says so (``registry org set ORG
--require-purpose``; docs/security.md#purpose-of-a-lookup). The API, the web page and
``registry lookup`` read them here, so the rule and its message live once.

Only lookups carry a purpose (one value or a batch, and an indicator's page); searches, exports,
TAXII and feeds do not: they are not a question about a value someone brought.
"""

from __future__ import annotations

from dataclasses import dataclass

from registry.services.errors import Invalid, given_text

MAX_PURPOSE = 500  # characters
MAX_CASE_REF = 200  # as a sighting's case reference
FIELDS = ("purpose", "case_ref")


class PurposeRequired(Invalid):
    code = "purpose_required"


@dataclass(frozen=True)
class Purpose:
    """What a lookup said of itself (None: not given)."""

    purpose: str | None = None
    case_ref: str | None = None

    def __bool__(self) -> bool:
        return self.purpose is not None or self.case_ref is not None


NONE = Purpose()


def read(purpose: object, case_ref: object, *, required: bool = False, org: str | None = None,
         labels: tuple[str, str] = FIELDS) -> Purpose:
    """The purpose and case reference given with a lookup, stripped (blank is not given).

    ``required`` (the caller's org requires them): both must be given, else ``PurposeRequired``
    (400) naming the missing ones in ``details.missing`` (by their API names) and ``labels``
    (their names where the caller typed them: a form's labels) in its message."""
    given = [given_text(value, name, limit=limit, label=label) for name, label, value, limit
             in zip(FIELDS, labels, (purpose, case_ref), (MAX_PURPOSE, MAX_CASE_REF), strict=True)]
    if required:
        missing = [name for name, value in zip(FIELDS, given, strict=True) if value is None]
        if missing:
            named = " and ".join(label for name, label in zip(FIELDS, labels, strict=True) if name in missing)
            raise PurposeRequired(
                f"{org} requires a purpose and a case reference with every lookup by its users and keys: "
                f"give {named}", field=missing[0], details={"missing": missing, "org": org})
    return Purpose(*given)


def audit_subject(values: list, purpose: Purpose):
    """A lookup's audit subject: the values looked up, or with a purpose or case reference given
    ``{"purpose", "case_ref", "values"}`` (purpose first, so a listing cut short still shows it).
    The subject is hashed into the audit chain with the rest of the row."""
    if not purpose:
        return values
    return {"purpose": purpose.purpose, "case_ref": purpose.case_ref, "values": values}
