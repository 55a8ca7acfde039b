"""Bounds on every roster file read (``hoso import``, ``hoso audit``, a file an admin sends in
chat), checked before the file is parsed or while it streams, never after it is loaded.

An XLSX file is a zip: a 2 MB file can declare a 2 GiB sheet or shared-string table, which
openpyxl would build in memory (the shared strings are loaded whole even in read-only mode). So
before openpyxl opens it, the zip's declared sizes are checked (``zipfile`` never inflates a part
beyond the size it declares, so the declared size bounds what a reader gets), then the shared
strings and sheets are scanned as a stream for their count and their longest text. A CSV is
bounded by its size, its header's width and ``csv.field_size_limit`` (a cell's length, checked
by the csv module in C). Every refusal is a ``RosterError`` in Vietnamese that names the limit
and the setting (``[limits]`` in the configuration) that raises it.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

_MB = 1 << 20
_CHUNK = 1 << 20
#: Bytes of XML per character of text, at most: "&amp;" for "&" (a Vietnamese letter is 2-3).
_XML_BYTES_PER_CHAR = 5
#: A run of text this long may be a legitimate sheet part's markup (attributes, a long path).
_MIN_RUN = 1 << 16
SETTING = "(giới hạn đặt ở mục [limits] của tệp cấu hình)"


class RosterError(Exception):
    """A roster that cannot be read; the message (Vietnamese) names the problem and the fix."""


class RosterLimits(BaseModel):
    """``[limits]``: what a roster file may hold. The defaults take a city's roster as CSV and a
    large school's as XLSX; an import's memory stays bounded by them (see README, "Privacy")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Size of the file as sent, in MB.
    max_file_mb: int = Field(default=200, ge=1)
    #: An XLSX file's parts once unzipped (their declared sizes), in MB.
    max_unzipped_mb: int = Field(default=400, ge=1)
    #: How many times a part of an XLSX (other than a sheet: the shared strings, loaded whole)
    #: may expand, when it is larger than ``ratio_from_mb``.
    max_ratio: int = Field(default=100, ge=1)
    ratio_from_mb: int = Field(default=10, ge=1)
    #: Data rows (blank rows count where they keep a number).
    max_rows: int = Field(default=1_000_000, ge=1)
    #: Columns of the header row (CSV) or cells in a row (XLSX).
    max_columns: int = Field(default=200, ge=1)
    #: Characters in one cell.
    max_cell_chars: int = Field(default=10_000, ge=100)
    #: Distinct texts of an XLSX file (its shared-string table), and that table's size in MB:
    #: openpyxl holds the whole table in memory, even in read-only mode.
    max_shared_strings: int = Field(default=1_000_000, ge=1)
    max_shared_strings_mb: int = Field(default=100, ge=1)
    #: An XLSX sheet ends after this many blank rows in a row (Excel often keeps a million
    #: formatted but empty rows after the data).
    blank_rows_end: int = Field(default=10_000, ge=1)


def check_file_size(path: Path, limits: RosterLimits) -> None:
    try:
        size = path.stat().st_size
    except OSError:
        return  # the caller's open names it
    check_size(path.name, size, limits)


def check_size(name: str, size: int, limits: RosterLimits) -> None:
    """``max_file_mb``, also for a file not fetched yet (a chat upload's declared size)."""
    if size > limits.max_file_mb * _MB:
        raise RosterError(
            f"Tệp {name} nặng {_mb(size)} MB, quá giới hạn {limits.max_file_mb} MB "
            f"{SETTING}. "
            "Hãy chia danh sách thành nhiều tệp nhỏ hơn (ví dụ theo trường hoặc theo khối)."
        )


