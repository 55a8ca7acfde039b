"""A department's subtree at city size: more classes than one statement may bind parameters
(asyncpg: 32,767; SQLite: 32,766), as under the Sở with its ~70,000 classes."""

from __future__ import annotations

from sqlalchemy import insert, select

from storage.models import Unit
from storage.uow import Store

CLASSES = 33_000


async def test_units_under_a_department_with_more_classes_than_a_statement_binds(
    store: Store,
) -> None:
    async with store.unit_of_work() as uow:
        s = uow.session
        await s.execute(insert(Unit), [{"code": "SO", "name": "Sở", "kind": "department"}])
        so = await s.scalar(select(Unit.id).where(Unit.code == "SO"))
        schools = [
            {"code": f"T{n}", "name": f"Trường {n}", "kind": "school", "parent_id": so}
            for n in range(2)
        ]
        await s.execute(insert(Unit), schools)
        ids = list(await s.scalars(select(Unit.id).where(Unit.kind == "school")))
        classes = [
            {"code": f"L{n:05d}", "name": f"Lớp {n}", "kind": "class", "parent_id": ids[n % 2]}
            for n in range(CLASSES)
        ]
        await s.execute(insert(Unit), classes)
        await uow.commit()
    async with store.unit_of_work() as uow:
        units = await uow.roster.units_under("SO")
        one_school = await uow.roster.units_under("T1")
    assert len(units) == 1 + 2 + CLASSES
    assert len({u.code for u in units}) == len(units)
    assert len(one_school) == 1 + CLASSES // 2
