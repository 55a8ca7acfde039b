"""Header spellings (flows/data/headers.toml), the header row, the rows that are no record, the
class a sheet's name gives (issue #16)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config.settings import Settings
from bot.engine.reference import load_reference
from bot.roster.reader import guess_kind, open_roster
from bot.roster.table import matcher_of, shipped_aliases
from flows.headers import HeaderMatcher, header_row, label_to_key
from flows.table import class_of_sheet, is_footer
from tests.test_import import hoso

REFERENCE = load_reference(Settings().catalogue)
CATALOGUES = REFERENCE.catalogues
#: What a students' roster of one school, read without every required column, is given: the
#: required columns it lacks (a test of columns, not of the rules).
FILL = {s.key: "x" for s in CATALOGUES["student"].fields if s.required or s.required_if} | {
    "vneid_muc_2": "Có"
}


@pytest.mark.parametrize("kind", ["staff", "student"])
def test_no_spelling_names_two_fields(kind: str) -> None:
    """Within a kind, every spelling (shipped, header, label, key) names one field only."""
    matcher = HeaderMatcher(CATALOGUES[kind], shipped_aliases())
    assert matcher.conflicts == []


def test_every_spelling_names_a_field_of_its_kind() -> None:
    text = resources.files("flows").joinpath("data", "headers.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    for kind in ("staff", "student"):
        assert set(data[kind]) <= CATALOGUES[kind].keys, kind
    both = CATALOGUES["staff"].keys | CATALOGUES["student"].keys
    assert set(data["any"]) <= both
    ignored = {
        m.key_of(h)
        for m in map(matcher_of, CATALOGUES.values())
        for h in data["ignore"]["headers"]
    }
    assert ignored == {None}  # a column ignored is never also a field


@pytest.mark.parametrize(
    ("kind", "header", "key"),
    [
        ("student", "Mã học sinh", "ma_dinh_danh"),
        ("student", "MÃ HS", "ma_dinh_danh"),
        ("staff", "Mã CB", "ma_dinh_danh"),
        ("student", "Số CCCD", "so_dinh_danh"),
        ("staff", "CCCD", "so_dinh_danh"),
        ("student", "Số định danh", "so_dinh_danh"),
        ("student", "Số ĐDCN", "so_dinh_danh"),
        ("staff", "SĐT", "so_dien_thoai"),
        ("staff", "Số điện thoại", "so_dien_thoai"),
        ("staff", "Điện thoại", "so_dien_thoai"),
        ("staff", "ĐT liên hệ", "so_dien_thoai"),
        ("staff", "Ngày vào ngành", "ngay_tuyen_dung"),
        ("staff", "Tỉnh/TP thường trú", "thuong_tru_tinh"),
        ("student", "Tỉnh / TP thường trú", "thuong_tru_tinh"),
        ("student", "Người giám hộ", "ho_ten_giam_ho"),
        ("student", "Họ tên cha", "ho_ten_cha"),
        ("student", "Họ tên mẹ", "ho_ten_me"),
        ("student", "ngày  sinh", "ngay_sinh"),
        ("student", "Giới tính", "gioi_tinh"),
        ("student", "Dân tộc", "dan_toc"),
        ("student", "LỚP", "lop"),
        ("student", "Họ và tên", "ho_ten"),
        ("staff", "Họ tên", "ho_ten"),
        ("student", "Tên trường", "ten_truong"),
        ("student", "STT", None),
        ("staff", "Lớp", None),  # a staff roster has no class
        ("student", "SĐT", None),  # whose? a student's roster has the parents' phones
    ],
)
def test_header_spellings(kind: str, header: str, key: str | None) -> None:
    assert matcher_of(CATALOGUES[kind]).key_of(header) == key


@pytest.mark.parametrize(
    ("kind", "header", "resembles"),
    [
        ("student", "SĐT", "sdt_cha"),
        ("student", "Số CCCD học sinh", "so_dinh_danh"),
        ("staff", "Ngày vào ngành GD", "ngay_tuyen_dung"),
        ("student", "STT", None),
        ("student", "Ghi chú", None),
    ],
)
def test_a_column_that_looks_like_a_field_is_a_warning(
    kind: str, header: str, resembles: str | None
) -> None:
    matcher = matcher_of(CATALOGUES[kind])
    assert matcher.key_of(header) is None
    found = matcher.resembles(header)
    if resembles is None or resembles.startswith("sdt_"):
        assert (found or "").startswith("sdt_") if resembles else found is None
    else:
        assert found == resembles


def test_the_header_row_is_the_one_naming_the_most_fields() -> None:
    rows = [
        ["SỞ GIÁO DỤC VÀ ĐÀO TẠO", None, None],
        ["DANH SÁCH HỌC SINH LỚP 10A1 - Họ và tên", None, None],
        [],
        ["STT", "Mã học sinh", "Họ và tên", "Ngày sinh", "Lớp"],
        ["1", "7910000001", "Nguyễn Văn An", "01/01/2010", "10A1"],
    ]
    matchers = [matcher_of(c) for c in CATALOGUES.values()]
    assert header_row(rows, matchers) == 3
    assert header_row([["a", "b"], ["c"]], matchers) == 0  # none: the first row, as before


@pytest.mark.parametrize(
    ("cells", "footer"),
    [
        (["Người lập biểu", None, "Hiệu trưởng"], True),
        (["(Ký, ghi rõ họ tên)"], True),
        ([None, "TP. Hồ Chí Minh, ngày 05 tháng 9 năm 2026"], True),
        (["Ngày ... tháng ... năm 2026"], True),
        (["KT. HIỆU TRƯỞNG", "PHÓ HIỆU TRƯỞNG"], True),
        (["7910000001", "Nguyễn Văn An", "Hiệu trưởng"], False),  # a record (a key)
        (["Nguyễn Văn An", "10A1"], False),
        ([None, None], False),
    ],
)
def test_footer_rows(cells: list[str | None], footer: bool) -> None:
    assert is_footer(cells) is footer


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("10A1", "10A1"), ("Lớp 10A2", "10A2"), ("6/1", "6/1"), ("lop 11a3", "11A3"),
        ("12 A1", "12A1"), ("Sheet1", None), ("Tổng hợp", None), ("2026", None), ("Lớp", None),
    ],
)  # fmt: skip
def test_class_of_sheet(name: str, cls: str | None) -> None:
    assert class_of_sheet(name) == cls


def test_labels_name_fields_as_keys_do() -> None:
    student = CATALOGUES["student"]
    assert label_to_key("Số điện thoại cha", student) == "sdt_cha"
    assert label_to_key("sdt_cha", student) == "sdt_cha"
    assert label_to_key("Tài khoản định danh điện tử (VNeID) mức 2", student) == "vneid_muc_2"
    assert label_to_key("Không có", student) is None


def test_the_kind_is_the_found_header_rows(tmp_path: Path) -> None:
    """A students' roster under title rows is not taken for a staff roster (issue #16)."""
    assert guess_kind(("STT", "Mã học sinh", "Họ tên cha", "Họ tên mẹ"), CATALOGUES) == "student"
    assert guess_kind(("Mã CB", "SĐT", "Ngày vào ngành"), CATALOGUES) == "staff"
    assert (
        guess_kind(("Mã HS", "Họ và tên", "Ngày sinh"), CATALOGUES, sheet_names=["10A1", "10A2"])
        == "student"
    )
    path = tmp_path / "ds.csv"
    path.write_text(
        "DANH SÁCH HỌC SINH,,,\n,,,\nMã học sinh,Họ và tên,Lớp,Ngày sinh\n7910000001,An,10A1,\n",
        encoding="utf-8",
    )
    with open_roster(path) as roster:
        assert roster.headers == ("Mã học sinh", "Họ và tên", "Lớp", "Ngày sinh")
        assert guess_kind(roster.headers, CATALOGUES) == "student"
        assert not roster.plain  # read row by row: the column reader wants the header first


