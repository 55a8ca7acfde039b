"""bot.roster.reader: CSV and XLSX rosters streamed row by row; every bad file a Vietnamese
sentence."""

from __future__ import annotations

import tracemalloc
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path

import openpyxl  # type: ignore[import-untyped]
import pytest

from bot.config.settings import CatalogueSettings
from bot.engine.reference import Reference, load_reference
from bot.roster.reader import RosterError, cell_text, guess_kind, match_columns, open_roster

STAFF_HEADERS = [
    "Mã định danh Bộ GD&ĐT", "Mã trường", "Họ và tên", "Ngày sinh", "Giới tính", "Dân tộc",
    "Tôn giáo", "Quốc tịch", "Số định danh cá nhân", "Tỉnh/Thành phố thường trú",
    "Phường/Xã thường trú", "Địa chỉ chi tiết thường trú", "Số điện thoại", "Email",
    "Mã số BHXH", "Trình độ đào tạo", "Vị trí việc làm", "Môn dạy", "Định danh điện tử mức 2",
]  # fmt: skip
ROW = [
    "7900070001", "79000701", "Nguyễn Thị Mai", "15/08/1985", "Nữ", "Kinh", "Không",
    "Việt Nam", "079185001234", "Thành phố Hồ Chí Minh", "Phường Sài Gòn", "123 Đường Lê Lợi",
    "0912345678", "mai@x.edu.vn", "7912345678", "Đại học", "Giáo viên", "Toán", "Có",
]  # fmt: skip


@pytest.fixture(scope="module")
def reference() -> Reference:
    return load_reference(CatalogueSettings())


def write_csv(path: Path, rows: list[list[str]], sep: str = ",", encoding: str = "utf-8") -> Path:
    path.write_text("\n".join(sep.join(r) for r in rows) + "\n", encoding=encoding)
    return path


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def read_all(
    path: Path, reference: Reference, kind: str = "staff"
) -> list[tuple[int, dict[str, str | None]]]:
    with open_roster(path) as roster:
        return list(roster.records(reference.catalogues[kind]))


def error_of(path: Path, reference: Reference) -> str:
    with pytest.raises(RosterError) as caught:
        read_all(path, reference)
    return str(caught.value)


@pytest.mark.parametrize(
    ("sep", "encoding"), [(",", "utf-8"), (";", "utf-8-sig"), ("\t", "utf-8")]
)
def test_csv_rows_by_key(tmp_path: Path, reference: Reference, sep: str, encoding: str) -> None:
    path = write_csv(tmp_path / "r.csv", [STAFF_HEADERS, ROW, ROW], sep, encoding)
    rows = read_all(path, reference)
    assert [n for n, _ in rows] == [2, 3]  # the file's lines, as Excel shows them (#16)
    assert rows[0][1]["ma_dinh_danh"] == "7900070001"
    assert rows[0][1]["ho_ten"] == "Nguyễn Thị Mai"


def test_headers_match_forgivingly(tmp_path: Path, reference: Reference) -> None:
    headers = [unicodedata.normalize("NFD", h.upper()).replace(" ", "  ") for h in STAFF_HEADERS]
    headers[2] = "Tên đầy đủ"  # configured by the mapping
    headers.append("Ghi chú")  # unknown: ignored
    path = write_csv(tmp_path / "r.csv", [headers, [*ROW, "x"]])
    with open_roster(path) as roster:
        rows = list(roster.records(reference.catalogues["staff"], {"Tên đầy đủ": "ho_ten"}))
    assert rows[0][1]["ho_ten"] == "Nguyễn Thị Mai"
    assert "Ghi chú" not in rows[0][1]


def test_blank_rows_are_skipped_but_keep_their_number(
    tmp_path: Path, reference: Reference
) -> None:
    no_email = [*ROW[:13], "", *ROW[14:]]
    path = write_csv(tmp_path / "r.csv", [STAFF_HEADERS, ROW, [""] * 3, no_email])
    rows = read_all(path, reference)
    assert [n for n, _ in rows] == [2, 4]
    assert rows[1][1]["email"] is None  # (a row of fewer cells: tests/test_roster_hostile.py)


def test_cells_become_text() -> None:
    assert cell_text(datetime(2010, 9, 5)) == "05/09/2010"
    assert cell_text(date(2010, 9, 5)) == "05/09/2010"
    assert cell_text(912345678) == "912345678"  # the lost zero is reported, not guessed
    assert cell_text(79185001234.0) == "79185001234"
    assert cell_text(1.5) == "1.5"
    assert cell_text("  ") is None
    assert cell_text(True) == "Có"


