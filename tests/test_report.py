"""``hoso report`` (issue #6, Reports and Duplicates): per-unit counts, what is missing most, the
police list and shared CCCDs, as a workbook and a phone-sized chart, on both databases.

The school below is hand-made so every count is known: each record's comment says how it counts
on the reference day 05/09/2026 (complete, correct, clean, confirmed, police list).
"""

from __future__ import annotations

import asyncio
import doctest
import os
import subprocess
import sys
import tomllib
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openpyxl  # type: ignore[import-untyped]
import pytest
from PIL import Image
from sqlalchemy import update

import flows.report
import flows.report_rows
from bot.reports.build import ReportError, build_report, plan_for, record_pages
from bot.reports.chart import HEIGHT, MAX_LINES, WIDTH, chart_lines
from bot.reports.xlsx import DUPLICATE_SHEET, MISSING_SHEET, POLICE_SHEET, SHEETS, SUMMARY_SHEET
from flows.audit import AuditCode, Finding, RecordAudit
from flows.report import (
    RowSummary,
    Tally,
    effective_values,
    is_confirmed,
    judge,
    percent_text,
    summarise,
)
from flows.report_rows import STAFF_LINE, plan_report
from flows.rules.base import Code
from storage.db import make_engine
from storage.models import Change, ChangeSet
from storage.records import AnswerRecord
from storage.repos.report_queries import ReportAnswer, ReportUnit
from storage.scope import Scope
from storage.uow import Store

DAY = date(2026, 9, 5)
NOW = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
RECORDS = tomllib.loads((Path(__file__).parent / "fixtures" / "records.toml").read_text("utf-8"))
SO, AREA, A, B = "SO79", "CUM1", "79000801", "79000802"
A_NAME, B_NAME = "Trường THPT Thử Nghiệm", "Trường THCS Hai"
UNITS = [
    (SO, "Sở Giáo dục và Đào tạo", "department", None),
    (AREA, "Cụm 1", "area", SO),
    (A, A_NAME, "school", AREA),
    (f"{A}-10A1", "Lớp 10A1", "class", A),
    (f"{A}-9A1", "Lớp 9A1", "class", A),
    (B, B_NAME, "school", AREA),
    (f"{B}-6A1", "Lớp 6A1", "class", B),
]
SHARED_CCCD = "079210004567"


def _student(ma: str, school: str, lop: str, **changes: str | None) -> dict[str, str | None]:
    values = {**RECORDS["student"]["values"], "ma_dinh_danh": ma, "ma_truong": school, "lop": lop}
    return {**values, **changes}


def _teacher(ma: str, **changes: str | None) -> dict[str, str | None]:
    return {**RECORDS["teacher"]["values"], "ma_dinh_danh": ma, "ma_truong": A, **changes}


