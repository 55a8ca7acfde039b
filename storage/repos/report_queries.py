"""Read-only questions behind ``hoso report``: the units of a report and their people, a page at a
time, with every answer those people gave in change sets.

Nothing here judges a record (that is ``flows.audit`` and ``flows.report``) or writes anything.
Lists of ids are sent in chunks, so a department's tens of thousands of units stay under the
drivers' limit on bound parameters (32,766 on SQLite, 32,767 on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Change, ChangeSet, Person, Unit
from storage.repos.unit_tree import unit_tree

#: Ids per ``IN (...)``: well under every driver's limit on bound parameters.
CHUNK = 1000


@dataclass(frozen=True)
class ReportUnit:
    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None


@dataclass(frozen=True)
class ReportPerson:
    """A record as imported: ``values`` are the stored values, before any answer."""

    id: int
    kind: str
    ma_dinh_danh: str
    unit_id: int
    values: Mapping[str, str | None]


@dataclass(frozen=True)
class ReportAnswer:
    """One answer in one change set, with the set's status; ``field`` is None for a change set
    that holds no answer (it still tells that the person submitted)."""

    person_id: int
    change_set_id: int
    status: str
    field: str | None
    new_value: str | None
    how: str | None
    review_status: str | None


def _chunks(ids: Collection[int]) -> Iterator[list[int]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


class ReportQueries:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def unit_by_code(self, code: str) -> ReportUnit | None:
        found = await self._units(Unit.code == code)
        return found[0] if found else None

    async def units_by_ids(self, ids: Collection[int]) -> list[ReportUnit]:
        """The units with these ids (unknown ids are left out), in code order."""
        units: list[ReportUnit] = []
        for chunk in _chunks(ids):
            units += await self._units(Unit.id.in_(chunk))
        return sorted(units, key=lambda unit: unit.code)

    async def subtree(self, root_ids: Collection[int]) -> list[ReportUnit]:
        """The roots and every unit below them (any depth), once each, in code order: one
        recursive query instead of a round trip per level."""
        if not root_ids:
            return []
        return await self._units(Unit.id.in_(select(unit_tree(root_ids).c.id)))

    async def ancestors(self, unit_id: int) -> list[ReportUnit]:
        """The units above ``unit_id``, nearest first (a tree is a few levels deep)."""
        found: list[ReportUnit] = []
        current = await self._units(Unit.id == unit_id)
        while current and current[0].parent_id is not None:
            current = await self._units(Unit.id == current[0].parent_id)
            if not current or any(unit.id == current[0].id for unit in found):
                break
            found += current
        return found

    async def people(self, unit_id: int, *, after_id: int, limit: int) -> list[ReportPerson]:
        """Up to ``limit`` records of unit ``unit_id`` itself (not below it) with an id above
        ``after_id``, in id order: keyset paging, so each page costs the same however far a
        report has gone."""
        rows = await self._s.execute(
            select(Person.id, Person.kind, Person.ma_dinh_danh, Person.unit_id, Person.values)
            .where(Person.unit_id == unit_id, Person.id > after_id)
            .order_by(Person.id)
            .limit(limit)
        )
        return [ReportPerson(*row) for row in rows]

    async def answers(self, person_ids: Sequence[int]) -> list[ReportAnswer]:
        """Every change set of these people with its answers, by person, oldest set first and
        each set's answers in the order given."""
        found: list[ReportAnswer] = []
        for chunk in _chunks(person_ids):
            rows = await self._s.execute(
                select(
                    ChangeSet.person_id,
                    ChangeSet.id,
                    ChangeSet.status,
                    Change.field,
                    Change.new_value,
                    Change.how,
                    Change.review_status,
                )
                .outerjoin(Change, Change.change_set_id == ChangeSet.id)
                .where(ChangeSet.person_id.in_(chunk))
                .order_by(ChangeSet.person_id, ChangeSet.id, Change.id)
            )
            found += [ReportAnswer(*row) for row in rows]
        return found

    async def _units(self, condition: ColumnElement[bool]) -> list[ReportUnit]:
        rows = await self._s.execute(
            select(Unit.id, Unit.code, Unit.name, Unit.kind, Unit.parent_id)
            .where(condition)
            .order_by(Unit.code)
        )
        return [ReportUnit(*row) for row in rows]
