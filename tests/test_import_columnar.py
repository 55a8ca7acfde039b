"""``hoso import`` reads a CSV column-wise (``bot.import_source``) and stores exactly what the row
reader stores (issue #6, Import, speed): the same people, values, units, versions, phones, counts
and report of rejected rows, also when the column reader refuses the file part way and the row
reader takes over. Each case is imported both ways into fresh databases and compared.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

import bot.import_source
from bot.import_rows import reading_catalogue
from bot.importer import ImportJob, ImportSummary, import_file
from bot.roster import match_columns, open_roster
from bot.roster_frame import FrameUnavailable, frame_batches
from bot.sample_data import STUDENT_KEYS
from storage.db import make_engine
from storage.migrate import upgrade
from storage.uow import Store
from tests.conftest import _truncate_postgres
from tests.test_import import (
    AT,
    LATER,
    REFERENCE,
    STUDENTS,
    _edit,
    headers,
    snapshot,
    values_of,
)

#: The school's name (an optional column the import reads) and a column it ignores.
EXTRA = ("Tên trường", "Ghi chú")


def write_roster(path: Path, rows: Sequence[Mapping[str, str | None] | None]) -> Path:
    """A student roster with the extra columns; None writes a row of blank cells."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*headers("student"), *EXTRA])
        for number, values in enumerate(rows, start=1):
            if values is None:
                writer.writerow([" "] * (len(STUDENT_KEYS) + len(EXTRA)))
                continue
            cells = [values.get(key) or "" for key in STUDENT_KEYS]
            writer.writerow(
                [*cells, f" Trường số {number % 3} ", "ghi chú\nhai dòng, có dấu phẩy"]
            )
    return path


def first_file() -> list[dict[str, str | None] | None]:
    rows: list[dict[str, str | None] | None] = list(values_of(STUDENTS[:20]))
    rows[3] = _edit(rows[3] or {}, ho_ten="  Lê   Thị Hoa  ", sdt_cha=" 0912 345 678 ")
    rows[5] = None  # a blank row keeps its number
    rows.append(_edit(STUDENTS[20].values, ma_dinh_danh=None))
    rows.append(dict(STUDENTS[0].values))  # the same key again
    rows.append(_edit(STUDENTS[21].values, lop=None))
    return rows


def newer_file() -> list[dict[str, str | None] | None]:
    rows: list[dict[str, str | None] | None] = list(values_of(STUDENTS))
    rows[1] = _edit(rows[1] or {}, ho_ten="Tên Mới", noi_o_hien_nay=None)
    rows[2] = _edit(rows[2] or {}, lop="12A9", sdt_me="0987654321")
    return rows


async def fresh_store(database_url: str, file: Path) -> Store:
    """An empty migrated database: a new SQLite file, or the session's PostgreSQL emptied."""
    if database_url.startswith("sqlite"):
        url = f"sqlite+aiosqlite:///{file}"
        await upgrade(url)
        return Store(make_engine(url))
    await _truncate_postgres(database_url)
    return Store(make_engine(database_url))


async def import_both_ways(
    database_url: str, tmp_path: Path, files: Sequence[Path], **options: Any
) -> list[tuple[dict[str, tuple[Any, ...]], list[tuple[int, ...]], list[list[list[str]]]]]:
    """Each way: the files imported in turn into a fresh database; what it stores at the end,
    each import's counts and each report's rows."""
    results = []
    for columnar in (True, False):
        store = await fresh_store(database_url, tmp_path / f"columnar-{columnar}.db")
        summaries, reports = [], []
        try:
            for n, file in enumerate(files):
                report = tmp_path / f"report-{columnar}-{n}.csv"
                job = ImportJob(
                    file=file, kind="student", report=report, columnar=columnar, **options
                )
                summary = await import_file(store, job, REFERENCE, at=(AT, LATER)[n % 2])
                summaries.append(tally(summary))
                with report.open(encoding="utf-8-sig", newline="") as handle:
                    reports.append(list(csv.reader(handle)))
            results.append((await snapshot(store), summaries, reports))
        finally:
            await store.close()
    return results


def tally(s: ImportSummary) -> tuple[int, ...]:
    return (s.read, s.inserted, s.updated, s.unchanged, s.rejected, s.conflicts, s.units_created)


@pytest.mark.parametrize("batch_size", [4, 10_000])
async def test_columnar_import_stores_what_the_row_reader_stores(
    database_url: str, tmp_path: Path, batch_size: int
) -> None:
    first = write_roster(tmp_path / "hs-1.csv", first_file())
    newer = write_roster(tmp_path / "hs-2.csv", newer_file())
    files = [first, newer, newer]  # the newer export, then the same again (unchanged)
    columnar, by_row = await import_both_ways(database_url, tmp_path, files, batch_size=batch_size)
    assert columnar == by_row
    stored, summaries, reports = columnar
    assert summaries[0][:6] == (22, 19, 0, 0, 3, 0)
    assert summaries[1][:6] == (24, 5, 3, 16, 0, 0)
    assert summaries[2][:6] == (24, 0, 0, 24, 0, 0)
    assert sorted(row[0] for row in reports[0][1:]) == ["21", "22", "23"]  # blank row 6 counted
    assert stored[STUDENTS[3].ma_dinh_danh][0] == STUDENTS[3].values  # the newer file's
    assert stored[STUDENTS[2].ma_dinh_danh][1].endswith("-12A9")


async def test_a_file_refused_part_way_is_imported_once(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A quote in the middle of a cell of the last row: the column reader refuses it only when
    it reaches that piece of the file, after batches were written; the row reader goes on."""
    monkeypatch.setattr(bot.import_source, "CHUNK_BYTES", 2048)
    file = write_roster(tmp_path / "hs.csv", first_file())
    last = dict(STUDENTS[22].values)
    with file.open("a", encoding="utf-8", newline="") as handle:
        cells = [last[key] or "" for key in STUDENT_KEYS]
        cells[STUDENT_KEYS.index("ho_ten")] = 'Nguyễn Văn "Tí" An'
        handle.write(",".join(cells) + ",,\r\n")
    assert column_rows_before_refusal(file) > 8  # refused part way, not at the start
    columnar, by_row = await import_both_ways(database_url, tmp_path, [file], batch_size=4)
    assert columnar == by_row
    stored, summaries, _ = columnar
    assert summaries[0][:6] == (23, 20, 0, 0, 3, 0)
    assert stored[last["ma_dinh_danh"] or ""][0]["ho_ten"] == 'Nguyễn Văn "Tí" An'


def column_rows_before_refusal(file: Path) -> int:
    with open_roster(file) as roster:
        width, delimiter = len(roster.headers), roster.delimiter
        columns = match_columns(roster.headers, reading_catalogue(REFERENCE.catalogues["student"]))
    assert delimiter is not None
    batches = frame_batches(
        file, width=width, delimiter=delimiter, columns=columns, chunk_bytes=2048
    )
    heights: list[int] = []
    with pytest.raises(FrameUnavailable):
        heights.extend(batch.height for batch in batches)
    return sum(heights)