# key -> (kind, unit, values). How each counts is in the comment.
PEOPLE: dict[str, tuple[str, str, dict[str, str | None]]] = {
    # complete, correct, clean, not confirmed
    "T1": ("staff", A, _teacher("7900080001")),
    # not clean: the name is not capitalised
    "T2": ("staff", A, _teacher(
        "7900080002", ho_ten="nguyễn thị an", so_dinh_danh="079185001235")),
    # S1 and S2 share a CCCD: both not clean
    "S1": ("student", f"{A}-10A1", _student("7910000001", A, "10A1")),
    "S2": ("student", f"{A}-10A1", _student("7910000002", A, "10A1", ho_ten="Trần Gia Huy")),
    # missing dan_toc and ton_giao; a SUBMITTED set fills ton_giao: missing dan_toc, confirmed
    "S3": ("student", f"{A}-10A1", _student(
        "7910000003", A, "10A1", so_dinh_danh="079210004568", dan_toc=None, ton_giao=None)),
    # missing dan_toc; a RETURNED set fills it: still missing, not confirmed
    "S4": ("student", f"{A}-10A1", _student(
        "7910000004", A, "10A1", so_dinh_danh="079210004569", dan_toc=None)),
    # 15 years old, no CCCD, VNeID "Chưa": on the police list for both; missing so_dinh_danh
    "S5": ("student", f"{A}-9A1", _student(
        "7910000005", A, "9A1", ho_ten="Phạm Minh Khoa", ngay_sinh="10/03/2011",
        so_dinh_danh=None, vneid_muc_2="Chưa")),
    # 13 years old, no CCCD: missing so_dinh_danh, NOT on the police list
    "S6": ("student", f"{A}-9A1", _student(
        "7910000006", A, "9A1", ho_ten="Phạm Minh Khôi", ngay_sinh="01/01/2013",
        so_dinh_danh=None, vneid_muc_2="Chưa")),
    # missing dan_toc and ton_giao; a DRAFT fills ton_giao: missing dan_toc, not confirmed
    "S7": ("student", f"{A}-9A1", _student(
        "7910000007", A, "9A1", so_dinh_danh="079210004570", dan_toc=None, ton_giao=None)),
    # an 11-digit mother's phone: not correct; a skipped answer does not blank the name
    "S8": ("student", f"{A}-9A1", _student(
        "7910000008", A, "9A1", so_dinh_danh="079210004571", sdt_me="01673299318")),
    # school B: both complete, correct, clean and confirmed (approved, exported)
    "S9": ("student", f"{B}-6A1", _student("7920000009", B, "6A1", so_dinh_danh="079210004572")),
    "S10": ("student", f"{B}-6A1", _student("7920000010", B, "6A1", so_dinh_danh="079210004573")),
}  # fmt: skip
# key -> (status of the change set, answers (field, new value, how), fields returned)
ANSWERS: dict[str, tuple[str, list[tuple[str, str | None, str]], tuple[str, ...]]] = {
    "S3": ("submitted", [("ho_ten", "Trần Gia Bảo", "confirmed"),
                         ("ton_giao", "Không", "filled")], ()),
    "S4": ("returned", [("dan_toc", "Kinh", "filled")], ("dan_toc",)),
    "S7": ("draft", [("ton_giao", "Không", "filled")], ()),
    "S8": ("draft", [("ho_ten", None, "skipped")], ()),
    "S9": ("approved", [("ho_ten", "Trần Gia Bảo", "confirmed")], ()),
    "S10": ("exported", [("ho_ten", "Trần Gia Bảo", "confirmed")], ()),
}  # fmt: skip

# line code, label, records, complete, correct, clean, confirmed, police, duplicates
SCHOOL_LINES = [
    (A, STAFF_LINE, 2, 2, 2, 1, 0, 0, 0),
    (f"{A}-9A1", "Lớp 9A1", 4, 1, 3, 4, 0, 1, 0),
    (f"{A}-10A1", "Lớp 10A1", 4, 2, 4, 2, 1, 0, 2),
]
AREA_LINES = [(A, A_NAME, 10, 5, 9, 7, 1, 1, 2), (B, B_NAME, 2, 2, 2, 2, 2, 0, 0)]


def _row(code: str, label: str, tally: Tally) -> tuple[object, ...]:
    counts = (tally.records, tally.complete, tally.correct, tally.clean, tally.confirmed)
    return (code, label, *counts, tally.police, tally.duplicates)


async def _seed(store: Store) -> dict[str, int]:
    ids: dict[str, int] = {}
    async with store.unit_of_work() as uow:
        for code, name, kind, parent in UNITS:
            await uow.units.ensure(code, name, kind, parent_code=parent)
        for key, (kind, unit, values) in PEOPLE.items():
            ids[key] = await uow.people.add(
                kind=kind, ma_dinh_danh=values["ma_dinh_danh"] or "", unit_code=unit,
                values=values, at=NOW,
            )  # fmt: skip
        await uow.commit()
    for key, (status, answers, returned) in ANSWERS.items():
        async with store.unit_of_work() as uow:
            for field, new, how in answers:
                await uow.changes.save_answer(
                    ids[key], AnswerRecord(field, None, new, how), account_id=None,
                    channel="console", source_version=1, at=NOW,
                )  # fmt: skip
            if status != "draft":
                submitted = await uow.changes.submit(ids[key], f"test:{key}", at=NOW)
                assert submitted is not None
                await uow.session.execute(
                    update(ChangeSet).where(ChangeSet.id == submitted.id).values(status=status)
                )
                await uow.session.execute(
                    update(Change)
                    .where(Change.change_set_id == submitted.id, Change.field.in_(returned))
                    .values(review_status="returned")
                )
            await uow.commit()
    return ids


