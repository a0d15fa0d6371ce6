"""The signed audit checkpoint over HTTP (a real `registry serve`, SQLite and PostgreSQL): any
member key reads the newest, its signature verifies under the published public key with
`cryptography` and with openssl given the documented byte string, and `registry audit verify`
accepts it as a member would keep it."""

from __future__ import annotations

import json
import shutil
import subprocess

import requests
from cryptography.hazmat.primitives import serialization

from tests.web.conftest import REGISTRY


def _registry(server, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(REGISTRY), *args], env=server.env, capture_output=True, text=True, timeout=120)


def test_the_served_checkpoint_verifies(server, tmp_path):
    missing = server.get("/-/audit/checkpoint", "pdrm-reader")
    assert missing.status_code == 404 and "registry audit checkpoint" in missing.json()["error"]["message"]
    assert server.get("/-/audit/checkpoint").status_code == 401  # members only

    published = requests.get(server.url + "/-/audit/public-key", timeout=30)  # no key needed
    assert published.status_code == 200
    public = published.json()
    assert public["algorithm"] == "Ed25519" and len(public["public_key"]) == 64

    server.get("/api/v1/lookup?value=203.0.113.9", "ccib-reader")  # an audited request to sign over
    taken = _registry(server, "audit", "checkpoint", "--json")
    assert taken.returncode == 0, taken.stderr
    served = server.get("/-/audit/checkpoint", "bank-green")  # the lowest key there is
    assert served.status_code == 200 and served.headers["Content-Type"] == "application/json"
    checkpoint = served.json()
    assert checkpoint == json.loads(taken.stdout) and checkpoint["seq"] > 0
    assert checkpoint["public_key"] == public["public_key"]  # the server and the command share the key

    key = serialization.load_pem_public_key(public["public_key_pem"].encode())
    key.verify(bytes.fromhex(checkpoint["signature"]), checkpoint["signed"].encode("ascii"))  # raises if forged
    assert checkpoint["signed"] == (f"registry-audit-checkpoint-v1\nseq={checkpoint['seq']}\n"
                                    f"hash={checkpoint['hash']}\ntime={checkpoint['time']}\n")

    kept = tmp_path / "checkpoint.json"
    kept.write_bytes(served.content)
    pem = tmp_path / "registry-audit.pem"
    pem.write_text(public["public_key_pem"])
    verified = _registry(server, "audit", "verify", "--checkpoint", str(kept), "--public-key", str(pem))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"OK: checkpoint {kept} (row {checkpoint['seq']}," in verified.stdout

    openssl = shutil.which("openssl")
    if openssl:  # docs/security.md's recipe, with the files a member would write
        (tmp_path / "signed.txt").write_text(checkpoint["signed"], newline="")
        (tmp_path / "signature.bin").write_bytes(bytes.fromhex(checkpoint["signature"]))

        def openssl_verify(message: str) -> subprocess.CompletedProcess:
            return subprocess.run([openssl, "pkeyutl", "-verify", "-pubin", "-inkey", str(pem), "-rawin",
                                   "-in", str(tmp_path / message), "-sigfile", str(tmp_path / "signature.bin")],
                                  capture_output=True, text=True, timeout=30)

        assert openssl_verify("signed.txt").returncode == 0
        (tmp_path / "forged.txt").write_text(checkpoint["signed"].replace(f"seq={checkpoint['seq']}", f"seq={checkpoint['seq'] + 1}"), newline="")
        assert openssl_verify("forged.txt").returncode != 0
