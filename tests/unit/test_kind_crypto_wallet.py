"""Golden tests of the crypto-wallet kind (not yet registered): the chains' own published
vectors and example addresses, each with its source; mistyped ones rejected with a reason."""

from __future__ import annotations

import pytest

from registry.domain.normalize import domain, email, ip, phone, url
from registry.domain.normalize.crypto_wallet import CRYPTO_WALLET, KIND, wallet_value
from registry.domain.normalize.errors import Invalid

EXISTING = (ip.IPV4_KIND, url.KIND, email.KIND, ip.IPV6_KIND, phone.KIND, domain.KIND)


def canon(text: str) -> str:
    assert KIND.detect(text), text
    (value,) = KIND.normalize(text, None, False)
    assert value.kind == CRYPTO_WALLET
    return value.value


def reason(text: str, explicit: bool = True) -> str:
    with pytest.raises(Invalid) as e:
        KIND.normalize(text, None, explicit)
    return e.value.reason


BIP173_350_PROGRAM = "751e76e8199196d454941c45d1b3a323f1433bd6"

# BIP-350 "Test vectors for v0-v16 native segregated witness addresses" (valid, main network),
# which repeat BIP-173's v0 vectors: (address, witness version, program hex).
SEGWIT_VALID = [
    ("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", 0, BIP173_350_PROGRAM),
    ("bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y", 1,
     BIP173_350_PROGRAM * 2),
    ("BC1SW50QGDZ25J", 16, "751e"),
    ("bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", 2, "751e76e8199196d454941c45d1b3a323"),
    ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", 1,
     "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"),
]


@pytest.mark.parametrize(("address", "version", "program"), SEGWIT_VALID)
def test_bip350_valid_segwit_addresses(address, version, program):
    from registry.domain.normalize.segwit import segwit_decode

    assert segwit_decode("bc", address) == (version, bytes.fromhex(program))
    assert canon(address) == "btc:" + address.lower()


# BIP-350 "Invalid segwit addresses" (main network ones) and the reason each must give.
@pytest.mark.parametrize(("address", "why"), [
    ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd", "bech32m"),  # v1, bech32
    ("BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL", "bech32m"),  # v16, bech32
    ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh", "not bech32m"),  # v0 with bech32m
    ("bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4", "alphabet"),  # 'o'
    ("BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R", "version 17"),
    ("bc1pw5dgrnzv", "1 bytes"),  # a 1-byte program
    ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav", "41 bytes"),
    ("BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P", "version 0"),  # v0 of 16 bytes
    ("bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du", "padding"),
    ("bc1gmk9yu", "no witness version"),  # empty data
])
def test_bip350_invalid_segwit_addresses_give_reasons(address, why):
    assert why in reason(address)


def test_bech32_case_rules_and_testnet():
    # BIP-173: mixed case is invalid; BIP-350's testnet vectors are not main-network wallets.
    assert "mixed" in reason("bc1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4")
    assert "testnet" in reason("tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7")
    # BIP-350's invalid testnet vectors, decoded under their own prefix.
    from registry.domain.normalize.segwit import segwit_decode

    for address, why in (
        ("tb1q0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq24jc47", "not bech32m"),
        ("tb1z0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqglt7rf", "bech32m"),
        ("tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq", "mixed"),
    ):
        with pytest.raises(Invalid, match=why):
            segwit_decode("tb", address)
    with pytest.raises(Invalid, match="prefix is 'tc'"):  # BIP-350: invalid human-readable part
        segwit_decode("bc", "tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut")


def test_bitcoin_base58check():
    # The genesis block's coinbase address; the P2SH example of the Bitcoin wiki's "Address".
    assert canon("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa") == "btc:1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
    assert canon("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy") == "btc:3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"
    assert "Bitcoin checksum" in reason("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb")  # last char typo
    assert "mistyped" in reason("1a1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")  # case matters in base58


