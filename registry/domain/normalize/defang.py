"""Undoing defanged notation and stripping what wraps one value (``refang``)."""

from __future__ import annotations

import re

# Invisible characters dropped anywhere; odd spaces turned into plain spaces.
_INVISIBLE = "\ufeff\u200b\u200c\u200d\u2060\u00ad\u180e\u200e\u200f"
_ODD_SPACES = "\u00a0\u2007\u202f\u3000\u2002\u2003\u2009"
_TRANSLATE = {**dict.fromkeys(map(ord, _INVISIBLE)), **dict.fromkeys(map(ord, _ODD_SPACES), " ")}
_PAIRS = {
    '"': '"',
    "'": "'",
    "`": "`",
    "<": ">",
    "\u201c": "\u201d",
    "\u2018": "\u2019",
    "\u00ab": "\u00bb",
}

_DEFANG_RE = re.compile(
    r"\s*(?P<dot>\[\s*(?:\.|dot)\s*\]|\(\s*(?:\.|dot)\s*\)|\{\s*(?:\.|dot)\s*\})\s*"
    r"|(?P<css>\[://\])"
    r"|(?P<colon>\[:\])"
    r"|\s*(?P<at>\[\s*(?:@|at)\s*\]|\(\s*(?:@|at)\s*\)|\{\s*(?:@|at)\s*\})\s*"
    r"|(?P<slash>\[/\])",
    re.IGNORECASE,
)
_DEFANG_TO = {"dot": ".", "css": "://", "colon": ":", "at": "@", "slash": "/"}
_SCHEME_DEFANG_RE = re.compile(r"\b(?:h(?:xx|xt|tx)p(s?)|(f)xp)(?=:)", re.IGNORECASE)


def _defang_sub(m: re.Match) -> str:
    return _DEFANG_TO[m.lastgroup]


def _scheme_sub(m: re.Match) -> str:
    return "ftp" if m.group(2) else "http" + m.group(1).lower()


def refang(text: str) -> str:
    """Undo common defanging and strip the wrapping around one value.

    ``hxxp``/``hxxps``/``fxp`` schemes, ``[.]`` ``(.)`` ``{.}`` ``[dot]``, ``[:]``,
    ``[://]``, ``[@]`` ``[at]``, ``[/]``; BOM and zero-width characters; surrounding
    whitespace, quotes and ``<>``.
    """
    if not text.isascii():
        text = text.translate(_TRANSLATE)
    s = text.strip()
    while len(s) >= 2 and _PAIRS.get(s[0]) == s[-1]:
        s = s[1:-1].strip()
    if "[" in s or "(" in s or "{" in s:
        s = _DEFANG_RE.sub(_defang_sub, s)
    if ":" in s and ("xp" in s or "XP" in s or "Xp" in s or "xP" in s):
        s = _SCHEME_DEFANG_RE.sub(_scheme_sub, s)
    return s
