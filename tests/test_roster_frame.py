"""The column-wise CSV reader yields exactly the rows ``bot.roster.reader`` yields, or refuses.

``hoso audit`` reads a CSV roster with polars when it can; a row read differently would put a
finding on the wrong line of the school's report. Every case here is read both ways: the rows
(number and values) must be the same, or the column reader must raise ``FrameUnavailable``
(and the audit then reads the file row by row).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.roster.frame import PY_WHITESPACE, ROW, FrameUnavailable, frame_batches
from bot.roster.limits import RosterLimits
from bot.roster.reader import BROKEN, Broken, RowValues, open_roster

HEADER = "Mã định danh Bộ GD&ĐT,Mã trường,Lớp,Họ và tên"
KEYS = {0: "ma_dinh_danh", 1: "ma_truong", 2: "lop", 3: "ho_ten"}


def rows_by_roster(path: Path) -> list[tuple[int, RowValues]]:
    """What ``bot.roster.reader`` yields, for the four columns of ``HEADER``."""
    with open_roster(path) as roster:
        sheet = roster.sheets[0]  # past the header: the rows as records() would number them
        rows = sheet.raw()
        out = []
        for number, cells in rows:
            if isinstance(cells, Broken):  # rejected by the importer, listed by the audit
                out.append((number, {BROKEN: cells[0]}))
                continue
            values: RowValues = {}
            for i, key in KEYS.items():
                cell = cells[i] if i < len(cells) else None
                values[key] = cell.strip() or None if isinstance(cell, str) else None
            out.append((number, values))
        return out


def rows_by_frame(path: Path, chunk_bytes: int = 16) -> list[tuple[int, RowValues]]:
    with open_roster(path) as roster:
        width, delimiter = len(roster.headers), roster.delimiter
    assert delimiter is not None
    out = []
    for batch in frame_batches(
        path, width=width, delimiter=delimiter, columns=KEYS, chunk_bytes=chunk_bytes
    ):
        for row in batch.iter_rows(named=True):
            number = row.pop(ROW)
            out.append((number, row))
    return out


def same_or_refused(path: Path, chunk_bytes: int = 16) -> bool:
    """True when both read the same rows; False when the column reader refused."""
    try:
        got = rows_by_frame(path, chunk_bytes)
    except FrameUnavailable:
        return False
    assert got == rows_by_roster(path)
    return True


def test_whitespace_is_what_str_strip_removes() -> None:
    spaces = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())
    assert spaces == PY_WHITESPACE


READ_ALIKE = [
    ("plain", f"{HEADER}\n1,79001,10A1,An\n2,79001,10A2,Bình\n"),
    ("crlf", f"{HEADER}\r\n1,79001,10A1,An\r\n2,79001,10A2,Bình\r\n"),
    ("bom", f"\ufeff{HEADER}\n1,79001,10A1,An\n"),
    ("no final newline", f"{HEADER}\n1,79001,10A1,An"),
    ("blank lines keep their numbers", f"{HEADER}\n1,a,b,c\n\n\n2,a,b,c\n\n"),
    ("blank cells", f"{HEADER}\n1,,,\n,,,\n 2 , , x ,\n"),
    ("unicode spaces", f"{HEADER}\n1,\u3000x\xa0,\u2003,\x85y\u202f\n\u205f,\u2028,,\n"),
    ("python-only spaces", f"{HEADER}\n1,\x1c,\u3000x\x1f,\xa0\n\x1d,\x1e,,\n"),
    ("quoted cells", f'{HEADER}\n"1","a,b","say ""hi""","x"\n2,x,y,z\n'),
    ("empty quotes", f'{HEADER}\n"",""," ",x\n'),
    ("semicolons", HEADER.replace(",", ";") + "\n1;79001;10A1;An\n2;x;y;z\n"),
    ("tabs", HEADER.replace(",", "\t") + "\n1\t79001\t10A1\tAn\n"),
]

REFUSED_OR_ALIKE = [
    ("bare carriage returns", f"{HEADER}\r1,a,b,c\r2,a,b,c\r"),
    ("a bare CR inside a row", f"{HEADER}\n1,a\rb,c,d\n"),
    ("a NUL byte", f"{HEADER}\n1,a\x00b,c,d\n"),
    ("a row longer than the header", f"{HEADER}\n1,a,b,c,extra\n2,a,b,c\n"),
    ("a quote inside a cell", f'{HEADER}\n1,a"b,c,d\n'),
    ("text after a closing quote", f'{HEADER}\n1,"a"b,c,d\n'),
    ("a blank first line", f"\n{HEADER}\n1,a,b,c\n"),
    ("space before a quote", f'{HEADER}\n1, "a",b,c\n'),
    ("doubled quotes at a cell's start", f'{HEADER}\n"";",""""\n'),
    ("only the header", f"{HEADER}\n"),
]


