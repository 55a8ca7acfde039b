"""The roster of issue #16, as schools make it in Excel, through the real ``hoso`` commands.

Three merged title rows, an STT column, the schools' own header spellings, no "Mã trường"
column, Excel dates, CCCDs and phones as numbers (some with digits lost), blank rows between
classes, the header again, a signature block; and the same people one sheet per class. Each
must import in one command (``--unit`` for the school) with exact counts, on SQLite and
PostgreSQL, ``--dry-run`` must show the mapping and write nothing, and the police list of the
damaged file must be the clean file's less the people whose CCCD Excel damaged, listed apart.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import openpyxl  # type: ignore[import-untyped]
import pytest

from bot.audit.layout import apart_path
from flows.table import SKIP_LABELS, SkipReason
from storage.uow import Store
from tests.school_workbook import (
    LOST_PHONE,
    SCHOOL_CODE,
    STUDENT_COLUMNS,
    TITLES,
    Made,
    school_workbook,
    staff_workbook,
    students,
)
from tests.test_import import hoso, snapshot

TODAY = "01/09/2026"


def _count(stdout: str, label: str) -> int:
    """A count of the summary table (``label │ n │``) or of a line (``label: n``)."""
    found = re.search(rf"{re.escape(label)}\s*(?:│|:)\s*(\d+)", stdout)
    assert found is not None, f"{label!r} not in the output"
    return int(found[1])


def _skipped(stdout: str, reason: SkipReason) -> int:
    return _count(stdout, SKIP_LABELS[reason])


def _report(path: Path) -> list[dict[str, object]]:
    book = openpyxl.load_workbook(path, read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    book.close()
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


@pytest.mark.parametrize("per_class", [False, True], ids=["one sheet", "a sheet per class"])
async def test_the_school_workbook_imports_in_one_command(
    store: Store, database_url: str, tmp_path: Path, per_class: bool
) -> None:
    made = school_workbook(tmp_path / "ds.xlsx", per_class=per_class)
    report = tmp_path / "bao-cao.xlsx"
    args = ("--unit", SCHOOL_CODE, "--report", str(report))  # no --kind: read from the headers
    done = hoso(str(made.path), *args, cwd=tmp_path, url=database_url)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "Danh sách học sinh (đoán theo tên cột" in done.stderr
    out = done.stdout
    assert _count(out, "Dòng dữ liệu đã đọc") == len(made.people)
    assert _count(out, "Hồ sơ thêm mới") == len(made.people)
    assert _count(out, "Dòng bị từ chối") == 0
    assert _skipped(out, SkipReason.FOOTER) == made.footer_rows
    assert _skipped(out, SkipReason.ABOVE_HEADER) == made.title_rows
    assert _skipped(out, SkipReason.BLANK) == made.blank_rows
    if made.header_again:
        assert _skipped(out, SkipReason.HEADER_AGAIN) == made.header_again
    assert "Cột không nhập (bỏ qua): «STT»." in out  # every column said
    stored = await snapshot(store)
    assert set(stored) == {p.ma_dinh_danh for p in made.people}  # no signer, no title
    for person in made.people:
        values, unit, *_ = stored[person.ma_dinh_danh]
        lop = person.values["lop"]
        assert unit == f"{SCHOOL_CODE}-{lop}"  # the school from --unit, the class kept
        assert values["ma_truong"] == SCHOOL_CODE
        assert values["lop"] == lop  # from the sheet's name when one sheet per class
        assert values["ho_ten"] == person.values["ho_ten"]
        assert values["ho_ten_giam_ho"] == person.values["ho_ten_giam_ho"]
    lines = _report(report)  # the notes on repaired numbers: Excel's row and sheet
    assert {line["Trang tính"] for line in lines} <= set(made.sheets)
    if per_class:
        assert len(made.sheets) == 3
        assert "Đã đọc 3 trang tính." in out
        assert {line["Trang tính"] for line in lines} == set(made.sheets)
    lost = {
        (line["Mã định danh Bộ GD&ĐT"], line["Mã thông tin"])
        for line in lines
        if line["Mã lỗi"] == "EXCEL_DIGITS_LOST"
    }
    assert lost == {(p.ma_dinh_danh, "so_dinh_danh") for p in made.lost} | {
        (made.people[LOST_PHONE].ma_dinh_danh, "sdt_me")
    }
    first = min(int(str(line["Dòng"])) for line in lines)
    assert first == len(TITLES) + 3  # under the titles, a blank row and the header


async def test_a_dry_run_shows_the_mapping_and_writes_nothing(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    made = school_workbook(tmp_path / "ds.xlsx")
    before = await snapshot(store)
    done = hoso(str(made.path), "--kind", "student", "--unit", SCHOOL_CODE, "--dry-run",
                "--report", str(tmp_path / "r.csv"), cwd=tmp_path, url=database_url)  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = re.sub(r"\s+", " ", done.stdout)
    for header, label in (
        ("Mã học sinh", "Mã định danh Bộ GD&ĐT"),
        ("Số CCCD", "Số định danh cá nhân (CCCD)"),
        ("Tỉnh/TP thường trú", "Tỉnh/Thành phố thường trú"),
        ("Người giám hộ", "Họ tên người giám hộ"),
        ("STT", "bỏ qua"),
    ):
        assert re.search(rf"│ {re.escape(header)} +│ {re.escape(label)} +│", out), header
    assert f"Mã trường = {SCHOOL_CODE}" in out
    assert _count(done.stdout, "Hồ sơ sẽ nhập (thêm mới hoặc cập nhật)") == len(made.people)
    assert _skipped(done.stdout, SkipReason.FOOTER) == made.footer_rows
    assert await snapshot(store) == before  # nothing written
    assert not (tmp_path / "r.csv").exists()


def _audit(file: Path, out: Path, cwd: Path) -> tuple[list[dict[str, str]], Path]:
    police = out.with_name(f"{out.stem}-cong-an.csv")
    args = ("--out", str(out), "--police", str(police), "--today", TODAY, "--unit", SCHOOL_CODE)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "audit", str(file), *args],
        cwd=cwd, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with police.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle)), apart_path(police)


def test_the_police_list_of_the_damaged_file_is_the_clean_ones_less_the_lost(
    tmp_path: Path,
) -> None:
    clean = school_workbook(tmp_path / "sach.xlsx", damaged=False)
    damaged = school_workbook(tmp_path / "hong.xlsx")
    listed, clean_apart = _audit(clean.path, tmp_path / "sach.csv", tmp_path)
    got, apart = _audit(damaged.path, tmp_path / "hong.csv", tmp_path)
    assert not clean_apart.exists()
    lost = {p.ma_dinh_danh for p in damaged.lost}
    key = "Mã định danh Bộ GD&ĐT"
    assert [r[key] for r in got] == [r[key] for r in listed if r[key] not in lost]
    with apart.open(encoding="utf-8-sig", newline="") as handle:
        kept_apart = list(csv.DictReader(handle))
    assert {r[key] for r in kept_apart} == lost  # every one of them 14+ (grades 10 to 12)
    assert {r["Trang tính"] for r in kept_apart} == set(damaged.sheets)


def test_made_counts_are_what_the_generator_wrote(tmp_path: Path) -> None:
    """The generator's own bookkeeping, checked against the workbook it wrote."""
    made = school_workbook(tmp_path / "lop.xlsx", per_class=True)
    book = openpyxl.load_workbook(made.path)
    assert book.sheetnames == made.sheets
    assert all(len(sheet.merged_cells.ranges) == 3 for sheet in book.worksheets)
    assert made.title_rows == 3 * len(made.sheets)
    assert isinstance(made, Made)


