"""Crypto wallets: canonical ``CHAIN:ADDRESS`` (btc, ltc, evm, tron, sol, ton, xmr).

Every checksum a chain has is verified (docs/design.md, "The money and messaging kinds"):
base58check (Bitcoin and Litecoin legacy, TRON: the ``base58`` package, double SHA-256),
bech32 and bech32m (``segwit``), EIP-55 mixed case (Keccak-256 from pycryptodome), TON's
CRC16 (``ton_address``), Monero's Keccak checksum (``monero_address``). A Solana address has
no checksum at all: it is accepted when it is base58 of exactly 32 bytes.

Case: bech32 addresses are lowercased (the format is case-insensitive), EVM addresses are
lowercased (EIP-55's mixed case is only a checksum: kept as the display), base58 addresses
stay as written (case is part of the value). Every EVM chain (Ethereum, BSC/BEP-20, Polygon,
…) shares one address space, so one form ``evm:0x…``. TON's canonical form is its raw
``WC:hex``. Labels people put in front are read: ``USDT-TRC20:``, ``ERC20 ``, ``bitcoin:``
URIs with ``?amount=`` (BIP-21), ``ethereum:0x…@1`` (EIP-681).
"""

from __future__ import annotations

import re

import base58

from registry.domain.kinds import CRYPTO_WALLET, URL, Value, new_value
from registry.domain.normalize.errors import Invalid
from registry.domain.normalize.handlers import Kind
from registry.domain.normalize.monero_address import check_monero
from registry.domain.normalize.segwit import segwit_decode
from registry.domain.normalize.ton_address import FRIENDLY, is_raw_ton, ton_raw

CHAINS = ("btc", "ltc", "evm", "tron", "sol", "ton", "xmr")
_SHORTEST = 14  # no chain's address is shorter (BIP-350's shortest segwit address)
_CHAIN_NAMES = {
    "btc": "Bitcoin", "ltc": "Litecoin", "evm": "EVM (Ethereum, BSC, Polygon, …)",
    "tron": "TRON", "sol": "Solana", "ton": "TON", "xmr": "Monero",
}
# Labels written before an address: a chain, a token standard or a network name.
_NETWORKS = {
    **{chain: chain for chain in CHAINS},
    "bitcoin": "btc", "litecoin": "ltc", "eth": "evm", "ethereum": "evm", "erc20": "evm",
    "bep20": "evm", "bsc": "evm", "bnb": "evm", "polygon": "evm", "matic": "evm",
    "arbitrum": "evm", "optimism": "evm", "avax": "evm", "avaxc": "evm", "trx": "tron",
    "trc20": "tron", "solana": "sol", "spl": "sol", "monero": "xmr", "toncoin": "ton",
}
_TOKENS = frozenset({"usdt", "usdc", "tether"})  # a currency named before its network
_LABEL = re.compile(r"([A-Za-z]+(?:-?20)?)(?:\s*:\s*|[\s_\-]+)")
_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58 = {c: i for i, c in enumerate(_ALPHABET)}
_B58_SHAPE = re.compile(r"[1-9A-HJ-NP-Za-km-z]{25,44}")
_HEX = re.compile(r"[0-9a-fA-F]+")
_EVM_SHAPE = re.compile(r"0[xX][0-9a-fA-F]{40}")
_BECH32_SHAPE = re.compile(r"(?:bc|ltc|tb|bcrt|tltc|rltc)1[a-z0-9]{6,87}", re.IGNORECASE)
_MONERO_SHAPE = re.compile(r"[48][1-9A-HJ-NP-Za-km-z]{94}(?:[1-9A-HJ-NP-Za-km-z]{11})?")
# Base58check version bytes (Bitcoin chainparams.cpp, Litecoin chainparams.cpp, TRON's 0x41).
_VERSIONS = {0x00: "btc", 0x05: "btc", 0x30: "ltc", 0x32: "ltc", 0x41: "tron"}
_TESTNET_VERSIONS = frozenset({0x6F, 0xC4, 0x3A, 0xA0})
_HRPS = {"bc": "btc", "ltc": "ltc"}
_TESTNET_HRPS = frozenset({"tb", "bcrt", "tltc", "rltc"})


