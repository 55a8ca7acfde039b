"""The column-wise audit's writing: ``TableWriter.write_frame`` writes what ``write`` writes,
cell for cell, byte for byte; a run that must fall back to the row reader part way leaves
nothing of the first attempt.

The column-wise audit writes its report a batch at a time through polars; a school opens the
same file in Excel, so a formula-looking cell must still be quoted and a control character
still dropped, exactly as the row-by-row writer does.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import astuple
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl  # type: ignore[import-untyped]
import polars as pl
import pytest

from bot.audit.roster_audit import AuditJob, TableWriter, run_audit
from bot.config.settings import CatalogueSettings, Settings
from bot.demo.sample_data import STUDENT_KEYS, generate_school
from bot.engine.reference import load_reference
from bot.roster.frame import FrameUnavailable, frame_batches

REFERENCE = load_reference(CatalogueSettings())

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


Counts = dict[tuple[str, str], tuple[Any, ...]]


def _audit(tmp_path: Path, source: Path, name: str) -> tuple[bytes, bytes, Counts]:
    job = AuditJob(file=source, out=tmp_path / f"{name}.csv", kind="student",
                   police=tmp_path / f"{name}-police.csv", today=date(2026, 12, 10))  # fmt: skip
    summary = run_audit(job, Settings(), REFERENCE)
    units = {unit: astuple(tally) for unit, tally in summary.units.items()}
    return job.out.read_bytes(), (tmp_path / f"{name}-police.csv").read_bytes(), units


def test_a_refusal_after_some_batches_starts_again_row_by_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read in pieces of 256 bytes, the column reader refuses only at the last row (a quote
    inside a cell): the batches already written are thrown away and the row reader's report,
    police list and counts are what remains, as if the column reader had never run."""
    school = generate_school(seed=3, today=date(2026, 12, 10), staff=0, students=60)
    rows = [[p.values.get(k) or "" for k in STUDENT_KEYS] for p in school.students]
    source = tmp_path / "hs.csv"
    with source.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([REFERENCE.catalogues["student"].field(k).header for k in STUDENT_KEYS])
        writer.writerows(rows[:-1])
        last = rows[-1]
        last[3] = 'Nguyễn "Tư'  # a quote inside an unquoted cell: csv reads it as it is
        handle.write(",".join(last) + "\r\n")
    batches: list[int] = []
    refused: list[str] = []

    def small_pieces(*args: Any, **kwargs: Any) -> Iterator[pl.DataFrame]:
        try:
            for batch in frame_batches(*args, **kwargs, chunk_bytes=256):
                batches.append(batch.height)
                yield batch
        except FrameUnavailable as exc:
            refused.append(str(exc))
            raise

    monkeypatch.setattr("bot.audit.roster_audit.frame_batches", small_pieces)
    got = _audit(tmp_path, source, "columns-then-rows")
    assert len(batches) > 3  # batches were judged and written before the refusal
    assert refused
    monkeypatch.setattr("bot.audit.roster_audit.frame_batches", _refuse)
    assert got == _audit(tmp_path, source, "rows")


def _refuse(*args: Any, **kwargs: Any) -> Iterator[pl.DataFrame]:
    raise FrameUnavailable("forced")
    yield  # pragma: no cover  # a generator, as frame_batches is
