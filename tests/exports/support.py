"""Shared by the export tests: a seeded registry through the real submit path, and exports read
back as their consumers read them."""

from __future__ import annotations

from datetime import timedelta

from registry.domain.normalize import normalize_one
from registry.domain.times import utcnow
from registry.domain.tlp import Viewer
from registry.services import exports
from registry.services.orgs import add_org
from registry.services.submit import Provenance, Submission, Submitter

XMR = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"
# ccib-th's reports (TLP:AMBER, confidence 70, label phishing) and spamhaus' (TLP:CLEAR, 90, spam).
CCIB = [
    "45.77.10.0/25", "45.77.10.128/25", "45.77.10.9",  # adjacent halves of a /24, and an address inside
    "45.77.12.1", "45.77.12.2", "45.77.12.3",  # three neighbours: .1/32 and .2/31
    "2a01:4f8::/33", "2a01:4f8:8000::/33", "2a01:4f9::1",  # adjacent halves of a /32, and a host
    "evil-export.example", "login.bank-export.example", "bücher-export.example",
    "+66812345678", "+85597123*",
    "http://evil-export.example/pay", "scam@evil-export.example",
    # the kinds of issue 14: a mule account, an IBAN, a phone-keyed e-wallet; TRON, Bitcoin and Monero
    # wallets; Telegram and X accounts; an MD5 and a SHA-256
    "KBank 123-4-56789-0", "GB82 WEST 1234 5698 7654 32", "TrueMoney 081 234 5678",
    "USDT-TRC20: TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
    XMR,
    "t.me/kbank_support_th", "x:scam_export",
    "d41d8cd98f00b204e9800998ecf8427e", "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
]
SPAMHAUS = ["45.77.10.0/25", "91.92.0.0/16"]
EXPIRED = "expired-export.example"  # ccib-th's, valid until two days ago
ALLOWLISTED = "8.8.8.8"  # a public resolver: on the built-in allowlist
# What the operator's default export lists: canonical values, neither the expired nor the allowlisted one.
LISTED = sorted({normalize_one(v).value for v in CCIB + SPAMHAUS})


def seed(db, *, orgs: bool = True) -> None:
    """ccib-th's and spamhaus' reports; ``orgs`` False when ccib-th exists already."""
    if orgs:
        add_org(db, "ccib-th", "Royal Thai Police CCIB", "TH")
    add_org(db, "spamhaus", "The Spamhaus Project", None)
    with db.write() as conn:
        ccib = Submitter(conn, Provenance(org="ccib-th", tlp="amber", confidence=70, labels=("phishing",)))
        for value in CCIB:
            ccib.add(Submission(value))
        ccib.add(Submission(EXPIRED, valid_until=utcnow() - timedelta(days=2)))
        ccib.add(Submission(ALLOWLISTED))
        report = ccib.finish()
        assert (report.new, report.allowlisted) == (len(CCIB) + 1, 1), report.to_dict()
        spamhaus = Submitter(conn, Provenance(org="spamhaus", feed="spamhaus-drop", tlp="clear", confidence=90,
                                              labels=("spam",)))
        for value in SPAMHAUS:
            spamhaus.add(Submission(value))
        spamhaus.finish()


def export_bytes(db, fmt: str, viewer: Viewer | None = None, **args) -> bytes:
    with db.read() as conn:
        return b"".join(exports.stream(conn, viewer or Viewer.operator(), fmt, exports.ExportQuery.parse(args)))


def lines(db, fmt: str, viewer: Viewer | None = None, **args) -> list[str]:
    return export_bytes(db, fmt, viewer, **args).decode().splitlines()