def _strip_labels(s: str) -> tuple[str | None, str]:
    """(chain named by the labels in front, the rest): ``USDT-TRC20: T…`` -> (tron, T…)."""
    chain = None
    if s[:15].lower() == "ton://transfer/":  # TON's payment links (ton-connect, Tonkeeper)
        return "ton", s[15:]
    rest, joined = s, False
    while True:
        m = _LABEL.match(rest)
        if m is None:
            break
        word = m.group(1).lower().replace("-", "")
        named = _NETWORKS.get(word)
        if word not in _TOKENS and named is None:
            break
        if named is not None:
            if chain is not None and named != chain:
                raise Invalid(f"labelled both {chain} and {named}")
            chain = named
        rest = rest[m.end() :]
        # "USDT-TRC20: T…" joins labels with "-"; "btc-exchange.com" is a name, not a label.
        joined = m.group(0)[-1] in "-_"
    if joined:
        return None, s
    return chain, rest.strip()


def _address_part(chain: str | None, s: str) -> str:
    """The address of a payment URI: BIP-21 ``ADDR?amount=…``; EIP-681
    ``[pay-]ADDR[@chain][/function]?params``, whose ``transfer`` names the payee."""
    if chain == "evm":
        if s[:4].lower() == "pay-":
            s = s[4:]
        head, _, query = s.partition("?")
        address, _, function = head.partition("/")
        if function == "transfer":
            for param in query.split("&"):
                name, _, value = param.partition("=")
                if name == "address":
                    return value
        return address.partition("@")[0]
    return s.partition("?")[0]


def _checked_base58(raw: bytes, s: str) -> str:
    """The chain of a 25-byte base58check address (version, 20-byte hash, 4-byte check)."""
    version = raw[0]
    if version in _TESTNET_VERSIONS:
        raise Invalid("a testnet address, not a main-network one")
    chain = _VERSIONS.get(version)
    if chain is None:
        raise Invalid(f"unknown base58check version byte 0x{version:02x}")
    try:
        base58.b58decode_check(s)
    except ValueError:
        raise Invalid(f"{_CHAIN_NAMES[chain]} checksum does not match (a mistyped address?)") from None
    return chain


def eip55(hex40: str) -> str:
    """The EIP-55 mixed-case form of 40 hex digits."""
    from Crypto.Hash import keccak  # here, not at start-up: pycryptodome loads its C library slowly

    lower = hex40.lower()
    digest = keccak.new(digest_bits=256, data=lower.encode()).hexdigest()
    return "".join(c.upper() if int(h, 16) >= 8 else c for c, h in zip(lower, digest[:40], strict=True))


def _evm(s: str) -> tuple[str, str]:
    if not _EVM_SHAPE.fullmatch(s):
        raise Invalid("an EVM address is 0x and 40 hex digits")
    hex40 = s[2:]
    mixed = eip55(hex40)
    if hex40 != hex40.lower() and hex40 != hex40.upper() and hex40 != mixed:
        raise Invalid("mixed case that fails its EIP-55 checksum (a mistyped address?)")
    return "evm", "0x" + hex40.lower()


def _base58(hint: str | None, s: str) -> tuple[str, str]:
    bad = sorted({c for c in s if c not in _B58})
    if bad:
        raise Invalid(f"character {bad[0]!r} is in no supported address format")
    raw = base58.b58decode(s)
    if len(raw) == 25:
        chain = _checked_base58(raw, s)
        if raw[0] == 0x05 and hint == "ltc":  # Litecoin's legacy P2SH shares Bitcoin's 3…
            chain = "ltc"
        return chain, s
    if len(raw) == 32 and hint in (None, "sol"):
        return "sol", s  # Solana addresses carry no checksum
    if hint in ("btc", "ltc", "tron") or (hint is None and s[:1] in "13LMT" and len(s) <= 35):
        raise Invalid(f"decodes to {len(raw)} bytes, not a base58check address's 25 "
                      "(a mistyped address?)")
    raise Invalid(
        f"base58 of {len(raw)} bytes: neither a base58check address (25 bytes) nor a "
        "Solana one (32 bytes)"
    )


