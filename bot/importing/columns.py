"""``hoso import`` of a CSV roster, a batch of columns at a time.

A first import is mostly new people, and the row-by-row way spends ~40 µs of Python on each
(the reader's dict, the mapping, JSON, the driver's encoding): as much as the database's own
work for it. Here ``bot.roster.frame`` reads the file as columns and ``bot.importing.frames``
checks
and converts whole batches; the new people and their phones go to PostgreSQL as CSV text in two
``COPY``s, with no Python object per row, and to SQLite as rows polars makes, in two
``executemany``. Every other row (refused, repeated, already stored, or one the batch checks and
the row mapper judge differently) goes through ``Importer``'s own row-by-row way, so the people,
phones, report and counts are those of a row-by-row import (``tests/test_import_columns.py``).

PostgreSQL writes two batches at once, each in its own transaction; a batch's new schools and
classes are created just before it, in a short transaction of their own, so two batches never
create the same unit (a batch that then fails leaves them, and a rerun uses them). SQLite writes
one batch while the next is read. Where the column reader refuses the file part way
(``FrameUnavailable``: a stray quote, a bare carriage return ...), the rows after the last batch
are read again row by row.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import closing, suppress
from contextvars import ContextVar
from datetime import datetime

import polars as pl

from bot.audit.roster_audit import TableWriter
from bot.importing.frames import (
    KEY,
    SCHOOL,
    UNIT,
    FrameMapper,
    first_occurrences,
    people_csv,
    people_rows,
    phone_rows,
    phones_csv,
    to_rows,
    unit_rows,
)
from bot.importing.importer import (
    Importer,
    ImportFailed,
    ImportJob,
    ImportSummary,
    Progress,
    database_errors,
    unit_row,
)
from bot.importing.rows import Incoming, RejectCode, Rejection, rejected_row, repaired_fields
from bot.roles.malloc import map_large_buffers
from bot.roster.frame import ROW, FrameUnavailable, SkipCounter, frame_batches
from bot.roster.reader import Roster, match_columns
from flows.catalogue import Catalogue
from storage.uow import Store, UnitOfWork

Rows = Iterable[tuple[int, dict[str, str | None]]]


#: Batches written at once, each in its own transaction on its own connection: the server's
#: work for a batch (two ``COPY``s, every row checked against its unit's and person's foreign
#: key) is most of the import's, and two server processes use both cores.
IN_FLIGHT = 2
#: Bytes of the file parsed at once (``bot.roster.frame``).
CHUNK_BYTES = 8 << 20
#: The rejections a batch's write makes, kept until the batches before it are reported.
_HELD: ContextVar[list[Rejection] | None] = ContextVar("held_rejections", default=None)


class ColumnImporter(Importer):
    """``Importer`` fed with batches of columns."""

    def __init__(
        self,
        store: Store,
        job: ImportJob,
        *,
        at: datetime,
        report: TableWriter | None,
        catalogue: Catalogue | None = None,
    ) -> None:
        super().__init__(store, job, at=at, report=report, catalogue=catalogue)
        self._writing: deque[asyncio.Task[list[Rejection]]] = deque()
        # SQLite has one writer: one batch is written while the next is read and checked
        self._in_flight = IN_FLIGHT if self._background else 1

    def reject(self, rejection: Rejection) -> None:
        held = _HELD.get()
        if held is None:
            super().reject(rejection)
        else:
            held.append(rejection)

    async def run_columns(
        self,
        batches: Iterator[pl.DataFrame],
        frames: FrameMapper,
        rows: Callable[[], Rows],
        progress: Progress,
        *,
        judge: Callable[[dict[str, str | None]], str | None] | None = None,
    ) -> None:
        """Import ``batches``; if they stop with ``FrameUnavailable``, the rows after the last
        batch are taken from ``rows()`` (the row reader, from the start of the file).
        ``judge``: why a row is no record (``Roster.row_judge``), as the row reader skips it."""
        last, refused = 0, False
        try:
            try:
                # the next batch is awaited in a thread, not in the event loop's: the batches
                # being written go on meanwhile (so through every step below)
                skips = SkipCounter(self.summary.skipped, judge)
                while (frame := await asyncio.to_thread(next, batches, None)) is not None:
                    frame = skips.batch(frame)
                    size = self._job.batch_size
                    for start in range(0, frame.height, size):
                        part = frame.slice(start, size)
                        await self._flush_columns(part, frames)
                        last = part.get_column(ROW)[-1]
                        progress(self.summary.read)
            except FrameUnavailable:
                refused = True
            await self._written(0)
            if refused or not last:  # no rows at all: the row reader names that case
                self.summary.skipped.clear()  # the row reader counts them from the start
                await self.run(((row, cells) for row, cells in rows() if row > last), progress)
        finally:
            for task in self._writing:  # the file failed: let the batches being written finish
                with suppress(ImportFailed):
                    await task
            self._seen.close()

    async def _written(self, pending: int) -> None:
        """Wait for the oldest batches until ``pending`` are left, reporting in batch order."""
        while len(self._writing) > pending:
            task = self._writing[0]
            held = await task
            self._writing.popleft()
            for rejection in held:
                super().reject(rejection)

    async def _flush_columns(self, part: pl.DataFrame, frames: FrameMapper) -> None:
        """``_flush`` for a batch of columns: checks, repeats and units now, the writing in the
        background (at most ``IN_FLIGHT`` batches at once)."""
        self.summary.read += part.height
        held: list[Rejection] = []
        token = _HELD.set(held)
        try:
            ready, odd = await asyncio.to_thread(self._checked, part, frames)
            await self._written(self._in_flight - 1)
            if ready.height or odd:
                units = await self._units_of(ready, odd)
                if self._job.known_schools_only:
                    ready = self._known_unit_columns(ready, units)
                    odd = self._known_units(odd, units)
        finally:
            _HELD.reset(token)
        for rejection in sorted(held, key=lambda r: r.row):  # the report in the file's order
            super().reject(rejection)
        if ready.height or odd:
            task = self._write_columns(ready, odd, frames, units)
            self._writing.append(asyncio.create_task(task))
            await asyncio.sleep(0)

    def _checked(
        self, part: pl.DataFrame, frames: FrameMapper
    ) -> tuple[pl.DataFrame, list[Incoming]]:
        """The batch's rows to write: refused rows and repeated keys are rejected."""
        split = frames.split(part)
        odd: list[Incoming] = []  # rows the batch checks refused but the row mapper takes
        for row, cells in split.rows:
            item = self._mapper.map(row, cells)
            if isinstance(item, Rejection):
                self.reject(item)
            else:
                for note in item.notes:
                    self.reject(note)
                odd.append(item)
        ready = self._first_columns(split.ready)
        if odd:
            odd = self._first_occurrences(odd)
        return ready, odd

    async def _units_of(self, ready: pl.DataFrame, odd: list[Incoming]) -> dict[str, int]:
        """The batch's units, created if need be in a transaction of their own: two batches
        being written at once must not both create one."""
        rows = [*unit_rows(ready), *map(unit_row, odd)]
        if all(unit in self._units for unit, *_ in rows):
            return self._units
        with database_errors():
            async with self._store.unit_of_work() as uow:
                units, created = await self._ensure_units(uow, rows)
                await uow.commit()
        self._committed(units, created)
        return units

    def _first_columns(self, ready: pl.DataFrame) -> pl.DataFrame:
        """Refuse a key met earlier in the file, as ``_first_occurrences`` does (the rare rows
        the row mapper takes are checked after the batch's columns: a key in both keeps the
        column's row)."""
        keys = ready.get_column(KEY).unique(maintain_order=True).to_list()
        earlier = self._seen.repeated(keys)
        kept, repeated = first_occurrences(ready, earlier)
        for row, key, school, name in repeated.select(ROW, KEY, SCHOOL, _name(ready)).iter_rows():
            self.reject(rejected_row(row, key, school, RejectCode.DUPLICATE_IN_FILE, name))
        return kept

    async def _write_columns(
        self, ready: pl.DataFrame, odd: list[Incoming], frames: FrameMapper, units: dict[str, int]
    ) -> list[Rejection]:
        held: list[Rejection] = []
        _HELD.set(held)  # this task's own context
        with database_errors():
            async with self._store.unit_of_work() as uow:
                await uow.imports.tune_for_bulk()
                await self._write_frame(uow, ready, odd, frames, units)
                await uow.commit()
        return held

    async def _write_frame(
        self,
        uow: UnitOfWork,
        ready: pl.DataFrame,
        odd: list[Incoming],
        frames: FrameMapper,
        units: dict[str, int],
    ) -> None:
        keys = ready.get_column(KEY).to_list()
        stored = await uow.imports.existing([*keys, *(i.ma_dinh_danh for i in odd)])
        if stored:  # a re-import: those rows are compared row by row
            known = pl.col(KEY).is_in(pl.Series(list(stored), dtype=pl.String).implode())
            again, ready = ready.filter(known), ready.filter(~known)
            odd += await asyncio.to_thread(self._incoming, again, frames)
        if ready.height:
            await (self._copy if self._background else self._insert)(uow, ready, frames, units)
            self.summary.inserted += ready.height
        if odd:
            await self._write(uow, odd, units, stored)

    async def _copy(
        self, uow: UnitOfWork, ready: pl.DataFrame, frames: FrameMapper, units: dict[str, int]
    ) -> None:
        """PostgreSQL: ids from the sequence, then people and phones as CSV by ``COPY``."""
        ids = await uow.imports.new_person_ids(ready.height)
        people = await asyncio.to_thread(people_csv, ready, ids, units, frames.kind, self._at)
        await uow.imports.copy_people_csv(people)
        columns = frames.phone_columns()
        phones = await asyncio.to_thread(phones_csv, ready, ids, columns, frames.role)
        await uow.imports.copy_phones_csv(phones)

    async def _insert(
        self, uow: UnitOfWork, ready: pl.DataFrame, frames: FrameMapper, units: dict[str, int]
    ) -> None:
        """SQLite: people and phones as rows made from the columns, by ``executemany``."""
        when = await uow.imports.stored_time(self._at)
        people = await asyncio.to_thread(people_rows, ready, units, frames.kind, when)
        columns = frames.phone_columns()
        phones = await asyncio.to_thread(phone_rows, ready, columns, frames.role)
        await uow.imports.insert_people_rows(people, phones)

    def _incoming(self, ready: pl.DataFrame, frames: FrameMapper) -> list[Incoming]:
        items = []
        for row, cells in to_rows(ready, frames.keys):
            item = self._mapper.map(row, cells)
            assert isinstance(item, Incoming)  # the batch checks passed it
            items.append(item)
        return items

    def _known_unit_columns(self, ready: pl.DataFrame, units: dict[str, int]) -> pl.DataFrame:
        known = pl.col(UNIT).is_in(pl.Series(list(units), dtype=pl.String).implode())
        unknown = ready.filter(~known).select(ROW, KEY, SCHOOL, _name(ready))
        for row, key, school, name in unknown.iter_rows():
            self.reject(rejected_row(row, key, school, RejectCode.UNKNOWN_UNIT, name))
        return ready.filter(known)


