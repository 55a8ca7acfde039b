"""No file the project writes holds a live formula (issue 17, item 3).

Every writer (the export batch, ``hoso review show --out``, the audit and import reports, the
school report workbook, the invitation sheet) is run with hostile text in a free-text field; each
output is opened again (``csv``, openpyxl) and no cell may start with a formula character.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl  # type: ignore[import-untyped]
import polars as pl
import pytest

from bot.audit.roster_audit import TableWriter
from bot.cli.review import write_values
from bot.config.settings import CatalogueSettings
from bot.engine.reference import load_reference
from bot.export.sinks.files import FileSink
from bot.export.sinks.layout import Change, ExportItem
from bot.identity.invite import CsvSlipWriter, Slip
from bot.reports.dups import SharedIdRecord
from bot.reports.xlsx import ReportWorkbook
from bot.sheets.cells import FORMULA_START, ILLEGAL_XLSX_RE, csv_cell, xlsx_cell
from flows.report import MissingField, ReportSummary, RowSummary, Tally
from storage.repos.review import ReviewChange, ReviewItem

REFERENCE = load_reference(CatalogueSettings())
HOSTILE = ['=HYPERLINK("http://x","y")', "+1+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1", "=1+1",
           "\uff1dSUM(A1)", "\x01=1", "-2+3*cmd|' /C calc'!A0"]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+1+1", "'+1+1"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("\uff1d1", "'\uff1d1"),
        ("-", "'-"),
        ("+84 912 345 678", "'+84 912 345 678"),  # a space: Excel's intersection operator
        ("-5", "-5"),  # a plain signed number runs nothing and stays the approved value
        ("+84912345678", "+84912345678"),
        ("-1.5", "-1.5"),
        ("Nguyễn Văn An", "Nguyễn Văn An"),
        ("a=1", "a=1"),
        ("'=x", "'=x"),
        ("", ""),
    ],
    ids=repr,
)
def test_csv_cell(text: str, cell: str) -> None:
    assert csv_cell(text) == cell


def test_xlsx_cell_drops_forbidden_characters_before_the_check() -> None:
    assert xlsx_cell("\x01=1") == "'=1"
    assert xlsx_cell("bell\x07") == "bell"
    assert csv_cell("\x01=1") == "\x01=1"  # a CSV can hold it; no spreadsheet runs it


def test_the_illegal_characters_are_openpyxls() -> None:
    """The polars pattern and the Python one drop exactly the characters openpyxl's pattern
    drops (the BMP)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # type: ignore[import-untyped]

    chars = [chr(c) for c in range(0x10000) if not 0xD800 <= c <= 0xDFFF]
    by_openpyxl = [ILLEGAL_CHARACTERS_RE.sub("", c) for c in chars]
    assert pl.Series(chars).str.replace_all(ILLEGAL_XLSX_RE, "").to_list() == by_openpyxl
    assert [re.sub(ILLEGAL_XLSX_RE, "", c) for c in chars] == by_openpyxl


# -- every writer -----------------------------------------------------------------------------
def _csv_cells(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [cell for row in csv.reader(handle) for cell in row]


def _xlsx_cells(path: Path) -> list[object]:
    book = openpyxl.load_workbook(path)  # not read-only: formulas show as formulas
    return [
        cell.value if cell.data_type != "f" else f"={cell.value}"
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
    ]


def _cells(path: Path) -> list[object]:
    return _csv_cells(path) if path.suffix == ".csv" else _xlsx_cells(path)


def _no_formula(paths: list[Path]) -> None:
    seen: Counter[str] = Counter()
    for path in paths:
        for cell in _cells(path):
            if isinstance(cell, str):
                assert not cell.startswith(FORMULA_START), (path.name, cell)
                # XML reads a carriage return back as a line feed
                text = cell.replace("\r", "\n")
                seen.update(h for h in HOSTILE if h.lstrip("\x01").replace("\r", "\n") in text)
    assert set(seen) >= {h for h in HOSTILE if h != "\x01=1"}  # every value was written


def test_the_export_batch(tmp_path: Path) -> None:
    sink = FileSink(tmp_path, REFERENCE.catalogues)
    batch = sink.open("b1", folder="79000701", kind="staff")
    items = [
        ExportItem(i, f"790{i:07d}", "79000701", None, "2026-12-01T00:00:00+00:00",
                   (Change("ho_ten", text, "corrected"), Change("dia_chi", text, "filled")))
        for i, text in enumerate(HOSTILE, start=1)
    ]  # fmt: skip
    batch.write(items)
    manifest = batch.commit(unit="79000701", generated_at=datetime(2026, 12, 1, tzinfo=UTC))
    _no_formula([manifest.folder / name for name in manifest.files])


def test_review_show_out(tmp_path: Path) -> None:
    changes = tuple(
        ReviewChange("ho_ten", text, text, "corrected", None, None, True, text) for text in HOSTILE
    )
    item = ReviewItem(1, 1, "staff", "7900000001", 1, "79000701", "verified", None, changes)
    write_values(tmp_path / "set1.csv", item, {"ho_ten": "Họ và tên"})
    _no_formula([tmp_path / "set1.csv"])


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_the_audit_and_import_reports(tmp_path: Path, suffix: str) -> None:
    """``TableWriter`` writes the audit's report and police list and the import's rejected
    rows, one row at a time or a batch of columns at a time."""
    rows = [(i, "7900000001", text) for i, text in enumerate(HOSTILE, start=1)]
    by_row = TableWriter(tmp_path / f"a{suffix}", ("row", "ma", "message"))
    for row in rows:
        by_row.write(row)
    by_row.commit()
    by_frame = TableWriter(tmp_path / f"b{suffix}", ("row", "ma", "message"))
    by_frame.write_frame(pl.DataFrame(rows, schema=["row", "ma", "message"], orient="row"))
    by_frame.commit()
    _no_formula([tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"])


def test_the_report_workbook(tmp_path: Path) -> None:
    path = tmp_path / "bao-cao.xlsx"
    book = ReportWorkbook(path, title=HOSTILE[0], day_text="10/12/2026")
    for text in HOSTILE:
        book.police_row(("79000701", text, text, "7900000001", text, "01/01/2010", text))
        book.duplicate_group(
            [SharedIdRecord("079010000001", text, True, "student", text, text, text, text, text)]
        )
    tally = Tally(records=2, missing=Counter({"x": 1}))
    rows = tuple(RowSummary(text, text, tally, (MissingField("x", text, 1),)) for text in HOSTILE)
    top = tuple(MissingField("x", text, 1) for text in HOSTILE)
    book.summary(ReportSummary(HOSTILE[1], ("79000701",), date(2026, 12, 10), rows, tally, top, 1))
    book.commit()
    _no_formula([path])


def test_the_invitation_sheet(tmp_path: Path) -> None:
    path = tmp_path / "moi.csv"
    writer = CsvSlipWriter(path, ZoneInfo("Asia/Ho_Chi_Minh"))
    for text in HOSTILE:
        expires = datetime(2026, 12, 31, tzinfo=UTC)
        writer.add(Slip("79000701", text, text, "7900000001", text, "self", "ABCD", text, expires))
    writer.finish()
    writer.publish()
    _no_formula([path])
