"""Hostile roster files made on the spot (issue 17): XLSX zip bombs, a workbook of empty rows.

Each starts from a small real workbook (openpyxl) and rewrites one part of its zip as a stream,
so a file that unzips to gigabytes is made in constant memory. ``bench/hostile_import.py``
measures the import of these; ``tests/test_roster_hostile.py`` checks each is refused.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import openpyxl  # type: ignore[import-untyped]

from bot.demo.sample_data import STAFF_KEYS, generate_school
from flows.catalogue import Catalogue

Part = Callable[[bytes], Iterator[bytes]]
_BLOCK = 1 << 20


def staff_rows(catalogue: Catalogue, count: int) -> list[list[str]]:
    from datetime import date

    school = generate_school(seed=5, today=date(2026, 12, 1), staff=count, students=0)
    header = [catalogue.field(k).header for k in STAFF_KEYS]
    return [header] + [[p.values.get(k) or "" for k in STAFF_KEYS] for p in school.staff]


def workbook(path: Path, rows: list[list[str]]) -> Path:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def rewrite(path: Path, parts: Mapping[str, Part]) -> Path:
    """Replace (or add) each zip member of ``parts`` by what ``part(old content)`` yields,
    streamed; a member not there yet gets ``b""`` as its old content."""
    old = path.read_bytes()
    with (
        zipfile.ZipFile(io.BytesIO(old)) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target,
    ):
        names = [i.filename for i in source.infolist()]
        for name in [*names, *(n for n in parts if n not in names)]:
            content = source.read(name) if name in names else b""
            if name not in parts:
                target.writestr(name, content)
                continue
            with target.open(name, "w", force_zip64=True) as out:
                for block in parts[name](content):
                    out.write(block)
    return path


def _repeat(text: bytes, size: int) -> Iterator[bytes]:
    block = text * max(1, _BLOCK // len(text))
    left = size
    while left > 0:
        yield block[:left]
        left -= len(block)


_SST_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
_SST_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"


def _insert(before: bytes, text: bytes) -> Part:
    def part(old: bytes) -> Iterator[bytes]:
        head, _, tail = old.rpartition(before)
        yield head + text + before + tail

    return part


def _shared(strings: Callable[[], Iterator[bytes]], rows: list[list[str]]) -> dict[str, Part]:
    """The parts that give a workbook a shared-string table (openpyxl writes inline strings)
    and a last row whose cell C is its first string."""
    number = len(rows) + 1

    def sst(_: bytes) -> Iterator[bytes]:
        yield b'<?xml version="1.0" encoding="UTF-8"?>'
        yield b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        yield from strings()
        yield b"</sst>"

    row = b'<row r="%d"><c r="C%d" t="s"><v>0</v></c></row>' % (number, number)
    return {
        "[Content_Types].xml": _insert(
            b"</Types>",
            b'<Override PartName="/xl/sharedStrings.xml" ContentType="%s"/>' % _SST_TYPE.encode(),
        ),
        "xl/_rels/workbook.xml.rels": _insert(
            b"</Relationships>",
            b'<Relationship Id="rIdSst" Type="%s" Target="sharedStrings.xml"/>'
            % _SST_REL.encode(),
        ),
        "xl/worksheets/sheet1.xml": _insert(b"</sheetData>", row),
        "xl/sharedStrings.xml": sst,
    }


def huge_shared_string(path: Path, rows: list[list[str]], size: int) -> Path:
    """A workbook whose shared-string table holds one string of ``size`` bytes."""
    workbook(path, rows)

    def strings() -> Iterator[bytes]:
        yield b"<si><t>"
        yield from _repeat(b"A", size)
        yield b"</t></si>"

    return rewrite(path, _shared(strings, rows))


def many_shared_strings(path: Path, rows: list[list[str]], count: int, *, width: int = 0) -> Path:
    """A workbook whose shared-string table holds ``count`` texts, each ``width`` bytes or so."""
    workbook(path, rows)
    pad = "Nguyễn Thị Phương Thảo ".encode() * (width // 25 + 1)

    def strings() -> Iterator[bytes]:
        for start in range(0, count, 10_000):
            stop = min(count, start + 10_000)
            yield b"".join(
                b"<si><t>%d %s</t></si>" % (i, pad[: max(0, width - 8)])
                for i in range(start, stop)
            )

    return rewrite(path, _shared(strings, rows))


def _sheet_tail(old: bytes) -> tuple[bytes, bytes]:
    head, _, tail = old.rpartition(b"</sheetData>")
    return head, b"</sheetData>" + tail


def huge_inline_cell(path: Path, rows: list[list[str]], size: int) -> Path:
    """A workbook whose sheet ends with a row holding one inline string of ``size`` bytes."""
    workbook(path, rows)
    number = len(rows) + 1

    def part(old: bytes) -> Iterator[bytes]:
        head, tail = _sheet_tail(old)
        yield head + b'<row r="%d"><c r="C%d" t="inlineStr"><is><t>' % (number, number)
        yield from _repeat(b"B", size)
        yield b"</t></is></c></row>" + tail

    return rewrite(path, {"xl/worksheets/sheet1.xml": part})


def empty_rows(
    path: Path, rows: list[list[str]], count: int, *, then: list[str] | None = None
) -> Path:
    """A workbook whose data is followed by ``count`` formatted but empty rows (as Excel keeps
    them), the dimension declaring them all; ``then``: a data row after them."""
    workbook(path, rows)
    first = len(rows) + 1
    last = first + count - 1

    def part(old: bytes) -> Iterator[bytes]:
        head, tail = _sheet_tail(old)
        head = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:S%d"/>' % last, head)
        yield head
        for start in range(first, last + 1, 10_000):
            stop = min(last, start + 9_999)
            yield b"".join(
                b'<row r="%d" spans="1:19"><c r="A%d" s="0"/><c r="B%d" s="0"/></row>' % (i, i, i)
                for i in range(start, stop + 1)
            )
        if then is not None:
            cells = b"".join(
                b'<c r="%s%d" t="inlineStr"><is><t>%s</t></is></c>'
                % (chr(ord("A") + i).encode(), last + 1, v.encode())
                for i, v in enumerate(then[:26])
                if v
            )
            yield b'<row r="%d">%s</row>' % (last + 1, cells)
        yield tail

    return rewrite(path, {"xl/worksheets/sheet1.xml": part})
