"""The in-memory set of listed networks answers containment like the prefix probes do."""

from registry.domain.keys import PrefixLengths, probe_keys
from registry.domain.networks import NetworkSet
from registry.domain.normalize import normalize_one


def test_containing_finds_every_listed_supernet_and_nothing_else():
    networks = NetworkSet()
    for text in ("1.10.16.0/20", "1.10.0.0/16", "1.11.0.0/16", "2001:678:6c4::/48", "1.10.16.0/24"):
        value = normalize_one(text)
        networks.add(value.kind, value.prefix_len, value.range_start, value.value)
    assert networks.containing(normalize_one("1.10.16.77")) == ["1.10.0.0/16", "1.10.16.0/20", "1.10.16.0/24"]
    assert networks.containing(normalize_one("1.10.16.0/24")) == ["1.10.0.0/16", "1.10.16.0/20"]
    assert networks.containing(normalize_one("1.12.0.1")) == []
    assert networks.containing(normalize_one("2001:678:6c4:1::5")) == ["2001:678:6c4::/48"]
    assert networks.containing(normalize_one("2001:678:6c5::1")) == []


def test_probe_keys_agree_with_or_without_the_network_set():
    networks = NetworkSet()
    listed = ["45.0.0.0/8", "45.76.0.0/16", "45.76.149.0/24", "200.1.2.0/23"]
    for text in listed:
        value = normalize_one(text)
        networks.add(value.kind, value.prefix_len, value.range_start, value.value)
    lengths = PrefixLengths(ipv4=frozenset({8, 16, 23, 24}))
    for query in ("45.76.149.154", "200.1.3.9", "http://45.76.149.154:5000/x", "9.9.9.10"):
        value = normalize_one(query)
        with_set = probe_keys(value, lengths, networks)
        by_length = [(k, m) for k, m in probe_keys(value, lengths) if m != "cidr" or k in listed]
        assert with_set == by_length
