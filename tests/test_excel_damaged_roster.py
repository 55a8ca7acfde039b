"""A roster whose CCCDs and phones Excel stored as numbers (issue #16), audited and imported on
SQLite and PostgreSQL: every leading zero the length makes certain is put back, and the police
list of the damaged file is the clean file's minus the people whose CCCD lost its digits, who
are listed apart ("số CCCD bị Excel làm hỏng, cần kiểm tra lại"), never as "no CCCD".
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import openpyxl  # type: ignore[import-untyped]
import pytest

from bot.audit.layout import (
    APART_COLUMNS,
    POLICE_COLUMNS,
    REPORT_COLUMNS,
    apart_path,
    with_sheet,
)
from bot.audit.roster_audit import AuditJob, Auditor, TableWriter, audit_database, run_audit
from bot.audit.summary import AuditSummary
from bot.config.settings import DatabaseSettings, Settings
from bot.demo.sample_data import STUDENT_KEYS, generate_school
from bot.importing.rows import MESSAGES, RejectCode
from bot.reports.build import CCCD_DAMAGED, build_report
from bot.reports.xlsx import POLICE_SHEET
from storage.uow import Store
from tests.school_workbook import without_sheet
from tests.test_import import REFERENCE, headers, run, snapshot

TODAY = date(2026, 9, 1)
SCHOOL = generate_school(seed=16, today=TODAY, staff=0, students=60)
STUDENTS = [dict(p.values) for p in SCHOOL.students]
PHONES = ("sdt_cha", "sdt_me", "sdt_giam_ho")
_CCCD = re.compile(r"0[1-9][0-9]{10}")
_DATE = re.compile(r"[0-9]{2}/[0-9]{2}/[0-9]{4}")
LOST_MESSAGE = "Excel đã làm mất chữ số: hãy định dạng cột là Văn bản rồi nhập lại."


def _scientific(cccd: str, separator: str) -> str:
    """The CCCD as Excel shows it in a narrow column ("7,92112E+10" in Vietnamese Excel)."""
    return f"{int(cccd):.5E}".replace(".", separator)


@dataclass(frozen=True)
class Damaged:
    """The damaged roster: cells by row (numbers where Excel made numbers), and which records
    lost their CCCD's digits."""

    cells: list[list[object]]
    lost: frozenset[str]
    restored: int


def _damage(rows: Sequence[Mapping[str, str | None]]) -> Damaged:
    """CCCDs and mobiles as Excel stores them once it takes them for numbers; three CCCDs of
    people 14+ (one of them on the clean police list for VNeID) lose their digits: two shown
    in scientific notation (both decimal separators), one rounded and read back as a number."""
    candidates = [
        r["ma_dinh_danh"] or ""
        for r in rows
        if _CCCD.fullmatch(r.get("so_dinh_danh") or "") and _DATE.fullmatch(r["ngay_sinh"] or "")
    ]
    no_vneid = [m for m in candidates if _row(rows, m).get("vneid_muc_2") != "Có"]
    lost = [no_vneid[0], *[m for m in candidates if m != no_vneid[0]][:2]]
    forms = dict(zip(lost, ("comma", "point", "rounded"), strict=True))
    cells: list[list[object]] = []
    restored = 0
    for values in rows:
        row: list[object] = []
        for key in STUDENT_KEYS:
            value = values.get(key)
            form = forms.get(values["ma_dinh_danh"] or "")
            if key == "so_dinh_danh" and value and form is not None:
                if form == "rounded":
                    row.append(float(f"{int(value):.5E}"))  # every digit after the sixth is 0
                else:
                    row.append(_scientific(value, "," if form == "comma" else "."))
            elif value and (
                (key == "so_dinh_danh" and _CCCD.fullmatch(value))
                or (key in PHONES and re.fullmatch(r"0[35789][0-9]{8}", value))
            ):
                row.append(int(value))  # an int cell: the leading zero gone
                restored += 1
            else:
                row.append(value)
        cells.append(row)
    return Damaged(cells, frozenset(lost), restored)


def _row(rows: Sequence[Mapping[str, str | None]], ma: str) -> Mapping[str, str | None]:
    return next(r for r in rows if r["ma_dinh_danh"] == ma)