def check_workbook(path: Path, limits: RosterLimits) -> None:
    """The zip's declared sizes and ratios, then its shared strings and sheets as a stream."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
            _check_sizes(path.name, parts, limits)
            for part in parts:
                name = part.filename.lower()
                if name.endswith("sharedstrings.xml"):
                    _scan(path.name, archive, part, limits, count=(b"<si>", b"<si "))
                elif name.startswith("xl/worksheets/") and name.endswith(".xml"):
                    _scan(path.name, archive, part, limits, count=None)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
        raise RosterError(f"Tệp Excel {path.name} bị hỏng hoặc nén theo cách không đọc được. "
                          "Hãy mở bằng Excel và lưu lại dưới dạng Excel (.xlsx) hoặc CSV UTF-8."
                          ) from exc  # fmt: skip


def _check_sizes(name: str, parts: list[zipfile.ZipInfo], limits: RosterLimits) -> None:
    total = sum(p.file_size for p in parts)
    if total > limits.max_unzipped_mb * _MB:
        raise RosterError(
            f"Tệp Excel {name} khi giải nén chiếm {_mb(total)} MB, quá giới hạn "
            f"{limits.max_unzipped_mb} MB {SETTING}. Hãy xoá các trang tính, hình ảnh và dòng "
            "trống thừa, hoặc lưu danh sách dưới dạng CSV UTF-8."
        )
    for part in parts:
        shared = part.filename.lower().endswith("sharedstrings.xml")
        if shared and part.file_size > limits.max_shared_strings_mb * _MB:
            raise RosterError(
                f"Tệp Excel {name} có bảng chuỗi chữ chiếm {_mb(part.file_size)} MB khi giải nén, "
                f"quá giới hạn {limits.max_shared_strings_mb} MB {SETTING}. Hãy chia danh sách "
                "thành nhiều tệp nhỏ hơn hoặc lưu dưới dạng CSV UTF-8."
            )
        if part.filename.lower().startswith("xl/worksheets/"):
            continue  # a sheet is streamed: only its size counts (and empty rows end it)
        big = part.file_size > limits.ratio_from_mb * _MB
        if big and part.file_size > limits.max_ratio * max(part.compress_size, 1):
            raise RosterError(
                f"Tệp Excel {name} có một phần nén quá {limits.max_ratio} lần "
                f"({_mb(part.file_size)} MB khi giải nén) {SETTING}: thường là hàng triệu dòng "
                "trống hoặc một tệp cố ý làm hỏng. Hãy xoá các dòng trống thừa hoặc lưu danh "
                "sách dưới dạng CSV UTF-8."
            )


def _scan(
    name: str,
    archive: zipfile.ZipFile,
    part: zipfile.ZipInfo,
    limits: RosterLimits,
    *,
    count: tuple[bytes, ...] | None,
) -> None:
    """Stream one XML part: no run of text (between two ``<``) longer than a cell may be, and
    (the shared strings) no more texts than allowed. Memory: one chunk."""
    longest = max(limits.max_cell_chars * _XML_BYTES_PER_CHAR, _MIN_RUN)
    run = re.compile(rb"[^<]{%d,}" % (longest + 1))
    carry, strings = b"", 0
    with archive.open(part) as stream:
        while chunk := stream.read(_CHUNK):
            data = carry + chunk
            if run.search(data):
                raise RosterError(
                    f"Tệp Excel {name} có một ô dài hơn {limits.max_cell_chars} ký tự {SETTING}. "
                    "Hãy kiểm tra lại ô đó (thường do dán nhầm cả một văn bản vào một ô)."
                )
            last = data.rfind(b"<")
            keep = data[last:] if last >= 0 else data
            if count is not None:
                strings += sum(data[: len(data) - len(keep)].count(m) for m in count)
                _check_strings(name, strings, limits)
            carry = keep
    if count is not None:
        _check_strings(name, strings + sum(carry.count(m) for m in count), limits)


def _check_strings(name: str, strings: int, limits: RosterLimits) -> None:
    if strings > limits.max_shared_strings:
        raise RosterError(
            f"Tệp Excel {name} có hơn {limits.max_shared_strings} chuỗi chữ khác nhau "
            f"{SETTING}. Hãy chia danh sách thành nhiều tệp nhỏ hơn."
        )


def _mb(size: int) -> str:
    return f"{size / _MB:.1f}".replace(".", ",")
