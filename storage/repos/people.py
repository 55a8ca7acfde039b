"""Units and people: the roster as imported, with the phones that identify people in chat."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable, Mapping
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Person, PersonPhone, Unit
from storage.records import PersonRecord
from storage.repos._upsert import insert_ignore


class UnitRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def ensure(
        self, code: str, name: str, kind: str, *, parent_code: str | None = None
    ) -> int:
        """The id of unit ``code``, created if missing (imports and the demo call this freely)."""
        found = await self._s.scalar(select(Unit.id).where(Unit.code == code))
        if found is not None:
            return int(found)
        parent_id = None
        if parent_code is not None:
            parent_id = await self._s.scalar(select(Unit.id).where(Unit.code == parent_code))
        # Two imports may create the same unit at once: the loser waits, then reads the winner's.
        values = {"code": code, "name": name, "kind": kind, "parent_id": parent_id}
        inserted = await insert_ignore(self._s, Unit, values)
        if inserted is not None:
            return inserted
        return int(await self._s.scalar(select(Unit.id).where(Unit.code == code)) or 0)


class PersonRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(
        self,
        *,
        kind: str,
        ma_dinh_danh: str,
        unit_code: str,
        values: Mapping[str, str | None],
        phones: Iterable[tuple[str, str]] = (),
        at: datetime,
        source_version: int = 1,
    ) -> int:
        """Store a person; ``phones`` are (canonical phone, role) pairs, role self/guardian."""
        unit_id = await self._s.scalar(select(Unit.id).where(Unit.code == unit_code))
        if unit_id is None:
            raise LookupError(f"unknown unit {unit_code!r}")
        person = Person(
            kind=kind,
            ma_dinh_danh=ma_dinh_danh,
            unit_id=unit_id,
            values=dict(values),
            source_version=source_version,
            created_at=at,
            updated_at=at,
        )
        self._s.add(person)
        await self._s.flush()
        self._s.add_all(
            PersonPhone(person_id=person.id, phone=phone, role=role)
            for phone, role in sorted(set(phones))
        )
        return person.id

    async def get(self, person_id: int) -> PersonRecord | None:
        row = (
            await self._s.execute(
                select(Person, Unit.code).join(Unit).where(Person.id == person_id)
            )
        ).first()
        return None if row is None else _record(row[0], row[1])

    async def by_ma_dinh_danh(self, ma_dinh_danh: str) -> PersonRecord | None:
        found = await self._s.scalar(select(Person.id).where(Person.ma_dinh_danh == ma_dinh_danh))
        return None if found is None else await self.get(int(found))

    async def by_phone(self, phone: str) -> list[tuple[PersonRecord, str]]:
        """Every record that lists ``phone`` (canonical form), with the role it gives its owner."""
        rows = await self._s.execute(
            select(Person, Unit.code, PersonPhone.role)
            .join(Unit, Person.unit_id == Unit.id)
            .join(PersonPhone, PersonPhone.person_id == Person.id)
            .where(PersonPhone.phone == phone)
            .order_by(Person.id)
        )
        return [(_record(person, code), role) for person, code, role in rows]

    async def first_id(self, kind: str) -> int | None:
        found = await self._s.scalar(select(func.min(Person.id)).where(Person.kind == kind))
        return None if found is None else int(found)

    async def count(self) -> int:
        return int(await self._s.scalar(select(func.count(Person.id))) or 0)

    async def stream(
        self, kind: str | None = None, batch: int = 1000, *, after_id: int = 0
    ) -> AsyncGenerator[PersonRecord, None]:
        """Every person (of ``kind``, when given) in id order, ``batch`` rows per query.

        Keyset pagination (``id > last``) rather than OFFSET, so each page costs the same however
        far the audit has gone and memory holds one page; ``after_id`` resumes after a known id.
        """
        last = after_id
        while True:
            query = select(Person, Unit.code).join(Unit).where(Person.id > last)
            if kind is not None:
                query = query.where(Person.kind == kind)
            rows = (await self._s.execute(query.order_by(Person.id).limit(batch))).all()
            for person, unit_code in rows:
                yield _record(person, unit_code)
            if len(rows) < batch:
                return
            last = rows[-1][0].id


def _record(person: Person, unit_code: str) -> PersonRecord:
    return PersonRecord(
        id=person.id,
        kind=person.kind,
        ma_dinh_danh=person.ma_dinh_danh,
        unit_code=unit_code,
        values=dict(person.values),
        source_version=person.source_version,
        unit_id=person.unit_id,
    )
