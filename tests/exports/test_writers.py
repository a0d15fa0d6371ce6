"""The pure writers and the grouping, without a database: rows as the reader yields them."""

from __future__ import annotations

from datetime import UTC, datetime

import dns.zone
from netaddr import IPSet, cidr_merge

from registry.domain.kinds import EXACT
from registry.domain.normalize import normalize_one
from registry.domain.rows import ExportRow
from registry.domain.scoring import Evidence, score
from registry.export import cidr, rpz
from registry.export.records import group, scored

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def row(indicator_id, value, *, source="ccib-th", feed="", confidence=70, tlp="amber", labels=",x,",
        last="2026-11-20 08:00:00.000000", valid_until=None, allowlisted=None):
    v = normalize_one(value)
    return ExportRow(indicator_id, v.kind, v.value, v.display, allowlisted, v.range_start, v.range_end, source, 1,
                     feed, confidence, tlp, labels, None, valid_until, "2026-11-01 00:00:00.000000", last, 1, last)


def test_cidr_merges_overlapping_adjacent_and_keeps_families_apart():
    values = ["10.0.0.0/25", "10.0.0.128/25", "10.0.0.7", "10.0.2.0/24", "10.0.3.0/24", "10.0.5.1",
              "2001:db8::/33", "2001:db8:8000::/33", "2001:db9::1"]
    rows = sorted((row(i, v) for i, v in enumerate(values, 1)), key=lambda r: (r.range_start, r.range_end, r.indicator_id))
    blocks = list(cidr.blocks(group(rows)))
    assert blocks == ["10.0.0.0/24", "10.0.2.0/23", "10.0.5.1/32", "2001:db8::/32", "2001:db9::1/128"]
    assert IPSet(blocks) == IPSet(values) and [str(n) for n in cidr_merge(values)] == blocks


def test_rpz_writes_a_comment_for_a_name_too_long_for_the_zone():
    long_name = ".".join(["a" * 60] * 4) + ".example"  # 252 characters: no room under a zone
    items = group([row(1, "evil.example"), row(2, long_name)])
    text = b"".join(rpz.write(items, zone="rpz.test", serial=7)).decode()
    assert f"; {long_name}: too long to list under rpz.test" in text
    zone = dns.zone.from_text(text, origin="rpz.test.")
    assert sorted(str(n) for n in zone.nodes) == ["*.evil.example", "@", "evil.example"]
    assert zone.get_rdataset("@", "SOA")[0].serial == 7


def test_scores_match_the_scoring_rule_whatever_is_remembered():
    rows = [row(1, "a.example"), row(2, "b.example"), row(3, "c.example", confidence=90),
            row(4, "d.example", valid_until="2026-11-30 00:00:00.000000"),
            row(5, "e.example"), row(5, "e.example", source="pdrm-my", confidence=40),
            row(6, "f.example", allowlisted="test"), row(7, "g.example")]
    for item in scored(group(rows), now=NOW, half_lifes=None, min_score=None):
        expected, _ = score([Evidence(r.source, r.feed or None, r.kind, r.confidence,
                                      datetime.fromisoformat(r.last_seen).replace(tzinfo=UTC),
                                      datetime.fromisoformat(r.valid_until).replace(tzinfo=UTC) if r.valid_until else None,
                                      EXACT)
                             for r in item.rows], now=NOW, allowlisted=item.allowlisted)
        assert item.score == expected, item.value
    kept = [i.value for i in scored(group(rows), now=NOW, half_lifes=None, min_score=70)]
    assert kept == ["c.example", "e.example"]  # the others: 70 decayed to 66 in 11 days


def test_summary_of_several_sources():
    rows = [row(1, "45.77.1.0/24", confidence=70, tlp="amber", labels=",phishing,",
                last="2026-11-20 08:00:00.000000", valid_until="2027-01-01 00:00:00.000000"),
            row(1, "45.77.1.0/24", source="spamhaus", feed="drop", confidence=90, tlp="clear", labels=",spam,",
                last="2026-11-25 08:00:00.000000")]
    (item,) = group(rows)
    s = item.summary()
    assert (s["sources"], s["confidence"], s["tlp"], s["labels"]) == (["ccib-th", "spamhaus"], 90, "amber",
                                                                     ["phishing", "spam"])
    assert (s["last_seen"], s["valid_until"], s["times_reported"]) == ("2026-11-25T08:00:00Z", None, 2)
    assert [c.feed for c in s["claims"]] == [None, "drop"]
