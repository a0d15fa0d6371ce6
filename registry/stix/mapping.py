"""How a registry value reads in STIX: its SCO type, the Indicator pattern over it, the SCO
itself, and the indicator types its labels suggest. Used by the export and, in reverse, by
the import (``KIND_OF_TYPE``)."""

from __future__ import annotations

from registry.domain.kinds import DOMAIN, EMAIL, IPV4, IPV6, PHONE, URL
from registry.stix.ids import PHONE_EXTENSION, value_sco_id

STIX_TYPE = {
    IPV4: "ipv4-addr", IPV6: "ipv6-addr", DOMAIN: "domain-name", URL: "url", EMAIL: "email-addr",
    PHONE: "phone-number",
}
KIND_OF_TYPE = {stix_type: kind for kind, stix_type in STIX_TYPE.items()}

_NOUN = {
    IPV4: "IPv4 address", IPV6: "IPv6 address", DOMAIN: "Domain", URL: "URL", EMAIL: "Email address",
    PHONE: "Phone number",
}

# Labels that say more than "malicious" (indicator-type-ov). A label not listed here adds
# nothing; with no listed label at all the type is malicious-activity, what a registry of
# suspicious values mostly holds. An allowlisted value exports as "benign" (see export.py).
_TYPE_OF_LABEL = {
    "tor": "anonymization", "tor-exit": "anonymization", "vpn": "anonymization",
    "proxy": "anonymization", "anonymizer": "anonymization", "anonymization": "anonymization",
    "compromised": "compromised", "hacked": "compromised",
    "scanner": "anomalous-activity", "scanning": "anomalous-activity",
    "anomalous-activity": "anomalous-activity",
    "attribution": "attribution",
}
MALICIOUS = ("malicious-activity",)
BENIGN = ("benign",)


def indicator_types(labels: tuple[str, ...] | list[str]) -> list[str]:
    found = {_TYPE_OF_LABEL[label] for label in labels if label in _TYPE_OF_LABEL}
    if not found:
        return list(MALICIOUS)
    if any(label not in _TYPE_OF_LABEL for label in labels):
        found.add("malicious-activity")  # e.g. phishing + tor: both
    return sorted(found)


def quote(value: str) -> str:
    """A STIX pattern string literal."""
    if "\\" in value or "'" in value:
        value = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{value}'"


def pattern(kind: str, value: str) -> str:
    """``[ipv4-addr:value ISSUBSET '198.51.100.0/24']`` for ranges, a LIKE for phone number
    blocks (``+85597123*``), ``=`` otherwise."""
    stix_type = STIX_TYPE[kind]
    if kind in (IPV4, IPV6) and "/" in value:
        return f"[{stix_type}:value ISSUBSET {quote(value)}]"
    if kind == PHONE and value.endswith("*"):
        return f"[{stix_type}:value LIKE {quote(value[:-1] + '%')}]"
    return f"[{stix_type}:value = {quote(value)}]"


def sco(kind: str, value: str) -> dict | None:
    """The SCO for a value; None for a phone number block, which is no single number."""
    stix_type = STIX_TYPE[kind]
    if kind == PHONE:
        if value.endswith("*"):
            return None
        return {
            "type": stix_type, "spec_version": "2.1", "id": value_sco_id(stix_type, value), "value": value,
            "extensions": {PHONE_EXTENSION: {"extension_type": "new-sco"}},
        }
    return {"type": stix_type, "spec_version": "2.1", "id": value_sco_id(stix_type, value), "value": value}


def default_description(kind: str, source_name: str) -> str:
    """What an Indicator without a description says (stix2-validator wants one); the import
    recognises it and stores nothing, so a round trip adds no text."""
    return f"{_NOUN[kind]} reported to the registry by {source_name}."


def is_default_description(text: str, source_name: str) -> bool:
    """Whether ``text`` is ``default_description`` for some kind and this source."""
    return any(text == default_description(kind, source_name) for kind in _NOUN)
