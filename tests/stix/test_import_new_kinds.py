"""Importing the new kinds from the STIX other producers write: OpenCTI's indicators and
observables (bank-account, cryptocurrency-wallet, user-account, file with several hashes) and
MISP's STIX 2.1 export (misp-stix: file objects, filename|sha256, telegram, facebook and twitter
accounts). What the registry cannot hold is rejected with its reason; the rest lands."""

from __future__ import annotations

from sqlalchemy import text

from registry.services.orgs import add_org
from registry.services.stix_import import import_bundle
from tests.stix.support import STAMP, exported, of_type

MD5, SHA1 = "8764605c6f388c89096b534d33565802", "46aba99aa7158e4609aaa72b50990842fd22ae86"
SHA256 = "ec5aedf5ecc6bdadd4120932170d1b10f6cfa175cfda22951dfd882928ab279b"
SHA512 = "ab" * 64
OCTI_SCO = "extension-definition--f93e2c80-4231-4f9a-af8b-95c9bd566a82"  # OpenCTI's new-sco extension
OCTI = "extension-definition--ea279b3e-5c71-4632-ac08-831c66a786ba"
MISP_IDENTITY = "identity--a0c22599-9e58-4da4-96ac-7051603fa951"


def stored(db) -> dict[str, str]:
    """Kind by value of the stored indicators (a file's other hashes are storage's business: one
    file is one indicator, named by its strongest hash)."""
    with db.read() as conn:
        return {r.value: r.kind for r in conn.execute(text("SELECT kind, value FROM indicator"))}


def indicator(n: int, pattern: str, **extra) -> dict:
    return {"type": "indicator", "spec_version": "2.1", "id": f"indicator--7{n:07d}-0000-4000-8000-000000000000",
            "created": STAMP, "modified": STAMP, "valid_from": STAMP, "pattern_type": "stix", "pattern_version": "2.1",
            "pattern": pattern, **extra}


def octi(sco_type: str, n: int, **properties) -> dict:
    """An observable as OpenCTI's STIX export writes it (its own extensions beside the properties)."""
    return {"type": sco_type, "spec_version": "2.1", "id": f"{sco_type}--8{n:07d}-0000-4000-8000-000000000000",
            **properties, "extensions": {OCTI: {"extension_type": "property-extension", "score": 80},
                                         OCTI_SCO: {"extension_type": "new-sco"}}}


def test_opencti_indicators_of_the_new_kinds(db):
    add_org(db, "ccib-th", "Thai CCIB", "TH")
    objects = [
        indicator(1, "[bank-account:iban = 'GB29NWBK60161331926819']"),
        indicator(2, "[cryptocurrency-wallet:value = 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t']"),
        indicator(3, f"[file:hashes.'SHA-256' = '{SHA256}' OR file:hashes.'SHA-512' = '{SHA512}' "
                     f"OR file:hashes.'SHA-1' = '{SHA1}' OR file:hashes.MD5 = '{MD5}']"),
        indicator(4, "[user-account:account_login = 'kbank_support_th']"),  # no platform: OpenCTI writes none
        octi("bank-account", 1, iban="GB29NWBK60161331926819", bic="NWBKGB2L"),  # beside indicators: context
    ]
    report = import_bundle(db, objects, default_org="ccib-th")
    assert (report.read, report.new, report.rejected) == (3, 3, 1)
    assert [r.reason for r in report.rejects] == ["a user-account without account_type names no platform"]
    assert report.skipped == {"bank-account": 1}
    assert stored(db) == {
        "acct:GB:NWBK:NWBK60161331926819": "bank-account",
        "tron:TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t": "crypto-wallet",
        f"sha256:{SHA256}": "file-hash",  # one file, named by its strongest hash
    }
    ids = {r["id"]: r.get("new_id") for r in report.results if r["status"] == "new"}
    assert ids == {indicator(n, "")["id"]: None for n in (1, 2, 3)}  # one value each: their own ids kept
    out = {o["id"]: o for o in of_type(exported(db), "indicator")}
    assert out[indicator(2, "")["id"]]["pattern"] == "[cryptocurrency-wallet:value = 'tron:TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t']"