def _workbook(path: Path, cells: Sequence[Sequence[object]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers("student"))
    for row in cells:
        sheet.append(["" if c is None else c for c in row])
    book.save(path)
    return path


def _csv(path: Path, cells: Sequence[Sequence[object]]) -> Path:
    """The damaged workbook saved as CSV by Excel: numbers written as their digits, a float as
    Excel shows it (the rounded one: its digits)."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers("student"))
        for row in cells:
            writer.writerow(
                "" if c is None else str(int(c)) if isinstance(c, float) else str(c) for c in row
            )
    return path


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _audit(file: Path, out: Path) -> tuple[AuditSummary, Path, Path]:
    police = out.with_name(f"{out.stem}-police.csv")
    job = AuditJob(file=file, out=out, kind="student", police=police, today=TODAY)
    return run_audit(job, Settings(), REFERENCE), police, apart_path(police)


CLEAN = [list(r.get(k) for k in STUDENT_KEYS) for r in STUDENTS]
DAMAGED = _damage(STUDENTS)
MA = POLICE_COLUMNS[1]


def test_the_damaged_file_gets_its_zeros_back_and_keeps_the_lost_off_the_police_list(
    tmp_path: Path,
) -> None:
    clean, clean_police, clean_apart = _audit(
        _workbook(tmp_path / "clean.xlsx", CLEAN), tmp_path / "clean.csv"
    )
    got, police, apart = _audit(
        _workbook(tmp_path / "damaged.xlsx", DAMAGED.cells), tmp_path / "damaged.csv"
    )
    assert clean.excel_restored == clean.excel_lost == clean.police_apart == 0
    assert not clean_apart.exists()  # nobody to list apart: no such file
    assert (got.excel_restored, got.excel_lost) == (DAMAGED.restored, len(DAMAGED.lost))
    listed = _read(clean_police)
    assert any(r[MA] in DAMAGED.lost for r in listed)  # one of them lacks VNeID only
    assert _read(police) == [r for r in listed if r[MA] not in DAMAGED.lost]
    kept_apart = _read(apart)
    assert list(kept_apart[0]) == list(with_sheet(APART_COLUMNS))  # a workbook: its sheets
    assert {r[MA] for r in kept_apart} == DAMAGED.lost
    assert {r["Ghi chú"] for r in kept_apart} == {"số CCCD bị Excel làm hỏng, cần kiểm tra lại"}
    assert got.police_apart == len(DAMAGED.lost)
    # the report says which values were repaired or lost, by label, name and message
    report = _read(tmp_path / "damaged.csv")
    assert list(report[0]) == list(with_sheet(REPORT_COLUMNS))
    lost = [r for r in report if r["Mã lỗi"] == "EXCEL_DIGITS_LOST"]
    assert {r[MA] for r in lost} == DAMAGED.lost
    assert {(r["Thông tin"], r["Mã thông tin"], r["Nội dung"]) for r in lost} == {
        ("Số định danh cá nhân (CCCD)", "so_dinh_danh", LOST_MESSAGE)
    }
    names = {r["ma_dinh_danh"]: r["ho_ten"] for r in STUDENTS}
    assert all(r["Họ và tên"] == names[r[MA]] for r in lost)
    restored = [r for r in report if r["Mã lỗi"] == "EXCEL_ZERO_RESTORED"]
    assert len(restored) == DAMAGED.restored
    # nothing else changes: the clean file's findings are all there, and no CCCD is "wrong"
    clean_findings = {
        (r[MA], r["Mã thông tin"], r["Mã lỗi"]) for r in _read(tmp_path / "clean.csv")
    }
    findings = {(r[MA], r["Mã thông tin"], r["Mã lỗi"]) for r in report}
    excel = {"EXCEL_DIGITS_LOST", "EXCEL_ZERO_RESTORED", "AGE14_CCCD_DAMAGED"}
    assert {f for f in findings if f[2] not in excel} == {
        f for f in clean_findings if not (f[0] in DAMAGED.lost and f[2].startswith("AGE14_"))
    }  # the police reasons of the lost ones are replaced by AGE14_CCCD_DAMAGED


def test_the_csv_excel_saves_is_audited_as_the_workbook(tmp_path: Path) -> None:
    """The same damage read column-wise (a CSV: polars) and row by row (the workbook)."""
    by_rows = _audit(_workbook(tmp_path / "d.xlsx", DAMAGED.cells), tmp_path / "rows.csv")
    by_columns = _audit(_csv(tmp_path / "d.csv", DAMAGED.cells), tmp_path / "columns.csv")
    assert by_rows[0] == by_columns[0]
    for one, other in zip(by_rows[1:], by_columns[1:], strict=True):
        assert without_sheet(one) == without_sheet(other)  # a workbook's say the sheet too
    rows, columns = tmp_path / "rows.csv", tmp_path / "columns.csv"
    assert without_sheet(rows) == without_sheet(columns)


@pytest.mark.parametrize("form", ["xlsx", "csv"])
async def test_import_stores_the_repaired_values_and_the_database_audit_agrees(
    store: Store, database_url: str, tmp_path: Path, form: str
) -> None:
    write = _workbook if form == "xlsx" else _csv
    file = write(tmp_path / f"d.{form}", DAMAGED.cells)
    report = tmp_path / "import.csv"
    summary = await run(store, file, "student", report=report)
    assert summary.rejected == 0
    assert summary.inserted == len(STUDENTS)
    assert (summary.excel_restored, summary.excel_lost) == (DAMAGED.restored, len(DAMAGED.lost))
    stored = await snapshot(store)
    for values in STUDENTS:
        ma = values["ma_dinh_danh"] or ""
        got = stored[ma][0]
        for key in ("so_dinh_danh", *PHONES):
            if key == "so_dinh_danh" and ma in DAMAGED.lost:
                assert got[key] != values[key]  # not guessed: stored as the file has it
                assert not _CCCD.fullmatch(got[key] or "")
            else:
                assert got.get(key) == values.get(key), (ma, key)
    lines = _read(report)
    lost = [r for r in lines if r["Mã lỗi"] == RejectCode.EXCEL_DIGITS_LOST]
    assert {r["Mã định danh Bộ GD&ĐT"] for r in lost} == DAMAGED.lost
    assert {(r["Thông tin"], r["Lý do"]) for r in lost} == {
        ("Số định danh cá nhân (CCCD)", MESSAGES[RejectCode.EXCEL_DIGITS_LOST])
    }
    assert sum(r["Mã lỗi"] == RejectCode.EXCEL_ZERO_RESTORED for r in lines) == DAMAGED.restored

    # ``hoso audit --db`` of what was imported: the clean file's police list minus the lost
    _, clean_police, _ = _audit(_workbook(tmp_path / "c.xlsx", CLEAN), tmp_path / "c.csv")
    out = {n: tmp_path / f"db-{n}.csv" for n in ("report", "police", "apart")}
    writers = (
        TableWriter(out["report"], REPORT_COLUMNS),
        TableWriter(out["police"], POLICE_COLUMNS),
        TableWriter(out["apart"], APART_COLUMNS),
    )
    auditor = Auditor(REFERENCE, TODAY, writers[0], writers[1], apart=writers[2])
    settings = Settings(database=DatabaseSettings(url=database_url))
    await audit_database(auditor, settings, REFERENCE, "student")
    audited = auditor.finish()
    for writer in writers:
        writer.commit()
    assert audited.excel_restored == 0  # stored with their zeros
    assert audited.excel_lost == len(DAMAGED.lost)

    def who(rows: list[dict[str, str]]) -> list[tuple[str, ...]]:
        return sorted((r[MA], r["Họ và tên"], r[POLICE_COLUMNS[-1]]) for r in rows)

    expected = [r for r in _read(clean_police) if r[MA] not in DAMAGED.lost]
    assert who(_read(out["police"])) == who(expected)
    assert {r[MA] for r in _read(out["apart"])} == DAMAGED.lost

    # ``hoso report``'s police sheet: the same people, the lost ones with their own reason
    (tmp_path / "bc").mkdir()
    files = await build_report(store, SCHOOL.units[0].code, TODAY, tmp_path / "bc")
    book = openpyxl.load_workbook(files.xlsx, read_only=True)
    try:
        sheet = [tuple(row) for row in book[POLICE_SHEET].iter_rows(values_only=True)][2:]
    finally:
        book.close()
    reasons = {row[3]: row[6] for row in sheet}
    assert {m for m, why in reasons.items() if why == CCCD_DAMAGED} == DAMAGED.lost
    assert {m for m, why in reasons.items() if why != CCCD_DAMAGED} == {r[MA] for r in expected}


def test_the_terminal_counts_the_repairs(tmp_path: Path) -> None:
    """The summary says how many zeros were put back and how many values lost their digits,
    for the audit and for the import: counts only, never a value."""
    from io import StringIO

    from rich.console import Console

    from bot.audit.summary import print_summary as audit_summary
    from bot.cli.importing import print_summary as import_summary
    from bot.importing.importer import ImportSummary

    got, police, apart = _audit(_workbook(tmp_path / "d.xlsx", DAMAGED.cells), tmp_path / "r.csv")
    out = StringIO()
    audit_summary(got, Console(file=out, width=200), report=tmp_path / "r.csv", police=police)
    text = printed = out.getvalue()
    assert (
        f"{DAMAGED.restored} số CCCD/điện thoại được thêm lại số 0 đầu bị Excel làm mất." in text
    )
    assert f"{len(DAMAGED.lost)} số CCCD/điện thoại bị Excel làm mất chữ số" in text
    assert f"{len(DAMAGED.lost)} người từ 14 tuổi có số CCCD bị Excel làm hỏng" in text
    assert str(apart) in text
    out = StringIO()
    summary = ImportSummary(read=3, inserted=3, excel_restored=2, excel_lost=1)
    import_summary(summary, Console(file=out, width=200), report=tmp_path / "tu-choi.csv")
    text = out.getvalue()
    printed += text
    assert "2 số CCCD/điện thoại được thêm lại số 0 đầu bị Excel làm mất." in text
    assert "1 số CCCD/điện thoại bị Excel làm mất chữ số" in text
    for values in STUDENTS:  # no personal value on the terminal
        for key in ("so_dinh_danh", "ho_ten", "sdt_cha"):
            assert not values[key] or values[key] not in printed
