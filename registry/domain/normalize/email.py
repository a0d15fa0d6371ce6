"""Email addresses: the local part as given, the domain canonical as a domain."""

from __future__ import annotations

from registry.domain.kinds import EMAIL, Value, new_value
from registry.domain.normalize.errors import Invalid
from registry.domain.normalize.handlers import Kind
from registry.domain.normalize.ip import is_dotted_quad
from registry.domain.normalize.names import canon_domain


def looks_email(s: str) -> bool:
    """Any ``@`` (asked after the URL kind: a URL may hold user info)."""
    return "@" in s


def normalize_email(s: str, region: str | None, explicit: bool) -> tuple[Value, ...]:
    if s[:7].lower() == "mailto:":
        s = s[7:].split("?", 1)[0].strip()
    n_at = s.count("@")
    if n_at == 0:
        raise Invalid("missing '@'")
    if n_at > 1:
        raise Invalid("more than one '@'")
    if any(c.isspace() for c in s):
        raise Invalid("contains whitespace")
    local, _, dom = s.partition("@")
    if not local:
        raise Invalid("missing local part")
    if len(local) > 64:
        raise Invalid("local part longer than 64 characters")
    if not dom:
        raise Invalid("missing domain")
    if dom[:1] == "[" or is_dotted_quad(dom):
        raise Invalid("address literals are not accepted as email domains")
    a, u = canon_domain(dom)
    return (new_value(EMAIL, f"{local}@{a}", f"{local}@{u}" if u else None, None, None, None, None),)


KIND = Kind(EMAIL, "an email address", looks_email, normalize_email)
