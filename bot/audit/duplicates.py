"""CCCDs shared by several records of an audit, found without holding every CCCD in memory.

A city's audit sees millions of CCCDs and must report each one that appears twice, with the
other rows. Held in a dict that is ~100 bytes a record; here every ``BATCH`` CCCDs (with row,
record key, unit and whether the record was clean) are written to a temporary folder in
``PARTS`` files by the CCCD's remainder, and the duplicates are found one part at a time, so
memory holds one batch while reading and about one part (1/16 of the records, 8 bytes of CCCD
each) at the end.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import polars as pl

Unit = tuple[str, str]
PARTS = 16
#: Rows kept in memory until this many, then spilled (~5 MB; fewer, larger files).
BATCH = 200_000
_SCHEMA = {
    "cccd": pl.Int64, "row": pl.Int64, "ma": pl.String, "truong": pl.String, "lop": pl.String,
    "clean": pl.Boolean, "ten": pl.String,
}  # fmt: skip


class DuplicateIndex:
    """CCCDs seen so far, with the row, record key and unit they were seen on, on disk."""

    def __init__(self) -> None:
        self._pending: list[tuple[int, int, str, str, str, bool, str]] = []
        #: Batches of rows kept until ``BATCH`` rows, then spilled together (one file a part).
        self._frames: list[pl.DataFrame] = []
        self._framed = 0
        self._dir = tempfile.TemporaryDirectory(prefix="hoso-audit-")
        self._spills = 0

    def add(
        self, cccd: str, row: int, ma_dinh_danh: str, unit: Unit, clean: bool, name: str = ""
    ) -> None:
        """``name``: the person's, for the report (which the school reads)."""
        self._pending.append((int(cccd), row, ma_dinh_danh, unit[0], unit[1], clean, name))
        if len(self._pending) >= BATCH:
            self._flush()

    def add_frame(self, frame: pl.DataFrame) -> None:
        """Rows with the columns of ``_SCHEMA`` (cccd, row, ma, truong, lop, clean, ten)."""
        self._frames.append(frame.select(pl.col(n).cast(kind) for n, kind in _SCHEMA.items()))
        self._framed += frame.height
        if self._framed >= BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._frames.append(pl.DataFrame(self._pending, schema=_SCHEMA, orient="row"))
            self._pending.clear()
        if self._frames:
            self._spill(pl.concat(self._frames))
            self._frames.clear()
            self._framed = 0

    def _spill(self, frame: pl.DataFrame) -> None:
        if frame.is_empty():
            return
        self._spills += 1
        parts = frame.with_columns((pl.col("cccd") % PARTS).alias("part"))
        for (part,), rows in parts.partition_by("part", as_dict=True, include_key=False).items():
            rows.write_ipc(self._path(int(part), self._spills))

    def _path(self, part: int, spill: int) -> Path:
        return Path(self._dir.name) / f"{part:02d}-{spill:06d}.arrow"

    def duplicates(self) -> Iterator[tuple[int, str, Unit, bool, str, str]]:
        """(row, ma_dinh_danh, unit, was clean, the other rows, name) for every shared CCCD, by
        row."""
        self._flush()
        found: list[pl.DataFrame] = []
        for part in range(PARTS):
            files = sorted(Path(self._dir.name).glob(f"{part:02d}-*.arrow"))
            if not files:
                continue
            ids = pl.scan_ipc(files).select("cccd").collect()["cccd"]
            shared = ids.filter(ids.is_duplicated()).unique()
            if shared.is_empty():
                continue
            rows = pl.scan_ipc(files).filter(pl.col("cccd").is_in(shared.implode())).collect()
            found.append(rows)
        if not found:
            return
        rows = pl.concat(found).sort("row")
        others = rows.group_by("cccd").agg(pl.col("row").sort().alias("rows"))
        by_cccd = {cccd: list(group) for cccd, group in others.iter_rows()}
        for cccd, row, ma, truong, lop, clean, name in rows.iter_rows():
            listed = ", ".join(str(r) for r in by_cccd[cccd] if r != row)
            yield row, ma or "", (truong or "", lop or ""), bool(clean), listed, name or ""

    def close(self) -> None:
        self._dir.cleanup()
