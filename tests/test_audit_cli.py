"""``hoso audit`` in a real process: golden reports, the database, bad files, no personal data.

The golden files are the contract of DESIGN §6, laid out for the school's clerk
(``bot.audit.layout``: ``Dòng,Mã định danh Bộ GD&ĐT,Họ và tên,…,Nội dung,Đề xuất`` then the
field's key and the code, ``Dòng`` the 1-based data row): regenerate them only after reading
the difference.
"""

from __future__ import annotations

import asyncio
import csv
import os
import re
import subprocess
import sys
import unicodedata
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import openpyxl  # type: ignore[import-untyped]
import pytest

from bot.config.settings import CatalogueSettings
from bot.demo.sample_data import SamplePerson, generate_school
from bot.demo.seed import seed_school
from bot.engine.reference import load_reference
from bot.roster.reader import cell_text
from flows.catalogue import is_required
from flows.rules.cross import GUARDIANS
from storage.db import make_engine
from storage.migrate import upgrade
from storage.uow import Store
from tests.school_workbook import without_sheet

FIXTURES = Path(__file__).parent / "fixtures" / "audit"
TODAY = "01/09/2026"
STUDENT_HEADERS = [
    "Mã định danh Bộ GD&ĐT", "Mã trường", "Lớp", "Họ và tên", "Ngày sinh", "Giới tính",
    "Dân tộc", "Tôn giáo", "Quốc tịch", "Số định danh cá nhân", "Nơi đăng ký khai sinh",
    "Tỉnh/Thành phố thường trú", "Phường/Xã thường trú", "Địa chỉ chi tiết thường trú",
    "Họ tên cha", "Năm sinh cha", "Số điện thoại cha", "Họ tên mẹ", "Năm sinh mẹ",
    "Số điện thoại mẹ", "Họ tên người giám hộ", "Số điện thoại người giám hộ",
    "Định danh điện tử mức 2",
]  # fmt: skip
HCM, WARD = "Thành phố Hồ Chí Minh", "Phường Bến Thành"
NFD_ANH = unicodedata.normalize("NFD", "Nguyễn Ngọc Ánh")
# A student roster as Excel gives it: date cells, a phone that lost its leading zero as a number.
# Columns: ma, truong, lop, name, born, sex, ethnic, religion, nationality, cccd, birth place,
# then province, ward, address, father (name, year, phone), mother (same), guardian, VNeID.
STUDENTS: list[list[object]] = [
    ["7910000001", "79000701", "10A1", "Trần Gia Bảo", "05/09/2010", "Nam", "Kinh", "Không",
     "Việt Nam", "079210004567", "Hồ Chí Minh", HCM, WARD, "45 Đường Nguyễn Trãi",
     "Trần Văn Hùng", 1980, "0903123456", "Lê Thị Lan", 1982, "0987654321", None, None, "Có"],
    ["7910000002", "79000701", "10A2", NFD_ANH, datetime(2013, 3, 10), "Nữ", "Kinh", "Không",
     "Việt Nam", "079313001111", "Hồ Chí Minh", HCM, WARD, "12 Đường Lý Tự Trọng",
     "Nguyễn Văn An", 1984, "0903000111", None, None, None, None, None, None],
    ["7910000003", "79000701", "10A2", "Lý Minh Khang", "20/01/2011", "Nam", "Hoa", "Không",
     "Việt Nam", None, "Hồ Chí Minh", HCM, WARD, "8 Đường Hàm Nghi",
     "Lý Văn Phúc", 1979, "0903000222", None, None, None, None, None, None],
    ["7910000004", "79000701", "10A1", "Hồ Văn Tâm", datetime(2010, 4, 1), "Nam", "Kinh",
     "Phật giáo", "Việt Nam", "079210007777", "Hồ Chí Minh", HCM, WARD, "3 Đường Pasteur",
     "Hồ Văn Sơn", 1975, 903123457, None, None, None, None, None, "Có"],
    ["7910000005", "79000701", "10A2", "Mai Thị Yến", "11/11/2010", "Nữ", "Kinh", "Không",
     "Việt Nam", "079310005555", "Hồ Chí Minh", HCM, "Phường Không Có", "9 Đường Lê Duẩn",
     None, None, None, "Mai Thị Hạnh", 2000, "0987000555", None, None, "có"],
]  # fmt: skip