def test_litecoin():
    # BIP-173's witness program under Litecoin's hrp "ltc" (SLIP-173), as in Litecoin's own
    # bech32 tests; L… and M… addresses from public address-validator test suites.
    assert canon("ltc1qw508d6qejxtdg4y5r3zarvary0c5xw7kgmn4n9") == (
        "ltc:ltc1qw508d6qejxtdg4y5r3zarvary0c5xw7kgmn4n9")
    assert canon("LM2WMpR1Rp6j3Sa59cMXMs1SPzj9eXpGc1") == "ltc:LM2WMpR1Rp6j3Sa59cMXMs1SPzj9eXpGc1"
    assert canon("M7zVKQKmtV5Rc7erVGVVC3khZbXxsS5HEX") == "ltc:M7zVKQKmtV5Rc7erVGVVC3khZbXxsS5HEX"
    # Litecoin's legacy P2SH shares Bitcoin's version byte: the label decides.
    assert canon("ltc:3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy") == "ltc:3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"
    assert "Litecoin checksum" in reason("LM2WMpR1Rp6j3Sa59cMXMs1SPzj9eXpGc2")


# EIP-55's own examples (eips.ethereum.org/EIPS/eip-55, "Test Cases").
EIP55 = [
    "0x52908400098527886E0F7030069857D2E4169EE7", "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
    "0xde709f2102306220921060314715629080e2fb77", "0x27b1fdb04752bbc536007a920d24acb045561c26",
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
]


@pytest.mark.parametrize("address", EIP55)
def test_eip55_examples(address):
    assert canon(address) == "evm:" + address.lower()


def test_eip55_checksum_and_display():
    from registry.domain.normalize.crypto_wallet import eip55

    for address in EIP55[4:]:  # the mixed-case ones are their own checksum
        assert "0x" + eip55(address[2:]) == address
    (value,) = KIND.normalize(EIP55[4].lower(), None, False)
    assert value.display == "evm:" + EIP55[4]
    typo = EIP55[4][:-1] + "D"  # one letter's case flipped
    assert "EIP-55" in reason(typo)


def test_every_evm_network_label_gives_one_value():
    a = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    want = "evm:" + a.lower()
    for text in (f"ERC20 {a}", f"BEP20 {a}", f"bep-20: {a}", f"Polygon {a}", f"USDT-ERC20:{a}",
                 f"ethereum:{a}@1", f"ethereum:{a}@56?value=1e18", f"evm:{a}"):
        assert canon(text) == want, text
    # EIP-681's token transfer: the payee is the address parameter, not the token contract.
    assert canon(f"ethereum:0xdac17f958d2ee523a2206206994597c13d831ec7@1/transfer?address={a}"
                 "&uint256=1") == want


# TRON: Tether's USDT-TRC20 token contract, as Tether and TRON's TRC-20 documentation list it.
def test_tron():
    usdt = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
    for text in (usdt, f"USDT-TRC20: {usdt}", f"TRC20 {usdt}", f"usdt trc20 {usdt}",
                 f"tron:{usdt}", f"TRX {usdt}"):
        assert canon(text) == "tron:" + usdt, text
    assert "TRON checksum" in reason("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6T")
    assert "labelled" in reason(f"ERC20 {usdt}")
    assert "labelled both" in reason(f"TRC20 ERC20 {usdt}")


def test_solana_has_no_checksum_so_only_the_length_is_checked():
    # Solana docs: the Token Program and the System Program ids; USDC's mint (Circle's docs).
    for address in ("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA",
                    "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"):
        assert canon(address) == "sol:" + address
    assert canon("sol:11111111111111111111111111111111") == "sol:11111111111111111111111111111111"
    assert "Solana one (32 bytes)" in reason("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5")
    assert "is in no supported address format" in reason("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ50")


# TON documentation, "Smart contract addresses": one account, raw and user-friendly.
TON_RAW = "0:ca6e321c7cce9ecedf0a8ca2492ec8592494aa5fb5ce0387dff96ef6af982a3e"


