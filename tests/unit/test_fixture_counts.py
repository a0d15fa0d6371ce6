"""Every value in the IP blocklist samples normalises; the counts match SOURCES.md.

The comment stripping here is deliberately tiny (the real feed parsers live elsewhere):
lines starting with ``#`` or ``;`` are comments, and a trailing `` ; SBL...`` remark is cut.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from registry.domain.kinds import IPV4, IPV6
from registry.domain.normalize import NormalizeError, normalize

FIXTURES = Path(__file__).parent.parent / "fixtures"


def feed_values(path: Path) -> list[tuple[int, str]]:
    """(line number, value) for each non-comment line of a plain IP list."""
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        text = line.strip()
        if not text or text[0] in "#;":
            continue
        text = text.split(";", 1)[0].strip()  # "1.10.16.0/20 ; SBL256894"
        if text:
            out.append((number, text))
    return out


def run(path: Path) -> tuple[list, list[tuple[int, str, str]]]:
    accepted, rejected = [], []
    for number, text in feed_values(path):
        try:
            accepted.extend(normalize(text))
        except NormalizeError as e:
            rejected.append((number, text, e.reason))
    return accepted, rejected


# (path under fixtures, accepted values, {kind: count}, single addresses)
SAMPLES = [
    ("spamhaus/spamhaus_drop_2025-01-17.txt", 1385, {IPV4: 1385}, 0),
    ("spamhaus/spamhaus_dropv6_2025-01-15.txt", 78, {IPV6: 78}, 0),
    ("spamhaus/spamhaus_edrop_2023-12.txt", 289, {IPV4: 289}, 0),
    ("spamhaus/spamhaus_edrop_2024-10_deprecated_empty.txt", 0, {}, 0),
    ("firehol/spamhaus_drop.netset", 926, {IPV4: 926}, 0),
    ("firehol/et_block.netset", 1161, {IPV4: 1161}, 218),
    ("firehol/dshield.netset", 18, {IPV4: 18}, 0),
    ("firehol/dshield_top_1000.ipset", 1000, {IPV4: 1000}, 1000),
    ("firehol/feodo.ipset", 0, {}, 0),
    ("firehol/sslbl.ipset", 0, {}, 0),
    ("plain_ip_lists/et_compromised-ips_2026-08-21.txt", 539, {IPV4: 539}, 539),
    (
        "plain_ip_lists/criticalpath_avanzato_c2_mixed_v4_v6_first5000lines.txt",
        5000,
        {IPV4: 4997, IPV6: 3},
        5000,
    ),
]


@pytest.mark.parametrize(("name", "count", "kinds", "singles"), SAMPLES)
def test_sample_normalises_completely(name, count, kinds, singles):
    path = FIXTURES / name
    accepted, rejected = run(path)
    assert rejected == []
    assert len(accepted) == count == len(feed_values(path))
    assert Counter(v.kind for v in accepted) == kinds
    assert sum(1 for v in accepted if not v.is_range) == singles
    # canonical already: these lists are written in canonical form
    assert [v.value for v in accepted] == [text for _, text in feed_values(path)]


def test_firehol_level1_rejects_only_the_slash_3():
    """2744 entries: 0.0.0.0/8 (exactly /8) is accepted; 224.0.0.0/3 is too broad."""
    path = FIXTURES / "firehol" / "firehol_level1.netset"
    accepted, rejected = run(path)
    assert len(feed_values(path)) == 2744
    assert rejected == [(2777, "224.0.0.0/3", "too broad (/3; /8 is the widest accepted)")]
    assert len(accepted) == 2743
    by_value = {v.value: v for v in accepted}
    assert by_value["0.0.0.0/8"].prefix_len == 8
    assert by_value["10.0.0.0/8"].prefix_len == 8
    assert Counter(v.prefix_len == 32 for v in accepted) == {False: 2340, True: 403}


def test_avanzato_ipv6_lines():
    path = FIXTURES / "plain_ip_lists" / "criticalpath_avanzato_c2_mixed_v4_v6_first5000lines.txt"
    v6_lines = [n for n, text in feed_values(path) if normalize(text)[0].kind == IPV6]
    assert v6_lines == [2384, 3873, 4988]


def test_spamhaus_drop_json_cidrs():
    path = FIXTURES / "spamhaus" / "spamhaus_drop_v4_2025-04.json"
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    cidrs = [r["cidr"] for r in records if "cidr" in r]
    assert records[-1]["type"] == "metadata" and records[-1]["records"] == len(cidrs) == 1406
    values = [normalize(c, IPV4) for c in cidrs]
    assert all(len(v) == 1 and v[0].kind == IPV4 for v in values)
    assert [v[0].value for v in values] == cidrs
    assert min(v[0].prefix_len for v in values) >= 8
