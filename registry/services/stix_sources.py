"""Which registry org an imported STIX object comes from (the STIX import's use of the org table).

An object's ``created_by_ref`` (for a Sighting, its first ``where_sighted_refs``) names an
Identity. It maps to an org:
1. the org whose STIX identity id it is (``stix_id``): our own exports come back to their orgs;
2. else the org whose slug is the one a registry export names in the Identity's external
   reference ``registry-org``, or the identity's name made into a slug (``slug``; see
   stix/sources.py);
3. else a new org with that name, that slug and the identity's id (``created``), unless
   creating is off, and then the default org (``default``).
An object naming no identity, or one the bundle does not hold and no org has, is the default
org's (``default``). With ``forced`` every object is that org's (``forced``): an API or TAXII
upload is the caller's own submission whatever identities it names, or any member could
publish under another agency's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection

from registry.services.errors import Invalid
from registry.services.orgs import SLUG, require_org
from registry.stix import sources as identity_slugs
from registry.storage import orgs as org_store
from registry.storage import stix_reads


@dataclass
class Sources:
    conn: Connection
    identities: dict[str, dict]  # identity objects of the bundle, by id
    default: str | None = None
    forced: str | None = None
    create: bool = True
    matched: dict[str, dict] = field(default_factory=dict)  # identity id → report entry
    _slugs: dict[str | None, str] = field(default_factory=dict)

    def slug_for(self, identity_id: str | None) -> str:
        """The org slug for objects created by (or sighted at) ``identity_id``."""
        slug = self._slugs.get(identity_id)
        if slug is None:
            slug = self._slugs[identity_id] = self._resolve(identity_id)
        return slug

    def _resolve(self, identity_id: str | None) -> str:
        if self.forced:
            require_org(self.conn, self.forced)
            return self._note(identity_id, self.forced, "forced")
        if identity_id:
            found = stix_reads.org_slugs_by_stix_id(self.conn, [identity_id]).get(identity_id)
            if found:
                return self._note(identity_id, found, "stix_id")
            identity = self.identities.get(identity_id)
            name = identity.get("name") if identity else None
            if isinstance(name, str) and name.strip():
                slugs = identity_slugs.candidate_slugs(identity, name, SLUG.match)
                for slug in slugs:
                    if org_store.get(self.conn, slug):
                        return self._note(identity_id, slug, "slug")
                if self.create and identity_slugs.creatable(identity_id):
                    slug = slugs[0] if slugs else identity_slugs.fallback_slug(identity_id)
                    org_store.insert(self.conn, slug, name.strip()[:200], None, identity_id)
                    return self._note(identity_id, slug, "created")
        return self._note(identity_id, self._default(), "default")

    def _default(self) -> str:
        if not self.default:
            raise Invalid("the bundle has objects whose source is not known: give the org they come from",
                          field="org")
        require_org(self.conn, self.default)
        return self.default

    def _note(self, identity_id: str | None, slug: str, how: str) -> str:
        if identity_id is not None:
            identity = self.identities.get(identity_id) or {}
            self.matched[identity_id] = {"identity": identity_id, "name": identity.get("name"), "org": slug,
                                         "match": how}
        return slug

    def name_of(self, identity_id: str | None) -> str | None:
        identity = self.identities.get(identity_id) if identity_id else None
        return identity.get("name") if identity else None