def test_xlsx_rows(tmp_path: Path, reference: Reference) -> None:
    row: list[object] = list(ROW)
    row[3], row[12] = datetime(1985, 8, 15), 912345678
    path = write_xlsx(tmp_path / "r.xlsx", [STAFF_HEADERS, row, [], row])
    rows = read_all(path, reference)
    assert [n for n, _ in rows] == [2, 4]  # as Excel shows them (issue #16)
    assert rows[0][1]["ngay_sinh"] == "15/08/1985"
    assert rows[0][1]["so_dien_thoai"] == "912345678"


def test_kind_is_guessed_from_a_class_column(reference: Reference) -> None:
    assert guess_kind(("Mã trường", "LỚP"), reference.catalogues) == "student"
    assert guess_kind(tuple(STAFF_HEADERS), reference.catalogues) == "staff"


def test_missing_required_columns_are_listed(tmp_path: Path, reference: Reference) -> None:
    headers = [h for h in STAFF_HEADERS if h not in ("Email", "Ngày sinh")]
    message = error_of(write_csv(tmp_path / "r.csv", [headers, ROW]), reference)
    assert "thiếu 2 cột bắt buộc: Ngày sinh, Email" in message


def test_two_columns_for_one_field(tmp_path: Path, reference: Reference) -> None:
    path = write_csv(tmp_path / "r.csv", [[*STAFF_HEADERS, "HO VA TEN"], [*ROW, "x"]])
    assert "cùng chỉ một thông tin" in error_of(path, reference)


def test_a_mapping_to_an_unknown_key(reference: Reference) -> None:
    with pytest.raises(RosterError, match="trường không có"):
        match_columns(tuple(STAFF_HEADERS), reference.catalogues["staff"], {"X": "nope"})


def _cp1258(path: Path) -> None:
    """What Excel saves as plain "CSV" on a Vietnamese Windows: Windows-1258 bytes."""
    text = "\n".join(",".join(r) for r in [STAFF_HEADERS, ROW]) + "\n"
    path.write_bytes(text.encode("cp1258", errors="replace"))


def _late_bad_byte(path: Path) -> None:
    text = "\n".join(",".join(r) for r in [STAFF_HEADERS, ROW, ROW]) + "\n"
    path.write_bytes(text.encode() + b"x\xff\n")


def _zip_not_xlsx(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "hi")


HTML = b"<html><body><table><tr><td>M\xc3\xa3</td></tr></table></body></html>"
OLE = bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 600
Maker = bytes | Callable[[Path], object] | None
# (case, file name, its content or a function writing it, words the message must contain)
BAD_FILES: list[tuple[str, str, Maker, list[str]]] = [
    ("windows code page", "r.csv", _cp1258, ["UTF-8", "Lưu lại tệp dưới dạng CSV UTF-8"]),
    ("bad byte on line 4", "r.csv", _late_bad_byte, ["dòng 4", "UTF-8"]),
    ("utf-16", "r.csv", "a,b\n".encode("utf-16"), ["UTF-16"]),
    ("empty", "r.csv", b"", ["trống"]),
    ("blank lines", "r.csv", b"\n \n", ["trống"]),
    ("header only", "r.csv", lambda p: write_csv(p, [STAFF_HEADERS]), ["chỉ có dòng tiêu đề"]),
    ("header only xlsx", "r.xlsx", lambda p: write_xlsx(p, [STAFF_HEADERS]), ["chỉ có dòng"]),
    ("empty xlsx", "r.xlsx", lambda p: write_xlsx(p, []), ["trống"]),
    ("html as xlsx", "r.xlsx", HTML, ["HTML"]),
    ("html as xls", "r.xls", b"\n  " + HTML, ["HTML"]),
    ("old xls", "r.xls", OLE, [".xls"]),
    ("text as xlsx", "r.xlsx", b"hello", ["không phải tệp Excel"]),
    ("zip, not xlsx", "r.xlsx", _zip_not_xlsx, ["Không đọc được tệp Excel"]),
    ("no such file", "none.csv", None, ["Không tìm thấy tệp"]),
]


@pytest.mark.parametrize(
    ("case", "name", "content", "words"), BAD_FILES, ids=[b[0] for b in BAD_FILES]
)
def test_bad_files_end_with_a_clear_message(
    tmp_path: Path, reference: Reference, case: str, name: str, content: Maker, words: list[str]
) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        content(path)
    message = error_of(path, reference)
    for word in words:
        assert word in message
    assert unicodedata.is_normalized("NFC", message)


def _rows(count: int) -> Iterator[str]:
    yield ",".join(STAFF_HEADERS)
    for _ in range(count):
        yield ",".join(ROW)


def test_memory_does_not_grow_with_rows(tmp_path: Path, reference: Reference) -> None:
    path = tmp_path / "big.csv"
    path.write_text("\n".join(_rows(20_000)) + "\n", encoding="utf-8")
    tracemalloc.start()
    try:
        with open_roster(path) as roster:
            count = sum(1 for _ in roster.records(reference.catalogues["staff"]))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 20_000
    assert peak < 1_000_000  # the file is ~4 MB; one row at a time stays far below
