"""The columns of ``hoso audit``'s files, laid out for the school's clerk who reads them.

The report is a file for the school's admins, who may see the people's names: each line says
whose record it is (the name), which information (the field's label, as the chat shows it) and
what is wrong, in Vietnamese. The field's internal key and the rule's code, which tests and
scripts read, come last. The police list is for the police; people whose CCCD Excel damaged are
not on it (they may well hold one) but in a file apart, for the school to check first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import polars as pl

from bot.roster.cells import sheet_of
from bot.roster.frame import ROW
from flows.audit import Finding
from flows.catalogue import Catalogue

FIELD_KEY, CODE = "Mã thông tin", "Mã lỗi"
REPORT_COLUMNS = (
    "Dòng", "Mã định danh Bộ GD&ĐT", "Họ và tên", "Mã trường", "Lớp", "Thông tin", "Nội dung",
    "Đề xuất", FIELD_KEY, CODE,
)  # fmt: skip
POLICE_COLUMNS = ("Dòng", "Mã định danh Bộ GD&ĐT", "Họ và tên", "Mã trường", "Lớp", "Còn thiếu")
#: People 14+ whose CCCD Excel damaged (``flows.excel_damage``): listed apart from the police.
APART_COLUMNS = ("Dòng", "Mã định danh Bộ GD&ĐT", "Họ và tên", "Mã trường", "Lớp", "Ghi chú")
CCCD_DAMAGED_NOTE = "số CCCD bị Excel làm hỏng, cần kiểm tra lại"
#: The column saying which sheet of a workbook a row is on, after "Dòng" (a workbook only).
SHEET = "Trang tính"
#: The suffix of the file apart, next to the police list.
_APART_SUFFIX = "-cccd-can-kiem-tra"

Labels = Mapping[str, str]


def with_sheet(columns: Sequence[str]) -> tuple[str, ...]:
    """``columns`` with ``SHEET`` after the row number: the layout of a workbook's reports."""
    return (columns[0], SHEET, *columns[1:])


def where(row: int, sheets: bool) -> tuple[object, ...]:
    """The first cells of a line: the row number, and its sheet when the source is a workbook."""
    return (row, sheet_of(row)) if sheets else (row,)


def apart_path(police: Path) -> Path:
    """Where the people kept off the police list go: next to it, named for why."""
    return police.with_name(f"{police.stem}{_APART_SUFFIX}{police.suffix}")


def labels_of(catalogue: Catalogue) -> dict[str, str]:
    """Field key -> the label the person reads in the chat."""
    return {spec.key: spec.label for spec in catalogue.fields}


def report_row(
    row: int,
    ma: str,
    name: str,
    unit: Sequence[str],
    finding: Finding,
    labels: Labels,
    *,
    sheets: bool = False,
) -> tuple[object, ...]:
    """One line of the report, in ``REPORT_COLUMNS``' order (``with_sheet``'s if ``sheets``)."""
    label = labels.get(finding.field, finding.field)
    return (*where(row, sheets), ma, name, *unit, label, finding.message, finding.suggestion,
            finding.field, finding.code)  # fmt: skip


def report_frame(findings: pl.DataFrame, labels: Labels) -> pl.DataFrame:
    """``report_row`` of every finding of a frame (ROW, ma_dinh_danh, ho_ten, ma_truong, lop,
    field, code, message, suggestion), column for column."""
    label = pl.col("field").replace_strict(
        dict(labels), default=pl.col("field"), return_dtype=pl.String
    )
    return findings.select(
        ROW, "ma_dinh_danh", "ho_ten", "ma_truong", "lop", label.alias("label"), "message",
        "suggestion", "field", "code",
    )  # fmt: skip