@pytest.mark.parametrize("command", ["import", "audit"])
def test_an_xlsx_report_of_a_file_without_its_columns_prints_no_traceback(
    tmp_path: Path, command: str
) -> None:
    """The refusal in Vietnamese, and nothing of openpyxl's (issue #16: ``ValueError: I/O
    operation on closed file.`` after the message)."""
    source = tmp_path / "ds.csv"
    source.write_text("Cột A,Cột B\n1,2\n", encoding="utf-8")
    url = f"sqlite+aiosqlite:///{tmp_path / 'hoso.db'}"
    if command == "import":
        done = hoso(str(source), "--kind", "student", "--report", "r.xlsx", cwd=tmp_path, url=url)
    else:
        done = subprocess.run(
            [sys.executable, "-m", "bot", "audit", str(source), "--kind", "student",
             "--out", "r.xlsx"],
            cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert done.returncode != 0
    assert "Tệp thiếu" in done.stderr
    assert "Traceback" not in done.stderr
    assert "ValueError" not in done.stderr
    assert not (tmp_path / "r.xlsx").exists()
    assert not list(tmp_path.glob(".r.xlsx*"))


def test_column_takes_a_fields_label(tmp_path: Path) -> None:
    """``--column "SĐT=Số điện thoại cha"``: the label as the chat shows it, like the key."""
    headers = ["Mã học sinh", "Mã trường", "Lớp", "Họ và tên", "SĐT"]
    source = tmp_path / "ds.csv"
    source.write_text(",".join(headers) + "\n7910000001,79000701,10A1,An,912345678\n", "utf-8")
    url = f"sqlite+aiosqlite:///{tmp_path / 'hoso.db'}"
    plain = hoso(str(source), "--kind", "student", "--dry-run", cwd=tmp_path, url=url)
    assert "Cảnh báo: Cột «SĐT» giống «Số điện thoại" in plain.stdout + plain.stderr
    labelled = hoso(str(source), "--kind", "student", "--dry-run", "--column",
                    "SĐT=Số điện thoại cha", cwd=tmp_path, url=url)  # fmt: skip
    assert "Cảnh báo" not in labelled.stdout
    assert "│ SĐT" in labelled.stdout
    assert "Số điện thoại cha" in labelled.stdout


@given(
    st.lists(st.lists(st.one_of(st.none(), st.text(max_size=30)), max_size=8), max_size=12),
    st.text(max_size=20),
)
def test_no_cells_crash_the_table_finder(rows: list[list[str | None]], name: str) -> None:
    matchers = [matcher_of(c) for c in CATALOGUES.values()]
    index = header_row(rows, matchers)
    assert 0 <= index <= max(len(rows) - 1, 0)
    for cells in rows:
        assert isinstance(is_footer(cells), bool)
        for cell in cells:
            found = matchers[0].resembles(cell or "")
            assert found is None or found in matchers[0].labels
    cls = class_of_sheet(name)
    assert cls is None or cls[0].isdigit()


def test_a_header_of_two_rows_reads_groups_over_sub_headers(tmp_path: Path) -> None:
    """ "Cha" merged over "Họ tên" and "SĐT", "Mẹ" the same: the parents' columns."""
    import openpyxl

    upper = ["STT", "Mã học sinh", "Họ và tên", "Lớp", "Cha", None, "Mẹ", None]
    lower = [None, None, None, None, "Họ tên", "SĐT", "Họ tên", "SĐT"]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["DANH SÁCH HỌC SINH"])
    sheet.append(upper)
    sheet.append(lower)
    sheet.merge_cells("E2:F2")
    sheet.merge_cells("G2:H2")
    for column in "ABCD":
        sheet.merge_cells(f"{column}2:{column}3")
    sheet.append([1, "7910000001", "Nguyễn Văn An", "10A1", "Nguyễn Văn Ba", 912345678,
                  "Lê Thị Cúc", "0987654321"])  # fmt: skip
    path = tmp_path / "ds.xlsx"
    book.save(path)
    with open_roster(path) as roster:
        matcher = matcher_of(CATALOGUES["student"])
        assert [matcher.key_of(h) for h in roster.headers] == [
            None, "ma_dinh_danh", "ho_ten", "lop", "ho_ten_cha", "sdt_cha", "ho_ten_me", "sdt_me",
        ]  # fmt: skip
        assert roster.sheets[0].header_number == 3
        (row, values), *rest = list(roster.records(CATALOGUES["student"], fill=FILL))
    assert (row, not rest) == (4, True)
    assert (values["ho_ten_cha"], values["sdt_cha"]) == ("Nguyễn Văn Ba", "912345678")
    assert (values["ho_ten_me"], values["sdt_me"]) == ("Lê Thị Cúc", "0987654321")