def test_ton_forms_of_one_account_give_its_raw_form():
    for text in ("EQDKbjIcfM6ezt8KjKJJLshZJJSqX7XOA4ff-W72r5gqPrHF",  # bounceable
                 "UQDKbjIcfM6ezt8KjKJJLshZJJSqX7XOA4ff-W72r5gqPuwA",  # non-bounceable
                 "EQDKbjIcfM6ezt8KjKJJLshZJJSqX7XOA4ff+W72r5gqPrHF",  # base64, not base64url
                 TON_RAW, TON_RAW.upper().replace("0:", "0:", 1), f"TON {TON_RAW}",
                 "ton://transfer/EQDKbjIcfM6ezt8KjKJJLshZJJSqX7XOA4ff-W72r5gqPrHF?amount=1"):
        assert canon(text) == "ton:" + TON_RAW, text
    assert "testnet" in reason("kQDKbjIcfM6ezt8KjKJJLshZJJSqX7XOA4ff-W72r5gqPgpP")
    assert "TON checksum" in reason("EQDKbjIcfM6ezt8KjKJJLshZJJSqX7XOA4ff-W72r5gqPrHG")
    assert "workchain 5" in reason("ton:5:" + TON_RAW[2:])


# Monero: the donation address of the Monero General Fund (getmonero.org); the standard and
# integrated address of monerodocs.org's "Integrated address" page.
XMR_FUND = ("44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3"
            "RVGQBEP3A")
XMR_STANDARD = ("4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852"
                "K5Jv2684Rge")
XMR_INTEGRATED = ("4LL9oSLmtpccfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ"
                  "852K5Jv2bYXZKKQePHES9khPK")

# A subaddress (prefix 42, "8…") from public address-validator test suites.
XMR_SUBADDRESS = ("84EgZVjXKF4d1JkEhZSxm4LQQEx64AvqQEwkvWPtHEb5JMrB1Y86y1vCPSCiXsKzbfS9x8vCpx3gVgPaHCpo"
                  "bPYqQzANTnC")


def test_monero():
    for address in (XMR_FUND, XMR_STANDARD, XMR_INTEGRATED, XMR_SUBADDRESS):
        assert canon(address) == "xmr:" + address
        assert canon(f"monero:{address}?tx_amount=1") == "xmr:" + address
    assert "Monero checksum" in reason(XMR_FUND[:-1] + "B")
    assert "95 or 106" in reason("xmr:" + XMR_FUND[:-1])


def test_every_canonical_value_normalises_to_itself_and_no_existing_kind_claims_it():
    values = [canon(a) for a, *_ in SEGWIT_VALID] + [canon(a) for a in EIP55] + [
        canon(a) for a in ("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", TON_RAW, XMR_INTEGRATED,
                           "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "LM2WMpR1Rp6j3Sa59cMXMs1SPzj9eXpGc1",
                           "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")]
    for value in values:
        assert canon(value) == value
        assert [k.name for k in EXISTING if k.detect(value)] == [], value


def test_wallet_value_takes_a_chain_column():
    assert wallet_value("TRC20", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t").value == (
        "tron:TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t")
    assert wallet_value("USDT-TRC20", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t").value == (
        "tron:TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t")
    with pytest.raises(Invalid, match="unknown chain"):
        wallet_value("dogecoin", "DEA5vGb2NpAwCiCp5yTE16F3DueQUVivQp")


def test_names_that_start_with_a_chain_are_not_labels():
    # Scam domains often start with a chain's name: they stay domains.
    for text in ("btc-exchange.com", "eth-wallet.com", "tron-usdt.net", "ton-connect.app",
                 "bnb-chain.org", "sol_airdrop.xyz", "usdt-trc20.com", "bitcoin.org"):
        assert not KIND.detect(text), text
