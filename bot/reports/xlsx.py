"""The report as an Excel workbook: summary, what is missing most, the police list, duplicates.

openpyxl's write-only mode spools each sheet to its own temporary file, so the police list and the
duplicates are written as they are found and memory stays flat; the summary sheet comes first in
the book but is filled last, when the counts are known. The file is written under a temporary
name and renamed at the end, so a failed run never leaves a half report that looks complete.

This file is for the school: names, birth dates and CCCDs belong in it (the police list is sent
on to the police). Excel allows sheet names of at most 31 characters and no "/", hence the police
sheet's short name; its first row says in full what the list is.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook  # type: ignore[import-untyped]  # no stubs in the dev extras
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]

from bot.reports.dups import SharedIdRecord
from bot.sheets.cells import xlsx_cell, xlsx_row
from flows.report import ReportSummary, Tally

SUMMARY_SHEET = "Tổng hợp"
MISSING_SHEET = "Thiếu nhiều nhất"
POLICE_SHEET = "Công an (14+ chưa CCCD, VNeID)"
DUPLICATE_SHEET = "Trùng số định danh"
SHEETS = (SUMMARY_SHEET, MISSING_SHEET, POLICE_SHEET, DUPLICATE_SHEET)

SUMMARY_HEADERS = (
    "Mã đơn vị", "Đơn vị", "Số hồ sơ", "Đủ", "Tỉ lệ đủ", "Đúng", "Tỉ lệ đúng", "Sạch",
    "Tỉ lệ sạch", "Đã xác nhận", "Tỉ lệ đã xác nhận", "Khai chưa có", "14+ chưa CCCD/VNeID",
    "Trùng số định danh", "Thiếu nhiều nhất",
)  # fmt: skip
MISSING_HEADERS = ("Đơn vị", "Thông tin còn thiếu", "Số hồ sơ thiếu", "Tỉ lệ trên số hồ sơ")
POLICE_HEADERS = (
    "Mã trường", "Trường", "Lớp", "Mã định danh Bộ GD&ĐT", "Họ và tên", "Ngày sinh", "Còn thiếu",
)  # fmt: skip
DUPLICATE_HEADERS = (
    "Nhóm", "Số định danh cá nhân", "Loại hồ sơ", "Trường", "Lớp", "Mã định danh Bộ GD&ĐT",
    "Họ và tên", "Ngày sinh",
)  # fmt: skip
TOTAL_LABEL = "Tổng cộng"
OVERALL_LABEL = "Toàn bộ"
KIND_LABELS = {"staff": "Cán bộ, giáo viên, nhân viên", "student": "Học sinh"}
DEFINITIONS = (
    "Đủ: có mọi thông tin bắt buộc theo vai trò và tuổi (tính cả câu trả lời đang cập nhật và "
    "đã gửi; phần nhà trường trả lại không tính).",
    "Đúng: mọi thông tin đạt các quy tắc kiểm tra, kể cả quy tắc giữa các thông tin "
    "(CCCD khớp ngày sinh, giới tính, nơi đăng ký khai sinh …).",
    "Sạch: mọi thông tin đã ở dạng chuẩn, không có điểm cần người khai xác nhận lại và số định "
    "danh cá nhân không trùng với hồ sơ khác trong báo cáo.",
    "Đã xác nhận: người có hồ sơ (hoặc phụ huynh) đã gửi cập nhật trong đợt rà soát này và "
    "nhà trường chưa trả lại.",
    "Khai chưa có: số hồ sơ có ít nhất một thông tin người khai báo là chưa có (bấm [Chưa có]: "
    "chưa được cấp CCCD, không có email, không nhớ năm sinh của cha mẹ …); thông tin đó được "
    "tính là đã trả lời, không tính là thiếu.",
    "14+ chưa CCCD/VNeID: người từ 14 tuổi trở lên (tính đến ngày tham chiếu) chưa có số định "
    "danh cá nhân 12 số hoặc chưa có định danh điện tử mức 2; danh sách ở trang “"
    + POLICE_SHEET
    + "”, mỗi người một dòng, cột “Còn thiếu” ghi rõ lý do (thiếu số hay tự khai chưa có).",
)
_WIDTHS = {
    SUMMARY_SHEET: (14, 34, 10, 8, 10, 8, 10, 8, 10, 12, 14, 12, 14, 14, 40),
    MISSING_SHEET: (34, 36, 16, 18),
    POLICE_SHEET: (12, 34, 8, 24, 28, 12, 40),
    DUPLICATE_SHEET: (7, 20, 28, 34, 8, 24, 28, 12),
}
_PERCENT = "0.0%"


class ReportWorkbook:
    """The four sheets of a report, written row by row."""

    def __init__(self, path: Path, *, title: str, day_text: str) -> None:
        self._path, self._tmp = path, path.with_name(f".{path.name}.tmp")
        self._book = Workbook(write_only=True)
        self._sheets = {name: self._book.create_sheet(name) for name in SHEETS}
        for name, widths in _WIDTHS.items():
            sheet = self._sheets[name]
            for index, width in enumerate(widths):
                sheet.column_dimensions[chr(ord("A") + index)].width = width
        self._title, self._day_text = title, day_text
        self._groups = 0
        police = self._sheets[POLICE_SHEET]
        police.append(
            [
                self._bold(
                    police,
                    f"Người từ 14 tuổi trở lên chưa có CCCD hoặc định danh điện tử mức 2 "
                    f"({title}, ngày tham chiếu {day_text})",
                )
            ]
        )
        police.append([self._bold(police, h) for h in POLICE_HEADERS])
        police.freeze_panes = "A3"
        shared = self._sheets[DUPLICATE_SHEET]
        shared.append(
            [
                self._bold(
                    shared,
                    "Cùng một số định danh cá nhân trên hai hồ sơ trở lên: "
                    "hãy kiểm tra và sửa hồ sơ ghi sai.",
                )
            ]
        )
        shared.append([self._bold(shared, h) for h in DUPLICATE_HEADERS])
        shared.freeze_panes = "A3"

    def police_row(self, row: Sequence[str]) -> None:
        """School code, school, class, record key, name, birth date, what is missing."""
        self._sheets[POLICE_SHEET].append(xlsx_row(row))

    def duplicate_group(self, group: Sequence[SharedIdRecord]) -> None:
        self._groups += 1
        sheet = self._sheets[DUPLICATE_SHEET]
        for record in group:
            kind = KIND_LABELS.get(record.kind, record.kind)
            cells = (
                self._groups, record.cccd, kind, record.school, record.class_name,
                record.ma_dinh_danh, record.name, record.born,
            )  # fmt: skip
            sheet.append(xlsx_row(cells))

    def summary(self, summary: ReportSummary) -> None:
        """The summary and the "what is missing most" sheets, once every record is counted."""
        sheet = self._sheets[SUMMARY_SHEET]
        sheet.append([self._bold(sheet, f"Báo cáo hồ sơ: {self._title}")])
        sheet.append([f"Ngày tham chiếu: {self._day_text}"])
        sheet.append([])
        sheet.append([self._bold(sheet, h) for h in SUMMARY_HEADERS])
        for row in summary.rows:
            missing = ", ".join(f"{m.label} ({m.count})" for m in row.top_missing)
            sheet.append(xlsx_row(self._counts(sheet, row.code, row.label, row.tally, missing)))
        total = ", ".join(f"{m.label} ({m.count})" for m in summary.top_missing[:3])
        cells = self._counts(sheet, "", TOTAL_LABEL, summary.total, total)
        sheet.append(xlsx_row(self._bold(sheet, c) if i < 3 else c for i, c in enumerate(cells)))
        sheet.append([])
        for line in DEFINITIONS:
            sheet.append(xlsx_row([line]))
        self._missing(summary)

    def commit(self) -> None:
        self._book.save(self._tmp)
        self._tmp.replace(self._path)

    def abort(self) -> None:
        self._tmp.unlink(missing_ok=True)

    def _missing(self, summary: ReportSummary) -> None:
        sheet = self._sheets[MISSING_SHEET]
        sheet.append([self._bold(sheet, h) for h in MISSING_HEADERS])
        for m in summary.top_missing:
            share = self._share(sheet, m.count, summary.total.records)
            sheet.append(xlsx_row([OVERALL_LABEL, m.label, m.count, share]))
        for row in summary.rows:
            for m in row.top_missing:
                share = self._share(sheet, m.count, row.tally.records)
                sheet.append(xlsx_row([row.label, m.label, m.count, share]))

    def _counts(
        self, sheet: object, code: str, label: str, tally: Tally, missing: str
    ) -> list[object]:
        n = tally.records
        return [
            code, label, n,
            tally.complete, self._share(sheet, tally.complete, n),
            tally.correct, self._share(sheet, tally.correct, n),
            tally.clean, self._share(sheet, tally.clean, n),
            tally.confirmed, self._share(sheet, tally.confirmed, n),
            tally.declared, tally.police, tally.duplicates, missing,
        ]  # fmt: skip

    @staticmethod
    def _share(sheet: object, part: int, whole: int) -> object:
        cell = WriteOnlyCell(sheet, value=part / whole if whole else 0)
        cell.number_format = _PERCENT
        return cell

    @staticmethod
    def _bold(sheet: object, value: object) -> object:
        cell = WriteOnlyCell(sheet, value=xlsx_cell(value) if isinstance(value, str) else value)
        cell.font = Font(bold=True)
        return cell