def test_opencti_observables_of_the_new_kinds(db):
    add_org(db, "ccib-th", "Thai CCIB", "TH")
    objects = [
        octi("bank-account", 1, iban="GB29NWBK60161331926819", bic="NWBKGB2L", account_number="31926819"),
        octi("bank-account", 2, account_number="123-4-56789-0", bic="KASITHBK"),  # no IBAN in Thailand
        octi("bank-account", 3, account_number="1234567890"),  # nothing but digits: the source's country
        octi("cryptocurrency-wallet", 4, value="0x52908400098527886E0F7030069857D2E4169EE7"),
        octi("user-account", 5, account_type="telegram", account_login="@KBank_Support_TH"),
        octi("file", 6, hashes={"MD5": MD5, "SHA-256": SHA256, "SHA-512": SHA512}, name="kbank.apk"),
        octi("bank-account", 7, bic="KASITHBK"),
        octi("user-account", 8, account_type="skype", account_login="scammer"),
    ]
    rejects = []
    report = import_bundle(db, objects, default_org="ccib-th", on_reject=rejects.append)
    assert stored(db) == {
        "acct:GB:NWBK:NWBK60161331926819": "bank-account",
        "acct:TH:KASI:1234567890": "bank-account",
        "acct:TH:-:1234567890": "bank-account",
        "evm:0x52908400098527886e0f7030069857d2e4169ee7": "crypto-wallet",
        "telegram:kbank_support_th": "user-account",
        f"sha256:{SHA256}": "file-hash",
    }
    assert [(r.line_no, r.reason) for r in rejects] == [
        (objects[6]["id"], "a bank-account without value, iban or account_number"),
        (objects[7]["id"], "a user-account of account_type 'skype': not a platform the registry keeps (telegram, "
                           "line, whatsapp, facebook, instagram, tiktok, x, wechat, zalo, viber, signal)"),
    ]
    statuses = {r["id"]: r["status"] for r in report.results}
    assert statuses == {o["id"]: "new" if i < 6 else "rejected" for i, o in enumerate(objects)}


def test_what_the_kinds_reject_is_said_with_the_value(db):
    add_org(db, "ccib-th", "Thai CCIB", "TH")
    objects = [
        indicator(1, "[cryptocurrency-wallet:value = 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6x']"),  # checksum broken
        indicator(2, "[file:hashes.MD5 = 'abc']"),
        indicator(3, "[user-account:account_type = 'telegram' AND user-account:account_login = 'ab']"),
        indicator(4, "[bank-account:value = 'acct:TH:ZZZZZ:1234567890']"),
        indicator(5, "[domain-name:value = 'still-lands.example']"),
    ]
    rejects = []
    report = import_bundle(db, objects, default_org="ccib-th", on_reject=rejects.append)
    assert report.new == 1 and report.rejected == 4
    reasons = {r.line_no.split("--")[1][:8]: r.reason for r in rejects}
    assert reasons == {  # the value, the kind tried and the reason
        "70000001": "'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6x' is not a valid crypto-wallet: TRON checksum does not match "
                    "(a mistyped address?)",
        "70000002": "'md5:abc' is not a valid file-hash: md5 has 32 hex digits, not 3",
        "70000003": "'telegram:ab' is not a valid user-account: a Telegram username has 5 to 32 letters, digits or "
                    "underscores, starting with a letter",
        "70000004": "'acct:TH:ZZZZZ:1234567890' is not a valid bank-account: unknown bank code ZZZZZ in TH",
    }