async def test_the_staff_workbook_keeps_its_optional_columns_and_no_signer(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    """ "Ngày vào ngành" is the date of entry (imported, not dropped: else every teacher is asked
    for a date the school had), "SĐT" the teacher's phone; the signature block is no one."""
    made = staff_workbook(tmp_path / "cb.xlsx")
    done = hoso(str(made.path), "--unit", SCHOOL_CODE, cwd=tmp_path, url=database_url)
    assert done.returncode == 0, done.stderr
    assert "Danh sách cán bộ, giáo viên, nhân viên (đoán theo tên cột" in done.stderr
    assert _count(done.stdout, "Hồ sơ thêm mới") == len(made.people)
    assert _skipped(done.stdout, SkipReason.FOOTER) == made.footer_rows
    assert "Cảnh báo" not in done.stdout
    stored = await snapshot(store)
    assert set(stored) == {p.ma_dinh_danh for p in made.people}
    for person in made.people:
        values, unit, *_ = stored[person.ma_dinh_danh]
        assert unit == SCHOOL_CODE
        assert (values["so_dien_thoai"] is None) == (not person.values["so_dien_thoai"])  # "SĐT"
        assert values["ngay_tuyen_dung"] == person.values["ngay_tuyen_dung"]
        assert values["email"] == person.values["email"]
        cccd = person.values["so_dinh_danh"] or ""
        if len(cccd) == 12:  # its 0 put back (an old 9-digit CMND is not guessed)
            assert values["so_dinh_danh"] == cccd


async def test_a_row_of_another_school_is_still_refused_with_unit(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    """--unit fills a missing "Mã trường"; a file that has the column keeps it, and a row of
    another school is refused, row by row."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["DANH SÁCH HỌC SINH"])
    people = students()[:3]
    columns = [(h, k) for h, k in STUDENT_COLUMNS if k] + [("Mã trường", "ma_truong")]
    sheet.append([h for h, _ in columns])
    for n, person in enumerate(people):
        values = {**person.values, "ma_truong": "79999999" if n == 1 else SCHOOL_CODE}
        sheet.append([values.get(k) for _, k in columns])
    book.save(tmp_path / "ds.xlsx")
    report = tmp_path / "r.csv"
    done = hoso(str(tmp_path / "ds.xlsx"), "--kind", "student", "--unit", SCHOOL_CODE,
                "--report", str(report), cwd=tmp_path, url=database_url)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert _count(done.stdout, "Hồ sơ thêm mới") == 2
    with report.open(encoding="utf-8-sig", newline="") as handle:
        (line,) = list(csv.DictReader(handle))
    assert (line["Dòng"], line["Trang tính"], line["Mã lỗi"]) == ("4", "Sheet", "OTHER_SCHOOL")
    assert set(await snapshot(store)) == {people[0].ma_dinh_danh, people[2].ma_dinh_danh}


def test_a_sheet_without_a_header_row_is_named_not_read(tmp_path: Path) -> None:
    made = school_workbook(tmp_path / "ds.xlsx", per_class=True)
    book = openpyxl.load_workbook(made.path)
    notes = book.create_sheet("Hướng dẫn", 0)
    notes.append(["Điền mỗi lớp vào một trang tính."])
    book.save(made.path)
    url = f"sqlite+aiosqlite:///{tmp_path / 'hoso.db'}"
    done = hoso(str(made.path), "--kind", "student", "--unit", SCHOOL_CODE, "--dry-run",
                cwd=tmp_path, url=url)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Trang tính không có dòng tên cột, không đọc: «Hướng dẫn»." in done.stdout
    assert _count(done.stdout, "Hồ sơ sẽ nhập (thêm mới hoặc cập nhật)") == len(made.people)


@pytest.mark.parametrize("form", ["csv", "xlsx"])
async def test_a_csv_roster_read_by_columns_skips_what_the_row_reader_skips(
    store: Store, database_url: str, tmp_path: Path, form: str
) -> None:
    """A CSV file whose header is its first line is read a batch of columns at a time: the
    header pasted again and the signature block ("Người lập biểu" in the key's column, the
    signers' names in the name's) are skipped and counted there too, never imported."""
    made = staff_workbook(tmp_path / "cb.xlsx")
    book = openpyxl.load_workbook(made.path)
    rows = [
        [c for c in row]
        for row in book.active.iter_rows(min_row=len(TITLES) + 1, values_only=True)
    ]
    book.close()
    header, people, footer = rows[0], rows[1 : len(made.people) + 1], rows[len(made.people) + 1 :]
    table = [[*header, "Mã trường"], *([*r, SCHOOL_CODE] for r in people[:2])]
    table += [[*header, "Mã trường"], *([*r, SCHOOL_CODE] for r in people[2:])]
    table += [[*r, None] for r in footer]
    path = tmp_path / f"cb.{form}"
    if form == "csv":
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            csv.writer(handle).writerows(["" if c is None else c for c in r] for r in table)
    else:
        out = openpyxl.Workbook()
        for r in table:
            out.active.append(r)
        out.save(path)
    done = hoso(str(path), "--kind", "staff", cwd=tmp_path, url=database_url)
    assert done.returncode == 0, done.stderr
    assert _count(done.stdout, "Hồ sơ thêm mới") == len(made.people)
    assert _count(done.stdout, "Dòng bị từ chối") == 0
    assert _skipped(done.stdout, SkipReason.FOOTER) == len(footer)
    assert _skipped(done.stdout, SkipReason.HEADER_AGAIN) == 1
    assert set(await snapshot(store)) == {p.ma_dinh_danh for p in made.people}
