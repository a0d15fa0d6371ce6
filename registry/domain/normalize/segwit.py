"""Segwit addresses (``bc1…``, ``ltc1…``): bech32 for witness version 0, bech32m for 1 to 16.

The decoding is BIP-350's reference code (github.com/sipa/bech32, ref/python/segwit_addr.py,
which BIP-350 links), rewritten to raise a reason instead of answering None: the ``bech32``
package on PyPI (1.2.0) predates BIP-350 and knows no bech32m. See docs/design.md ("The money
and messaging kinds").
"""

from __future__ import annotations

from registry.domain.normalize.errors import Invalid

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_VALUE = {c: i for i, c in enumerate(CHARSET)}
BECH32 = 1  # BIP-173's checksum constant
BECH32M = 0x2BC830A3  # BIP-350's
_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def _polymod(values: list[int]) -> int:
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= _GEN[i] if (top >> i) & 1 else 0
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _convertbits(data: list[int], frombits: int, tobits: int) -> bytes | None:
    """5-bit groups to bytes without padding (BIP-173: at most 4 bits of zero padding)."""
    acc = bits = 0
    out = bytearray()
    maxv = (1 << tobits) - 1
    for value in data:
        acc = (acc << frombits) | value
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            out.append((acc >> bits) & maxv)
    if bits >= frombits or ((acc << (tobits - bits)) & maxv):
        return None
    return bytes(out)


def bech32_split(text: str) -> tuple[str, list[int], int]:
    """(human-readable part, data without the checksum, checksum constant) of a bech32 or
    bech32m string; BIP-173's case rule: all lowercase or all uppercase."""
    if any(ord(c) < 33 or ord(c) > 126 for c in text):
        raise Invalid("a bech32 address has only printable ASCII characters")
    if text.lower() != text and text.upper() != text:
        raise Invalid("a bech32 address is all lowercase or all uppercase, never mixed")
    text = text.lower()
    pos = text.rfind("1")
    if pos < 1 or pos + 7 > len(text) or len(text) > 90:
        raise Invalid("not a bech32 string (no '1' separator with 6 checksum characters after it)")
    bad = sorted({c for c in text[pos + 1 :] if c not in _VALUE})
    if bad:
        raise Invalid(f"character {bad[0]!r} is not in the bech32 alphabet")
    hrp = text[:pos]
    data = [_VALUE[c] for c in text[pos + 1 :]]
    const = _polymod(_hrp_expand(hrp) + data)
    if const not in (BECH32, BECH32M):
        raise Invalid("bech32 checksum does not match (a mistyped address?)")
    return hrp, data[:-6], const


def segwit_decode(hrp: str, text: str) -> tuple[int, bytes]:
    """(witness version, witness program) of a segwit address whose prefix must be ``hrp``."""
    got, data, const = bech32_split(text)
    if got != hrp:
        raise Invalid(f"the prefix is {got!r}, expected {hrp!r}")
    if not data:
        raise Invalid("no witness version")
    version = data[0]
    if version > 16:
        raise Invalid(f"witness version {version} does not exist (0 to 16)")
    program = _convertbits(data[1:], 5, 8)
    if program is None:
        raise Invalid("invalid padding in the witness program")
    if not 2 <= len(program) <= 40:
        raise Invalid(f"a witness program of {len(program)} bytes (2 to 40 allowed)")
    if version == 0 and len(program) not in (20, 32):
        raise Invalid(f"a version 0 witness program of {len(program)} bytes (20 or 32)")
    if version == 0 and const != BECH32:
        raise Invalid("a version 0 address must use the bech32 checksum, not bech32m (BIP-350)")
    if version != 0 and const != BECH32M:
        raise Invalid(f"a version {version} address must use the bech32m checksum (BIP-350)")
    return version, program
