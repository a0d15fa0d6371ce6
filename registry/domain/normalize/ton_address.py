"""TON addresses: the raw form ``WC:64hex`` and the user-friendly 48-character form.

The user-friendly form (TON documentation, "Smart contract addresses"; ton-blockchain
block/block.cpp) is base64 or base64url of 36 bytes: a flag byte (0x11 bounceable, 0x51
non-bounceable, +0x80 testnet-only), the workchain as a signed byte, the 32-byte account id
and a big-endian CRC16-XMODEM of those 34 bytes (``binascii.crc_hqx`` with 0). Bounceable and
non-bounceable forms name one account, so the canonical value is the raw form.
"""

from __future__ import annotations

import base64
import binascii
import re

from registry.domain.normalize.errors import Invalid

_RAW = re.compile(r"(-?\d{1,3}):([0-9a-fA-F]{64})")
FRIENDLY = re.compile(r"[A-Za-z0-9+/_\-]{48}")
_FLAGS = {0x11: "bounceable", 0x51: "non-bounceable"}
_WORKCHAINS = (0, -1)  # basechain and masterchain: the only ones in use


def is_raw_ton(text: str) -> bool:
    return _RAW.fullmatch(text) is not None


def ton_raw(text: str) -> str:
    """``WC:hex`` (lowercase) of a raw or user-friendly TON address."""
    m = _RAW.fullmatch(text)
    if m is not None:
        workchain = int(m.group(1))
        if workchain not in _WORKCHAINS:
            raise Invalid(f"TON workchain {workchain} is not in use (0 or -1)")
        return f"{workchain}:{m.group(2).lower()}"
    if FRIENDLY.fullmatch(text) is None:
        raise Invalid("a TON address is 48 base64 characters or WC:64hex")
    try:
        raw = base64.urlsafe_b64decode(text.replace("+", "-").replace("/", "_"))
    except (binascii.Error, ValueError):
        raise Invalid("not base64") from None
    if binascii.crc_hqx(raw[:34], 0) != int.from_bytes(raw[34:], "big"):
        raise Invalid("TON checksum does not match (a mistyped address?)")
    flags = raw[0]
    if flags & 0x80:
        raise Invalid("a TON testnet address, not a main-network one")
    if flags not in _FLAGS:
        raise Invalid(f"unknown TON address flags 0x{flags:02x}")
    workchain = int.from_bytes(raw[1:2], "big", signed=True)
    if workchain not in _WORKCHAINS:
        raise Invalid(f"TON workchain {workchain} is not in use (0 or -1)")
    return f"{workchain}:{raw[2:34].hex()}"
