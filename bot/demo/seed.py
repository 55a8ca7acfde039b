"""Puts a generated sample school into the database, for the demo and the benchmarks."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bot.demo.sample_data import SamplePerson, SampleSchool
from flows.context import phone_fields, role_for_kind
from flows.rules import canonical_phone
from storage.uow import Store


def record_phones(kind: str, values: Mapping[str, str | None]) -> list[tuple[str, str]]:
    """The (canonical phone, role) pairs by which a record's owner or guardians are recognised."""
    keys, role = phone_fields(kind), role_for_kind(kind)
    phones = []
    for key in keys:
        phone = canonical_phone(values.get(key) or "")
        if phone is not None:
            phones.append((phone, role))
    return phones


async def seed_school(store: Store, school: SampleSchool, *, at: datetime) -> int:
    """Store the school's units and people; returns how many people were added."""
    async with store.unit_of_work() as uow:
        for unit in school.units:
            await uow.units.ensure(unit.code, unit.name, unit.kind, parent_code=unit.parent_code)
        people: tuple[SamplePerson, ...] = school.staff + school.students
        for person in people:
            await uow.people.add(
                kind=person.kind,
                ma_dinh_danh=person.ma_dinh_danh,
                unit_code=person.unit_code,
                values=person.values,
                phones=record_phones(person.kind, person.values),
                at=at,
            )
        await uow.commit()
    return len(people)
