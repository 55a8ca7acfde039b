"""Rows of a school's sheet that are not records, and the class a sheet's name gives.

Under the last student of a class, a school's sheet has a signature block ("Người lập biểu",
"(Ký, ghi rõ họ tên)", "Hiệu trưởng", "Ngày ... tháng ... năm ..."); between classes, blank
rows or the header again. None of them is a person: they are skipped and counted, never
imported. A workbook made one sheet per class names each sheet for its class ("10A1",
"Lớp 10A2", "6/1"), and its sheets then have no class column.

Pure: cells in, a verdict out.

>>> is_footer(["Người lập biểu", None, "Hiệu trưởng"])
True
>>> class_of_sheet("Lớp 10A2"), class_of_sheet("6/1"), class_of_sheet("Sheet1")
('10A2', '6/1', None)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum

from flows.rules.base import clean_text, fold

#: Words of a signature block or a date line, folded (no diacritics, lower case).
_FOOTER = re.compile(
    r"nguoi lap( bieu| bang)?|ky,? (va )?ghi ro ho (va )?ten|ky ten|hieu truong|thu truong"
    r"|xac nhan|ngay\W*(\d+|\.+|…+)?\W*thang\W*(\d+|\.+|…+)?\W*nam|tong (so|cong)|giam doc"
    r"|pho hieu truong|nguoi duyet"
)
#: A class as schools name it: a grade (1-12) then letters and digits, or "grade/number".
_CLASS = re.compile(r"(?:lop\s*)?((?:[1-9]|1[0-2])(?:\s*[a-z]{1,3}\d{0,2}|/\d{1,2}|\.\d{1,2}))")


class SkipReason(StrEnum):
    """Why a row of the sheet was not read as a record (the report's counts)."""

    ABOVE_HEADER = "ABOVE_HEADER"
    BLANK = "BLANK"
    HEADER_AGAIN = "HEADER_AGAIN"
    FOOTER = "FOOTER"
    NO_KEY_NO_NAME = "NO_KEY_NO_NAME"


SKIP_LABELS: dict[SkipReason, str] = {
    SkipReason.ABOVE_HEADER: "Dòng tiêu đề phía trên dòng tên cột",
    SkipReason.BLANK: "Dòng trống",
    SkipReason.HEADER_AGAIN: "Dòng tên cột lặp lại",
    SkipReason.FOOTER: "Dòng chữ ký, ngày tháng cuối bảng",
    SkipReason.NO_KEY_NO_NAME: "Dòng không có mã định danh và họ tên",
}


def skipped_lines(skipped: dict[str, int], ignored_sheets: Sequence[str] = ()) -> list[str]:
    """The terminal's lines about the rows not read as records (counts only)."""
    total = sum(skipped.values())
    lines = [f"{total} dòng không phải hồ sơ đã bỏ qua (không nhập):"] if total else []
    lines += [
        f"  {SKIP_LABELS[reason]}: {skipped[reason]}"
        for reason in SkipReason
        if skipped.get(reason)
    ]
    if ignored_sheets:
        names = ", ".join(f"«{n}»" for n in ignored_sheets)
        lines.append(f"Trang tính không có dòng tên cột, không đọc: {names}.")
    return lines


def is_footer(cells: Sequence[str | None]) -> bool:
    """A row of a signature block or a date line: only such words, no long run of digits (a
    record's row always has its key)."""
    texts = [fold(c) for c in cells if c]
    if not texts:
        return False
    if any(re.search(r"\d{6,}", t) for t in texts):
        return False
    return any(_FOOTER.search(t) for t in texts)


def class_of_sheet(name: str) -> str | None:
    """The class a sheet's name names ("Lớp 10A2" -> "10A2"), or None."""
    cleaned = clean_text(name)
    match = _CLASS.fullmatch(fold(cleaned))
    if match is None:
        return None
    start = len(cleaned) - len(match.group(1))
    shown = cleaned[start:] if fold(cleaned[start:]) == match.group(1) else match.group(1)
    return shown.upper().replace(" ", "")