def _chain_address(hint: str | None, s: str) -> tuple[str, str]:
    """(chain, canonical address) of an address, with the chain a label named if any."""
    if not s:
        raise Invalid("no address after the label")
    if s[:2] in ("0x", "0X") or hint == "evm":
        return _evm(s)
    if hint == "xmr" or (hint is None and len(s) in (95, 106) and s[:1] in "48"):
        return "xmr", check_monero(s)
    if hint == "ton" or is_raw_ton(s) or (len(s) == 48 and FRIENDLY.fullmatch(s)):
        return "ton", ton_raw(s)
    if _BECH32_SHAPE.fullmatch(s):
        hrp = s[: s.rfind("1")].lower()
        try:
            if hrp in _TESTNET_HRPS:
                raise Invalid("a testnet address, not a main-network one")
            segwit_decode(hrp, s)
            return _HRPS[hrp], s.lower()
        except Invalid:
            try:  # a Solana address may start like one
                chain, address = _base58(hint, s)
            except Invalid:
                chain = None
            if chain != "sol":
                raise
            return chain, address
    return _base58(hint, s)


def _chain_named(label: str) -> str | None:
    """The chain a label names on its own (a CSV column: ``USDT-TRC20``, ``BEP-20``, ``btc``)."""
    key = re.sub(r"[\s_\-]+", "", label.lower())
    for token in _TOKENS:
        key = key.removeprefix(token)
    return _NETWORKS.get(key)


def wallet_value(chain_hint: str | None, address: str) -> Value:
    """The canonical value of ``address``; ``chain_hint`` (a chain or network name) must agree."""
    hint = _chain_named(chain_hint) if chain_hint else None
    if chain_hint and hint is None:
        raise Invalid(f"unknown chain {chain_hint!r} (one of {', '.join(CHAINS)})")
    text = _address_part(hint, address.strip())
    try:
        chain, canonical = _chain_address(hint, text)
    except Invalid:
        if hint is None:
            raise
        try:  # an address of another chain under the label: say so
            chain, canonical = _chain_address(None, text)
        except Invalid:
            chain = hint
        if chain == hint:
            raise
    if hint is not None and hint != chain:
        raise Invalid(f"a {_CHAIN_NAMES[chain]} address, labelled {_CHAIN_NAMES[hint]}")
    display = f"evm:0x{eip55(canonical[2:])}" if chain == "evm" else None
    return new_value(CRYPTO_WALLET, f"{chain}:{canonical}", display, None, None, None, None)


def looks_wallet(s: str) -> bool:
    """A chain label (``btc:``, ``TRC20 ``, ``bitcoin:`` …) or an address's own shape."""
    if len(s) < _SHORTEST:
        return False
    try:
        chain, _rest = _strip_labels(s)
    except Invalid:  # two chains named: the normaliser's reason says so
        return True
    if chain is not None:
        return True
    if _EVM_SHAPE.fullmatch(s) or _BECH32_SHAPE.fullmatch(s) or is_raw_ton(s):
        return True
    if len(s) == 48 and s[1:2] == "Q" and FRIENDLY.fullmatch(s):
        return True
    if _MONERO_SHAPE.fullmatch(s):
        return True
    # Base58 of an address's length; all digits is left to the phone kind, hex of a hash's
    # length to the file-hash kind.
    if _B58_SHAPE.fullmatch(s) is None or s.isdigit():
        return False
    return not (len(s) in (32, 40) and _HEX.fullmatch(s))


def normalize_wallet(s: str, region: str | None, explicit: bool) -> tuple[Value, ...]:
    chain, rest = _strip_labels(s)
    return (wallet_value(chain, rest),)


# ``ton://transfer/ADDR`` is a URL to detection: given as a wallet, it is read as one.
KIND = Kind(CRYPTO_WALLET, "a crypto wallet address", looks_wallet, normalize_wallet,
            explains=frozenset({URL}))