@pytest.fixture
async def seeded(store: Store) -> Store:
    await _seed(store)
    return store


def _sheet(path: Path, name: str) -> list[tuple[Any, ...]]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return [tuple(row) for row in book[name].iter_rows(values_only=True)]
    finally:
        book.close()


async def test_school_report_counts_each_line(seeded: Store, tmp_path: Path) -> None:
    files = await build_report(seeded, A, DAY, tmp_path)
    summary = files.summary
    assert summary.title == A_NAME
    assert [_row(r.code, r.label, r.tally) for r in summary.rows] == SCHOOL_LINES
    assert _row("", "", summary.total) == ("", "", 10, 5, 9, 7, 1, 1, 2)
    # The submitted ton_giao and the draft's count; the returned dan_toc does not.
    assert summary.total.missing == Counter({"dan_toc": 3, "so_dinh_danh": 2})
    top = summary.top_missing[0]
    assert (top.key, top.label, top.count) == ("dan_toc", "Dân tộc", 3)
    assert summary.duplicate_groups == 1
    assert files.xlsx.name == f"bao-cao-{A}-2026-09-05.xlsx"


async def test_workbook_holds_the_lists(seeded: Store, tmp_path: Path) -> None:
    files = await build_report(seeded, A, DAY, tmp_path)
    book = openpyxl.load_workbook(files.xlsx, read_only=True)
    assert book.sheetnames == list(SHEETS)
    book.close()
    summary = _sheet(files.xlsx, SUMMARY_SHEET)
    assert summary[0][0] == f"Báo cáo hồ sơ: {A_NAME}"
    assert summary[1][0] == "Ngày tham chiếu: 05/09/2026"
    start = [row[0] if row else None for row in summary].index("Mã đơn vị") + 1
    table = summary[start : start + 4]
    assert [(r[0], r[1], r[2], r[3], r[5], r[7], r[9], r[12], r[13]) for r in table] == [
        *SCHOOL_LINES,
        (None, "Tổng cộng", 10, 5, 9, 7, 1, 1, 2),
    ]
    assert table[2][4] == pytest.approx(0.5)  # 10A1: 2 of 4 complete
    assert [r[11] for r in table] == [0, 0, 0, 0]  # nobody declared anything unavailable
    assert table[2][14] == "Dân tộc (2)"
    missing = _sheet(files.xlsx, MISSING_SHEET)
    assert missing[1] == ("Toàn bộ", "Dân tộc", 3, pytest.approx(0.3))
    assert missing[2] == ("Toàn bộ", "Số định danh cá nhân (CCCD)", 2, pytest.approx(0.2))
    police = _sheet(files.xlsx, POLICE_SHEET)
    assert police[2:] == [
        (A, A_NAME, "9A1", "7910000005", "Phạm Minh Khoa", "10/03/2011",
         "Số định danh cá nhân (CCCD); Định danh điện tử mức 2 (khai «Chưa»)"),
    ]  # fmt: skip
    shared = _sheet(files.xlsx, DUPLICATE_SHEET)
    assert shared[2:] == [
        (1, SHARED_CCCD, "Học sinh", A_NAME, "10A1", "7910000001", "Trần Gia Bảo", "05/09/2010"),
        (1, SHARED_CCCD, "Học sinh", A_NAME, "10A1", "7910000002", "Trần Gia Huy", "05/09/2010"),
    ]


async def test_chart_is_a_phone_sized_png(seeded: Store, tmp_path: Path) -> None:
    files = await build_report(seeded, A, DAY, tmp_path)
    with Image.open(files.png) as image:
        assert image.format == "PNG"
        assert image.size == (WIDTH, HEIGHT) == (1080, 1350)
        colours = {colour: n for n, colour in image.convert("RGB").getcolors(WIDTH * HEIGHT)}
    # Bars drawn: the "complete" green covers a visible area; the page is mostly white.
    assert colours[(0x2E, 0x7D, 0x32)] > 5000
    assert colours[(255, 255, 255)] > WIDTH * HEIGHT // 2


