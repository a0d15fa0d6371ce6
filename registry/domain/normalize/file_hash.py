"""File hashes: canonical ``md5:HEX``, ``sha1:HEX``, ``sha256:HEX`` (lowercase hex).

The algorithm is named (``sha256:…``, ``SHA-256 …``, ``sha1=…``) or told by the length of
bare hex: 32, 40 or 64 digits exactly. MISP's ``filename|sha256`` attributes give the hash of
a named file: :func:`misp_file_hash`.

Several hashes of one file given together (``sha256:… md5:…``, separated by spaces, commas or
semicolons; what a STIX ``file:hashes`` or a MISP file object holds, see :func:`file_hashes_text`)
are one value: the strongest hash is its value, the others its ``detail``
(strongest first: ``sha1:…,md5:…``), which storage keeps as the indicator's other names so a lookup by any of
them finds it. See docs/design.md ("The money and messaging kinds").
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
    """``algorithm:hex`` (any algorithm: the normaliser names those not kept), bare hex of
    exactly 32, 40 or 64 digits, or several of these (one file's hashes)."""
    if len(s) < 32:  # shorter than an MD5: most feed lines stop here
        return False
    if _LABELLED.fullmatch(s) or _OTHER.match(s):
        return True
    if len(s) in _BY_LENGTH and _HEX.fullmatch(s) is not None:
        return True
    return _parts(s) is not None


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


STRENGTH = ("sha256", "sha1", "md5")  # the first present names the file; others follow in this order


def _one(s: str) -> Value:
    other = _OTHER.match(s)
    if other is not None:
        raise Invalid(f"unsupported hash algorithm {other.group(1)!r} (md5, sha1 or sha256)")
    m = _LABELLED.fullmatch(s)
    return hash_value(m.group(1), m.group(2)) if m else hash_value(None, s)


_ITEM = re.compile(r"\s*(?:(md5|sha-?1|sha-?256|sha-?224|sha-?384|sha-?512)\s*[:=\s]\s*)?([0-9A-Fa-f]+)\s*[,;]?",
                   re.IGNORECASE)


def _parts(s: str) -> list[str] | None:
    """The hashes of ``s`` when it holds several (labelled, or bare of a hash's length; separated
    by spaces, commas or semicolons), else None."""
    pos, parts = 0, []
    while pos < len(s):
        m = _ITEM.match(s, pos)
        if m is None or m.end() == pos or not m.group(1) and len(m.group(2)) not in _BY_LENGTH:
            return None
        parts.append(f"{m.group(1)}:{m.group(2)}" if m.group(1) else m.group(2))
        pos = m.end()
    return parts if len(parts) > 1 else None


def several(values: list[Value]) -> Value:
    """One value for several hashes of one file: the strongest names it, the others are its
    ``detail``; two different hashes of one algorithm are two files, an error."""
    by_name: dict[str, str] = {}
    for value in values:
        name = value.value.partition(":")[0]
        if by_name.setdefault(name, value.value) != value.value:
            raise Invalid(f"two different {name} hashes: several hashes must be of one file")
    names = [name for name in STRENGTH if name in by_name]
    others = ",".join(by_name[name] for name in names[1:])
    return new_value(FILE_HASH, by_name[names[0]], None, None, None, None, others or None)


def normalize_hash(s: str, region: str | None, explicit: bool) -> tuple[Value, ...]:
    parts = _parts(s)
    if parts is None:
        return (_one(s),)
    return (several([_one(part) for part in parts]),)


def file_hashes_text(hashes: dict[str, str]) -> str:
    """The text :func:`normalize_hash` reads for ``{algorithm: hex}`` (a STIX ``hashes``
    dictionary, a MISP file object's hashes): ``md5:… sha256:…``, the algorithms kept only."""
    kept = []
    for algorithm, digest in hashes.items():
        name = algorithm.lower().replace("-", "")
        if name in HEX_DIGITS:
            kept.append(f"{name}:{digest}")
    return " ".join(kept)


def other_hashes(value: Value) -> tuple[str, ...]:
    """The other canonical hashes a file-hash value carries (from several given together)."""
    return tuple(value.detail.split(",")) if value.detail else ()


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
