"""Reading a school's roster (CSV or XLSX) row by row, columns matched by header text.

Schools export rosters from whatever software they have: CSV in UTF-8 or a Windows code page,
with "," or ";", Excel files, or HTML tables saved as ".xls". A bad file must end with a sentence
the school's clerk can act on, never a traceback, so every failure becomes a ``RosterError`` in
Vietnamese. Rows are streamed (generators all the way), so memory does not grow with the file;
``hoso audit`` and ``hoso import`` share this reader.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from bot.roster.cells import BROKEN, Broken, RawRows, RowValues, SheetRow, cell_text
from bot.roster.limits import SETTING, RosterLimits, check_file_size, check_workbook
from bot.roster.limits import RosterError as RosterError  # re-exported: every reader's error
from bot.roster.table import Roster, Sheet, guess_kind, header_key, match_columns, needs_column

__all__ = [
    "BROKEN", "Broken", "RawRows", "Roster", "RosterError", "RowValues", "SheetRow", "cell_text",
    "guess_kind", "header_key", "is_workbook", "match_columns", "needs_column", "open_roster",
]  # fmt: skip

_CHUNK = 1 << 16
_SNIFF = 2048
_HEAD_CHECKED = 1 << 20  # bytes of a CSV checked for UTF-8 when its reader checks the rest
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the pre-2007 .xls container
_MARKUP = (b"<!doctype", b"<html", b"<table", b"<?xml", b"<meta", b"<head", b"<body")
_EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
_DELIMITERS = (",", ";", "\t")
SAVE_AS_CSV = "Hãy mở tệp bằng Excel và lưu lại dưới dạng CSV UTF-8 hoặc Excel (.xlsx)."


def _non_blank(name: str, rows: Iterable[Sequence[object]], limits: RosterLimits) -> RawRows:
    """Number a workbook's rows from 1 (the header) and drop the ones with nothing in them;
    stop after ``limits.blank_rows_end`` blank rows in a row (the sheet's data has ended),
    refuse a row or a cell beyond the limits before it is used."""
    blank = 0
    try:
        for number, cells in enumerate(rows, start=1):
            if any(cell_text(cell) is not None for cell in cells):
                blank = 0
                _check_row(name, number, cells, limits)
                yield number, cells
            else:
                blank += 1
                if blank >= limits.blank_rows_end:
                    return
    finally:  # openpyxl's reader holds the sheet's part open until it is closed
        close = getattr(rows, "close", None)
        if close is not None:
            close()


def _check_row(name: str, number: int, cells: Sequence[object], limits: RosterLimits) -> None:
    if number > limits.max_rows + 1:
        raise RosterError(
            f"Tệp {name} có hơn {limits.max_rows} dòng dữ liệu {SETTING}. "
            "Hãy chia danh sách thành nhiều tệp nhỏ hơn (ví dụ theo trường)."
        )
    if len(cells) > limits.max_columns and any(c is not None for c in cells[limits.max_columns :]):
        raise RosterError(
            f"Tệp {name}: dòng {number} có hơn {limits.max_columns} cột {SETTING}. "
            "Hãy xoá các cột thừa rồi chạy lại."
        )
    for cell in cells:
        if type(cell) is str and len(cell) > limits.max_cell_chars:
            raise RosterError(_long_cell(name, number, limits))


def _long_cell(name: str, line: int, limits: RosterLimits) -> str:
    return (
        f"Tệp {name}: dòng {line} có một ô dài hơn {limits.max_cell_chars} ký tự {SETTING}. "
        'Thường do một dấu ngoặc kép (") không được đóng, làm các dòng sau bị gộp vào một ô, '
        "hoặc do dán nhầm cả một văn bản vào ô. Hãy sửa rồi chạy lại (nhập lại không tạo bản "
        "ghi trùng)."
    )


class _CheckedCsv:
    """A CSV file's rows numbered from 1 (the header), blank ones dropped, each checked.

    A cell may not span lines (a stray quote swallows the rows after it into one cell), and a
    row must have the header's number of cells (else its values land in the wrong columns):
    such a row comes as ``Broken``, never as cells, so it is rejected and listed, never stored.
    Past the limits, or on a ``csv.Error``, the file stops with a Vietnamese ``RosterError``.
    """

    def __init__(self, name: str, reader: Any, delimiter: str, limits: RosterLimits) -> None:
        self.name, self.reader, self.delimiter, self.limits = name, reader, delimiter, limits

    def rows(self) -> RawRows:
        name, reader, limits = self.name, self.reader, self.limits
        width, line = -1, 0
        try:
            for number, cells in enumerate(reader, start=1):
                start, line = line + 1, reader.line_num
                joined = "".join(cells)
                if line != start or "\n" in joined or "\r" in joined:
                    if width < 0:
                        raise RosterError(f"Tệp {name}: dòng tiêu đề {self._spans(start, line)}.")
                    yield number, Broken((self._spans(start, line),))
                    continue
                if not joined.strip():
                    continue
                if width < 0:
                    width = self._header(len(cells))
                elif len(cells) != width:
                    yield number, Broken((self._width(len(cells), width),))
                    continue
                if number > limits.max_rows + 1:
                    raise RosterError(
                        f"Tệp {name} có hơn {limits.max_rows} dòng dữ liệu {SETTING}. "
                        "Hãy chia danh sách thành nhiều tệp nhỏ hơn (ví dụ theo trường)."
                    )
                yield number, cells
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise RosterError(_long_cell(name, line + 1, limits)) from exc
            raise RosterError(
                f"Tệp {name} không đúng dạng CSV ở dòng {line + 1}. {SAVE_AS_CSV}"
            ) from exc

    def _header(self, width: int) -> int:
        if width > self.limits.max_columns:
            raise RosterError(
                f"Tệp {self.name} có {width} cột, quá giới hạn {self.limits.max_columns} cột "
                f"{SETTING}. Hãy xoá các cột thừa rồi chạy lại."
            )
        return width

    @staticmethod
    def _spans(start: int, end: int) -> str:
        return (
            f"có một ô kéo dài từ dòng {start} sang dòng {end} của tệp: thường do một dấu ngoặc "
            'kép " không được đóng, làm các dòng ấy bị gộp vào một ô, nên không dòng nào trong '
            "số đó được nhập. Hãy xoá dấu ngoặc kép thừa (hoặc chỗ xuống dòng trong ô) rồi nhập "
            "lại"
        )

    def _width(self, cells: int, width: int) -> str:
        return (
            f"dòng có {cells} ô nhưng dòng tiêu đề có {width} ô (thừa hoặc thiếu dấu phân cách "
            f"«{self.delimiter}», hoặc một dấu ngoặc kép lạc), nên các giá trị sẽ rơi vào sai "
            "cột. Hãy sửa dòng này rồi nhập lại"
        )


def open_roster(
    path: Path, *, check_encoding: bool = True, limits: RosterLimits | None = None
) -> Roster:
    """Open a roster by what the file really is (not by its extension) and read its header.

    ``check_encoding=False`` checks only the start of a CSV file (its header) is UTF-8: for a
    reader that checks the rest itself. ``limits``: ``[limits]`` (``bot.roster.limits``)."""
    limits = limits or RosterLimits()
    head = _head(path)
    check_file_size(path, limits)
    if head.startswith(_ZIP):
        check_workbook(path, limits)
        return _open_xlsx(path, limits)
    if head.startswith(_OLE):
        raise RosterError(
            f"Tệp {path.name} là tệp Excel cũ (.xls), chưa đọc được. "
            "Hãy mở bằng Excel và lưu lại dưới dạng Excel (.xlsx) hoặc CSV UTF-8."
        )
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").lower().startswith(_MARKUP):
        raise RosterError(
            f"Tệp {path.name} thực ra là trang HTML/XML (thường do phần mềm xuất ra), "
            f"không phải bảng tính. {SAVE_AS_CSV}"
        )
    if path.suffix.lower() in _EXCEL_SUFFIXES:
        raise RosterError(f"Tệp {path.name} không phải tệp Excel hợp lệ. {SAVE_AS_CSV}")
    return _open_csv(path, head, limits, check_encoding)


def is_workbook(path: Path) -> bool:
    """Whether ``path`` is an Excel workbook (its reports then say which sheet a row is on)."""
    try:
        with path.open("rb") as handle:
            return handle.read(len(_ZIP)) == _ZIP
    except OSError:
        return False


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF)
    except FileNotFoundError as exc:
        raise RosterError(f"Không tìm thấy tệp {path}.") from exc
    except OSError as exc:
        raise RosterError(f"Không mở được tệp {path}: {exc.strerror}.") from exc
    if not head.strip():
        raise RosterError(f"Tệp {path.name} trống: không có dòng tiêu đề nào.")
    return head


def _check_utf8(path: Path, head: bytes, limit: int | None = None) -> None:
    """Refuse a file that is not UTF-8 before any row is used, naming the first bad line
    (within the first ``limit`` bytes, when given)."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise RosterError(f"Tệp {path.name} đang ở mã UTF-16. {_save_utf8()}")
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with path.open("rb") as handle:
        while (limit is None or handle.tell() < limit) and (chunk := handle.read(_CHUNK)):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                line += chunk[: exc.start].count(b"\n")
                raise RosterError(
                    f"Tệp {path.name} không phải văn bản UTF-8 (lỗi mã ký tự ở dòng {line}; "
                    f"có thể tệp đang ở mã Windows-1258 hoặc TCVN3). {_save_utf8()}"
                ) from exc
            line += chunk.count(b"\n")
    if limit is not None:
        return
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise RosterError(f"Tệp {path.name} bị cắt giữa một ký tự. {_save_utf8()}") from exc


def _save_utf8() -> str:
    return "Lưu lại tệp dưới dạng CSV UTF-8 (Excel: Lưu thành… → CSV UTF-8) rồi chạy lại."


def _open_csv(path: Path, head: bytes, limits: RosterLimits, check_encoding: bool) -> Roster:
    _check_utf8(path, head, None if check_encoding else _HEAD_CHECKED)
    # process-wide, and the same for every reader of the process: the configured limits
    csv.field_size_limit(limits.max_cell_chars)
    handle: IO[str] = path.open("r", encoding="utf-8-sig", newline="")
    try:
        delimiter = _delimiter(handle.readline(limits.max_cell_chars * limits.max_columns))
        handle.seek(0)
        reader = csv.reader(_lines(path.name, handle, limits), delimiter=delimiter)
        rows = _CheckedCsv(path.name, reader, delimiter, limits).rows()
        sheets = [Sheet(None, rows)]
        return Roster(
            path.name, sheets, handle.close, text=True, delimiter=delimiter, limits=limits
        )
    except BaseException:
        handle.close()
        raise


def _lines(name: str, handle: IO[str], limits: RosterLimits) -> Iterator[str]:
    """The file's lines, as iterating over it gives them, but never one longer than a row of
    the limits can be: iterating over the file would read a 150 MB line whole before ``csv``
    even sees its first cell (and its field limit)."""
    cap = limits.max_columns * (limits.max_cell_chars * 2 + 3)
    number = 0
    while line := handle.readline(cap):
        number += 1
        if len(line) >= cap and not line.endswith(("\n", "\r")):
            raise RosterError(_long_cell(name, number, limits))
        yield line


def _delimiter(header_line: str) -> str:
    """The separator the header uses most: "," by default, ";" from Vietnamese-locale Excel."""
    return max(_DELIMITERS, key=header_line.count)


def _open_xlsx(path: Path, limits: RosterLimits) -> Roster:
    try:
        import openpyxl  # type: ignore[import-untyped]  # a workbook only (start-up time)

        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file; none may escape
        raise RosterError(f"Không đọc được tệp Excel {path.name}. {SAVE_AS_CSV}") from exc
    try:
        sheets = []
        for sheet in book.worksheets:  # every sheet: a school may make one per class
            if hasattr(sheet, "reset_dimensions"):
                sheet.reset_dimensions()  # some exporters write a wrong size; read every row
            rows = sheet.iter_rows(values_only=True)
            checked = _non_blank(path.name, rows, limits)
            sheets.append(Sheet(str(sheet.title), _guard_xlsx(path.name, checked)))
        return Roster(path.name, sheets, book.close, limits=limits)
    except RosterError:
        raise
    except Exception as exc:
        book.close()
        raise RosterError(f"Không đọc được tệp Excel {path.name}. {SAVE_AS_CSV}") from exc


def _guard_xlsx(name: str, rows: RawRows) -> RawRows:
    try:
        yield from rows
    except RosterError:
        raise
    except Exception as exc:  # a damaged sheet part surfaces only while reading it
        raise RosterError(f"Tệp Excel {name} bị hỏng ở giữa trang tính. {SAVE_AS_CSV}") from exc
