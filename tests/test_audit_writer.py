"""``TableWriter.write_frame`` writes what ``write`` writes, cell for cell, byte for byte.

The column-wise audit writes its report a batch at a time through polars; a school opens the
same file in Excel, so a formula-looking cell must still be quoted and a control character
still dropped, exactly as the row-by-row writer does.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl  # type: ignore[import-untyped]
import polars as pl
import pytest

from bot.audit import TableWriter

COLUMNS = ("row", "ma", "text")
CELLS = [
    "plain", "", "Nguyễn Văn An", "=1+1", "+84912345678", "-5", "@x", "a,b", 'say "hi"',
    "line\nbreak", "cr\r\nlf", "bell\x07", "\x1fstart", "=\x01x", " lead", "tab\tin", "'=x",
]  # fmt: skip


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_write_frame_writes_what_write_writes(tmp_path: Path, suffix: str) -> None:
    rows = [(i, f"79{i:08d}" if i % 3 else "", cell) for i, cell in enumerate(CELLS, start=1)]
    by_row = TableWriter(tmp_path / f"a{suffix}", COLUMNS)
    for row in rows:
        by_row.write(row)
    by_row.commit()
    by_frame = TableWriter(tmp_path / f"b{suffix}", COLUMNS)
    by_frame.write_frame(pl.DataFrame(rows, schema=dict.fromkeys(COLUMNS), orient="row"))
    by_frame.commit()
    if suffix == ".csv":
        assert (tmp_path / "b.csv").read_bytes() == (tmp_path / "a.csv").read_bytes()
    else:
        sheets = [openpyxl.load_workbook(tmp_path / f"{n}.xlsx").active for n in "ab"]
        a, b = ([[c.value for c in row] for row in sheet.iter_rows()] for sheet in sheets)
        assert b == a
