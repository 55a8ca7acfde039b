"""Bulk writes for ``hoso import``: a batch of roster rows in a handful of statements.

A city roster has millions of rows, so nothing here works one person at a time: each method takes
a whole batch (a few thousand rows) and issues one statement, or one ``executemany``, for it.
What to write is decided by ``bot.importing.importer`` and ``bot.importing.columns``; this module
only reads
and writes what it is told.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from storage.models import Change, ChangeSet, Person, Unit
from storage.repos.bulk import Bulk, binder

#: Change sets whose answers are still on their way to the central database: a source change to
#: a field answered in one of them is a conflict for the reviewer (approved sets are already
#: queued for export, exported ones delivered).
OPEN_STATUSES = ("draft", "submitted", "verified", "returned")

Phones = Sequence[tuple[str, str]]
#: What the database or its driver raises (a wrong URL, a schema not upgraded, a lost connection),
#: for callers outside storage that must turn it into a message without importing SQLAlchemy.
DatabaseError = SQLAlchemyError
BULK_CACHE_KB = 64 * 1024
#: Keys per IN list: PostgreSQL takes at most 32,767 parameters in one statement.
IN_CHUNK = 5000
_SQLITE_PARAMS = 900  # below SQLite's historic limit of 999 bound parameters


@dataclass(frozen=True, slots=True)
class UnitSpec:
    code: str
    name: str
    kind: str
    parent_code: str | None = None


@dataclass(slots=True)
class StoredPerson:
    id: int
    kind: str
    unit_id: int
    values: Mapping[str, str | None]
    source_version: int


@dataclass(slots=True)  # not frozen: built per row, and frozen costs ~1 µs
class NewPerson:
    ma_dinh_danh: str
    kind: str
    unit_id: int
    values: Mapping[str, str | None]
    #: (canonical phone, role) pairs, each once
    phones: Phones
    #: ``values`` already converted by ``values_encoder`` (PostgreSQL), or None
    encoded: Any = None


@dataclass(slots=True)
class PersonUpdate:
    id: int
    unit_id: int
    values: Mapping[str, str | None]
    #: The new phones (each once), or None when they did not change (their rows stay).
    phones: Phones | None


@dataclass(slots=True)
class OpenAnswer:
    change_id: int
    person_id: int
    field: str
    new_value: str | None


def values_encoder(engine: AsyncEngine) -> Callable[[Mapping[str, str | None]], Any]:
    """``people.values`` as this engine's driver takes it (the column type's own conversion:
    JSON text), for a caller that converts rows before the transaction that writes them."""
    return binder(Person.values, engine.dialect)


class ImportRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def _conn(self) -> AsyncConnection:
        """Core statements on the session's own connection and transaction, without the ORM's
        per-object bookkeeping (a million objects would cost more than the rows themselves)."""
        return await self._s.connection()

    async def tune_for_bulk(self) -> None:
        """SQLite: a larger page cache for this connection (64 MB instead of 2 MB): the phone
        index takes random keys, and with a small cache each batch rewrites most of its pages;
        bounded, so memory stays flat. PostgreSQL: no JIT for this transaction."""
        conn = await self._conn()
        if conn.dialect.name == "sqlite":
            await conn.exec_driver_sql(f"PRAGMA cache_size = -{BULK_CACHE_KB}")
        else:  # a batch's statements look costly enough to JIT-compile: 50-100 ms each, wasted
            await conn.exec_driver_sql("SET LOCAL jit = off")

    async def units(self, codes: Iterable[str]) -> dict[str, int]:
        """The ids of the units among ``codes`` that exist."""
        wanted = sorted(set(codes))
        if not wanted:
            return {}
        conn = await self._conn()
        rows = await conn.execute(select(Unit.code, Unit.id).where(Unit.code.in_(wanted)))
        return {code: int(unit_id) for code, unit_id in rows}

    async def create_units(self, specs: Sequence[UnitSpec]) -> tuple[dict[str, int], int]:
        """Create the units that do not exist yet, parents before children (a class's school is
        given earlier in ``specs`` or exists); returns the ids of ``specs`` (and their parents)
        and how many were created. A unit another import creates at the same moment is kept."""
        conn = await self._conn()
        parents = {spec.parent_code for spec in specs if spec.parent_code is not None}
        ids = await self.units({spec.code for spec in specs} | parents)
        before = len(ids)
        for level in (False, True):  # schools (no parent) first, then classes
            missing = [s for s in specs if s.code not in ids and (s.parent_code is None) != level]
            if not missing:
                continue
            rows = [
                {
                    "code": s.code,
                    "name": s.name,
                    "kind": s.kind,
                    "parent_id": None if s.parent_code is None else ids[s.parent_code],
                }
                for s in missing
            ]
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            await conn.execute(dialect.insert(Unit).on_conflict_do_nothing(), rows)
            ids.update(await self.units(s.code for s in missing))
        return ids, len(ids) - before

    async def existing(self, keys: Sequence[str]) -> dict[str, StoredPerson]:
        """The stored people among ``keys`` (ma_dinh_danh), by key."""
        bulk = await self._bulk()
        found: dict[str, StoredPerson] = {}
        size = IN_CHUNK if bulk.postgres else _SQLITE_PARAMS
        for chunk in _chunks(keys, size):
            for key, pid, kind, unit_id, values, version in await bulk.rows(
                _EXISTING, _EXISTING_PG, chunk
            ):
                if not isinstance(values, dict):  # SQLite hands back the JSON text
                    values = json.loads(values)
                found[key] = StoredPerson(int(pid), kind, int(unit_id), values, int(version))
        return found

    async def insert_people(self, people: Sequence[NewPerson], *, at: datetime) -> None:
        """Insert new people (source version 1) and the phones that identify them in chat."""
        if not people:
            return
        bulk = await self._bulk()
        when, as_json = bulk.bind(Person.created_at, at), bulk.binder(Person.values)
        if bulk.postgres:
            await self._copy_people(bulk, people, when, as_json)
            return
        rows = [
            (p.kind, p.ma_dinh_danh, p.unit_id, as_json(p.values), 1, when, when) for p in people
        ]
        # in-process: executemany is SQLite's own bulk path; the new ids are looked up by key
        # inside the database rather than fetched back
        await bulk.many(_INSERT_PEOPLE, rows)
        await bulk.many(
            _INSERT_PHONE,
            [(phone, role, p.ma_dinh_danh) for p in people for phone, role in p.phones],
        )

    @staticmethod
    async def _copy_people(
        bulk: Bulk, people: Sequence[NewPerson], when: Any, as_json: Callable[[Any], Any]
    ) -> None:
        """PostgreSQL: two ``COPY``s. The ids are drawn from the table's own sequence first (one
        statement), so each phone row carries its person's id: no look-up by key per phone, and
        no ``INSERT`` executor per row (a phone cost ~15 µs that way, ~10 µs by ``COPY``)."""
        ids = await bulk.array(_NEW_IDS_PG, len(people))
        # Generators, not lists: asyncpg sends the rows in chunks as it encodes them, so the
        # server stores the first rows while the client still turns the last ones into JSON.
        rows = (
            (pid, p.kind, p.ma_dinh_danh, p.unit_id, _encoded(p, as_json), 1, when, when)
            for pid, p in zip(ids, people, strict=True)
        )
        await bulk.copy("people", _PEOPLE_COLUMNS_PG, rows)
        phones = (
            (pid, phone, role)
            for pid, p in zip(ids, people, strict=True)
            for phone, role in p.phones
        )
        await bulk.copy("person_phones", _PHONE_COLUMNS, phones)

    async def new_person_ids(self, count: int) -> list[int]:
        """PostgreSQL: ids for ``count`` new people, drawn from the table's own sequence."""
        return await (await self._bulk()).array(_NEW_IDS_PG, count) if count else []

    async def stored_time(self, at: datetime) -> Any:
        """``at`` as ``insert_people_rows`` takes it (the column type's own conversion)."""
        return (await self._bulk()).bind(Person.created_at, at)

    async def insert_people_rows(
        self, people: list[tuple[Any, ...]], phones: list[tuple[str, str, str]]
    ) -> None:
        """SQLite: new people as rows (kind, ma_dinh_danh, unit id, values as JSON text, source
        version, created, updated: times from ``stored_time``) and their phones as (phone, role,
        ma_dinh_danh), for a caller that builds the rows from whole columns."""
        bulk = await self._bulk()
        await bulk.many(_INSERT_PEOPLE, people)
        await bulk.many(_INSERT_PHONE, phones)

    async def copy_people_csv(self, data: bytes) -> None:
        """PostgreSQL: new people as CSV text (columns ``PEOPLE_CSV_COLUMNS``, ids from
        ``new_person_ids``, ``values`` as JSON text) in one ``COPY``: for a caller that has
        whole columns, not a Python object per person."""
        await (await self._bulk()).copy_csv("people", PEOPLE_CSV_COLUMNS, data)

    async def copy_phones_csv(self, data: bytes) -> None:
        """PostgreSQL: their phones as CSV text (columns ``PHONE_CSV_COLUMNS``) in one ``COPY``."""
        await (await self._bulk()).copy_csv("person_phones", PHONE_CSV_COLUMNS, data)

    async def update_people(self, updates: Sequence[PersonUpdate], *, at: datetime) -> None:
        """New values from the source: one source version more, answers left as they are."""
        if not updates:
            return
        bulk = await self._bulk()
        when, as_json = bulk.bind(Person.updated_at, at), bulk.binder(Person.values)
        rows = [(as_json(u.values), u.unit_id, when, u.id) for u in updates]
        await bulk.many(_UPDATE_PERSON, rows)
        moved = [u for u in updates if u.phones is not None]
        if moved:
            await bulk.many(_DELETE_PHONES, [(u.id,) for u in moved])
            await bulk.many(
                _INSERT_OWN_PHONE,
                [(u.id, phone, role) for u in moved for phone, role in u.phones or ()],
            )

    async def _bulk(self) -> Bulk:
        return Bulk(await self._conn())

    async def open_answers(self, person_ids: Sequence[int]) -> list[OpenAnswer]:
        """Answers of these people in change sets not yet approved or exported.

        On PostgreSQL their change sets are locked until the import's commit, so an answer
        saved to one of them at that moment waits instead of slipping in between the import's
        read and its write (SQLite's single writer gives the same).
        """
        if not person_ids:
            return []
        conn = await self._conn()
        locked: list[int] = []
        for chunk in _chunks(person_ids):
            sets = (
                select(ChangeSet.id)
                .where(ChangeSet.person_id.in_(chunk), ChangeSet.status.in_(OPEN_STATUSES))
                .with_for_update()
            )
            locked += [int(i) for i in (await conn.execute(sets)).scalars()]
        answers: list[OpenAnswer] = []
        for chunk in _chunks(locked):
            query = (
                select(Change.id, ChangeSet.person_id, Change.field, Change.new_value)
                .join(ChangeSet, Change.change_set_id == ChangeSet.id)
                .where(Change.change_set_id.in_(chunk))
            )
            answers += [
                OpenAnswer(int(c), int(p), f, v) for c, p, f, v in await conn.execute(query)
            ]
        return answers

    async def flag_conflicts(self, flags: Sequence[tuple[int, str | None]]) -> None:
        """Mark answers (change id, the new source value) as conflicting with the source."""
        if flags:
            bulk = await self._bulk()
            await bulk.many(_FLAG_CONFLICT, [(value, cid) for cid, value in flags])