#: Rows the row reader cannot read (merged or shifted, issue 17): it hands them on as
#: ``Broken`` (rejected, listed); the column reader leaves these files to it.
REFUSED_BY_BOTH = [
    ("short rows", f"{HEADER}\n1,2,3,4\n1,2\n3\n"),
    ("a short row in quotes", f'{HEADER}\n1,2,3,4\n"1,2",3\n'),
    ("a longer row", f"{HEADER}\n1,2,3,4\n1,2,3,4,5\n"),
    ("a line break in quotes", f'{HEADER}\n"1","a,b","say ""hi""","line\nbreak"\n2,x,y,z\n'),
    ("a CRLF in quotes", f'{HEADER}\r\n1,"a\r\nb",c,d\r\n2,x,y,z\r\n'),
    ("an unbalanced quote", f'{HEADER}\n1,a,b,c\n2,a,b,"Nguyễn\n3,a,b,c\n4,a,b,c\n'),
    ("a quoted line only", f'{HEADER}\n1,a,b,c\n"x"\n'),
]


@pytest.mark.parametrize(("name", "text"), REFUSED_BY_BOTH, ids=[c[0] for c in REFUSED_BY_BOTH])
@pytest.mark.parametrize("chunk", [1, 16, 1 << 20])
def test_refused_by_both(tmp_path: Path, name: str, text: str, chunk: int) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes(text.encode("utf-8"))
    with pytest.raises(FrameUnavailable):
        rows_by_frame(path, chunk)
    broken = [values[BROKEN] for _, values in rows_by_roster(path) if BROKEN in values]
    assert broken
    assert all("dòng" in why for why in broken)


@pytest.mark.parametrize(("name", "text"), READ_ALIKE, ids=[c[0] for c in READ_ALIKE])
def test_read_alike(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes(text.encode("utf-8"))
    assert same_or_refused(path), "the column reader refused a file it can read"


@pytest.mark.parametrize(("name", "text"), REFUSED_OR_ALIKE, ids=[c[0] for c in REFUSED_OR_ALIKE])
def test_refused_or_read_alike(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes(text.encode("utf-8"))
    same_or_refused(path)


@pytest.mark.parametrize("extra", [0, 1], ids=["at the limit", "past it"])
def test_a_cell_longer_than_csv_reads(tmp_path: Path, extra: int) -> None:
    """``csv`` refuses a cell longer than ``csv.field_size_limit()`` characters (``[limits]
    max_cell_chars``; the row reader then names the problem); the column reader refuses it
    too, and reads one at the limit."""
    limit = RosterLimits().max_cell_chars  # what open_roster sets (process-wide)
    long = "đ" * (limit + extra)
    path = tmp_path / "roster.csv"
    path.write_bytes(f"{HEADER}\n1,a,b,{long}\n2,a,b,c\n".encode())
    if extra:
        with pytest.raises(FrameUnavailable):
            rows_by_frame(path, 1 << 20)
    else:
        assert same_or_refused(path, 1 << 20)


@pytest.mark.parametrize(
    "text",
    [f"{HEADER}\r1,a,b,c\r", f"{HEADER}\n1,a\x00b,c,d\n", f"\n{HEADER}\n1,a,b,c\n"],
    ids=["bare CR", "NUL", "blank first line"],
)
def test_refused_before_reading(tmp_path: Path, text: str) -> None:
    """Files the two readers would split differently are refused up front."""
    path = tmp_path / "roster.csv"
    path.write_bytes(text.encode("utf-8"))
    with pytest.raises(FrameUnavailable):
        rows_by_frame(path)


CELL = st.text(alphabet=st.sampled_from(list('ab ,";\n\r\t\x1cđ')), max_size=6)
ROWS = st.lists(st.lists(CELL, min_size=0, max_size=6), min_size=1, max_size=8)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=ROWS, line_end=st.sampled_from(["\n", "\r\n"]), chunk=st.sampled_from([1, 9, 4096]))
def test_fuzzed_files_read_alike_or_refused(
    tmp_path: Path, rows: list[list[str]], line_end: str, chunk: int
) -> None:
    """Cells of commas, quotes, line breaks and spaces, joined without quoting: whatever the
    two readers make of them, they make the same or the column reader refuses, whatever size
    of pieces the file is read in."""
    text = HEADER + line_end + line_end.join(",".join(cells) for cells in rows) + line_end
    path = tmp_path / "fuzz.csv"
    path.write_bytes(text.encode("utf-8"))
    try:
        rows_by_roster(path)
    except Exception:  # a file csv itself rejects is not this test's concern
        return
    same_or_refused(path, chunk)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.lists(CELL, min_size=len(KEYS), max_size=len(KEYS)), min_size=1, max_size=8),
    chunk=st.sampled_from([1, 9, 4096]),
)
def test_files_written_by_csv_are_read_column_wise(
    tmp_path: Path, rows: list[list[str]], chunk: int
) -> None:
    """What a spreadsheet writes (cells with commas, quotes, line breaks quoted, quotes
    doubled; rows as wide as the header) is read column-wise, and alike; only a line break in
    a cell is refused (by both readers: it may be a stray quote's merged rows)."""
    path = tmp_path / "written.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER.split(","))
        writer.writerows(rows)
    read = same_or_refused(path, chunk)
    breaks = "".join("".join(cells) for cells in rows)
    assert read or "\r" in breaks or "\n" in breaks
