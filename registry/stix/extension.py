"""The registry's own STIX objects: its Identity and the extension definition that declares
the ``phone-number`` SCO (STIX 2.1 has none). Both are constants, so every export carries the
same bytes for them."""

from __future__ import annotations

from pathlib import Path

from registry.stix.ids import PHONE_EXTENSION, REGISTRY_IDENTITY

SCHEMA_PATH = Path(__file__).with_name("phone-number.schema.json")
# The schema's own $id: a name that never moves, unlike a URL of a deployment.
SCHEMA_URN = "urn:x-registry:stix:phone-number:1.0.0"
_CREATED = "2026-01-01T00:00:00.000Z"

REGISTRY_IDENTITY_OBJECT = {
    "type": "identity", "spec_version": "2.1", "id": REGISTRY_IDENTITY, "created": _CREATED,
    "modified": _CREATED, "name": "ASEAN cybercrime indicator registry", "identity_class": "system",
    "description": "The registry software shared by ASEAN police cybercrime units; it defines the phone-number SCO.",
}

PHONE_EXTENSION_OBJECT = {
    "type": "extension-definition", "spec_version": "2.1", "id": PHONE_EXTENSION,
    "created_by_ref": REGISTRY_IDENTITY, "created": _CREATED, "modified": _CREATED,
    "name": "phone-number",
    "description": "A phone-number SCO: property value holds the number in E.164 form (+66812345678); its id is "
                   "the STIX deterministic UUIDv5 over {\"value\": ...}, as OpenCTI's. The JSON schema ships with "
                   "the registry as registry/stix/phone-number.schema.json.",
    "schema": SCHEMA_URN, "version": "1.0.0", "extension_types": ["new-sco"],
}