def hoso(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "audit", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "120", **(env or {})},
        check=False,
    )


def student_xlsx(path: Path) -> Path:
    book = openpyxl.Workbook()
    for row in [STUDENT_HEADERS, *STUDENTS]:
        book.active.append(row)
    book.save(path)
    return path


def read_report(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("kind", ["staff", "student"])
def test_golden_report(tmp_path: Path, kind: str) -> None:
    source = FIXTURES / "staff.csv" if kind == "staff" else student_xlsx(tmp_path / "hs.xlsx")
    result = hoso(str(source), "--out", "report.csv", "--today", TODAY, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    got = (tmp_path / "report.csv").read_text(encoding="utf-8-sig")
    assert got == (FIXTURES / f"{kind}.expected.csv").read_text(encoding="utf-8-sig")
    assert "Tổng" in result.stdout


def test_xlsx_report_and_police_list(tmp_path: Path) -> None:
    args = ("--out", "report.xlsx", "--police", "police.csv", "--today", TODAY, "--kind", "staff")
    result = hoso(str(FIXTURES / "staff.csv"), *args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    book = openpyxl.load_workbook(tmp_path / "report.xlsx", read_only=True)
    rows = [
        ["" if c is None else str(c) for c in row]
        for row in book.worksheets[0].iter_rows(values_only=True)
    ]
    book.close()  # a read-only workbook holds the file open until closed
    expected = read_report(FIXTURES / "staff.expected.csv")
    assert rows[0] == list(expected[0])
    assert rows[1:] == [list(r.values()) for r in expected]
    police = read_report(tmp_path / "police.csv")
    assert [(p["Dòng"], p["Còn thiếu"]) for p in police] == [
        ("5", "CCCD; VNeID mức 2 (khai «Chưa»)")
    ]
    assert "1 người từ 14 tuổi" in result.stdout


def _personal_values() -> set[str]:
    values = set()
    for line in (FIXTURES / "staff.csv").read_text(encoding="utf-8-sig").splitlines()[1:]:
        cells = line.split(";")
        if len(cells) > 14 and cells[0]:
            values |= {cells[3], cells[8], cells[13], cells[2]}  # birth date, CCCD, phone, name
    return {v for v in values if v}


def test_the_terminal_shows_no_personal_value(tmp_path: Path) -> None:
    result = hoso(str(FIXTURES / "staff.csv"), "--out", "r.csv", "--today", TODAY, cwd=tmp_path)
    shown = result.stdout + result.stderr
    for value in _personal_values():
        assert value not in shown
    assert not re.search(r"\d{9,}", shown)


BAD = [
    ("empty.csv", b"", "trống"),
    ("fake.xlsx", b"<html><table><tr><td>x</td></tr></table></html>", "HTML"),
    ("cp1258.csv", "Mã trường;Họ và tên\n1;Đặng\n".encode("cp1258", errors="replace"), "UTF-8"),
    ("cols.csv", "Mã trường,Họ và tên\n1,An\n".encode(), "thiếu"),
]


@pytest.mark.parametrize(("name", "content", "word"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_file_exits_2_with_a_message(
    tmp_path: Path, name: str, content: bytes, word: str
) -> None:
    (tmp_path / name).write_bytes(content)
    result = hoso(name, "--out", "r.csv", cwd=tmp_path)
    assert result.returncode == 2
    assert word in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "r.csv").exists()
    assert list(tmp_path.iterdir()) == [tmp_path / name]  # no half report left behind


def test_bad_bytes_past_the_header_are_named_by_line(tmp_path: Path) -> None:
    """The column-wise reader leaves the UTF-8 check of a file's body to polars; a bad byte
    far down the file still ends with the row reader's message naming the line."""
    cells = lambda row: ",".join(cell_text(c) or "" for c in row)  # noqa: E731
    text = cells(STUDENT_HEADERS) + "\n" + "".join(cells(r) + "\n" for r in STUDENTS) * 1000
    assert len(text.encode()) > 1 << 20  # past the part checked when the file is opened
    lines = text.count("\n")
    bad = cells(STUDENTS[0]).replace("Nguyễn", "Đà").encode("cp1258", errors="replace")
    (tmp_path / "late.csv").write_bytes(text.encode() + bad + b"\n")
    result = hoso("late.csv", "--out", "r.csv", "--kind", "student", cwd=tmp_path)
    assert result.returncode == 2
    assert "UTF-8" in result.stderr
    assert f"dòng {lines + 1}" in result.stderr
    assert not (tmp_path / "r.csv").exists()


def _write_both(tmp_path: Path, rows: list[list[object]]) -> tuple[Path, Path]:
    book = openpyxl.Workbook()
    for row in [STUDENT_HEADERS, *rows]:
        book.active.append(row)
    book.save(tmp_path / "hs.xlsx")
    with (tmp_path / "hs.csv").open("w", encoding="utf-8-sig", newline="") as handle:
        # each cell as the workbook reader reads it (a date as dd/mm/yyyy)
        texts = [[cell_text(cell) or "" for cell in row] for row in [STUDENT_HEADERS, *rows]]
        csv.writer(handle).writerows(texts)
    return tmp_path / "hs.xlsx", tmp_path / "hs.csv"


@pytest.mark.parametrize("last_name", ["Nguyễn Văn Tư", 'Nguyễn "Tư'],
                         ids=["column-wise", "stray quote"])  # fmt: skip
def test_csv_and_xlsx_give_the_same_report(tmp_path: Path, last_name: str) -> None:
    """A CSV is audited column by column (or, when polars would read it otherwise than the
    csv module, row by row: a quote inside a cell); a workbook row by row. The same rows give
    the same report, police list and summary either way. (A line break in a CSV cell makes a
    row the CSV reader does not read: tests/test_roster_hostile.py.)"""
    rows = [list(row) for row in STUDENTS]
    rows[-1][3] = last_name
    xlsx, plain = _write_both(tmp_path, rows)
    args = ("--today", TODAY, "--kind", "student")
    by_rows = hoso(str(xlsx), "--out", "a.csv", "--police", "pa.csv", *args, cwd=tmp_path)
    by_columns = hoso(str(plain), "--out", "b.csv", "--police", "pb.csv", *args, cwd=tmp_path)
    assert by_rows.returncode == by_columns.returncode == 0, by_columns.stderr
    for a, b in (("a.csv", "b.csv"), ("pa.csv", "pb.csv")):  # a workbook's say the sheet too
        assert without_sheet(tmp_path / a) == without_sheet(tmp_path / b)
    renamed = by_columns.stdout.replace("b.csv", "a.csv").replace("pb.csv", "pa.csv")
    assert renamed == by_rows.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["hs.xlsx", "hs.csv", "a.csv", "b.csv", "pa.csv", "pb.csv"]
    )


def test_usage_errors(tmp_path: Path) -> None:
    assert hoso("--out", "r.csv", cwd=tmp_path).returncode == 2
    source = str(FIXTURES / "staff.csv")
    assert "đuôi" in hoso(source, "--out", "r.txt", cwd=tmp_path).stderr
    assert hoso(source, "--out", "r.csv", "--kind", "x", cwd=tmp_path).returncode == 2


async def _seed(url: str, people: date) -> list[SamplePerson]:
    await upgrade(url)
    school = generate_school(today=people)
    store = Store(make_engine(url))
    try:
        await seed_school(store, school, at=datetime(2026, 9, 1, 8, 0).astimezone())
    finally:
        await store.close()
    return [*school.staff, *school.students]


def _expected_missing(people: list[SamplePerson], today: date) -> set[tuple[str, str]]:
    catalogues = load_reference(CatalogueSettings()).catalogues
    found = set()
    for person in people:
        for flaw in person.flaws:
            if not flaw.startswith("missing:"):
                continue
            key = flaw.removeprefix("missing:")
            if is_required(catalogues[person.kind].field(key), person.values, today):
                found.add((person.ma_dinh_danh, key))
    return found


def _listed(people: list[SamplePerson], flaws: set[str]) -> int:
    """People with one of ``flaws`` whose age is known to be 14+: every sample person is, but a
    student whose birth date was blanked cannot be placed (staff are adults by definition)."""
    unknown_age = "missing:ngay_sinh"
    return sum(
        1
        for p in people
        if flaws & set(p.flaws) and (p.kind == "staff" or unknown_age not in p.flaws)
    )


def test_db_audit_agrees_with_the_sample_flaws(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hoso.db'}"
    today = date(2026, 9, 1)
    people = asyncio.run(_seed(url, today))
    env = {"HOSO_DATABASE__URL": url}
    result = hoso("--db", "--out", "r.csv", "--today", TODAY, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    report = read_report(tmp_path / "r.csv")
    by_row = {int(r["Dòng"]): r["Mã định danh Bộ GD&ĐT"] for r in report}
    assert all(people[row - 1].ma_dinh_danh == ma for row, ma in by_row.items())  # id order
    codes = Counter(r["Mã lỗi"] for r in report)
    flaws = Counter(flaw for p in people for flaw in p.flaws)
    assert codes["PHONE_OLD_11_DIGITS"] == flaws["old_phone"]
    assert codes["CCCD_OLD_CMND"] == flaws["old_cmnd"]
    assert codes["CCCD_BIRTH_YEAR_MISMATCH"] == flaws["cccd_year_mismatch"]
    assert codes["NOT_NORMALISED"] == flaws["nfd_name"]
    assert codes["AGE14_NO_VNEID"] == _listed(people, {"missing:vneid_muc_2"})
    assert codes["AGE14_DECLARED_NO_VNEID"] == _listed(people, {"vneid_chua"})
    assert codes["AGE14_NO_CCCD"] == _listed(people, {"old_cmnd", "missing:so_dinh_danh"})
    missing = {
        (r["Mã định danh Bộ GD&ĐT"], r["Mã thông tin"]) for r in report if r["Mã lỗi"] == "MISSING"
    }
    assert missing == _expected_missing(people, today)
    no_guardian = [
        p for p in people if p.kind == "student" and not any(
            p.values.get(name) and p.values.get(phone) for name, phone in GUARDIANS
        )
    ]  # fmt: skip
    assert codes["GUARDIAN_MISSING"] == len(no_guardian)
    assert set(codes) <= {
        "PHONE_OLD_11_DIGITS", "CCCD_OLD_CMND", "CCCD_BIRTH_YEAR_MISMATCH", "NOT_NORMALISED",
        "AGE14_NO_VNEID", "AGE14_DECLARED_NO_VNEID", "AGE14_NO_CCCD", "MISSING",
        "GUARDIAN_MISSING",
    }  # fmt: skip
    assert re.search(rf"Tổng\s.*\b{len(people)}\b", result.stdout)


async def _streamed(url: str, kind: str | None, batch: int, after: int = 0) -> list[str]:
    store = Store(make_engine(url))
    try:
        async with store.unit_of_work() as uow:
            return [p.ma_dinh_danh async for p in uow.people.stream(kind, batch, after_id=after)]
    finally:
        await store.close()


def test_person_stream_pages_by_id(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hoso.db'}"
    people = asyncio.run(_seed(url, date(2026, 9, 1)))
    every = [p.ma_dinh_danh for p in people]
    assert asyncio.run(_streamed(url, None, 7)) == every  # 340 = 48 pages of 7 and one of 4
    assert asyncio.run(_streamed(url, None, 340)) == every  # an exactly full last page
    staff = [p.ma_dinh_danh for p in people if p.kind == "staff"]
    assert asyncio.run(_streamed(url, "staff", 9)) == staff
    assert asyncio.run(_streamed(url, None, 50, after=5)) == every[5:]
