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
    assert len(networks) == 5
    again = normalize_one("1.10.0.0/16")
    networks.add(again.kind, again.prefix_len, again.range_start, again.value)
    assert len(networks) == 5  # a network loaded twice is one network


def test_a_v4_and_a_v6_network_of_the_same_length_and_number_stay_apart():
    networks = NetworkSet()
    v4, v6 = normalize_one("1.0.0.0/16"), normalize_one("100::/16")
    networks.add(v4.kind, v4.prefix_len, v4.range_start, v4.value)
    assert networks.containing(normalize_one("100::1")) == []
    networks.add(v6.kind, v6.prefix_len, v6.range_start, v6.value)
    assert networks.containing(normalize_one("1.0.0.1")) == ["1.0.0.0/16"]
    assert networks.containing(normalize_one("100::1")) == ["100::/16"]


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
