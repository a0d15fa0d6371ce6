"""Golden tests of the file-hash kind."""

from __future__ import annotations

import hashlib

import pytest

from registry.domain.kinds import FILE_HASH
from registry.domain.normalize import NormalizeError, domain, email, ip, normalize, phone, url
from registry.domain.normalize.errors import Invalid
from registry.domain.normalize.file_hash import KIND, file_hashes_text, misp_file_hash, other_hashes

EXISTING = (ip.IPV4_KIND, url.KIND, email.KIND, ip.IPV6_KIND, phone.KIND, domain.KIND)

# The digests of "abc": RFC 1321's test suite (MD5), FIPS 180-2's examples (SHA-1, SHA-256).
MD5 = "900150983cd24fb0d6963f7d28e17f72"
SHA1 = "a9993e364706816aba3e25717850c26c9cd0d89d"
SHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def canon(text: str) -> str:
    assert KIND.detect(text), text
    (value,) = KIND.normalize(text, None, False)
    assert value.kind == FILE_HASH
    return value.value


@pytest.mark.parametrize(("text", "want"), [
    (MD5, f"md5:{MD5}"),
    (MD5.upper(), f"md5:{MD5}"),
    (SHA1, f"sha1:{SHA1}"),
    (SHA256, f"sha256:{SHA256}"),
    (f"sha256:{SHA256.upper()}", f"sha256:{SHA256}"),
    (f"SHA-256: {SHA256}", f"sha256:{SHA256}"),
    (f"sha1={SHA1}", f"sha1:{SHA1}"),
    (f"MD5 {MD5}", f"md5:{MD5}"),
])
def test_hashes(text, want):
    assert canon(text) == want
    assert canon(want) == want


@pytest.mark.parametrize(("text", "why"), [
    (f"sha256:{SHA1}", "sha256 has 64 hex digits, not 40"),
    (f"md5:{MD5}0", "md5 has 32"),
    (f"sha512:{SHA256}{SHA256}", "unsupported hash algorithm 'sha512'"),
    ("ssdeep:3:abc:def", "unsupported hash algorithm 'ssdeep'"),
    (f"sha1:{SHA1[:-1]}g", "hexadecimal"),
    (SHA1[:-2], "38 hex digits"),
])
def test_rejections_give_reasons(text, why):
    with pytest.raises(Invalid) as e:
        KIND.normalize(text, None, True)
    assert why in e.value.reason


def test_the_vectors_are_the_digests_of_abc():
    assert (hashlib.md5(b"abc").hexdigest(), hashlib.sha1(b"abc").hexdigest(),
            hashlib.sha256(b"abc").hexdigest()) == (MD5, SHA1, SHA256)


def test_bare_hex_is_detected_only_at_hash_lengths():
    assert not KIND.detect(SHA1[:-1])
    assert not KIND.detect(MD5 + "0")
    assert not KIND.detect("deadbeef")


def test_misp_filename_hash():
    # MISP's attribute types "filename|md5", "filename|sha1", "filename|sha256" (MISP core
    # format, section "Attribute"): the value is the file name, "|" and the hash.
    assert misp_file_hash("filename|sha256", f"KBank-Update.apk|{SHA256}") == (
        "KBank-Update.apk", KIND.normalize(SHA256, None, False)[0])
    name, value = misp_file_hash("filename|md5", f"a|b.exe|{MD5.upper()}")
    assert (name, value.value) == ("a|b.exe", f"md5:{MD5}")
    with pytest.raises(Invalid, match="sha1 has 40"):
        misp_file_hash("filename|sha1", f"x.apk|{MD5}")
    with pytest.raises(Invalid, match="not a MISP filename"):
        misp_file_hash("sha256", SHA256)


def test_no_existing_kind_claims_a_canonical_value():
    for value in (f"md5:{MD5}", f"sha1:{SHA1}", f"sha256:{SHA256}"):
        assert [k.name for k in EXISTING if k.detect(value)] == [], value


def test_the_new_kinds_claim_none_of_each_other_s_values():
    from registry.domain.normalize import crypto_wallet, user_account

    wallet, account = crypto_wallet.KIND, user_account.KIND
    hashes = [f"md5:{MD5}", f"sha256:{SHA256}", MD5, SHA1, SHA256,
              "d41d8cd98f11b214e9811998ecf8427e"]  # hex without a 0 is base58 too
    for value in hashes:
        assert not wallet.detect(value) and not account.detect(value), value
    for value in ("btc:bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "x:scambank",
                  "tron:TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "line:@abc1234x",
                  "evm:0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", "telegram:kbank_support_th"):
        assert KIND.detect(value) is False, value
        assert wallet.detect(value) != account.detect(value), value


def test_bank_account_and_the_new_kinds_claim_none_of_each_other_s_values():
    from registry.domain.normalize import bank_account, crypto_wallet, user_account

    ours = (crypto_wallet.KIND, user_account.KIND, KIND)
    for value in ("acct:TH:KASI:1234567890", "acct:TH:-:1234567890"):
        assert [k.name for k in ours if k.detect(value)] == [], value
    for value in (f"sha256:{SHA256}", MD5, "tron:TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
                  "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "whatsapp:+66812345678", "x:scambank"):
        assert not bank_account.KIND.detect(value), value


@pytest.mark.parametrize("text", [
    f"sha256:{SHA256} md5:{MD5}",
    f"{MD5},{SHA1}; {SHA256}",
    f"MD5 {MD5} SHA-1: {SHA1} sha256={SHA256.upper()}",
])
def test_several_hashes_of_one_file_are_one_value_named_by_the_strongest(text):
    (value,) = normalize(text)
    assert value.kind == FILE_HASH and value.value == f"sha256:{SHA256}"
    assert set(other_hashes(value)) <= {f"md5:{MD5}", f"sha1:{SHA1}"} and other_hashes(value)
    assert normalize(value.value) == (value._replace(detail=None),)


def test_the_text_of_a_hashes_dictionary_keeps_the_kept_algorithms():
    text = file_hashes_text({"MD5": MD5, "SHA-256": SHA256, "SHA-512": "ab" * 64})
    assert text == f"md5:{MD5} sha256:{SHA256}"
    (value,) = normalize(text)
    assert other_hashes(value) == (f"md5:{MD5}",)


@pytest.mark.parametrize(("text", "why"), [
    (f"md5:{MD5} md5:{SHA1[:32]}", "two different md5 hashes"),
    (f"sha256:{SHA256} sha512:{SHA256}{SHA256}", "unsupported hash algorithm 'sha512'"),
])
def test_several_hashes_that_are_not_one_file_are_rejected(text, why):
    with pytest.raises(NormalizeError) as e:
        normalize(text)
    assert why in e.value.reason


@pytest.mark.parametrize("text", ["123456 7890123", f"{MD5} hello"])
def test_short_digit_groups_are_not_hashes(text):
    assert not KIND.detect(text)