async def test_area_report_sums_each_school(seeded: Store, tmp_path: Path) -> None:
    summary = (await build_report(seeded, AREA, DAY, tmp_path)).summary
    assert summary.title == "Cụm 1"
    assert [_row(r.code, r.label, r.tally) for r in summary.rows] == AREA_LINES
    assert summary.total.records == 12
    police = _sheet(tmp_path / f"bao-cao-{AREA}-2026-09-05.xlsx", POLICE_SHEET)
    assert [row[3] for row in police[2:]] == ["7910000005"]


async def test_scope_reports_only_its_units(seeded: Store, tmp_path: Path) -> None:
    async with seeded.unit_of_work() as uow:
        units = await uow.reports.subtree([(await uow.reports.unit_by_code(B)).id])  # type: ignore[union-attr]
    scope = Scope(actor="admin:b", unit_ids=frozenset(u.id for u in units))
    files = await build_report(seeded, scope, DAY, tmp_path / "b")
    assert [r.code for r in files.summary.rows] == [B, f"{B}-6A1"]
    assert files.summary.total.records == 2
    assert _sheet(files.xlsx, POLICE_SHEET)[2:] == []
    with pytest.raises(ReportError, match="chưa được giao"):
        await build_report(seeded, Scope(actor="nobody"), DAY, tmp_path)
    with pytest.raises(ReportError, match="Không có đơn vị mã X9"):
        await build_report(seeded, "X9", DAY, tmp_path)


async def test_class_report_and_pages_cross_units(seeded: Store, tmp_path: Path) -> None:
    summary = (await build_report(seeded, f"{A}-9A1", DAY, tmp_path)).summary
    assert [_row(r.code, r.label, r.tally) for r in summary.rows] == [SCHOOL_LINES[1]]
    plan = await plan_for(seeded, A)
    pages = [page async for page in record_pages(seeded, plan.reading_order, batch=3)]
    assert [len(page) for page in pages] == [3, 3, 3, 1]
    seen = [person.ma_dinh_danh for page in pages for person, _ in page]
    order = ("T1", "T2", "S5", "S6", "S7", "S8", "S1", "S2", "S3", "S4")
    assert seen == [PEOPLE[key][2]["ma_dinh_danh"] for key in order]


def test_cli_prints_counts_and_no_personal_data(database_url: str, tmp_path: Path) -> None:
    async def seed() -> None:
        store = Store(make_engine(database_url))
        try:
            await _seed(store)
        finally:
            await store.close()

    asyncio.run(seed())
    out, chart = tmp_path / "r.xlsx", tmp_path / "r.png"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "report", "--unit", A, "--day", "2026-09-05",
         "--out", str(out), "--chart", str(chart)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "140",
             "HOSO_DATABASE__URL": database_url},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert out.is_file()
    assert chart.is_file()
    text = result.stdout + result.stderr
    assert "Lớp 10A1" in text
    assert "Tổng cộng" in text
    assert "Dân tộc (3)" in text
    assert "50,0%" in text  # 10A1: 2 of 4 complete
    personal = {SHARED_CCCD, "Phạm Minh Khoa", "10/03/2011", "7910000005", "Trần Gia Bảo"}
    for _, _, values in PEOPLE.values():
        personal |= {v for k, v in values.items() if v and k in ("ho_ten", "so_dinh_danh")}
    assert not [value for value in personal if value in text]
    bad = subprocess.run(
        [sys.executable, "-m", "bot", "report", "--unit", A, "--day", "05-09"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", "HOSO_DATABASE__URL": database_url},
    )  # fmt: skip
    assert bad.returncode == 2
    assert "--day" in bad.stderr


# --- the pure part ------------------------------------------------------------------------


def _answer(status: str, field: str | None, new: str | None, how: str = "filled",
            review: str | None = None) -> ReportAnswer:  # fmt: skip
    return ReportAnswer(1, 1, status, field, new, how, review)


@pytest.mark.parametrize(
    ("answers", "value", "confirmed"),
    [
        ([], None, False),
        ([_answer("draft", "dan_toc", "Kinh")], "Kinh", False),
        ([_answer("submitted", "dan_toc", "Kinh")], "Kinh", True),
        ([_answer("verified", "dan_toc", "Kinh")], "Kinh", True),
        ([_answer("approved", "dan_toc", "Kinh")], "Kinh", True),
        ([_answer("exported", "dan_toc", "Kinh")], "Kinh", True),
        ([_answer("returned", "dan_toc", "Kinh")], None, False),
        ([_answer("approved", "dan_toc", "Kinh", review="returned")], None, True),
        ([_answer("draft", "dan_toc", None, how="skipped")], None, False),
        ([_answer("exported", "dan_toc", "Hoa"), _answer("draft", "dan_toc", "Kinh")], "Kinh",
         True),
        ([_answer("submitted", None, None)], None, True),
    ],
    ids=["none", "draft", "submitted", "verified", "approved", "exported", "returned",
         "field-returned", "skipped", "newest-wins", "empty-set"],
)  # fmt: skip
def test_which_answers_count(
    answers: list[ReportAnswer], value: str | None, confirmed: bool
) -> None:
    assert effective_values({"dan_toc": None}, answers)["dan_toc"] == value
    assert is_confirmed(answers) is confirmed


@pytest.mark.parametrize(
    ("code", "clean"),
    [(Code.PROVINCE_MERGED, False), (Code.DATE_CENTURY_ASSUMED, False),
     (Code.CCCD_UNKNOWN_PREFIX, False), (Code.NAME_NO_MARKS, False), (AuditCode.MISSING, True)],
)  # fmt: skip
def test_a_notice_makes_a_record_unclean(code: str, clean: bool) -> None:
    result = RecordAudit((Finding("f", code, "m"),), {}, True, True, True, False)
    assert judge(result, confirmed=False).clean is clean


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.0, "0,0%"), (50.0, "50,0%"), (72.46, "72,5%"), (99.97, "99,9%"), (100.0, "100%")],
)
def test_percent_text(value: float, text: str) -> None:
    assert percent_text(value) == text


