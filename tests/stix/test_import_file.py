"""``registry import FILE`` routes a STIX bundle (detected or named) to the STIX importer."""

from __future__ import annotations

from registry.services.imports import import_file
from registry.services.orgs import add_org
from registry.services.submit import Provenance
from tests.helpers import FIXTURES


def test_a_detected_bundle_goes_to_the_stix_importer(db):
    add_org(db, "ccib-th", "Thai CCIB", "TH")
    seen = []
    fmt, report = import_file(db, FIXTURES / "stix" / "oasis_apt1.json", Provenance(org="ccib-th", tlp="green"),
                              on_bytes=seen.append)
    assert fmt == "stix"
    assert (report.read, report.new, report.rejected) == (10, 10, 2)  # 3 file hashes, 2 x509 rejects
    out = report.to_dict()
    assert out["indicators"] == 12 and out["rejects"][0]["line"].startswith("indicator--")
    assert "results" not in out  # a CLI import keeps counts, not a result per object
    assert sum(seen) == (FIXTURES / "stix" / "oasis_apt1.json").stat().st_size


def test_the_named_format_and_provenance_defaults(db):
    add_org(db, "ccib-th", "Thai CCIB", "TH")
    prov = Provenance(org="ccib-th", tlp="green", confidence=70, labels=("apt1",), feed="mandiant")
    fmt, report = import_file(db, FIXTURES / "stix" / "oasis_apt1.json", prov, fmt="stix")
    from sqlalchemy import text

    with db.read() as conn:
        rows = set(conn.execute(text("SELECT tlp, confidence, labels, feed FROM assertion")).all())
    assert rows == {("green", 70, ",apt1,", "mandiant")}  # apt1 has no markings or confidence
