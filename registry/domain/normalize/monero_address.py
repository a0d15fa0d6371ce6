"""Monero addresses: Monero's own base58 (8-byte blocks) and a Keccak-256 checksum.

The format is Monero's (src/common/base58.cpp and cryptonote_basic/cryptonote_basic_impl.cpp
in the monero-project repository): the network prefix as a varint, the public spend and view
keys (32 bytes each), for an integrated address an 8-byte payment id, then the first 4 bytes
of Keccak-256 of all that. Base58 is applied per 8-byte block (11 characters), so a standard
address has 95 characters and an integrated one 106. No maintained PyPI package decodes it
(``monero`` 1.1.1 dates from 2022 and pulls a wallet stack); this is the small exact
implementation over pycryptodome's Keccak, checked against published addresses in
tests/unit/test_kind_crypto_wallet.py.
"""

from __future__ import annotations

from registry.domain.normalize.errors import Invalid

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {c: i for i, c in enumerate(_ALPHABET)}
_BLOCK_CHARS = (0, 2, 3, 5, 6, 7, 9, 10, 11)  # characters for 0..8 bytes of a block
# Main-network prefixes (cryptonote_config.h); testnet and stagenet ones are named to reject.
MAINNET = {18: "standard", 19: "integrated", 42: "subaddress"}
_OTHER_NETS = {53: "testnet", 54: "testnet", 63: "testnet", 24: "stagenet", 25: "stagenet",
               36: "stagenet"}
_LENGTHS = {"standard": 69, "subaddress": 69, "integrated": 77}


def _decode_block(block: str, size: int) -> bytes:
    n = 0
    for c in block:
        n = n * 58 + _INDEX[c]
    if n >> (8 * size):
        raise Invalid("not Monero base58 (a block overflows)")
    return n.to_bytes(size, "big")


def monero_decode(text: str) -> bytes:
    """The bytes of a Monero base58 string."""
    bad = sorted({c for c in text if c not in _INDEX})
    if bad:
        raise Invalid(f"character {bad[0]!r} is not in the base58 alphabet")
    full, rest = divmod(len(text), 11)
    if rest not in _BLOCK_CHARS:
        raise Invalid(f"{len(text)} characters is not a Monero base58 length")
    out = b"".join(_decode_block(text[i * 11 : i * 11 + 11], 8) for i in range(full))
    return out + (_decode_block(text[full * 11 :], _BLOCK_CHARS.index(rest)) if rest else b"")


def check_monero(text: str) -> str:
    """``text`` when it is a valid main-network Monero address; else a reason."""
    if len(text) not in (95, 106):
        raise Invalid(f"a Monero address has 95 or 106 characters, not {len(text)}")
    raw = monero_decode(text)
    prefix = raw[0]  # every prefix used is below 128: a one-byte varint
    if prefix in _OTHER_NETS:
        raise Invalid(f"a Monero {_OTHER_NETS[prefix]} address, not a main-network one")
    kind = MAINNET.get(prefix)
    if kind is None:
        raise Invalid(f"unknown Monero network prefix {prefix}")
    if len(raw) != _LENGTHS[kind]:
        raise Invalid(f"a Monero {kind} address of the wrong length")
    from Crypto.Hash import keccak  # here, not at start-up: pycryptodome loads its C library slowly

    digest = keccak.new(digest_bits=256, data=raw[:-4]).digest()
    if digest[:4] != raw[-4:]:
        raise Invalid("Monero checksum does not match (a mistyped address?)")
    return text