def test_doctests() -> None:
    for module in (flows.report, flows.report_rows):
        assert doctest.testmod(module).failed == 0


def _units() -> list[ReportUnit]:
    ids = {code: i for i, (code, *_) in enumerate(UNITS, start=1)}
    return [ReportUnit(ids[c], c, n, k, ids[p] if p else None) for c, n, k, p in UNITS]


@pytest.mark.parametrize(
    ("root", "lines", "quiet"),
    [
        (A, [(A, STAFF_LINE), (f"{A}-9A1", "Lớp 9A1"), (f"{A}-10A1", "Lớp 10A1")], set()),
        (f"{A}-9A1", [(f"{A}-9A1", "Lớp 9A1")], set()),
        (AREA, [(AREA, "Cụm 1"), (A, A_NAME), (B, B_NAME)], {AREA}),
        (SO, [(SO, "Sở Giáo dục và Đào tạo"), (A, A_NAME), (B, B_NAME), (AREA, "Cụm 1")],
         {SO, AREA}),
    ],
)  # fmt: skip
def test_report_lines_follow_the_root(
    root: str, lines: list[tuple[str, str]], quiet: set[str]
) -> None:
    """Above a school, a line per school (its own office's line only shown with records)."""
    units = _units()
    plan = plan_report(units, [u.id for u in units if u.code == root])
    assert list(plan.lines) == lines
    assert plan.quiet_lines == quiet
    class_9 = next(u.id for u in units if u.code == f"{A}-9A1")
    assert plan.places[class_9].school_name == A_NAME
    assert plan.places[class_9].class_name == "Lớp 9A1"


def test_chart_keeps_the_least_complete_lines() -> None:
    rows = []
    for i in range(MAX_LINES + 5):
        tally = Tally(records=10, complete=i % 10)
        rows.append((f"L{i}", f"Lớp {i}", tally))
    summary = summarise(
        title="T", unit_codes=["T"], day=DAY, rows=rows, labels={}, duplicate_groups=0
    )
    shown, count = chart_lines(summary)
    assert count == MAX_LINES + 5
    assert len(shown) == MAX_LINES
    assert all(isinstance(row, RowSummary) for row in shown)
    assert max(row.tally.complete for row in shown) <= min(
        row.tally.complete for row in summary.rows if row not in shown
    )