def test_misp_stix21_export_of_files_and_accounts(db):
    """As misp-stix writes MISP objects and attributes: indicators beside observed-data."""
    add_org(db, "ccib-th", "Thai CCIB", "TH")
    misp = {"created_by_ref": MISP_IDENTITY, "labels": ['misp:name="file"', 'misp:meta-category="file"']}
    objects = [
        {"type": "identity", "spec_version": "2.1", "id": MISP_IDENTITY, "created": STAMP, "modified": STAMP,
         "name": "MISP-Project", "identity_class": "organization"},
        indicator(1, f"[file:hashes.MD5 = '{MD5}' AND file:hashes.'SHA-1' = '{SHA1}' AND file:hashes.'SHA-256' = "
                     f"'{SHA256}' AND file:name = 'oui' AND (file:content_ref.payload_bin = 'UEsDBAoACQAAAAaOU1Ev' "
                     f"AND file:content_ref.x_misp_filename = 'oui' AND file:content_ref.hashes.MD5 = '{MD5}' "
                     "AND file:content_ref.mime_type = 'application/zip')]", **misp),
        indicator(2, "[file:name = 'filename4' AND file:hashes.'SHA-256' = "
                     "'7fa3abc229fd3cb9a0a6f07d9da15e35528c630d0ad5902d5422b305cae7eaa4']", **misp),
        indicator(3, "[user-account:account_type = 'telegram' AND user-account:user_id = '1234567890' AND "
                     "user-account:account_login = 'T3l3gr4mUs3r' AND user-account:x_misp_phone = '0112233445']", **misp),
        indicator(4, "[user-account:account_type = 'facebook' AND user-account:user_id = '1392781243']", **misp),
        indicator(5, "[user-account:account_type = 'twitter' AND user-account:user_id = '1357111317']", **misp),
        indicator(6, "[user-account:account_type = 'github' AND user-account:account_login = 'chrisr3d']", **misp),
    ]
    rejects = []
    report = import_bundle(db, objects, on_reject=rejects.append)
    assert report.orgs == [{"identity": MISP_IDENTITY, "name": "MISP-Project", "org": "misp-project",
                            "match": "created"}]
    assert stored(db) == {
        f"sha256:{SHA256}": "file-hash",
        "sha256:7fa3abc229fd3cb9a0a6f07d9da15e35528c630d0ad5902d5422b305cae7eaa4": "file-hash",
        "telegram:t3l3gr4mus3r": "user-account",
        "facebook:1392781243": "user-account",
    }
    assert [r.reason for r in rejects] == [
        "a user_id on x is the platform's own number for the account; the registry keeps its login (account_login)",
        "a user-account of account_type 'github': not a platform the registry keeps (telegram, line, whatsapp, "
        "facebook, instagram, tiktok, x, wechat, zalo, viber, signal)",
    ]


def test_misp_observed_data_of_a_file_and_an_account(db):
    add_org(db, "ccib-th", "Thai CCIB", "TH")
    objects = [
        {"type": "observed-data", "spec_version": "2.1", "id": "observed-data--5e384ae7-672c-4250-9cda-3b4da964451a",
         "created": STAMP, "modified": STAMP, "first_observed": "2026-10-25T16:22:00Z",
         "last_observed": "2026-10-25T16:22:00Z", "number_observed": 1,
         "object_refs": ["file--5e384ae7-672c-4250-9cda-3b4da964451a", "user-account--7ecc4537-89cd-4f17-8027-6e0f70710c53"]},
        {"type": "file", "spec_version": "2.1", "id": "file--5e384ae7-672c-4250-9cda-3b4da964451a",
         "hashes": {"MD5": MD5, "SHA-1": SHA1, "SHA-256": SHA256}, "size": 35, "name": "oui"},
        {"type": "user-account", "spec_version": "2.1", "id": "user-account--7ecc4537-89cd-4f17-8027-6e0f70710c53",
         "user_id": "1234567890", "account_login": "T3l3gr4mUs3r", "account_type": "telegram",
         "x_misp_phone": ["0112233445", "0556677889"]},
    ]
    report = import_bundle(db, objects, default_org="ccib-th")
    assert (report.new, report.rejected) == (2, 0)
    assert stored(db) == {f"sha256:{SHA256}": "file-hash",
                          "telegram:t3l3gr4mus3r": "user-account"}
    with db.read() as conn:  # the observation's time is when it was first seen
        assert {str(r[0])[:10] for r in conn.execute(text("SELECT first_seen FROM assertion"))} == {"2026-10-25"}


