"""A roster's cells as record text, and the marker of a row that could not be read.

Shared by the file readers (``bot.roster.reader``) and the table finder (``bot.roster.table``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date

RowValues = dict[str, str | None]
RawRows = Iterator[tuple[int, Sequence[object]]]
#: Whole floats below this hold every digit (a double keeps 15 significant digits).
_EXACT_FLOAT = 1e15


def cell_text(value: object) -> str | None:
    """A cell as record text: dates as dd/mm/yyyy, whole numbers as their digits, "" as None.

    A number Excel stored without its leading zero (a phone, a CCCD) is kept as the digits left:
    ``flows.excel_damage`` puts the zero back where the field and the length make it certain. A
    float past 15 significant digits has lost digits: it is written in scientific notation, as
    Excel shows it, so that it is reported and never read as a number it is not.
    """
    if type(value) is str:  # every CSV cell: the common case first
        return value.strip() or None
    if value is None:
        return None
    if isinstance(value, bool):
        return "Có" if value else "Không"
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < _EXACT_FLOAT else f"{value:.14E}"
    text = str(value).strip()
    return text or None


class Broken(tuple[str]):
    """A CSV row that cannot be read as data (a cell spanning lines, a wrong number of cells):
    in place of its cells, why (Vietnamese, line numbers and counts only, no value)."""


#: The key of ``Roster.records``' dict for a ``Broken`` row (its only key): its reason.
BROKEN = "__broken"


class SheetRow(int):
    """A row number as Excel shows it, with the sheet it is on: an ``int`` everywhere else (the
    importer and the audit count and sort rows), its sheet for the reports."""

    sheet: str

    def __new__(cls, number: int, sheet: str) -> SheetRow:
        row = super().__new__(cls, number)
        row.sheet = sheet
        return row


def sheet_of(row: int) -> str:
    """The sheet a row came from ("" for a CSV file's row)."""
    return getattr(row, "sheet", "")
