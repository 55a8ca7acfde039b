"""The roster's rows for ``hoso import``: column-wise where polars reads the file alike.

``csv.reader`` and a dict built cell by cell cost about a third of the import's own CPU on a
city's roster; ``bot.roster_frame`` parses a CSV in native code, in a second thread, with the
same row numbers and values (or refuses). A refusal can come after some batches were imported:
the rows before it are exactly the ones the row reader would have yielded, so the row reader
takes over after the last row handed out, and the import sees each row once, as if it had read
the whole file row by row (the same batches, counts and report).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from itertools import dropwhile
from pathlib import Path

import polars as pl

from bot.roster import Roster, RowValues, match_columns
from bot.roster_frame import ROW, FrameUnavailable, frame_batches
from flows.catalogue import Catalogue

Rows = Iterator[tuple[int, RowValues]]
#: Bytes of the file parsed at a time (``frame_batches``' default; the tests make it small, so
#: that a refusal comes after some batches were imported).
CHUNK_BYTES = 8 << 20


def roster_rows(
    path: Path,
    roster: Roster,
    catalogue: Catalogue,
    mapping: Mapping[str, str],
    *,
    columnar: bool = True,
) -> Rows:
    """What ``roster.records(catalogue, mapping)`` yields, read column-wise when ``columnar``
    and the file is a CSV. Missing columns are refused here, before any row is read."""
    columns = match_columns(roster.headers, catalogue, mapping)
    if not columnar or roster.delimiter is None:  # a workbook: cells come typed, row by row
        return roster.records(catalogue, mapping)
    return _rows(path, roster, columns, catalogue, mapping)


def _rows(
    path: Path,
    roster: Roster,
    columns: dict[int, str],
    catalogue: Catalogue,
    mapping: Mapping[str, str],
) -> Rows:
    assert roster.delimiter is not None
    last = 0  # the number of the last row handed out
    try:
        for batch in frame_batches(
            path,
            width=len(roster.headers),
            delimiter=roster.delimiter,
            columns=columns,
            chunk_bytes=CHUNK_BYTES,
        ):
            for number, values in batch_rows(batch, columns):
                last = number
                yield number, values
    except FrameUnavailable:
        pass
    else:
        if last:
            return
    # Refused (maybe part way), or no data row at all: the row reader names that case.
    yield from dropwhile(lambda item: item[0] <= last, roster.records(catalogue, mapping))


def batch_rows(batch: pl.DataFrame, columns: Mapping[int, str]) -> Rows:
    """A batch's rows as the row reader's (number, fresh dict in column order)."""
    keys = tuple(columns.values())
    cells = zip(*(batch.get_column(key).to_list() for key in keys), strict=True)
    for number, row in zip(batch.get_column(ROW).to_list(), cells, strict=True):
        yield number, dict(zip(keys, row, strict=True))