def misp_custom(n: int, object_type: str, **properties) -> dict:
    return {"type": object_type, "spec_version": "2.1", "id": f"{object_type}--9{n:07d}-0000-4000-8000-000000000000",
            "created_by_ref": MISP_IDENTITY, "created": "2026-10-25T16:22:00.000Z", "modified": STAMP,
            "labels": ['misp:category="Financial fraud"'], **properties}


def test_misp_custom_objects_of_bank_accounts_and_coin_addresses(db):
    """MISP's STIX export has no type for these: its own x-misp-attribute and x-misp-object."""
    add_org(db, "ccib-th", "Thai CCIB", "TH")
    add_org(db, "misp-project", "MISP-Project", "LU")
    objects = [
        {"type": "identity", "spec_version": "2.1", "id": MISP_IDENTITY, "created": STAMP, "modified": STAMP,
         "name": "MISP-Project", "identity_class": "organization"},
        indicator(1, "[domain-name:value = 'beside.example']", created_by_ref=MISP_IDENTITY),
        misp_custom(1, "x-misp-attribute", x_misp_type="btc", x_misp_value="1E38kt7ryhbRXUzbam6iQ6sd93VHUUdjEE"),
        misp_custom(2, "x-misp-attribute", x_misp_type="iban", x_misp_value="GB29 NWBK 6016 1331 9268 19"),
        misp_custom(3, "x-misp-attribute", x_misp_type="comment", x_misp_value="not a value"),
        misp_custom(4, "x-misp-object", x_misp_name="bank-account", x_misp_attributes=[
            {"object_relation": "swift", "type": "bic", "value": "KASITHBK"},
            {"object_relation": "account", "type": "bank-account-nr", "value": "123-4-56789-0", "to_ids": True},
            {"object_relation": "beneficiary", "type": "text", "value": "John Smith"}]),
        misp_custom(5, "x-misp-object", x_misp_name="coin-address", x_misp_attributes=[
            {"object_relation": "address", "type": "btc", "value": "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"},
            {"object_relation": "symbol", "type": "text", "value": "USDT-TRC20"}]),
        misp_custom(6, "x-misp-object", x_misp_name="btc-wallet", x_misp_attributes=[
            {"object_relation": "wallet-address", "type": "btc", "value": "1E38kt7ryhbRXUzbam6iQ6sd93VHUUdjEX"},
            {"object_relation": "balance_BTC", "type": "float", "value": "2.25036953"}]),
    ]
    rejects = []
    report = import_bundle(db, objects, on_reject=rejects.append)
    assert stored(db) == {
        "beside.example": "domain",
        "btc:1E38kt7ryhbRXUzbam6iQ6sd93VHUUdjEE": "crypto-wallet",
        "acct:GB:NWBK:NWBK60161331926819": "bank-account",
        "acct:TH:KASI:1234567890": "bank-account",
        "tron:TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t": "crypto-wallet",
    }
    assert [(r.line_no, r.reason) for r in rejects] == [(objects[7]["id"], "'1E38kt7ryhbRXUzbam6iQ6sd93VHUUdjEX' is "
                                                         "not a valid crypto-wallet: Bitcoin checksum does not match "
                                                         "(a mistyped address?)")]
    assert report.skipped == {"x-misp-attribute": 1}
    with db.read() as conn:  # the MISP org's, since when MISP has it
        rows = conn.execute(text("SELECT DISTINCT o.slug, a.first_seen FROM assertion a JOIN organization o "
                                 "ON o.id = a.org_id JOIN indicator i ON i.id = a.indicator_id "
                                 "WHERE i.kind <> 'domain'")).all()
    assert [(slug, str(first)[:10]) for slug, first in rows] == [("misp-project", "2026-10-25")]
