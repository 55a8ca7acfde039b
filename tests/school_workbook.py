"""Rosters as Vietnamese schools make them in Excel (issue #16), written with openpyxl.

Three merged title rows, an STT column, headers spelled the schools' way ("Mã học sinh", "Số
CCCD", "SĐT cha", "Người giám hộ", "Tỉnh/TP thường trú"), no "Mã trường" column, birth dates as
Excel dates, CCCDs and phones stored as numbers (the leading 0 gone), a few as Excel shows them
once digits are lost ("7,92004E+10", a rounded float), blank rows between classes, the header
again before the second class, and a signature block under the last row. ``per_class`` writes
one sheet per class instead, named for the class, without a class column.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

import openpyxl

from bot.demo.sample_data import SamplePerson, generate_school

SCHOOL = generate_school(seed=16, today=date(2026, 9, 1), staff=3, students=24)
SCHOOL_CODE = next(u.code for u in SCHOOL.units if u.kind == "school")
#: (header as the school spells it, field key); "STT" first, no "Mã trường".
STUDENT_COLUMNS: tuple[tuple[str, str | None], ...] = (
    ("STT", None),
    ("Mã học sinh", "ma_dinh_danh"),
    ("Họ và tên", "ho_ten"),
    ("Lớp", "lop"),
    ("Ngày sinh", "ngay_sinh"),
    ("Giới tính", "gioi_tinh"),
    ("Dân tộc", "dan_toc"),
    ("Tôn giáo", "ton_giao"),
    ("Quốc tịch", "quoc_tich"),
    ("Số CCCD", "so_dinh_danh"),
    ("Nơi ĐKKS", "noi_dang_ky_khai_sinh"),
    ("Tỉnh/TP thường trú", "thuong_tru_tinh"),
    ("Phường/Xã", "thuong_tru_xa"),
    ("Địa chỉ thường trú", "thuong_tru_chi_tiet"),
    ("Họ tên cha", "ho_ten_cha"),
    ("Năm sinh cha", "nam_sinh_cha"),
    ("SĐT cha", "sdt_cha"),
    ("Họ tên mẹ", "ho_ten_me"),
    ("Năm sinh mẹ", "nam_sinh_me"),
    ("SĐT mẹ", "sdt_me"),
    ("Người giám hộ", "ho_ten_giam_ho"),
    ("SĐT người giám hộ", "sdt_giam_ho"),
    ("VNeID mức 2", "vneid_muc_2"),
)
TITLES = (
    "SỞ GIÁO DỤC VÀ ĐÀO TẠO THÀNH PHỐ HỒ CHÍ MINH",
    "TRƯỜNG THPT NGUYỄN DU",
    "DANH SÁCH HỌC SINH NĂM HỌC 2026 - 2027",
)
FOOTER = (
    {"Họ tên mẹ": "TP. Hồ Chí Minh, ngày 05 tháng 9 năm 2026"},
    {"Mã học sinh": "Người lập biểu", "Họ tên mẹ": "HIỆU TRƯỞNG"},
    {"Mã học sinh": "(Ký, ghi rõ họ tên)", "Họ tên mẹ": "(Ký tên, đóng dấu)"},
    {"Họ và tên": "Nguyễn Văn Lập", "Họ tên mẹ": "Trần Thị Hiệu"},  # the signers' names
)
#: People whose CCCD Excel has lost digits (by index in ``people``): two in scientific notation,
#: one as the float it was rounded to.
LOST_SCIENTIFIC, LOST_FLOAT = (1, 7), 13
#: A mother's phone Excel showed in scientific notation (digits lost: not guessed either).
LOST_PHONE = 4


@dataclass
class Made:
    """What the workbook holds, for the tests' exact counts."""

    path: Path
    people: list[SamplePerson]
    sheets: list[str]
    footer_rows: int
    blank_rows: int
    title_rows: int
    header_again: int
    lost: list[SamplePerson] = field(default_factory=list)


STAFF_COLUMNS: tuple[tuple[str, str | None], ...] = (
    ("STT", None), ("Mã CB", "ma_dinh_danh"), ("Họ tên", "ho_ten"), ("Ngày sinh", "ngay_sinh"),
    ("Giới tính", "gioi_tinh"), ("Dân tộc", "dan_toc"), ("Tôn giáo", "ton_giao"),
    ("Quốc tịch", "quoc_tich"), ("CCCD", "so_dinh_danh"), ("Nơi sinh", "noi_dang_ky_khai_sinh"),
    ("Tỉnh/TP thường trú", "thuong_tru_tinh"), ("Phường/Xã", "thuong_tru_xa"),
    ("Địa chỉ", "thuong_tru_chi_tiet"), ("SĐT", "so_dien_thoai"), ("E-mail", "email"),
    ("Số BHXH", "ma_so_bhxh"), ("Trình độ", "trinh_do_dao_tao"), ("Chuyên ngành", "chuyen_nganh"),
    ("Vị trí việc làm", "vi_tri_viec_lam"), ("Môn dạy", "mon_day"),
    ("Ngày vào ngành", "ngay_tuyen_dung"), ("VNeID", "vneid_muc_2"),
)  # fmt: skip


def students() -> list[SamplePerson]:
    """The students with a key (the generator leaves none without); every fifth has a guardian
    (the optional column "Người giám hộ", which must be imported, not dropped)."""
    people = [p for p in SCHOOL.students if p.values.get("ma_dinh_danh")]
    return [
        replace(p, values={**p.values, "ho_ten_giam_ho": p.values.get("ho_ten_me")})
        if n % 5 == 0 else p
        for n, p in enumerate(people)
    ]  # fmt: skip


