"""TLP 2.0 marking definitions (the OASIS extension), and reading TLP from any marking."""

from __future__ import annotations

from registry.domain.tlp import RANK, parse_tlp

TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_CREATED = "2022-10-01T00:00:00.000Z"

TLP2_IDS = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

# TLP 1.0 (STIX 2.x built-in) marking ids, read on input: WHITE becomes CLEAR.
TLP1_IDS = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "clear",
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "green",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "amber",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "red",
}

_BY_ID = {v: k for k, v in TLP2_IDS.items()} | TLP1_IDS


def marking_definition(level: str) -> dict:
    """The TLP 2.0 marking-definition object for a level, as the OASIS extension defines it."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP2_IDS[level],
        "created": TLP2_CREATED,
        "name": f"TLP:{level.upper()}",
        "extensions": {TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": level}},
    }


def tlp_of_marking_id(marking_id: str) -> str | None:
    return _BY_ID.get(marking_id)


class BundleTlp:
    """The TLP of imported objects, read every way sources write it:
    TLP 2.0 and 1.0 marking ids; the bundle's own TLP marking definitions (2.0
    ``definition_type: tlp`` under a non-standard id, a TLP 2.0 extension, a ``TLP:…`` name);
    MISP-style ``tlp:amber`` labels; the most restrictive when several. An object with none of
    its own takes that of a report or grouping holding it (MISP marks only the event's report).
    ``of`` gives None when nothing says (the caller's default applies: ``tlp.DEFAULT_TLP``)."""

    def __init__(self, objects: list[dict]) -> None:
        self.definitions = _definition_levels(objects)
        self.inherited: dict[str, str] = {}
        for obj in objects:
            level = self.own(obj) if obj.get("type") in ("report", "grouping") else None
            refs = obj.get("object_refs") if level else None
            for ref in refs if isinstance(refs, list) else ():
                if isinstance(ref, str) and (ref not in self.inherited or RANK[level] > RANK[self.inherited[ref]]):
                    self.inherited[ref] = level

    def of(self, obj: dict) -> str | None:
        own = self.own(obj)
        if own is not None:
            return own
        obj_id = obj.get("id")
        return self.inherited.get(obj_id) if isinstance(obj_id, str) else None

    def own(self, obj: dict) -> str | None:
        """The most restrictive TLP among an object's markings, else among its ``tlp:`` labels."""
        refs = obj.get("object_marking_refs")
        levels = [self.definitions.get(ref) or tlp_of_marking_id(ref)
                  for ref in (refs if isinstance(refs, list) else ()) if isinstance(ref, str)]
        levels = [level for level in levels if level]
        if not levels:
            labels = obj.get("labels")
            for label in labels if isinstance(labels, list) else ():
                if isinstance(label, str) and label.strip().lower().startswith("tlp:"):
                    try:
                        levels.append(parse_tlp(label))
                    except ValueError:
                        continue
        return max(levels, key=RANK.__getitem__) if levels else None


def _definition_levels(objects: list[dict]) -> dict[str, str]:
    """TLP levels of a bundle's own marking definitions, by id."""
    levels = {}
    for obj in objects:
        if obj.get("type") != "marking-definition" or not isinstance(obj.get("id"), str):
            continue
        candidates = []
        definition = obj.get("definition")
        if obj.get("definition_type") == "tlp" and isinstance(definition, dict):
            candidates.append(definition.get("tlp"))
        extensions = obj.get("extensions")
        extension = extensions.get(TLP2_EXTENSION) if isinstance(extensions, dict) else None
        if isinstance(extension, dict):
            candidates.append(extension.get("tlp_2_0"))
        candidates.append(obj.get("name"))
        for text in candidates:
            if isinstance(text, str):
                try:
                    levels[obj["id"]] = parse_tlp(text)
                    break
                except ValueError:
                    continue
    return levels
