"""One value written across several columns of a CSV row or keys of a JSON object.

- a bank column and an account-number column (and a country column, if any) are one
  bank-account: the number is the value, the bank and country cells go along on the
  ``Record`` for normalisation (``bank_account.from_parts``);
- a platform column and a handle column are one user-account: the handle is the value, the
  platform goes along;
- ``md5``, ``sha1`` and ``sha256`` columns (``md5_hash``… as MalwareBazaar names them) are one
  file-hash: their cells become the text ``file_hash.file_hashes_text`` writes, which
  normalises to one value carrying the others.

Names are compared as ``csvheader.column_key`` makes them (JSON keys as written). Which
layout wins over a plain value column is ``csvrows``' and ``jsonl``'s rule (docs/feeds.md,
"Columns").
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from registry.domain.kinds import BANK_ACCOUNT, FILE_HASH, USER_ACCOUNT
from registry.domain.normalize.file_hash import file_hashes_text

BANK_COLUMNS = ("bank", "bank_name", "bank_code", "bic", "swift", "swift_code", "swift_bic", "institution",
                "institution_name", "e_wallet", "ewallet", "wallet_provider")
NUMBER_COLUMNS = ("account_number", "account_no", "account_nr", "acct_no", "acct_number", "bank_account",
                  "bank_account_number", "bank_account_no", "bank_account_nr", "account", "number")
COUNTRY_COLUMNS = ("country", "country_code", "bank_country")
PLATFORM_COLUMNS = ("platform", "account_type", "messenger", "social_media")
HANDLE_COLUMNS = ("handle", "username", "user_name", "account_login", "screen_name", "user_id", "account_id",
                  "account_name", "account")
#: Hash columns → the algorithm (MalwareBazaar writes ``sha256_hash``).
HASH_COLUMNS = {"md5": "md5", "md5_hash": "md5", "sha1": "sha1", "sha_1": "sha1", "sha1_hash": "sha1",
                "sha256": "sha256", "sha_256": "sha256", "sha256_hash": "sha256"}
#: Every name above: a header naming one of them is a header.
PART_COLUMNS = frozenset((*BANK_COLUMNS, *NUMBER_COLUMNS, *COUNTRY_COLUMNS, *PLATFORM_COLUMNS, *HANDLE_COLUMNS,
                          *HASH_COLUMNS))
#: The Record fields a layout fills besides the value.
FIELDS = ("bank", "country", "platform")


@dataclass(frozen=True, slots=True)
class Layout:
    """Which columns (names or positions) make a row's one value."""

    kind: str
    value: str | int | None = None  # the number or handle column; None for hashes
    bank: str | int | None = None
    country: str | int | None = None
    platform: str | int | None = None
    hashes: tuple[tuple[str, str | int], ...] = ()  # (algorithm, column)

    def fields(self) -> tuple[tuple[str, str | int], ...]:
        """(Record field, column) of the parts that go along with the value."""
        return tuple((name, getattr(self, name)) for name in FIELDS if getattr(self, name) is not None)

    def described(self) -> str:
        """The value's columns, for messages."""
        if self.hashes:
            return ", ".join(str(column) for _, column in self.hashes)
        return str(self.value)


def _first(names: tuple[str, ...], keys: Collection[str], but: str | int | None = None) -> str | None:
    return next((name for name in names if name in keys and name != but), None)


def pair_layout(keys: Collection[str], value: str | int | None = None) -> Layout | None:
    """A bank column with an account-number column, or a platform column with a handle column;
    ``value``: the value column when given, which is then the number or handle."""
    bank = _first(BANK_COLUMNS, keys)
    if bank is not None:
        number = value if value is not None else _first(NUMBER_COLUMNS, keys, but=bank)
        if number is not None and number != bank:
            return Layout(BANK_ACCOUNT, number, bank=bank, country=_first(COUNTRY_COLUMNS, keys))
    platform = _first(PLATFORM_COLUMNS, keys)
    if platform is not None:
        handle = value if value is not None else _first(HANDLE_COLUMNS, keys, but=platform)
        if handle is not None and handle != platform:
            return Layout(USER_ACCOUNT, handle, platform=platform)
    return None


def hash_layout(keys: Collection[str]) -> Layout | None:
    """Hash columns, in the order ``keys`` gives them (one per algorithm)."""
    hashes: dict[str, str] = {}
    for key in keys:
        algorithm = HASH_COLUMNS.get(key)
        if algorithm is not None:
            hashes.setdefault(algorithm, key)
    if not hashes:
        return None
    return Layout(FILE_HASH, hashes=tuple((algorithm, key) for algorithm, key in hashes.items()))


def hashes_value(layout: Layout, cell: Callable[[str | int], str | None]) -> str:
    """The text of a row's hashes (``cell(column)`` gives a cell, None when empty); "" when none."""
    return file_hashes_text({algorithm: text for algorithm, column in layout.hashes
                             if (text := cell(column))})