_EXISTING = (
    'SELECT ma_dinh_danh, id, kind, unit_id, "values", source_version FROM people'
    " WHERE ma_dinh_danh IN (?…)"
)
# PostgreSQL: one index probe per key, whatever the planner's statistics say. A table filling up
# during the import has stale ones, and a plain join or "= ANY" then scans the whole table for
# every batch (measured: 100x slower at 1M rows). LIMIT 1 keeps the subquery from being flattened.
_EXISTING_PG = (
    'SELECT p.ma_dinh_danh, p.id, p.kind, p.unit_id, p."values", p.source_version'
    " FROM unnest(?::varchar[]) AS t(ma) JOIN LATERAL"
    " (SELECT * FROM people WHERE ma_dinh_danh = t.ma LIMIT 1) AS p ON true"
)
_PEOPLE_COLUMNS = (
    "kind", "ma_dinh_danh", "unit_id", "values", "source_version", "created_at", "updated_at",
)  # fmt: skip
_INSERT_PEOPLE = (
    'INSERT INTO people (kind, ma_dinh_danh, unit_id, "values", source_version, created_at,'
    " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_PHONE = (
    "INSERT INTO person_phones (person_id, phone, role)"
    " SELECT id, ?, ? FROM people WHERE ma_dinh_danh = ?"
)
_PEOPLE_COLUMNS_PG = ("id", *_PEOPLE_COLUMNS)
_PHONE_COLUMNS = ("person_id", "phone", "role")
#: The columns of ``copy_people_csv``'s and ``copy_phones_csv``'s text, in this order.
PEOPLE_CSV_COLUMNS = _PEOPLE_COLUMNS_PG
PHONE_CSV_COLUMNS = _PHONE_COLUMNS
# The sequence is named once (materialized), not resolved again for each of the ids; the ids
# come back as one array (a record per id cost the client ~2.5 µs each).
_NEW_IDS_PG = (
    "WITH s AS MATERIALIZED (SELECT pg_get_serial_sequence('people', 'id')::regclass AS seq)"
    " SELECT array_agg(nextval(s.seq)) FROM s CROSS JOIN generate_series(1, $1)"
)
_INSERT_OWN_PHONE = "INSERT INTO person_phones (person_id, phone, role) VALUES (?, ?, ?)"
_DELETE_PHONES = "DELETE FROM person_phones WHERE person_id = ?"
_UPDATE_PERSON = (
    'UPDATE people SET "values" = ?, unit_id = ?, source_version = source_version + 1,'
    " updated_at = ? WHERE id = ?"
)
_FLAG_CONFLICT = "UPDATE changes SET conflict = true, conflict_value = ? WHERE id = ?"


def _encoded(person: NewPerson, as_json: Callable[[Any], Any]) -> Any:
    return as_json(person.values) if person.encoded is None else person.encoded


def _chunks(items: Sequence[Any], size: int = IN_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
