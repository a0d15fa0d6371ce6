"""File hashes: canonical ``md5:HEX``, ``sha1:HEX``, ``sha256:HEX`` (lowercase hex).

The algorithm is named (``sha256:…``, ``SHA-256 …``, ``sha1=…``) or told by the length of
bare hex: 32, 40 or 64 digits exactly. MISP's ``filename|sha256`` attributes give the hash of
a named file: :func:`misp_file_hash`. See docs/design.md ("Kinds being added (issue 14)").
"""

from __future__ import annotations

import re

from registry.domain.kinds import FILE_HASH, Value, new_value
from registry.domain.normalize.errors import Invalid
from registry.domain.normalize.handlers import Kind

HEX_DIGITS = {"md5": 32, "sha1": 40, "sha256": 64}
_BY_LENGTH = {n: name for name, n in HEX_DIGITS.items()}
_LABELLED = re.compile(r"(md5|sha-?1|sha-?256)\s*[:=\s]\s*(\S+)", re.IGNORECASE)
_OTHER = re.compile(r"(sha-?224|sha-?384|sha-?512|sha3\S*|ssdeep|imphash|tlsh|crc32)\s*[:=\s]",
                    re.IGNORECASE)
_HEX = re.compile(r"[0-9a-fA-F]+")


def looks_hash(s: str) -> bool:
    """``algorithm:hex`` (any algorithm: the normaliser names those not kept), or bare hex of
    exactly 32, 40 or 64 digits."""
    if _LABELLED.fullmatch(s) or _OTHER.match(s):
        return True
    return len(s) in _BY_LENGTH and _HEX.fullmatch(s) is not None


def hash_value(algorithm: str | None, digest: str) -> Value:
    """The canonical value of ``digest``; ``algorithm`` (``md5``, ``sha1``, ``sha256``, any
    case, with or without the hyphen) must agree with its length."""
    digest = digest.strip()
    if not _HEX.fullmatch(digest):
        raise Invalid("a hash is hexadecimal digits only")
    if algorithm is None:
        name = _BY_LENGTH.get(len(digest))
        if name is None:
            raise Invalid(f"{len(digest)} hex digits: md5 has 32, sha1 40, sha256 64")
    else:
        name = algorithm.lower().replace("-", "")
        if name not in HEX_DIGITS:
            raise Invalid(f"unsupported hash algorithm {algorithm!r} (md5, sha1 or sha256)")
        if len(digest) != HEX_DIGITS[name]:
            raise Invalid(f"{name} has {HEX_DIGITS[name]} hex digits, not {len(digest)}")
    return new_value(FILE_HASH, f"{name}:{digest.lower()}", None, None, None, None, None)


def normalize_hash(s: str, region: str | None, explicit: bool) -> tuple[Value, ...]:
    other = _OTHER.match(s)
    if other is not None:
        raise Invalid(f"unsupported hash algorithm {other.group(1)!r} (md5, sha1 or sha256)")
    m = _LABELLED.fullmatch(s)
    return (hash_value(m.group(1), m.group(2)) if m else hash_value(None, s),)


def misp_file_hash(attribute_type: str, value: str) -> tuple[str, Value]:
    """(file name, hash) of a MISP ``filename|md5``/``filename|sha1``/``filename|sha256``
    attribute, whose value is ``NAME|HEX`` (the name may itself hold ``|``)."""
    head, bar, algorithm = attribute_type.partition("|")
    if head != "filename" or not bar:
        raise Invalid(f"not a MISP filename|hash attribute type: {attribute_type!r}")
    name, bar, digest = value.rpartition("|")
    if not bar:
        raise Invalid("a filename|hash value is NAME|HASH")
    return name, hash_value(algorithm, digest)


KIND = Kind(FILE_HASH, "a file hash", looks_hash, normalize_hash)
