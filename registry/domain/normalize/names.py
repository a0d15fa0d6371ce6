"""Domain names, as the domain, URL and email kinds share them: :func:`canon_domain`.

A plain ASCII name is checked by one regex (``LDH``); ``idna`` is reached only for
internationalised names and ``xn--`` labels.
"""

from __future__ import annotations

import re

import idna

from registry.domain.normalize.errors import Invalid

# Non-TLD labels may hold underscores (``_dmarc``); the TLD may not, nor be all digits.
LDH = re.compile(
    r"(?:[a-z0-9_](?:[a-z0-9_\-]{0,61}[a-z0-9_])?\.)+[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?"
)
# Bound once for the package's fast path: Python 3.11 looks a method of an imported name up
# anew on every call.
is_ldh_name = LDH.fullmatch
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_\-]{0,61}[a-z0-9_])?")
_BAD_LABEL_CHAR = re.compile(r"[^a-z0-9_\-]")
_IDN_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})


def _label_reason(label: str) -> str:
    if not label:
        return "empty label (leading, trailing or doubled dot)"
    if len(label) > 63:
        return f"label {label[:20]}... is longer than 63 characters"
    bad = _BAD_LABEL_CHAR.search(label)
    if bad:
        if bad.group() == "*":
            return "wildcards are not accepted"
        return f"invalid character {bad.group()!r} in label {label!r}"
    return f"label {label!r} starts or ends with a hyphen"


def _check_labels(labels: list[str], a_name: str) -> None:
    """Whole-name rules shared by the ASCII and IDN paths (labels already valid)."""
    if len(labels) < 2:
        raise Invalid("needs at least two labels (no dot)")
    if len(a_name) > 253:
        raise Invalid("longer than 253 characters")
    tld = labels[-1]
    if tld.isdigit():
        raise Invalid(f"top-level label {tld!r} is all-numeric")
    if "_" in tld:
        raise Invalid(f"underscore in the top-level label {tld!r}")


def _domain_reason(h: str) -> str:
    labels = h.split(".")
    for label in labels:
        if not _LABEL.fullmatch(label):
            return _label_reason(label)
    try:
        _check_labels(labels, h)
    except Invalid as e:
        return e.reason
    return "not a valid domain"  # pragma: no cover


def _canon_idn(host: str) -> tuple[str, str | None]:
    try:
        if host.isascii():
            mapped = host.lower()
        else:
            mapped = idna.uts46_remap(
                host.translate(_IDN_DOTS), std3_rules=False, transitional=False
            )
    except idna.IDNAError as e:
        raise Invalid(f"invalid internationalised name ({e})") from None
    if mapped.endswith("."):
        mapped = mapped[:-1]
    labels = mapped.split(".")
    a_labels: list[str] = []
    u_labels: list[str] = []
    for label in labels:
        if label.isascii():
            if label.startswith("xn--"):
                try:
                    u_labels.append(idna.ulabel(label))
                except (idna.IDNAError, UnicodeError) as e:
                    raise Invalid(f"label {label!r} is not valid punycode ({e})") from None
            elif _LABEL.fullmatch(label):
                u_labels.append(label)
            else:
                raise Invalid(_label_reason(label))
            a_labels.append(label)
        else:
            try:
                a_labels.append(idna.alabel(label).decode("ascii"))
            except (idna.IDNAError, UnicodeError) as e:
                raise Invalid(f"label {label!r} is not a valid IDNA 2008 label ({e})") from None
            u_labels.append(label)
    a_name = ".".join(a_labels)
    _check_labels(a_labels, a_name)
    u_name = ".".join(u_labels)
    return a_name, (u_name if u_name != a_name else None)


def canon_domain(host: str) -> tuple[str, str | None]:
    """(lowercase A-label name, Unicode form or None); ``host`` has no port."""
    if host.isascii():
        h = host.lower()
        if h[-1:] == ".":
            h = h[:-1]
        if "xn--" not in h:  # fast path: no idna
            if len(h) <= 253 and LDH.fullmatch(h) and not h[h.rfind(".") + 1 :].isdigit():
                return h, None
            raise Invalid(_domain_reason(h))
    return _canon_idn(host)