def _name(batch: pl.DataFrame) -> pl.Expr:
    """The person's name for the report (the file may lack the column)."""
    return (pl.col("ho_ten") if "ho_ten" in batch.columns else pl.lit(None, pl.String)).alias(
        "__name"
    )


async def import_columns(
    store: Store,
    job: ImportJob,
    roster: Roster,
    reading: Catalogue,
    mapping: Mapping[str, str],
    report: TableWriter | None,
    *,
    at: datetime,
    progress: Progress | None = None,
) -> ImportSummary:
    """Import the CSV ``roster`` (open, its header read) a batch of columns at a time."""
    assert roster.delimiter is not None
    map_large_buffers()
    columns = match_columns(roster.headers, reading, mapping)
    frames = FrameMapper(
        job.kind, list(columns.values()), school=job.school, repaired=repaired_fields(reading)
    )
    batches = frame_batches(
        job.file,
        width=len(roster.headers),
        delimiter=roster.delimiter,
        columns=columns,
        chunk_bytes=CHUNK_BYTES,
        max_rows=roster.limits.max_rows,
    )
    importer = ColumnImporter(store, job, at=at, report=report, catalogue=reading)
    with closing(batches):  # a failed import stops the reader's thread now, not at collection
        await importer.run_columns(
            batches,
            frames,
            lambda: roster.records(reading, mapping),
            progress or (lambda _: None),
            judge=roster.row_judge(reading, mapping),
        )
    return importer.summary
