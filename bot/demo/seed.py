"""Puts a generated sample school into the database, for the demo and the benchmarks.

Its people's phones are read as the importer reads them (``record_phones``): one definition, so
the demo and the tests recognise a parent by the same numbers a real import stores.
"""

from __future__ import annotations

from datetime import datetime

from bot.demo.sample_data import SamplePerson, SampleSchool
from bot.importing.rows import record_phones
from storage.uow import Store


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
