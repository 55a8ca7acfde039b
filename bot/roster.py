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
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

from bot.roster_limits import SETTING, RosterLimits, check_file_size, check_workbook
from bot.roster_limits import RosterError as RosterError  # re-exported: every reader's error
from flows.catalogue import Catalogue, FieldSpec
from flows.rules.base import fold

RowValues = dict[str, str | None]
RawRows = Iterator[tuple[int, Sequence[object]]]

_CHUNK = 1 << 16
_SNIFF = 2048
_HEAD_CHECKED = 1 << 20  # bytes of a CSV checked for UTF-8 when its reader checks the rest
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the pre-2007 .xls container
_MARKUP = (b"<!doctype", b"<html", b"<table", b"<?xml", b"<meta", b"<head", b"<body")
_EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
_DELIMITERS = (",", ";", "\t")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
#: Whole floats below this hold every digit (a double keeps 15 significant digits).
_EXACT_FLOAT = 1e15
SAVE_AS_CSV = "Hãy mở tệp bằng Excel và lưu lại dưới dạng CSV UTF-8 hoặc Excel (.xlsx)."


def header_key(text: str) -> str:
    """Headers compare without case, diacritics, spaces, punctuation: "Mã trường" = "MA TRUONG"."""
    return _NOT_ALNUM.sub("", fold(text))


def cell_text(value: object) -> str | None:
    """A cell as record text: dates as dd/mm/yyyy, whole numbers as their digits, "" as None.

    A number Excel stored without its leading zero (a phone, a CCCD) is kept as the digits left:
    ``flows.excel_damage`` puts the zero back where the field and the length make it certain. A
    float past 15 significant digits has lost digits: it is written in scientific notation, as
    Excel shows it, so that it is reported and never read as a number it is not.
    """
    if type(value) is str:  # every CSV cell: the common case first
        return value.strip() or None
    if value is None:
        return None
    if isinstance(value, bool):
        return "Có" if value else "Không"
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < _EXACT_FLOAT else f"{value:.14E}"
    text = str(value).strip()
    return text or None


def guess_kind(headers: tuple[str, ...], catalogues: Mapping[str, Catalogue]) -> str:
    """Students' rosters have a class column ("Lớp"); staff rosters never do."""
    lop = header_key(catalogues["student"].field("lop").header)
    return "student" if any(header_key(h) == lop for h in headers) else "staff"


def needs_column(spec: FieldSpec) -> bool:
    """A field that can be required must have a column, or no record could ever be "đủ"."""
    return spec.required or spec.required_if is not None or spec.required_from_age is not None


def _known_headers(catalogue: Catalogue, mapping: Mapping[str, str]) -> dict[str, str]:
    """Folded header -> key: the configured mapping first, then headers, labels, keys."""
    keys = {spec.key for spec in catalogue.fields}
    known: dict[str, str] = {}
    for text, key in mapping.items():
        if key not in keys:
            raise RosterError(f"Cấu hình cột “{text}” trỏ tới trường không có: “{key}”.")
        known[header_key(text)] = key
    for attribute in ("header", "label", "key"):
        for spec in catalogue.fields:
            known.setdefault(header_key(getattr(spec, attribute)), spec.key)
    return known


def match_columns(
    headers: tuple[str, ...], catalogue: Catalogue, mapping: Mapping[str, str] | None = None
) -> dict[int, str]:
    """Column index -> field key; unknown columns are ignored, missing required ones refused."""
    known = _known_headers(catalogue, mapping or {})
    columns: dict[int, str] = {}
    seen: dict[str, str] = {}
    for index, header in enumerate(headers):
        key = known.get(header_key(header)) if header else None
        if key is None:
            continue
        if key in seen:
            raise RosterError(f"Hai cột “{seen[key]}” và “{header}” cùng chỉ một thông tin.")
        columns[index], seen[key] = key, header
    missing = [s.header for s in catalogue.fields if needs_column(s) and s.key not in seen]
    if missing:
        raise RosterError(
            f"Tệp thiếu {len(missing)} cột bắt buộc: {', '.join(missing)}. "
            "Hãy thêm các cột này (tên cột ở dòng đầu tiên) rồi chạy lại."
        )
    return columns


class Roster:
    """An open roster file: its header row, then its data rows numbered from 1.

    Blank rows are skipped but keep their number, so ``row`` N is always the spreadsheet's row
    N + 1 (the header being row 1) and the school can find it.
    """

    def __init__(
        self,
        name: str,
        rows: RawRows,
        close: Callable[[], None],
        *,
        text: bool = False,
        delimiter: str | None = None,
        limits: RosterLimits | None = None,
    ) -> None:
        self._name = name
        #: What the file may hold (``[limits]``): a column-wise reader applies the same.
        self.limits = limits or RosterLimits()
        #: A CSV file's separator (None for a workbook): what a column-wise reader needs.
        self.delimiter = delimiter
        self._close = close
        self._rows = rows
        #: Every cell is ``str`` (a CSV file): ``cell_text`` of one is ``strip() or None``.
        self._text = text
        first = next(rows, None)
        if first is None:
            self.close()
            raise RosterError(f"Tệp {name} trống: không có dòng tiêu đề nào.")
        self.headers = tuple(cell_text(cell) or "" for cell in first[1])

    def records(
        self, catalogue: Catalogue, mapping: Mapping[str, str] | None = None
    ) -> Iterator[tuple[int, RowValues]]:
        """(row number, values by field key) for each data row; checks the columns first."""
        columns = match_columns(self.headers, catalogue, mapping)
        first = next(self._rows, None)
        if first is None:
            raise RosterError(f"Tệp {self._name} chỉ có dòng tiêu đề, không có dòng dữ liệu nào.")
        return self._records(columns, first)

    def _records(
        self, columns: dict[int, str], first: tuple[int, Sequence[object]]
    ) -> Iterator[tuple[int, RowValues]]:
        items = tuple(columns.items())
        needed = max(columns, default=-1) + 1
        for number, cells in _chain(first, self._rows):
            if type(cells) is Broken:
                yield number - 1, {BROKEN: cells[0]}
                continue
            width = len(cells)
            if self._text and width >= needed:  # the common case, without a call per cell
                texts: Sequence[str] = cells  # type: ignore[assignment]  # csv.reader's cells
                yield number - 1, {key: texts[i].strip() or None for i, key in items}
                continue
            yield (
                number - 1,
                {key: cell_text(cells[i]) if i < width else None for i, key in columns.items()},
            )

    def close(self) -> None:
        self._close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _chain(first: tuple[int, Sequence[object]], rest: RawRows) -> RawRows:
    yield first
    yield from rest


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


class Broken(tuple[str]):
    """A CSV row that cannot be read as data (a cell spanning lines, a wrong number of cells):
    in place of its cells, why (Vietnamese, line numbers and counts only, no value)."""


#: The key of ``Roster.records``' dict for a ``Broken`` row (its only key): its reason.
BROKEN = "__broken"


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
    reader that checks the rest itself. ``limits``: ``[limits]`` (``bot.roster_limits``)."""
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
        return Roster(path.name, rows, handle.close, text=True, delimiter=delimiter, limits=limits)
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
        sheet = book.worksheets[0]
        if hasattr(sheet, "reset_dimensions"):
            sheet.reset_dimensions()  # some exporters write a wrong size; read every row
        rows = sheet.iter_rows(values_only=True)
        checked = _non_blank(path.name, rows, limits)
        return Roster(path.name, _guard_xlsx(path.name, checked), book.close, limits=limits)
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