def staff_workbook(path: Path) -> Made:
    """The school's staff the same way: title rows, "Mã CB", "SĐT", "Ngày vào ngành" (an
    optional column that must be imported), phones and CCCDs as numbers, a signature block."""
    people = list(SCHOOL.staff)
    book = openpyxl.Workbook()
    sheet = book.active
    headers = [h for h, _ in STAFF_COLUMNS]
    _title(sheet, len(headers))
    sheet.append(headers)
    for n, person in enumerate(people, start=1):
        row: list[object] = []
        for _, key in STAFF_COLUMNS:
            value = person.values.get(key) if key else None
            if key is None:
                row.append(n)
            elif key in ("ngay_sinh", "ngay_tuyen_dung"):
                row.append(_excel_date(value))
            elif key in ("so_dinh_danh", "so_dien_thoai"):
                row.append(_number(value))
            else:
                row.append(value)
        sheet.append(row)
    for row in _footer(
        headers, {"Mã học sinh": "Mã CB", "Họ tên mẹ": "VNeID", "Họ và tên": "Họ tên"}
    ):
        sheet.append(row)
    book.save(path)
    return Made(path, people, [sheet.title], footer_rows=len(FOOTER), blank_rows=0,
                title_rows=len(TITLES), header_again=0)  # fmt: skip


def _excel_date(text: str | None) -> object:
    try:
        return datetime.strptime(text or "", "%d/%m/%Y")
    except ValueError:
        return text  # a flawed date stays as the school typed it


def _number(text: str | None) -> object:
    """A CCCD or phone as Excel stores it once it took it for a number."""
    return int(text) if text and text.isdigit() and not text.startswith("00") else text


def _cells(person: SamplePerson, n: int, *, damaged: bool, with_class: bool) -> list[object]:
    values = person.values
    row: list[object] = []
    for header, key in STUDENT_COLUMNS:
        if key is None:
            row.append(n)
        elif key == "lop" and not with_class:
            continue
        elif key == "ngay_sinh":
            row.append(_excel_date(values.get(key)))
        elif key == "ma_dinh_danh":
            row.append(int(values[key] or "0"))
        elif damaged and (key == "so_dinh_danh" or key.startswith("sdt_")):
            row.append(_number(values.get(key)))
        else:
            row.append(values.get(key))
        del header
    return row


def _lose_digits(row: list[object], index: int, headers: list[str]) -> None:
    cccd = headers.index("Số CCCD")
    if index == LOST_PHONE:
        row[headers.index("SĐT mẹ")] = "9,12346E+08"
    if index in LOST_SCIENTIFIC:
        row[cccd] = "7,92004E+10"
    elif index == LOST_FLOAT:
        row[cccd] = 7.92004e10


def _footer(headers: list[str], where: dict[str, str] | None = None) -> list[list[object]]:
    """The signature block; ``where``: the column each of ``FOOTER``'s goes to instead."""
    rows = []
    for cells in FOOTER:
        row: list[object] = [None] * len(headers)
        for header, text in cells.items():
            row[headers.index((where or {}).get(header, header))] = text
        rows.append(row)
    return rows


def _title(sheet: object, width: int) -> None:
    for n, text in enumerate(TITLES, start=1):
        sheet.append([text])  # type: ignore[attr-defined]
        sheet.merge_cells(start_row=n, start_column=1, end_row=n, end_column=width)  # type: ignore[attr-defined]


def school_workbook(path: Path, *, per_class: bool = False, damaged: bool = True) -> Made:
    """Write the workbook; ``damaged``: CCCDs and phones as numbers, some digits lost."""
    people = students()
    lost = [people[i] for i in (*LOST_SCIENTIFIC, LOST_FLOAT)] if damaged else []
    book = openpyxl.Workbook()
    classes: dict[str, list[tuple[int, SamplePerson]]] = {}
    for index, person in enumerate(people):
        classes.setdefault(person.values["lop"] or "", []).append((index, person))
    headers = [h for h, k in STUDENT_COLUMNS if not (per_class and k == "lop")]
    made = Made(path, people, [], footer_rows=0, blank_rows=0, title_rows=0, header_again=0,
                lost=lost)  # fmt: skip
    sheet = book.active
    for number, (name, members) in enumerate(classes.items()):
        if per_class:
            sheet = book.active if number == 0 else book.create_sheet()
            sheet.title = f"Lớp {name}" if number == 1 else name
        if per_class or number == 0:
            _title(sheet, len(headers))
            sheet.append([])  # a blank row under the titles
            sheet.append(headers)
            made.title_rows += len(TITLES)
            made.blank_rows += 1
            made.sheets.append(sheet.title)
        else:
            sheet.append([])
            made.blank_rows += 1
            if number == 1:  # the header pasted again above the second class
                sheet.append(headers)
                made.header_again += 1
        for n, (index, person) in enumerate(members, start=1):
            row = _cells(person, n, damaged=damaged, with_class=not per_class)
            if damaged:
                _lose_digits(row, index, headers)
            sheet.append(row)
        if per_class or number == len(classes) - 1:
            sheet.append([])
            made.blank_rows += 1
            for row in _footer(headers):
                sheet.append(row)
            made.footer_rows += len(FOOTER)
    book.save(path)
    return made


def without_sheet(path: Path) -> list[list[str]]:
    """A CSV report's rows without the "Trang tính" column a workbook's reports have: to compare
    a workbook's report with a CSV file's."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    if rows and len(rows[0]) > 1 and rows[0][1] == "Trang tính":
        return [[row[0], *row[2:]] for row in rows]
    return rows
