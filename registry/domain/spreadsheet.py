"""Cells a spreadsheet would compute, made inert, and the exact value read back.

Excel, LibreOffice and Google Sheets evaluate a CSV cell that starts with ``=``, ``+``, ``-`` or
``@`` as a formula (``=2*3+cmd|x!A0@evil.example`` is a valid e-mail local part, and every E.164
phone number starts with ``+``); a leading tab or carriage return hides such a start. Following
OWASP's CSV-injection advice, ``guard`` puts a single quote before such a cell, which
spreadsheets show as text. Also guarded:

- the full-width forms ``＝ ＋ － ＠`` (U+FF1D, U+FF0B, U+FF0D, U+FF20), which East Asian input
  methods type and some spreadsheet locales take as the ASCII signs;
- a line feed, the other line break a cell may start with;
- a cell already starting with ``'``, so that ``unguard`` can drop exactly one leading quote
  from every cell that has one and give back the value as it was (``'=x`` → ``''=x`` → ``'=x``).

Leading spaces are not looked through: no registry value or label starts with one.
"""

from __future__ import annotations

QUOTE = "'"
FORMULA_STARTS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
GUARDED_STARTS = FORMULA_STARTS | {QUOTE}


def guard(cell: str) -> str:
    """``cell`` as a spreadsheet shows it without computing anything."""
    return QUOTE + cell if cell[:1] in GUARDED_STARTS else cell


def unguard(cell: str) -> str:
    """The value ``guard`` was given (for cells written by ``guard`` only)."""
    return cell[1:] if cell[:1] == QUOTE else cell
