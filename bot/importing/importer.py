"""``hoso import``: load a school's (or the city's) roster into the database, again and again.

The file is streamed through ``bot.roster.reader`` and written in batches, one transaction each, so
memory stays flat however long the file is and an interrupted import can simply be run again:
re-importing is idempotent. A row whose values equal the stored ones changes nothing; a changed
row gets the new values and one more ``source_version``. Answers people gave in chat are never
touched, but an answer to a field the source changed meanwhile is flagged as a conflict for the
school's reviewer (``changes.conflict``), with the new source value beside it.

A CSV roster takes ``bot.importing.columns`` (a subclass of ``Importer``): the same rules, the file
read as columns and new people written with no Python object per row; a workbook, and the rows
the column way hands back, go row by row here. ``bot.importing.run`` chooses.

The terminal gets counts only; the rows that could not be imported go to a report file with the
row number, the record's key and the reason in Vietnamese.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AsyncExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bot.audit.layout import where
from bot.audit.roster_audit import TableWriter
from bot.importing.rows import (
    NOTE_CODES,
    Incoming,
    RejectCode,
    Rejection,
    RowMapper,
    record_phones,
    rejected,
    repaired_fields,
    wrong_kind,
)
from bot.importing.seen import SeenKeys
from bot.roster.limits import RosterLimits
from bot.roster.reader import is_workbook
from flows.catalogue import Catalogue
from storage.repos.imports import (
    DatabaseError,
    NewPerson,
    PersonUpdate,
    StoredPerson,
    UnitSpec,
    values_encoder,
)
from storage.uow import Store, UnitOfWork

#: For the school's clerk: whose row, which information (its label), why; the field's key and
#: the code last.
REPORT_COLUMNS = (
    "Dòng", "Mã định danh Bộ GD&ĐT", "Họ và tên", "Thông tin", "Lý do", "Mã thông tin", "Mã lỗi",
)  # fmt: skip
#: Rows read between two turns of the batch written in the background: a statement's answer
#: waits at most this long (~2 ms) for its next statement, so the server is not left idle
#: between a batch's statements (256 rows left it waiting ~10 ms each time).
_YIELD_EVERY = 64
Progress = Callable[[int], None]
#: (unit code, school, class or None, school name) of a row
UnitRow = tuple[str, str, str | None, str]


class ImportFailed(Exception):
    """The import could not run or finish (report not writable, database unusable); the message
    is Vietnamese and names the fix."""


@dataclass(frozen=True)
class ImportJob:
    file: Path
    kind: str
    report: Path | None = None
    #: Only rows of this school are imported (a school's own import); others are rejected.
    school: str | None = None
    #: Refuse rows of schools the database does not know instead of creating them.
    known_schools_only: bool = False
    #: Other spellings of the roster headers -> field key ("[import] columns" in the config).
    columns: Mapping[str, str] = field(default_factory=dict)
    batch_size: int = 10_000
    #: What the file may hold (``[limits]``).
    limits: RosterLimits = field(default_factory=RosterLimits)


@dataclass
class ImportSummary:
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    conflicts: int = 0
    units_created: int = 0
    by_code: dict[str, int] = field(default_factory=dict)
    #: CCCDs and phones Excel read as numbers: leading zero put back / digits lost (kept).
    excel_restored: int = 0
    excel_lost: int = 0
    #: Rows of the file that are no record (``flows.table.SkipReason`` -> count), the sheets
    #: read and those without a header row, and the columns that look like a field but are not
    #: read as one: (sheet, header, the label of the field it looks like), for a warning.
    skipped: dict[str, int] = field(default_factory=dict)
    sheets: list[str] = field(default_factory=list)
    ignored_sheets: list[str] = field(default_factory=list)
    unread: list[tuple[str, str, str]] = field(default_factory=list)
    #: Headers of the columns not imported (STT, a note, a column of no field), each once.
    ignored_columns: list[str] = field(default_factory=list)


@dataclass
class _Batch:
    """What one batch writes, decided before the transaction writes it."""

    new: list[NewPerson] = field(default_factory=list)
    updates: list[PersonUpdate] = field(default_factory=list)
    changed: dict[int, dict[str, str | None]] = field(default_factory=dict)
    unchanged: int = 0


class Importer:
    """Batches rows, writes each batch in one unit of work, tallies, reports rejections."""

    def __init__(
        self,
        store: Store,
        job: ImportJob,
        *,
        at: datetime,
        report: TableWriter | None,
        catalogue: Catalogue | None = None,
    ) -> None:
        """``catalogue``: the kind's fields, for the report's labels and for the numbers Excel
        damaged (without it, neither)."""
        self._store, self._job, self._at, self._report = store, job, at, report
        repaired = repaired_fields(catalogue) if catalogue is not None else None
        self._mapper = RowMapper(job.kind, school=job.school, repaired=repaired)
        self._labels = {s.key: s.label for s in catalogue.fields} if catalogue else {}
        self._sheets = is_workbook(job.file)  # the report says each row's sheet
        self._units: dict[str, int] = {}  # code -> id: grows with units, not rows
        self._background = store.engine.dialect.name == "postgresql"
        # PostgreSQL: new rows' values are turned into JSON as they are read, while the
        # previous batch is being written, instead of inside their own batch's COPY (the
        # server waits for every step of that); only while batches bring mostly new people,
        # since a re-import's unchanged rows need no JSON.
        self._encode = values_encoder(store.engine) if self._background else None
        self._expect_new = True
        self._seen = SeenKeys()
        self.summary = ImportSummary()

    def reject(self, rejection: Rejection) -> None:
        """Count and report a rejected row, or a note on an imported one (``NOTE_CODES``)."""
        if rejection.code in NOTE_CODES:
            if rejection.code == RejectCode.EXCEL_ZERO_RESTORED:
                self.summary.excel_restored += 1
            else:
                self.summary.excel_lost += 1
        else:
            self.summary.rejected += 1
            codes = self.summary.by_code
            codes[rejection.code] = codes.get(rejection.code, 0) + 1
        if self._report is not None:
            key = rejection.field_key
            row = (*where(rejection.row, self._sheets), rejection.ma_dinh_danh, rejection.name,
                   self._labels.get(key, key), rejection.message, key, rejection.code)  # fmt: skip
            self._report.write(row)

    async def run(
        self, rows: Iterable[tuple[int, dict[str, str | None]]], progress: Progress
    ) -> None:
        batch: list[Incoming] = []
        committing: asyncio.Task[None] | None = None
        try:
            for row, cells in rows:
                self.summary.read += 1
                item = self._mapper.map(row, cells)
                if isinstance(item, Rejection):
                    self.reject(item)
                    continue
                for note in item.notes:
                    self.reject(note)
                if self._expect_new and self._encode is not None:
                    item.encoded = self._encode(item.values)
                batch.append(item)
                if len(batch) >= self._job.batch_size:
                    committing = await self._flush(batch, committing)
                    batch = []
                    progress(self.summary.read)
                elif self._background and not len(batch) % _YIELD_EVERY:
                    await asyncio.sleep(0)  # the batch being written goes on meanwhile
            committing = await self._flush(batch, committing)
            if committing is not None:
                await committing
            progress(self.summary.read)
        finally:
            if committing is not None and not committing.done():
                # The file failed while a batch was being committed: that batch is whole, so
                # let it finish (a failure of its own is secondary to the reader's).
                with suppress(ImportFailed):
                    await committing
            self._seen.close()

    async def _flush(
        self, batch: list[Incoming], previous: asyncio.Task[None] | None
    ) -> asyncio.Task[None] | None:
        """Start writing a batch in one unit of work; the task returned finishes it.

        Reading the file is CPU-bound in this thread, so the database's share of a batch runs
        while the next batch is read, as far as the driver allows. PostgreSQL works in its own
        process: the whole batch, writes and commit, runs in the background (``run`` yields to
        it every few hundred rows). SQLite works in the driver's thread, which needs the GIL for
        every row of an ``executemany``: the writes are awaited, and only the commit (one call,
        the WAL write and its fsync, without the GIL) runs in the background.
        """
        batch = self._first_occurrences(batch)
        if previous is not None:
            await previous  # its units are now committed and known
        if not batch:
            return None
        if self._background:
            task = asyncio.create_task(self._write_and_commit(batch))
        else:
            with database_errors():
                async with AsyncExitStack() as stack:
                    uow = await stack.enter_async_context(self._store.unit_of_work())
                    written = await self._write_batch(uow, batch)
                    owned = stack.pop_all()  # the commit task closes the unit of work now
            task = asyncio.create_task(self._commit(owned, uow, written))
        # Let the task run to its first suspension (a statement handed to the driver);
        # otherwise it would only start when the next batch is read.
        await asyncio.sleep(0)
        return task

    async def _write_and_commit(self, batch: list[Incoming]) -> None:
        with database_errors():
            async with self._store.unit_of_work() as uow:
                written = await self._write_batch(uow, batch)
                await uow.commit()
        self._committed(*written)

    async def _commit(
        self, stack: AsyncExitStack, uow: UnitOfWork, written: tuple[dict[str, int], int]
    ) -> None:
        with database_errors():
            async with stack:
                await uow.commit()
        self._committed(*written)

    def _committed(self, units: dict[str, int], created: int) -> None:
        self.summary.units_created += created
        self._units = units  # only after the commit: a rolled-back unit must not be remembered

    async def _write_batch(
        self, uow: UnitOfWork, batch: list[Incoming]
    ) -> tuple[dict[str, int], int]:
        await uow.imports.tune_for_bulk()
        units, created = await self._ensure_units(uow, map(unit_row, batch))
        await self._write(uow, self._known_units(batch, units), units)
        return units, created

    def _first_occurrences(self, batch: list[Incoming]) -> list[Incoming]:
        """Refuse a key met earlier in the file (this batch or an earlier one)."""
        keys = list(dict.fromkeys(i.ma_dinh_danh for i in batch))
        earlier = self._seen.repeated(keys)
        if not earlier and len(keys) == len(batch):
            return batch  # the common case: every key new
        kept: list[Incoming] = []
        here: set[str] = set()
        for item in batch:
            if item.ma_dinh_danh in earlier or item.ma_dinh_danh in here:
                self.reject(rejected(item, RejectCode.DUPLICATE_IN_FILE))
            else:
                here.add(item.ma_dinh_danh)
                kept.append(item)
        return kept

    async def _ensure_units(
        self, uow: UnitOfWork, rows: Iterable[UnitRow]
    ) -> tuple[dict[str, int], int]:
        """The ids of the batch's units (with every unit met before) and how many were created:
        new schools and classes are created, except new schools when the job allows known
        schools only (classes are still created below a known school). ``rows``: (unit code,
        school, class, school name) of each row, or at least of each unit's first row."""
        known = self._units
        specs: dict[str, UnitSpec] = {}
        for unit, school, class_name, school_name in rows:  # most are known: nothing built
            if school not in known and school not in specs:
                specs[school] = UnitSpec(school, school_name, "school")
            if unit != school and unit not in known and unit not in specs:
                specs[unit] = UnitSpec(unit, f"Lớp {class_name}", "class", school)
        if not specs:
            return known, 0
        if self._job.known_schools_only:
            schools = await uow.imports.units(c for c, s in specs.items() if s.kind == "school")
            present = known.keys() | schools.keys()
            specs = {c: s for c, s in specs.items() if (s.parent_code or c) in present}
        found, created = await uow.imports.create_units(list(specs.values()))
        return {**known, **found}, created

    def _known_units(self, batch: list[Incoming], units: Mapping[str, int]) -> list[Incoming]:
        if not self._job.known_schools_only:
            return batch  # every unit was created
        kept = []
        for item in batch:
            if item.unit_code in units:
                kept.append(item)
            else:
                self.reject(rejected(item, RejectCode.UNKNOWN_UNIT))
        return kept

    async def _write(
        self,
        uow: UnitOfWork,
        batch: list[Incoming],
        units: Mapping[str, int],
        stored: Mapping[str, StoredPerson] | None = None,
    ) -> None:
        """Insert, update or leave each row; ``stored``: the batch's stored people when the
        caller has looked them up already."""
        if stored is None:
            stored = await uow.imports.existing([item.ma_dinh_danh for item in batch])
        plan = _Batch()
        new = plan.new
        for item in batch:
            before = stored.get(item.ma_dinh_danh)
            unit_id = units[item.unit_code]
            if before is None:
                new.append(
                    NewPerson(
                        item.ma_dinh_danh, item.kind, unit_id, item.values, item.phones,
                        item.encoded,
                    )
                )  # fmt: skip
            elif before.kind != item.kind:
                self.reject(wrong_kind(item, before.kind))
            else:
                _compare(plan, item, before, unit_id)
        self._expect_new = 2 * len(plan.new) >= len(batch)
        await uow.imports.insert_people(plan.new, at=self._at)
        await uow.imports.update_people(plan.updates, at=self._at)
        # An answer that already equals the new source value is no conflict: both sides agree.
        flags = [
            (answer.change_id, changed[answer.field])
            for answer in await uow.imports.open_answers(list(plan.changed))
            if answer.field in (changed := plan.changed[answer.person_id])
            and answer.new_value != changed[answer.field]
        ]
        await uow.imports.flag_conflicts(flags)
        self.summary.inserted += len(plan.new)
        self.summary.updated += len(plan.updates)
        self.summary.unchanged += plan.unchanged
        self.summary.conflicts += len(flags)


def unit_row(item: Incoming) -> UnitRow:
    return item.unit_code, item.school, item.class_name, item.school_name


@contextmanager
def database_errors() -> Iterator[None]:
    try:
        yield
    except (DatabaseError, OSError) as exc:  # a driver error is no message for a clerk
        raise ImportFailed(
            "Không ghi được vào cơ sở dữ liệu đã cấu hình. Hãy kiểm tra [database] url và "
            "chạy “hoso db upgrade”; các lô đã ghi vẫn giữ nguyên, chạy lại lệnh để tiếp tục."
        ) from exc


def _compare(plan: _Batch, item: Incoming, before: StoredPerson, unit_id: int) -> None:
    """Unchanged, or updated: the file's columns over the stored values (a field the file has no
    column for keeps its value); the fields that changed are kept to look for conflicts.

    """
    old = before.values
    changed = {k: v for k, v in item.values.items() if old.get(k) != v}
    if not changed and before.unit_id == unit_id:
        plan.unchanged += 1
        return
    same_phones = set(item.phones) == set(record_phones(item.kind, old))
    phones = None if same_phones else item.phones
    plan.updates.append(PersonUpdate(before.id, unit_id, {**old, **item.values}, phones))
    plan.changed[before.id] = changed
