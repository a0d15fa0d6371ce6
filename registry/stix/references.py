"""What exported Indicators and Sightings refer to, so a bundle or a TAXII page stands alone:
the source orgs' Identities, the TLP 2.0 marking definitions, the SCO of each indicator's value,
and, when a phone number, bank account or crypto wallet appears, the extension definition of its
SCO, and when a graded Indicator does, the grading extension's, each after the registry's own
Identity that created it.

The TLP 2.0 marking definitions themselves name the OASIS TLP 2.0 extension definition; that
object (and the OASIS identity it names) is not copied into bundles: like the TLP 1.0
markings, consumers know these well-known ids, and the OASIS examples ship the markings alone.
"""

from __future__ import annotations

from collections.abc import Iterable

from registry.domain.normalize import NormalizeError, normalize
from registry.domain.normalize.file_hash import other_hashes
from registry.stix import mapping
from registry.stix.extension import definitions_for, property_definitions_for
from registry.stix.markings import marking_definition, tlp_of_marking_id
from registry.stix.patterns import Unrepresentable, pattern_values

SCO_WINDOW = 100_000  # SCO ids remembered to skip repeats; bounded so memory stays flat


class References:
    """Hands out each referenced object once (``new_for``). ``identities``: the orgs' Identities
    by STIX id, as the export read them (``build.Orgs.identities``). SCOs are deduplicated within
    a window of ``SCO_WINDOW`` ids: a value repeated further apart is written again, identical
    but for its marking (that of the first indicator naming it in the window), which STIX allows
    for an SCO; a complete set of ids would grow with the export."""

    def __init__(self, identities: dict[str, dict]) -> None:
        self.identities = identities
        self.seen: set[str] = set()
        self.scos: set[str] = set()

    def new_for(self, obj: dict, value: tuple[str, str, tuple[str, ...]] | None = None) -> list[dict]:
        """What ``obj`` refers to that was not handed out yet. ``value``: the (kind, canonical
        value, other hashes of a file) of an Indicator, when the caller has it (else it is read
        back from the pattern)."""
        out: list[dict] = []
        creator = obj.get("created_by_ref")
        if creator and creator not in self.seen:
            self._identity(creator, out)
        for where in obj.get("where_sighted_refs", ()):
            if where not in self.seen:
                self._identity(where, out)
        markings = obj.get("object_marking_refs", ())
        for marking in markings:
            if marking not in self.seen:
                level = tlp_of_marking_id(marking)
                if level:
                    self.seen.add(marking)
                    out.append(marking_definition(level))
        out.extend(property_definitions_for(obj, self.seen))
        if value is not None:
            self._value_objects(*value, markings, out)
        elif obj.get("type") == "indicator":
            try:
                (found,) = pattern_values(obj["pattern"])  # the export writes one value per pattern
            except (Unrepresentable, ValueError):
                return out
            kind = mapping.KIND_OF_TYPE.get(found.stix_type)
            try:  # a file's hashes read back as one text: its canonical value and the others
                (canonical,) = normalize(found.value, kind) if kind is not None else (None,)
            except (NormalizeError, ValueError):
                return out
            if canonical is not None:
                self._value_objects(kind, canonical.value, other_hashes(canonical), markings, out)
        return out

    def _identity(self, stix_id: str, out: list[dict]) -> None:
        identity = self.identities.get(stix_id)
        if identity is not None:
            self.seen.add(stix_id)
            out.append(identity)

    def _value_objects(self, kind: str, value: str, others: tuple[str, ...], markings, out: list[dict]) -> None:
        """The SCO of an indicator's value, after the extension definition its type needs."""
        out.extend(definitions_for(mapping.STIX_TYPE[kind], self.seen))
        sco = mapping.sco(kind, value, others)
        if sco is None or sco["id"] in self.scos:
            return
        if len(self.scos) >= SCO_WINDOW:
            self.scos.clear()
        self.scos.add(sco["id"])
        sco["object_marking_refs"] = list(markings)
        out.append(sco)


def referenced_objects(objs: Iterable[dict], identities: dict[str, dict]) -> list[dict]:
    """Identities (of ``identities``, by STIX id), marking definitions, extension definition and
    SCOs these objects reference, each once, in an order where nothing comes before what it
    refers to."""
    refs = References(identities)
    out: list[dict] = []
    for obj in objs:
        out.extend(refs.new_for(obj))
    return out
