"""One file, several hashes: which indicator they land on (domain.same_file), pure."""

from __future__ import annotations

import hashlib

from registry.domain.kinds import FILE_HASH, MATCH_TYPES, SAME_FILE
from registry.domain.normalize import normalize_one
from registry.domain.same_file import file_probes, joined, ordered, plan
from registry.domain.scoring import match_weight


def digests(content: bytes) -> tuple[str, str, str]:
    """(sha256, sha1, md5) of ``content``, canonical."""
    return tuple(f"{name}:{hashlib.new(name, content).hexdigest()}" for name in ("sha256", "sha1", "md5"))


APK = digests(b"fake banking app")  # sha256, sha1, md5 of one file
OTHER = digests(b"another file")


def file(*hashes: str):
    return normalize_one(" ".join(hashes))


def test_a_file_given_with_its_hashes_is_named_by_the_strongest_and_the_others_are_its_aliases():
    value = file(APK[2], APK[0], APK[1])
    assert (value.kind, value.value) == (FILE_HASH, APK[0])
    targets, new = plan([value], {}, {})
    assert targets == {APK[0]: APK[0]}
    assert sorted(new) == sorted([(APK[1], APK[0]), (APK[2], APK[0])])


def test_a_hash_alone_that_is_an_alias_lands_on_its_file():
    assert plan([file(APK[2])], {APK[2]: APK[0]}, {APK[0]: [APK[2]]}) == ({APK[2]: APK[0]}, [])


def test_a_hash_listed_on_its_own_becomes_an_alias_and_what_follows_lands_on_the_file():
    # md5 reported alone first (its own indicator, which the plan need not know), then the file
    # with its sha256: the sha256 names the file, the md5 links to it
    assert plan([file(APK[0], APK[2])], {}, {}) == ({APK[0]: APK[0]}, [(APK[2], APK[0])])
    # the md5 given alone again lands on the file
    assert plan([file(APK[2])], {APK[2]: APK[0]}, {APK[0]: [APK[2]]})[0] == {APK[2]: APK[0]}


def test_a_weaker_hash_known_as_an_alias_brings_the_stronger_one_to_that_file():
    # listed: sha256 with its md5; given: the sha1 with the md5 (the sha1 may be listed on its own)
    targets, new = plan([file(APK[1], APK[2])], {APK[2]: APK[0]}, {APK[0]: [APK[2]]})
    assert targets == {APK[1]: APK[0]} and new == [(APK[1], APK[0])]


def test_two_files_sharing_an_md5_stay_two_files_and_the_md5_keeps_its_first_file():
    collision = f"sha256:{'0' * 64}"
    targets, new = plan([file(collision, APK[2])], {APK[2]: APK[0]}, {APK[0]: [APK[2]]})
    assert targets == {collision: collision} and new == []
    sha1 = f"sha1:{'1' * 40}"  # the listed file has another sha1
    targets, new = plan([file(sha1, APK[2])], {APK[2]: APK[0]}, {APK[0]: [APK[1], APK[2]]})
    assert targets == {sha1: sha1} and new == []


def test_an_alias_never_names_two_indicators():
    # the md5 already names another file: the sha256 names this one, the md5 stays where it is,
    # and the sha1 still links
    targets, new = plan([file(APK[0], APK[1], APK[2])], {APK[2]: OTHER[0]}, {OTHER[0]: [APK[2]]})
    assert targets == {APK[0]: APK[0]} and new == [(APK[1], APK[0])]


def test_one_batch_lands_on_one_indicator_whatever_the_order():
    given = [file(APK[2]), file(APK[1], APK[2]), file(APK[0], APK[2])]
    for batch in (given, given[::-1]):
        targets, new = plan(batch, {}, {})
        assert targets == {APK[2]: APK[0], APK[1]: APK[0], APK[0]: APK[0]}
        assert sorted(new) == sorted([(APK[1], APK[0]), (APK[2], APK[0])])


def test_a_repeat_with_more_hashes_joins_them():
    first, more = file(APK[0], APK[2]), file(APK[0], APK[1])
    assert joined(first, more).detail == f"{APK[1]},{APK[2]}"
    assert joined(more, file(APK[0])) == more


def test_a_lookup_probes_the_hashes_given_and_the_files_they_are_aliases_of():
    query = file(APK[1], APK[2])  # sha1 and md5; the md5 is an alias of the sha256's indicator
    assert file_probes(query, {APK[2]: APK[0]}) == [(APK[2], SAME_FILE), (APK[0], SAME_FILE)]
    assert file_probes(file(APK[0]), {}) == []
    assert file_probes(file(APK[2]), {APK[2]: APK[0]}) == [(APK[0], SAME_FILE)]


def test_same_file_weighs_as_an_exact_match_and_comes_last():
    assert MATCH_TYPES[-1] == SAME_FILE
    assert match_weight(SAME_FILE, FILE_HASH, None) == 1.0
    assert ordered([APK[2], APK[0], APK[1]]) == list(APK)
