"""The one cell writer for every CSV and XLSX file the project writes: no cell is a live formula.

Spreadsheet programs run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, once the
cell is trimmed, one that starts with a tab or a carriage return) as a formula: a value typed in
chat as ``=HYPERLINK("http://x","y")`` would become a link in the school's Excel (OWASP, "CSV
Injection"). Such text gets a single quote in front, as OWASP advises: the value stays readable
(the quote shows as a quote) and no program runs it. The full-width forms (``＝``, ``＋``,
``－``, ``＠``) that East Asian Excel also takes as operators are treated alike.

One exception, on purpose: a plain signed number (``-5``, ``+84912345678``, ``-1.5``) keeps
its sign as it is. It has no name to call, no reference and no ``|`` (what a formula needs to do
harm), so it runs nothing; a quote in front would only change the value the central database's
importer receives (the export CSV carries values exactly as approved). ``-1+1`` is no plain
number and gets its quote.

XLSX cells also lose the control characters the format forbids (before the check, so that
``"\\x01=1"`` cannot turn into a formula once cleaned); a CSV keeps them, it can hold them.

>>> csv_cell('=HYPERLINK("http://x","y")')
'\\'=HYPERLINK("http://x","y")'
>>> csv_cell("-1+1"), csv_cell("-12"), csv_cell("Nguyễn Văn A")
("'-1+1", '-12', 'Nguyễn Văn A')
>>> xlsx_cell("\\x01@SUM(A1)")
"'@SUM(A1)"
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: What a formula can start with (OWASP's list plus the full-width operators).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
#: The same as a regular expression for polars (Rust's regex: no look-ahead, hence two).
FORMULA_RE = r"^[=+\-@\t\r\uff1d\uff0b\uff0d\uff20]"
#: A plain signed number: left as it is (see the module's docstring).
PLAIN_NUMBER_RE = r"^[+-][0-9]+(?:[.,][0-9]+)?$"
#: ``openpyxl.cell.cell.ILLEGAL_CHARACTERS_RE``: C0 controls but tab, line feed, return
#: (``tests/test_cells.py`` checks the two agree).
ILLEGAL_XLSX_RE = r"[\x00-\x08\x0B\x0C\x0E-\x1F]"
QUOTE = "'"

_PLAIN_NUMBER = re.compile(PLAIN_NUMBER_RE)
_ILLEGAL = re.compile(ILLEGAL_XLSX_RE)


def csv_cell(text: str) -> str:
    """``text`` as a CSV cell: a quote in front if a spreadsheet would run it."""
    if text.startswith(FORMULA_START) and not _PLAIN_NUMBER.match(text):
        return QUOTE + text
    return text


def xlsx_cell(text: str) -> str:
    """``text`` as an XLSX text cell: forbidden characters dropped, then ``csv_cell``."""
    return csv_cell(_ILLEGAL.sub("", text))


def csv_row(cells: Iterable[object]) -> list[object]:
    """A row for ``csv.writer``: every text cell through ``csv_cell``; numbers, None as given."""
    return [csv_cell(c) if isinstance(c, str) else c for c in cells]


def xlsx_row(cells: Iterable[object]) -> list[object]:
    """A row for an openpyxl sheet: every text cell through ``xlsx_cell``."""
    return [xlsx_cell(c) if isinstance(c, str) else c for c in cells]
